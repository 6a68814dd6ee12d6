"""The chain: pre, packages, overrides, the workspace override, post; and load()."""

from __future__ import annotations

import pytest

from skiffeval.skiffos.chain import Role, build_chain, load, normalize_workspace
from skiffeval.skiffos.codes import SkiffosError
from skiffeval.skiffos.discovery import discover
from skiffeval.skiffos.resolve import resolve

from skiffos_helpers import codes_of


def test_chain_order_and_paths(tree):
    chain = load(tree, "apps/top", workspace="dev")
    assert [(e.role, e.name) for e in chain.entries] == [
        (Role.PRE, "configs-base/pre"),
        (Role.PACKAGE, "apps/low"),
        (Role.PACKAGE, "apps/mid"),
        (Role.PACKAGE, "apps/top"),
        (Role.OVERRIDES, "overrides"),
        (Role.WORKSPACE, "overrides/workspaces/dev"),
        (Role.POST, "configs-base/post"),
    ]
    assert chain.paths[0] == f"{tree}/configs-base/pre"
    # SkiffOS writes the workspace override folder with a trailing slash
    assert chain.paths[-2] == f"{tree}/overrides/workspaces/dev/"
    assert chain.entries[-2].package.buildroot == ("buildroot/ws",)
    assert [e.name for e in chain.packages] == ["apps/low", "apps/mid", "apps/top"]
    assert chain.packages[0].selected.required_by == "apps/mid"


def test_missing_workspace_override_is_empty(tree):
    chain = load(tree, "base/core")
    ws = chain.entries[-2]
    assert ws.path == f"{tree}/overrides/workspaces/default/"
    assert not ws.package.exists


@pytest.mark.parametrize(
    ("given", "used"),
    [("default", "default"), ("Dev", "dev"), ("my ws!", "myws"), ("", "default"), ("!!", "default"),
     ("a[1].b_c-d", "a[1].b_c-d")],
)
def test_workspace_names_as_skiffos_rewrites_them(given, used):
    assert normalize_workspace(given) == used


def test_renamed_workspace_warns(tree):
    chain = load(tree, "base/core", workspace="Dev")
    assert chain.workspace == "dev"
    assert codes_of(chain.warnings) == ["W259"]


def test_external_trees_in_chain_order(tree):
    chain = load(tree, "board/alpha")
    assert chain.external_trees == (f"{tree}/configs/board/alpha/buildroot_ext",)


def test_duplicate_external_tree_names(broken):
    d = discover(broken)
    with pytest.raises(SkiffosError) as info:
        build_chain(d, resolve("dup/one,dup/two", d))
    err = info.value
    assert codes_of(err) == ["E271"]
    assert err.span.file.endswith("configs/dup/two/buildroot_ext/external.desc")
    assert err.message == "external tree name 'DUP' of 'dup/two' is already used by 'dup/one'"
    assert err.related[0].span.file.endswith("configs/dup/one/buildroot_ext/external.desc")


def test_load_collects_warnings_of_every_step(tree):
    chain = load(tree, "board/alpha,cyc/a", extra_paths=f"{tree}/nope", workspace="X")
    assert codes_of(chain.warnings) == ["W255", "W251", "W259", "W258"]


def test_load_uses_extra_paths_and_overrides(tree):
    chain = load(tree, "board/alpha", extra_paths=[f"{tree}/extra"])
    alpha = chain.packages[-1]
    assert alpha.path == f"{tree}/extra/board/alpha"
    assert alpha.package.buildroot == ("buildroot/shadow",)
    assert alpha.package.dependencies == ()
    chain = load(tree, "board/alpha", overrides={"board/alpha": f"{tree}/configs/base/core"})
    assert chain.packages[-1].path == f"{tree}/configs/base/core"
