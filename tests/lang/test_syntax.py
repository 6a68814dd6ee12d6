"""Parser tests: the chunked error file, positions, grammar build and robustness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiffeval.diagnostics import SkiffError
from skiffeval.syntax import ast
from skiffeval.syntax.parser import build_parser, parse

HERE = Path(__file__).parent
MARKER = re.compile(r'### (E\d{3}) "(.*)"\s*$')


def _chunks() -> list[tuple[int, str]]:
    text = (HERE / "syntax-errors.sk").read_text()
    chunks: list[tuple[int, str]] = []
    start, lines = 1, []
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip() == "---":
            chunks.append((start, "\n".join(lines)))
            start, lines = number + 1, []
        else:
            lines.append(line)
    chunks.append((start, "\n".join(lines)))
    return chunks


CHUNKS = _chunks()


@pytest.mark.parametrize("first_line,chunk", CHUNKS, ids=[f"line{n}" for n, _ in CHUNKS])
def test_syntax_error_chunks(first_line: int, chunk: str) -> None:
    expectation = None
    for offset, line in enumerate(chunk.split("\n")):
        m = MARKER.search(line)
        if m:
            expectation = (offset + 1, m.group(1), m.group(2))
    # the marker is a comment, so the chunk text itself is what is parsed
    if expectation is None:
        parse(chunk, "chunk.sk")
        return
    line, code, pattern = expectation
    with pytest.raises(SkiffError) as info:
        parse(chunk, "chunk.sk")
    err = info.value
    assert err.code.code == code, f"{err.code.code}: {err.message}"
    assert err.span is not None and err.span.line == line, f"reported at {err.span}, expected line {line}: {err.message}"
    assert re.search(pattern, err.message), err.message


@pytest.mark.parametrize("char,shown", [("\0", "U+0000"), ("\u00a0", "U+00A0"), ("\x07", "U+0007"), ("\u200b", "U+200B"), ("`", "'`'")])
def test_an_unexpected_character_is_named_even_when_it_cannot_be_seen(char: str, shown: str) -> None:
    with pytest.raises(SkiffError) as info:
        parse(f"{{ a = 1; {char} }}", "chunk.sk")
    err = info.value
    assert err.code.code == "E012" and err.span is not None and err.span.col == 10
    assert err.message.startswith(f"unexpected character {shown}, expected '}}'"), err.message


def test_grammar_has_no_conflicts_in_strict_mode() -> None:
    build_parser(strict=True, cache=False)


def test_grammar_is_package_data() -> None:
    from importlib import resources

    assert "expr_function" in resources.files("skiffeval._grammar").joinpath("skiff.lark").read_text()


def test_spans_are_exact() -> None:
    tree = parse('let\n  x = "a${b}c";\nin x.y or 3', "t.sk")
    assert isinstance(tree, ast.Let)
    binding = tree.bindings[0]
    assert (binding.span.line, binding.span.col) == (2, 3)
    value = binding.value
    assert isinstance(value, ast.Str) and (value.span.line, value.span.col, value.span.end_col) == (2, 7, 14)
    interp = value.parts[1]
    assert isinstance(interp, ast.Var) and (interp.span.col, interp.span.end_col) == (11, 11)
    body = tree.body
    assert isinstance(body, ast.Select) and body.path_spans[0].col == 6 and body.default is not None


def test_operator_precedence_matches_nix() -> None:
    # Nix: ! binds weaker than +, // is right-associative, -> is right-associative
    t = parse("!a + b", "t.sk")
    assert isinstance(t, ast.Not) and isinstance(t.expr, ast.BinOp) and t.expr.op == "+"
    t = parse("a -> b -> c", "t.sk")
    assert isinstance(t, ast.BinOp) and t.op == "->" and isinstance(t.right, ast.BinOp)
    t = parse("f -1", "t.sk")
    assert isinstance(t, ast.BinOp) and t.op == "-"
    t = parse("-f x", "t.sk")
    assert isinstance(t, ast.Negate) and isinstance(t.expr, ast.Apply)
    t = parse("a ++ b ++ c", "t.sk")
    assert isinstance(t, ast.BinOp) and isinstance(t.right, ast.BinOp) and t.right.op == "++"
    t = parse("a.b or c d", "t.sk")
    assert isinstance(t, ast.Apply) and isinstance(t.fn, ast.Select)


def test_two_thousand_line_file_parses_quickly() -> None:
    import time

    lines = ["{"] + [f'  attr{i} = {{ n = {i}; s = "v${{toString {i}}}"; l = [ {i} ({i} + 1) ]; }};' for i in range(1998)] + ["}"]
    text = "\n".join(lines)
    start = time.perf_counter()
    tree = parse(text, "big.sk")
    elapsed = time.perf_counter() - start
    assert isinstance(tree, ast.Attrs) and len(tree.bindings) == 1998
    # a sanity bound only; the figure itself is recorded by benchmarks/parse_eval.py
    assert elapsed < 5.0


@given(st.text(max_size=200))
def test_parser_raises_only_skiff_errors_on_random_text(text: str) -> None:
    try:
        parse(text, "random.sk")
    except SkiffError as exc:
        assert exc.span is not None


TOKENS = ["let", "in", "if", "then", "else", "{", "}", "[", "]", "(", ")", ";", ":", "=", ".", ",", "?", "@",
          "...", "x", "y", "1", '"s"', '"a${', "''", "+", "-", "*", "/", "//", "++", "==", "!", "&&", "||", "->",
          "<", ">", "rec", "inherit", "with", "assert", "or", "./p", "<l/x>", "#c\n", "/* c */", "${", " ", "\n"]


@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_parser_raises_only_skiff_errors_on_token_soup(tokens: list[str]) -> None:
    try:
        parse(" ".join(tokens), "soup.sk")
    except SkiffError as exc:
        assert exc.span is not None and exc.code.code.startswith("E0")
