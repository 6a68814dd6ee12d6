"""Properties of the resolver on random package graphs and random SKIFF_CONFIG strings.

* It agrees with a reference model written directly from the brief's pseudo-code (§5).
* On any input it terminates and raises nothing but ``SkiffError``.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from skiffeval.diagnostics import SkiffError
from skiffeval.skiffos.discovery import Discovery, Origin, PackageRef
from skiffeval.skiffos.metadata import parse_dependencies
from skiffeval.skiffos.names import package_key
from skiffeval.skiffos.resolve import PackageMeta, resolve

POOL = [f"c/p{i}" for i in range(6)] + [f"d/q{i}" for i in range(3)]


def reference(L: list[str], deps: dict[str, list[str]]) -> list[str]:
    """The brief's pseudo-code, literally."""
    while True:
        final: list[str] = []
        added = False
        for conf in L:
            if not re.match(r"[A-Za-z0-9]{1,100}/", conf):
                continue
            if conf in final:
                continue
            for dep in deps.get(conf, []):
                if dep not in L:
                    final.append(dep)
                    added = True
            final.append(conf)
        L = final
        if not added:
            return L


def in_memory(dep_texts: dict[str, str]) -> tuple[Discovery, object]:
    refs = [PackageRef(n, package_key(n), f"/mem/{n}", Origin("configs", "/mem")) for n in dep_texts]
    discovery = Discovery("/mem", ("/mem",), tuple(sorted(refs, key=lambda r: r.key)))

    def load(ref: PackageRef) -> PackageMeta:
        deps, problems = parse_dependencies(dep_texts[ref.name], f"/mem/{ref.name}/metadata/dependencies", ref.name)
        return PackageMeta(deps, None, problems)

    return discovery, load


graphs = st.dictionaries(st.sampled_from(POOL), st.lists(st.sampled_from(POOL), max_size=4), min_size=len(POOL))
separators = st.sampled_from([",", " ", ", ", "\t", " ,\n"])


@given(graphs, st.lists(st.sampled_from(POOL), min_size=1, max_size=6), separators, st.sampled_from([",", " "]))
def test_resolver_agrees_with_the_reference_model(graph, listed, sep, dep_sep):
    graph = {name: graph.get(name, []) for name in POOL}
    discovery, load = in_memory({n: dep_sep.join(d) + "\n" for n, d in graph.items()})
    result = resolve(sep.join(listed), discovery, load=load)
    assert list(result.names) == reference(listed, graph)


junk = st.text(alphabet="cdpq0123/,_ \n\t-\\.Aé", max_size=30)


@given(st.dictionaries(st.sampled_from(POOL), junk | st.lists(st.sampled_from(POOL + ["x/y"])).map(",".join)), junk)
def test_resolver_terminates_and_raises_only_skiff_errors(dep_texts, config):
    dep_texts = {name: dep_texts.get(name, "") for name in POOL}
    discovery, load = in_memory(dep_texts)
    try:
        result = resolve(config, discovery, load=load)
    except SkiffError:
        return
    assert all(sel.package.key == package_key(sel.name) for sel in result.selected)
    assert len(set(result.names)) == len(result.names)


@given(st.text(max_size=40))
def test_any_config_string(config):
    discovery, load = in_memory({n: "" for n in POOL})
    try:
        resolve(config, discovery, load=load)
    except SkiffError:
        pass
