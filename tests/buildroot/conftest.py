"""Fixtures of the Buildroot driver tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.buildroot.helpers import fill_dl_dir


@pytest.fixture
def dl_dir(tmp_path: Path) -> Path:
    """A download directory holding every mini-buildroot package's source."""
    return fill_dl_dir(tmp_path / "dl")
