"""Tree serialization and hashing: how a file, symlink or directory tree gets its digests.

The model (docs/store.md, "Tree serialization" and "Self-references")
* A tree is described by two *manifests*, NAR-like canonical byte strings: type tags, entries in
  byte order of their names, every length a little-endian u64.  Regular files appear as their
  size, executable flag and content digest (not their bytes), symlinks as their target, and
  directories as their sorted entries.  Owners, times and other mode bits are not part of it.
* The XXH3 manifest uses XXH3-128 file digests; it names the path:
  ``digest = XXH3-128(salt("path") + u64(len(name)) + name + xxh3_manifest)``.
  The SHA-256 manifest uses SHA-256 file digests; ``tree_sha256 = SHA-256(salt("tree") +
  sha_manifest)`` is the hash recorded for every path and the ``recursive`` fixed-output hash.
* Why a Merkle form and not one stream over all bytes (Nix's NAR hash): the stat cache can then
  skip every unchanged file; with a single stream, one edited file would force re-reading the
  whole tree.  Both digests still commit to every byte.
* Self-references: a builder writes to a scratch path of the same length as the final one.  In
  the XXH3 manifest each occurrence of the scratch digest in a file or link target is replaced by
  26 ``0`` and its offset is listed, so the final digest is computed *modulo* self-references
  and the occurrences are then rewritten to the final digest in place (same length).  Verifying
  replaces the final digest the same way and must find the same offsets.
* References: output bytes are scanned for the digests of candidate store paths (the inputs'
  closure), like Nix: every 26-character window of every run of base-32 characters.

This module only reads trees (``OutputScan`` rewrites self-references); normalizing and copying
live in ``treeops``.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat as statmod
from collections.abc import Callable, Collection
from typing import Any

import attrs
import xxhash

from skiffeval.canonical import salt
from skiffeval.derivation.keys import fast_nixbase32
from skiffeval.derivation.storepath import StorePath
from skiffeval.diagnostics import SkiffError
from skiffeval.store.codes import BAD_OUTPUT, IMPORT_FAILED

__all__ = [
    "TreeHash",
    "TreeWalker",
    "SourceWalk",
    "CacheMiss",
    "Only",
    "OutputScan",
    "path_digest",
    "tree_sha256",
    "hash_tree",
    "hash_bytes",
    "CHUNK",
    "DIGEST_LEN",
    "ZERO_DIGEST",
]

CHUNK = 1 << 20  # read size for large files: large enough that I/O, not Python, dominates
DIGEST_LEN = 26
ZERO_DIGEST = b"0" * DIGEST_LEN
_RUN_RE = re.compile(rb"[0-9a-df-np-sv-z]{26,}")
_PATH_SALT = salt("path")
_TREE_SALT = salt("tree")
_XXH = xxhash.xxh3_128
_SHA = hashlib.sha256


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def path_digest(name: str, xxh_manifest: bytes) -> str:
    """The 26-character digest that names a path (docs/store.md, "Path digests")."""
    h = _XXH(_PATH_SALT)
    raw = name.encode()
    h.update(u64(len(raw)) + raw)
    h.update(xxh_manifest)
    return fast_nixbase32(h.digest())


def tree_sha256(sha_manifest: bytes) -> str:
    """The tree SHA-256 (hex) of a SHA-256 manifest (docs/store.md, "Tree SHA-256")."""
    return _SHA(_TREE_SALT + sha_manifest).hexdigest()


@attrs.frozen
class TreeHash:
    """The result of hashing a tree: both manifests, its size and what it refers to."""

    xxh_manifest: bytes
    sha_manifest: bytes | None  # None when only the digest was needed (warm source walk)
    size: int  # bytes of file contents and link targets
    files: int  # regular files and symlinks
    kind: str  # "file", "link" or "dir" (of the top)
    flat_sha256: str | None  # sha256sum of the top when it is a regular file
    references: frozenset[bytes] = frozenset()  # candidate digests found in the bytes
    self_refs: tuple[bytes, ...] = ()  # relative paths holding self-references

    def digest(self, name: str) -> str:
        return path_digest(name, self.xxh_manifest)

    @property
    def sha256(self) -> str:
        assert self.sha_manifest is not None
        return tree_sha256(self.sha_manifest)


def _unsupported(path: bytes, mode: int, code: Any) -> SkiffError:
    kind = statmod.filemode(mode)[0]
    what = {"p": "a fifo", "s": "a socket", "c": "a character device", "b": "a block device"}.get(kind, "an unknown file type")
    return SkiffError(code, f"'{os.fsdecode(path)}' is {what}: only regular files, symlinks and directories can enter the store")


class TreeWalker:
    """Walks a tree once and builds both manifests; subclasses decide how a file is hashed.

    Why a class with per-file hooks and not one walker with flags: the warm-cache walk is the
    hot path of re-hashing a 20,000-file tree, so each variant keeps its inner loop free of tests
    that do not concern it.
    """

    error_code = IMPORT_FAILED

    def __init__(self) -> None:
        self.size = 0
        self.files = 0

    # hooks -------------------------------------------------------------------------------------

    def file(self, path: bytes, st: os.stat_result, rel: bytes) -> tuple[bytes, bytes, bytes]:
        """(xxh3 digest part, sha256 digest, xxh3 tail) of a regular file's contents."""
        x, s = hash_file(path, st.st_size)
        return x, s, b"\0" * 8

    def link(self, path: bytes, rel: bytes) -> tuple[bytes, bytes, bytes]:
        """(target for the xxh3 manifest, target, xxh3 tail) of a symlink."""
        target = os.readlink(path)
        return target, target, b"\0" * 8

    def check_name(self, name: bytes, path: bytes) -> None:
        pass

    # walk --------------------------------------------------------------------------------------

    def walk(self, path: bytes, st: os.stat_result | None = None, rel: bytes = b"") -> tuple[bytes, bytes]:
        if st is None:
            st = os.lstat(path)
        mode = st.st_mode
        if statmod.S_ISREG(mode):
            x, s, tail = self.file(path, st, rel)
            flag = b"fx" if mode & 0o111 else b"f-"
            head = flag + u64(st.st_size)
            self.size += st.st_size
            self.files += 1
            return head + x + tail, head + s
        if statmod.S_ISLNK(mode):
            tx, ts, tail = self.link(path, rel)
            self.size += len(ts)
            self.files += 1
            return b"l" + u64(len(tx)) + tx + tail, b"l" + u64(len(ts)) + ts
        if statmod.S_ISDIR(mode):
            with os.scandir(path) as it:
                entries = sorted((e.name, e) for e in it)
            n = u64(len(entries))
            xs = [b"d", n]
            ss = [b"d", n]
            for name, e in entries:
                self.check_name(name, path)
                x, s = self.walk(e.path, e.stat(follow_symlinks=False), rel + b"/" + name if rel else name)
                prefix = u64(len(name)) + name
                xs += (prefix, x)
                ss += (prefix, s)
            return b"".join(xs), b"".join(ss)
        raise _unsupported(path, mode, self.error_code)

    def hash(self, path: str | bytes) -> TreeHash:
        bpath = os.fsencode(path)
        try:
            st = os.lstat(bpath)
        except FileNotFoundError:
            raise SkiffError(self.error_code, f"path '{os.fsdecode(bpath)}' does not exist") from None
        x, s = self.walk(bpath, st)
        kind = "file" if statmod.S_ISREG(st.st_mode) else "link" if statmod.S_ISLNK(st.st_mode) else "dir"
        flat = s[-32:].hex() if kind == "file" else None
        return TreeHash(x, s, self.size, self.files, kind, flat, *self.extra())

    def extra(self) -> tuple[Any, ...]:
        return ()


def hash_file(path: bytes, size: int) -> tuple[bytes, bytes]:
    """(XXH3-128, SHA-256) of a file's bytes, read in ``CHUNK`` blocks."""
    with open(path, "rb", buffering=0) as f:
        if size <= CHUNK:
            data = f.read()
            return _XXH(data).digest(), _SHA(data).digest()
        x, s = _XXH(), _SHA()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            chunk = view[:n]
            x.update(chunk)
            s.update(chunk)
        return x.digest(), s.digest()


def hash_bytes(data: bytes, *, executable: bool = False) -> TreeHash:
    """The ``TreeHash`` of a single regular file holding ``data`` (no file needed)."""
    head = (b"fx" if executable else b"f-") + u64(len(data))
    sha = _SHA(data).digest()
    return TreeHash(head + _XXH(data).digest() + b"\0" * 8, head + sha, len(data), 1, "file", sha.hex())


def hash_tree(path: str | bytes) -> TreeHash:
    """Hash a tree without any cache (what ``verify --check-contents`` and tests use)."""
    return TreeWalker().hash(path)


# ---------------------------------------------------------------------------------------------
# sources: the stat cache


class CacheMiss(Exception):
    """Raised by a probing source walk at the first file the stat cache cannot answer."""


_ZTAIL = b"\0" * 8
_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFDIR = 0o040000
_S_IFLNK = 0o120000
StatCache = dict  # {dir_rel: {name: (ino, size, mtime_ns, ctime_ns, xxh_piece, sha_piece)}}


class Only:
    """A selection of a tree's files (paths relative to its top, ``/``-separated): an import
    given one keeps those files and the folders on their way to them, and leaves out every
    other entry, as if the tree held nothing else.  (A "view" of a tree: the Buildroot files
    a configuration reads, say.)"""

    __slots__ = ("files", "dirs")

    def __init__(self, files: Collection[str]) -> None:
        self.files = frozenset(os.fsencode(f) for f in files)
        dirs: set[bytes] = set()
        for f in self.files:
            cut = f.rfind(b"/")
            while cut > 0 and f[:cut] not in dirs:
                dirs.add(f[:cut])
                cut = f.rfind(b"/", 0, cut)
        self.dirs = frozenset(dirs)

    def keeps(self, rel: bytes, name: bytes, is_dir: bool) -> bool:
        """Whether the entry ``name`` (a folder or not) of the folder ``rel`` (``b"."`` for the
        top) is kept."""
        child = name if rel == b"." else rel + b"/" + name
        return child in (self.dirs if is_dir else self.files)


class SourceWalk:
    """Hashes a source tree through a stat cache (docs/store.md, "Stat cache").

    The cache maps each directory (path relative to the top, bytes; ``b"."`` for the top) to its
    files: ``name -> ((inode, size, mtime_ns, ctime_ns), xxh3 piece)`` where the piece is the
    file's finished XXH3-manifest entry.  An entry answers only while the four stat fields are
    unchanged.  Files whose mtime or ctime is within ``RACY_NS`` of the walk's start are hashed
    but not cached ("racy", as in git's index: a second edit within the same clock tick could
    leave all four fields unchanged).  With ``probe``, the first miss raises ``CacheMiss``.

    Each directory's entry also keeps its listing under the key ``b"/"`` (no file name has a
    slash): ``((inode, mtime_ns, ctime_ns), names, is-folder flags)``, all names, sorted,
    before any exclusion.  While the directory's own numbers are unchanged no entry was added,
    removed or renamed in it (POSIX), so the walk takes the names from the cache instead of
    listing the directory: a warm re-hash is one ``lstat`` per entry and nothing else.  A
    directory changed within ``RACY_NS`` keeps no listing.

    Only the XXH3 manifest is built: it names the path, and a path that is already valid has its
    SHA-256 in the store's metadata; importing a new path hashes the copy (``treeops``).

    Why one flat loop and not ``TreeWalker`` hooks: re-hashing an unchanged 20,000-file tree
    is one ``lstat`` per file (~4 us on these machines) plus this loop, so the hit path is
    inlined, the manifest is appended to one flat list in pre-order, and nothing is computed
    for a hit but the stat key.  ``tests/store`` proves both walkers give the same manifest.
    """

    RACY_NS = 50_000_000

    def __init__(self, cache: StatCache, *, now_ns: int, probe: bool = False, exclude: frozenset[bytes] = frozenset(),
                 only: Only | None = None) -> None:
        self.exclude = exclude  # names left out at the top of the tree (e.g. b".git")
        self.only = only  # the files kept, when the import is a view of the tree
        self.cache = cache
        self.new_cache: StatCache = {}
        self.probe = probe
        self.racy_after = now_ns - self.RACY_NS
        self.misses = 0
        self.size = 0
        self.files = 0
        self.xs: list[bytes] = []

    def hash(self, path: str | bytes) -> TreeHash:
        bpath = os.fsencode(path)
        try:
            st = os.lstat(bpath)
        except FileNotFoundError:
            raise SkiffError(IMPORT_FAILED, f"path '{os.fsdecode(bpath)}' does not exist") from None
        kind = st.st_mode & _S_IFMT
        if kind == _S_IFDIR:
            self._dir(bpath, b".", st)
        else:
            new: dict[bytes, Any] = {}
            self.new_cache[b""] = new
            old = self.cache.get(b"", _EMPTY)
            hit = old.get(b"")
            if hit is not None and hit[0] == (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
                new[b""] = hit
                self.xs.append(hit[1])
                self.size += st.st_size
                self.files += 1
            else:
                self._other(bpath, b"", st, old, new)
        top = "dir" if kind == _S_IFDIR else "file" if kind == _S_IFREG else "link"
        return TreeHash(b"".join(self.xs), None, self.size, self.files, top, None)

    def _dir(self, path: bytes, rel: bytes, dst: os.stat_result) -> None:
        old = self.cache.get(rel, _EMPTY)
        new: dict[bytes, Any] = {}
        self.new_cache[rel] = new
        dkey = (dst.st_ino, dst.st_mtime_ns, dst.st_ctime_ns)
        listing = old.get(_LISTING)
        if listing is not None and listing[0] == dkey:  # no entry added, removed or renamed
            names, dirs = listing[1], listing[2]
        else:
            with os.scandir(path) as it:
                pairs = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
            names, dirs = tuple(n for n, _ in pairs), tuple(d for _, d in pairs)
        if dkey[1] < self.racy_after and dkey[2] < self.racy_after:
            new[_LISTING] = (dkey, names, dirs)
        only, exclude = self.only, self.exclude if rel == b"." else ()
        kept = [n for n, d in zip(names, dirs)
                if n not in exclude and (only is None or only.keeps(rel, n, d))]
        xs = self.xs
        xs.append(b"d" + u64(len(kept)))
        lstat = os.lstat
        size = hits = 0
        # each entry is looked up in the open folder (``lstat(name, dir_fd=…)``), not by its full
        # path from the root: 10-15% less time in ``lstat`` (docs/performance.md, "Store")
        try:
            dfd = os.open(path, _DIR_FLAGS)
        except OSError:  # (no read permission, no descriptors left: by full path)
            dfd = None
        try:
            for name in kept:
                st = lstat(name, dir_fd=dfd) if dfd is not None else lstat(path + b"/" + name)
                if st.st_mode & _S_IFMT == _S_IFDIR:
                    xs.append(u64(len(name)) + name)
                    self._dir(path + b"/" + name, name if rel == b"." else rel + b"/" + name, st)
                    continue
                hit = old.get(name)
                if hit is not None and hit[0] == (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
                    new[name] = hit
                    xs.append(hit[1])
                    size += st.st_size
                    hits += 1
                else:
                    self._other(path + b"/" + name, name, st, old, new)
        finally:
            if dfd is not None:
                os.close(dfd)
        self.size += size
        self.files += hits

    def _other(self, path: bytes, name: bytes, st: os.stat_result, old: dict[bytes, Any], new: dict[bytes, Any]) -> None:
        """A cache miss, a symlink or an unsupported file (the slow path)."""
        kind = st.st_mode & _S_IFMT
        prefix = u64(len(name)) + name if name else b""
        if kind == _S_IFREG:
            if self.probe:
                raise CacheMiss(path)
            self.misses += 1
            x, _s = hash_file(path, st.st_size)
            piece = prefix + (b"fx" if st.st_mode & 0o111 else b"f-") + u64(st.st_size) + x + _ZTAIL
            key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if key[2] < self.racy_after and key[3] < self.racy_after:
                new[name] = (key, piece)
            self.size += st.st_size
            self.files += 1
        elif kind == _S_IFLNK:
            target = os.readlink(path)
            piece = prefix + b"l" + u64(len(target)) + target + _ZTAIL
            self.size += len(target)
            self.files += 1
        else:
            raise _unsupported(path, st.st_mode, IMPORT_FAILED)
        self.xs.append(piece)


_EMPTY: dict[bytes, Any] = {}
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_LISTING = b"/"  # the key of a directory's own listing in its stat-cache entry


# ---------------------------------------------------------------------------------------------
# outputs: self-references and references


class OutputScan(TreeWalker):
    """Hashes a freshly built output modulo its scratch digest and scans it for references.

    ``scratch`` is the scratch path's digest (ASCII bytes); ``candidates`` are the digests of
    the store paths the output may refer to.  Self-reference offsets become the XXH3 tail of each
    file or link; ``self_refs`` lists the relative paths to rewrite once the final digest is known.
    """

    error_code = BAD_OUTPUT

    def __init__(self, scratch: bytes, candidates: Collection[bytes], others: Collection[bytes] = ()) -> None:
        super().__init__()
        self.scratch = scratch
        self.candidates = candidates
        self.others = others  # scratch digests of the derivation's other outputs
        self.found: set[bytes] = set()
        self.rewrite: list[bytes] = []

    def check_name(self, name: bytes, path: bytes) -> None:
        if self.scratch in name or any(o in name for o in self.others):
            raise SkiffError(
                BAD_OUTPUT,
                f"output entry '{os.fsdecode(name)}' in '{os.fsdecode(path)}' contains its own store path",
                help=["entry names cannot refer to the output itself: its digest is known only after hashing"],
            )

    def _scan(self, buf: bytes, base: int, limit: int, positions: list[int]) -> None:
        """Check every 26-byte window starting before ``limit`` inside base-32 runs of ``buf``."""
        scratch, cands, found = self.scratch, self.candidates, self.found
        for m in _RUN_RE.finditer(buf):
            start, end = m.span()
            for p in range(start, min(end - DIGEST_LEN, limit - 1) + 1):
                w = buf[p : p + DIGEST_LEN]
                if w == scratch:
                    positions.append(base + p)
                elif w in cands:
                    found.add(w)
                elif w in self.others:
                    raise SkiffError(
                        BAD_OUTPUT,
                        "an output refers to another output of the same derivation",
                        help=["content-addressed outputs may refer to themselves and to inputs only"],
                    )

    def _modulo(self, data: bytes, positions: list[int]) -> bytes:
        if not positions:
            return data
        b = bytearray(data)
        for p in positions:
            b[p : p + DIGEST_LEN] = ZERO_DIGEST
        return bytes(b)

    def file(self, path: bytes, st: os.stat_result, rel: bytes) -> tuple[bytes, bytes, bytes]:
        positions: list[int] = []
        with open(path, "rb", buffering=0) as f:
            if st.st_size <= CHUNK:
                data = f.read()
                if _RUN_RE.search(data) is not None:
                    self._scan(data, 0, len(data), positions)
                x = _XXH(self._modulo(data, positions)).digest()
                s = _SHA(data).digest()
            else:
                x_h, s_h = _XXH(), _SHA()
                carry, carry_mod = b"", b""  # the unhashed tail, as read and modulo self-refs
                base = 0  # file offset of buf[0]
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    buf = carry + chunk
                    safe = max(len(buf) - (DIGEST_LEN - 1), 0)
                    before = len(positions)
                    self._scan(buf, base, safe, positions)
                    # An occurrence starts before ``safe`` but may end in the carried tail, so
                    # the modified bytes are carried separately from the original ones.
                    mod = self._modulo(carry_mod + chunk, [p - base for p in positions[before:]])
                    x_h.update(mod[:safe])
                    s_h.update(buf[:safe])
                    carry, carry_mod = buf[safe:], mod[safe:]
                    base += safe
                # Every window starting in the tail was incomplete, so it holds no occurrence.
                x_h.update(carry_mod)
                s_h.update(carry)
                x, s = x_h.digest(), s_h.digest()
        if positions:
            self.rewrite.append(rel)
        return x, s, _tail(positions)

    def link(self, path: bytes, rel: bytes) -> tuple[bytes, bytes, bytes]:
        target = os.readlink(path)
        positions: list[int] = []
        self._scan(target, 0, len(target), positions)
        if positions:
            self.rewrite.append(rel)
        return self._modulo(target, positions), target, _tail(positions)

    def extra(self) -> tuple[Any, ...]:
        return frozenset(self.found), tuple(self.rewrite)


def _tail(positions: list[int]) -> bytes:
    return u64(len(positions)) + b"".join(u64(p) for p in positions)


def candidates_of(paths: Collection[StorePath]) -> dict[bytes, StorePath]:
    """The digest (ASCII bytes) of each candidate reference."""
    return {p.digest.encode(): p for p in paths}


Rewriter = Callable[[bytes], None]
