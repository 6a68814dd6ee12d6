"""The content-addressed store: local directory + SQLite metadata, and realization.

Specified in ``docs/store.md``.  Imports ``skiffeval.derivation`` (records, keys) and the leaf
modules only; builders are injected into ``realize`` (``skiffeval.builders`` sits above this
package and provides the default runner).
"""

from skiffeval.store.local import LocalStore
from skiffeval.store.protocol import (
    Corruption,
    GcReport,
    PathInfo,
    Realisation,
    RebuildReport,
    Root,
    Store,
    StoreInfo,
    VerifyReport,
)

__all__ = [
    "LocalStore",
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
