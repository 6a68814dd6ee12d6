"""The installed package carries its data: a wheel built from the project holds the grammar and
the layer library, and skiffeval imported from that wheel (not from this checkout) parses with
its grammar and finds its layers."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here (pip needs setuptools from PyPI): {proc.stderr[-300:]}")
    return next(out.glob("skiffeval-*.whl"))


def test_wheel_holds_the_grammar_and_the_layers(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "skiffeval/_grammar/skiff.lark" in names
    assert "skiffeval/_layers/boards/qemu-x86_64.sk" in names
    assert "skiffeval/_layers/skiff/base/root_overlay/etc/motd" in names


def test_installed_wheel_loads_its_grammar(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True)
    code = (
        "import os, skiffeval\n"
        f"assert skiffeval.__file__.startswith({str(target)!r}), skiffeval.__file__\n"
        "from skiffeval.syntax.parser import grammar_text, parse\n"
        "assert 'expr_function' in grammar_text()\n"
        "parse('{ a = 1 + 2; }', 'x.sk')\n"
        "from skiffeval.session.core import default_layers_dir\n"
        "assert os.path.isfile(os.path.join(default_layers_dir(), 'boards', 'qemu-x86_64.sk'))\n"
    )
    # -S: no site, so no editable install of this checkout; the dependencies come from purelib
    env = dict(os.environ, PYTHONPATH=f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}", XDG_CACHE_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
