"""Differential tests of the kconfiglib driver against C conf on hypothesis-generated trees.

The oracle is Debian's ``kconfig-conf`` (Linux 4.11 kconfig); Buildroot's is 4.17-rc2.  The
generator stays inside what both versions and kconfiglib agree on:

* dependencies only point to earlier symbols and ``select``/``imply`` only to later ones, so
  there are no dependency loops (4.11 warns and carries on where kconfiglib refuses);
* choices are bool choices: tristate choices in m mode are where the versions differ;
* no ``select`` of a choice member (an error in kconfiglib, a warning in C).

Each generated tree is resolved twice (two fragment sets, the second on the cached tree), and
both results are compared with a fresh ``conf --defconfig`` run on the concatenated text: the
same assignments in the same order, and the same ``--savedefconfig`` output.

One legitimate difference is normalized away rather than generated around: 4.11 writes
``# CONFIG_X is not set`` for every bool or tristate symbol that has a ``default``, even one
that evaluates to n (a hidden symbol, or one whose dependencies are unmet); 4.17 — and so
Buildroot and kconfiglib — writes it only when the default gives a value other than n.  So an
"is not set" line that only one side writes is ignored; every other line must match, in
order.  The byte-exact comparison with 4.17 is the test against the real Buildroot.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiffeval.kconfig.engine import TreeSpec
from skiffeval.kconfig.fragment import Fragment
from skiffeval.kconfig.resolve import resolve
from tests.kconfig.helpers import KCONFIG_CONF, run_conf

pytestmark = pytest.mark.skipif(KCONFIG_CONF is None, reason="kconfig-conf (kconfig-frontends-nox) is not installed")

TYPES = ["bool", "bool", "tristate", "string", "int", "hex"]
VALUES = {
    "bool": ["y", "n", "m", "yes", "maybe", '"y"', None],
    "tristate": ["y", "m", "n", "M", None],
    "string": ['"a"', '"x y"', '"q\\"q"', "bare", '""', None],
    "int": ["0", "5", "-3", "12", "007", "+1", "99", None],
    "hex": ["0x10", "ff", "0X1F", "0xZZ", "0x", None],
}


@st.composite
def kconfig_trees(draw):
    """(Kconfig text, {name: type}) of a random small tree."""
    n = draw(st.integers(2, 8))
    names = [f"S{i}" for i in range(n)]
    types = [draw(st.sampled_from(TYPES)) for _ in range(n)]
    tristate_ok = {name for name, t in zip(names, types) if t in ("bool", "tristate")}

    def expr(limit: int) -> str | None:
        pool = [names[j] for j in range(limit) if names[j] in tristate_ok]
        if not pool or not draw(st.booleans()):
            return None
        atom = lambda: draw(st.sampled_from(pool)) if draw(st.booleans()) else "!" + draw(st.sampled_from(pool))
        shape = draw(st.integers(0, 2))
        if shape == 0:
            return atom()
        return f"{atom()} {'&&' if shape == 1 else '||'} {atom()}"

    out: list[str] = []
    modules = draw(st.booleans())
    all_types = {}
    if modules:
        out += ["config MODULES", '\tbool "modules"', "\toption modules", f"\tdefault {draw(st.sampled_from('yn'))}", ""]
        all_types["MODULES"] = "bool"
    menu_at = draw(st.integers(0, n))
    menu_end = draw(st.integers(menu_at, n))
    menu_dep = expr(menu_at)
    for i, (name, kind) in enumerate(zip(names, types)):
        if i == menu_at and menu_end > menu_at:
            out += [f'menu "menu {i}"'] + ([f"\tdepends on {menu_dep}"] if menu_dep else []) + [""]
        all_types[name] = kind
        out.append(f"config {name}")
        out.append(f'\t{kind} "prompt {name}"' if draw(st.integers(0, 3)) else f"\t{kind}")
        dep = expr(i)
        if dep:
            out.append(f"\tdepends on {dep}")
        if kind in ("int", "hex") and draw(st.booleans()):
            out.append("\trange 0 20" if kind == "int" else "\trange 0x0 0xff")
        for _ in range(draw(st.integers(0, 2))):
            if kind in ("bool", "tristate"):
                value = draw(st.sampled_from(["y", "n", "m"] + [names[j] for j in range(i) if names[j] in tristate_ok]))
            elif kind == "string":
                value = draw(st.sampled_from(['"abc"', '"x$(FOO)"', '""']))
            elif kind == "int":
                value = str(draw(st.integers(-5, 30)))
            else:
                value = draw(st.sampled_from(["0x10", "0x0", "0x100"]))
            cond = expr(i)
            out.append(f"\tdefault {value}" + (f" if {cond}" if cond else ""))
        if kind in ("bool", "tristate"):
            later = [names[j] for j in range(i + 1, n) if names[j] in tristate_ok]
            for keyword in ("select", "imply"):
                if later and draw(st.integers(0, 2)) == 0:
                    cond = expr(i)
                    out.append(f"\t{keyword} {draw(st.sampled_from(later))}" + (f" if {cond}" if cond else ""))
        out.append("")
        if i + 1 == menu_end and menu_end > menu_at:
            out += ["endmenu", ""]
    if draw(st.booleans()):
        members = [f"C{k}" for k in range(draw(st.integers(2, 3)))]
        out += ["choice", '\tprompt "a choice"']
        if draw(st.booleans()):
            out.append("\toptional")
        if draw(st.booleans()):
            out.append(f"\tdefault {draw(st.sampled_from(members))}")
        dep = expr(n)
        if dep:
            out.append(f"\tdepends on {dep}")
        out.append("")
        for member in members:
            all_types[member] = "bool"
            out += [f"config {member}", f'\tbool "member {member}"']
            dep = expr(n)
            if dep:
                out.append(f"\tdepends on {dep}")
            out.append("")
        out.append("endchoice")
    if draw(st.booleans()):
        cond = expr(n)
        out += ["", 'comment "a comment"'] + ([f"\tdepends on {cond}"] if cond else [])
    return "\n".join(out) + "\n", all_types


@st.composite
def fragment_sets(draw, types):
    names = sorted(types) + ["NOPE"]
    frags = []
    for k in range(draw(st.integers(1, 3))):
        lines = []
        for _ in range(draw(st.integers(0, 6))):
            name = draw(st.sampled_from(names))
            value = draw(st.sampled_from(VALUES[types.get(name, "bool")]))
            lines.append(f"# CONFIG_{name} is not set" if value is None else f"CONFIG_{name}={value}")
        frags.append(Fragment("".join(l + "\n" for l in lines), f"f{k}.conf", f"layer{k}"))
    return frags


@given(st.data())
def test_generated_trees_match_c_conf(data):
    kconfig, types = data.draw(kconfig_trees())
    first = data.draw(fragment_sets(types))
    second = data.draw(fragment_sets(types))
    with tempfile.TemporaryDirectory(prefix="skiffeval-gen-") as d:
        with open(os.path.join(d, "Kconfig"), "w") as f:
            f.write(kconfig)
        spec = TreeSpec("Kconfig", d)
        for frags in (first, second):
            result = resolve(spec, frags[1:], base=frags[0])
            config, minimal = run_conf(d, "Kconfig", "".join(f.text for f in frags))
            assert _comparable(result.config, config) == _comparable(config, result.config), kconfig
            assert result.defconfig == minimal, kconfig


def _comparable(text: str, other: str) -> list[str]:
    """The lines of ``text`` without "is not set" lines that ``other`` lacks (see above)."""
    theirs = set(other.splitlines())
    return [
        line for line in text.splitlines()
        if not (line.startswith("# CONFIG_") and line.endswith(" is not set") and line not in theirs)
    ]
