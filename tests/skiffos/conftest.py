"""Fixtures of the skiffos tests (helpers live in skiffos_helpers.py)."""

from __future__ import annotations

import pytest

from skiffos_helpers import BROKEN, TREE


@pytest.fixture
def tree() -> str:
    return TREE


@pytest.fixture
def broken() -> str:
    return BROKEN
