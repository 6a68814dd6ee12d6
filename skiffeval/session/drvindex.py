"""Derivation records as queries read them, and the query index that keeps them.

The model
* A query needs of a derivation only its graph fields: name, builder (and so its *kind*,
  ``KINDS``), outputs, input slots (slot, input ref, outputs), sources, the spec keys that name
  each slot, and the *sites* where each slot's placeholder appears (``derivation_sites``).
  ``_Rec`` holds them; it is made from a ``Derivation`` in memory, a ``.drv`` document, or a row.
* ``_Reader`` gives records by ref: the session's table first, then the store — the index, else
  the ``.drv`` file (whose record then joins the index).  Reads are batched per wave of a walk,
  or done for a whole closure at once (``prefetch_closure``: a recursive query over the index's
  input edges).
* The index, ``.skiffeval/query-index.sqlite``, is a pure cache: ``.drv`` files are immutable
  (named by their key), so it is never stale and may be deleted at any time.  A build fills it
  for the derivations it built (``index_records``: the records are in memory then, ~50 µs
  each); a query fills it for any record it had to read from a file.
* A session makes each of its own derivations' records once (``rec_of``, kept in
  ``Session.query_recs``): the build that indexes them and the walks it keeps for the queries
  that follow (``queries.remember_build``) share them.  Why not
  ``LocalStore.read_derivation``: it re-hashes each record to prove its key (about 1 ms), which
  is ``store verify``'s job, not a query's.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import repeat
from sys import intern
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from skiffeval.derivation import Derivation
from skiffeval.session import querycache

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.session.core import Session

__all__ = ["KINDS", "Site", "kind_of_builder", "derivation_sites", "edge_sites", "index_records", "prune_index", "rec_of"]

KINDS: dict[str, str] = {
    "config-merge": "config",
    "fragment-merge": "fragments",
    "overlay-merge": "overlay",
    "patch-dirs": "patches",
    "br2-external": "external",
    "hook-wrappers": "hooks",
    "kconfig-resolve": "resolved",
    "buildroot": "image",
    "buildroot-show-info": "show-info",
    "bundle": "bundle",
    "fetchurl": "fetch",
    "fetchgit": "fetch",
    "files": "files",
    "write-text": "text",
    "concat": "text",
    "copy": "copy",
    "symlink-join": "join",
}
"""The kind of a derivation, by its builtin builder's name (a program builder is ``program``)."""


_PLACEHOLDER = re.compile(r"\$\{(inputs|sources)\.([A-Za-z0-9_][A-Za-z0-9_+-]*)[.}]")
_ENTRY_KEYS = ("layer", "file", "label", "symbol")


@functools.lru_cache(maxsize=256)
def kind_of_builder(builder: str) -> str:
    """``config`` for ``builtin:config-merge`` (``KINDS``), ``program`` for a program."""
    if builder.startswith("builtin:"):
        return KINDS.get(builder[len("builtin:"):], builder[len("builtin:"):])
    return "program"


# ---------------------------------------------------------------------------------------------
# sites and records


class Site(NamedTuple):
    """Where a consumer names an input: ``field`` (``builder``, ``args[2]``, ``env.NAME``), the
    ``path`` inside a JSON spec (``trees[1].path``), and the spec entry's ``layer``, ``file``
    (a file label), ``label`` and Kconfig ``symbol`` when it has them."""

    field: str
    path: str = ""
    layer: str | None = None
    file: str | None = None
    label: str | None = None
    symbol: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self._asdict())



# ---------------------------------------------------------------------------------------------
# derivation records, from the table, the index or the .drv files


class _Rec:
    """What a query needs of a derivation: identity, builder (and kind), inputs, sources and the
    spec keys that name them.  A plain class: a 10,000-node walk makes 10,000 of them."""

    __slots__ = ("key", "name", "builder", "fixed", "outputs", "_inputs", "srcs", "spec_keys", "id", "kind", "_sites",
                 "_text")

    def __init__(self, key: str, name: str, builder: str, fixed: bool, outputs: tuple[str, ...],
                 inputs: Any, srcs: tuple[tuple[str, str], ...],
                 spec_keys: tuple[tuple[str, str], ...] = (), sites: Any = "") -> None:
        self.key, self.name, self.builder, self.fixed, self.outputs = key, name, builder, fixed, outputs
        self._inputs = inputs  # (slot, ref, outputs) tuples, or the index row's three fields until asked for
        self.srcs = srcs  # (slot, basename)
        self.spec_keys = spec_keys  # (slot, the top-level spec key that first names it)
        self.id = f"{key}-{name}.drv"
        self.kind = kind_of_builder(builder)
        self._sites = sites  # slot -> sites; or their JSON text, or a Derivation, until asked for
        self._text = sites if type(sites) is str and sites else None  # the sites as index text, once made

    @property
    def inputs(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """(slot, ref, outputs) of each input derivation, decoded on first use (an output-graph
        walk needs only a record's builder).  Slot names are interned: records share them, and
        so do the edges and the query cache made from them."""
        v = self._inputs
        if type(v) is list:
            islots, irefs, iouts = v
            if not islots:
                v = ()
            elif iouts:
                v = tuple(zip(map(intern, islots.split("\x1e")), irefs.split("\x1e"),
                              map(_outputs, iouts.split("\x1e"))))
            else:  # every input's outputs are ("out",)
                v = tuple(zip(map(intern, islots.split("\x1e")), irefs.split("\x1e"), repeat(_OUT)))
            self._inputs = v
        return v

    def sites(self) -> dict[str, tuple[Site, ...]]:
        """Where each input slot is named (``derivation_sites``), decoded on first use."""
        s = self._sites
        if isinstance(s, str):
            s = _decode_sites(s) if s else {}
        elif isinstance(s, Derivation):
            s = derivation_sites(s.builder, s.args, s.env)
        self._sites = s
        return s

    @classmethod
    def of(cls, d: Derivation) -> _Rec:
        return cls(d.key, d.name, d.builder, d.fixed is not None, d.outputs,
                   tuple((slot, inp.key, inp.outputs) for slot, inp in d.input_drvs.items()),
                   tuple((s, p.basename) for s, p in d.input_srcs.items()), _spec_keys(d.builder, d.env), d)

    @classmethod
    def from_doc(cls, key: str, doc: dict[str, Any]) -> _Rec:
        inputs = tuple((slot, i["key"], tuple(i["outputs"])) for slot, i in doc["input_drvs"].items())
        return cls(key, doc["name"], doc["builder"], doc["fixed"] is not None, tuple(doc["outputs"]), inputs,
                   tuple(doc["input_srcs"].items()), _spec_keys(doc["builder"], doc["env"]),
                   derivation_sites(doc["builder"], doc["args"], doc["env"]))

    def sites_text(self) -> str:
        """The sites as index text (``sites_json``), made once: the row's own text when the
        record came from a row (the index row and the query cache both need it)."""
        if self._text is None:
            self._text = self.sites_json()
        return self._text

    def sites_json(self) -> str:
        return json.dumps({slot: [list(site) for site in sites] for slot, sites in self.sites().items()},
                          sort_keys=True, separators=(",", ":"))

    def index_row(self) -> tuple[str, str]:
        """The record as one text for the query index: fields split by control characters (a
        ``str.split`` is several times faster than ``json.loads``), or JSON when a free-text
        field (the builder, a spec key) contains one of them."""
        free = self.builder + "".join(k for _s, k in self.spec_keys)
        if any(c in free for c in _SEPS):
            return self.key, json.dumps([self.name, self.builder, self.fixed, self.outputs,
                                         [[s, r, o] for s, r, o in self.inputs], self.srcs, self.spec_keys,
                                         self.sites_text()])
        ins, srcs, keys = self.inputs, self.srcs, self.spec_keys
        return self.key, "\x1f".join((
            self.name, self.builder, "1" if self.fixed else "", ",".join(self.outputs),
            "\x1e".join(s for s, _r, _o in ins), "\x1e".join(r for _s, r, _o in ins),
            "" if all(o == _OUT for _s, _r, o in ins) else "\x1e".join(",".join(o) for _s, _r, o in ins),
            "\x1e".join(s for s, _b in srcs), "\x1e".join(b for _s, b in srcs),
            "\x1e".join(s for s, _k in keys), "\x1e".join(k for _s, k in keys),
            self.sites_text(),  # JSON escapes every control character: no separator inside
        ))

    @classmethod
    def from_row(cls, key: str, text: str) -> _Rec:
        if text[:1] == "[":
            name, builder, fixed, outputs, inputs, srcs, keys, sites = _loads(text)
            return cls(key, name, builder, fixed, tuple(outputs), tuple([(s, r, tuple(o)) for s, r, o in inputs]),
                       tuple([(s, b) for s, b in srcs]), tuple([(s, k) for s, k in keys]), sites)
        name, builder, fixed, outputs, islots, irefs, iouts, sslots, spaths, kslots, knames, sites = text.split("\x1f")
        ins = [islots, irefs, iouts]
        srcs = tuple(zip(sslots.split("\x1e"), spaths.split("\x1e"))) if sslots else ()
        keys = tuple(zip(kslots.split("\x1e"), knames.split("\x1e"))) if kslots else ()
        return cls(key, name, builder, fixed == "1", _outputs(outputs), ins, srcs, keys, sites)


_OUT = ("out",)
_OUTPUTS: dict[str, tuple[str, ...]] = {"out": _OUT}


def rec_of(memo: dict[str, _Rec], d: Derivation) -> _Rec:
    """The query record of ``d``, made once per ``memo`` (a session's ``query_recs``): its
    sites are worked out once for the index row and the walk both."""
    rec = memo.get(d.key)
    if rec is None:
        rec = memo[d.key] = _Rec.of(d)
    return rec


def _outputs(text: str) -> tuple[str, ...]:
    """``("out", "report")`` for ``"out,report"`` (the few distinct ones shared)."""
    hit = _OUTPUTS.get(text)
    if hit is None:
        hit = _OUTPUTS[text] = tuple(text.split(","))
    return hit


_SEPS = ("\x1d", "\x1e", "\x1f")
_loads = json.JSONDecoder().decode


@functools.lru_cache(maxsize=4096)
def _decode_sites(text: str) -> dict[str, tuple[Site, ...]]:
    """Sites from their index text (shared: derivations of one builder often have the same)."""
    return {slot: tuple([Site._make(x) for x in items]) for slot, items in _loads(text).items()}


def _spec_keys(builder: str, env: Any) -> tuple[tuple[str, str], ...]:
    """For a builtin builder's JSON ``spec``: each slot with the top-level key that first names it."""
    text = env.get("spec") if builder.startswith("builtin:") else None
    if not text or "${" not in text:
        return ()
    try:
        spec = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(spec, dict):
        return ()
    found: dict[str, str] = {}
    for key in sorted(spec):
        for m in _PLACEHOLDER.finditer(json.dumps(spec[key])):
            found.setdefault(m.group(2), key)
    return tuple(sorted(found.items()))


def _chunks(items: Sequence[Any], n: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class _Reader:
    """Derivation records by ref: the session's table first, then the store — the query index,
    else the ``.drv`` file (whose record then joins the index).  Reads are batched: a walk asks
    for all the inputs of a wave of derivations at once (``prefetch``)."""

    def __init__(self, session: Session) -> None:
        self.store = session.store
        self.root = str(self.store.root)
        table = session._table
        self.by_ref: dict[str, Derivation] = dict(table.by_ref) if table is not None else {}
        self.memo: dict[str, _Rec] = getattr(session, "query_recs", {})
        self.conn = self.store.db.conn()
        self.recs: dict[str, _Rec | None] = {}
        self.new_recs: list[_Rec] = []
        self.index = _open_index(self.store)

    def rec(self, ref: str) -> _Rec | None:
        """The record of derivation ``ref`` (a key, or a FOD's content identity), or None."""
        if ref not in self.recs:
            self.prefetch((ref,))
        return self.recs[ref]

    def prefetch(self, refs: Iterable[str]) -> None:
        """Read the records of ``refs`` (a few queries for the lot)."""
        recs = self.recs
        rest = []
        for ref in dict.fromkeys(refs):
            if ref in recs:
                continue
            d = self.by_ref.get(ref)
            if d is not None:
                recs[ref] = rec_of(self.memo, d)
            else:
                rest.append(ref)
        if rest and self.index is not None:
            q = f"SELECT key, doc FROM {_INDEX_TABLE} WHERE key IN "
            for part in _chunks(rest):
                for key, text in self.index.execute(q + f"({','.join('?' * len(part))})", part):
                    try:
                        recs[key] = _Rec.from_row(key, text)
                    except (ValueError, TypeError):  # a damaged row: read the file instead
                        pass
            rest = [r for r in rest if r not in recs]
        if not rest:
            return
        found: dict[str, tuple[str, str]] = {}  # ref -> (key, name); a FOD identity -> its least key
        for part in _chunks(rest):
            marks = ",".join("?" * len(part))
            q = f"SELECT key, name, identity FROM derivations WHERE key IN ({marks}) OR identity IN ({marks})"
            for key, name, ident in self.conn.execute(q, list(part) + list(part)):
                found[key] = (key, name)
                if ident is not None and (ident not in found or key < found[ident][0]):
                    found[ident] = (key, name)
        for ref in rest:
            hit = found.get(ref)
            if hit is None:
                recs[ref] = None
                continue
            key, name = hit
            if key in recs:
                recs[ref] = recs[key]
                continue
            doc = self.doc(key, name)
            rec = _Rec.from_doc(key, doc) if doc is not None else None
            if rec is not None:
                self.new_recs.append(rec)
            recs[ref] = recs[key] = rec

    def doc(self, key: str, name: str) -> dict[str, Any] | None:
        """The decoded ``.drv`` document of ``key`` (not validated: see the module docstring).
        orjson reads it (several times faster), json what orjson refuses (an integer beyond 64
        bits)."""
        try:
            with open(f"{self.root}/{key}-{name}.drv", "rb") as f:
                data = f.read()
        except OSError:
            return None
        try:
            return orjson.loads(data)
        except ValueError:
            pass
        try:
            return json.loads(data)
        except ValueError:
            return None

    def prefetch_store_closure(self, drvs: Sequence[str]) -> None:
        """Read the records of every ``.drv`` in the closure of the ``.drv`` basenames ``drvs``
        that are not read yet, listed by the store's references (a ``.drv`` refers to its
        inputs' ``.drv`` files: one recursive query): a walk over a closure the index lacks then
        asks nothing per wave.  A ref the references do not lead to (a fixed-output identity)
        is still read by its wave."""
        if not drvs:
            return
        recs = self.recs
        q = (f"WITH RECURSIVE c(p) AS (VALUES {','.join(['(?)'] * len(drvs))} "
             "UNION SELECT reference FROM refs JOIN c ON referrer = c.p) SELECT p FROM c WHERE p LIKE '%.drv'")
        try:
            found = [p for (p,) in self.conn.execute(q, list(drvs))]
        except sqlite3.Error:
            return
        for base in found:
            key, name = base[:26], base[27:-4]
            if key in recs or key in self.by_ref or base[26:27] != "-":
                continue
            doc = self.doc(key, name)
            if doc is not None:
                rec = _Rec.from_doc(key, doc)
                self.new_recs.append(rec)
                recs[key] = rec

    def flush(self) -> None:
        """Remember the records read from .drv files (one transaction; best effort)."""
        if self.index is None or not self.new_recs:
            return
        try:
            _insert(self.index, self.new_recs)
        except sqlite3.Error:
            pass
        self.new_recs = []

    def table_closure(self, refs: Sequence[str]) -> bool:
        """Take the records of the whole closure of ``refs`` from the session's table, when it
        holds all of it (a build's session holds every derivation it made): True then, and
        nothing is read from the store; False as soon as a ref is not in the table."""
        by_ref, recs, memo = self.by_ref, self.recs, self.memo
        if not by_ref:
            return False
        seen: set[str] = set()
        stack = list(refs)
        while stack:
            ref = stack.pop()
            if ref in seen:
                continue
            seen.add(ref)
            d = by_ref.get(ref)
            if d is None:
                return False
            if ref not in recs:
                recs[ref] = rec_of(memo, d)
            stack.extend([inp.key for inp in d.input_drvs.values()])
        return True

    def prefetch_closure(self, refs: Sequence[str]) -> bool:
        """Read the indexed records of the whole closure of ``refs`` in one query (a recursive
        walk of the index's input edges inside SQLite), so that a walk over 10,000 derivations
        does not ask once per breadth-first wave.  True when that is the whole closure: the walk
        met no ref without an index row (a record's row and edges are written together, so only
        such a ref can hide more of the closure); else what the index lacks is read as before."""
        if self.index is None or not refs:
            return False
        recs = self.recs
        q = (f"WITH RECURSIVE c(k) AS (VALUES {','.join(['(?)'] * len(refs))} "
             f"UNION SELECT child FROM {_EDGES_TABLE} JOIN c ON parent = c.k) "
             f"SELECT c.k, d.doc FROM c LEFT JOIN {_INDEX_TABLE} d ON d.key = c.k")
        whole = True
        try:
            for key, text in self.index.execute(q, list(refs)):
                if text is None:  # not indexed (or a fixed-output identity): read later, by waves
                    whole = False
                elif key not in recs:
                    try:
                        recs[key] = _Rec.from_row(key, text)
                    except (ValueError, TypeError):
                        whole = False
        except sqlite3.Error:
            return False
        return whole


_INDEX_TABLE = "drvs_v6"  # a new row format (or edges table) gets a new table name
_EDGES_TABLE = "drv_inputs_v1"  # (parent key, input ref): the closure walk's edges


def _insert(index: sqlite3.Connection, recs: Sequence[_Rec]) -> None:
    """Index ``recs``: their rows and their input edges, in one transaction."""
    rows = sorted(rec.index_row() for rec in recs)
    edges = sorted({(rec.key, ref) for rec in recs for _s, ref, _o in rec.inputs})
    with index:
        index.executemany(f"INSERT OR IGNORE INTO {_INDEX_TABLE} VALUES (?, ?)", rows)
        index.executemany(f"INSERT OR IGNORE INTO {_EDGES_TABLE} VALUES (?, ?)", edges)


def prune_index(store: Any) -> int:
    """Drop from the query cache (``querycache``) all but the derivation walks whose roots the
    store still holds (a ``.drv``'s closure stays with it, so such a walk is still exact), and
    drop the index rows of derivations the store no longer holds (after ``store gc``) and the
    tables of earlier row formats; how many rows went.  Best effort, like the index itself."""
    root = str(store.root)
    querycache.prune(store, lambda kind, key: kind == "drv-graph" and all(
        root_id.endswith(".drv") and os.path.lexists(os.path.join(root, root_id)) for root_id in key.split("\n")))
    index = _open_index(store)
    if index is None:
        return 0
    try:
        keys = {k for (k,) in store.db.conn().execute("SELECT key FROM derivations")}
        known = [k for (k,) in index.execute(f"SELECT key FROM {_INDEX_TABLE}")]
        gone = [(k,) for k in known if k not in keys]
        with index:
            index.executemany(f"DELETE FROM {_INDEX_TABLE} WHERE key = ?", gone)
            index.executemany(f"DELETE FROM {_EDGES_TABLE} WHERE parent = ?", gone)
            for (table,) in list(index.execute("SELECT name FROM sqlite_master WHERE type = 'table'")):
                if table not in (_INDEX_TABLE, _EDGES_TABLE):
                    index.execute(f'DROP TABLE "{table}"')
        return len(gone)
    except sqlite3.Error:
        return 0
    finally:
        index.close()


def index_records(store: Any, drvs: Iterable[Derivation], memo: dict[str, _Rec] | None = None) -> int:
    """Add the records of ``drvs`` that the query index lacks (one transaction; best effort);
    how many were added.  A build calls this for what it built, so the first query after a
    build reads index rows rather than re-reading the ``.drv`` files it has just written.
    ``memo`` keeps the records made (``rec_of``)."""
    index = _open_index(store)
    if index is None:
        return 0
    try:
        by_key = {d.key: d for d in drvs}
        for part in _chunks(list(by_key)):
            q = f"SELECT key FROM {_INDEX_TABLE} WHERE key IN ({','.join('?' * len(part))})"
            for (key,) in index.execute(q, part):
                del by_key[key]
        if by_key:
            memo = {} if memo is None else memo
            _insert(index, [rec_of(memo, d) for d in by_key.values()])
        return len(by_key)
    except sqlite3.Error:
        return 0
    finally:
        index.close()


def _open_index(store: Any) -> sqlite3.Connection | None:
    """The query index of ``store`` (created if missing), or None: an in-memory store keeps no
    index, and an index that cannot be opened is only a slower query."""
    meta = getattr(store, "meta", None)
    if meta is None:
        return None
    path = str(meta / "query-index.sqlite")
    try:
        conn = sqlite3.connect(path, timeout=2.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # a closure read visits its rows in key order, scattered over the file: mapped pages
        # instead of a read() per page not in SQLite's 2 MB cache (~20 % of a 10,000-row read)
        conn.execute("PRAGMA mmap_size=268435456")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_INDEX_TABLE} (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_EDGES_TABLE} (parent TEXT, child TEXT, PRIMARY KEY (parent, child)) WITHOUT ROWID")
        conn.isolation_level = "DEFERRED"
        return conn
    except sqlite3.Error:
        return None



def derivation_sites(builder: str, args: Sequence[str], env: Any) -> dict[str, tuple[Site, ...]]:
    """For each input slot, the places in a derivation where its placeholder appears: the
    ``builder``, ``args[i]`` or ``env.NAME``; inside a JSON value (a builtin builder's ``spec``),
    each string that holds it, with the entry around it (layer, file, label, symbol)."""
    found: dict[str, list[Site]] = {}

    def scan(field: str, text: str) -> None:
        if "${inputs." not in text and "${sources." not in text:  # most fields: no input named
            return
        slots = {m.group(2) for m in _PLACEHOLDER.finditer(text)}
        if not slots:
            return
        if text[:1] in "{[":
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, (dict, list)):
                for slot, site in _walk_json(field, value):
                    found.setdefault(slot, []).append(site)
                    slots.discard(slot)
        for slot in sorted(slots):
            found.setdefault(slot, []).append(Site(field))

    scan("builder", builder)
    for i, a in enumerate(args):
        scan(f"args[{i}]", a)
    for name in sorted(env):
        scan(f"env.{name}", env[name])
    return {slot: tuple(sites) for slot, sites in found.items()}


def edge_sites(doc: dict[str, Any], slot: str) -> tuple[Site, ...]:
    """The sites of input ``slot`` in a ``.drv`` document (``derivation_sites``)."""
    return derivation_sites(doc.get("builder", ""), doc.get("args", ()), doc.get("env", {})).get(slot, ())


def _walk_json(field: str, value: Any) -> list[tuple[str, Site]]:
    """(slot, site) for every string inside ``value`` that holds a placeholder (iterative)."""
    out: list[tuple[str, Site]] = []
    stack: list[tuple[str, Any, dict | None]] = [("", value, None)]
    while stack:
        path, v, entry = stack.pop()
        if isinstance(v, dict):
            if any(k in v and isinstance(v[k], str) for k in _ENTRY_KEYS):
                entry = v
            for k in sorted(v, reverse=True):
                stack.append((f"{path}.{k}" if path else k, v[k], entry))
        elif isinstance(v, list):
            for i in range(len(v) - 1, -1, -1):
                stack.append((f"{path}[{i}]", v[i], entry))
        elif isinstance(v, str) and "${" in v:
            e = entry or {}
            site = Site(field, path, *(e.get(k) if isinstance(e.get(k), str) else None for k in _ENTRY_KEYS))
            for slot in dict.fromkeys(m.group(2) for m in _PLACEHOLDER.finditer(v)):
                out.append((slot, site))
    return out
