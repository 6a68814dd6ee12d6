"""Canonical encoding and digests: the only way skiffeval turns a value into a hash.

Specified in ``docs/store.md`` ("Canonical encoding" and "Digests"); change the two together.

* ``canonical_json`` encodes JSON-like data (dict with str keys, list, str, int, bool, None) as
  UTF-8 JSON with keys sorted by code point, no insignificant whitespace and no floats.  Sets are
  not JSON: callers sort them first (an unsorted set would hash differently between processes).
* ``digest_xxh3`` is XXH3-128 over ``salt + payload``; it names things in the local store (fast,
  not collision resistant).  ``digest_sha256`` is SHA-256; it is used for everything that crosses
  a trust boundary (fetched sources, lock files, caches).
* ``nixbase32`` renders digests in Nix's base-32 alphabet (no e, o, u, t), so a 128-bit digest
  is 26 characters.

Leaf module: imports nothing from skiffeval but diagnostics.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import xxhash

from skiffeval.diagnostics import InternalError

__all__ = [
    "FORMAT_VERSION",
    "salt",
    "canonical_json",
    "pretty_json",
    "digest_xxh3",
    "digest_sha256",
    "nixbase32",
    "nixbase32_decode",
    "is_nixbase32",
    "XXH3_LEN",
]

FORMAT_VERSION = 1
NIX_BASE32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
_B32_INDEX = {c: i for i, c in enumerate(NIX_BASE32_ALPHABET)}
XXH3_LEN = 26  # nixbase32 characters of a 128-bit digest
_xxh3_128_digest = xxhash.xxh3_128_digest
_B32_RE = re.compile(f"^[{NIX_BASE32_ALPHABET}]+$")


def salt(kind: str) -> bytes:
    """The format salt that begins every hashed pre-image of ``kind`` (e.g. ``drv``, ``nar``)."""
    return f"skiffeval:{kind}:v{FORMAT_VERSION}\0".encode()


def _check(value: Any, path: str = "$") -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        raise InternalError(f"canonical encoding has no floats (at {path})")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InternalError(f"canonical encoding needs string keys (at {path})")
            _check(v, f"{path}.{k}")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
        return
    raise InternalError(f"cannot encode {type(value).__name__} canonically (at {path}); sort sets first")


def canonical_json(value: Any, *, validate: bool = True) -> bytes:
    """The canonical UTF-8 JSON bytes of ``value`` (sorted keys, compact, no floats)."""
    if validate:
        _check(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def pretty_json(value: Any) -> str:
    """The human-readable canonical form: sorted keys, two-space indent, trailing newline."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_SALTS: dict[str, bytes] = {}


def digest_xxh3(kind: str, payload: bytes) -> bytes:
    """XXH3-128 of ``salt(kind) + payload`` (16 bytes, big-endian)."""
    prefix = _SALTS.get(kind)
    if prefix is None:
        prefix = _SALTS[kind] = salt(kind)
    return _xxh3_128_digest(prefix + payload)


def digest_sha256(payload: bytes) -> bytes:
    """SHA-256 of ``payload`` (32 bytes); unsalted, so it matches ``sha256sum``."""
    return hashlib.sha256(payload).digest()


def nixbase32(data: bytes) -> str:
    """Nix's base-32 rendering of ``data`` (least significant 5-bit groups last)."""
    length = (len(data) * 8 + 4) // 5
    number = int.from_bytes(data, "little")
    chars = []
    for n in range(length - 1, -1, -1):
        chars.append(NIX_BASE32_ALPHABET[(number >> (n * 5)) & 0x1F])
    return "".join(chars)


def nixbase32_decode(text: str, nbytes: int) -> bytes:
    """Inverse of ``nixbase32`` for a digest of ``nbytes`` bytes; ValueError on bad input."""
    if len(text) != (nbytes * 8 + 4) // 5 or not _B32_RE.match(text):
        raise ValueError(f"not a {nbytes}-byte nix base-32 digest: {text!r}")
    number = 0
    for c in text:
        number = (number << 5) | _B32_INDEX[c]
    if number >> (nbytes * 8):
        raise ValueError(f"nix base-32 digest out of range: {text!r}")
    return number.to_bytes(nbytes, "little")


def is_nixbase32(text: str, nbytes: int = 16) -> bool:
    try:
        nixbase32_decode(text, nbytes)
    except ValueError:
        return False
    return True
