"""``MemoryStore``: the ``Store`` protocol over dicts, for tests that evaluate but never build.

It names paths exactly as ``LocalStore`` does (same tree hashing), keeps ``.drv`` records and
imported sources in memory, and lives at the fictitious root ``/skiffeval-memory-store``.
It cannot realize: builds need a filesystem (use a ``LocalStore`` in a temporary directory).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from skiffeval.derivation import Derivation, SortedMap, StorePath, encode_drv
from skiffeval.derivation.storepath import check_name
from skiffeval.diagnostics import SkiffError
from skiffeval.store.codes import MISSING_INPUT, NOT_IN_STORE
from skiffeval.store.protocol import PathInfo, Realisation, Root
from skiffeval.store.tree import TreeHash, hash_bytes, hash_tree

__all__ = ["MemoryStore"]


class MemoryStore:
    """An in-memory store (see the module docstring)."""

    def __init__(self, root: str = "/skiffeval-memory-store") -> None:
        self.root = Path(root)
        self.paths: dict[StorePath, tuple[str, TreeHash, str | None]] = {}  # kind, hashes, deriver
        self.refs: dict[StorePath, tuple[StorePath, ...]] = {}
        self.derivations: dict[str, Derivation] = {}
        self.by_ref: dict[str, Derivation] = {}
        self._realisations: dict[str, Realisation] = {}
        self._roots: dict[str, StorePath] = {}

    def real_path(self, path: StorePath) -> Path:
        return self.root / path.basename

    def parse_path(self, text: str) -> StorePath:
        s = os.fspath(text)
        if "/" not in s:
            return StorePath.parse(s)
        prefix = str(self.root) + "/"
        if not s.startswith(prefix):
            raise SkiffError(NOT_IN_STORE, f"'{s}' is not in the store '{self.root}'")
        return StorePath.parse(s[len(prefix) :].split("/", 1)[0])

    def is_valid(self, path: StorePath) -> bool:
        return path in self.paths

    def add_path(self, path: str | os.PathLike[str], name: str | None = None) -> StorePath:
        src = os.path.abspath(path)
        name = name if name is not None else os.path.basename(src.rstrip("/"))
        check_name(name)
        th = hash_tree(src)
        sp = StorePath(th.digest(name), name)
        self.paths.setdefault(sp, ("source", th, None))
        self.refs.setdefault(sp, ())
        return sp

    def add_bytes(self, name: str, data: bytes, *, executable: bool = False) -> StorePath:
        check_name(name)
        th = hash_bytes(data, executable=executable)
        sp = StorePath(th.digest(name), name)
        self.paths.setdefault(sp, ("source", th, None))
        self.refs.setdefault(sp, ())
        return sp

    def write_derivations(self, drvs: Iterable[Derivation]) -> list[StorePath]:
        batch = list(drvs)
        refs = {d.ref: d for d in batch} | self.by_ref
        out = []
        for d in batch:
            deps = []
            for slot, inp in d.input_drvs.items():
                dep = refs.get(inp.key)
                if dep is None:
                    raise SkiffError(MISSING_INPUT, f"input '{slot}' of derivation '{d.name}' ({inp.key}) is neither given nor in the store")
                deps.append(dep.drv_path)
            data = encode_drv(d).encode()
            th = TreeHash(b"", b"", len(data), 1, "file", hashlib.sha256(data).hexdigest())
            self.derivations[d.key] = d
            self.by_ref.setdefault(d.ref, d)
            self.paths[d.drv_path] = ("drv", th, None)
            self.refs[d.drv_path] = tuple(sorted(set(deps) | set(d.input_srcs.values())))
            out.append(d.drv_path)
        return out

    def read_derivation(self, ref: str) -> Derivation | None:
        return self.derivations.get(ref) or self.by_ref.get(ref)

    def record_realisation(self, key: str, resolved: str, outputs: dict[str, StorePath]) -> None:
        """Pretend ``key`` was realized (tests of code that reads realisations)."""
        for p in outputs.values():
            self.paths.setdefault(p, ("output", hash_bytes(b""), key))
            self.refs.setdefault(p, ())
        self._realisations[key] = Realisation(key, resolved, SortedMap(outputs))

    def realisation(self, key: str) -> Realisation | None:
        return self._realisations.get(key)

    def realisations(self, keys: Iterable[str]) -> dict[str, Realisation]:
        return {k: self._realisations[k] for k in keys if k in self._realisations}

    def references(self, path: StorePath) -> list[StorePath]:
        return sorted(self.refs.get(path, ()))

    def referrers(self, path: StorePath) -> list[StorePath]:
        return sorted(p for p, rs in self.refs.items() if path in rs)

    def requisites(self, paths: Iterable[StorePath]) -> list[StorePath]:
        seen = set(paths)
        todo = list(seen)
        while todo:
            for r in self.refs.get(todo.pop(), ()):
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        return sorted(seen)

    def path_info(self, path: StorePath) -> PathInfo:
        entry = self.paths.get(path)
        if entry is None:
            raise SkiffError(NOT_IN_STORE, f"'{path}' is not a valid path in the store '{self.root}'")
        kind, th, deriver = entry
        sha = th.flat_sha256 if kind == "drv" else th.sha256
        closure = sum(self.paths[p][1].size for p in self.requisites([path]) if p in self.paths)
        return PathInfo(path, kind, th.size, th.files, sha or "", deriver, tuple(self.references(path)), closure)

    def add_root(self, name: str, target: StorePath) -> None:
        if not self.is_valid(target):
            raise SkiffError(NOT_IN_STORE, f"cannot root '{target}': not a valid path in the store")
        self._roots[name] = target

    def roots(self) -> list[Root]:
        return [Root("named", n, t) for n, t in sorted(self._roots.items())]
