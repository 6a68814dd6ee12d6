"""The order layers apply in: depth-first post-order over ``depends``, declaration order, the
first occurrence of a name kept, later layers win (docs/layers.md, "Ordering")."""

from __future__ import annotations

import pathlib
import re
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.layers.helpers import FIXTURES, build, cli, output_of, session, write

ORDER = ("ord/c", "ord/d", "ord/a", "ord/e", "ord/b")


def layer_names(cwd: pathlib.Path, board: str, store: pathlib.Path | None = None) -> tuple[str, ...]:
    s = session(cwd, store_dir=str(store or cwd / "store"))
    [value] = s.evaluate(board, ["layers"], deep=True)
    return tuple(value)


def headers(text: str) -> list[str]:
    return [line[len("# from "):] for line in text.splitlines() if line.startswith("# from ")]


def test_depth_first_post_order_first_occurrence_kept(tmp_path):
    # a depends on c d, b on d e, d on c; the board lists a b c: c stays first
    assert layer_names(FIXTURES, "boards/order.sk", tmp_path / "store") == ORDER


def test_config_follows_the_order_and_the_last_assignment_wins(tmp_path):
    s, outcome = build(FIXTURES, "boards/order.sk", "config", store_dir=str(tmp_path / "store"))
    text = (output_of(s, outcome, "config") / "defconfig").read_text()
    assert headers(text) == [f"{name} (inline)" for name in ORDER]
    hostnames = re.findall(r'^BR2_TARGET_GENERIC_HOSTNAME="(\w)"$', text, re.M)
    assert hostnames == ["c", "d", "a", "e", "b"]  # every assignment kept, in order: kconfig takes the last


def test_kernel_config_last_fragment_wins(tmp_path):
    s, outcome = build(FIXTURES, "boards/order.sk", "kernel_config", store_dir=str(tmp_path / "store"))
    text = output_of(s, outcome, "kernel_config").read_text()
    assert text == (
        "# from ord/c (text)\nCONFIG_ONLY_C=y\n\n"
        "# from ord/d (text)\nCONFIG_ONLY_D=y\n\n"
        "# from ord/a (text)\nCONFIG_ONLY_A=y\n\n"
        "# from ord/e (text)\nCONFIG_ONLY_E=y\n\n"
        '# from ord/b (text)\nCONFIG_WHO="b"\nCONFIG_ONLY_B=y\n'
    )


def test_declaration_order_decides_between_siblings(tmp_path):
    write(tmp_path, {"board.sk": f"""
        let ord = name: import ({FIXTURES}/lib/ord + "/${{name}}.sk") {{ }};
        in system {{ layers = [ (ord "b") (ord "a") ]; }}
    """})
    # b is listed first: its dependencies d (after its own c) and e come before it, a comes last
    assert layer_names(tmp_path, "board.sk") == ("ord/c", "ord/d", "ord/e", "ord/b", "ord/a")


def test_a_dependency_is_placed_before_its_first_dependent(tmp_path):
    write(tmp_path, {"board.sk": f"""
        let ord = name: import ({FIXTURES}/lib/ord + "/${{name}}.sk") {{ }};
        in system {{ layers = [ (ord "e") (ord "b") (ord "c") (ord "a") ]; }}
    """})
    # e first as listed; b needs d (needs c) and e (already there); a needs nothing new
    assert layer_names(tmp_path, "board.sk") == ("ord/e", "ord/c", "ord/d", "ord/b", "ord/a")


def test_the_first_occurrence_of_a_name_wins_even_with_other_options(tmp_path):
    # The same layer called twice with different options: the second is dropped (by name).
    write(tmp_path, {"board.sk": f"""
        let base = import {FIXTURES}/lib/fx/base.sk;
        in system {{ layers = [ (base {{ hostname = "one"; }}) (base {{ hostname = "two"; }}) ]; }}
    """})
    s, outcome = build(tmp_path, "board.sk", "config")
    text = (output_of(s, outcome, "config") / "defconfig").read_text()
    assert 'BR2_TARGET_GENERIC_HOSTNAME="one"' in text
    assert '"two"' not in text


def test_the_same_layer_met_again_is_not_a_warning(tmp_path):
    s, _ = build(FIXTURES, "boards/order.sk", "config", store_dir=str(tmp_path / "store"))
    assert [w for w in s.warnings if w.code.code == "W153"] == []  # ord/c and ord/d are met twice
    write(tmp_path, {"board.sk": f"""
        let base = import {FIXTURES}/lib/fx/base.sk;
        in system {{ layers = [ (base {{ hostname = "one"; }}) (base {{ hostname = "two"; }}) ]; }}
    """})
    s, _ = build(tmp_path, "board.sk", "config")
    assert [w for w in s.warnings if w.code.code == "W153"] == []  # one layer { }, other options


def test_another_layer_of_a_name_already_placed_is_a_warning(tmp_path):
    """Two different ``layer { }`` of one name: the second is dropped, and W153 says so at its
    definition, with the one applied as the related place (once, however often it is met)."""
    write(tmp_path, {
        "a.sk": '{ }: layer { name = "x/a"; buildroot = [ "BR2_PACKAGE_HTOP=y" ]; }\n',
        "other/a.sk": '{ }:\nlayer {\n  name = "x/a";\n  buildroot = [ "BR2_PACKAGE_FOO=y" ];\n}\n',
        "b.sk": '{ }: layer { name = "x/b"; depends = [ (import ./other/a.sk { }) (import ./a.sk { }) ]; }\n',
        "board.sk": f'system {{ buildroot = {FIXTURES}/mini-br; layers = [ (import ./a.sk {{ }}) (import ./b.sk {{ }}) (import ./other/a.sk {{ }}) ]; }}\n',
    })
    s, outcome = build(tmp_path, "board.sk", "config")
    [w] = [w for w in s.warnings if w.code.code == "W153"]
    assert w.severity.value == "warning"
    assert (w.span.file, w.span.line, w.span.col) == ("other/a.sk", 3, 3)
    assert w.message.startswith("layer 'x/a' defined here is not applied to system 'system'")
    [related] = w.related
    assert (related.span.file, related.span.line, related.span.col) == ("a.sk", 1, 14)
    text = (output_of(s, outcome, "config") / "defconfig").read_text()
    assert "BR2_PACKAGE_HTOP=y" in text and "BR2_PACKAGE_FOO" not in text  # the first is applied


def test_a_layer_meant_to_take_the_place_of_another_says_so_and_is_not_warned_about(tmp_path):
    write(tmp_path, {
        "mine.sk": '{ }: layer { name = "x/a"; replaces = true; buildroot = [ "BR2_PACKAGE_HTOP=y" ]; }\n',
        "theirs.sk": '{ }: layer { name = "x/a"; buildroot = [ "BR2_PACKAGE_FOO=y" ]; }\n',
        "b.sk": '{ }: layer { name = "x/b"; depends = [ (import ./theirs.sk { }) ]; }\n',
        "board.sk": f'system {{ buildroot = {FIXTURES}/mini-br; layers = [ (import ./mine.sk {{ }}) (import ./b.sk {{ }}) ]; }}\n',
    })
    s, outcome = build(tmp_path, "board.sk", "config")
    assert [w for w in s.warnings if w.code.code == "W153"] == []
    text = (output_of(s, outcome, "config") / "defconfig").read_text()
    assert "BR2_PACKAGE_HTOP=y" in text and "BR2_PACKAGE_FOO" not in text
    # without it, the warning says how to mean it
    write(tmp_path, {"mine.sk": '{ }: layer { name = "x/a"; buildroot = [ "BR2_PACKAGE_HTOP=y" ]; }\n'})
    s, _ = build(tmp_path, "board.sk", "config")
    [w] = [w for w in s.warnings if w.code.code == "W153"]
    assert any("replaces = true;" in h for h in w.help)
    # said, but listed after the layer that brings the other: that one is kept, and W153 says why
    write(tmp_path, {
        "mine.sk": '{ }: layer { name = "x/a"; replaces = true; buildroot = [ "BR2_PACKAGE_HTOP=y" ]; }\n',
        "board.sk": f'system {{ buildroot = {FIXTURES}/mini-br; layers = [ (import ./b.sk {{ }}) (import ./mine.sk {{ }}) ]; }}\n',
    })
    s, _ = build(tmp_path, "board.sk", "config")
    [w] = [w for w in s.warnings if w.code.code == "W153"]
    assert w.span.file == "mine.sk"
    assert w.help == ("this layer says 'replaces = true', but the other came first: list this one before the layers "
                      "that depend on the other (the first occurrence of a name is kept)",)


def test_the_warning_is_printed_by_build_also_from_the_evaluation_cache_and_by_layers(tmp_path):
    write(tmp_path, {
        "a.sk": '{ }: layer { name = "x/a"; }\n',
        "a2.sk": '{ }: layer { name = "x/a"; description = "another"; }\n',
        "board.sk": f'system {{ buildroot = {FIXTURES}/mini-br; layers = [ (import ./a.sk {{ }}) (import ./a2.sk {{ }}) ]; }}\n',
    })
    for again in (False, True):  # the second run is the evaluation cache's
        result = cli(["build", "board.sk", "-A", "config", "--no-out-link", "-v"], tmp_path)
        assert result.code == 0, result.err
        assert ("evaluation cache: nothing the last evaluation read has changed" in result.err) is again
        assert "a2.sk:1:14: warning[W153]: layer 'x/a' defined here is not applied" in result.err
    result = cli(["layers", "board.sk"], tmp_path)
    assert result.code == 0 and "warning[W153]" in result.err


# ---------------------------------------------------------------------------------------------
# the rule on generated graphs


def _reference_order(deps: dict[int, list[int]], roots: list[int]) -> list[int]:
    out: list[int] = []

    def visit(n: int) -> None:
        if n in out:
            return
        for d in deps[n]:
            visit(d)
        if n not in out:
            out.append(n)

    for r in roots:
        visit(r)
    return out


@st.composite
def dags(draw):
    n = draw(st.integers(1, 8))
    deps = {i: draw(st.lists(st.integers(i + 1, n - 1), unique=True, max_size=3)) if i < n - 1 else [] for i in range(n)}
    roots = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    return deps, roots


@settings(max_examples=40)
@given(dags())
def test_order_matches_depth_first_post_order_on_generated_graphs(graph):
    deps, roots = graph
    bindings = "".join(
        f'  l{i} = layer {{ name = "g/l{i}"; depends = [ {" ".join(f"l{d}" for d in ds)} ]; }};\n'
        for i, ds in deps.items()
    )
    text = f"let\n{bindings}in system {{ layers = [ {' '.join(f'l{r}' for r in roots)} ]; }}\n"
    with tempfile.TemporaryDirectory() as d:
        root = write(pathlib.Path(d), {"board.sk": text})
        got = layer_names(root, "board.sk")
    assert got == tuple(f"g/l{i}" for i in _reference_order(deps, roots))


def test_a_finished_session_leaves_no_layer_behind(tmp_path):
    """Layer values validated during a session are not kept once it is gone."""
    import gc

    from skiffeval.session.layers import Layer

    def retained() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Layer)

    layer_names(FIXTURES, "boards/order.sk", tmp_path / "store")
    before = retained()
    layer_names(FIXTURES, "boards/order.sk", tmp_path / "store")
    assert retained() == before
