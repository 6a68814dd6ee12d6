"""Keys: the digests that name derivations, resolved derivations and fixed-output contents.

Every key is XXH3-128 over a format salt and the canonical JSON of a document, rendered in nix
base-32 (26 characters).  Specified in ``docs/store.md`` ("Derivation keys", "Fixed-output
identity", "Resolved derivations"); change the two together and bump
``skiffeval.canonical.FORMAT_VERSION`` when an existing key would change.

Why XXH3 and not SHA-256: keys name things in the local, single-user store and are computed for
every derivation of every evaluation; XXH3 is ~20x cheaper.  Nothing that crosses a trust
boundary is named by them (BRIEF section 2).
"""

from __future__ import annotations

from typing import Any

from skiffeval.canonical import NIX_BASE32_ALPHABET, canonical_json, digest_xxh3, nixbase32

__all__ = ["fast_nixbase32", "bytes_key", "DRV_SALT_KIND", "RESOLVED_SALT_KIND", "FOD_SALT_KIND", "doc_key", "fod_identity"]

DRV_SALT_KIND = "drv"
RESOLVED_SALT_KIND = "resolved"
FOD_SALT_KIND = "fod"


_PAIRS = [a + b for a in NIX_BASE32_ALPHABET for b in NIX_BASE32_ALPHABET]  # 10-bit groups


def fast_nixbase32(data: bytes) -> str:
    """``canonical.nixbase32`` of a 16-byte digest, two characters a step (a test proves them equal).

    Why: the 5-bit loop of ``canonical.nixbase32`` costs ~10 us a digest, a third of hashing a
    record; 10-bit groups through a 1,024-entry table halve the steps and the work per step.
    Other lengths fall back to ``canonical.nixbase32``.
    """
    if len(data) != 16:
        return nixbase32(data)
    n = int.from_bytes(data, "little")
    p = _PAIRS
    # 26 characters = 130 bits: the top group is a single character (bits 125..129).
    return "".join((NIX_BASE32_ALPHABET[n >> 125], p[(n >> 115) & 1023], p[(n >> 105) & 1023], p[(n >> 95) & 1023],
                    p[(n >> 85) & 1023], p[(n >> 75) & 1023], p[(n >> 65) & 1023], p[(n >> 55) & 1023],
                    p[(n >> 45) & 1023], p[(n >> 35) & 1023], p[(n >> 25) & 1023], p[(n >> 15) & 1023],
                    p[(n >> 5) & 1023], NIX_BASE32_ALPHABET[n & 31]))


def doc_key(kind: str, doc: dict[str, Any]) -> str:
    """``nixbase32(XXH3-128(salt(kind) + canonical_json(doc)))`` (docs/store.md, "Derivation keys").

    ``doc`` is built by the record's ``to_doc`` from validated fields only, so the encoder's type
    check is skipped (it would double the cost of hashing 10,000 derivations).
    """
    return fast_nixbase32(digest_xxh3(kind, canonical_json(doc, validate=False)))


def bytes_key(kind: str, canonical: bytes) -> str:
    """``doc_key`` for a document already encoded with ``canonical_json``."""
    return fast_nixbase32(digest_xxh3(kind, canonical))


def fod_identity(name: str, sha256: str, mode: str) -> str:
    """The content identity of a fixed-output derivation (docs/store.md, "Fixed-output identity").

    It depends on the declared content alone (name, SHA-256, mode), never on how the content is
    fetched, so a mirror or URL change does not cascade into the keys of its dependents.
    """
    return doc_key(FOD_SALT_KIND, {"mode": mode, "name": name, "sha256": sha256})
