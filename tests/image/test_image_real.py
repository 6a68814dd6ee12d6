"""``show_info`` and ``image`` of skiffeval's qemu board against a real Buildroot (opt-in):
``SKIFFEVAL_TEST_BUILDROOT=/path/to/buildroot`` (2026.02.3 is what the boards pin).

The tree is passed with ``--override-input buildroot=…`` (hashed and copied into the test's
store, never written).  The image build is given a primary site that cannot resolve and
``BR2_PRIMARY_SITE_ONLY``, so it fails at its first download quickly whether or not the machine
has a network.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from tests.image.helpers import sk

ROOT = os.environ.get("SKIFFEVAL_TEST_BUILDROOT")
pytestmark = [
    pytest.mark.skipif(not ROOT, reason="set SKIFFEVAL_TEST_BUILDROOT to a Buildroot tree"),
    pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed"),
    pytest.mark.slow,
]

OFFLINE_BOARD = """\
system {
  name = "qemu-x86_64-offline";
  layers = [
    (import <layers/qemu/x86_64.sk> { })
    (import <layers/skiff/container-host.sk> { })
    (layer { name = "test/offline"; buildroot = [ {
      BR2_PRIMARY_SITE = "http://sources.offline.invalid";
      BR2_PRIMARY_SITE_ONLY = true;
    } ]; })
  ];
}
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One directory and store for the module: the Buildroot tree is copied into it once."""
    return tmp_path_factory.mktemp("real")


def test_show_info_of_the_qemu_board(work):
    board = os.path.join(os.path.dirname(__file__), "..", "..", "layers", "boards", "qemu-x86_64.sk")
    r = sk(["build", os.path.abspath(board), "-A", "show_info", "--override-input", f"buildroot={ROOT}",
            "-o", "show-info"], work)
    assert r.code == 0, r.err
    info = json.loads((work / "show-info").read_text())
    packages = {k: v for k, v in info.items() if v["type"] in ("target", "host")}
    assert len(packages) > 50
    assert {"busybox", "linux", "toolchain", "host-gcc-final"} <= set(packages)
    versions = {k: v.get("version") for k, v in packages.items()}
    assert versions["busybox"] and versions["linux"] and versions["host-gcc-final"]
    # in-tree packages (skeletons, makedevs, ifupdown-scripts) and virtual ones have none
    assert sum(1 for v in versions.values() if v) > 0.8 * len(versions)
    assert info["linux"]["install_images"] is True and info["busybox"]["licenses"]
    assert any(v["type"] == "rootfs" for v in info.values())
    assert info["busybox"]["dependencies"]


def test_image_reaches_the_download_stage_and_fails_with_the_offline_error(work):
    (work / "offline.sk").write_text(OFFLINE_BOARD)
    r = sk(["build", "offline.sk", "-A", "image", "--override-input", f"buildroot={ROOT}", "--dl-dir", "dl"], work)
    assert r.code == 1
    assert "Traceback" not in r.err
    m = re.search(r"error\[E301\]: .*cannot download the sources of '([a-z0-9.+-]+)' (\S+)", r.err)
    assert m, r.err
    package = m.group(1)
    assert "http://sources.offline.invalid/" in r.err  # the URL tried
    assert f"into '{work / 'dl'}/" in r.err and "--dl-dir" in r.err and "BR2_PRIMARY_SITE" in r.err
    # progress reached that package's download, after show-info counted the packages
    assert re.search(rf"qemu-x86_64-offline-image: \[\d+/\d+\] {re.escape(package)} \S+: Downloading", r.err)
    # the kept build directory has the configuration and the packages that needed no download
    kept = work / "store" / ".skiffeval" / "builds" / "qemu-x86_64-offline"
    assert (kept / ".config").exists()
    assert 'BR2_PRIMARY_SITE="http://sources.offline.invalid"' in (kept / ".config").read_text()
