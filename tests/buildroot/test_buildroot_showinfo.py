"""show-info records and the buildroot codes' documentation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from skiffeval.buildroot import codes, parse_show_info
from skiffeval.diagnostics import SkiffError, all_codes

SAMPLE = {
    "busybox": {"type": "target", "name": "busybox", "virtual": False, "version": "1.37.0",
                "licenses": "GPL-2.0, bzip2-1.0.4", "license_files": ["LICENSE"], "redistributable": True,
                "dl_dir": "busybox", "downloads": [{"source": "busybox-1.37.0.tar.bz2",
                "uris": ["https+https://www.busybox.net/downloads"]}], "hashes": [], "patches": [],
                "package_dir": "package/busybox", "stamp_dir": "build/busybox-1.37.0",
                "source_dir": "build/busybox-1.37.0", "build_dir": "build/busybox-1.37.0/",
                "install_target": True, "install_staging": False, "install_images": False,
                "dependencies": ["host-skeleton", "toolchain"], "reverse_dependencies": [],
                "cpe-id": "cpe:2.3:a:busybox:busybox:1.37.0:-:*:*:*:*:*:*", "ignore_cves": ["CVE-2022-28391"]},
    "toolchain": {"type": "target", "name": "toolchain", "virtual": True, "package_dir": "toolchain/toolchain",
                  "stamp_dir": "build/toolchain", "source_dir": "build/toolchain", "build_dir": "build/toolchain/",
                  "install_target": True, "install_staging": True, "install_images": False,
                  "dependencies": [], "reverse_dependencies": ["busybox"]},
    "host-skeleton": {"type": "host", "name": "skeleton", "virtual": False, "version": "", "licenses": "unknown",
                      "license_files": [], "redistributable": True, "dl_dir": "skeleton", "downloads": [],
                      "hashes": [], "patches": [], "package_dir": "package/skeleton", "stamp_dir": "build/host-skeleton",
                      "source_dir": "build/host-skeleton", "build_dir": "build/host-skeleton/",
                      "dependencies": [], "reverse_dependencies": ["busybox"]},
    "rootfs-ext2": {"type": "rootfs", "image_name": "rootfs.ext2", "dependencies": ["host-e2fsprogs"]},
}


def test_parse_and_round_trip(tmp_path):
    text = "make[1]: Entering directory '/x'\n" + json.dumps(SAMPLE) + "\n"
    info = parse_show_info(text)
    assert [p.key for p in info.entries] == ["busybox", "host-skeleton", "rootfs-ext2", "toolchain"]
    assert info.names == {"busybox", "host-skeleton", "toolchain"} and info.total == 3
    assert info.get("busybox").symbol == "BR2_PACKAGE_BUSYBOX"
    assert info.get("host-skeleton").symbol == "BR2_PACKAGE_HOST_SKELETON"
    assert json.loads(info.canonical_bytes()) == SAMPLE
    assert info.canonical_bytes() == parse_show_info(json.dumps(SAMPLE, indent=3)).canonical_bytes()
    (tmp_path / "build" / "busybox-1.37.0").mkdir(parents=True)
    (tmp_path / "build" / "busybox-1.37.0" / ".stamp_installed").touch()
    assert info.complete_in(str(tmp_path)) == {"busybox"}
    assert info.stamp_dirs()["busybox-1.37.0"] == "busybox"


@pytest.mark.parametrize("text", ["", "no json", "{", '{"a": 1}', '{"a": {"type": 3}}', '{"a": {"type": "target", "dependencies": "x"}}'])
def test_malformed_show_info(text):
    with pytest.raises(SkiffError) as exc:
        parse_show_info(text)
    assert exc.value.code is codes.BAD_SHOW_INFO


def test_every_code_is_in_range_and_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "buildroot.md").read_text()
    mine = [c for c in all_codes() if c.domain == "buildroot"]
    assert len(mine) >= 10
    for c in mine:
        assert re.fullmatch(r"[EW]3[0-4]\d", c.code), c
        assert f"`{c.code}`" in doc, f"{c.code} is not documented in docs/buildroot.md"
