"""What a store is to its users: the ``Store`` protocol and the records its queries return.

``LocalStore`` (SQLite + a directory) and ``MemoryStore`` (dicts, for tests that need no
builds) implement the protocol; the session programs against it.  Realization needs a real
filesystem and lives beside ``LocalStore`` (``skiffeval.store.realize``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from skiffeval.derivation import Derivation, SortedMap, StorePath

__all__ = [
    "Store",
    "PathInfo",
    "Realisation",
    "Root",
    "Corruption",
    "VerifyReport",
    "GcReport",
    "StoreInfo",
    "RebuildReport",
]


@attrs.frozen
class PathInfo:
    """Metadata of one valid store path."""

    path: StorePath
    kind: str  # "source", "output" or "drv"
    size: int  # bytes of file contents and link targets
    files: int
    sha256: str  # tree SHA-256 (hex); for a .drv, the SHA-256 of its bytes
    deriver: str | None  # key of the derivation that produced it
    references: tuple[StorePath, ...]
    closure_size: int  # size of the path and everything it refers to, transitively


@attrs.frozen
class Realisation:
    """How a derivation was realized: its resolved key and its outputs' store paths."""

    key: str
    resolved: str
    outputs: SortedMap[str, StorePath]


@attrs.frozen
class Root:
    """A GC root: ``named`` (a revision, ``.skiffeval/roots/named/<name>``) or ``link`` (an
    out-link such as ``./result``, recorded as an indirect root)."""

    kind: str
    name: str
    target: StorePath | None  # None when the link no longer points into the store
    link: str | None = None


@attrs.frozen
class Corruption:
    path: StorePath
    problem: str  # "missing", "digest", "sha256", "drv"
    expected: str = ""
    actual: str = ""


@attrs.frozen
class VerifyReport:
    checked: int
    problems: tuple[Corruption, ...]
    garbage: tuple[str, ...]  # unregistered entries at the top of the store
    writable: tuple[StorePath, ...]
    repaired: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@attrs.frozen
class GcReport:
    dry_run: bool
    deleted: tuple[str, ...]  # basenames (paths, .drv files and unregistered leftovers)
    freed_bytes: int
    kept: int
    realisations_dropped: int


@attrs.frozen
class StoreInfo:
    root: str
    sources: int
    outputs: int
    derivations: int
    realisations: int
    roots: int
    total_size: int
    db_bytes: int
    log_bytes: int


@attrs.frozen
class RebuildReport:
    derivations: int
    paths: int
    realisations: int
    skipped: tuple[str, ...]  # entries that are neither a valid .drv nor a matching path
    lost: tuple[str, ...]  # what the rebuilt database does not know any more


@runtime_checkable
class Store(Protocol):
    """The operations the session needs from a store."""

    root: Path

    def real_path(self, path: StorePath) -> Path: ...
    def parse_path(self, text: str) -> StorePath: ...
    def is_valid(self, path: StorePath) -> bool: ...
    def add_path(self, path: str | Path, name: str | None = None) -> StorePath: ...
    def add_bytes(self, name: str, data: bytes, *, executable: bool = False) -> StorePath: ...
    def write_derivations(self, drvs: Iterable[Derivation]) -> list[StorePath]: ...
    def read_derivation(self, ref: str) -> Derivation | None: ...
    def realisation(self, key: str) -> Realisation | None: ...
    def realisations(self, keys: Iterable[str]) -> dict[str, Realisation]: ...
    def references(self, path: StorePath) -> list[StorePath]: ...
    def referrers(self, path: StorePath) -> list[StorePath]: ...
    def requisites(self, paths: Iterable[StorePath]) -> list[StorePath]: ...
    def path_info(self, path: StorePath) -> PathInfo: ...
    def add_root(self, name: str, target: StorePath) -> None: ...
    def roots(self) -> list[Root]: ...


def outputs_map(items: Mapping[str, StorePath]) -> SortedMap[str, StorePath]:
    return SortedMap(items)
