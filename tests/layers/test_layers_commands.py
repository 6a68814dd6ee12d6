"""Layer commands: ``commands = { name = { script; description; }; name = "text"; }`` and
``skiffeval run BOARD [COMMAND ARGS...]`` (like SkiffOS's ``make cmd/<pkg>/<cmd>``)."""

from __future__ import annotations

import json

import pytest

from tests.layers.helpers import cli, json_diagnostics, prepare, write


@pytest.fixture
def root(tmp_path):
    return prepare(tmp_path)


def test_list_the_commands(root):
    result = cli(["run", "boards/full.sk", "--list"], cwd=root)
    assert result.code == 0, result.err
    assert [line.rstrip() for line in result.out.splitlines()] == ["fx/base/fail", "fx/base/hello  say hello"]
    result = cli(["run", "boards/full.sk", "--list", "--json"], cwd=root)
    assert json.loads(result.out) == [
        {"layer": "fx/base", "name": "fail", "description": ""},
        {"layer": "fx/base", "name": "hello", "description": "say hello"},
    ]


def test_run_a_command_with_the_system_at_hand(root, capfd):
    result = cli(["run", "boards/full.sk", "hello", "a", "b"], cwd=root)
    assert result.code == 0, result.err
    out = capfd.readouterr().out  # the command writes to the real standard output
    assert out.splitlines() == ["hello a b from fx/base of full", "greeting from fx/base resources", "config at hand"]


def test_a_command_by_its_full_name(root, capfd):
    assert cli(["run", "boards/full.sk", "fx/base/hello"], cwd=root).code == 0
    assert capfd.readouterr().out.startswith("hello  from fx/base of full")


def test_a_failing_command(root):
    result = cli(["run", "boards/full.sk", "fail", "--json"], cwd=root)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert err["code"] == "E164"
    assert (err["location"]["file"], err["location"]["line"]) == ("lib/fx/base.sk", 38)
    assert err["message"] == "command 'fx/base/fail' failed with exit status 4"


def test_an_unknown_command(root):
    result = cli(["run", "boards/full.sk", "helo", "--json"], cwd=root)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert (err["code"], err["location"]) == ("E164", None)
    assert err["message"] == "no layer of 'full' declares the command 'helo'"
    assert err["help"] == ["did you mean 'hello'?"]


@pytest.mark.parametrize("command, code, message", [
    ('{ scrpt = "true"; }', "E164", "unknown key 'scrpt' in command 'c' of layer 'c/c'"),
    ('{ description = "x"; }', "E164", "command 'c' of layer 'c/c' has no 'script'"),
])
def test_a_malformed_command(tmp_path, command, code, message):
    write(tmp_path, {"board.sk": f'system {{ name = "c"; layers = [ (layer {{ name = "c/c"; commands.c = {command}; }}) ]; }}'})
    result = cli(["run", "board.sk", "--list", "--json"], cwd=tmp_path)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert (err["code"], err["location"]["file"]) == (code, "board.sk")
    assert err["message"] == message
