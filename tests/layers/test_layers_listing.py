"""``skiffeval layers DIR|BOARD``: the layers found under a directory or reachable from a board,
with their descriptions; unlisted ones only with ``--all``; ``--json``."""

from __future__ import annotations

import json
import shutil

import pytest

from skiffeval.session import default_layers_dir
from tests.layers.helpers import cli, prepare, write

LIB_LINES = [
    "cyc/x",
    "cyc/y",
    "fx/app       an application layer on fx/base",
    "fx/base      every layer field once",
    "fx/ext2      a second external tree",
    "fx/problems  requests the report must explain",
    "ord/a        ordering fixture a",
    "ord/b        ordering fixture b",
    "ord/c        ordering fixture c",
    "ord/d        ordering fixture d",
    "ord/e        ordering fixture e",
]


@pytest.fixture
def root(tmp_path):
    return prepare(tmp_path)


def lines(out: str) -> list[str]:
    return [line.rstrip() for line in out.splitlines()]


def test_a_directory(root):
    result = cli(["layers", "lib"], cwd=root)
    assert result.code == 0, result.err
    assert lines(result.out) == LIB_LINES


def test_a_directory_with_all(root):
    result = cli(["layers", "lib", "--all"], cwd=root)
    assert result.code == 0, result.err
    assert "fx/hidden    a layer only --all lists" in lines(result.out)
    assert len(lines(result.out)) == len(LIB_LINES) + 1


def test_a_directory_as_json(root):
    result = cli(["layers", "lib", "--json", "--all"], cwd=root)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    by_name = {e["name"]: e for e in doc["layers"]}
    assert by_name["fx/app"] == {
        "name": "fx/app", "description": "an application layer on fx/base", "unlisted": False,
        "file": "lib/fx/app.sk", "depends": ["fx/base"],
    }
    assert by_name["fx/hidden"]["unlisted"] is True
    assert by_name["ord/a"]["depends"] == ["ord/c", "ord/d"]
    assert doc["systems"] == []


def test_a_board(root):
    result = cli(["layers", "boards/full.sk"], cwd=root)
    assert result.code == 0, result.err
    assert lines(result.out) == [
        "fx/app   an application layer on fx/base",
        "fx/base  every layer field once",
        "fx/ext2  a second external tree",
        "",
        "system full (boards/full.sk): fx/base, fx/app, fx/ext2",
    ]


def test_a_board_as_json(root):
    result = cli(["layers", "boards/order.sk", "--json"], cwd=root)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["systems"] == [{"name": "order", "file": "boards/order.sk", "layers": ["ord/c", "ord/d", "ord/a", "ord/e", "ord/b"]}]
    assert [e["name"] for e in doc["layers"]] == ["ord/a", "ord/b", "ord/c", "ord/d", "ord/e"]


def test_a_board_names_the_file_of_each_layer(root):
    doc = json.loads(cli(["layers", "boards/full.sk", "--json"], cwd=root).out)
    assert {e["name"]: e["file"] for e in doc["layers"]} == {
        "fx/app": "lib/fx/app.sk", "fx/base": "lib/fx/base.sk", "fx/ext2": "lib/fx/ext2.sk"}


def test_unlisted_layers_of_a_board_need_all(root):
    write(root, {"board2.sk": 'system { name = "h"; layers = [ (import ./lib/fx/hidden.sk { }) (import ./lib/fx/ext2.sk { }) ]; }'})
    assert lines(cli(["layers", "board2.sk"], cwd=root).out)[0] == "fx/ext2  a second external tree"
    assert lines(cli(["layers", "board2.sk", "--all"], cwd=root).out)[:2] == [
        "fx/ext2    a second external tree", "fx/hidden  a layer only --all lists"]


def test_a_file_that_fails_is_reported_and_the_others_listed(root):
    write(root, {"lib/zz/broken.sk": 'layer { name = "zz/broken"; descripton = "typo"; }'})
    result = cli(["layers", "lib", "--no-color"], cwd=root)
    assert result.code == 1
    assert lines(result.out) == LIB_LINES
    assert "lib/zz/broken.sk:1:29: error[E152]: unknown layer field 'descripton'" in result.err
    assert "error[E152]: 1 file could not be listed (see above)" in result.err


def test_the_default_directory_is_layers(tmp_path):
    shutil.copytree(default_layers_dir(), tmp_path / "layers", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    result = cli(["layers", "--json"], cwd=tmp_path)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    names = [e["name"] for e in doc["layers"]]
    assert names == ["apps/docker", "pi/4", "qemu/aarch64", "qemu/x86_64", "skiff/base", "skiff/container-host",
                     "skiff/network", "skiff/ssh", "skiff/systemd"]
    assert all(e["description"] for e in doc["layers"])  # every layer of the library says what it is
    assert sorted(s["name"] for s in doc["systems"]) == ["pi4", "qemu-aarch64", "qemu-x86_64"]
