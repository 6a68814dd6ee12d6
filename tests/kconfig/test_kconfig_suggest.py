"""NameIndex: the fast "did you mean" agrees with the full comparison on the best suggestion."""

from __future__ import annotations

import pytest
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


def test_answers_are_kept_for_the_next_process(monkeypatch, tmp_path):
    """A new index over the same names reads the answers an earlier one computed (they are a
    function of the names and the code alone); other names get another file."""
    import skiffeval.kconfig.suggest as suggest

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = NameIndex(NAMES)
    answer = first.help("BR2_PACKAGE_HTOPP")
    assert answer and answer == did_you_mean_help("BR2_PACKAGE_HTOPP", NAMES)
    [memo_file] = (tmp_path / "skiffeval" / "did-you-mean").iterdir()

    def no_computing(*_args):
        raise AssertionError("computed again")

    monkeypatch.setattr(suggest, "did_you_mean_help", no_computing)
    assert NameIndex(list(reversed(NAMES))).help("BR2_PACKAGE_HTOPP") == answer  # same names, any order
    with pytest.raises(AssertionError, match="computed again"):  # another tree: its own file
        NameIndex(NAMES + ["BR2_PACKAGE_HTOPS"]).help("BR2_PACKAGE_HTOPP")
    memo_file.write_text("not json")  # a damaged file is as good as none
    monkeypatch.setattr(suggest, "did_you_mean_help", did_you_mean_help)
    assert NameIndex(NAMES).help("BR2_PACKAGE_HTOPP") == answer


def test_no_file_when_not_persisted(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert NameIndex(NAMES, persist=False).help("BR2_PACKAGE_HTOPP")
    assert not (tmp_path / "skiffeval" / "did-you-mean").exists()
