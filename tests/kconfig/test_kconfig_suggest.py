"""NameIndex: the fast "did you mean" agrees with the full comparison on the best suggestion."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from skiffeval.diagnostics import did_you_mean_help
from skiffeval.kconfig.buildroot import buildroot_spec, read_buildroot_source
from skiffeval.kconfig.engine import parse_tree
from skiffeval.kconfig.br2external import read_external
from skiffeval.kconfig.suggest import NameIndex
from tests.kconfig.helpers import FIXTURES, HOST, MINI

NAMES = sorted(
    s.name
    for s in parse_tree(
        buildroot_spec(read_buildroot_source(MINI), [read_external(str(FIXTURES / "external-a"))], HOST)
    ).kconf.unique_defined_syms
)
INDEX = NameIndex(NAMES)


def _first(help_lines):
    return help_lines[0].split("'")[1] if help_lines else None


@st.composite
def typos(draw):
    name = draw(st.sampled_from(NAMES))
    i = draw(st.integers(0, len(name) - 1))
    c = draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"))
    op = draw(st.sampled_from(["delete", "insert", "replace", "swap", "lower"]))
    if op == "delete":
        return name[:i] + name[i + 1 :]
    if op == "insert":
        return name[:i] + c + name[i:]
    if op == "replace":
        return name[:i] + c + name[i + 1 :]
    if op == "swap" and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name.lower()


@given(typos())
def test_best_suggestion_matches_difflib(query):
    assert _first(INDEX.help(query)) == _first(did_you_mean_help(query, NAMES))


def test_case_only_difference_comes_first():
    assert INDEX.help("br2_package_htop")[0].startswith("did you mean 'BR2_PACKAGE_HTOP'")


def test_nothing_close():
    assert INDEX.help("ZZZZZZZZ") == []
    assert INDEX.help("ZZZZZZZZ") == []  # memoized
