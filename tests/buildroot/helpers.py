"""Helpers for the Buildroot driver tests: the mini-buildroot tree, sources, a driver."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from skiffeval.buildroot import Buildroot, Invocation

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "mini-buildroot"
EXTERNAL = FIXTURE / "support" / "testing" / "br2-external" / "mini-ext"
# (download subdirectory, file) of every fixture package's source
SOURCES = {
    "hello": "hello-1.0.tar",
    "libfoo": "libfoo-2.1.tar",
    "tool": "tool-0.3.tar",
    "broken": "broken-0.9.tar",
    "extpkg": "extpkg-1.2.tar",
}

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def write_source(dl_dir: Path, subdir: str, name: str) -> Path:
    """A deterministic source tarball ``<name-version>/README`` at ``dl_dir/subdir/name``."""
    top = name.removesuffix(".tar")
    data = f"source of {top}\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(f"{top}/README")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    path = dl_dir / subdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def fill_dl_dir(d: Path) -> Path:
    """A download directory with every fixture package's source."""
    for subdir, name in SOURCES.items():
        write_source(d, subdir, name)
    return d


def write_defconfig(tmp_path: Path, text: str, name: str = "defconfig") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    return path


def driver(tmp_path: Path, defconfig_text: str, dl: Path, *, externals=(), lines=None, events=None, **kw) -> Buildroot:
    inv = Invocation(
        source=str(FIXTURE),
        output=str(tmp_path / "out"),
        externals=tuple(str(e) for e in externals),
        defconfig=str(write_defconfig(tmp_path, defconfig_text)),
        dl_dir=str(dl),
        **kw,
    )
    return Buildroot(
        inv,
        log_dir=str(tmp_path / "logs"),
        on_line=None if lines is None else lines.append,
        on_progress=None if events is None else events.append,
    )


def tree_files(root: str) -> dict[str, str]:
    out = {}
    for base, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(base, f)
            out[os.path.relpath(p, root)] = open(p, encoding="utf-8", errors="replace").read()
    return out
