"""Importing sources: files, symlinks and trees enter the store by content (docs/store.md,
"Stat cache" and "Entering the store").

``add_path`` first walks the source through the stat cache; if every file is answered and the
path is already valid, nothing is read or copied.  Otherwise the tree is copied into a scratch
path while its bytes are hashed (one read), the copy is renamed and registered like any other
object, and the cache is refreshed from the stats taken around each read.
"""

from __future__ import annotations

import marshal
import os
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from skiffeval.derivation import StorePath
from skiffeval.diagnostics import SkiffError
from skiffeval.derivation.storepath import check_name
from skiffeval.store.codes import IMPORT_FAILED
from skiffeval.store.tree import CacheMiss, Only, SourceWalk, hash_bytes
from skiffeval.store.treeops import STORE_MTIME_NS, CopyWalk, remove_tree

if TYPE_CHECKING:
    from skiffeval.store.local import LocalStore

__all__ = ["add_path", "hash_source", "add_bytes", "load_stat_cache", "save_stat_cache"]


def add_path(store: LocalStore, path: str | os.PathLike[str], name: str | None = None,
             exclude: frozenset[str] = frozenset(), only: Collection[str] | None = None) -> StorePath:
    """Import a file, symlink or directory tree (symlinks kept as links, never followed);
    ``exclude`` names entries left out at the top of a tree (``.git`` of a checkout); ``only``,
    when given, lists the files (relative paths) to import from the tree and nothing else but
    the folders on their way (a view of the tree, ``Only``).

    Re-importing an unchanged tree costs one ``lstat`` per file: the stat cache answers
    for every file and the path is found valid without reading or copying anything.
    """
    src = os.path.abspath(path)
    name = name if name is not None else os.path.basename(src.rstrip("/"))
    check_name(name)
    _not_around_the_store(store, src)
    bexclude = frozenset(os.fsencode(x) for x in exclude)
    selection = Only(only) if only is not None else None
    # a view keeps its own cache: the whole tree's would otherwise be replaced by the view's part
    cache_root = src if selection is None else src + "\0only"
    with store.shared_lock():
        cache = load_stat_cache(store, cache_root)
        now = time.time_ns()
        if cache:
            try:
                walk = SourceWalk(cache, now_ns=now, probe=True, exclude=bexclude, only=selection)
                th = walk.hash(src)
                sp = StorePath(th.digest(name), name)
                if store.is_valid(sp):
                    if walk.new_cache != cache:
                        save_stat_cache(store, cache_root, walk.new_cache)
                    return sp
            except CacheMiss:
                pass
        _digest, scratch = store.scratch_path(name)
        with store.pending([scratch.name]) as marker:
            copier = CopyWalk(now_ns=now, exclude=bexclude, only=selection)
            try:
                th = copier.copy(src, scratch)
            except BaseException:
                remove_tree(scratch)
                raise
            sp = StorePath(th.digest(name), name)
            store.finalize([(scratch, sp, th, "source", None, ())], marker)
        save_stat_cache(store, cache_root, copier.new_cache)
        return sp


def _not_around_the_store(store: LocalStore, src: str) -> None:
    """A tree that holds the store cannot be imported into it (it would copy the store into
    itself, ever larger): say so before reading anything."""
    real_src, root = os.path.realpath(src), os.path.realpath(store.root)
    if root == real_src or root.startswith(os.path.join(real_src, "")):
        raise SkiffError(
            IMPORT_FAILED, f"cannot import '{src}': it contains the store '{root}'",
            help=["give a directory beside the store, not one around it (or keep the store elsewhere: --store, SKIFFEVAL_STORE)"],
        )


def hash_source(store: LocalStore, path: str | os.PathLike[str], name: str | None = None) -> StorePath:
    """The store path ``add_path`` would give, without importing (uses and fills the cache)."""
    src = os.path.abspath(path)
    name = name if name is not None else os.path.basename(src.rstrip("/"))
    check_name(name)
    _not_around_the_store(store, src)
    cache = load_stat_cache(store, src)
    walk = SourceWalk(cache, now_ns=time.time_ns())
    th = walk.hash(src)
    if walk.new_cache != cache:
        save_stat_cache(store, src, walk.new_cache)
    return StorePath(th.digest(name), name)


def add_bytes(store: LocalStore, name: str, data: bytes, *, executable: bool = False) -> StorePath:
    """Import ``data`` as a single file named ``name`` (written straight to a scratch path)."""
    check_name(name)
    th = hash_bytes(data, executable=executable)
    sp = StorePath(th.digest(name), name)
    if store.is_valid(sp):
        return sp
    with store.shared_lock():
        _digest, scratch = store.scratch_path(name)
        with store.pending([scratch.name]) as marker:
            try:
                fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o555 if executable else 0o444)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    os.utime(f.fileno(), ns=(STORE_MTIME_NS, STORE_MTIME_NS))
            except BaseException:
                remove_tree(scratch)
                raise
            store.finalize([(scratch, sp, th, "source", None, ())], marker)
    return sp


def load_stat_cache(store: LocalStore, src: str) -> dict[bytes, Any]:
    row = store.db.conn().execute("SELECT blob FROM stat_cache WHERE root=?", (src,)).fetchone()
    if row is None:
        return {}
    try:
        value = marshal.loads(row[0])
    except (ValueError, EOFError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def save_stat_cache(store: LocalStore, src: str, cache: dict[bytes, Any]) -> None:
    blob = marshal.dumps(cache)
    # the stat cache is hashing's own cache: what queries keep under the generation never reads
    # it, so its rewrite (after a tree's mtimes settle, say) leaves their answers standing
    with store.db.transaction(moves_generation=False) as c:
        c.execute("INSERT OR REPLACE INTO stat_cache VALUES (?, ?)", (src, blob))
