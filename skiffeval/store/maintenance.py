"""Store maintenance: garbage collection, verification, database rebuild and statistics.

GC (docs/store.md, "Garbage collection"): the live set is the closure of the roots — named
roots (revisions), link roots (out-links that still point into the store) — under references,
plus each live output's deriver ``.drv`` (and its closure).  Running builds and imports hold the
GC lock shared, so ``gc`` (which needs it exclusive) cannot run beside them: they are roots by
exclusion.  Everything else is deleted: paths, ``.drv`` files, their metadata, realisations
whose outputs are gone, unregistered leftovers and logs of deleted derivations.
Deletion is unregister-first under a pending marker, so a crash leaves garbage, never a
registered path without its files.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from skiffeval.derivation import StorePath, decode_drv
from skiffeval.diagnostics import SkiffError
from skiffeval.store.codes import STORE_BUSY
from skiffeval.store.db import Database
from skiffeval.store.protocol import Corruption, GcReport, RebuildReport, StoreInfo, VerifyReport
from skiffeval.store.tree import OutputScan, path_digest
from skiffeval.store.treeops import normalize, remove_tree

if TYPE_CHECKING:
    from skiffeval.store.local import LocalStore

__all__ = ["gc", "verify", "rebuild_db", "info"]


def _exclusive(store: LocalStore, what: str, wait: bool = False):  # type: ignore[no-untyped-def]
    lock = store.exclusive_lock()
    if not lock.acquire(blocking=wait):
        raise SkiffError(STORE_BUSY, f"cannot {what}: another process is building or importing into '{store.root}'",
                         help=["try again when it has finished"])
    return lock


def _top_entries(store: LocalStore) -> list[str]:
    return sorted(n for n in os.listdir(store.root) if not n.startswith("."))


def _unregister(c, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    for n in names:
        c.execute("DELETE FROM paths WHERE path=?", (n,))
        c.execute("DELETE FROM refs WHERE referrer=?", (n,))
        c.execute("DELETE FROM resolved_outputs WHERE path=?", (n,))
        if n.endswith(".drv"):
            c.execute("DELETE FROM derivations WHERE key=?", (n[:26],))
    c.execute("DELETE FROM realisations WHERE resolved NOT IN (SELECT resolved FROM resolved_outputs)")
    c.execute("DELETE FROM resolved WHERE key NOT IN (SELECT resolved FROM resolved_outputs)")


# ---------------------------------------------------------------------------------------------
# garbage collection


def gc(store: LocalStore, *, dry_run: bool = False, wait: bool = False) -> GcReport:
    """Delete everything no root reaches (see the module docstring)."""
    lock = _exclusive(store, "collect garbage", wait)
    try:
        c = store.db.conn()
        paths = {p: (kind, size, deriver) for p, kind, size, deriver in c.execute("SELECT path, kind, size, deriver FROM paths")}
        refs: dict[str, list[str]] = defaultdict(list)
        for a, b in c.execute("SELECT referrer, reference FROM refs"):
            refs[a].append(b)
        drv_of = {k: f"{k}-{n}.drv" for k, n in c.execute("SELECT key, name FROM derivations")}
        roots = store.roots()
        live: set[str] = set()
        todo = [r.target.basename for r in roots if r.target is not None and r.target.basename in paths]
        while todo:
            p = todo.pop()
            if p in live:
                continue
            live.add(p)
            todo.extend(q for q in refs.get(p, ()) if q not in live and q in paths)
            deriver = paths[p][2]
            if deriver is not None:
                d = drv_of.get(deriver)
                if d is not None and d in paths and d not in live:
                    todo.append(d)
        dead = sorted(p for p in paths if p not in live)
        garbage = [n for n in _top_entries(store) if n not in paths]
        freed = sum(paths[p][1] for p in dead)
        dropped = 0
        if not dry_run:
            with store.pending(dead) as _marker:
                with store.db.transaction() as tx:
                    before = tx.execute("SELECT COUNT(*) FROM realisations").fetchone()[0]
                    _unregister(tx, dead)
                    dropped = before - tx.execute("SELECT COUNT(*) FROM realisations").fetchone()[0]
                for p in dead + garbage:
                    remove_tree(store.root / p)
            for r in roots:  # forget link roots whose link is gone
                if r.kind == "link" and r.target is None:
                    (store.meta / "roots" / "links" / r.name).unlink(missing_ok=True)
            dead_keys = {p[:26] for p in dead if p.endswith(".drv")}
            for log in (store.meta / "logs").iterdir():
                if log.name[:26] in dead_keys:
                    log.unlink(missing_ok=True)
            _compact_journal(store)
        return GcReport(dry_run, tuple(dead + garbage), freed, len(live), dropped)
    finally:
        lock.release()


def _compact_journal(store: LocalStore) -> None:
    path = store.meta / "realisations.log"
    if not path.exists():
        return
    valid = {k for (k,) in store.db.conn().execute("SELECT key FROM realisations")}
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.split(" ", 1)[0] in valid]
    tmp = path.with_name("realisations.log.tmp")
    tmp.write_text("".join(ln + "\n" for ln in lines))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# verification


def _check_path(store: LocalStore, sp: StorePath, kind: str, sha: str) -> Corruption | None:
    real = store.real_path(sp)
    if kind == "drv":
        data = real.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            return Corruption(sp, "sha256", sha, actual)
        try:
            decode_drv(data, str(real), expected_key=sp.digest)
        except SkiffError as e:
            return Corruption(sp, "drv", sp.digest, e.message)
        return None
    scan = OutputScan(sp.digest.encode(), ())
    try:
        th = scan.hash(real)
    except SkiffError as e:
        return Corruption(sp, "digest", sp.digest, e.message)
    digest = path_digest(sp.name, th.xxh_manifest)
    if digest != sp.digest:
        return Corruption(sp, "digest", sp.digest, digest)
    if th.sha256 != sha:
        return Corruption(sp, "sha256", sha, th.sha256)
    return None


def _writable(path: str) -> bool:
    st = os.lstat(path)
    if os.path.islink(path):
        return False
    if st.st_mode & 0o222:
        return True
    if os.path.isdir(path):
        for dirpath, dirs, files in os.walk(path):
            for n in dirs + files:
                p = os.path.join(dirpath, n)
                if not os.path.islink(p) and os.lstat(p).st_mode & 0o222:
                    return True
    return False


def verify(store: LocalStore, *, check_contents: bool = False, repair: bool = False) -> VerifyReport:
    """Check that every registered path exists (and, with ``check_contents``, still hashes to its
    name and recorded SHA-256) and that nothing is writable; list unregistered entries.  With
    ``repair``: unregister and delete broken paths and every path that refers to them (so the
    next build makes them again, and no valid path refers to a missing one), make writable
    paths read-only and delete unregistered entries."""
    lock = _exclusive(store, "repair the store") if repair else store.shared_lock()
    if not repair:
        lock.acquire()
    try:
        c = store.db.conn()
        rows = list(c.execute("SELECT path, kind, sha256 FROM paths ORDER BY path"))
        problems: list[Corruption] = []
        writable: list[StorePath] = []
        for name, kind, sha in rows:
            sp = StorePath.parse(name)
            real = str(store.real_path(sp))
            if not os.path.lexists(real):
                problems.append(Corruption(sp, "missing"))
                continue
            if check_contents:
                bad = _check_path(store, sp, kind, sha)
                if bad is not None:
                    problems.append(bad)
                    continue
            if _writable(real) if check_contents else (os.lstat(real).st_mode & 0o222 and not os.path.islink(real)):
                writable.append(sp)
        registered = {r[0] for r in rows}
        garbage = [n for n in _top_entries(store) if n not in registered]
        repaired: list[str] = []
        if repair:
            broken = _with_referrers(c, [p.path.basename for p in problems])
            with store.db.transaction() as tx:
                _unregister(tx, broken)
            for n in broken + garbage:
                remove_tree(store.root / n)
            for sp in writable:
                normalize(store.real_path(sp))
            repaired = broken + garbage + [sp.basename for sp in writable]
        return VerifyReport(len(rows), tuple(problems), tuple(garbage), tuple(writable), tuple(repaired))
    finally:
        lock.release()


def _with_referrers(c, names: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """``names`` and every path that refers to one of them, directly or not: a valid path's
    references must all be valid, so a path that goes takes its referrers with it (the next
    build makes them again; early cutoff keeps that cheap)."""
    doomed = dict.fromkeys(names)
    todo = list(names)
    while todo:
        name = todo.pop()
        for (referrer,) in c.execute("SELECT referrer FROM refs WHERE reference=?", (name,)):
            if referrer not in doomed:
                doomed[referrer] = None
                todo.append(referrer)
    return list(doomed)


# ---------------------------------------------------------------------------------------------
# rebuilding the database


LOST = (
    "the resolved derivation documents (a later build records them again)",
    "registration times",
    "the stat cache of imported source trees (the next import re-reads them once)",
    "realisations not in realisations.log (those of a process killed right after registering)",
)


def rebuild_db(store: LocalStore) -> RebuildReport:
    """Recreate the metadata from the store's contents: ``.drv`` files are decoded and checked
    against their names, every other entry is re-hashed and kept if it matches its name, its
    references are re-scanned, and realisations are replayed from ``realisations.log``."""
    lock = _exclusive(store, "rebuild the database")
    try:
        store.db.close()
        for suffix in ("", "-wal", "-shm"):
            p = store.meta / f"db.sqlite{suffix}"
            if p.exists():
                os.replace(p, store.meta / f"db.sqlite.old{suffix}")
        store.db = Database(str(store.meta / "db.sqlite"))
        store._drv_cache.clear()
        entries = _top_entries(store)
        digests = {n[:26].encode(): n for n in entries if len(n) > 27 and n[26] == "-"}
        journal = _read_journal(store)
        output_of = {p: key for key, _r, outs in journal for p in outs.values()}
        skipped: list[str] = []
        drvs = []
        now = int(time.time())
        with store.db.transaction() as c:
            for n in entries:
                real = store.root / n
                try:
                    sp = StorePath.parse(n)
                except SkiffError:
                    skipped.append(n)
                    continue
                if sp.is_derivation:
                    try:
                        data = real.read_bytes()
                        d = decode_drv(data, str(real), expected_key=sp.digest)
                    except (SkiffError, OSError):
                        skipped.append(n)
                        continue
                    drvs.append(d)
                    c.execute("INSERT INTO derivations VALUES (?,?,?)", (d.key, d.name, d.ref if d.fixed else None))
                    c.execute("INSERT INTO paths VALUES (?,?,?,?,?,?,?)",
                              (n, "drv", len(data), 1, hashlib.sha256(data).hexdigest(), None, now))
                    continue
                scan = OutputScan(sp.digest.encode(), {k: v for k, v in digests.items() if v != n})
                try:
                    th = scan.hash(real)
                except (SkiffError, OSError):
                    skipped.append(n)
                    continue
                if path_digest(sp.name, th.xxh_manifest) != sp.digest:
                    skipped.append(n)
                    continue
                deriver = output_of.get(n)
                c.execute("INSERT INTO paths VALUES (?,?,?,?,?,?,?)",
                          (n, "output" if deriver else "source", th.size, th.files, th.sha256, deriver, now))
                c.executemany("INSERT OR IGNORE INTO refs VALUES (?,?)", [(n, digests[r]) for r in th.references])
            valid = {r[0] for r in c.execute("SELECT path FROM paths")}
            drv_names = {d.key: d.drv_path.basename for d in drvs}
            by_ref = {d.ref: d.drv_path.basename for d in drvs}
            for d in drvs:
                refs = [p.basename for p in d.input_srcs.values()] + [by_ref[i.key] for i in d.input_drvs.values() if i.key in by_ref]
                c.executemany("INSERT OR IGNORE INTO refs VALUES (?,?)", [(d.drv_path.basename, r) for r in refs if r in valid])
            count = 0
            for key, resolved, outs in journal:
                if outs and all(p in valid for p in outs.values()) and key in drv_names:
                    c.execute("INSERT OR REPLACE INTO realisations VALUES (?,?)", (key, resolved))
                    c.executemany("INSERT OR REPLACE INTO resolved_outputs VALUES (?,?,?)",
                                  [(resolved, o, p) for o, p in outs.items()])
                    count += 1
            npaths = c.execute("SELECT COUNT(*) FROM paths WHERE kind != 'drv'").fetchone()[0]
        for suffix in ("", "-wal", "-shm"):
            (store.meta / f"db.sqlite.old{suffix}").unlink(missing_ok=True)
        return RebuildReport(len(drvs), npaths, count, tuple(skipped), LOST)
    finally:
        lock.release()


def _read_journal(store: LocalStore) -> list[tuple[str, str, dict[str, str]]]:
    path = store.meta / "realisations.log"
    out = []
    if not path.exists():
        return out
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split(" ")
        if len(parts) < 3 or len(parts[0]) != 26 or len(parts[1]) != 26:
            continue  # a torn last line of a killed process
        outs = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        out.append((parts[0], parts[1], outs))
    return out


# ---------------------------------------------------------------------------------------------
# statistics


def info(store: LocalStore) -> StoreInfo:
    c = store.db.conn()
    counts = dict(c.execute("SELECT kind, COUNT(*) FROM paths GROUP BY kind").fetchall())
    total = c.execute("SELECT COALESCE(SUM(size), 0) FROM paths").fetchone()[0]
    realisations = c.execute("SELECT COUNT(*) FROM realisations").fetchone()[0]
    db_bytes = sum(p.stat().st_size for p in store.meta.glob("db.sqlite*"))
    log_bytes = sum(p.stat().st_size for p in (store.meta / "logs").iterdir())
    return StoreInfo(
        str(store.root), counts.get("source", 0), counts.get("output", 0), counts.get("drv", 0),
        realisations, len(store.roots()), total, db_bytes, log_bytes,
    )


