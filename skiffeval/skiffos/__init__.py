"""skiffos"""
