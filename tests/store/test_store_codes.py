"""Every store-domain code is defined once, documented in docs/store.md and in its range."""

from __future__ import annotations

import re
from pathlib import Path

import skiffeval.store.codes  # noqa: F401  (defines the codes)
from skiffeval.diagnostics import all_codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "store.md"


def test_store_codes_are_documented_and_in_range() -> None:
    ours = [c for c in all_codes() if c.domain == "store"]
    assert len(ours) >= 20
    table = dict(re.findall(r"^\| ([EW]\d{3}) \| ([a-z-]+) \|", DOC.read_text(), re.M))
    for c in ours:
        assert 100 <= int(c.code[1:]) <= 149, c
        assert table.get(c.code) == c.slug, f"{c.code} {c.slug} is not in docs/store.md"
    assert set(table) == {c.code for c in ours}
