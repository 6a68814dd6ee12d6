"""Helpers for the skiffos tests (a uniquely named module, so no other test folder's conftest
can shadow it): the fixture trees and a way to build small trees in tmp_path."""

from __future__ import annotations

import os
import pathlib
import shutil

from skiffeval.diagnostics import Diagnostic
from skiffeval.skiffos.codes import SkiffosError

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
TREE = str(FIXTURES / "tree")
BROKEN = str(FIXTURES / "broken")


def write_tree(root: pathlib.Path, files: dict[str, str]) -> str:
    """Write ``files`` (relative path -> text) under ``root``; a minimal SkiffOS skeleton is
    added so discovery accepts it.  Returns the root as a string."""
    base = {"configs/.keep": "", "configs-base/post/buildroot/config": "BR2_ROOTFS_OVERLAY=\"REPLACEME_ROOTFS_OVERLAY\"\n"}
    for rel, text in {**base, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def copy_tree(src: str, dst: pathlib.Path) -> str:
    shutil.copytree(src, dst, symlinks=True)
    return str(dst)


def codes_of(items: SkiffosError | tuple[Diagnostic, ...]) -> list[str]:
    diags = items.diagnostics if isinstance(items, SkiffosError) else items
    return [d.code.code for d in diags]


def only(items: tuple[Diagnostic, ...], code: str) -> list[Diagnostic]:
    return [d for d in items if d.code.code == code]


def rel(path: str, root: str) -> str:
    """A span's file relative to a fixture root, for readable assertions."""
    return os.path.relpath(path, root) if path.startswith("/") else path
