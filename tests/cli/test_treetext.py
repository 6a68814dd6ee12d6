"""``tree_text`` (a tree printed as it is walked) prints what ``render_tree`` prints of
``tree_lines``, on graphs with shared sub-trees, several roots, outputs, sites, deep chains (the
``+N`` guides), depth limits and kept subsets."""

from __future__ import annotations

import json
import random

import pytest

from skiffeval.cli.treetext import MAX_GUIDES, render_tree, tree_text
from skiffeval.session.queries import Edge, Graph, Node, tree_lines, why_depends, why_depends_all


def _graph(n: int, width: int, seed: int, roots: int = 1) -> Graph:
    """``n`` derivations, each reading up to ``width`` of the ones before it (a chain through
    all of them, so the tree is deeper than ``MAX_GUIDES``), with a source every fifth one."""
    rnd = random.Random(seed)
    ids = [f"{i:026d}-d{i}.drv" for i in range(n)]
    nodes = {nid: Node(nid, f"d{i}", "derivation", "text", i % 2 == 0, f"{i:026d}", "builtin:write-text")
             for i, nid in enumerate(ids)}
    children: dict[str, list[Edge]] = {}
    site_texts = {}
    for i in range(1, n):
        picks = [i - 1, *sorted(set(rnd.sample(range(i), min(i, width - 1))) - {i - 1})]  # the chain first
        edges = [Edge(ids[i], ids[j], f"p{k}", ("out", "dev") if j % 7 == 0 else ("out",)) for k, j in enumerate(picks)]
        if i % 5 == 0:
            src = f"{i:026d}-s{i}.conf"
            nodes[src] = Node(src, f"s{i}.conf", "source", "source", True)
            edges.append(Edge(ids[i], src, "src"))
        children[ids[i]] = edges
        site_texts[ids[i]] = json.dumps({e.slot: [["env.text", "", None, None, None, None]] for e in edges[:2]})
    top = list(reversed(ids[-roots:]))
    return Graph(top, nodes, children, site_texts=site_texts)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("roots", [1, 3])
def test_tree_text_is_render_tree_of_tree_lines(seed: int, roots: int) -> None:
    graph = _graph(3 * MAX_GUIDES, 3, seed, roots)
    assert "\n+" in tree_text(graph)  # deeper than MAX_GUIDES
    for depth in (None, 0, 1, 2, MAX_GUIDES + 3):
        assert tree_text(graph, depth=depth) == render_tree(graph, tree_lines(graph, depth=depth)), depth
    bottom = next(iter(graph.nodes))
    deps = {bottom, f"{5:026d}-s5.conf"}
    found = why_depends_all(graph, deps)
    assert found is not None
    kept, keep = found
    assert tree_text(kept, keep=keep, sites=True) == render_tree(graph, why_depends(graph, deps, all_paths=True))
    some = set(list(graph.nodes)[len(graph.nodes) // 2:]) | set(graph.roots)
    assert tree_text(graph, keep=some, sites=True) == render_tree(graph, tree_lines(graph, keep=some, sites=True))
