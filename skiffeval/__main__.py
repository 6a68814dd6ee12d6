"""``python -m skiffeval``: the same as the ``skiffeval`` console script."""

from skiffeval.cli import main

raise SystemExit(main())
