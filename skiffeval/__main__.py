"""``python -m skiffeval``: the same as the ``skiffeval`` console script."""

from skiffeval.cli import run

run()
