"""Error codes of the derivation records (domain ``store``, range E100-E109).

The store's own codes (E110-E149, W100-W149) live in ``skiffeval.store.codes``; the two modules
share the domain so ``skiffeval store`` commands and the ``derivation`` builtin report alike.
"""

from __future__ import annotations

from skiffeval.diagnostics import define_code

DOMAIN = "store"

INVALID_STORE_PATH = define_code("E100", "invalid-store-path", DOMAIN, "a malformed store path, digest or name")
INVALID_DERIVATION = define_code("E101", "invalid-derivation", DOMAIN, "a derivation record with an invalid field")
MALFORMED_DRV = define_code("E102", "malformed-drv", DOMAIN, "a .drv file that does not decode to a canonical record")
BAD_PLACEHOLDER = define_code("E103", "bad-placeholder", DOMAIN, "a placeholder naming an unknown input, source or output")
INVALID_HASH = define_code("E104", "invalid-hash", DOMAIN, "a SHA-256 hash that cannot be parsed")
