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
reads its whole indexed closure at once.  The output graph is read straight from the store's
SQLite metadata (``store.db.conn()``: ``paths``, ``refs``, ``realisations``), its closure with
one recursive query.  Why not the per-path ``LocalStore`` methods: ``path_info`` computes a
closure per call (quadratic over a closure), and a query per path costs more than the walk.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from skiffeval.derivation import StorePath
from skiffeval.diagnostics import SkiffError, define_code, did_you_mean_help
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

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.session.core import Session
    from skiffeval.session.targets import Target

__all__ = [
    "Node", "Edge", "Site", "Graph", "TreeLine", "PathRecord", "KINDS", "ROLES",
    "derivation_graph", "output_graph", "graph_of", "tree_lines", "requisites", "referrers", "derivation_sites",
    "why_depends", "find_dependency", "edge_sites", "path_records", "kind_of_builder", "display_file",
    "index_records", "NOT_A_DEPENDENCY", "NOT_BUILT", "UNKNOWN_DEPENDENCY", "GRAPHVIZ_FAILED",
]

D = "query"
NOT_A_DEPENDENCY = define_code("E400", "not-a-dependency", D, "why-depends: the target does not depend on the dependency")
NOT_BUILT = define_code("E401", "not-built", D, "a query about the outputs of a derivation that is not built")
UNKNOWN_DEPENDENCY = define_code("E402", "unknown-dependency", D, "a DEPENDENCY that names nothing in the target's closure")
GRAPHVIZ_FAILED = define_code("E403", "graphviz-failed", D, "Graphviz 'dot' is missing or failed to draw the graph")

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
# records
#
# Nodes, edges and tree lines are NamedTuples, not frozen attrs classes: a 10,000-node query
# makes ~30,000 edges and lines, and a frozen attrs class's __init__ costs several tuples'.


class Node(NamedTuple):
    """A node of a query's graph.  ``id`` is its store basename (``<key>-<name>.drv`` for a
    derivation); ``type`` is ``derivation``, ``source`` or ``output``; ``built`` says whether a
    derivation is realized (sources and outputs are valid paths: always true); ``outputs``
    are a realized derivation's output basenames."""

    id: str
    name: str
    type: str
    kind: str
    built: bool
    key: str | None = None
    builder: str | None = None
    fixed: bool = False
    outputs: tuple[tuple[str, str], ...] = ()

    def to_json(self, root: str) -> dict[str, Any]:
        nid, type_ = self.id, self.type
        if type_ == "derivation":
            return {"id": nid, "name": self.name, "type": type_, "kind": self.kind, "built": self.built,
                    "path": f"{root}/{nid}", "key": self.key, "builder": self.builder, "fixed": self.fixed,
                    "outputs": {o: f"{root}/{p}" for o, p in self.outputs}}
        doc: dict[str, Any] = {"id": nid, "name": self.name, "type": type_, "kind": self.kind, "built": self.built,
                               "path": f"{root}/{nid}"}
        if self.key is not None:  # an output: the derivation that made it
            doc["deriver"], doc["builder"] = self.key, self.builder
        return doc


class Edge(NamedTuple):
    """``parent`` reads ``child`` through the input ``slot`` (outputs ``outputs``); in the
    output graph ``slot`` is '' (a reference scanned from bytes)."""

    parent: str
    child: str
    slot: str
    outputs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"from": self.parent, "to": self.child, "slot": self.slot, "outputs": list(self.outputs)}


@attrs.define
class Graph:
    """What a walk found: ``roots`` and ``nodes`` (discovery order), and the ``children`` of
    every node (ordered by slot); ``outputs`` tells the output graph from the derivation graph."""

    roots: list[str]
    nodes: dict[str, Node]
    children: dict[str, list[Edge]]
    outputs: bool = False
    records: dict[str, Any] = attrs.field(factory=dict, repr=False)  # node id -> _Rec
    reader: Any = attrs.field(default=None, repr=False)

    def to_json(self, root: str) -> dict[str, Any]:
        return {
            "roots": list(self.roots),
            "nodes": [n.to_json(root) for n in self.nodes.values()],
            "edges": [e.to_json() for es in self.children.values() for e in es],
        }


class TreeLine(NamedTuple):
    """One line of a tree: ``node`` at ``depth``, reached through ``edge`` (None for a root);
    ``shared`` when the node was expanded above (its children are not repeated); ``last`` when
    it is its parent's last child; ``sites`` explain the edge (why-depends only)."""

    depth: int
    node: str
    edge: Edge | None
    shared: bool
    last: bool
    sites: tuple[Site, ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"depth": self.depth, "node": self.node, "slot": self.edge.slot if self.edge else None,
                               "shared": self.shared}
        if self.sites:
            doc["sites"] = [s.to_json() for s in self.sites]
        return doc


class PathRecord(NamedTuple):
    """What the store knows of one valid path (``path-info``)."""

    path: str  # basename
    kind: str  # source, output, drv
    size: int
    files: int
    sha256: str
    deriver: str | None  # the deriver's .drv basename
    references: tuple[str, ...]
    closure_size: int | None = None

    def to_json(self, root: str) -> dict[str, Any]:
        doc = {"path": f"{root}/{self.path}", "kind": self.kind, "size": self.size, "files": self.files,
               "sha256": self.sha256, "deriver": f"{root}/{self.deriver}" if self.deriver else None,
               "references": [f"{root}/{r}" for r in self.references]}
        if self.closure_size is not None:
            doc["closure_size"] = self.closure_size
        return doc


_new = tuple.__new__  # a NamedTuple without its Python-level __new__ (hot loops only)
# ---------------------------------------------------------------------------------------------
# walking


class _Builder:
    """Accumulates a graph: nodes in discovery order, children, roles from first consumers."""

    def __init__(self) -> None:
        self.order: dict[str, tuple[str, str, str, _Rec | None]] = {}  # id -> (name, type, kind, rec)
        self.children: dict[str, list[Edge]] = {}
        self.role: dict[str, str] = {}

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
                else:
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


def _slot(edge: Edge) -> str:
    return edge.slot


def derivation_graph(session: Session, targets: Sequence[Target], depth: int | None = None) -> Graph:
    """The derivation graph of ``targets`` (derivations and the sources they read), walked
    breadth-first in waves, ``depth`` levels deep at most.  Without a depth limit the whole
    indexed closure is read at once (``prefetch_closure``); otherwise, or when the index lacks
    part of it, each wave's records are read in one batch before it is expanded."""
    reader = _Reader(session)
    b = _Builder()
    roots: list[str] = []
    frontier: list[_Rec] = []
    for t in targets:
        if t.drv is not None:
            rec = reader.rec(t.drv.ref) or _Rec.of(t.drv)
            if b.add(rec.id, rec.name, "derivation", rec.kind, rec):
                frontier.append(rec)
            roots.append(rec.id)
        elif t.path is not None:
            roots.append(_path_node(session, b, t.path))
    whole = depth is None and bool(frontier) and reader.prefetch_closure(
        [ref for rec in frontier for _s, ref, _o in rec.inputs])
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        if not whole:
            reader.prefetch(ref for rec in frontier for _s, ref, _o in rec.inputs)
        frontier = b.expand(frontier, reader.recs)
    reader.flush()
    keys = [rec.key for _n, _t, _k, rec in b.order.values() if rec is not None]
    return b.finish(roots, _realised(reader.conn, keys), reader)


def _realised(conn: Any, keys: list[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """The realized ``keys`` (every output valid, as ``LocalStore.realisations`` decides) with
    their (output, basename) pairs — without making a validated ``StorePath`` per output."""
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    invalid: set[str] = set()
    q = ("SELECT r.key, o.output, o.path, p.path IS NOT NULL FROM realisations r "
         "JOIN resolved_outputs o ON o.resolved = r.resolved LEFT JOIN paths p ON p.path = o.path "
         "WHERE r.key IN ({})")
    for part in _chunks(keys):
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
    without a depth limit, else a wave at a time (``_path_rows``)."""
    reader = _Reader(session)
    b = _Builder()
    roots: list[str] = []
    for t in targets:
        if t.path is None:
            name = t.drv.name if t.drv is not None else t.label
            raise SkiffError(NOT_BUILT, f"'{name}' is not built, so it has no outputs to query",
                             help=["build it first, or query its derivations (without --outputs)"])
        roots.append(t.path.basename)
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
    return b.finish(roots, {}, reader, as_outputs=True)


_name = operator.itemgetter(slice(27, None))
"""A store basename's name (after ``<digest>-``): the output graph orders references by it, as
digests depend on the store root.  An itemgetter: no Python call per reference."""


def graph_of(session: Session, targets: Sequence[Target], *, outputs: bool = False, depth: int | None = None) -> Graph:
    """The output graph (``outputs``) or the derivation graph of ``targets``."""
    return output_graph(session, targets, depth) if outputs else derivation_graph(session, targets, depth)


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
    children = graph.children
    if keep is not None:  # each node's kept children, once
        children = {nid: [e for e in edges if e.child in keep] for nid, edges in children.items() if nid in keep}
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
            by_slot = _slot_sites(graph, nid)
        e = kids[-1]
        push((e.child, e, d, True, by_slot.get(e.slot, ())))
        for e in kids[-2::-1]:  # the others, last first: popped in order
            push((e.child, e, d, False, by_slot.get(e.slot, ())))
    return lines


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
    targets = deps & graph.nodes.keys()
    if not targets:
        return []
    if all_paths:
        reach = _reaching(graph, targets)
        roots = [r for r in graph.roots if r in reach]
        return tree_lines(attrs.evolve(graph, roots=roots), keep=reach, sites=True) if roots else []
    for start in graph.roots:
        chain = _shortest_chain(graph, start, targets)
        if chain is not None:
            out = [TreeLine(0, start, None, False, True)]
            for i, e in enumerate(chain):
                out.append(TreeLine(i + 1, e.child, e, False, True, edge_sites_of(graph, e)))
            return out
    return []


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
    open, when this session's evaluation made the label; else the label itself."""
    host = session._system_host
    path = host.labels.get(label) if host is not None else None
    return session.evaluator.display_name(path) if path else label


def edge_sites_of(graph: Graph, edge: Edge) -> tuple[Site, ...]:
    """The sites of an edge of the derivation graph (none in the output graph)."""
    return _slot_sites(graph, edge.parent).get(edge.slot, ()) if edge.slot else ()


def _slot_sites(graph: Graph, nid: str) -> dict[str, tuple[Site, ...]]:
    """Where node ``nid`` names each of its input slots (``derivation_sites``); nothing for a
    node without a record, and in the output graph (its edges have no slots)."""
    rec = graph.records.get(nid)
    return {} if graph.outputs or rec is None else rec.sites()


# ---------------------------------------------------------------------------------------------
# path-info


def path_records(session: Session, paths: Sequence[StorePath], *, recursive: bool = False,
                 closure_sizes: bool = False) -> list[PathRecord]:
    """What the store knows of ``paths`` (with ``recursive``, of their whole closure, dependencies
    first), with closure sizes when asked.

    The rows and references of the whole closure are read with one recursive query
    (``_path_rows``); closure sizes in linear passes (``_closure_sizes``).
    """
    store = session.store
    c = store.db.conn()
    starts = list(dict.fromkeys(p.basename for p in paths))
    walk = recursive or closure_sizes
    rows, refs = _path_rows(c, starts, "kind, size, files, sha256, deriver", closure=walk)
    missing = [b for b in starts if b not in rows] or [b for b in refs if b not in rows]
    if missing:
        raise SkiffError(NOT_BUILT, f"'{missing[0]}' is not a valid path in the store '{store.root}'")
    order = _post_order(starts, refs) if walk else starts  # references before referrers
    sizes: dict[str, int] = {}
    if closure_sizes and recursive:
        sizes = _closure_sizes(order, refs, [rows[b][1] for b in order])
    elif closure_sizes:  # the given paths' only: a sum over each one's closure
        sizes = {b: sum([rows[x][1] for x in _post_order([b], refs)]) for b in starts}
    wanted = order if recursive else starts
    derivers = list({rows[b][4] for b in wanted if rows[b][4]})
    names: dict[str, str] = {}
    for part in _chunks(derivers):
        marks = ",".join("?" * len(part))
        for key, name in c.execute(f"SELECT key, name FROM derivations WHERE key IN ({marks})", part):
            names[key] = f"{key}-{name}.drv"
    out = []
    for b in wanted:
        kind, size, files, sha, deriver = rows[b]
        out.append(_new(PathRecord, (b, kind, size, files, sha, names.get(deriver) if deriver else None,
                                     tuple(refs[b]), sizes.get(b) if closure_sizes else None)))
    return out


def _path_rows(c: Any, paths: list[str], columns: str, *, closure: bool) -> tuple[dict[str, tuple], dict[str, list[str]]]:
    """The ``paths`` row (``columns``) and the sorted references (not itself) of each of
    ``paths`` — or, with ``closure``, of every path in their closure, read with one recursive
    query inside SQLite rather than a few queries per breadth-first wave.  A path the store
    does not know has references (none) but no row."""
    cols = ", ".join(f"paths.{name.strip()}" for name in columns.split(","))
    select = (f"SELECT c.p, (SELECT group_concat(reference, ' ') FROM refs WHERE referrer = c.p), {cols} "
              "FROM c LEFT JOIN paths ON paths.path = c.p")
    if closure:
        queries = [(f"WITH RECURSIVE c(p) AS (VALUES {','.join(['(?)'] * len(paths))} "
                    f"UNION SELECT reference FROM refs JOIN c ON referrer = c.p) {select}", paths)]
    else:
        queries = [(f"WITH c(p) AS (VALUES {','.join(['(?)'] * len(part))}) {select}", part) for part in _chunks(paths)]
    rows: dict[str, tuple] = {}
    refs: dict[str, list[str]] = {}
    for q, args in queries:
        for base, mentions, *row in c.execute(q, args):
            if row[0] is not None:  # a valid path (the first column is NOT NULL)
                rows[base] = tuple(row)
            found = mentions.split(" ") if mentions else []  # store names have no spaces (NAME_RE)
            if base in found:
                found.remove(base)  # a self-reference
            found.sort()
            refs[base] = found
    return rows, refs


def _post_order(starts: list[str], refs: dict[str, list[str]]) -> list[str]:
    """The closure of ``starts`` depth-first, each path after everything it refers to."""
    order: list[str] = []
    done: set[str] = set()
    for start in starts:
        if start in done:
            continue
        done.add(start)
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            base, i = stack[-1]
            kids = refs[base]
            if i < len(kids):
                stack[-1] = (base, i + 1)
                if kids[i] not in done:
                    done.add(kids[i])
                    stack.append((kids[i], 0))
            else:
                stack.pop()
                order.append(base)
    return order


def _closure_sizes(order: list[str], refs: dict[str, list[str]], sizes: list[int]) -> dict[str, int]:
    """Closure sizes of ``order`` (references first; ``sizes`` their own sizes), in linear passes.

    Each path gets a bit (its place in ``order``); a path's closure is the OR of its own bit
    and its references' closures (Python integers as bit sets: a 10,000-path closure costs
    10,000 ORs of 1.25 KB).  Its size is summed one bit plane of the sizes at a time,
    ``popcount(closure & plane_k) << k``, instead of path by path; the planes are the columns
    of the sizes written in binary, one row per path (``zip`` transposes them)."""
    closure: dict[str, int] = {}
    for i, b in enumerate(order):
        bits = 1 << i
        for r in refs[b]:
            bits |= closure[r]
        closure[b] = bits
    width = max(sizes, default=0).bit_length()
    rows = [format(v, f"0{width}b")[::-1] for v in reversed(sizes)]  # row of path i: bit k at column k
    planes = [(k, int("".join(column), 2)) for k, column in enumerate(zip(*rows)) if "1" in column]
    return {b: sum([(bits & plane).bit_count() << k for k, plane in planes]) for b, bits in closure.items()}


def store_paths_of(targets: Iterable[Target], *, drv_files: bool = False) -> list[StorePath]:
    """The store paths ``path-info`` describes for ``targets``: each realized output (or, with
    ``drv_files``, each derivation's .drv file); E401 for a derivation that is not built."""
    out: list[StorePath] = []
    for t in targets:
        if drv_files and t.drv is not None:
            out.append(t.drv.drv_path)
        elif t.path is not None:
            out.append(t.path)
        else:
            name = t.drv.name if t.drv is not None else t.label
            raise SkiffError(NOT_BUILT, f"'{name}' is not built, so it has no output path",
                             help=["build it first, or pass --drv to describe its .drv file"])
    return out
