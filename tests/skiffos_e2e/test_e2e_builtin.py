"""The ``skiffos { }`` builtin from a ``.sk`` file, and native queries on the system it gives:
``skiffeval eval``, ``build -A <attr>``, ``show-derivation FILE#ATTR``, ``layers``."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from tests.skiffos_e2e.e2e_helpers import MINI_BUILDROOT, TREE, read, skiffeval

CONFIG = "board/alpha,apps/top,cyc/a"
NAME = "board-alpha-apps-top-cyc-a"
SK = f"""# a SkiffOS checkout as a system
skiffos {{
  root = {TREE};
  config = "{CONFIG}";
  workspace = "Dev";
}}
"""


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> pathlib.Path:
    d = tmp_path_factory.mktemp("builtin")
    (d / "sk.sk").write_text(SK)
    return d


def _out_path(board: pathlib.Path, attr: str) -> pathlib.Path:
    r = skiffeval(["build", "sk.sk", "-A", attr, "--no-out-link", "--print-out-paths", "-q"], board)
    assert r.code == 0, r.err
    (path,) = r.out.split()
    return pathlib.Path(path)


def _tree(path: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir())


def test_eval_gives_the_chain(board):
    r = skiffeval(["eval", "sk.sk", "-A", "chain", "-A", "layers", "-A", "system", "--json"], board)
    assert r.code == 0, r.err
    chain, layers, system = (json.loads(line) for line in r.out.splitlines())
    assert chain == "base/core,board/common,util/extra,board/alpha,apps/low,apps/mid,apps/top,cyc/b,cyc/a"
    assert layers == ["configs-base/pre", *chain.split(","), "overrides", "overrides/workspaces/dev", "configs-base/post"]
    assert system == NAME


def test_build_prints_the_warnings_once_with_locations(board):
    r = skiffeval(["build", "sk.sk", "-A", "config", "--no-out-link"], board)
    assert r.code == 0
    assert r.err.count("warning[W251]") == 1
    assert f"{TREE}/configs/cyc/b/metadata/dependencies:1:1: warning[W251]" in r.err


def test_eval_prints_the_warnings(board):
    r = skiffeval(["eval", "sk.sk", "-A", "chain"], board)
    assert r.code == 0
    assert f"{TREE}/configs/cyc/b/metadata/dependencies:1:1: warning[W251]" in r.err


def test_build_kernel_config_is_the_merged_fragment(board, tmp_path):
    path = _out_path(board, "kernel_config")
    assert path.name.endswith(f"-{NAME}-kernel-config") and path.is_file()
    text = path.read_text()
    assert text.startswith("\n# Configuration from ") and 'CONFIG_LOCALVERSION="-alpha"\n' in text
    # the same file the CLI writes for the same input
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", CONFIG, "--workspace", "Dev", "--out", "o"], board)
    assert r.code == 0, r.err
    assert read(board / "o" / "kernel" / "config") == text


def test_build_config_is_skiffos_final_config_folder(board):
    path = _out_path(board, "config")
    assert path.name.endswith(f"-{NAME}-configure")
    assert {"skiff_config", "buildroot/config", "kernel/config", "uboot/config", "busybox/config", "users",
            "cflags", "pre_build.sh", "post_build.sh", "bind_env.sh"} <= set(_tree(path))
    # the config names its own folder for the generated lists, as SkiffOS names .config_<ws>/
    text = (path / "buildroot" / "config").read_text()
    assert f'BR2_ROOTFS_USERS_TABLES="{path}/users"' in text
    assert f'BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES="{path}/kernel/config"' in text


@pytest.mark.parametrize(
    ("attr", "files"),
    [
        ("overlay", ["etc/alpha", "etc/common", "etc/fixture-release"]),
        ("patches", ["buildroot/00-board-alpha/htop/0001-fixture.patch", "kernel/00-board-alpha/0001-fixture.patch",
                     "uboot/00-board-common/0001-u.patch"]),
        ("external", ["00-board-alpha/Config.in", "00-board-alpha/external.desc", "00-board-alpha/external.mk",
                      "externals.json"]),
        ("hooks", ["post_build.sh", "pre_build.sh"]),
    ],
)
def test_build_the_native_attributes(board, attr, files):
    assert _tree(_out_path(board, attr)) == files


def test_overlay_is_merged_in_chain_order(board):
    path = _out_path(board, "overlay")
    assert (path / "etc" / "fixture-release").read_text() == read(f"{TREE}/configs-base/pre/root_overlay/etc/fixture-release")


def test_users_and_single_files(board):
    assert _out_path(board, "users").read_text().startswith("svc -1 svc -1 * - - - Service\n")
    assert _out_path(board, "uboot_config").read_text().endswith("CONFIG_BOOTDELAY=1\n")


def test_default_build_is_a_bundle_of_links(board):
    r = skiffeval(["build", "sk.sk", "--no-out-link", "--print-out-paths", "-q"], board)
    assert r.code == 0, r.err
    bundle = pathlib.Path(r.out.split()[0])
    assert sorted(os.listdir(bundle)) == ["busybox_config", "config", "external", "hooks", "kernel_config",
                                          "overlay", "patches", "uboot_config", "users"]


def test_show_derivation_of_config(board):
    r = skiffeval(["show-derivation", "sk.sk#config"], board)
    assert r.code == 0, r.err
    ((key, drv),) = json.loads(r.out).items()
    assert key.endswith(f"-{NAME}-configure.drv")
    assert drv["builder"] == "builtin:files" and drv["input_drvs"] == {}
    # every chain folder is a hashed source; no checkout path appears in the derivation
    assert sorted(drv["input_srcs"]) == ["a", "alpha", "b", "common", "core", "dev", "extra", "low", "mid",
                                         "overrides", "post", "pre", "top"]
    assert TREE not in r.out
    spec = json.loads(drv["env"]["spec"])
    assert spec["entries"]["skiff_config"]["text"].startswith("base/core,")
    assert "${sources.alpha}/buildroot/10-b" in spec["entries"]["buildroot/config"]["text"]


def test_show_derivation_of_a_view(board):
    r = skiffeval(["show-derivation", "sk.sk#kernel_config"], board)
    assert r.code == 0, r.err
    ((_, drv),) = json.loads(r.out).items()
    assert drv["builder"] == "builtin:copy"
    assert [name for name in drv["input_drvs"]] == [f"{NAME}-configure"]
    assert drv["env"]["src"] == f"${{inputs.{NAME}-configure.out}}/kernel/config"


def _tree_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy of the fixture tree (edited by the test) and ``sk.sk`` reading it for board/alpha."""
    import shutil

    root = tmp_path / "tree"
    shutil.copytree(TREE, root, symlinks=True)
    (tmp_path / "sk.sk").write_text(f'skiffos {{ root = {root}; config = "board/alpha"; }}\n')
    return root


def _derivation(tmp_path: pathlib.Path, attr: str) -> tuple[str, dict]:
    """(key, .drv document) of ``sk.sk#attr``."""
    r = skiffeval(["show-derivation", f"sk.sk#{attr}"], tmp_path)
    ((key, drv),) = json.loads(r.out).items()
    return key, drv


def test_an_edit_changes_only_what_reads_the_file(tmp_path):
    root = _tree_copy(tmp_path)
    key1, drv1 = _derivation(tmp_path, "config")
    (root / "configs" / "board" / "alpha" / "users" / "10-admin").write_text("x -1 x -1 =x /home/x /bin/sh - X\n")
    key2, drv2 = _derivation(tmp_path, "config")
    srcs1, srcs2 = drv1["input_srcs"], drv2["input_srcs"]
    assert key1 != key2
    assert {k for k in srcs1 if srcs1[k] != srcs2[k]} == {"alpha"}


def test_overrides_and_extra_paths(tmp_path):
    (tmp_path / "sk.sk").write_text(
        f'skiffos {{ root = {TREE}; config = "board/alpha,base/core"; extra_paths = [ {TREE}/extra ];\n'
        f'  overrides = {{ "base/core" = {TREE}/configs/util/extra; }}; }}\n')
    r = skiffeval(["build", "sk.sk", "-A", "config", "--no-out-link", "--print-out-paths", "-q"], tmp_path)
    assert r.code == 0, r.err
    text = (pathlib.Path(r.out.split()[0]) / "buildroot" / "config").read_text()
    assert "-alpha/buildroot/shadow\n" in text        # extra/board/alpha
    assert "-extra/buildroot/extra\n" in text         # base/core taken from util/extra's folder
    assert "-core/buildroot/core" not in text


@pytest.mark.parametrize(
    ("body", "code", "line", "message"),
    [
        (f'root = {TREE}; config = "board/alpha"; workspce = "x";', "E", 1, "unknown skiffos field 'workspce'"),
        (f'root = {TREE};', "E", 1, "'skiffos' needs 'config'"),
        ('root = "relative"; config = "a/b";', "E", 1, "an absolute path"),
        (f'root = {TREE}; config = "board/alpah";', "E261", 1, "unknown package 'board/alpah'"),
        (f'root = {TREE}; config = "extra/only"; extra_paths = [ "extra" ];', "E250", 1, "is relative"),
        (f'root = {TREE}; config = "base/core"; overrides = {{ "base/core" = {TREE}/nowhere; }};', "E253", 1, ""),
    ],
)
def test_builtin_errors(tmp_path, body, code, line, message):
    (tmp_path / "bad.sk").write_text(f"skiffos {{ {body} }}\n")
    r = skiffeval(["eval", "bad.sk", "-A", "chain"], tmp_path)
    assert r.code == 1, r.out
    assert f"error[{code}" in r.err and message in r.err, r.err
    assert "Traceback" not in r.err
    # every error names the .sk file that asked for it
    assert "bad.sk:1:" in r.err, r.err


def test_resolved_with_a_buildroot(tmp_path):
    (tmp_path / "sk.sk").write_text(f'skiffos {{ root = {TREE}; config = "{CONFIG}"; buildroot = {MINI_BUILDROOT}; }}\n')
    path = _out_path(tmp_path, "resolved")
    config = (path / "config").read_text()
    assert "BR2_x86_64=y\n" in config and "# BR2_PACKAGE_HTOP is not set\n" in config
    assert 'BR2_TARGET_OPTIMIZATION="-mcpu=fixture -O2  -pipe"\n' in config


def test_layers_lists_the_chain(board):
    r = skiffeval(["layers", "sk.sk"], board)
    assert r.code == 0
    assert "base/core" in r.out and "Fixture core." in r.out
    assert f"system {NAME}" in r.out


def test_bind_env_has_the_normalized_workspace(board):
    text = (_out_path(board, "config") / "bind_env.sh").read_text()
    assert 'export SKIFF_WORKSPACE="dev"\n' in text


def test_overlay_depends_only_on_folders_with_an_overlay(tmp_path):
    root = _tree_copy(tmp_path)
    key1, drv = _derivation(tmp_path, "overlay")
    srcs = sorted(drv["input_srcs"])
    (root / "configs" / "base" / "core" / "kernel" / "core").write_text("CONFIG_PRINTK=y\n")  # base/core has no overlay
    key2, _ = _derivation(tmp_path, "overlay")
    assert "core" not in srcs
    assert key1 == key2
