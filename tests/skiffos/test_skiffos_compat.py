"""SkiffOS's text transformations, and the whole ``make configure`` replay on the fixture tree.

The golden files under ``golden/alpha-top-cyc`` were written by SkiffOS's own
``make configure`` run on the fixture tree (root replaced by ``@ROOT@``); set
``SKIFFEVAL_ACCEPT=1`` to rewrite them from skiffeval's output after an intended change.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.skiffos import compat
from skiffeval.skiffos.chain import load
from skiffeval.skiffos.codes import SkiffosError
from skiffeval.skiffos.configure import ConfigureParams, configure

from skiffos_helpers import codes_of, only

GOLDEN = pathlib.Path(__file__).parent / "golden"


# --- merge_config.sh -m ---------------------------------------------------------------------


def test_merge_removes_earlier_assignments_of_what_the_fragment_sets():
    merged = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n"
    assert compat.merge_fragment(merged, "CONFIG_B=y\n# CONFIG_A is not set\n") == (
        "CONFIG_C=m\nCONFIG_B=y\n# CONFIG_A is not set\n"
    )


def test_merge_deletion_is_unanchored():
    merged = "CONFIG_MY_CONFIG_X=y\n# about CONFIG_X here\n# CONFIG_XY is not set\nCONFIG_X=m\n"
    # every line containing "CONFIG_X=" or "CONFIG_X " goes, whatever precedes it
    assert compat.merge_fragment(merged, "CONFIG_X=y\n") == "# CONFIG_XY is not set\nCONFIG_X=y\n"


def test_merge_needs_a_whole_word_occurrence_first():
    # CONFIG_X only occurs inside CONFIG_XY: grep -w fails, nothing is deleted
    merged = "CONFIG_XY=y\n"
    assert compat.merge_fragment(merged, "CONFIG_X=y\n") == "CONFIG_XY=y\nCONFIG_X=y\n"


def test_merge_of_buildroot_symbols_is_plain_concatenation():
    merged = "BR2_A=y\n"
    assert compat.merge_fragment(merged, "BR2_A=n\n") == "BR2_A=y\nBR2_A=n\n"
    assert compat.merge_fragment(merged, "BR2_A=n\n", prefix="BR2_") == "BR2_A=n\n"


def test_merge_keeps_missing_final_newlines():
    assert compat.merge_fragment("CONFIG_A=y", "CONFIG_B=y") == "CONFIG_A=yCONFIG_B=y"
    assert compat.merge_fragment("x\nCONFIG_A=y", "CONFIG_A=n") == "x\nCONFIG_A=n"


def test_header_ends_a_fragment_without_newline():
    text = compat.fragment_header("/r/configs/a/b/buildroot/x")
    assert text == "\n# Configuration from /r/configs/a/b/buildroot/x\n"
    assert compat.merge_fragment("BR2_A=y" + text, "BR2_B=y\n") == (
        "BR2_A=y\n# Configuration from /r/configs/a/b/buildroot/x\nBR2_B=y\n"
    )


# --- printf, sed ------------------------------------------------------------------------------


def test_printf_escapes_and_percent():
    assert compat.printf_text("a\\tb\\\\c %% \\q\\101") == "a\tb\\c % \\qA"
    with pytest.raises(SkiffError) as info:
        compat.printf_text("50%s")
    assert info.value.code.code == "E274"


def test_config_root_substitution():
    assert compat.substitute_config_root("X=SKIFF_CONFIG_ROOT/a SKIFF_CONFIG_ROOT", "/p/q") == "X=/p/q/a /p/q"
    with pytest.raises(SkiffError):
        compat.substitute_config_root("x", "/p&q")


def test_placeholders_in_order_commit_before_version():
    text = "V=REPLACEME_SKIFF_VERSION C=REPLACEME_SKIFF_VERSION_COMMIT D=REPLACEME_FINAL_CONFIG_DIR/users\n"
    values = {"REPLACEME_SKIFF_VERSION": "1.0", "REPLACEME_SKIFF_VERSION_COMMIT": "abc",
              "REPLACEME_FINAL_CONFIG_DIR": "/w/.config_x/"}
    assert compat.replace_placeholders(text, values) == "V=1.0 C=abc D=/w/.config_x//users\n"
    assert compat.replace_placeholders("REPLACEME_BR_PATCHES", {}) == ""
    with pytest.raises(SkiffError):
        compat.replace_placeholders("REPLACEME_ROOTFS_OVERLAY", {"REPLACEME_ROOTFS_OVERLAY": "a@b"})


# --- cflags, users, hooks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("-O2\n-pipe\n", "-O2 -pipe "),
        ("# c\n  # d\n\t#e\n-O2", "-O2"),
        ("-O2\n# last comment without newline", "-O2 "),
        ("\n\n", "  "),
        ("# only\n", ""),
        ("", ""),
    ],
)
def test_cflags_of(text, flags):
    assert compat.cflags_of(text) == flags


def test_cflags_header_names_the_buildroot_folder():
    assert compat.cflags_header("/p/buildroot", "f", "-O2 ") == (
        '\n# Configuration from /p/buildroot/f\n# CFLAGS: "-O2 "\n'
    )
    assert compat.join_cflags(["-O2 ", "-pipe"]) == "-O2  -pipe"
    assert compat.optimization_fragment("-O2") == 'BR2_TARGET_OPTIMIZATION="-O2"\n'


def test_hook_wrappers_and_users():
    assert compat.hook_script_header("/c//bind_env.sh", "/w/ws") == (
        "#!/bin/bash\nset -eo pipefail\nsource /c//bind_env.sh\ncd /w/ws\n"
    )
    assert compat.hook_lines("/p/hooks/pre.sh", "/p") == (
        'echo "$(tput smso)Executing hook: /p/hooks/pre.sh$(tput sgr0)"\n'
        'SKIFF_CURRENT_CONF_DIR="/p" /p/hooks/pre.sh\n'
    )
    assert compat.concat_users(["a", "b\n"]) == "ab\n"
    assert compat.ccache_line("/c") == 'BR2_CCACHE_DIR="/c"\n'


# --- the whole replay -------------------------------------------------------------------------


def test_configure_matches_what_skiffos_wrote(tree):
    chain = load(tree, "board/alpha,apps/top,cyc/a", workspace="Dev")
    out = configure(chain, ConfigureParams.skiffos_defaults(tree, chain.workspace))
    folder = GOLDEN / "alpha-top-cyc"
    for rel, text in out.files().items():
        golden = folder / rel.replace("/", "_")
        got = text.replace(tree, "@ROOT@")
        if os.environ.get("SKIFFEVAL_ACCEPT"):
            golden.write_text(got)
        assert got == golden.read_text(), rel
    assert out.br2_external == (f"{tree}/configs/board/alpha/buildroot_ext",)
    assert codes_of(out.warnings) == ["W262", "W260"]
    assert out.warnings[0].span.file.endswith("board/alpha/cflags/20-comments")
    assert out.warnings[1].span.file.endswith("board/common/users/20-guest")


def test_configure_reads_through_the_injected_reader(tree):
    chain = load(tree, "base/core")
    seen = []

    def reader(path):
        seen.append(path)
        return "BR2_INJECTED=y\n" if "/buildroot/" in path else ""

    out = configure(chain, ConfigureParams.skiffos_defaults(tree, "default"), read=reader)
    assert f"{tree}/configs/base/core/buildroot/core" in seen
    assert out.buildroot_config.count("BR2_INJECTED=y") == 5  # pre x2, core, overrides, post


def test_optimization_set_by_hand_is_overridden(broken):
    chain = load(broken, "bad/optim")
    out = configure(chain, ConfigureParams.skiffos_defaults(broken, "default"))
    w = only(out.warnings, "W261")[0]
    assert (w.span.file, w.span.line, w.span.col) == (f"{broken}/configs/bad/optim/buildroot/opt", 2, 1)
    assert codes_of(out.warnings) == ["W262", "W261"]
    assert out.buildroot_config.endswith('BR2_TARGET_OPTIMIZATION="-O3 "\n')
    assert out.cflags == "-O3 \n"


def test_users_without_final_newline(broken):
    chain = load(broken, "bad/users1,bad/users2")
    out = configure(chain, ConfigureParams.skiffos_defaults(broken, "default"))
    (w,) = out.warnings
    assert (w.code.code, w.span.line) == ("W260", 1)
    assert out.users == "alpha -1 alpha -1 =a /home/a /bin/sh - Abeta -1 beta -1 =b /home/b /bin/sh - B\n"


def test_unsafe_file_names_stop_the_chain(broken):
    with pytest.raises(SkiffosError) as info:
        load(broken, "bad/percent")
    assert codes_of(info.value) == ["E252"]


def test_cflags_with_a_printf_directive_point_at_the_file(tmp_path):
    from skiffos_helpers import write_tree

    root = write_tree(tmp_path, {"configs/a/b/cflags/f": "-DX=50%d\n"})
    chain = load(root, "a/b")
    with pytest.raises(SkiffError) as info:
        configure(chain, ConfigureParams.skiffos_defaults(root, "default"))
    err = info.value
    assert (err.code.code, err.span.file) == ("E274", f"{root}/configs/a/b/cflags/f")
    assert err.notes[-1].message == "while merging the configuration of 'a/b'"
