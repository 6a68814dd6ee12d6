"""Against a real Buildroot tree (opt-in): SKIFFEVAL_TEST_BUILDROOT=/path/to/buildroot.

The source tree is only read: everything is written under O= in a temporary directory, and the
download directory is given, so Buildroot writes nothing into its tree.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from skiffeval.buildroot import Buildroot, BuildrootError, Invocation, codes

ROOT = os.environ.get("SKIFFEVAL_TEST_BUILDROOT")
pytestmark = [
    pytest.mark.skipif(not ROOT, reason="set SKIFFEVAL_TEST_BUILDROOT to a Buildroot checkout"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def qemu(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("br")
    inv = Invocation(
        source=ROOT,
        output=str(tmp / "out"),
        defconfig=os.path.join(ROOT, "configs", "qemu_x86_64_defconfig"),
        dl_dir=str(tmp / "dl"),
        # Fail fast, whatever the machine's network: only a site that cannot resolve is tried.
        make_vars={"BR2_PRIMARY_SITE": "http://sources.offline.invalid", "BR2_PRIMARY_SITE_ONLY": "y"},
    )
    br = Buildroot(inv, log_dir=str(tmp / "logs"))
    br.defconfig()
    return br


def test_show_info_of_qemu_x86_64(qemu):
    text = qemu.show_info_text()
    info = qemu.show_info()
    kinds = {p.type for p in info.entries}
    assert kinds == {"target", "host", "rootfs"}
    busybox = info.get("busybox")
    assert busybox.type == "target" and busybox.version and busybox.licenses and busybox.downloads
    assert info.get("linux").type == "target" and info.get("linux").install_images is True
    assert info.get("toolchain").virtual is True
    assert all(p.key.startswith("host-") == (p.type == "host") for p in info.packages)
    assert any(p.type == "rootfs" and p.image_name for p in info.entries)
    assert info.total == len([p for p in info.entries if p.type != "rootfs"]) > 20
    assert json.loads(info.canonical_bytes()) == json.loads(text)  # nothing lost


def test_make_reaches_the_download_stage_and_fails_clearly(qemu):
    info = qemu.show_info()
    with pytest.raises(BuildrootError) as exc:
        qemu.build(info)
    failure = exc.value.failure
    if failure.code is codes.HOST_DEPENDENCY:
        pytest.skip(f"this machine lacks {', '.join(failure.missing)}, which Buildroot checks before downloading")
    assert failure.code is codes.DOWNLOAD_FAILED, failure.message
    assert failure.package in info and failure.step == "download" and failure.offline
    assert failure.urls and all(u.startswith("http://sources.offline.invalid/") for u in failure.urls)
    assert failure.source and failure.source in failure.urls[0]
    assert "--dl-dir" in exc.value.help[0] and "BR2_PRIMARY_SITE" in exc.value.help[1]


def test_dirclean_of_a_real_package(qemu):
    target = os.path.join(qemu.output, "build", "host-skeleton")
    if not os.path.isdir(target):
        pytest.skip("the build did not get as far as host-skeleton")
    qemu.dirclean(["host-skeleton"])
    assert not os.path.exists(target)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_every_arch_and_toolchain_symbol_needs_a_full_rebuild():
    """The full-rebuild rules cover every symbol defined under arch/ and toolchain/."""
    import re

    from skiffeval.buildroot.incremental import FULL_REBUILD_RULES

    symbols = set()
    for top in ("arch", "toolchain"):
        for base, _d, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.startswith("Config.in"):
                    text = open(os.path.join(base, f), encoding="utf-8").read()
                    symbols |= set(re.findall(r"^\s*(?:menu)?config\s+(BR2_\w+)", text, re.M))
    assert len(symbols) > 500
    missing = sorted(s for s in symbols if not any(rx.match(s) for rx, _ in FULL_REBUILD_RULES))
    assert missing == []
