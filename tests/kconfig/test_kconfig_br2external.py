"""BR2_EXTERNAL trees: validation errors, generated Kconfig snippets, the real script."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.kconfig import codes
from skiffeval.kconfig.br2external import ITEMS, ExternalTree, br2_external_files, check_unique, read_external
from skiffeval.kconfig.buildroot import find_defconfig, read_buildroot_source, resolve_buildroot
from tests.kconfig.helpers import FIXTURES, HOST, MINI

BUILDROOT = os.environ.get("SKIFFEVAL_TEST_BUILDROOT")


def _tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_read_fixture_trees():
    a = read_external(str(FIXTURES / "external-a"))
    assert (a.name, a.desc, a.version) == ("SKIFF_A", "Skiff test tree A", "")
    assert a.path == str(FIXTURES / "external-a")
    b = read_external(str(FIXTURES / "external-b"), version="v1-dirty")
    assert (b.name, b.desc, b.version) == ("SKIFF_B", "SKIFF_B", "v1-dirty")


@pytest.mark.parametrize(
    "files,code,message",
    [
        ({}, codes.EXTERNAL_TREE, "has no 'external.desc'"),
        ({"external.desc": "desc: no name\n"}, codes.EXTERNAL_NAME, "does not define the name"),
        ({"external.desc": "name: BAD-NAME\n"}, codes.EXTERNAL_NAME, "found 'BAD-NAME' (invalid: '-')"),
        ({"external.desc": "name: A\nname: B\n"}, codes.EXTERNAL_NAME, "(invalid: '\n')"),
        ({"external.desc": "name: OK\n", "Config.in": ""}, codes.EXTERNAL_TREE, "has no 'external.mk'"),
        ({"external.desc": "name: OK\n", "external.mk": ""}, codes.EXTERNAL_TREE, "has no 'Config.in'"),
    ],
)
def test_invalid_trees(tmp_path, files, code, message):
    root = _tree(tmp_path / "ext", files) if files else str((tmp_path / "ext").mkdir() or tmp_path / "ext")
    with pytest.raises(SkiffError) as info:
        read_external(root)
    assert info.value.code is code
    assert message in info.value.message


def test_missing_directory(tmp_path):
    with pytest.raises(SkiffError) as info:
        read_external(str(tmp_path / "nope"))
    assert info.value.code is codes.EXTERNAL_TREE


def test_duplicate_names():
    a = ExternalTree("/x/a", "SAME", "A")
    b = ExternalTree("/x/b", "SAME", "B")
    with pytest.raises(SkiffError) as info:
        check_unique([a, b])
    assert info.value.code is codes.EXTERNAL_DUPLICATE
    assert "'/x/b' is named 'SAME', already the name of '/x/a'" in info.value.message


def test_no_externals_files():
    files = br2_external_files([])
    assert sorted(files) == sorted(f".br2-external.in.{i}" for i in ITEMS)
    assert set(files.values()) == {
        "#\n# Automatically generated file; DO NOT EDIT.\n#\n\n# No br2-external tree defined.\n"
    }


def test_one_external_menus():
    ext = ExternalTree("/e/a", "A", "Tree A", "v2")
    files = br2_external_files([ext])
    assert files[".br2-external.in.menus"].endswith(
        'menu "External options"\n\ncomment "Tree A (in /e/a)"\nsource "/e/a/Config.in"\n\nendmenu\n'
    )
    assert 'config BR2_EXTERNAL_A_VERSION\n\tstring\n\tdefault "v2"\n' in files[".br2-external.in.paths"]


def test_defconfig_lookup_prefers_the_last_external(tmp_path):
    source = read_buildroot_source(MINI)
    a = read_external(str(FIXTURES / "external-a"))
    assert find_defconfig(source, [a], "skiff_a_defconfig") == str(FIXTURES / "external-a/configs/skiff_a_defconfig")
    assert find_defconfig(source, [a], "mini_x86_64_defconfig") == os.path.join(MINI, "configs/mini_x86_64_defconfig")
    shadow = tmp_path / "shadow"
    shutil.copytree(FIXTURES / "external-a", shadow)
    (shadow / "external.desc").write_text("name: SHADOW\n")
    (shadow / "configs/mini_x86_64_defconfig").write_text("BR2_aarch64=y\n")
    s = read_external(str(shadow))
    assert find_defconfig(source, [a, s], "mini_x86_64_defconfig") == str(shadow / "configs/mini_x86_64_defconfig")


def test_unknown_defconfig_suggests_names():
    with pytest.raises(SkiffError) as info:
        resolve_buildroot(MINI, defconfig="mini_x86_46_defconfig", host=HOST)
    assert info.value.code is codes.DEFCONFIG_NOT_FOUND
    assert info.value.help[0].startswith("did you mean 'mini_x86_64_defconfig'")


def test_external_defconfig_resolves():
    result = resolve_buildroot(MINI, externals=[str(FIXTURES / "external-a")], defconfig="skiff_a_defconfig", host=HOST)
    values = result.values()
    assert values["BR2_PACKAGE_SKIFF_HELLO_GREETING"] == '"hi \\"there\\""'
    assert values["BR2_DEFCONFIG"] == f'"{FIXTURES}/external-a/configs/skiff_a_defconfig"'


def test_not_a_buildroot_tree(tmp_path):
    with pytest.raises(SkiffError) as info:
        resolve_buildroot(str(tmp_path), host=HOST)
    assert info.value.code is codes.BUILDROOT_SOURCE


@pytest.mark.skipif(not BUILDROOT, reason="SKIFFEVAL_TEST_BUILDROOT is not set")
@pytest.mark.parametrize("names", [[], ["external-a"], ["external-a", "external-b"], ["external-b", "external-a"]])
def test_files_match_buildroot_script(tmp_path, names):
    trees = []
    for name in names:  # copies outside any git work tree, so setlocalversion prints nothing
        shutil.copytree(FIXTURES / name, tmp_path / name)
        trees.append(str(tmp_path / name))
    out = tmp_path / "out"
    subprocess.run(["support/scripts/br2-external", "-d", str(out), *trees], cwd=BUILDROOT, check=True,
                   capture_output=True)
    ours = br2_external_files([read_external(t) for t in trees])
    theirs = {n: (out / n).read_text() for n in os.listdir(out) if n.startswith(".br2-external.in.")}
    assert ours == theirs
