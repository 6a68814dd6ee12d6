"""The package's boundaries: what it imports, that it never prints, that its codes are documented."""

from __future__ import annotations

import ast
import pathlib
import re

import skiffeval.kconfig
from skiffeval.diagnostics import all_codes

PACKAGE = pathlib.Path(skiffeval.kconfig.__file__).parent
DOCS = pathlib.Path(__file__).parents[2] / "docs" / "kconfig.md"
ALLOWED = ("skiffeval.kconfig", "skiffeval.diagnostics", "skiffeval.canonical", "skiffeval.derivation", "skiffeval.usercache")
FORBIDDEN_THIRD_PARTY = ("argparse", "rich")


def _modules():
    return sorted(PACKAGE.glob("*.py"))


def test_imports_stay_inside_the_allowed_set():
    for path in _modules():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("skiffeval"):
                    assert name.startswith(ALLOWED), f"{path.name} imports {name}"
                assert name.split(".")[0] not in FORBIDDEN_THIRD_PARTY, f"{path.name} imports {name}"


def test_never_prints():
    for path in _modules():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", f"{path.name}:{node.lineno} prints"
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr"):
                assert not (isinstance(node.value, ast.Name) and node.value.id == "sys"), f"{path.name}:{node.lineno}"


def test_every_code_is_in_range_and_documented():
    docs = DOCS.read_text()
    ours = [c for c in all_codes() if c.domain == "kconfig"]
    assert len(ours) >= 20
    for code in ours:
        number = int(code.code[1:])
        assert 200 <= number <= 249, code
        assert re.search(rf"\b{code.code}\b", docs), f"{code.code} is not documented in docs/kconfig.md"
        assert code.slug in docs, f"{code.slug} is not documented in docs/kconfig.md"


def test_modules_are_small_and_documented():
    for path in _modules():
        text = path.read_text()
        assert len(text.splitlines()) < 400, f"{path.name} is too long"
        assert ast.get_docstring(ast.parse(text)), f"{path.name} has no module docstring"
