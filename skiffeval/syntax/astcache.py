"""Parsed files kept in the user's cache folder, so evaluating a file parsed before (by any
process) needs neither the parser nor lark.

Importing lark and loading the compiled grammar costs ~0.1 s a process, a tenth of evaluating
and hashing 10,000 derivations (``benchmarks/eval_chain.py``) and most of evaluating a small
file; loading a pickled AST costs about a millisecond.  This is what CPython's ``.pyc`` files
are to its own parser.

A cached tree is named by a digest of everything the parse depends on: the file's content
(its XXH3 digest), its display name (every span of the tree carries it), and the text of the
grammar and of the modules that build the tree (``syntax/*.py``), so a stale tree is never
read.  The ``Source`` the spans share (the text, name and path of the file) is not stored: a
tree loaded is given the ``Source`` of the file being read, so a file moved or copied
elsewhere (its path changes, its content and display name do not) loads the same tree.  Only successful parses are cached: a file with a syntax error is parsed again,
and its error reported, every time.  Files are written whole (a temporary file renamed into
place) and a cache that cannot be read or written is ignored.

Why pickle: the tree is frozen attrs and dataclass objects; pickle restores them without a
second encoding to maintain.  The folder is the user's own (``usercache``), as for lark's
grammar cache, which is pickled too.
"""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
import threading
from importlib import resources
from typing import Any

import xxhash

from skiffeval.diagnostics import Source
from skiffeval.usercache import user_cache_dir

__all__ = ["load", "store", "FORMAT"]

FORMAT = 1
_SYNTAX_DIR = os.path.dirname(os.path.abspath(__file__))
_lock = threading.Lock()
_state: dict[str, str] = {}  # "dir", "code": computed once per process


def _code_digest() -> str:
    """A digest of the grammar, of the modules that build the tree and of lark's version (its
    ``__init__.py``, which states it: found without importing lark)."""
    h = xxhash.xxh3_128(f"skiffeval-ast:{FORMAT}\0".encode())
    spec = importlib.util.find_spec("lark")
    if spec is not None and spec.origin:
        with open(spec.origin, "rb") as f:
            h.update(b"lark\0" + f.read())
    h.update(resources.files("skiffeval._grammar").joinpath("skiff.lark").read_bytes())
    for name in sorted(os.listdir(_SYNTAX_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(_SYNTAX_DIR, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()


def _file(digest: str, name: str) -> str:
    with _lock:
        if not _state:
            _state["dir"] = user_cache_dir("ast")
            _state["code"] = _code_digest()
    key = xxhash.xxh3_128_hexdigest("\0".join((_state["code"], digest, name)).encode())
    return os.path.join(_state["dir"], key + ".pickle")


class _Pickler(pickle.Pickler):
    """Pickles a tree with its ``Source`` left out (a reference to be filled in on loading)."""

    def __init__(self, file: io.BytesIO, source: Source) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.source = source

    def persistent_id(self, obj: Any) -> str | None:  # noqa: D102
        return "source" if obj is self.source else None


class _Unpickler(pickle.Unpickler):
    """Loads a tree, giving its spans ``source``."""

    def __init__(self, file: io.BytesIO, source: Source) -> None:
        super().__init__(file)
        self.source = source

    def persistent_load(self, pid: Any) -> Source:  # noqa: D102
        if pid != "source":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return self.source


def load(data: bytes, digest: str, name: str, path: str | None) -> Any | None:
    """The tree of the file ``data`` (XXH3 ``digest``; ``name`` and ``path`` as for
    ``parser.parse_bytes``) if it was cached, else None."""
    try:
        with open(_file(digest, name), "rb") as f:
            cached = f.read()
        source = Source(name, data.decode("utf-8"), path)
    except (OSError, UnicodeDecodeError):
        return None
    try:
        return _Unpickler(io.BytesIO(cached), source).load()
    except Exception:  # noqa: BLE001 - a damaged or foreign cache file is a miss
        return None


def store(digest: str, tree: Any) -> None:
    """Cache ``tree``, the parse of a file whose content has XXH3 ``digest`` (best effort)."""
    source = tree.span.source
    if source is None:
        return
    target = _file(digest, source.name)
    temporary = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, source).dump(tree)
        with open(temporary, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(temporary, target)
    except (OSError, pickle.PicklingError, RecursionError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
