"""A subprocess for the crash and concurrency tests: realize a fixed graph into a store.

Usage: python -m tests.store.store_worker STORE N DELAY JOBS
"""

from __future__ import annotations

import sys

from skiffeval.builders import realize
from skiffeval.store import LocalStore
from tests.store.store_helpers import layered


def graph(n: int, delay: float):
    return layered(n, builder="builtin:test-counted", extra_env={"delay": str(delay)})


def main() -> None:
    root, n, delay, jobs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    drvs = graph(n, delay)
    with LocalStore(root) as store:
        realize(store, drvs, graph=drvs, jobs=jobs)
    print("done", flush=True)


if __name__ == "__main__":
    main()
