"""Name rules: keys, SKIFF_CONFIG splitting, which names SkiffOS keeps."""

from __future__ import annotations

import pytest

from skiffeval.skiffos.names import (
    has_valid_key,
    is_package_folder_name,
    is_selectable,
    normalize_override_key,
    package_key,
    split_config,
)


@pytest.mark.parametrize(
    ("name", "key"),
    [("odroid/xu4", "ODROID_XU4"), ("PI/4", "PI_4"), ("a/b/c", "A_B_C"), ("a/b_c", "A_B_C"), ("é/x", "é_X")],
)
def test_key_upper_cases_ascii_and_turns_slashes_into_underscores(name, key):
    assert package_key(name) == key


def test_split_config_on_commas_and_blanks_keeping_offsets():
    toks = split_config("  pi/4,, skiff/core\tapps/docker\n")
    assert [(t.text, t.start, t.end) for t in toks] == [
        ("pi/4", 2, 6),
        ("skiff/core", 9, 19),
        ("apps/docker", 20, 31),
    ]


def test_split_config_keeps_other_whitespace_inside_a_piece():
    # only space, tab, newline (IFS) and comma separate; a CR stays part of the name
    assert [t.text for t in split_config("pi/4\r,x/y")] == ["pi/4\r", "x/y"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [("pi/4", True), ("Pi4x/a-b", True), ("my_cat/x", False), ("pi", False), ("/x", False),
     ("a" * 100 + "/x", True), ("a" * 101 + "/x", False)],
)
def test_selectable_needs_1_to_100_alnum_then_slash(name, ok):
    assert is_selectable(name) is ok


def test_valid_key_and_folder_names():
    assert has_valid_key("apps/docker") and has_valid_key("a/b/c")
    assert not has_valid_key("apps/my-pkg") and not has_valid_key("a/b\\c")
    assert is_package_folder_name("util/with_under")
    assert not is_package_folder_name("bad/my-pkg") and not is_package_folder_name(".git/hooks")


def test_override_keys_in_three_spellings():
    assert normalize_override_key("SKIFF_CONFIG_PATH_ODROID_XU4") == "ODROID_XU4"
    assert normalize_override_key("ODROID_XU4") == "ODROID_XU4"
    assert normalize_override_key("odroid/xu4") == "ODROID_XU4"
