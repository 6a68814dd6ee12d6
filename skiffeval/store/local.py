"""``LocalStore``: store objects in a directory, metadata in SQLite (docs/store.md, "Layout").

Layout of a store root ``S``:
* ``S/<digest>-<name>`` — sources and outputs (read-only trees), ``S/<key>-<name>.drv`` — derivations;
* ``S/.skiffeval/db.sqlite`` — metadata (``db.py``); ``gc.lock``, ``locks/`` — file locks;
  ``pending/`` — markers of work in progress (what to delete if the process dies);
  ``tmp/`` — temporary files and build directories; ``logs/`` — build logs;
  ``roots/named/``, ``roots/links/`` — GC roots; ``realisations.log`` — journal for ``rebuild_db``.

Every object enters the same way: written under a scratch name (listed in a pending marker),
made read-only, renamed to its final name, then registered in one transaction.  A process
killed at any instant leaves at most unregistered entries, which the next process that finds
the store idle (the GC lock free) deletes.  Nothing is registered before it is complete.

Maintenance (``gc``, ``verify``, ``rebuild_db``, ``info``) is in ``maintenance.py``; the
build step in ``build.py``; the scheduler in ``realize.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from skiffeval.derivation import Derivation, ResolvedDerivation, SortedMap, StorePath, decode_drv, encode_drv
from skiffeval.derivation.keys import fast_nixbase32
from skiffeval.diagnostics import SkiffError
from skiffeval.store import maintenance, roots, sources
from skiffeval.store.codes import MISSING_INPUT, NOT_IN_STORE, STORE_BUSY, STORE_CORRUPT, STORE_UNUSABLE
from skiffeval.store.db import Database
from skiffeval.store.locks import FileLock
from skiffeval.store.protocol import GcReport, PathInfo, Realisation, RebuildReport, Root, StoreInfo, VerifyReport
from skiffeval.store.tree import TreeHash
from skiffeval.store.treeops import remove_tree

__all__ = ["LocalStore", "PendingMarker", "META_DIR"]

META_DIR = ".skiffeval"
_CHUNK_ROWS = 500  # SQLite host parameters per IN (...) query


def _chunks(items: Sequence[Any], n: int = _CHUNK_ROWS) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class LocalStore:
    """A store in a local directory (created if missing).

    ``clean=True`` deletes leftovers of killed processes when no other process uses the store.
    Thread-safe: each thread gets its own database connection.
    """

    def __init__(self, root: str | os.PathLike[str], *, clean: bool = True) -> None:
        self.root = Path(os.path.realpath(root))
        self._root_str = str(self.root)
        self.meta = self.root / META_DIR
        try:
            for sub in ("locks", "pending", "tmp", "logs", "roots/named", "roots/links"):
                (self.meta / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _unusable(os.fspath(root), self.root, e) from None
        for d in (self.root, self.meta):
            if not os.access(d, os.W_OK | os.X_OK):  # another user's store: not "corrupt"
                raise _unusable(os.fspath(root), self.root, PermissionError(13, "Permission denied", str(d)))
        self.db = Database(str(self.meta / "db.sqlite"))
        self._drv_cache: dict[str, Derivation] = {}
        self._journal_fd: int | None = None
        self._journal_lock = threading.Lock()
        if clean:
            self.clean_leftovers()

    # -- names and locations ---------------------------------------------------------------------

    def real_path(self, path: StorePath) -> Path:
        """Where ``path`` lives: ``root/<digest>-<name>``."""
        return Path(f"{self._root_str}/{path.digest}-{path.name}")

    def parse_path(self, text: str | os.PathLike[str]) -> StorePath:
        """The store path named by a basename or by a path inside this store (E110 if outside)."""
        s = os.fspath(text)
        if "/" not in s:
            return StorePath.parse(s)
        p = os.path.abspath(s)
        root = str(self.root)
        if not p.startswith(root + "/"):
            raise SkiffError(NOT_IN_STORE, f"'{s}' is not in the store '{root}'")
        return StorePath.parse(p[len(root) + 1 :].split("/", 1)[0])

    def log_path(self, key: str, name: str) -> Path:
        """The build log of derivation ``key`` (kept after failures)."""
        return Path(f"{self._root_str}/{META_DIR}/logs/{key}-{name}.log")

    def lock_path(self, what: str) -> Path:
        return self.meta / "locks" / f"{what}.lock"

    def key_lock(self, key: str) -> FileLock:
        """The lock held while resolved derivation ``key`` is built.

        Locks are striped over 1,024 files by the key's first two characters.  Why not one file
        per key: creating a file costs as much as a small build on these disks, and a false
        conflict only serializes two builds that happen to share a stripe.
        """
        return FileLock(f"{self._root_str}/{META_DIR}/locks/k-{key[:2]}.lock")

    def path_lock(self, digest: str) -> FileLock:
        """The lock held while a path with ``digest`` is renamed into place and registered."""
        return FileLock(f"{self._root_str}/{META_DIR}/locks/p-{digest[:2]}.lock")

    # -- locks and leftovers ---------------------------------------------------------------------

    def shared_lock(self) -> FileLock:
        """The GC lock, shared: hold it while creating or registering objects."""
        return FileLock(self.meta / "gc.lock", shared=True)

    def exclusive_lock(self) -> FileLock:
        return FileLock(self.meta / "gc.lock", shared=False)

    def clean_leftovers(self) -> list[str]:
        """Delete what killed processes left (pending entries not registered, ``tmp/``), but only
        if no other process uses the store now; returns the deleted basenames."""
        lock = self.exclusive_lock()
        if not lock.acquire(blocking=False):
            return []
        try:
            return self._clean_leftovers_locked()
        finally:
            lock.release()

    def _clean_leftovers_locked(self) -> list[str]:
        deleted: list[str] = []
        markers = sorted((self.meta / "pending").iterdir())
        if markers:
            names: list[str] = []
            for m in markers:
                names += [n for n in m.read_text(errors="replace").splitlines() if n and "/" not in n and not n.startswith(".")]
            valid = self._registered(names)
            for n in names:
                if n not in valid and os.path.lexists(self.root / n):
                    remove_tree(self.root / n)
                    deleted.append(n)
            for m in markers:
                m.unlink(missing_ok=True)
        for entry in (self.meta / "tmp").iterdir():
            remove_tree(entry)
        return deleted

    @contextlib.contextmanager
    def pending(self, names: Iterable[str] = ()) -> Iterator[PendingMarker]:
        """A pending marker listing top-level names to delete should this process die."""
        marker = PendingMarker(self.meta / "pending" / f"{os.getpid()}-{secrets.token_hex(8)}")
        try:
            marker.add(names)
            yield marker
        finally:
            marker.close()

    def scratch_path(self, name: str) -> tuple[str, Path]:
        """A fresh scratch location of the same length as a final path named ``name``."""
        digest = fast_nixbase32(secrets.token_bytes(16))
        return digest, Path(f"{self._root_str}/{digest}-{name}")

    def temp_dir(self, prefix: str) -> Path:
        path = self.meta / "tmp" / f"{prefix}-{secrets.token_hex(8)}"
        path.mkdir()
        return path

    # -- validity --------------------------------------------------------------------------------

    def _registered(self, basenames: Iterable[str]) -> set[str]:
        names = list(dict.fromkeys(basenames))
        found: set[str] = set()
        c = self.db.conn()
        for part in _chunks(names):
            q = f"SELECT path FROM paths WHERE path IN ({','.join('?' * len(part))})"
            found.update(r[0] for r in c.execute(q, part))
        return found

    def is_valid(self, path: StorePath) -> bool:
        return self.db.conn().execute("SELECT 1 FROM paths WHERE path=?", (path.basename,)).fetchone() is not None

    def valid_paths(self, paths: Iterable[StorePath]) -> set[StorePath]:
        ps = list(paths)
        valid = self._registered(p.basename for p in ps)
        return {p for p in ps if p.basename in valid}

    # -- sources (sources.py) -------------------------------------------------------------------

    def add_path(self, path: str | os.PathLike[str], name: str | None = None, exclude: frozenset[str] = frozenset(),
                 only: Collection[str] | None = None) -> StorePath:
        """Import a file, symlink or directory tree (symlinks kept as links, never followed);
        re-importing an unchanged tree costs one ``lstat`` per file (``sources.add_path``);
        ``exclude`` names entries left out at the top of a tree; ``only`` lists the files of a
        view of the tree (``sources.add_path``)."""
        return sources.add_path(self, path, name, exclude, only)

    def hash_source(self, path: str | os.PathLike[str], name: str | None = None) -> StorePath:
        """The store path ``add_path`` would give, without importing."""
        return sources.hash_source(self, path, name)

    def add_bytes(self, name: str, data: bytes, *, executable: bool = False) -> StorePath:
        """Import ``data`` as a single file named ``name``."""
        return sources.add_bytes(self, name, data, executable=executable)

    # -- entering the store ----------------------------------------------------------------------

    def finalize(
        self,
        items: Sequence[tuple[Path, StorePath, TreeHash, str, str | None, Iterable[StorePath]]],
        marker: PendingMarker,
        register_more: Any = None,
    ) -> None:
        """Rename finished scratch trees to their final names and register them in one transaction.

        ``items`` are ``(scratch, final, tree_hash, kind, deriver, references)``; the scratch
        trees must already be normalized.  ``register_more(conn)`` adds rows to the same
        transaction (realisations).  A final path that is already valid is kept and the scratch
        copy dropped; an unregistered leftover under the final name is replaced.
        """
        order = sorted(items, key=lambda it: it[1].basename)
        locks = [self.path_lock(d) for d in sorted({it[1].digest[:2] for it in order})]
        for lk in locks:
            lk.acquire()
        try:
            valid = self._registered(it[1].basename for it in order)
            fresh = []
            marker.add(it[1].basename for it in order if it[1].basename not in valid)
            for scratch, sp, th, kind, deriver, refs in order:
                final = self.root / sp.basename
                if sp.basename in valid:
                    remove_tree(scratch)
                    continue
                if os.path.lexists(final):
                    remove_tree(final)  # an unregistered leftover (we hold its path lock)
                os.rename(scratch, final)
                fresh.append((sp, th, kind, deriver, refs))
            now = int(time.time())
            with self.db.transaction() as c:
                for sp, th, kind, deriver, refs in fresh:
                    c.execute(
                        "INSERT OR REPLACE INTO paths VALUES (?,?,?,?,?,?,?)",
                        (sp.basename, kind, th.size, th.files, th.sha256, deriver, now),
                    )
                    c.executemany(
                        "INSERT OR IGNORE INTO refs VALUES (?, ?)",
                        [(sp.basename, r.basename) for r in refs],
                    )
                if register_more is not None:
                    register_more(c)
        finally:
            for lk in reversed(locks):
                lk.release()

    # -- derivations -----------------------------------------------------------------------------

    def write_derivations(self, drvs: Iterable[Derivation]) -> list[StorePath]:
        """Write the ``.drv`` files of ``drvs`` (skipping known ones) and register them in one
        transaction.  Every input must be among ``drvs`` or already in the store (E111)."""
        batch: dict[str, Derivation] = {}
        for d in drvs:
            batch.setdefault(d.key, d)
        out = [d.drv_path for d in batch.values()]
        c = self.db.conn()
        keys = list(batch)
        known: set[str] = set()
        for part in _chunks(keys):
            q = f"SELECT key FROM derivations WHERE key IN ({','.join('?' * len(part))})"
            known.update(r[0] for r in c.execute(q, part))
        new = [d for k, d in batch.items() if k not in known]
        if not new:
            return out
        by_ref = {d.ref: d for d in batch.values()}
        input_paths = self._input_drv_paths(new, by_ref)
        with self.shared_lock():
            names = [d.drv_path.basename for d in new]
            with self.pending(names) as marker:
                rows = []
                root = str(self.root)
                for d in new:
                    data = encode_drv(d).encode()
                    _write_new_file(f"{root}/{d.drv_path.basename}", data)
                    rows.append((d, len(data), hashlib.sha256(data).hexdigest()))
                now = int(time.time())
                # Rows are inserted in key order: B-tree inserts then touch each page once.
                rows.sort(key=lambda r: r[0].key)
                with self.db.transaction() as c:
                    c.executemany(
                        "INSERT OR IGNORE INTO derivations VALUES (?,?,?)",
                        [(d.key, d.name, d.ref if d.fixed is not None else None) for d, _, _ in rows],
                    )
                    c.executemany(
                        "INSERT OR REPLACE INTO paths VALUES (?,?,?,?,?,?,?)",
                        [(d.drv_path.basename, "drv", n, 1, sha, None, now) for d, n, sha in rows],
                    )
                    c.executemany(
                        "INSERT OR IGNORE INTO refs VALUES (?,?)",
                        sorted((d.drv_path.basename, p) for d, _, _ in rows for p in input_paths[d.key]),
                    )
        for d in new:
            self._drv_cache[d.key] = d
        return out

    def _input_drv_paths(self, new: list[Derivation], by_ref: dict[str, Derivation]) -> dict[str, list[str]]:
        """For each new derivation, the basenames its ``.drv`` refers to (inputs and sources)."""
        missing = sorted({i.key for d in new for i in d.input_drvs.values() if i.key not in by_ref})
        found: dict[str, str] = {}
        c = self.db.conn()
        for part in _chunks(missing):
            marks = ",".join("?" * len(part))
            for key, name, ident in c.execute(
                f"SELECT key, name, identity FROM derivations WHERE key IN ({marks}) OR identity IN ({marks})",
                list(part) + list(part),
            ):
                found[key] = f"{key}-{name}.drv"
                if ident is not None:
                    found.setdefault(ident, f"{key}-{name}.drv")
        result: dict[str, list[str]] = {}
        for d in new:
            paths = [p.basename for p in d.input_srcs.values()]
            for slot, inp in d.input_drvs.items():
                dep = by_ref.get(inp.key)
                if dep is not None:
                    paths.append(dep.drv_path.basename)
                elif inp.key in found:
                    paths.append(found[inp.key])
                else:
                    raise SkiffError(
                        MISSING_INPUT,
                        f"input '{slot}' of derivation '{d.name}' ({inp.key}) is neither given nor in the store",
                        help=["write the derivations of the whole closure together"],
                    )
            result[d.key] = paths
        return result

    def derivation_key(self, ref: str) -> str | None:
        """The key of a known derivation with key (or FOD content identity) ``ref``."""
        c = self.db.conn()
        if c.execute("SELECT 1 FROM derivations WHERE key=?", (ref,)).fetchone():
            return ref
        row = c.execute("SELECT key FROM derivations WHERE identity=? ORDER BY key LIMIT 1", (ref,)).fetchone()
        return None if row is None else row[0]

    def read_derivation(self, ref: str) -> Derivation | None:
        """The derivation with key ``ref`` (or, for a FOD, content identity ``ref``), or None."""
        hit = self._drv_cache.get(ref)
        if hit is not None:
            return hit
        key = self.derivation_key(ref)
        if key is None:
            return None
        name = self.db.conn().execute("SELECT name FROM derivations WHERE key=?", (key,)).fetchone()[0]
        path = self.root / f"{key}-{name}.drv"
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            raise SkiffError(STORE_CORRUPT, f"registered derivation '{path}' is missing",
                             help=["run 'skiffeval store verify --repair'"]) from None
        drv = decode_drv(text, str(path), expected_key=key)
        self._drv_cache[key] = drv
        return drv

    # -- realisations ----------------------------------------------------------------------------

    def realisations(self, keys: Iterable[str]) -> dict[str, Realisation]:
        """The realisations of ``keys`` whose outputs are all valid (one query per 500 keys)."""
        ks = list(dict.fromkeys(keys))
        rows: dict[str, tuple[str, dict[str, StorePath], bool]] = {}
        c = self.db.conn()
        for part in _chunks(ks):
            q = (
                "SELECT r.key, r.resolved, o.output, o.path, p.path IS NOT NULL FROM realisations r "
                "JOIN resolved_outputs o ON o.resolved = r.resolved LEFT JOIN paths p ON p.path = o.path "
                f"WHERE r.key IN ({','.join('?' * len(part))})"
            )
            for key, resolved, output, path, valid in c.execute(q, part):
                entry = rows.setdefault(key, (resolved, {}, True))
                entry[1][output] = StorePath.parse(path)
                if not valid:
                    rows[key] = (resolved, entry[1], False)
        return {k: Realisation(k, r, SortedMap(o)) for k, (r, o, ok) in rows.items() if ok}

    def realisation(self, key: str) -> Realisation | None:
        return self.realisations([key]).get(key)

    def resolved_outputs(self, resolved: str) -> dict[str, StorePath] | None:
        """The valid outputs of a realized resolved derivation, or None."""
        q = ("SELECT o.output, o.path, p.path IS NOT NULL FROM resolved_outputs o "
             "LEFT JOIN paths p ON p.path = o.path WHERE o.resolved = ?")
        out: dict[str, StorePath] = {}
        for output, path, valid in self.db.conn().execute(q, (resolved,)):
            if not valid:
                return None
            out[output] = StorePath.parse(path)
        return out or None

    def fod_output(self, identity: str) -> StorePath | None:
        """A valid output of any realized fixed-output derivation with content ``identity``."""
        q = ("SELECT o.path FROM derivations d JOIN realisations r ON r.key = d.key "
             "JOIN resolved_outputs o ON o.resolved = r.resolved JOIN paths p ON p.path = o.path "
             "WHERE d.identity = ? ORDER BY o.path LIMIT 1")
        row = self.db.conn().execute(q, (identity,)).fetchone()
        return None if row is None else StorePath.parse(row[0])

    def register_realisation(self, key: str, resolved: str, c: Any = None) -> None:
        """Record that derivation ``key`` resolved to the realized ``resolved`` (early cutoff)."""
        if c is None:
            with self.db.transaction() as c2:
                c2.execute("INSERT OR REPLACE INTO realisations VALUES (?,?)", (key, resolved))
        else:
            c.execute("INSERT OR REPLACE INTO realisations VALUES (?,?)", (key, resolved))

    def record_realisation(self, key: str, resolved: ResolvedDerivation, outputs: Mapping[str, StorePath]) -> None:
        """Record that derivation ``key`` (resolving to ``resolved``) is realized by the valid
        ``outputs`` without building it (a fixed-output derivation whose content is known)."""
        with self.db.transaction() as c:
            c.execute("INSERT OR REPLACE INTO resolved VALUES (?,?)",
                      (resolved.key, json.dumps(resolved.to_doc(), sort_keys=True)))
            c.executemany("INSERT OR REPLACE INTO resolved_outputs VALUES (?,?,?)",
                          [(resolved.key, o, p.basename) for o, p in outputs.items()])
            c.execute("INSERT OR REPLACE INTO realisations VALUES (?,?)", (key, resolved.key))
        self.journal(key, resolved.key, outputs)

    def journal(self, key: str, resolved: str, outputs: Mapping[str, StorePath]) -> None:
        """Append a realisation to ``realisations.log`` (read back by ``rebuild_db``).

        One ``write`` to an ``O_APPEND`` descriptor per line: concurrent writers never interleave.
        """
        line = " ".join([key, resolved] + [f"{o}={p.basename}" for o, p in sorted(outputs.items())]) + "\n"
        with self._journal_lock:
            if self._journal_fd is None:
                self._journal_fd = os.open(self.meta / "realisations.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        os.write(self._journal_fd, line.encode())

    # -- queries ---------------------------------------------------------------------------------

    def references(self, path: StorePath) -> list[StorePath]:
        rows = self.db.conn().execute("SELECT reference FROM refs WHERE referrer=? ORDER BY reference", (path.basename,))
        return [StorePath.parse(r[0]) for r in rows]

    def referrers(self, path: StorePath) -> list[StorePath]:
        rows = self.db.conn().execute("SELECT referrer FROM refs WHERE reference=? ORDER BY referrer", (path.basename,))
        return [StorePath.parse(r[0]) for r in rows]

    def requisites(self, paths: Iterable[StorePath]) -> list[StorePath]:
        """The closure of ``paths`` under references, sorted (linear: one query per path)."""
        seen = {p.basename for p in paths}
        todo = list(seen)
        c = self.db.conn()
        while todo:
            part, todo = todo[:_CHUNK_ROWS], todo[_CHUNK_ROWS:]
            q = f"SELECT reference FROM refs WHERE referrer IN ({','.join('?' * len(part))})"
            for (ref,) in c.execute(q, part):
                if ref not in seen:
                    seen.add(ref)
                    todo.append(ref)
        return [StorePath.parse(b) for b in sorted(seen)]

    def deriver(self, path: StorePath) -> str | None:
        """The key of the derivation that produced the valid ``path`` (None for a source), without
        ``path_info``'s closure walk."""
        row = self.db.conn().execute("SELECT deriver FROM paths WHERE path=?", (path.basename,)).fetchone()
        return None if row is None else row[0]

    def path_info(self, path: StorePath) -> PathInfo:
        c = self.db.conn()
        row = c.execute("SELECT kind, size, files, sha256, deriver FROM paths WHERE path=?", (path.basename,)).fetchone()
        if row is None:
            raise SkiffError(NOT_IN_STORE, f"'{path}' is not a valid path in the store '{self.root}'")
        closure = [p.basename for p in self.requisites([path])]
        total = 0
        for part in _chunks(closure):
            q = f"SELECT COALESCE(SUM(size), 0) FROM paths WHERE path IN ({','.join('?' * len(part))})"
            total += c.execute(q, part).fetchone()[0]
        kind, size, files, sha, deriver = row
        return PathInfo(path, kind, size, files, sha, deriver, tuple(self.references(path)), total)

    # -- roots (roots.py) -----------------------------------------------------------------------

    def add_root(self, name: str, target: StorePath) -> None:
        """A named root (a revision): keeps ``target`` and its closure alive."""
        roots.add_root(self, name, target)

    def remove_root(self, name: str) -> bool:
        return roots.remove_root(self, name)

    def add_indirect_root(self, link: str | os.PathLike[str], target: StorePath) -> Path:
        """Point the symlink ``link`` (e.g. ``./result``) at ``target`` and record it as a root."""
        return roots.add_indirect_root(self, link, target)

    def roots(self) -> list[Root]:
        """Every root; a link root whose link is gone or points elsewhere has ``target=None``."""
        return roots.list_roots(self)

    # -- maintenance (maintenance.py) -----------------------------------------------------------

    def gc(self, *, dry_run: bool = False, wait: bool = False) -> GcReport:
        return maintenance.gc(self, dry_run=dry_run, wait=wait)

    def verify(self, *, check_contents: bool = False, repair: bool = False) -> VerifyReport:
        return maintenance.verify(self, check_contents=check_contents, repair=repair)

    def rebuild_db(self) -> RebuildReport:
        return maintenance.rebuild_db(self)

    @classmethod
    def recover(cls, root: str | os.PathLike[str]) -> tuple[LocalStore, RebuildReport]:
        """Rebuild the metadata of the store at ``root`` even when its database cannot be opened
        (``LocalStore(root)`` raising E118): the unreadable database is set aside first."""
        meta = Path(os.path.realpath(root)) / META_DIR
        if (meta / "db.sqlite").exists():
            lock = FileLock(meta / "gc.lock")
            if not lock.acquire(blocking=False):
                raise SkiffError(STORE_BUSY, f"cannot rebuild the database: another process uses '{root}'")
            try:
                for suffix in ("", "-wal", "-shm"):
                    p = meta / f"db.sqlite{suffix}"
                    if p.exists():
                        os.replace(p, meta / f"db.sqlite.broken{suffix}")
            finally:
                lock.release()
        store = cls(root, clean=False)
        return store, store.rebuild_db()

    def info(self) -> StoreInfo:
        return maintenance.info(self)

    def close(self) -> None:
        self.db.close()
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unusable(given: str, root: Path, e: OSError) -> SkiffError:
    """E124 for a store directory that cannot be made or written (``e`` from making its parts)."""
    in_the_way = next((p for p in (root, *root.parents) if p.exists()), None)
    if in_the_way is not None and not in_the_way.is_dir():
        why = "it is not a directory" if in_the_way == root else f"'{in_the_way}' is not a directory"
    else:
        failed = f" ('{e.filename}')" if e.filename and os.fspath(e.filename) != str(root) else ""
        why = f"{e.strerror or e}{failed}"
    return SkiffError(STORE_UNUSABLE, f"cannot use '{given}' as a store: {why}",
                      help=["--store DIR (or SKIFFEVAL_STORE) names the store: a directory you can write, or a path where one can be made"])


def _write_new_file(path: str, data: bytes) -> None:
    """Create a read-only file with ``data`` at its final name.

    Why no temporary file and rename: a rename costs as much as the write on these disks.  The
    name is listed in a pending marker, so a file half-written by a killed process is deleted
    before anyone registers it; a file that another process is writing right now (EEXIST with
    other bytes) is replaced, and that process's writes go to the unlinked inode.
    """
    for _attempt in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        except FileExistsError:
            try:
                with open(path, "rb") as f:
                    if f.read() == data:
                        return
            except FileNotFoundError:
                continue
            os.unlink(path)
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return
    raise SkiffError(STORE_CORRUPT, f"cannot write '{path}': it keeps changing under us")


class PendingMarker:
    """A file in ``.skiffeval/pending/`` listing top-level names this process may leave behind
    (scratch paths, final names not yet registered).  Deleted when the work is done; if the
    process dies, ``clean_leftovers`` deletes every listed name that is not registered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self._lock = threading.Lock()

    def add(self, names: Iterable[str]) -> None:
        data = "".join(n + "\n" for n in names).encode()
        if data and self.fd is not None:
            with self._lock:
                os.write(self.fd, data)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            self.path.unlink(missing_ok=True)
