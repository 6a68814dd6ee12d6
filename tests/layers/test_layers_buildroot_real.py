"""Systems against a real Buildroot checkout (opt-in: ``SKIFFEVAL_TEST_BUILDROOT``, else skipped).

* The three boards of ``layers/boards/`` resolve with every requested symbol taking effect: no
  warning, no error, nothing unknown, ignored or not taken in the report.
* A system of one layer ``defconfig = "<name>"`` gives the assignments Buildroot's own
  ``make O=<tmp> <name>_defconfig`` writes (run here, offline, about a second each), for
  ``qemu_x86_64`` and ``raspberrypi4_64``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from skiffeval.session import default_layers_dir, resolved_report
from tests.layers.helpers import build, drv_named, output_of, write

BUILDROOT = os.environ.get("SKIFFEVAL_TEST_BUILDROOT")
pytestmark = [
    pytest.mark.skipif(not BUILDROOT, reason="SKIFFEVAL_TEST_BUILDROOT is not set"),
    pytest.mark.skipif(not (shutil.which("make") and shutil.which("gcc")), reason="needs make and gcc"),
    pytest.mark.slow,
]

BOARDS = ("qemu-x86_64", "qemu-aarch64", "pi4")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One store for the module: the Buildroot tree is imported into it once."""
    return str(tmp_path_factory.mktemp("real") / "store")


@pytest.mark.parametrize("board", BOARDS)
def test_a_library_board_resolves_with_every_request_taking_effect(board, tmp_path, store):
    target = os.path.join(default_layers_dir(), "boards", f"{board}.sk")
    s, outcome = build(tmp_path, target, "resolved", overrides=(("buildroot", BUILDROOT),), store_dir=store)
    drv = drv_named(s, f"{board}-resolved")
    report = resolved_report(s, drv, outcome.result.outputs[drv.key])
    problems = [(d["code"], d["location"], d["message"]) for d in report["diagnostics"] if d["severity"] != "info"]
    assert problems == []
    summary = report["summary"]
    assert (summary["not_taken"], summary["unknown"], summary["ignored"], summary["errors"], summary["warnings"]) == (0, 0, 0, 0, 0)
    assert summary["took_effect"] == summary["symbols"]
    # and the generated lists kept Buildroot's own values first
    config = (output_of(s, outcome, "resolved") / "config").read_text()
    overlay = re.search(r'^BR2_ROOTFS_OVERLAY="(.*)"$', config, re.M).group(1).split()
    assert overlay[-1].endswith(f"-{board}-overlay")


def _assignments(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(BR2_\w+)=(.*)$", line) or re.match(r"^# (BR2_\w+) is not set$", line)
        if m:
            out[m.group(1)] = m.group(2) if m.lastindex == 2 else "is not set"
    out.pop("BR2_DEFCONFIG", None)  # the base's path: the source tree for make, its store copy here
    return out


def _make_defconfig(out_dir, name: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(out_dir), "LC_ALL": "C"}
    subprocess.run(["make", "-s", "-C", BUILDROOT, f"O={out_dir}", f"{name}_defconfig"], env=env, check=True, capture_output=True)
    return (out_dir / ".config").read_text()


@pytest.mark.parametrize("name", ["qemu_x86_64", "raspberrypi4_64"])
def test_a_defconfig_alone_gives_what_make_gives(name, tmp_path, store):
    write(tmp_path, {"board.sk": f'system {{ name = "alone"; layers = [ (layer {{ name = "base/{name}"; defconfig = "{name}"; }}) ]; }}'})
    s, outcome = build(tmp_path, "board.sk", "resolved", overrides=(("buildroot", BUILDROOT),), store_dir=store)
    ours = _assignments((output_of(s, outcome, "resolved") / "config").read_text())
    make_dir = tmp_path / "make"
    make_dir.mkdir()
    theirs = _assignments(_make_defconfig(make_dir, name))
    assert ours == theirs
    assert len(ours) > 500
