"""kconfig"""
