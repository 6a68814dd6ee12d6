"""The query cache: what a graph query read and walked, kept in the query index, so that asking
again (another query of the same graph, the same query once more) costs one row read.

The model
* Entries live in one table of the query index (``.skiffeval/query-index.sqlite``, a cache:
  deleting it only makes the next query slower), each under a *kind* and a *key*:
  - what depends on ``.drv`` files alone — the derivation graph walked from some derivations —
    is never stale, because ``.drv`` files are immutable (named by their key).  Only a walk that
    met neither a missing derivation nor a fixed-output identity is kept (those depend on what
    the store holds; ``queries._Builder.exact``);
  - what depends on the store's metadata — which derivations are realized, the output graph,
    path records — is kept with the store database's *generation* (``Database.generation``, a
    token every changing write transaction replaces) and used only while it is the same.  The
    generation is read before the rows it keys (``generation``), so an entry never holds rows
    older than its token.
* An entry is one ``marshal`` blob of plain values (tuples, lists, dicts, strings, numbers).
  Why marshal: it reads the tuples of a 10,000-node graph several times faster than JSON or
  pickle, and it makes plain data only (unpickling a damaged or planted blob could run code).
  Its format may change between Python versions, so the version is part of the kind.
* The table keeps the last ``KEEP`` entries written; ``store gc`` empties it (``clear``).
  Everything here is best effort: an index that cannot be read or written is a slower query.
"""

from __future__ import annotations

import marshal
import sqlite3
import sys
from typing import Any

__all__ = ["TABLE", "KEEP", "load", "save", "clear", "generation"]

TABLE = "query_cache_v1"  # a new entry layout gets a new table name
KEEP = 32
"""Entries kept: a 10,000-derivation graph is ~3 MB, so at most ~100 MB for such graphs."""

_PY = f"py{sys.version_info[0]}.{sys.version_info[1]}"


def generation(store: Any) -> str | None:
    """The store database's generation (read it before the rows an entry will hold), or None
    for a store without one — a store not written since it was made by a skiffeval that kept
    no generation has none yet: nothing is kept under it."""
    db = getattr(store, "db", None)
    try:
        return (db.generation() or None) if db is not None else None
    except sqlite3.Error:
        return None


def load(index: sqlite3.Connection | None, kind: str, key: str, gen: str = "") -> Any:
    """The value kept under ``kind`` and ``key`` with generation ``gen``, or None."""
    if index is None:
        return None
    try:
        row = index.execute(f"SELECT generation, blob FROM {TABLE} WHERE kind = ? AND key = ?",
                            (f"{kind}/{_PY}", key)).fetchone()
    except sqlite3.Error:  # no table yet
        return None
    if row is None or row[0] != gen:
        return None
    try:
        return marshal.loads(row[1])
    except (ValueError, EOFError, TypeError):  # a damaged entry: as if there were none
        return None


def save(index: sqlite3.Connection | None, kind: str, key: str, value: Any, gen: str = "") -> None:
    """Keep ``value`` under ``kind`` and ``key`` with generation ``gen`` (replacing what was
    there), and drop all but the last ``KEEP`` entries."""
    if index is None:
        return
    try:
        blob = marshal.dumps(value)
        with index:
            index.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (kind TEXT NOT NULL, key TEXT NOT NULL, "
                          "generation TEXT NOT NULL, blob BLOB NOT NULL, PRIMARY KEY (kind, key))")
            index.execute(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?)", (f"{kind}/{_PY}", key, gen, blob))
            index.execute(f"DELETE FROM {TABLE} WHERE rowid NOT IN (SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT ?)",
                          (KEEP,))
    except (sqlite3.Error, ValueError):
        pass


def clear(index: sqlite3.Connection) -> None:
    """Drop every entry (inside the caller's transaction)."""
    index.execute(f"DROP TABLE IF EXISTS {TABLE}")
