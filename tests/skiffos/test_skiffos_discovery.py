"""Discovery: folders two levels deep, first definition wins, what is ignored and why."""

from __future__ import annotations

import os

import pytest

from skiffeval.skiffos.codes import SkiffosError
from skiffeval.skiffos.discovery import discover

from skiffos_helpers import codes_of, only, write_tree


def test_fixture_packages_and_paths(tree):
    d = discover(tree)
    assert d.names == (
        "apps/low", "apps/mid", "apps/top", "base/core", "board/alpha", "board/common",
        "cyc/a", "cyc/b", "util/extra", "util/loner", "util/with_under",
    )
    alpha = d.find("BOARD_ALPHA")
    assert alpha.path == f"{tree}/configs/board/alpha"
    assert alpha.origin.kind == "configs"
    assert d.warnings == ()


def test_extra_paths_come_before_configs_and_shadow_it(tree):
    extra = f"{tree}/extra/"
    d = discover(tree, extra)
    alpha = d.find("BOARD_ALPHA")
    # "<entry>/<name>" with "//" collapsed, as SkiffOS's sed does
    assert alpha.path == f"{tree}/extra/board/alpha"
    assert (alpha.origin.kind, alpha.origin.index) == ("extra", 0)
    assert [s.path for s in d.shadowed] == [f"{tree}/configs/board/alpha"]
    assert d.find("EXTRA_ONLY").name == "extra/only"


def test_overrides_come_first_in_any_spelling(tree):
    target = f"{tree}/configs/util/loner"
    for key in ("SKIFF_CONFIG_PATH_BOARD_ALPHA", "BOARD_ALPHA", "board/alpha"):
        d = discover(tree, f"{tree}/extra", {key: target})
        ref = d.find("BOARD_ALPHA")
        assert (ref.path, ref.origin.kind, ref.name) == (target, "override", "board/alpha")
        assert len(d.shadowed) == 2


def test_override_without_folder_elsewhere_is_named_after_its_key(tree):
    d = discover(tree, (), {"NEW_THING": f"{tree}/configs/util/loner"})
    assert d.find("NEW_THING").name == "NEW_THING"


def test_relative_extra_path_is_an_error_pointing_into_the_variable(tree):
    with pytest.raises(SkiffosError) as info:
        discover(tree, f"{tree}/extra:rel/configs")
    err = info.value
    assert codes_of(err) == ["E250"]
    start = len(f"{tree}/extra:") + 1
    assert (err.span.file, err.span.line, err.span.col) == ("SKIFF_EXTRA_CONFIGS_PATH", 1, start)
    assert "extra configs path 'rel/configs' is relative" in err.message


def test_relative_override_is_an_error(tree):
    with pytest.raises(SkiffosError) as info:
        discover(tree, (), {"BOARD_ALPHA": "configs/board/alpha"})
    assert codes_of(info.value) == ["E250"]
    assert info.value.span.file == "SKIFF_CONFIG_PATH_BOARD_ALPHA"


def test_empty_and_missing_extra_entries_are_warnings(tree, tmp_path):
    d = discover(tree, f"{tmp_path}/nope::{tree}/extra:")
    ws = only(d.warnings, "W255")
    assert [(w.span.col, w.message) for w in ws] == [
        (1, f"extra configs path '{tmp_path}/nope' is not a folder; SkiffOS ignores it"),
        (len(f"{tmp_path}/nope:") + 1, "empty entry in the extra configs paths; SkiffOS ignores it"),
        (len(f"{tmp_path}/nope::{tree}/extra:") + 1, "empty entry in the extra configs paths; SkiffOS ignores it"),
    ]
    assert d.find("EXTRA_ONLY") is not None


def test_invalid_folder_names_are_ignored_with_a_warning_hidden_ones_silently(broken, tmp_path):
    d = discover(broken)
    assert d.find("BAD_MY-PKG") is None
    assert [(f.name, f.reason) for f in d.ignored] == [("bad/my-pkg", "invalid characters")]
    (w,) = only(d.warnings, "W253")
    assert w.span.file == f"{broken}/configs/bad/my-pkg"
    assert "'bad/my-pkg' is not a package" in w.message
    # an underscore is fine for discovery, even in the category
    assert d.find("MY_CAT_PKG").name == "my_cat/pkg"

    root = write_tree(tmp_path, {"configs/.git/hooks/x": "", "configs/a/b/.keep": ""})
    d = discover(root)
    assert d.names == ("a/b",) and d.warnings == ()
    assert [f.name for f in d.ignored] == [".git/hooks"]


def test_symlinked_package_folders_are_not_followed(tmp_path):
    root = write_tree(tmp_path / "t", {"configs/a/real/buildroot/x": "", "elsewhere/pkg/buildroot/y": ""})
    os.symlink(tmp_path / "t" / "elsewhere" / "pkg", tmp_path / "t" / "configs" / "a" / "linked")
    d = discover(root)
    assert d.names == ("a/real",)
    (w,) = only(d.warnings, "W253")
    assert "'a/linked' is a symbolic link" in w.message


def test_two_folders_with_one_key_warn_and_byte_order_wins(tmp_path):
    root = write_tree(tmp_path, {"configs/a/b_c/.keep": "", "configs/a_b/c/.keep": ""})
    d = discover(root)
    assert d.find("A_B_C").name == "a/b_c"
    (w,) = only(d.warnings, "W254")
    assert w.message.startswith("'a_b/c' and 'a/b_c' share the key 'A_B_C'")


def test_root_must_be_a_skiffos_checkout(tmp_path):
    with pytest.raises(SkiffosError) as info:
        discover(tmp_path)
    assert codes_of(info.value) == ["E251"]
    with pytest.raises(SkiffosError) as info:
        discover("relative/root")
    assert codes_of(info.value) == ["E250"]


def test_root_with_a_blank_is_unsafe(tmp_path):
    root = write_tree(tmp_path / "with space", {"configs/a/b/.keep": ""})
    with pytest.raises(SkiffosError) as info:
        discover(root)
    assert codes_of(info.value) == ["E252"]
    assert info.value.span.file == root
    assert "' '" in info.value.message


def test_trailing_slash_of_root_is_dropped(tree):
    d = discover(tree + "/")
    assert d.root == tree
    assert d.find("BASE_CORE").path == f"{tree}/configs/base/core"
