"""Golden-file helpers for the language tests: compare with ``<case>.exp``, or write it when
``SKIFFEVAL_ACCEPT=1`` (review the diff before committing)."""

from __future__ import annotations

import os
from pathlib import Path

ACCEPT = os.environ.get("SKIFFEVAL_ACCEPT") == "1"


def check_golden(path: Path, actual: str) -> None:
    if ACCEPT or not path.exists():
        if not ACCEPT:
            raise AssertionError(f"no expectation {path.name}; run with SKIFFEVAL_ACCEPT=1 to create it:\n{actual}")
        path.write_text(actual)
        return
    expected = path.read_text()
    assert actual == expected, f"{path.name} differs:\n--- expected\n{expected}\n--- actual\n{actual}"
