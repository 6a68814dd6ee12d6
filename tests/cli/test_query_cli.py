"""The command line as a whole: every command's --help has an example and the shared options,
usage errors exit 2, shell completion for bash and zsh, and docs/cli.md covers every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from skiffeval.cli.app import app
from tests.cli.runner import run

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"--store", "-I", "--json", "-v", "-q", "--no-color"}


def subcommands(group: click.Group) -> dict[str, click.Command]:
    """A group's subcommands, imported (the top group loads them lazily)."""
    ctx = click.Context(group)
    return {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}


def commands(group: click.Group = app, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, cmd in sorted(subcommands(group).items()):
        out.append(((*prefix, name), cmd))
        if isinstance(cmd, click.Group):
            out.extend(commands(cmd, (*prefix, name)))
    return out


ALL = commands()
assert len(ALL) > 20, ALL
LEAVES = [(path, cmd) for path, cmd in ALL if not isinstance(cmd, click.Group)]


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=" ".join)
def test_help_has_an_example(path: tuple[str, ...]) -> None:
    r = run([*path, "--help"])
    assert r.code == 0, r.err
    assert re.search(r"^\s*Examples?:\n\s+skiffeval |^\s*Examples?:\n\s+eval ", r.out, re.M), r.out


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_shared_options_everywhere(path: tuple[str, ...]) -> None:
    cmd = dict(LEAVES)[path]
    names = {opt for p in cmd.params for opt in getattr(p, "opts", ())}
    assert SHARED <= names, SHARED - names


def test_exit_status_is_documented_in_the_top_help() -> None:
    r = run(["--help"])
    assert "0 success, 1 evaluation or build failure, 2 usage error, 3 internal error" in r.out
    for name in ("query", "why-depends", "path-info", "completion"):
        assert name in r.out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["query", "tree"], cwd=tmp_path).code == 2
    assert run(["query", "graph", "x.sk", "--format", "png"], cwd=tmp_path).code == 2
    assert run(["path-info"], cwd=tmp_path).code == 2
    assert run(["completion", "tcsh"], cwd=tmp_path).code == 2


def test_usage_errors_have_the_language_format(tmp_path: Path) -> None:
    r = run(["query", "tree", "--bogus"], cwd=tmp_path)
    assert r.code == 2
    assert r.err.splitlines() == [
        "error[E001]: no such option '--bogus'",
        "   = help: did you mean one of: '--outputs', '--verbose'?",
        "   = help: usage: skiffeval query tree [OPTIONS] TARGET",
        "   = help: try 'skiffeval query tree --help'",
    ]
    r = run(["query", "tre", "x"], cwd=tmp_path)
    assert r.err.startswith("error[E001]: no such command 'tre'\n   = help: did you mean 'tree'?")
    import json

    r = run(["path-info", "--json"], cwd=tmp_path)
    diag = json.loads(r.err)["diagnostics"][0]
    assert (r.code, diag["code"], diag["message"]) == (2, "E001", "missing argument 'TARGETS...'")


def test_errors_are_rendered_with_codes(tmp_path: Path) -> None:
    (tmp_path / "bad.sk").write_text("{ a = ; }\n")
    r = run(["query", "tree", "bad.sk", "--store", "store"], cwd=tmp_path)
    assert r.code == 1 and re.match(r"bad\.sk:1:7: error\[E0\d\d\]", r.err), r.err
    r = run(["query", "tree", "store/0000000000000000000000000a-nothing.drv", "--store", "store"], cwd=tmp_path)
    assert r.code == 1 and "error[E" in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_script(shell: str) -> None:
    r = run(["completion", shell])
    assert r.code == 0
    assert "_SKIFFEVAL_COMPLETE" in r.out and f"{shell}_complete" in r.out
    if shell == "bash":
        assert "complete -o nosort -F _skiffeval_completion skiffeval" in r.out
    else:
        assert "#compdef skiffeval" in r.out


def _complete(shell: str, words: str, cword: int) -> str:
    env = dict(os.environ, _SKIFFEVAL_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    proc = subprocess.run([sys.executable, "-m", "skiffeval"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_completion_answers_commands_options_and_files() -> None:
    assert "plain,query" in _complete("bash", "skiffeval qu", 1).split()
    sub = _complete("bash", "skiffeval query ", 2).split()
    assert {"plain,tree", "plain,graph", "plain,references", "plain,referrers", "plain,requisites"} <= set(sub)
    assert "plain,--format" in _complete("bash", "skiffeval query graph --fo", 3).split()
    assert _complete("bash", "skiffeval query graph x --format ", 5).split() == ["plain,dot", "plain,svg", "plain,json"]
    assert _complete("bash", "skiffeval query tree lay", 3).split() == ["file,lay"]
    zsh = _complete("zsh", "skiffeval why-", 1)
    assert "why-depends" in zsh


def test_docs_cover_every_command() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    for path, _ in ALL:
        assert f"skiffeval {' '.join(path)}" in text, path
    for code in ("E400", "E401", "E402", "E403"):
        assert code in text
