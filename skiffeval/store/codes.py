"""Error and warning codes of the store, realization and builders (domain ``store``).

E100-E109 are the derivation records' (``skiffeval.derivation.codes``); this module owns
E110-E149 and W100-W149 and re-exports the record codes so callers import one place.
"""

from __future__ import annotations

from skiffeval.derivation.codes import (  # noqa: F401  (re-exported)
    BAD_PLACEHOLDER,
    INVALID_DERIVATION,
    INVALID_HASH,
    INVALID_STORE_PATH,
    MALFORMED_DRV,
)
from skiffeval.diagnostics import define_code

DOMAIN = "store"

NOT_IN_STORE = define_code("E110", "not-in-store", DOMAIN, "a store path or derivation that the store does not hold")
MISSING_INPUT = define_code("E111", "missing-input", DOMAIN, "an input derivation that is neither given nor in the store")
BUILD_FAILED = define_code("E112", "build-failed", DOMAIN, "a builder that failed")
HASH_MISMATCH = define_code("E113", "hash-mismatch", DOMAIN, "a fixed-output derivation whose output has another hash")
DEPENDENCY_FAILED = define_code("E114", "dependency-failed", DOMAIN, "a derivation not built because an input failed")
BAD_OUTPUT = define_code("E115", "bad-output", DOMAIN, "a builder output that cannot enter the store")
IMPORT_FAILED = define_code("E116", "import-failed", DOMAIN, "a source path that cannot be imported into the store")
STORE_BUSY = define_code("E117", "store-busy", DOMAIN, "a store operation that needs the store to itself")
STORE_CORRUPT = define_code("E118", "store-corrupt", DOMAIN, "store metadata that cannot be read")
UNKNOWN_BUILDER = define_code("E119", "unknown-builder", DOMAIN, "a builtin builder that is not registered")
SANDBOX_FAILED = define_code("E120", "sandbox-failed", DOMAIN, "an external builder that could not be started")
DEPENDENCY_CYCLE = define_code("E121", "dependency-cycle", DOMAIN, "derivations that depend on each other")
BAD_ROOT = define_code("E122", "bad-root", DOMAIN, "a GC root that cannot be created")
NO_STORE = define_code("E123", "no-store", DOMAIN, "a store command given a directory that holds no store")
STORE_UNUSABLE = define_code("E124", "store-unusable", DOMAIN, "a store directory that cannot be made or written")

GARBAGE = define_code("W100", "store-garbage", DOMAIN, "an entry in the store directory that is not registered")
WRITABLE_OUTPUT = define_code("W101", "writable-output", DOMAIN, "a store object whose files are writable")
