"""The .sk grammar, shipped inside the skiffeval package as skiffeval._grammar."""
