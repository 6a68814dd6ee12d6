"""The documentation keeps up with the code: every error and warning code is documented, every
command is in docs/cli.md, and the README has exactly the two set-up commands."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import skiffeval
from skiffeval.diagnostics import all_codes

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))


def _import_all() -> None:
    for info in pkgutil.walk_packages(skiffeval.__path__, "skiffeval."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)


def test_every_code_is_documented() -> None:
    _import_all()
    missing = [f"{c.code} ({c.slug}, {c.domain})" for c in all_codes() if not re.search(rf"\b{c.code}\b", DOCS)]
    assert not missing, "codes missing from docs/: " + ", ".join(missing)


def test_every_command_is_in_the_cli_reference() -> None:
    import click

    from skiffeval.cli.app import app
    from tests.cli.test_query_cli import subcommands

    cli_doc = (ROOT / "docs" / "cli.md").read_text()
    names: list[str] = []

    def walk(group: click.Group, prefix: str) -> None:
        for name, cmd in subcommands(group).items():
            full = f"{prefix} {name}".strip()
            if isinstance(cmd, click.Group):
                walk(cmd, full)
            else:
                names.append(full)

    walk(app, "")
    assert len(names) >= 15, names
    missing = [n for n in names if f"skiffeval {n}" not in cli_doc]
    assert not missing, "commands missing from docs/cli.md: " + ", ".join(missing)


def test_readme_has_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Set up", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands
    assert "skiffeval build layers/" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci


def test_the_readme_taste_runs(tmp_path: Path) -> None:
    """The README's example board and commands work as written (those that need no Buildroot or
    SkiffOS checkout), in a copy of the project."""
    import shlex
    import shutil

    from tests.cli.runner import run

    readme = (ROOT / "README.md").read_text()
    taste = readme.split("## A taste", 1)[1].split("## ", 1)[0]
    board = taste.split("```nix", 1)[1].split("```", 1)[0]
    shell = taste.split("```sh", 1)[1].split("```", 1)[0]
    shutil.copytree(ROOT / "layers", tmp_path / "layers", symlinks=True)
    (tmp_path / "board.sk").write_text(board)
    ran = 0
    for line in shell.splitlines():
        command = line.split("#", 1)[0] if " #" in line else line
        argv = shlex.split(command.replace("board.sk#", "board.sk\\#"))
        if not argv or "skiffos" in argv or "resolved" in argv:
            continue  # a SkiffOS checkout / a Buildroot tree
        assert argv[0] == "skiffeval"
        r = run([*argv[1:], "--store", "store"], cwd=tmp_path)
        assert r.code == 0, (command, r.err)
        ran += 1
    assert ran >= 4
