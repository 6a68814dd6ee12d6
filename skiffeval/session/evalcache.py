"""The evaluation cache: a no-op build that neither parses, evaluates nor hashes.

Evaluation is pure: its result is a function of the command (file, attributes, arguments,
search path, overrides) and of what it read.  During an evaluation the session's I/O logs every
input (``InputLog``): each file read (its stat signature and content digest), each existence or
type check, each directory listing, each tree imported into the store (the stat signature of
every file in it), and the host facts Buildroot's Kconfig reads (the C compiler).  After a
successful build, the logged inputs and what the command printed are saved under the store's
metadata area, keyed by the command.

The next identical command validates the log — a ``stat`` per input, a re-read only when a
signature changed, as the store's source cache does — and, if nothing changed and every output
is still in the store, prints the saved result without importing the evaluator, the parser,
kconfiglib or the builders.  Anything changed means a normal evaluation (the store's early
cutoff then decides what to rebuild).  This is what Nix's flake evaluation cache does.  It
trusts a stat signature only when it was taken well after the input's last change: file
systems stamp times from a coarse clock, so an input changed within ``RACY_NS`` of being
recorded is "racy" (as in git's index) — a file is then compared by content, a folder by its
listing, and a tree counts as changed.

This module imports only the standard library and xxhash: it runs before anything heavy.
"""

from __future__ import annotations

import json
import os
import stat
import time
from array import array
from typing import Any, Callable

import xxhash

__all__ = ["InputLog", "command_key", "lookup", "save", "FORMAT"]

FORMAT = 7  # 7: tree records checked by lstat alone (no directory listing), racy ones marked
RACY_NS = 50_000_000  # an entry changed this close to its recording may change again unseen
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sig(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode]


def _racy(st: os.stat_result) -> bool:
    """Whether ``st`` was changed so recently that another change could keep its numbers."""
    return max(st.st_mtime_ns, st.st_ctime_ns) >= time.time_ns() - RACY_NS


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unknown"


def _tree(path: str, exclude: frozenset[str] = frozenset(),
          select: Callable[[str], bool] | None = None) -> tuple[list[str], list[str]]:
    """The record of a tree (symlinks not followed) that tells later whether any entry was
    added, removed, renamed or touched: every entry's path relative to ``path`` ("" for the
    top) in walk order, and a digest of their five stat numbers packed as 64-bit integers;
    and, second, the paths of the files ``select`` kept (empty without ``select``).

    ``_tree_unchanged`` checks it with one ``lstat`` per recorded path and no directory
    listing: an entry added to, removed from or renamed in a folder changes that folder's
    mtime and ctime (POSIX), and every folder of the tree is itself a recorded entry, while a
    file edited in place changes its own numbers.  This matters for the warm check of a board
    built with ``--buildroot``: the Buildroot tree has 15,000 files in 5,000 folders, and
    listing the folders cost as much again as the ``lstat`` calls.  The check walks the
    record's own list, so the order the file system lists entries in does not matter.  A
    folder's numbers are taken before it is listed, so an entry added meanwhile can only make
    the record look changed.

    With ``select`` (a test on a file's relative path: a view of the tree, such as Buildroot's
    Kconfig view), the files it rejects are left out of the record, but every folder stays
    in: a file that would join the view (a new ``Config.in``, say) shows through its folder.
    The walk that records is also the one that selects, so the view and its record agree.

    A record that holds an entry changed within ``RACY_NS`` of the walk is marked racy (the
    record's third item) and never counts as unchanged: file systems stamp times from a
    coarse clock, so a second change within the same tick could leave every number as
    recorded (git's "racily clean" entries; the store's stat cache does the same).
    """
    racy_after = time.time_ns() - RACY_NS
    st = os.lstat(path)
    names: list[str] = [""]
    numbers: list[int] = _sig(st)
    selected: list[str] = []
    if stat.S_ISDIR(st.st_mode):
        stack = [(path, "")]
        while stack:
            top, prefix = stack.pop()
            with os.scandir(top) as it:
                for entry in it:
                    name = entry.name
                    if not prefix and name in exclude:
                        continue
                    rel = prefix + name
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if select is not None and not is_dir:
                        if not select(rel):
                            continue
                        selected.append(rel)
                    est = entry.stat(follow_symlinks=False)
                    names.append(rel)
                    numbers += (est.st_size, est.st_mtime_ns, est.st_ctime_ns, est.st_ino, est.st_mode)
                    if is_dir:
                        stack.append((entry.path, rel + "/"))
    racy = max(max(numbers[1::5]), max(numbers[2::5])) >= racy_after
    return ["\0".join(names), xxhash.xxh3_128_hexdigest(_pack(numbers)), racy], selected


def _tree_unchanged(path: str, record: list[str]) -> bool:
    """Whether the tree at ``path`` still has the entries and stat numbers of ``record``
    (``_tree``): one ``lstat`` per recorded entry."""
    names, digest, racy = record
    if racy:
        return False
    lstat = os.lstat
    base = os.path.join(path, "")
    numbers: list[int] = []
    extend = numbers.extend
    try:
        for rel in names.split("\0"):
            st = lstat(base + rel if rel else path)
            extend((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode))
    except OSError:
        return False
    return xxhash.xxh3_128_hexdigest(_pack(numbers)) == digest


def _pack(numbers: list[int]) -> bytes:
    try:
        return array("q", numbers).tobytes()
    except OverflowError:  # an inode number past 2**63 (some network or overlay file systems)
        return repr(numbers).encode()


class InputLog:
    """Everything an evaluation read, with what is needed to tell later whether it changed."""

    def __init__(self) -> None:
        self.files: dict[str, list] = {}
        self.kinds: dict[str, str | None] = {}
        self.dirs: dict[str, list] = {}
        self.trees: dict[str, list[str]] = {}
        self.commands: dict[str, list[int] | None] = {}

    def file(self, path: str, data: bytes) -> None:
        """A file read, with its content's digest (a racy one is compared by content)."""
        try:
            st = os.stat(path)
            self.files[path] = _sig(st) + [xxhash.xxh3_128_hexdigest(data), _racy(st)]
        except OSError:
            self.kinds[path] = None

    def kind(self, path: str, kind: str | None) -> None:
        self.kinds.setdefault(path, kind)

    def listing(self, path: str, names: list[str]) -> None:
        """A folder listed, with its names' digest (a racy one is compared by listing)."""
        try:
            st = os.stat(path)
            self.dirs[path] = _sig(st) + [xxhash.xxh3_128_hexdigest("\0".join(sorted(names)).encode("utf-8", "surrogateescape")), _racy(st)]
        except OSError:
            self.kinds[path] = None

    def tree(self, path: str, exclude: frozenset[str] = frozenset(), select: Callable[[str], bool] | None = None,
             view: str = "") -> list[str]:
        """A tree imported into the store: a record of its entries (``_tree``), taken before
        the import reads it.  For a view of the tree (``select``, named ``view``), the
        relative paths of the files it keeps, to import."""
        key = path if not view else f"{path}\0{view}"
        if select is None and key in self.trees:
            return []
        try:
            record, selected = _tree(path, exclude, select)
        except OSError:
            self.kinds[path] = None
            return []
        self.trees.setdefault(key, record)
        return selected

    def program(self, path: str | None) -> None:
        """A program whose output was used (the C compiler): its binary's signature."""
        if path is None:
            return
        try:
            self.commands[path] = _sig(os.stat(path))
        except OSError:
            self.commands[path] = None

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "kinds": self.kinds, "dirs": self.dirs, "trees": self.trees, "commands": self.commands}


def _unchanged(log: dict[str, Any]) -> bool:
    for path, kind in log["kinds"].items():
        try:
            now = _kind(os.lstat(path).st_mode)
        except OSError:
            now = None
        if now != kind:
            return False
    for path, sig in log["files"].items():
        try:
            st = os.stat(path)
        except OSError:
            return False
        if sig[6] or _sig(st) != sig[:5]:
            try:
                with open(path, "rb") as f:
                    if xxhash.xxh3_128_hexdigest(f.read()) != sig[5]:
                        return False
            except OSError:
                return False
    for path, sig in log["dirs"].items():
        try:
            st = os.stat(path)
        except OSError:
            return False
        if sig[6] or _sig(st) != sig[:5]:
            try:
                names = os.listdir(path)
            except OSError:
                return False
            if xxhash.xxh3_128_hexdigest("\0".join(sorted(names)).encode("utf-8", "surrogateescape")) != sig[5]:
                return False
    for key, record in log["trees"].items():
        if not _tree_unchanged(key.partition("\0")[0], record):
            return False
    for path, sig in log["commands"].items():
        try:
            if _sig(os.stat(path)) != sig:
                return False
        except OSError:
            if sig is not None:
                return False
    return True


def _code_signature() -> list:
    """The skiffeval code itself (so a changed builder or evaluator invalidates results)."""
    sig = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(_PACKAGE_DIR + rel) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(f"{rel}/{entry.name}")
                elif entry.name.endswith((".py", ".lark")):
                    st = entry.stat()
                    sig.append((f"{rel}/{entry.name}", st.st_size, st.st_mtime_ns))
    sig.sort()
    return sig


def command_key(command: dict[str, Any]) -> str:
    """The cache key of a command: its parameters and the code that runs it."""
    doc = {"format": FORMAT, "command": command, "code": _code_signature()}
    return xxhash.xxh3_128_hexdigest(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())


def _path(meta_dir: str, key: str) -> str:
    return os.path.join(meta_dir, "evalcache", key + ".json")


def lookup(meta_dir: str, key: str, store_root: str) -> dict[str, Any] | None:
    """The saved result of the command ``key`` if none of its inputs changed and its outputs are
    all still in the store; else None."""
    try:
        with open(_path(meta_dir, key), encoding="utf-8") as f:
            entry = json.load(f)
    except (OSError, ValueError):
        return None
    if entry.get("format") != FORMAT or not _unchanged(entry["inputs"]):
        return None
    for basename in entry.get("paths", ()):
        if not os.path.lexists(os.path.join(store_root, basename)):
            return None
    return entry["result"]


def save(meta_dir: str, key: str, log: InputLog, result: dict[str, Any], paths: list[str]) -> None:
    """Save a command's result with the inputs it read (atomically; a failure to save is not an
    error: the cache is only an optimisation)."""
    directory = os.path.join(meta_dir, "evalcache")
    try:
        os.makedirs(directory, exist_ok=True)
        import tempfile  # here: a warm run only reads (5 ms of imports saved)

        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": FORMAT, "inputs": log.to_json(), "result": result, "paths": paths}, f, separators=(",", ":"))
        os.replace(tmp, _path(meta_dir, key))
    except OSError:
        pass
