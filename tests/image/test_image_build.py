"""A system's ``show_info`` and ``image`` through ``skiffeval build``, on the mini-buildroot fixture:
what the outputs hold, and that the download cache (and ccache) are outside every key."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.buildroot.helpers import needs_make
from tests.image.helpers import MINI, board, build_dir, extra_buildroot, fill_dl, manifest, rootfs, sk

pytestmark = needs_make

GREETING = 'BR2_PACKAGE_HELLO_GREETING = "hi";'


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The mini board built once (``-A show_info -A image``), in its own store."""
    d = tmp_path_factory.mktemp("built")
    board(d, buildroot=GREETING)
    fill_dl(d / "dl")
    r = sk(["build", "board.sk", "-A", "show_info", "-A", "image", "--dl-dir", "dl"], d)
    assert r.code == 0, r.err
    return d


def test_show_info_lists_the_packages_and_their_versions(built):
    info = json.loads((built / "result").read_text())
    assert {k: v["version"] for k, v in info.items() if v["type"] != "rootfs"} == {
        "hello": "1.0", "libfoo": "2.1", "host-tool": "0.3",
    }
    assert info["hello"]["dependencies"] == ["host-tool", "libfoo"]  # host-tool is pulled in
    assert info["hello"]["licenses"] == "MIT" and info["libfoo"]["reverse_dependencies"] == ["hello"]
    assert info["rootfs-tar"]["type"] == "rootfs"


def test_show_info_needs_no_download(tmp_path):
    board(tmp_path, buildroot='BR2_PACKAGE_BROKEN = true; BR2_PACKAGE_LIBFOO = false;')
    r = sk(["build", "board.sk", "-A", "show_info", "--dl-dir", "empty"], tmp_path)
    assert r.code == 0, r.err
    info = json.loads((tmp_path / "result").read_text())
    assert sorted(k for k, v in info.items() if v["type"] != "rootfs") == ["broken", "hello", "host-tool"]
    assert info["hello"]["dependencies"] == ["host-tool"]  # libfoo is an optional dependency
    assert not (tmp_path / "empty").exists() or not os.listdir(tmp_path / "empty")


def test_image_output_holds_images_config_show_info_and_manifest(built):
    out = built / "result-2"
    assert sorted(os.listdir(out)) == ["config", "images", "manifest.json", "show-info.json"]
    assert os.listdir(out / "images") == ["rootfs.tar"]
    config = (out / "config").read_text()
    assert 'BR2_PACKAGE_HELLO_GREETING="hi"' in config
    assert config == (build_dir(built) / ".config").read_text()  # the final .config of the build
    assert (out / "show-info.json").read_bytes() == (built / "result").read_bytes()


def test_image_rootfs_has_the_packages_overlay_and_hostname(built):
    files = rootfs(built / "result-2")
    assert files == {
        "etc/hostname": b"mini\n",
        "etc/motd": b"hello\n",
        "usr/bin/hello": b"hello 1.0 says hi with libfoo\n",
        "usr/lib/libfoo.so.2": b"libfoo 2.1\n",
    }


def test_manifest_names_packages_inputs_and_plan(built):
    m = manifest(built / "result-2")
    store = str(built / "store")
    assert m["system"] == "mini" and m["pure"] is False
    assert m["packages"] == {"hello": "1.0", "host-tool": "0.3", "libfoo": "2.1"}
    assert m["buildroot"].startswith(store + "/") and m["buildroot"].endswith("-mini-buildroot")
    assert set(m["inputs"]) >= {"buildroot", "resolved", "show_info"}
    assert m["inputs"]["show_info"] == os.path.realpath(built / "result")
    for path in m["inputs"].values():
        assert path.startswith(store + "/") and os.path.exists(path)
    # the first build of a system: nothing recorded, so everything is built
    assert m["plan"] == {"full_clean": True, "notes": [], "actions": [
        {"target": "clean", "package": None, "reasons": ["no record of what the build directory was built from"]}]}


def test_manifest_names_the_buildroot_version(built):
    m = manifest(built / "result-2")
    assert "2026.02-mini" in json.dumps({k: v for k, v in m.items() if k not in ("buildroot", "inputs")})


def test_the_download_directory_and_ccache_are_outside_the_key(tmp_path):
    board(tmp_path, buildroot=GREETING)
    fill_dl(tmp_path / "dl1")
    first = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl1", "--json"], tmp_path)
    assert first.code == 0, first.err
    [out1] = json.loads(first.out)["outputs"]
    # another download directory (even an empty one) and a ccache: nothing to build, same output
    again = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl2", "--ccache-dir", "cc", "--json"], tmp_path)
    assert again.code == 0, again.err
    data = json.loads(again.out)
    assert data["built"] == 0 and data["outputs"] == [out1]
    drv = next((tmp_path / "store").glob(f"{out1['drv']}-mini-image.drv")).read_text()
    assert "dl1" not in drv and ".skiffeval" not in drv
    # another store with another download directory: the same derivation and the same image
    fill_dl(tmp_path / "dl3")
    other = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl3", "--json", "-o", "other"], tmp_path, store="store2")
    assert other.code == 0, other.err
    [out2] = json.loads(other.out)["outputs"]
    assert out2["drv"] == out1["drv"]
    assert (tmp_path / "other" / "images" / "rootfs.tar").read_bytes() == (tmp_path / "result" / "images" / "rootfs.tar").read_bytes()


def test_the_default_download_directory_is_in_the_stores_metadata(tmp_path):
    board(tmp_path)
    r = sk(["build", "board.sk", "-A", "image"], tmp_path)
    assert r.code == 1 and "E301" in r.err
    dl = tmp_path / "store" / ".skiffeval" / "dl"
    assert f"into '{dl}/hello/'" in r.err
    fill_dl(dl)
    r = sk(["build", "board.sk", "-A", "image"], tmp_path)
    assert r.code == 0, r.err
    assert rootfs(tmp_path / "result")["usr/bin/hello"] == b"hello 1.0 says hello with libfoo\n"


NO_BUILDROOT = 'system { name = "nobr"; layers = [ (layer { name = "a/b"; buildroot = [ { BR2_PACKAGE_HELLO = true; } ]; }) ]; }\n'


def test_image_of_a_system_without_buildroot_source_given_on_the_command_line(tmp_path):
    (tmp_path / "board.sk").write_text(NO_BUILDROOT)
    fill_dl(tmp_path / "dl")
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl", "--override-input", f"buildroot={MINI}"], tmp_path)
    assert r.code == 0, r.err
    assert rootfs(tmp_path / "result")["usr/bin/hello"] == b"hello 1.0 says hello alone\n"


@pytest.mark.parametrize("attr", ["image", "show_info"])
def test_image_of_a_system_without_buildroot_says_how_to_give_one(tmp_path, attr):
    (tmp_path / "board.sk").write_text(NO_BUILDROOT)
    r = sk(["build", "board.sk", "-A", attr], tmp_path)
    assert r.code == 1
    assert "E163" in r.err and "--override-input buildroot=PATH" in r.err


def test_an_external_tree_reaches_the_build(tmp_path):
    from tests.buildroot.helpers import EXTERNAL

    shutil.copytree(EXTERNAL, tmp_path / "ext")
    fill_dl(tmp_path / "dl")
    # (the mini fixture's Config.in does not source Buildroot's .br2-external.in.* files, so
    # skiffeval's kconfig resolution would not see extpkg; the extended fixture does)
    source = extra_buildroot(tmp_path / "br")
    board(tmp_path, buildroot="BR2_PACKAGE_EXTPKG = true;", extra="external = [ ./ext ];", source=source)
    r = sk(["build", "board.sk", "-A", "show_info", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    info = json.loads((tmp_path / "result").read_text())
    assert info["extpkg"]["version"] == "1.2" and info["extpkg"]["dependencies"] == ["libfoo"]
    files = rootfs(tmp_path / "result-2")
    assert files["usr/bin/extpkg"] == b"extpkg 1.2 from the fixture external tree of skiffeval\n"
    m = manifest(tmp_path / "result-2")
    assert m["packages"]["extpkg"] == "1.2" and "external" in m["inputs"]
