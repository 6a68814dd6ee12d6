"""The cache of parsed files (``skiffeval.syntax.astcache``): a file parsed once is loaded by the
next evaluation without the parser, with the spans of the file as it is read now."""

from __future__ import annotations

import pytest

import skiffeval.eval.evaluator as evaluator
from skiffeval.diagnostics import SkiffError
from skiffeval.eval.evaluator import Evaluator
from skiffeval.eval.io import MemoryIO
from skiffeval.eval.values import force

TEXT = b"let f = x: x.a; in f { a = 1 + 2; }\n"


def _evaluate(files: dict[str, bytes], path: str, display_root: str):
    ev = Evaluator(MemoryIO(files), display_root=display_root)
    return force(ev.eval_file(path))


def test_a_file_parsed_once_is_loaded_from_the_cache_elsewhere(monkeypatch):
    assert _evaluate({"/one/main.sk": TEXT}, "/one/main.sk", "/one") == 3
    evaluator._ast_cache.clear()  # only the cache on disk remains

    def refuse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(evaluator, "parse_bytes", refuse)
    # the same content under the same display name, in another folder
    ev = Evaluator(MemoryIO({"/two/main.sk": TEXT}), display_root="/two")
    tree = ev.parse_file("/two/main.sk", TEXT)
    assert tree.span.source.path == "/two/main.sk"
    assert tree.span.source.text == TEXT.decode()
    assert force(ev.eval_file("/two/main.sk")) == 3


def test_changed_content_is_parsed_again():
    assert _evaluate({"/c/main.sk": TEXT}, "/c/main.sk", "/c") == 3
    assert _evaluate({"/c/main.sk": TEXT.replace(b"2", b"5")}, "/c/main.sk", "/c") == 6


def test_syntax_errors_are_not_cached():
    bad = b"let x = ; in x\n"
    for _ in range(2):
        evaluator._ast_cache.clear()
        with pytest.raises(SkiffError) as info:
            _evaluate({"/e/bad.sk": bad}, "/e/bad.sk", "/e")
        assert info.value.code.code.startswith("E01")


def test_the_cache_is_named_by_the_code_that_parses(monkeypatch, tmp_path):
    """Another grammar, syntax module or lark version names other cache files."""
    import importlib.util

    from skiffeval.syntax import astcache

    before = astcache._code_digest()
    fake = tmp_path / "__init__.py"
    fake.write_text('__version__: str = "0.0.0"\n')
    spec = importlib.util.spec_from_file_location("lark", fake)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec if name == "lark" else None)
    assert astcache._code_digest() != before
