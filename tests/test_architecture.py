"""The module graph points one way: import-linter contracts in pyproject.toml, checked here;
and every package folder is listed in pyproject (they are listed explicitly)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.lower().replace("0 broken", "")


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "skiffeval").rglob("__init__.py")
    }
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"


def test_package_layout_needs_no_import_hook() -> None:
    """Every package lives at its dotted path from the project root (the two data packages
    through links), and the only mapping is ``"" = "."``: for such a layout setuptools makes an
    editable install a plain path in a ``.pth`` file, not an import hook that every command
    would pay for at start-up (~25 ms: it imports pathlib)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"": "."}
    for package in setuptools["packages"]:
        assert (ROOT.joinpath(*package.split(".")) / "__init__.py").is_file(), package
    assert (ROOT / "skiffeval" / "_grammar").resolve() == ROOT / "grammar"
    assert (ROOT / "skiffeval" / "_layers").resolve() == ROOT / "layers"
