"""Fragment parsing and rendering: the case file, the error paths, and hypothesis properties."""

from __future__ import annotations

import ast
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiffeval.diagnostics import SkiffError, Span
from skiffeval.kconfig import codes
from skiffeval.kconfig.fragment import (
    inline_fragment,
    parse_fragment,
    quote_string,
    render_assignment,
    render_fragment_value,
    unquote_string,
)
from tests.kconfig.helpers import CASES, read_cases

PARSE_CASES = read_cases(CASES / "parse.txt")


@pytest.mark.parametrize("case", PARSE_CASES, ids=[c.name for c in PARSE_CASES])
def test_parse_case(case):
    prefix = case.one("prefix", "")
    (frag,) = case.fragments
    parsed = parse_fragment(frag.text, frag.file, prefix=prefix)

    expected = []
    for spec in case.directives.get("assign", []):
        if not spec:
            continue
        name, _, value = spec.partition(" ")
        expected.append((name, ast.literal_eval(value)))
    assert [(a.symbol, a.value) for a in parsed.assignments] == expected

    found = sorted((d.span.line, d.code.code, d.message) for d in parsed.diagnostics)
    assert [(line, code) for line, code, _ in found] == sorted((l, c) for l, c, _ in frag.expected)
    for (line, code, message), (_, _, regex) in zip(found, sorted(frag.expected, key=lambda e: (e[0], e[1]))):
        if regex is not None:
            assert re.search(regex, message), f"{message!r} does not match {regex!r}"
    for d in parsed.diagnostics:
        assert d.span.file == frag.file
        assert d.message == d.message.rstrip(".") and d.message[:1] == d.message[:1].lower()


def test_assignment_spans_cover_the_line():
    parsed = parse_fragment("# c\nBR2_FOO=y\n  \nBR2_BAR=\"x\"", "f.conf")
    assert [(a.span.file, a.span.line, a.span.col, a.span.end_col) for a in parsed.assignments] == [
        ("f.conf", 2, 1, 9),
        ("f.conf", 4, 1, 11),
    ]
    assert parsed.assignments[0].span.source.line_text(2) == "BR2_FOO=y"


def test_line_spans_replace_positions():
    where = (Span.point("board.sk", 12, 3), Span.point("board.sk", 13, 3))
    parsed = parse_fragment("BR2_A=y\nBR2_B y\n", "board.sk", line_spans=where)
    assert parsed.assignments[0].span == where[0]
    assert parsed.diagnostics[0].span == where[1]


# ---------------------------------------------------------------------------------------------
# rendering inline values

RENDER_CASES = [
    ("BR2_PACKAGE_HTOP", True, "BR2_PACKAGE_HTOP=y"),
    ("BR2_PACKAGE_HTOP", False, "# BR2_PACKAGE_HTOP is not set"),
    ("BR2_JLEVEL", 0, "BR2_JLEVEL=0"),
    ("BR2_JLEVEL", -12, "BR2_JLEVEL=-12"),
    ("BR2_TARGET_GENERIC_HOSTNAME", "garage", 'BR2_TARGET_GENERIC_HOSTNAME="garage"'),
    ("BR2_X", 'say "hi"', r'BR2_X="say \"hi\""'),
    ("BR2_X", "back\\slash", r'BR2_X="back\\slash"'),
    ("BR2_X", "", 'BR2_X=""'),
    ("BR2_X", "$(TOPDIR)/dl", 'BR2_X="$(TOPDIR)/dl"'),
]


@pytest.mark.parametrize("symbol,value,line", RENDER_CASES)
def test_render_value(symbol, value, line):
    assert render_fragment_value(symbol, value) == line


def test_render_with_prefix():
    assert render_fragment_value("USB", True, prefix="CONFIG_") == "CONFIG_USB=y"
    assert render_fragment_value("USB", False, prefix="CONFIG_") == "# CONFIG_USB is not set"


@pytest.mark.parametrize(
    "symbol,value,code,message",
    [
        ("BR2_X", None, codes.UNSUPPORTED_VALUE, "expected a bool, an int or a string for 'BR2_X', found null"),
        ("BR2_X", 1.5, codes.UNSUPPORTED_VALUE, "found a float"),
        ("BR2_X", [1], codes.UNSUPPORTED_VALUE, "found a list"),
        ("BR2_X", {"a": 1}, codes.UNSUPPORTED_VALUE, "found an attribute set"),
        ("BR2_X", "two\nlines", codes.UNREPRESENTABLE_STRING, "found a string with a newline"),
        ("BR2_X", "nul\0", codes.UNREPRESENTABLE_STRING, "a NUL character"),
        ("BR2 X", True, codes.BAD_SYMBOL_NAME, "found 'BR2 X'"),
        ("", True, codes.BAD_SYMBOL_NAME, "found ''"),
    ],
)
def test_render_errors(symbol, value, code, message):
    where = Span.point("board.sk", 3, 5)
    with pytest.raises(SkiffError) as info:
        render_fragment_value(symbol, value, span=where)
    assert info.value.code is code
    assert info.value.span == where
    assert message in info.value.message


def test_inline_fragment_keeps_order_and_spans():
    spans = {"BR2_B": Span.point("board.sk", 4, 7), "BR2_A": Span.point("board.sk", 5, 7)}
    frag = inline_fragment({"BR2_B": "x", "BR2_A": False}, file="board.sk", layer="pi/4", spans=spans)
    assert frag.text == 'BR2_B="x"\n# BR2_A is not set\n'
    parsed = frag.parse()
    assert [(a.symbol, a.value, a.span) for a in parsed.assignments] == [
        ("BR2_B", '"x"', spans["BR2_B"]),
        ("BR2_A", None, spans["BR2_A"]),
    ]


# ---------------------------------------------------------------------------------------------
# properties

names = st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True)
values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.text(st.characters(blacklist_characters="\n\0", blacklist_categories=("Cs",)), max_size=30),
)


@given(names, values)
def test_render_parse_round_trip(name, value):
    line = render_fragment_value(name, value)
    parsed = parse_fragment(line + "\n", "f")
    assert parsed.diagnostics == ()
    (a,) = parsed.assignments
    assert a.symbol == name
    if isinstance(value, bool):
        assert a.value == ("y" if value else None)
    elif isinstance(value, int):
        assert a.value == str(value)
    else:
        assert unquote_string(a.value) == value
        assert a.value == quote_string(value)


@given(st.text(max_size=400), st.sampled_from(["", "CONFIG_", "BR2_"]))
def test_parse_never_raises(text, prefix):
    parsed = parse_fragment(text, "random.conf", prefix=prefix)
    lines = text.split("\n")
    for a in parsed.assignments:
        assert 1 <= a.span.line <= len(lines)
    for d in parsed.diagnostics:
        assert d.code.domain == "kconfig" and d.span is not None


line_text = st.one_of(
    st.builds(lambda n, v: f"{n}={v}", names, st.text(st.characters(blacklist_characters="\n\r"), max_size=12)),
    st.builds(lambda n: f"# {n} is not set", names),
    st.text(st.characters(blacklist_characters="\n"), max_size=20),
)


@given(st.lists(line_text, max_size=12), st.booleans())
def test_parsed_assignments_render_back(lines, final_newline):
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    first = parse_fragment(text, "a.conf")
    again = parse_fragment("".join(render_assignment(a) + "\n" for a in first.assignments), "b.conf")
    assert [(a.symbol, a.value) for a in again.assignments] == [(a.symbol, a.value) for a in first.assignments]
