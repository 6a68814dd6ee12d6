"""Dependency loops: a tree with one parses, the loop is reported (W221) the same way on every
run, and values are what C ``conf`` computes (``skiffeval.kconfig.loops``)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skiffeval.kconfig.engine import TreeSpec, parse_tree
from skiffeval.kconfig.fragment import Fragment
from skiffeval.kconfig.resolve import resolve
from tests.kconfig.helpers import KCONFIG_CONF, run_conf
from tests.kconfig.test_kconfig_differential import _comparable

LOOP = Path(__file__).parent / "fixtures" / "loop"
NAMES = ["PY", "ARGON", "SHOW", "APPARMOR"]
CHAIN = ("ARGON", "SHOW", "APPARMOR", "PY", "ARGON")


def _fragment(values: tuple[str | None, ...], reverse: bool) -> str:
    lines = [f"CONFIG_{n}=y\n" if v == "y" else f"# CONFIG_{n} is not set\n" for n, v in zip(NAMES, values) if v]
    return "".join(reversed(lines) if reverse else lines)


def test_a_tree_with_a_loop_parses_and_names_it_with_its_places() -> None:
    tree = parse_tree(TreeSpec("Kconfig", str(LOOP)))
    assert [loop.names for loop in tree.loops] == [CHAIN]
    r = resolve(TreeSpec("Kconfig", str(LOOP)), [Fragment("CONFIG_ARGON=y\n", "f.conf", "l")])
    loops = [d for d in r.report.diagnostics if d.code.code == "W221"]
    assert len(loops) == 1 and r.report.diagnostics[0] is loops[0]  # the tree's problem first
    d = loops[0]
    assert d.message.startswith("dependency loop: ARGON -> SHOW -> APPARMOR -> PY -> ARGON (each depends on the next")
    assert d.severity.value == "warning"
    assert (d.span.file, d.span.line) == (str(LOOP / "Kconfig"), 9)
    assert [(n.message, n.span.line) for n in d.related] == [
        ("'SHOW' is defined here", 14), ("'APPARMOR' is defined here", 17), ("'PY' is defined here", 6)]
    assert any("recursive dependency detected!" in h for h in d.help)


def test_the_loop_is_named_alike_whatever_the_hash_seed() -> None:
    """kconfiglib's own check walks sets and names a different loop from run to run here."""
    probe = (
        "from skiffeval.kconfig.engine import TreeSpec, parse_tree\n"
        f"print(parse_tree(TreeSpec('Kconfig', {str(LOOP)!r})).loops[0].names)\n"
    )
    seen = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        seen.add(out)
    assert seen == {f"{CHAIN}\n"}


def test_values_in_a_loop_do_not_depend_on_earlier_resolutions() -> None:
    spec = TreeSpec("Kconfig", str(LOOP))
    first = resolve(spec, [Fragment(_fragment(("y", "y", None, "y"), False), "f.conf", "l")]).config
    resolve(spec, [Fragment(_fragment(("n", "n", "n", "n"), True), "g.conf", "l")])
    assert resolve(spec, [Fragment(_fragment(("y", "y", None, "y"), False), "f.conf", "l")]).config == first


@pytest.mark.skipif(KCONFIG_CONF is None,
                    reason="kconfig-conf (kconfig-frontends-nox) is not installed")
@pytest.mark.parametrize("reverse", [False, True], ids=["in-order", "reversed"])
def test_every_assignment_of_the_loop_gives_what_c_conf_gives(reverse: bool) -> None:
    spec = TreeSpec("Kconfig", str(LOOP))
    for values in itertools.product(["y", "n", None], repeat=len(NAMES)):
        text = _fragment(values, reverse)
        ours = resolve(spec, [Fragment(text, "f.conf", "l")]).config
        theirs, _ = run_conf(str(LOOP), "Kconfig", text)
        assert _comparable(ours, theirs) == _comparable(theirs, ours), text
