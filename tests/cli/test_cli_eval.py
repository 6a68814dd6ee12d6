"""``skiffeval eval``: values, -A, --arg/--argstr, --strict, --json, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import run

BOARD = """{ hostname ? "skiff", port ? 22 }:
{
  greeting = "hello ${hostname}";
  port = port + 1;
  lazy = throw "not forced unless asked";
  nested.list = [ 1 2 ];
}
"""


@pytest.fixture
def board(tmp_path: Path) -> Path:
    (tmp_path / "board.sk").write_text(BOARD)
    return tmp_path


def test_prints_a_value_lazily(board: Path) -> None:
    r = run(["eval", "board.sk"], cwd=board)
    assert r.code == 0, r.err
    # Values stay unforced (<CODE>); the set a nested key makes is built with its parent and
    # holds constants as values, as Nix prints them.
    assert r.out == "{ greeting = <CODE>; lazy = <CODE>; nested = { list = [ 1 2 ]; }; port = <CODE>; }\n"


def test_attribute_paths_and_arguments(board: Path) -> None:
    r = run(["eval", "board.sk", "-A", "greeting", "-A", "port", "--argstr", "hostname", "garage", "--arg", "port", "40 + 1"], cwd=board)
    assert (r.code, r.out) == (0, '"hello garage"\n42\n')


def test_json_output(board: Path) -> None:
    r = run(["eval", "board.sk", "-A", "nested", "--json"], cwd=board)
    assert r.code == 0 and json.loads(r.out) == {"list": [1, 2]}


def test_strict_forces_and_fails_with_location(board: Path) -> None:
    r = run(["eval", "board.sk", "--strict"], cwd=board)
    assert r.code == 1
    assert r.err.startswith("board.sk:5:10: error[E034]: not forced unless asked")
    assert "Traceback" not in r.err


def test_errors_as_json(board: Path) -> None:
    r = run(["eval", "board.sk", "--json", "-A", "lazy"], cwd=board)
    assert r.code == 1
    diag = json.loads(r.err)["diagnostics"][0]
    assert diag["code"] == "E034" and diag["location"]["line"] == 5 and diag["severity"] == "error"


def test_missing_attribute_path_lists_choices(board: Path) -> None:
    r = run(["eval", "board.sk", "-A", "greting"], cwd=board)
    assert r.code == 1 and "E054" in r.err and "did you mean 'greeting'" in r.err


def test_expression(board: Path) -> None:
    r = run(["eval", "--expr", "builtins.map (x: x * 2) [ 1 2 3 ]", "--strict"], cwd=board)
    assert (r.code, r.out) == (0, "[ 2 4 6 ]\n")


def test_usage_errors_exit_2(board: Path) -> None:
    assert run(["eval"], cwd=board).code == 2
    assert run(["eval", "--no-such-flag", "board.sk"], cwd=board).code == 2
    assert run(["no-such-command"], cwd=board).code == 2


def test_missing_file_is_a_located_error(board: Path) -> None:
    r = run(["eval", "nope.sk"], cwd=board)
    assert r.code == 1 and "E042" in r.err and "Traceback" not in r.err


def test_search_path_option(board: Path, tmp_path: Path) -> None:
    lib = tmp_path / "mylib"
    lib.mkdir()
    (lib / "x.sk").write_text("42\n")
    r = run(["eval", "--expr", "import <mine/x.sk>", "-I", f"mine={lib}"], cwd=board)
    assert (r.code, r.out) == (0, "42\n")
    r = run(["eval", "--expr", "import <mine/x.sk>"], cwd=board, env={"SKIFFEVAL_PATH": f"mine={lib}"})
    assert (r.code, r.out) == (0, "42\n")


def test_internal_errors_say_so(board: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skiffeval.session as session

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(session.Session, "evaluate", broken)
    r = run(["eval", "board.sk"], cwd=board)
    assert r.code == 3 and "skiffeval bug" in r.err


def test_module_entry_point(board: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "skiffeval", "eval", "--expr", "1 + 1"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "2\n")


def test_building_a_value_that_holds_no_derivation_names_it_and_its_attributes(board: Path) -> None:
    (board / "plain.sk").write_text("{ greeting = \"hi\"; nested.list = [ 1 2 ]; port = 23; }\n")
    r = run(["build", "plain.sk", "--store", "store", "--dry-run"], cwd=board)
    assert r.code == 1
    assert "error[E160]: the value of 'plain.sk' is an attribute set, not a derivation (nor a set or list of them)" in r.err
    assert "help: select a derivation with -A ATTR; the attributes here are 'greeting', 'nested', 'port'" in r.err
    r = run(["build", "plain.sk", "-A", "nested.list", "--store", "store", "--dry-run"], cwd=board)
    assert r.code == 1
    assert "error[E160]: 'nested.list' is a list, not a derivation (nor a set or list of them)" in r.err
    assert "help: select a derivation with -A ATTR (an attribute path)" in r.err
