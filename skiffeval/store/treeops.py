"""Operations on trees in the store's filesystem: import-copy, normalize, rewrite, remove.

* ``CopyWalk`` copies a source tree into a scratch path while hashing what it copies (one
  read of every byte) and records stat-cache entries for source files that did not change
  while they were read.
* ``normalize`` gives a tree its store form (docs/store.md, "Normalization"): regular files
  0444, or 0555 when any executable bit was set; directories 0555; every mtime 1 s after the
  epoch; symlinks kept as links.  Owners are not changed (they are not part of any hash).
* ``rewrite_self_refs`` replaces a scratch digest by the final one, in place (same length).
* ``remove_tree`` deletes a tree even when it is read-only.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import shutil
import stat as statmod
from typing import Any

import xxhash

from skiffeval.diagnostics import SkiffError
from skiffeval.store.codes import IMPORT_FAILED
from skiffeval.store.tree import CHUNK, Only, StatCache, TreeHash, _unsupported, u64

__all__ = ["CopyWalk", "normalize", "rewrite_self_refs", "remove_tree", "STORE_MTIME_NS"]

STORE_MTIME_NS = 1_000_000_000  # 1970-01-01T00:00:01Z, as Nix
_ZTAIL = b"\0" * 8
_RACY_NS = 50_000_000


class CopyWalk:
    """Copies ``src`` to ``dst`` (which must not exist), hashing the bytes it writes.

    Symlinks are copied as links and never followed; other special files are refused (E116).
    The copy is already normalized when the walk returns.
    """

    def __init__(self, *, now_ns: int, exclude: frozenset[bytes] = frozenset(), only: Only | None = None) -> None:
        self.exclude = exclude  # names left out at the top of the tree (e.g. b".git")
        self.only = only  # the files kept, when the import is a view of the tree
        self.racy_after = now_ns - _RACY_NS
        self.new_cache: StatCache = {}
        self.size = 0
        self.files = 0
        self.xs: list[bytes] = []
        self.ss: list[bytes] = []

    def copy(self, src: str | bytes, dst: str | bytes) -> TreeHash:
        bsrc, bdst = os.fsencode(src), os.fsencode(dst)
        try:
            st = os.lstat(bsrc)
        except FileNotFoundError:
            raise SkiffError(IMPORT_FAILED, f"path '{os.fsdecode(bsrc)}' does not exist") from None
        if statmod.S_ISDIR(st.st_mode):
            self._dir(bsrc, bdst, b".")
            top = "dir"
        else:
            new: dict[bytes, Any] = {}
            self.new_cache[b""] = new
            self._entry(bsrc, bdst, b"", st, b"", new)
            top = "file" if statmod.S_ISREG(st.st_mode) else "link"
        ss = b"".join(self.ss)
        return TreeHash(b"".join(self.xs), ss, self.size, self.files, top, ss[-32:].hex() if top == "file" else None)

    def _dir(self, src: bytes, dst: bytes, rel: bytes) -> None:
        os.mkdir(dst, 0o755)
        with os.scandir(src) as it:
            only = self.only
            entries = sorted((e.name, e) for e in it
                             if (rel != b"." or e.name not in self.exclude) and (only is None or only.keeps(rel, e.name, e.is_dir(follow_symlinks=False))))
        n = b"d" + u64(len(entries))
        self.xs.append(n)
        self.ss.append(n)
        new: dict[bytes, Any] = {}
        self.new_cache[rel] = new
        for name, e in entries:
            prefix = u64(len(name)) + name
            st = e.stat(follow_symlinks=False)
            if statmod.S_ISDIR(st.st_mode):
                self.xs.append(prefix)
                self.ss.append(prefix)
                self._dir(e.path, dst + b"/" + name, name if rel == b"." else rel + b"/" + name)
            else:
                self._entry(e.path, dst + b"/" + name, name, st, prefix, new)
        os.chmod(dst, 0o555)
        os.utime(dst, ns=(STORE_MTIME_NS, STORE_MTIME_NS), follow_symlinks=False)

    def _entry(self, src: bytes, dst: bytes, name: bytes, st: os.stat_result, prefix: bytes, new: dict[bytes, Any]) -> None:
        mode = st.st_mode
        if statmod.S_ISREG(mode):
            x, s, after = _copy_file(src, dst, 0o555 if mode & 0o111 else 0o444)
            head = prefix + (b"fx" if mode & 0o111 else b"f-") + u64(after.st_size)
            xp = head + x + _ZTAIL
            self.xs.append(xp)
            self.ss.append(head + s)
            key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            # Cache only what provably matches the bytes read: unchanged across the read, not racy.
            if (key == (after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns)
                    and key[2] < self.racy_after and key[3] < self.racy_after):
                new[name] = (key, xp)
            self.size += after.st_size
        elif statmod.S_ISLNK(mode):
            target = os.readlink(src)
            os.symlink(target, dst)
            os.utime(dst, ns=(STORE_MTIME_NS, STORE_MTIME_NS), follow_symlinks=False)
            head = prefix + b"l" + u64(len(target)) + target
            self.xs.append(head + _ZTAIL)
            self.ss.append(head)
            self.size += len(target)
        else:
            raise _unsupported(src, mode, IMPORT_FAILED)
        self.files += 1


def _copy_file(src: bytes, dst: bytes, mode: int) -> tuple[bytes, bytes, os.stat_result]:
    x, s = xxhash.xxh3_128(), hashlib.sha256()
    with open(src, "rb", buffering=0) as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            while True:
                data = fin.read(CHUNK)
                if not data:
                    break
                x.update(data)
                s.update(data)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            os.utime(fd, ns=(STORE_MTIME_NS, STORE_MTIME_NS))
        finally:
            os.close(fd)
        after = os.fstat(fin.fileno())
    return x.digest(), s.digest(), after


def normalize(path: str | bytes) -> None:
    """Give a freshly built tree its store form (see the module docstring)."""
    bpath = os.fsencode(path)
    st = os.lstat(bpath)
    _normalize(bpath, st)


def _normalize(path: bytes, st: os.stat_result) -> None:
    mode = st.st_mode
    if statmod.S_ISDIR(mode):
        if not mode & 0o200:
            os.chmod(path, 0o755)
        with os.scandir(path) as it:
            for e in it:
                _normalize(e.path, e.stat(follow_symlinks=False))
        os.chmod(path, 0o555)
    elif statmod.S_ISREG(mode):
        os.chmod(path, 0o555 if mode & 0o111 else 0o444)
    elif not statmod.S_ISLNK(mode):
        raise _unsupported(path, mode, IMPORT_FAILED)
    os.utime(path, ns=(STORE_MTIME_NS, STORE_MTIME_NS), follow_symlinks=False)


def rewrite_self_refs(top: str | bytes, rels: list[bytes], old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` (same length) in the files and links ``rels`` under ``top``."""
    assert len(old) == len(new)
    btop = os.fsencode(top)
    for rel in rels:
        path = btop + b"/" + rel if rel else btop
        st = os.lstat(path)
        if statmod.S_ISLNK(st.st_mode):
            target = os.readlink(path)
            os.unlink(path)
            os.symlink(target.replace(old, new), path)
            continue
        if not st.st_mode & 0o200:
            os.chmod(path, st.st_mode | 0o200)
        with open(path, "r+b") as f, mmap.mmap(f.fileno(), 0) as mm:
            i = mm.find(old)
            while i >= 0:
                mm[i : i + len(new)] = new
                i = mm.find(old, i + len(new))
        os.chmod(path, st.st_mode)


def remove_tree(path: str | bytes) -> None:
    """Delete a file, link or tree, read-only directories included; missing is fine."""
    bpath = os.fsencode(path)
    try:
        st = os.lstat(bpath)
    except FileNotFoundError:
        return
    if not statmod.S_ISDIR(st.st_mode):
        os.unlink(bpath)
        return

    def onerror(func: Any, p: Any, exc: Any) -> None:
        # A read-only parent refuses the unlink: make it writable and try once more.
        parent = os.path.dirname(p)
        os.chmod(parent, 0o755)
        if func in (os.rmdir, os.unlink):
            func(p)
        else:
            os.chmod(p, 0o755)
            shutil.rmtree(p)

    for dirpath, _dirs, _files in os.walk(bpath):
        try:
            os.chmod(dirpath, 0o755)
        except OSError:
            pass
    shutil.rmtree(bpath, onerror=onerror)
