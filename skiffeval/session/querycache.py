"""The query cache: what a graph query read and walked, kept beside the query index, so that
asking again (another query of the same graph, the same query once more) costs one file read.

The model
* An entry is kept under a *kind* and a *key* (the roots a query started from):
  - what depends on ``.drv`` files alone — the derivation graph walked from some derivations —
    is never stale, because ``.drv`` files are immutable (named by their key).  Only a walk that
    met neither a missing derivation nor a fixed-output identity is kept (those depend on what
    the store holds; ``queries._Builder.exact``);
  - what depends on the store's metadata — which derivations are realized, the output graph,
    path records — is kept with the store database's *generation* (``Database.generation``, a
    token every changing write transaction replaces) and used only while it is the same.  The
    generation is read before the rows it keys (``generation``), so an entry never holds rows
    older than its token.
* Each entry is a file in ``.skiffeval/query-cache/`` (a cache: deleting it only makes the next
  query slower), named by its kind and a digest of its key: a header line (format, kind, key,
  generation) that must match exactly, then a ``marshal`` blob of plain values (tuples, lists,
  dicts, strings, numbers).  Why marshal: it reads the tuples of a 10,000-node graph several
  times faster than JSON or pickle, and it makes plain data only (unpickling a damaged or
  planted blob could run code); its format may change between Python versions, so the version
  is part of the header.  Why files rather than rows of the query index: an entry is megabytes
  (a 10,000-node walk ~3 MB), which SQLite writes twice (its log, then the database at the
  checkpoint) and syncs; a file is written once and renamed into place, so a reader sees the
  old entry or the new one, and one lost to a crash is only a slower query.
* The directory keeps the ``KEEP`` entries used last (a hit touches its file); ``store gc``
  keeps only the derivation walks whose roots it kept (``prune``).  Everything here is best
  effort: a cache that cannot be read or written is a slower query.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sqlite3
import sys
from typing import Any

__all__ = ["KEEP", "available", "load", "save", "prune", "generation"]

KEEP = 32
"""Entries kept: a 10,000-derivation walk is ~3 MB, so at most ~100 MB for such graphs."""

_DIR = "query-cache"
_FORMAT = f"skiffeval-query-cache-1/py{sys.version_info[0]}.{sys.version_info[1]}"


def available(store: Any) -> bool:
    """Whether ``store`` keeps a query cache (an in-memory store keeps none)."""
    return getattr(store, "meta", None) is not None


def generation(store: Any) -> str | None:
    """The store database's generation (read it before the rows an entry will hold), or None
    for a store without one — a store not written since it was made by a skiffeval that kept
    no generation has none yet: nothing is kept under it."""
    db = getattr(store, "db", None)
    try:
        return (db.generation() or None) if db is not None else None
    except sqlite3.Error:
        return None


def _path(store: Any, kind: str, key: str) -> str | None:
    meta = getattr(store, "meta", None)
    if meta is None:
        return None
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return os.path.join(meta, _DIR, f"{kind}-{digest}")


def _header(kind: str, key: str, gen: str) -> bytes:
    return json.dumps([_FORMAT, kind, key, gen]).encode() + b"\n"


def load(store: Any, kind: str, key: str, gen: str = "") -> Any:
    """The value kept under ``kind`` and ``key`` with generation ``gen``, or None."""
    path = _path(store, kind, key)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            if f.readline() != _header(kind, key, gen):
                return None
            value = marshal.loads(f.read())
        os.utime(path)  # used last: kept longest
        return value
    except (OSError, ValueError, EOFError, TypeError):  # none, or damaged: as if there were none
        return None


def save(store: Any, kind: str, key: str, value: Any, gen: str = "") -> None:
    """Keep ``value`` under ``kind`` and ``key`` with generation ``gen`` (replacing what was
    there), and drop all but the ``KEEP`` entries used last."""
    path = _path(store, kind, key)
    if path is None:
        return
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        blob = marshal.dumps(value)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(_header(kind, key, gen))
            f.write(blob)
        os.replace(tmp, path)
        _evict(os.path.dirname(path))
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _evict(folder: str) -> None:
    """Drop all but the ``KEEP`` entries used last (and what a crashed writer left)."""
    entries = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(folder)]
    if len(entries) <= KEEP:
        return
    entries.sort(reverse=True)
    for _t, path in entries[KEEP:]:
        try:
            os.unlink(path)
        except OSError:
            pass


def prune(store: Any, keep: Any) -> int:
    """Drop every entry but those kept for good (no generation) for which ``keep(kind, key)``
    is true; how many went.  ``store gc`` keeps the derivation walks whose roots survived it."""
    meta = getattr(store, "meta", None)
    if meta is None:
        return 0
    folder = os.path.join(meta, _DIR)
    gone = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        try:
            with open(e.path, "rb") as f:
                fmt, kind, key, gen = json.loads(f.readline())
            if fmt == _FORMAT and not gen and keep(kind, key):
                continue
        except (OSError, ValueError, TypeError):
            pass
        try:
            os.unlink(e.path)
            gone += 1
        except OSError:
            pass
    return gone
