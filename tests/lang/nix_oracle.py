"""Nix 2.8 as a differential oracle (Debian's ``nix-bin``; ``.ci/run`` installs it).

``nix_json(text)`` evaluates a program with ``nix-instantiate --eval --strict --json`` in a
private store (no daemon, runs as root or as any user with a writable NIX_STATE_DIR) and
returns the parsed JSON, or ``NixFailed`` with Nix's message.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

NIX = shutil.which("nix-instantiate")
requires_nix = pytest.mark.skipif(NIX is None, reason="nix-instantiate (Debian nix-bin) is not installed")

_root = Path(tempfile.mkdtemp(prefix="skiffeval-nix-"))
atexit.register(shutil.rmtree, _root, True)  # the private Nix state, gone with the test run


class NixFailed(Exception):
    pass


def _env() -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(_root / "home"),
        "NIX_REMOTE": "local",
        "NIX_STATE_DIR": str(_root / "state"),
        "NIX_LOG_DIR": str(_root / "log"),
        "NIX_CONF_DIR": str(_root / "conf"),
        "NIX_PATH": "",
    }
    if os.geteuid() != 0:  # a private store for unprivileged runs
        env["NIX_STORE_DIR"] = str(_root / "store")
    return env


def nix_json(text: str, name: str = "program.nix"):
    """The JSON value Nix gives for ``text``."""
    assert NIX is not None
    path = _root / name
    path.write_text(text)
    proc = subprocess.run(
        [NIX, "--eval", "--strict", "--json", str(path)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    if proc.returncode != 0:
        raise NixFailed(proc.stderr.strip())
    return json.loads(proc.stdout)
