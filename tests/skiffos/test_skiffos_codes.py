"""Every skiffos code is in its range, documented in docs/skiffos.md, and raised somewhere."""

from __future__ import annotations

import pathlib
import re

import skiffeval.skiffos  # noqa: F401  (registers the codes)
from skiffeval.diagnostics import all_codes

ROOT = pathlib.Path(__file__).resolve().parents[2]


def skiffos_codes():
    return [c for c in all_codes() if c.domain == "skiffos"]


def test_codes_are_in_the_skiffos_range():
    for c in skiffos_codes():
        assert re.fullmatch(r"[EW]2[5-9]\d", c.code), c


def test_every_code_is_documented_with_its_slug():
    doc = (ROOT / "docs" / "skiffos.md").read_text()
    for c in skiffos_codes():
        assert f"| {c.code} | {c.slug} |" in doc, c.code


def test_every_code_is_used_by_the_package():
    source = "".join(p.read_text() for p in (ROOT / "skiffeval" / "skiffos").glob("*.py") if p.name != "codes.py")
    codes_py = (ROOT / "skiffeval" / "skiffos" / "codes.py").read_text()
    for name in re.findall(r"^([A-Z_]+) = _code\(", codes_py, re.M):
        assert f"codes.{name}" in source, name
