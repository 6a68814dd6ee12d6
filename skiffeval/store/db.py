"""The store's SQLite metadata: schema and per-thread connections (docs/store.md, "Metadata").

One database, ``.skiffeval/db.sqlite``, in WAL mode (readers never block the writer) with
``synchronous=NORMAL`` (a committed transaction survives a killed process; the last ones may be
lost on power failure, which ``verify``/``rebuild_db`` repair).  Each thread has its own
connection; writes go through ``transaction()`` (``BEGIN IMMEDIATE``, so two writers queue on
the busy timeout instead of failing on upgrade).

Each transaction that changes a row also gives the database a new *generation* (``meta``
row ``generation``: a random token, so a rebuilt database never repeats an old one), in the same
commit; caches of what was read from the database (the query cache) are keyed by it.  Why not a
trigger on every table: it would run per row (a 10,000-derivation write makes ~60,000 rows),
where this is one statement per transaction; why not SQLite's ``data_version``: it only tells
one connection about the others' commits, not one process about another's.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

from skiffeval.diagnostics import SkiffError
from skiffeval.store.codes import STORE_CORRUPT

__all__ = ["Database", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- every valid store path: sources, outputs and .drv files
CREATE TABLE IF NOT EXISTS paths (
  path TEXT PRIMARY KEY,            -- basename <digest>-<name>
  kind TEXT NOT NULL,               -- 'source', 'output' or 'drv'
  size INTEGER NOT NULL,            -- bytes of file contents and link targets
  files INTEGER NOT NULL,           -- regular files and symlinks
  sha256 TEXT NOT NULL,             -- tree SHA-256 (hex); for a .drv, of its bytes
  deriver TEXT,                     -- key of the derivation that produced it (outputs)
  registered INTEGER NOT NULL       -- unix time, informational
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs (
  referrer TEXT NOT NULL, reference TEXT NOT NULL, PRIMARY KEY (referrer, reference)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_by_reference ON refs (reference, referrer);
CREATE TABLE IF NOT EXISTS derivations (
  key TEXT PRIMARY KEY, name TEXT NOT NULL, identity TEXT   -- identity: FOD content identity
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS derivations_by_identity ON derivations (identity) WHERE identity IS NOT NULL;
CREATE TABLE IF NOT EXISTS realisations (key TEXT PRIMARY KEY, resolved TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS realisations_by_resolved ON realisations (resolved);
CREATE TABLE IF NOT EXISTS resolved (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resolved_outputs (
  resolved TEXT NOT NULL, output TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (resolved, output)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resolved_outputs_by_path ON resolved_outputs (path);
CREATE TABLE IF NOT EXISTS stat_cache (root TEXT PRIMARY KEY, blob BLOB NOT NULL) WITHOUT ROWID;
"""


_NEW_GENERATION = "INSERT OR REPLACE INTO meta VALUES ('generation', lower(hex(randomblob(12))))"


class Database:
    """Per-thread connections to one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        try:
            self.conn().executescript(SCHEMA)
            with self.transaction() as c:
                row = c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    c.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                elif row[0] != str(SCHEMA_VERSION):
                    raise SkiffError(STORE_CORRUPT, f"store database '{path}' has schema {row[0]}, expected {SCHEMA_VERSION}",
                                     help=["run 'skiffeval store rebuild-db'"])
        except sqlite3.DatabaseError as e:
            raise SkiffError(STORE_CORRUPT, f"cannot open store database '{path}': {e}",
                             help=["run 'skiffeval store rebuild-db'"]) from None

    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=120, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA busy_timeout=120000")
            self._local.conn = c
            with self._lock:
                self._all.append((threading.current_thread(), c))
        return c

    def prune(self) -> None:
        """Close the connections of threads that have ended (a realization's worker pool)."""
        with self._lock:
            alive = []
            for t, c in self._all:
                if t.is_alive():
                    alive.append((t, c))
                else:
                    try:
                        c.close()
                    except sqlite3.Error:
                        pass
            self._all = alive

    @contextlib.contextmanager
    def transaction(self, *, moves_generation: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; if it changed a row, it also moves the generation on — unless
        it writes only what no reader of the metadata keeps answers of (``moves_generation``
        false: the stat cache, a cache of hashing that queries never read)."""
        c = self.conn()
        c.execute("BEGIN IMMEDIATE")
        changes = c.total_changes
        try:
            yield c
            if moves_generation and c.total_changes != changes:
                c.execute(_NEW_GENERATION)
        except BaseException:
            c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    def generation(self) -> str:
        """The database's generation: a token every changing transaction replaces ('' before the
        first).  Read it *before* the rows a cache keeps under it: rows read after it are at least
        that new, and a later change gives a token never seen before."""
        row = self.conn().execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return row[0] if row is not None else ""

    def close(self) -> None:
        with self._lock:
            for _t, c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
