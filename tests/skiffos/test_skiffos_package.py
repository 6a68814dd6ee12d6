"""Reading one package folder: byte order, dot files, hooks, commands, external trees, errors."""

from __future__ import annotations

import os

import pytest

from skiffeval.skiffos.codes import Diagnostics
from skiffeval.skiffos.discovery import Origin
from skiffeval.skiffos.package import read_package

from skiffos_helpers import codes_of, only

ORIGIN = Origin("configs", "fixture")


def read(root, name, **kw):
    diags = Diagnostics()
    pkg = read_package(f"{root}/configs/{name}", name, ORIGIN, diags, **kw)
    return pkg, diags


def test_kitchen_sink_package(tree):
    pkg, diags = read(tree, "board/alpha")
    # byte order: digits before upper case before lower case; "10-b" before "2-a"; dot files skipped
    assert pkg.buildroot == ("buildroot/10-b", "buildroot/2-a", "buildroot/B", "buildroot/a")
    assert pkg.kernel == ("kernel/10-net", "kernel/20-local")
    assert pkg.cflags == ("cflags/10-arch", "cflags/20-comments", "cflags/30-last")
    assert pkg.users == ("users/10-admin",)
    assert (pkg.uboot, pkg.busybox) == ((), ())
    assert pkg.root_overlay == "root_overlay"
    assert pkg.kernel_patches == "kernel_patches" and pkg.buildroot_patches == "buildroot_patches"
    assert pkg.uboot_patches is None
    assert (pkg.pre_hook, pkg.post_hook) == ("hooks/pre.sh", "hooks/post.sh")
    assert pkg.buildroot_ext.name == "FIXTURE_ALPHA"
    assert pkg.buildroot_ext.description == "Fixture alpha packages"
    assert (pkg.resources, pkg.scripts, pkg.extensions) == ("resources", "scripts", "extensions")
    assert pkg.description == "Fixture board alpha."
    assert [d.name for d in pkg.dependencies] == ["board/common", "util/extra"]
    assert [(d.span.line, d.span.col) for d in pkg.dependencies] == [(1, 1), (1, 14)]
    # commands: commas become blanks, blanks collapse; a lone word is skipped with a warning
    assert [(c.name, c.description, c.span.line) for c in pkg.commands] == [
        ("flash", "Write the image to a card.", 1),
        ("dump", "Show the state", 3),
    ]
    assert codes_of(diags.all) == ["W258"]
    assert pkg.file("buildroot/a") == f"{tree}/configs/board/alpha/buildroot/a"


def test_flags_metadata(tree):
    pkg, _ = read(tree, "util/loner")
    assert pkg.unlisted and pkg.build_target == "loner-image"
    pkg, _ = read(tree, "base/core")
    assert not pkg.unlisted and pkg.build_target is None and pkg.dependencies == ()


def test_missing_folder_is_an_empty_package(tree):
    pkg, diags = read(tree, "no/such")
    assert not pkg.exists and pkg.buildroot == () and diags.all == ()


def test_base_folders_do_not_read_metadata(tree):
    diags = Diagnostics()
    pkg = read_package(f"{tree}/configs-base/pre", "configs-base/pre", ORIGIN, diags, metadata=False)
    assert pkg.dependencies == () and diags.all == ()
    assert pkg.pre_hook == "hooks/pre.sh"


def test_external_tree_missing_files(broken):
    pkg, diags = read(broken, "bad/ext")
    assert codes_of(diags.all) == ["E270", "E270"]
    assert [d.message for d in diags.errors] == [
        "external tree 'buildroot_ext' has no 'Config.in'",
        "external tree 'buildroot_ext' has no 'external.mk'",
    ]
    assert diags.errors[0].span.file == f"{broken}/configs/bad/ext/buildroot_ext"


def test_external_tree_bad_name(broken):
    _, diags = read(broken, "bad/extname")
    (e,) = diags.errors
    assert e.code.code == "E270"
    assert e.span.file.endswith("bad/extname/buildroot_ext/external.desc")
    assert e.message == "external tree name: expected letters, digits and '_', found 'my-ext'"


def test_folder_inside_a_fragment_folder(broken):
    pkg, diags = read(broken, "bad/dirfrag")
    (e,) = diags.errors
    assert e.code.code == "E272"
    assert e.span.file == f"{broken}/configs/bad/dirfrag/buildroot/sub"
    assert e.message == "'buildroot/sub' is a folder; SkiffOS reads every entry of 'buildroot/' as a file"
    assert pkg.buildroot == ("buildroot/ok",)


@pytest.mark.parametrize(("name", "bad"), [("bad/spacename", "' '"), ("bad/percent", "'%'")])
def test_file_names_shell_scripts_would_split_or_rewrite(broken, name, bad):
    _, diags = read(broken, name)
    (e,) = diags.errors
    assert e.code.code == "E252"
    assert bad in e.message


def test_typos_get_did_you_mean(broken):
    _, diags = read(broken, "bad/typo")
    ws = only(diags.warnings, "W256")
    assert [(os.path.basename(w.span.file), w.help) for w in ws] == [
        ("pre-sh", ("did you mean 'hooks/pre.sh'?",)),
        ("kernel_patch", ("did you mean 'kernel_patches'?",)),
        ("dependency", ("did you mean 'metadata/dependencies'?",)),
    ]


def test_hook_that_is_not_executable(broken):
    _, diags = read(broken, "bad/hooknox")
    (w,) = diags.warnings
    assert (w.code.code, w.span.file) == ("W257", f"{broken}/configs/bad/hooknox/hooks/pre.sh")


def test_commands_skiffos_never_reads(broken):
    pkg, diags = read(broken, "bad/cmds")
    assert [c.name for c in pkg.commands] == ["go"]
    ws = diags.warnings
    assert codes_of(ws) == ["W258", "W258"]
    assert [(w.span.line, w.message) for w in ws] == [
        (2, "command 'lonely' has no description, so SkiffOS ignores it"),
        (3, "the last line of metadata/commands has no newline, so SkiffOS never reads it"),
    ]


def test_commands_without_extensions_folder(broken):
    pkg, diags = read(broken, "bad/nocmds")
    assert pkg.commands == ()
    (w,) = diags.warnings
    assert w.message == "metadata/commands is ignored: the package has no 'extensions' folder"


def test_command_names_the_shell_cannot_hold(broken):
    _, diags = read(broken, "bad/badcmd")
    (e,) = diags.errors
    assert (e.code.code, e.span.line) == ("E273", 1)
    assert e.message == "invalid command name 'do.it': expected letters, digits, '_' or '-'"
