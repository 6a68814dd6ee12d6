"""Helpers of the image tests: boards on the mini-buildroot fixture, download directories, the
CLI runner with a store, and readers for what an ``image`` build leaves behind.

Two Buildroot stand-ins are used:

* ``MINI`` — ``tests/fixtures/mini-buildroot`` as it is (hello, libfoo, host-tool, broken);
* ``extra_buildroot(dir)`` — a copy of it with ``tests/image/fixtures/mini-buildroot-extra``
  laid over: ``BR2_GLOBAL_PATCH_DIR`` (the fixture's Config.in lacks it, so mini-conf would
  drop it); Buildroot's ``source "$BR2_BASE_DIR/.br2-external.in.*"`` lines (without them
  skiffeval's kconfig resolution does not see an external tree's symbols); ``BR2_CCACHE`` and
  ``BR2_CCACHE_DIR`` (default ``$(HOME)/.buildroot-ccache``, as Buildroot's); a ``linux``
  package configured by ``BR2_LINUX_KERNEL*`` that installs the lines of its custom
  configuration and fragment files; ``probe`` (installs ``BR2_JLEVEL``, a checksum of its
  patches and the ccache directory); ``slow`` (notes two builds using one output directory at
  once).
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

from tests.buildroot.helpers import FIXTURE as MINI
from tests.buildroot.helpers import SOURCES, write_source
from tests.cli.runner import Result, run

HERE = Path(__file__).resolve().parent
EXTRA = HERE / "fixtures" / "mini-buildroot-extra"
SKIFFOS_TREE = HERE / "fixtures" / "skiffos"
EXTRA_SOURCES = {"linux": "linux-6.1.tar", "probe": "probe-0.1.tar", "slow": "slow-0.1.tar"}

__all__ = ["MINI", "EXTRA", "SKIFFOS_TREE", "Result", "sk", "board", "fill_dl", "extra_buildroot",
           "manifest", "plan_targets", "stamps", "rootfs", "build_dir", "layer"]


def sk(args: list[str], cwd: Path, store: str = "store", env: dict[str, str] | None = None) -> Result:
    """``skiffeval ARGS --store STORE`` in ``cwd``, in process (the evaluation cache is off, so
    every call evaluates and builds)."""
    return run([*args, "--store", store], cwd=cwd, env={"SKIFFEVAL_NO_EVAL_CACHE": "1", **(env or {})})


def layer(name: str = "mini/board", *, buildroot: str = "", defconfig: str = '"mini"', extra: str = "",
          overlay: str = "") -> str:
    """The text of a ``layer { }`` call on the mini fixture; ``buildroot`` is the inside of its
    inline fragment attribute set, ``overlay`` more entries of its ``files { }`` overlay
    (``etc/motd`` is there), ``extra`` more fields."""
    return (f'layer {{ name = "{name}"; defconfig = {defconfig}; buildroot = [ {{ {buildroot} }} ];\n'
            f'  overlay = [ (files {{ "etc/motd" = "hello\\n"; {overlay} }}) ];\n  {extra} }}')


def board(d: Path, *, buildroot: str = "", extra: str = "", overlay: str = "", source: Path | str = MINI,
          name: str = "mini", file: str = "board.sk") -> Path:
    """Write ``d/file``: a system ``name`` of one layer (see ``layer``) on ``source``."""
    d.mkdir(parents=True, exist_ok=True)
    path = d / file
    path.write_text(f"let l = {layer(buildroot=buildroot, extra=extra, overlay=overlay)};\n"
                    f'in system {{ name = "{name}"; buildroot = {source}; layers = [ l ]; }}\n')
    return path


def fill_dl(d: Path, *, extra: bool = False, skip: tuple[str, ...] = ()) -> Path:
    """A download directory with every fixture package's source (``<pkg>/<pkg>-<ver>.tar``)."""
    sources = {**SOURCES, **(EXTRA_SOURCES if extra else {})}
    for subdir, name in sources.items():
        if subdir not in skip:
            write_source(d, subdir, name)
    return d


# Buildroot's Makefile (2026.02.3, line 206) takes BR2_CCACHE_DIR from the environment before it
# includes .config; the mini fixture's Makefile does not, so the copy gets these lines there.
_CCACHE_FROM_ENV = "ifneq ($(BR2_CCACHE_DIR),)\nBR_CACHE_DIR := $(BR2_CCACHE_DIR)\nendif\n"
_INCLUDE_CONFIG = "ifneq ($(wildcard $(BR2_CONFIG)),)\n"


def extra_buildroot(d: Path) -> Path:
    """The mini fixture with ``fixtures/mini-buildroot-extra`` laid over it, at ``d`` (and the
    environment's ``BR2_CCACHE_DIR`` read before ``.config``, as Buildroot's Makefile does)."""
    if not d.exists():
        shutil.copytree(MINI, d, symlinks=True)
        shutil.copytree(EXTRA, d, symlinks=True, dirs_exist_ok=True)
        makefile = (d / "Makefile").read_text()
        assert makefile.count(_INCLUDE_CONFIG) == 1
        (d / "Makefile").write_text(makefile.replace(_INCLUDE_CONFIG, _CCACHE_FROM_ENV + _INCLUDE_CONFIG))
    return d


def manifest(result_link: Path) -> dict:
    return json.loads((result_link / "manifest.json").read_text())


def plan_targets(result_link: Path) -> list[str]:
    """The make targets of the plan an image build applied (``manifest.json``)."""
    return [a["target"] for a in manifest(result_link)["plan"]["actions"]]


def build_dir(cwd: Path, system: str = "mini", store: str = "store") -> Path:
    """The kept build directory of a system: ``<store>/.skiffeval/builds/<system>``."""
    return cwd / store / ".skiffeval" / "builds" / system


def stamps(out: Path) -> dict[str, float]:
    """``<pkg dir>/<stamp>`` → mtime for every stamp file of a build directory."""
    found = {}
    build = out / "build"
    if build.is_dir():
        for pkg in sorted(os.listdir(build)):
            for f in sorted(os.listdir(build / pkg)):
                if f.startswith(".stamp_"):
                    found[f"{pkg}/{f}"] = os.stat(build / pkg / f).st_mtime_ns
    return found


def rootfs(result_link: Path) -> dict[str, bytes]:
    """The regular files of ``images/rootfs.tar`` of an image output, by name."""
    with tarfile.open(result_link / "images" / "rootfs.tar") as tar:
        return {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
