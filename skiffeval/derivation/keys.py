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

from xxhash import xxh3_128_digest

from skiffeval.canonical import NIX_BASE32_ALPHABET, canonical_json, digest_xxh3, nixbase32, salt

__all__ = ["fast_nixbase32", "bytes_key", "drv_key", "DRV_SALT_KIND", "RESOLVED_SALT_KIND", "FOD_SALT_KIND", "doc_key", "fod_identity"]

DRV_SALT_KIND = "drv"
RESOLVED_SALT_KIND = "resolved"
FOD_SALT_KIND = "fod"


_PAIRS = [a + b for a in NIX_BASE32_ALPHABET for b in NIX_BASE32_ALPHABET]  # 10-bit groups
_M30 = (1 << 30) - 1


def fast_nixbase32(data: bytes) -> str:
    """``canonical.nixbase32`` of a 16-byte digest, two characters a step (a test proves them equal).

    Why: the 5-bit loop of ``canonical.nixbase32`` costs ~10 us a digest, a third of hashing a
    record; 10-bit groups through a 1,024-entry table take 13 steps.  The 130 bits are first cut
    into a 10-bit top and four 30-bit parts, so the steps shift one-digit integers rather than
    the 128-bit one.  Other lengths fall back to ``canonical.nixbase32``.
    """
    if len(data) != 16:
        return nixbase32(data)
    n = int.from_bytes(data, "little")
    p = _PAIRS
    a, b, c, d = (n >> 90) & _M30, (n >> 60) & _M30, (n >> 30) & _M30, n & _M30
    # 26 characters = 130 bits, the top two always 0 (n < 2**128): 13 pairs from the top.
    return "".join((p[n >> 120], p[a >> 20], p[(a >> 10) & 1023], p[a & 1023], p[b >> 20], p[(b >> 10) & 1023],
                    p[b & 1023], p[c >> 20], p[(c >> 10) & 1023], p[c & 1023], p[d >> 20], p[(d >> 10) & 1023], p[d & 1023]))


def doc_key(kind: str, doc: dict[str, Any]) -> str:
    """``nixbase32(XXH3-128(salt(kind) + canonical_json(doc)))`` (docs/store.md, "Derivation keys").

    ``doc`` is built by the record's ``to_doc`` from validated fields only, so the encoder's type
    check is skipped (it would double the cost of hashing 10,000 derivations).
    """
    return fast_nixbase32(digest_xxh3(kind, canonical_json(doc, validate=False)))


def bytes_key(kind: str, canonical: bytes) -> str:
    """``doc_key`` for a document already encoded with ``canonical_json``."""
    return fast_nixbase32(digest_xxh3(kind, canonical))


_DRV_SALT = salt(DRV_SALT_KIND)


def drv_key(canonical: bytes) -> str:
    """``bytes_key(DRV_SALT_KIND, canonical)``, the key of a derivation record, in one call."""
    return fast_nixbase32(xxh3_128_digest(_DRV_SALT + canonical))


def fod_identity(name: str, sha256: str, mode: str) -> str:
    """The content identity of a fixed-output derivation (docs/store.md, "Fixed-output identity").

    It depends on the declared content alone (name, SHA-256, mode), never on how the content is
    fetched, so a mirror or URL change does not cascade into the keys of its dependents.
    """
    return doc_key(FOD_SALT_KIND, {"mode": mode, "name": name, "sha256": sha256})
