"""Differential tests against Nix 2.8: where a program stays inside the subset the two languages
share, skiffeval's value must equal Nix's.

* every ``eval-okay`` case that is plain Nix (no paths, no search path) is evaluated by both;
* hypothesis generates well-typed programs (integers, booleans, strings with escapes and
  interpolation, indented strings, lists, sets, lets, lambdas, builtins) in batches, one Nix
  process per batch;
* programs that must fail must fail in both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiffeval.diagnostics import SkiffError
from skiffeval.eval.builtins.json import to_json_text
from skiffeval.eval.evaluator import Evaluator, run_deep
from skiffeval.eval.io import MemoryIO

from tests.lang.nix_oracle import NixFailed, nix_json, requires_nix

HERE = Path(__file__).parent
# eval-okay cases that use what Nix does not have, or print paths (store paths differ)
NOT_NIX = {"search-path-layers", "paths", "import-relative", "builtins-types", "lang-version"}
CASES = sorted(p for p in (HERE / "eval-okay").glob("*.sk") if p.stem not in NOT_NIX)


def ours(text: str):
    ev = Evaluator(MemoryIO({}))

    def work():
        value = ev.eval_text(text, "program.sk", "/")
        return json.loads(to_json_text(ev, value, None)[0])

    return run_deep(work)


@requires_nix
def test_eval_okay_cases_agree_with_nix() -> None:
    program = "{\n" + "".join(f'  "{p.stem}" = import {p};\n' for p in CASES) + "}\n"
    expected = nix_json(program, "cases.nix")
    ev = Evaluator(MemoryIO({}))
    for p in CASES:
        text = p.read_text()
        actual = run_deep(lambda: json.loads(to_json_text(ev, ev.eval_text(text, p.name, str(p.parent)), None)[0]))
        assert actual == expected[p.stem], f"{p.name}: skiffeval {actual!r} != nix {expected[p.stem]!r}"


# ---------------------------------------------------------------------------------------------
# a generator of well-typed programs

NAMES = ["a", "b", "c", "x1", "y_2", "z-3", "foo'"]
SAFE_CHARS = "abcXYZ019 _-.,:/=+*#@!?()[]<>'"


def _lit_string() -> st.SearchStrategy[str]:
    chars = st.sampled_from(list(SAFE_CHARS) + ["\\n", "\\t", '\\"', "\\\\", "$", "\\$"])
    return st.lists(chars, max_size=8).map(lambda cs: '"' + "".join(cs) + '"')


def _indented(sub) -> st.SearchStrategy[str]:
    line = st.tuples(st.integers(0, 4), st.text(alphabet="abc xyz", max_size=6), st.booleans(), sub)

    def build(lines):
        out = ["''\n"]
        for indent, text, interp, expr in lines:
            body = text + ("${" + expr + "}" if interp else "")
            out.append(" " * indent + body + "\n")
        out.append("  ''")
        return "".join(out)

    return st.lists(line, min_size=1, max_size=4).map(build)


def ints(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.integers(-20, 40).map(lambda n: f"({n})" if n < 0 else str(n)))
    if depth <= 0:
        return leaf
    i, b, s, l = ints(depth - 1), bools(depth - 1), strings(depth - 1), lists(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(i, st.sampled_from(["+", "-", "*"]), i).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(i, st.integers(1, 7), st.booleans()).map(lambda t: f"({t[0]} / {t[1] if t[2] else -t[1]})"),
        st.tuples(b, i, i).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        l.map(lambda x: f"(builtins.length {x})"),
        s.map(lambda x: f"(builtins.stringLength {x})"),
        st.tuples(i, i).map(lambda t: f"(let v = {t[0]}; w = v * 2; in w + {t[1]})"),
        st.tuples(i, i).map(lambda t: f"((p: q: p - q) {t[0]} {t[1]})"),
        st.tuples(i, i).map(lambda t: f"(({{ p, q ? 3 }}: p * q) {{ p = {t[0]}; }} + {t[1]})"),
        st.lists(i, max_size=4).map(lambda xs: f"(builtins.foldl' (acc: e: acc + e) 0 [ {' '.join(xs)} ])"),
        st.tuples(i, i).map(lambda t: f"({{ k = {t[0]}; j = {t[1]}; }}.k)"),
        st.tuples(i, i).map(lambda t: f"(builtins.elemAt [ {t[0]} {t[1]} ] 1)"),
        st.tuples(i, i).map(lambda t: f"(rec {{ m = {t[0]}; n = m + {t[1]}; }}).n"),
        st.tuples(i, i).map(lambda t: f"(with {{ wv = {t[0]}; }}; wv + {t[1]})"),
        st.tuples(i, i).map(lambda t: f"(({{ r = {t[0]}; }}).s or {t[1]})"),
    )


def bools(depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(["true", "false"])
    if depth <= 0:
        return leaf
    i, b, s, l = ints(depth - 1), bools(depth - 1), strings(depth - 1), lists(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(i, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), i).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(s, st.sampled_from(["<", "==", "!=", ">="]), s).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(b, st.sampled_from(["&&", "||", "->"]), b).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        b.map(lambda x: f"(!{x})"),
        st.tuples(l, l).map(lambda t: f"({t[0]} == {t[1]})"),
        st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), i).map(lambda t: f'({{ "{t[0]}" = {t[2]}; }} ? "{t[1]}")'),
        st.tuples(i, st.lists(i, max_size=3)).map(lambda t: f"(builtins.elem {t[0]} [ {' '.join(t[1])} ])"),
        st.tuples(s, s).map(lambda t: f"([ {t[0]} ] < [ {t[1]} ])"),
    )


def strings(depth: int) -> st.SearchStrategy[str]:
    leaf = _lit_string()
    if depth <= 0:
        return leaf
    i, b, s, l = ints(depth - 1), bools(depth - 1), strings(depth - 1), lists(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(s, s).map(lambda t: f"({t[0]} + {t[1]})"),
        st.tuples(s, s).map(lambda t: f'"<${{{t[0]}}}>${{{t[1]}}}"'),
        i.map(lambda x: f"(toString {x})"),
        b.map(lambda x: f"(toString {x})"),
        st.tuples(s, st.lists(s, max_size=3)).map(lambda t: f"(builtins.concatStringsSep {t[0]} [ {' '.join(t[1])} ])"),
        st.tuples(st.integers(0, 6), st.integers(-1, 6), s).map(lambda t: f"(builtins.substring {t[0]} {t[1] if t[1] >= 0 else '(-1)'} {t[2]})"),
        st.tuples(s, s, s).map(lambda t: f"(builtins.replaceStrings [ {t[0]} ] [ {t[1]} ] {t[2]})"),
        _indented(s),
        l.map(lambda x: f"(builtins.toJSON {x})"),
        attrsets(depth - 1).map(lambda x: f"(builtins.toJSON {x})"),
        st.sampled_from(["1", '"s"', "[ ]", "{ }", "null", "true", "(x: x)"]).map(lambda x: f"(builtins.typeOf {x})"),
    )


def lists(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return st.lists(st.one_of(ints(0), bools(0), strings(0)), max_size=3).map(lambda xs: f"[ {' '.join(xs)} ]")
    i, s, l = ints(depth - 1), strings(depth - 1), lists(depth - 1)
    any_value = st.one_of(i, bools(depth - 1), s, l)
    return st.one_of(
        st.lists(any_value, max_size=4).map(lambda xs: f"[ {' '.join(xs)} ]"),
        st.tuples(l, l).map(lambda t: f"({t[0]} ++ {t[1]})"),
        st.lists(i, max_size=4).map(lambda xs: f"(map (e: e * 3) [ {' '.join(xs)} ])"),
        st.tuples(i, st.lists(i, max_size=5)).map(lambda t: f"(builtins.filter (e: e > {t[0]}) [ {' '.join(t[1])} ])"),
        st.lists(i, max_size=5).map(lambda xs: f"(builtins.sort builtins.lessThan [ {' '.join(xs)} ])"),
        st.lists(s, max_size=5).map(lambda xs: f"(builtins.sort (p: q: p > q) [ {' '.join(xs)} ])"),
        st.integers(0, 5).map(lambda n: f"(builtins.genList (k: k * k - 2) {n})"),
        attrsets(depth - 1).map(lambda x: f"(builtins.attrNames {x})"),
        attrsets(depth - 1).map(lambda x: f"(builtins.attrValues {x})"),
        st.tuples(s, s).map(lambda t: f"(builtins.split \"a\" ({t[0]} + \"a\" + {t[1]}))"),
    )


def attrsets(depth: int) -> st.SearchStrategy[str]:
    value = st.one_of(ints(max(depth - 1, 0)), strings(max(depth - 1, 0)), bools(0))
    binding = st.tuples(st.sampled_from(NAMES), value)

    def build(bs):
        seen = {}
        for k, v in bs:
            seen[k] = v
        return "{ " + "".join(f'"{k}" = {v}; ' for k, v in seen.items()) + "}"

    base = st.lists(binding, max_size=4).map(build)
    if depth <= 0:
        return base
    a = attrsets(depth - 1)
    return st.one_of(
        base,
        st.tuples(a, a).map(lambda t: f"({t[0]} // {t[1]})"),
        a.map(lambda x: f"(builtins.mapAttrs (n: v: n) {x})"),
        st.tuples(a, st.lists(st.sampled_from(NAMES), max_size=3)).map(lambda t: f"(builtins.removeAttrs {t[0]} [ {' '.join(chr(34) + n + chr(34) for n in t[1])} ])"),
        st.lists(st.tuples(st.sampled_from(NAMES), ints(0)), max_size=4).map(
            lambda ps: "(builtins.listToAttrs [ " + " ".join(f'{{ name = "{n}"; value = {v}; }}' for n, v in ps) + " ])"
        ),
    )


def programs() -> st.SearchStrategy[str]:
    return st.one_of(ints(2), bools(2), strings(2), lists(2), attrsets(2))


@requires_nix
@settings(max_examples=40)
@given(st.lists(programs(), min_size=1, max_size=25))
def test_generated_programs_agree_with_nix(batch: list[str]) -> None:
    program = "[\n" + "\n".join(f"  ({p})" for p in batch) + "\n]\n"
    try:
        expected = nix_json(program)
    except NixFailed as exc:
        with pytest.raises(SkiffError):
            ours(program)
        pytest.skip(f"both failed: {exc}")  # pragma: no cover - generator avoids errors
    actual = ours(program)
    for p, a, e in zip(batch, actual, expected):
        assert a == e, f"program {p!r}: skiffeval {a!r} != nix {e!r}"


def selections() -> st.SearchStrategy[str]:
    """Selections bound lazily (``{ v = s.name; }``) from a set that may or may not have the
    name, read in a function, a ``let`` and a ``rec`` set, and forced only where the name is
    there: the names and values must be Nix's (``compiler._eager_select`` keeps them lazy)."""

    def build(t):
        s, names, how = t
        binds = " ".join(f'"v{i}" = s."{n}";' for i, n in enumerate(names))
        made = {
            "function": f"let f = s: {{ {binds} }}; in f ({s})",
            "let": f"let s = {s}; in {{ {binds} }}",
            "rec": f"rec {{ {binds} s = {s}; }}",
            "fold": f"builtins.foldl' (s: _: {{ {binds} }} // s) ({s}) [ 1 2 ]",
        }[how]
        checks = " ".join(f'(if s ? "{n}" then t."v{i}" else null)' for i, n in enumerate(names))
        return f"let s = {s}; t = {made}; in [ (builtins.attrNames t) {checks} ]"

    return st.tuples(attrsets(1), st.lists(st.sampled_from(NAMES), max_size=4),
                     st.sampled_from(["function", "let", "rec", "fold"])).map(build)


@requires_nix
@settings(max_examples=30)
@given(st.lists(selections(), min_size=1, max_size=20))
def test_lazy_selections_agree_with_nix(batch: list[str]) -> None:
    program = "[\n" + "\n".join(f"  ({p})" for p in batch) + "\n]\n"
    expected = nix_json(program)
    actual = ours(program)
    for p, a, e in zip(batch, actual, expected):
        assert a == e, f"program {p!r}: skiffeval {a!r} != nix {e!r}"


FAILING = [
    '1 + "a"',
    "{ a = 1; }.b",
    "builtins.head [ ]",
    "1 / 0",
    "let x = x; in x",
    "assert false; 1",
    "throw \"boom\"",
    "({ a }: a) { b = 1; }",
    "({ a }: a) { }",
    "undefinedName",
    "1 2",
    "if 1 then 2 else 3",
    "[ 1 ] ++ 2",
    "{ a = 1; a = 2; }",
    "\"${1}\"",
    "builtins.elemAt [ 1 ] 5",
    "builtins.toJSON (x: x)",
    "let f = { a }: a; in f 1",
]


@requires_nix
@pytest.mark.parametrize("program", FAILING)
def test_programs_that_fail_in_nix_fail_here(program: str) -> None:
    with pytest.raises(NixFailed):
        nix_json(program)
    with pytest.raises(SkiffError):
        ours(program)
