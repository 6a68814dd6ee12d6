"""The records a query answers with: nodes, edges, graphs, tree lines and path records.

Nodes, edges, tree lines and path records are NamedTuples, not frozen attrs classes: a
10,000-node query makes ~30,000 edges and lines, and a frozen attrs class's ``__init__`` costs
several tuples'.  Hot loops make them with ``_new`` (``tuple.__new__``), skipping the
NamedTuple's Python-level ``__new__``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs

from skiffeval.session.drvindex import Site, _decode_sites

__all__ = ["Node", "Edge", "Graph", "TreeLine", "PathRecord"]

_new = tuple.__new__


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
    every node (ordered by slot); ``outputs`` tells the output graph from the derivation graph.
    What explains a derivation's edges (``slot_sites``) is its record (``records``, a walk's),
    or its sites' index text (``site_texts``, a graph from the query cache)."""

    roots: list[str]
    nodes: dict[str, Node]
    children: dict[str, list[Edge]]
    outputs: bool = False
    records: dict[str, Any] = attrs.field(factory=dict, repr=False)  # node id -> _Rec
    reader: Any = attrs.field(default=None, repr=False)
    site_texts: dict[str, str] = attrs.field(factory=dict, repr=False)  # node id -> sites (index text)

    def slot_sites(self, nid: str) -> dict[str, tuple[Site, ...]]:
        """Where node ``nid`` names each of its input slots (``derivation_sites``); nothing for
        a node without a record, and in the output graph (its edges have no slots)."""
        if self.outputs:
            return {}
        rec = self.records.get(nid)
        if rec is not None:
            return rec.sites()
        text = self.site_texts.get(nid)
        return _decode_sites(text) if text else {}

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


