"""Queries over derivation graphs: trees, pictures, references, referrers, requisites, why one
thing depends on another, and path information.  Nothing here prints.

The model
* A query walks one of two graphs from the targets a command line names (``targets.Target``):
  - the **derivation graph** (the default): nodes are derivations (``<key>-<name>.drv``) and
    the sources they read (``<digest>-<name>``); an edge is one input *slot* of a derivation.
    It exists before anything is built, so it is what ``tree``, ``graph`` and ``why-depends``
    show.  Records come from the session's table (what this evaluation made, in memory) and
    otherwise from the store, so a store path, a ``.drv`` or an out-link needs no evaluation.
  - the **output graph** (``outputs=True``): nodes are valid store paths, edges the references
    scanned from their bytes — what a realized output needs at run time.
* Every walk visits each node and edge once: a node reached again is not expanded again (a
  tree marks it ``shared``), so a query is linear in the size of the graph.  Nix's ``--tree``
  and ``path-info -rS`` re-walk shared sub-graphs and are quadratic on layered graphs.
* A node's *kind* comes from its builder (``builtin:config-merge`` -> ``config``; ``KINDS``); a
  source or a generic text/copy derivation takes the role its first consumer gives it (a part of
  a config merge is a ``fragment``, a tree of an overlay merge an ``overlay``; ``ROLES``).
* An edge is explained by its *sites* (``edge_sites``): where in the consumer the slot's
  placeholder appears — ``builder``, ``args[i]``, ``env.NAME`` — and, for the JSON ``spec`` of a
  builtin builder, the entry that names it, with its layer, file and Kconfig symbol.

Reading the store.  Walks go breadth-first in waves; records come through ``drvindex``
(the session's table, the query index, or the ``.drv`` files), and a walk without a depth limit
reads its whole indexed closure at once (what the index lacks, listed by the store's references
of the ``.drv`` files).  The output graph is read straight from the store's SQLite metadata
(``store.db.conn()``: ``paths``, ``refs``, ``realisations``), its closure with one recursive
query.  Why not the per-path ``LocalStore`` methods: ``path_info`` computes a closure per call
(quadratic over a closure), and a query per path costs more than the walk.  A walk without a
depth limit is kept in the query cache (``querycache``): the derivation graph for good (its
``.drv`` files are immutable), which derivations are built and the output graph under the
store's generation; asking again reads one row instead of walking.
"""

from __future__ import annotations

import gc
import operator
import os
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from skiffeval.derivation import StorePath
from skiffeval.diagnostics import SkiffError, did_you_mean_help
from skiffeval.session.drvindex import (
    KINDS,
    Site,
    _chunks,
    _Reader,
    _Rec,
    derivation_sites,
    edge_sites,
    index_records,
    kind_of_builder,
)
from skiffeval.session import querycache
from skiffeval.session.pathinfo import _path_rows, path_records, store_paths_of
from skiffeval.session.querycodes import GRAPHVIZ_FAILED, NOT_A_DEPENDENCY, NOT_BUILT, UNKNOWN_DEPENDENCY
from skiffeval.session.querytypes import Edge, Graph, Node, PathRecord, TreeLine, _new

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.session.core import Session
    from skiffeval.session.targets import Target

__all__ = [
    "Node", "Edge", "Site", "Graph", "TreeLine", "PathRecord", "KINDS", "ROLES",
    "derivation_graph", "output_graph", "graph_of", "tree_lines", "requisites", "referrers", "derivation_sites",
    "why_depends", "why_depends_all", "kept_children", "find_dependency", "edge_sites", "path_records",
    "store_paths_of", "kind_of_builder", "display_file", "remember_build",
    "index_records", "NOT_A_DEPENDENCY", "NOT_BUILT", "UNKNOWN_DEPENDENCY", "GRAPHVIZ_FAILED",
]

ROLES: dict[tuple[str, str], str] = {
    ("config", "parts"): "fragment",
    ("fragments", "parts"): "fragment",
    ("overlay", "trees"): "overlay",
    ("patches", "buildroot"): "patches",
    ("patches", "kernel"): "patches",
    ("patches", "uboot"): "patches",
    ("external", "trees"): "external",
    ("hooks", "post_build"): "hook",
    ("hooks", "post_image"): "hook",
    ("resolved", "buildroot"): "buildroot",
    ("image", "buildroot"): "buildroot",
    ("show-info", "buildroot"): "buildroot",
}
"""The role a consumer gives to a source or a generic derivation it reads: by the consumer's
kind and the top-level key of its ``spec`` that names the input."""

_GENERIC = frozenset({"source", "text", "copy"})


# ---------------------------------------------------------------------------------------------
# walking


class _Builder:
    """Accumulates a graph: nodes in discovery order, children, roles from first consumers.
    ``exact`` stays true while every input ref met is the key of the record it found: no
    missing derivation, no fixed-output identity (those depend on what the store holds)."""

    def __init__(self) -> None:
        self.order: dict[str, tuple[str, str, str, _Rec | None]] = {}  # id -> (name, type, kind, rec)
        self.children: dict[str, list[Edge]] = {}
        self.role: dict[str, str] = {}
        self.exact = True

    def add(self, nid: str, name: str, type_: str, kind: str, rec: _Rec | None = None) -> bool:
        if nid in self.order:
            return False
        self.order[nid] = (name, type_, kind, rec)
        return True

    def expand(self, frontier: list[_Rec], recs: dict[str, _Rec | None]) -> list[_Rec]:
        """Add the edges of each derivation of ``frontier`` (its inputs and sources, by slot) and
        the nodes they reach; the derivations first reached here, the next wave.  Every input's
        record must be in ``recs`` already (None: a derivation the store does not know)."""
        order, children, role = self.order, self.children, self.role
        wave: list[_Rec] = []
        for rec in frontier:
            rid = rec.id
            edges: list[Edge] = []
            for slot, ref, outs in rec.inputs:
                child = recs[ref]
                if child is None:
                    cid = f"{ref}-unknown.drv"
                    self.add(cid, ref, "derivation", "missing")
                    self.exact = False
                else:
                    if child.key != ref:
                        self.exact = False
                    cid = child.id
                    if cid not in order:
                        order[cid] = (child.name, "derivation", child.kind, child)
                        wave.append(child)
                edges.append(_new(Edge, (rid, cid, slot, outs)))
            if rec.srcs:
                for slot, basename in rec.srcs:
                    self.add(basename, basename[27:], "source", "source")
                    edges.append(_new(Edge, (rid, basename, slot, ())))
                if rec.inputs:
                    edges.sort(key=_slot)
            if rec.spec_keys:  # the roles this consumer gives: first consumer (in walk order) wins
                spec_keys = dict(rec.spec_keys)
                for slot, ref, _o in rec.inputs:
                    given = ROLES.get((rec.kind, spec_keys.get(slot, "")))
                    if given:
                        child = recs[ref]
                        role.setdefault(child.id if child is not None else f"{ref}-unknown.drv", given)
                for slot, basename in rec.srcs:
                    given = ROLES.get((rec.kind, spec_keys.get(slot, "")))
                    if given:
                        role.setdefault(basename, given)
            children[rid] = edges
        return wave

    def finish(self, roots: list[str], realised: dict[str, tuple], reader: _Reader, as_outputs: bool = False) -> Graph:
        """The graph: each node once, with the role its first consumer gave it; a derivation is
        built when its key is in ``realised`` (with its outputs), every node of the output graph is."""
        nodes: dict[str, Node] = {}
        records: dict[str, _Rec] = {}
        role = self.role
        for nid, (name, type_, kind, rec) in self.order.items():
            if role and kind in _GENERIC and nid in role:
                kind = role[nid]
            if rec is None:
                nodes[nid] = _new(Node, (nid, name, type_, kind, True, None, None, False, ()))
            elif as_outputs:
                nodes[nid] = _new(Node, (nid, name, type_, kind, True, rec.key, rec.builder, rec.fixed, ()))
            else:
                outs = realised.get(rec.key)
                nodes[nid] = _new(Node, (nid, name, type_, kind, outs is not None, rec.key, rec.builder, rec.fixed,
                                         outs or ()))
                records[nid] = rec
        return Graph(roots, nodes, self.children, as_outputs, records, reader)

    def frozen(self) -> tuple[list[tuple], list[tuple[str, list[tuple]]], dict[str, str]]:
        """The walk as plain values for the query cache (``_thaw`` makes the graph again): each
        node's (id, name, type, kind given its role, key, builder, fixed), each node's edges as
        tuples, and each derivation's sites as index text.  Built or not is not part of it.
        Equal builders and site texts are made one object (``same``; slots are interned by
        ``_Rec.inputs``): marshal writes such an object once, and reads it back once."""
        role = self.role
        one: dict[str, str] = {}
        same = one.setdefault
        node_rows: list[tuple] = []
        site_texts: dict[str, str] = {}
        for nid, (name, type_, kind, rec) in self.order.items():
            if kind in _GENERIC and nid in role:
                kind = role[nid]
            if rec is None:
                node_rows.append((nid, name, type_, kind, None, None, False))
            else:
                b = rec.builder
                node_rows.append((nid, name, type_, kind, rec.key, same(b, b), rec.fixed))
                text = rec.sites_text()
                site_texts[nid] = same(text, text)
        return node_rows, _freeze_children(self.children), site_texts


def _freeze_children(children: dict[str, list[Edge]]) -> list[tuple[str, list[tuple]]]:
    """A graph's edges as plain values for the query cache (``_thaw_children`` reverses it)."""
    return [(parent, list(map(tuple, edges))) for parent, edges in children.items()]


def _thaw_children(child_rows: list[tuple[str, list[tuple]]]) -> dict[str, list[Edge]]:
    return {parent: [_new(Edge, e) for e in edges] for parent, edges in child_rows}


def _slot(edge: Edge) -> str:
    return edge.slot


def derivation_graph(session: Session, targets: Sequence[Target], depth: int | None = None) -> Graph:
    """The derivation graph of ``targets`` (derivations and the sources they read), walked
    breadth-first in waves, ``depth`` levels deep at most.  Without a depth limit the walk comes
    from the query cache when it was kept (``querycache``), else the whole indexed closure is
    read at once (``prefetch_closure``) and the walk kept; otherwise, or when the index lacks
    part of it, each wave's records are read in one batch before it is expanded."""
    reader = _Reader(session)
    b = _Builder()
    roots: list[str] = []
    frontier: list[_Rec] = []
    exact_roots = True
    for t in targets:
        if t.drv is not None:
            rec = reader.rec(t.drv.ref) or _Rec.of(t.drv)
            exact_roots = exact_roots and rec.key == t.drv.ref
            if b.add(rec.id, rec.name, "derivation", rec.kind, rec):
                frontier.append(rec)
            roots.append(rec.id)
        elif t.path is not None:
            exact_roots = False
            roots.append(_path_node(session, b, t.path))
    store = session.store
    cache_key = "\n".join(roots) if depth is None and exact_roots and roots and querycache.available(store) else None
    frozen = querycache.load(store, "drv-graph", cache_key) if cache_key else None
    if frozen is None:
        refs = [ref for rec in frontier for _s, ref, _o in rec.inputs]
        whole = depth is None and bool(frontier) and (reader.table_closure(refs) or reader.prefetch_closure(refs))
        if depth is None and frontier and not whole:  # what the index lacks: listed by the store
            reader.prefetch_store_closure([rec.id for rec in frontier])
        level = 0
        while frontier and (depth is None or level < depth):
            level += 1
            if not whole:
                reader.prefetch(ref for rec in frontier for _s, ref, _o in rec.inputs)
            frontier = b.expand(frontier, reader.recs)
        reader.flush()
        if cache_key is not None and b.exact:
            querycache.save(store, "drv-graph", cache_key, b.frozen())
        else:
            cache_key = None
        keys = [rec.key for _n, _t, _k, rec in b.order.values() if rec is not None]
    else:
        keys = [key for _i, _n, _t, _k, key, _b, _f in frozen[0] if key is not None]
    gen = querycache.generation(store) if cache_key is not None else None
    realised = querycache.load(store, "realised", cache_key, gen) if gen is not None else None
    if realised is None:
        realised = _realised(reader.conn, keys)
        if gen is not None:
            querycache.save(store, "realised", cache_key, realised, gen)
    return b.finish(roots, realised, reader) if frozen is None else _thaw(frozen, roots, realised, reader)


def _thaw(frozen: tuple, roots: list[str], realised: dict[str, tuple], reader: _Reader) -> Graph:
    """The graph of a kept walk (``_Builder.frozen``), with what ``realised`` says is built."""
    node_rows, child_rows, site_texts = frozen
    nodes: dict[str, Node] = {}
    for nid, name, type_, kind, key, builder, fixed in node_rows:
        if key is None:
            nodes[nid] = _new(Node, (nid, name, type_, kind, True, None, None, False, ()))
        else:
            outs = realised.get(key)
            nodes[nid] = _new(Node, (nid, name, type_, kind, outs is not None, key, builder, fixed, outs or ()))
    return Graph(roots, nodes, _thaw_children(child_rows), False, {}, reader, site_texts)


def _realised(conn: Any, keys: list[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """The realized ``keys`` (every output valid, as ``LocalStore.realisations`` decides) with
    their (output, basename) pairs — without making a validated ``StorePath`` per output."""
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    invalid: set[str] = set()
    q = ("SELECT r.key, o.output, o.path, p.path IS NOT NULL FROM realisations r "
         "JOIN resolved_outputs o ON o.resolved = r.resolved LEFT JOIN paths p ON p.path = o.path "
         "WHERE r.key IN ({})")
    for part in _chunks(sorted(keys)):  # in key order: each B-tree page is visited once
        for key, output, path, valid in conn.execute(q.format(",".join("?" * len(part))), part):
            pair = (output, path)
            found[key] = tuple(sorted(found[key] + (pair,))) if key in found else (pair,)
            if not valid:
                invalid.add(key)
    for key in invalid:
        del found[key]
    return found


def _path_node(session: Session, b: _Builder, path: StorePath) -> str:
    """A root that is a store path without a known derivation (a source, or an orphan output)."""
    row = session.store.db.conn().execute("SELECT kind FROM paths WHERE path=?", (path.basename,)).fetchone()
    kind = "output" if row is not None and row[0] == "output" else "source"
    b.add(path.basename, path.name, kind, kind)
    return path.basename


def output_graph(session: Session, targets: Sequence[Target], depth: int | None = None) -> Graph:
    """The output graph of ``targets``: their realized outputs and everything those refer to,
    walked breadth-first in waves, ``depth`` levels deep at most: the whole closure read at once
    without a depth limit (and kept in the query cache, under the store's generation), else a
    wave at a time (``_path_rows``)."""
    reader = _Reader(session)
    b = _Builder()
    roots: list[str] = []
    for t in targets:
        if t.path is None:
            name = t.drv.name if t.drv is not None else t.label
            raise SkiffError(NOT_BUILT, f"'{name}' is not built, so it has no outputs to query",
                             help=["build it first, or query its derivations (without --outputs)"])
        roots.append(t.path.basename)
    gen = querycache.generation(session.store) if depth is None and querycache.available(session.store) else None
    if gen is not None:
        kept = querycache.load(session.store, "out-graph", "\n".join(roots), gen)
        if kept is not None:
            node_rows, child_rows = kept
            return Graph(roots, {n[0]: _new(Node, n) for n in node_rows}, _thaw_children(child_rows), True, {}, reader)
    c = reader.conn
    frontier = list(dict.fromkeys(roots))
    seen = set(frontier)
    closure = _path_rows(c, frontier, "kind, deriver", closure=True) if depth is None else None
    if closure is not None:
        reader.prefetch(d for _k, d in closure[0].values() if d)
    level = 0
    while frontier:
        if depth is not None and level >= depth:  # the last level: nodes without their references
            for base in frontier:
                row = c.execute("SELECT kind, deriver FROM paths WHERE path=?", (base,)).fetchone()
                kind, deriver = row if row is not None else ("source", None)
                rec = reader.rec(deriver) if deriver else None
                b.add(base, base[27:], kind, rec.kind if rec is not None else kind, rec)
            break
        level += 1
        if closure is not None:  # read already: the whole closure at once
            rows, refs = closure
        else:
            rows, refs = _path_rows(c, frontier, "kind, deriver", closure=False)
            reader.prefetch(d for _k, d in rows.values() if d)
        wave: list[str] = []
        for base in frontier:
            kind, deriver = rows.get(base, ("source", None))
            rec = reader.recs.get(deriver) if deriver else None
            own = rec.kind if rec is not None else kind
            b.add(base, base[27:], kind, own, rec)  # the store validated its names
            kids = sorted(refs.get(base, ()), key=_name)  # by name, then basename (refs come sorted, sorted() is stable)
            b.children[base] = [_new(Edge, (base, ref, "", ())) for ref in kids]
            if rec is not None and rec.spec_keys and rec.srcs:  # the role of a source it refers to
                spec_keys = dict(rec.spec_keys)
                for slot, ref in rec.srcs:
                    role = ROLES.get((own, spec_keys.get(slot, "")))
                    if role and ref in kids:
                        b.role.setdefault(ref, role)
            for ref in kids:
                if ref not in seen:
                    seen.add(ref)
                    wave.append(ref)
        frontier = wave
    reader.flush()
    graph = b.finish(roots, {}, reader, as_outputs=True)
    if gen is not None:
        one: dict[Any, Any] = {}  # equal small values made one object (``_Builder.frozen``)
        same = one.setdefault
        querycache.save(session.store, "out-graph", "\n".join(roots), (
            [(n.id, n.name, same(n.type, n.type), same(n.kind, n.kind), True, n.key, same(n.builder, n.builder),
              n.fixed, ()) for n in graph.nodes.values()],
            _freeze_children(graph.children)), gen)
    return graph


_name = operator.itemgetter(slice(27, None))
"""A store basename's name (after ``<digest>-``): the output graph orders references by it, as
digests depend on the store root.  An itemgetter: no Python call per reference."""


def graph_of(session: Session, targets: Sequence[Target], *, outputs: bool = False, depth: int | None = None) -> Graph:
    """The output graph (``outputs``) or the derivation graph of ``targets``."""
    return output_graph(session, targets, depth) if outputs else derivation_graph(session, targets, depth)


def remember_build(session: Session, drvs: Sequence[Any], paths: Sequence[StorePath]) -> None:
    """Keep in the query cache the walks the queries after a build start with, while the
    build's records are still in memory: the derivation graph of the built derivations
    ``drvs`` (as ``query tree FILE`` names them: one walk for all of them, which derivations
    are built with it) and the output graph of each output path of ``paths`` (as an out-link
    names it).  Call it after the build's last write to the store (its out-links): the output
    graph is kept under the store's generation then.

    Why: a build has every record of its graph in memory (``_Reader.table_closure``), so the
    derivation walk costs no read at all here, where the first query would read the whole
    closure back from the index; the output walk reads what the build has just written.  A
    walk already kept is not walked again.  Best effort, like the cache: what fails here is
    only a slower first query, never a failed build."""
    store = session.store
    if not querycache.available(store):
        return
    from skiffeval.session.targets import Target

    # Without the cyclic garbage collector meanwhile: a build's process holds every object of
    # its evaluation, and the walks make ~10 objects per node, none of them cyclic — each
    # collection they would set off re-scans that whole heap (it doubled the time taken).
    enabled = gc.isenabled()
    gc.disable()
    try:
        if drvs:
            derivation_graph(session, [Target(d.name, d, "out", None) for d in drvs])
        for path in dict.fromkeys(paths):
            output_graph(session, [Target(path.name, None, "out", path)])
    except (SkiffError, sqlite3.Error, OSError):
        pass
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------
# queries over a graph


def tree_lines(graph: Graph, *, depth: int | None = None, keep: set[str] | None = None,
               sites: bool = False) -> list[TreeLine]:
    """The graph as a tree in pre-order: each node is expanded once; a node met again is a
    ``shared`` line without children.  ``keep`` restricts the walk to those nodes (why-depends);
    ``depth`` cuts it; ``sites`` explains every edge (from its parent's sites, read once per
    expanded parent: every line but a root's is pushed when its parent is expanded)."""
    lines: list[TreeLine] = []
    expanded: set[str] = set()
    roots = [r for r in graph.roots if keep is None or r in keep]
    stack: list[tuple[str, Edge | None, int, bool, tuple[Site, ...]]] = [
        (r, None, 0, i == len(roots) - 1, ()) for i, r in enumerate(roots)][::-1]
    children = kept_children(graph, keep)
    push, pop, add = stack.append, stack.pop, lines.append
    by_slot: dict[str, tuple[Site, ...]] = {}
    while stack:
        nid, edge, d, last, explained = pop()
        kids = children.get(nid, ())
        seen = nid in expanded
        add(_new(TreeLine, (d, nid, edge, seen and bool(kids), last, explained)))
        if seen or not kids or (depth is not None and d >= depth):
            continue
        expanded.add(nid)
        d += 1
        if sites:
            by_slot = graph.slot_sites(nid)
        e = kids[-1]
        push((e.child, e, d, True, by_slot.get(e.slot, ())))
        for e in kids[-2::-1]:  # the others, last first: popped in order
            push((e.child, e, d, False, by_slot.get(e.slot, ())))
    return lines


def kept_children(graph: Graph, keep: set[str] | None) -> dict[str, list[Edge]]:
    """Each node's children among ``keep`` (all of them when ``keep`` is None or holds every
    node: why-depends on something everything reaches)."""
    children = graph.children
    if keep is None or len(keep) >= len(graph.nodes) and keep >= graph.nodes.keys():
        return children
    return {nid: [e for e in edges if e.child in keep] for nid, edges in children.items() if nid in keep}


def requisites(graph: Graph) -> list[str]:
    """Every node of the graph, dependencies before their dependents (post-order)."""
    order: list[str] = []
    done: set[str] = set()
    for root in graph.roots:
        if root in done:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        done.add(root)
        while stack:
            nid, i = stack[-1]
            kids = graph.children.get(nid, ())
            if i < len(kids):
                stack[-1] = (nid, i + 1)
                child = kids[i].child
                if child not in done:
                    done.add(child)
                    stack.append((child, 0))
            else:
                stack.pop()
                order.append(nid)
    return order


def referrers(session: Session, graph: Graph) -> list[Node]:
    """What refers to the graph's roots: derivations that read them (this evaluation's and the
    store's), or, in the output graph, the valid paths whose bytes mention them."""
    reader: _Reader = graph.reader
    roots = set(graph.roots)
    found: dict[str, Node] = {}
    if not graph.outputs:
        table = list(reader.by_ref.values())  # the evaluation's derivations (maybe not written yet)
        reader.prefetch(inp.key for d in table for inp in d.input_drvs.values())
        for d in table:
            reads = [reader.recs[inp.key] for inp in d.input_drvs.values()]
            ids = {r.id for r in reads if r is not None} | {p.basename for p in d.input_srcs.values()}
            if not roots.isdisjoint(ids):
                rec = _Rec.of(d)
                found[rec.id] = _drv_node(rec)
    for root in graph.roots:
        for sp in session.store.referrers(StorePath.parse(root)):
            is_drv = sp.basename.endswith(".drv")
            if sp.basename == root or is_drv == graph.outputs:
                continue
            if is_drv:
                rec = reader.rec(sp.digest)
                if rec is not None:
                    found[rec.id] = _drv_node(rec)
            else:
                found[sp.basename] = _output_node(session, reader, sp)
    reader.flush()
    nodes = sorted(found.values(), key=lambda n: (n.name, n.id))
    realised = _realised(reader.conn, [n.key for n in nodes if n.key and n.type == "derivation"])
    return [n._replace(built=True, outputs=realised[n.key]) if n.key in realised else n for n in nodes]


def _drv_node(rec: _Rec) -> Node:
    return Node(rec.id, rec.name, "derivation", rec.kind, False, rec.key, rec.builder, rec.fixed)


def _output_node(session: Session, reader: _Reader, sp: StorePath) -> Node:
    row = reader.conn.execute("SELECT kind, deriver FROM paths WHERE path=?", (sp.basename,)).fetchone()
    kind, deriver = row if row is not None else ("output", None)
    rec = reader.rec(deriver) if deriver else None
    return Node(sp.basename, sp.name, kind, rec.kind if rec is not None else kind, True,
                deriver, rec.builder if rec is not None else None)


# ---------------------------------------------------------------------------------------------
# why-depends


def find_dependency(session: Session, graph: Graph, text: str, resolve: Any) -> set[str]:
    """The nodes of ``graph`` a DEPENDENCY argument names: a TARGET (store path, .drv, out-link,
    FILE#ATTR or a .sk file, through ``resolve``), a source file or folder on disk (by the store
    path it would have), or a node's name or store basename."""
    store = session.store
    root = str(store.root) + "/"
    path = os.path.abspath(os.path.join(session.options.cwd, text))
    looks_stored = path.startswith(root) or os.path.realpath(path).startswith(root) or (
        "/" not in text and text.endswith(".drv") and len(text) > 27 and text[26] == "-")
    if looks_stored or "#" in text or text.endswith(".sk"):
        ids: set[str] = set()
        for t in resolve(text):
            if t.drv is not None and not graph.outputs:
                ids.add(f"{t.drv.key}-{t.drv.name}.drv")
                rec = graph.reader.rec(t.drv.ref)
                if rec is not None:
                    ids.add(rec.id)
            if t.path is not None:
                ids.add(t.path.basename)
        return ids
    if os.path.lexists(path):
        from skiffeval.session.storeio import store_name

        return {store.hash_source(path, store_name(path)).basename}
    by_name = {nid for nid, n in graph.nodes.items() if text in (n.name, nid)}
    if by_name:
        return by_name
    # a derivation this evaluation or the store knows, outside the closure: not a dependency
    known = {f"{d.key}-{d.name}.drv" for d in graph.reader.by_ref.values() if d.name == text}
    known.update(f"{k}-{text}.drv" for (k,) in graph.reader.conn.execute("SELECT key FROM derivations WHERE name=?", (text,)))
    if known:
        return known
    raise SkiffError(UNKNOWN_DEPENDENCY, f"'{text}' names nothing in the closure of '{', '.join(graph.roots)}'",
                     help=did_you_mean_help(text, sorted({n.name for n in graph.nodes.values()})) or
                     ["give a store path, a .drv, FILE#ATTR, a source file, or the name of a derivation in the closure"])


def why_depends(graph: Graph, deps: set[str], *, all_paths: bool = False) -> list[TreeLine]:
    """How the graph's roots reach ``deps``: the shortest chain from the first root that reaches
    one (breadth-first), or with ``all_paths`` every node on some path, as a tree with shared
    sub-trees marked.  Each line carries the sites of its edge.  No lines (E400 for the command)
    when no root reaches a dependency."""
    if all_paths:
        found = why_depends_all(graph, deps)
        return tree_lines(found[0], keep=found[1], sites=True) if found is not None else []
    targets = deps & graph.nodes.keys()
    for start in graph.roots if targets else ():
        chain = _shortest_chain(graph, start, targets)
        if chain is not None:
            out = [TreeLine(0, start, None, False, True)]
            for i, e in enumerate(chain):
                out.append(TreeLine(i + 1, e.child, e, False, True, edge_sites_of(graph, e)))
            return out
    return []


def why_depends_all(graph: Graph, deps: set[str]) -> tuple[Graph, set[str]] | None:
    """What ``why_depends(all_paths=True)`` shows: the graph with only the roots that reach one
    of ``deps``, and the nodes on some path to one (the ``keep`` of ``tree_lines``); None when
    no root reaches one."""
    targets = deps & graph.nodes.keys()
    if not targets:
        return None
    reach = _reaching(graph, targets)
    roots = [r for r in graph.roots if r in reach]
    return (attrs.evolve(graph, roots=roots), reach) if roots else None


def _reaching(graph: Graph, targets: set[str]) -> set[str]:
    """The nodes that reach one of ``targets`` (themselves included): a reverse search."""
    parents: dict[str, list[str]] = {}
    for nid, edges in graph.children.items():
        for e in edges:
            parents.setdefault(e.child, []).append(nid)
    reach = set(targets)
    queue = list(targets)
    while queue:
        nid = queue.pop()
        for p in parents.get(nid, ()):
            if p not in reach:
                reach.add(p)
                queue.append(p)
    return reach


def _shortest_chain(graph: Graph, start: str, targets: set[str]) -> list[Edge] | None:
    """The edges of a shortest path from ``start`` to one of ``targets`` (breadth-first, children
    in slot order: the first target met), or None when there is none."""
    came: dict[str, Edge | None] = {start: None}
    frontier = [start]
    end = start if start in targets else None
    children = graph.children
    while frontier and end is None:
        nxt = []
        for nid in frontier:
            for e in children.get(nid, ()):
                child = e.child
                if child not in came:
                    came[child] = e
                    if child in targets:
                        end = child
                        break
                    nxt.append(child)
            if end is not None:
                break
        frontier = nxt
    if end is None:
        return None
    chain: list[Edge] = []
    edge = came[end]
    while edge is not None:
        chain.append(edge)
        edge = came[edge.parent]
    chain.reverse()
    return chain


# ---------------------------------------------------------------------------------------------
# sites: where a consumer names an input


def display_file(session: Session, label: str) -> str:
    """A file label of a derivation (``demo/base:base/kernel.conf``) as the path a person can
    open, when this session's evaluation made the label (or the evaluation cache kept it:
    ``Session.display_labels``); else the label itself."""
    kept = session.display_labels.get(label)
    if kept is not None:
        return kept
    host = session._system_host
    path = host.labels.get(label) if host is not None else None
    return session.evaluator.display_name(path) if path else label


def edge_sites_of(graph: Graph, edge: Edge) -> tuple[Site, ...]:
    """The sites of an edge of the derivation graph (none in the output graph)."""
    return graph.slot_sites(edge.parent).get(edge.slot, ()) if edge.slot else ()
