"""``skiffeval skiffos list`` and ``skiffeval skiffos resolve`` on the fixture trees."""

from __future__ import annotations

import json

import pytest

from tests.skiffos_e2e.e2e_helpers import TREE, skiffeval

LISTED = [
    ("apps/low", ""),
    ("apps/mid", ""),
    ("apps/top", ""),
    ("base/core", "Fixture core."),
    ("board/alpha", "Fixture board alpha."),
    ("cyc/a", ""),
    ("cyc/b", ""),
    ("util/extra", ""),
    ("util/with_under", ""),
]


def test_list_names_and_descriptions(tmp_path):
    r = skiffeval(["skiffos", "list", "--root", TREE], tmp_path)
    assert r.code == 0, r.err
    rows = [(line[:17].rstrip(), line[17:]) for line in r.out.splitlines()]
    assert rows == LISTED


def test_list_all_includes_unlisted_packages(tmp_path):
    r = skiffeval(["skiffos", "list", "--root", TREE, "--all", "--json"], tmp_path)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert [d["name"] for d in data if d["unlisted"]] == ["board/common", "util/loner"]
    assert [d["name"] for d in data] == sorted([n for n, _ in LISTED] + ["board/common", "util/loner"])
    assert {d["name"]: d["description"] for d in data}["base/core"] == "Fixture core."


def test_list_with_an_extra_path(tmp_path):
    r = skiffeval(["skiffos", "list", "--root", TREE, "--extra-configs-path", f"{TREE}/extra", "--json"], tmp_path)
    assert r.code == 0, r.err
    data = {d["name"]: d["description"] for d in json.loads(r.out)}
    assert "extra/only" in data
    assert data["board/alpha"] == ""  # extra/board/alpha (no description) shadows configs/board/alpha


def test_list_reports_folders_that_are_not_packages(tmp_path):
    from tests.skiffos_e2e.e2e_helpers import BROKEN

    r = skiffeval(["skiffos", "list", "--root", BROKEN], tmp_path)
    assert r.code == 0
    assert f"{BROKEN}/configs/bad/my-pkg:1:1: warning[W253]: 'bad/my-pkg' is not a package" in r.err
    assert "bad/my-pkg" not in r.out


def test_list_in_skiffos_order(tmp_path):
    from tests.skiffos.skiffos_helpers import write_tree

    root = write_tree(tmp_path / "t", {"configs/a/b/metadata/description": "b\n",
                                       "configs/a/b2/metadata/description": "b2\n"})
    r = skiffeval(["skiffos", "list", "--root", root, "--json"], tmp_path)
    assert [d["name"] for d in json.loads(r.out)] == ["a/b2", "a/b"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # dependencies land just before the first package that needs them, transitively
        ("apps/top", ["apps/low", "apps/mid", "apps/top"]),
        ("board/alpha,apps/top,cyc/a",
         ["base/core", "board/common", "util/extra", "board/alpha", "apps/low", "apps/mid", "apps/top", "cyc/b", "cyc/a"]),
        # a dependency the user listed stays where the user put it
        ("apps/mid,apps/low", ["apps/mid", "apps/low"]),
        # a later package's dependency inserted after an earlier package that needs it too
        ("board/alpha,board/common", ["util/extra", "board/alpha", "base/core", "board/common"]),
        # separators: commas, blanks; a repeated name is kept once
        ("apps/low  apps/mid,apps/low", ["apps/low", "apps/mid"]),
        # a cycle terminates
        ("cyc/a", ["cyc/b", "cyc/a"]),
        # the name as written (SkiffOS compares upper-cased keys)
        ("util/with/under", ["util/with/under"]),
    ],
)
def test_resolve_in_skiffos_order(tmp_path, config, expected):
    r = skiffeval(["skiffos", "resolve", "--root", TREE, "--config", config], tmp_path)
    assert r.code == 0, r.err
    assert r.out.splitlines() == expected


def test_resolve_json_gives_the_whole_chain(tmp_path):
    r = skiffeval(["skiffos", "resolve", "--root", TREE, "--config", "board/alpha", "--workspace", "Dev",
                   "--extra-configs-path", f"{TREE}/extra", "--json"], tmp_path)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    # extra/board/alpha shadows configs/board/alpha, and has no dependencies
    assert data["skiff_config"] == "board/alpha"
    assert data["packages"] == ["board/alpha"]
    assert [(e["role"], e["name"], e["path"]) for e in data["chain"]] == [
        ("pre", "configs-base/pre", f"{TREE}/configs-base/pre"),
        ("package", "board/alpha", f"{TREE}/extra/board/alpha"),
        ("overrides", "overrides", f"{TREE}/overrides"),
        ("workspace", "overrides/workspaces/dev", f"{TREE}/overrides/workspaces/dev/"),
        ("post", "configs-base/post", f"{TREE}/configs-base/post"),
    ]
    assert [d["code"] for d in json.loads(r.err)["diagnostics"]] == ["W259"]


def test_extra_paths_colon_separated_or_repeated(tmp_path):
    one = skiffeval(["skiffos", "resolve", "--root", TREE, "--config", "extra/only", "--json",
                     "--extra-configs-path", f"{TREE}/extra:{TREE}/configs"], tmp_path)
    two = skiffeval(["skiffos", "resolve", "--root", TREE, "--config", "extra/only", "--json",
                     "--extra-configs-path", f"{TREE}/extra", "--extra-configs-path", f"{TREE}/configs"], tmp_path)
    assert one.code == two.code == 0
    assert json.loads(one.out) == json.loads(two.out)
    assert json.loads(one.out)["packages"] == ["base/core", "extra/only"]
