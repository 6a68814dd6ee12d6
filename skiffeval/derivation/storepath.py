"""Store paths: the (digest, name) identity of every object in a store.

A store path is a 26-character nix base-32 digest (128 bits) and a name; rendered as the
basename ``<digest>-<name>``.  It carries no root directory: only a store knows where it keeps
its paths (``store.real_path(p)``), so records that mention store paths stay location-free.
``.drv`` files are store paths too: ``StorePath(key, name + ".drv")``.

Validated at construction (``docs/store.md``, "Store paths"): an invalid store path cannot exist.
"""

from __future__ import annotations

import base64
import re

import attrs

from skiffeval.canonical import XXH3_LEN, nixbase32_decode
from skiffeval.derivation.keys import fast_nixbase32
from skiffeval.derivation.codes import INVALID_HASH, INVALID_STORE_PATH
from skiffeval.diagnostics import SkiffError

__all__ = [
    "StorePath",
    "NAME_RE",
    "MAX_NAME_LEN",
    "check_name",
    "check_digest",
    "parse_sha256",
]

NAME_RE = re.compile(r"[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*")
MAX_NAME_LEN = 211
_DIGEST_CHARS = frozenset("0123456789abcdfghijklmnpqrsvwxyz")


def check_name(name: object, what: str = "store path name") -> None:
    """Raise E100 unless ``name`` is a valid store path name (``[A-Za-z0-9+._?=-]+``, no leading
    ``.``, at most 211 characters)."""
    if not isinstance(name, str) or not name:
        raise SkiffError(INVALID_STORE_PATH, f"invalid {what}: expected a non-empty string, found {name!r}")
    if len(name) > MAX_NAME_LEN:
        raise SkiffError(INVALID_STORE_PATH, f"invalid {what} '{name[:40]}...': longer than {MAX_NAME_LEN} characters")
    if NAME_RE.fullmatch(name) is None:
        bad = sorted({c for c in name if not re.match(r"[A-Za-z0-9+._?=-]", c)})
        why = "starts with '.'" if name.startswith(".") else f"contains {', '.join(repr(c) for c in bad)}"
        raise SkiffError(
            INVALID_STORE_PATH,
            f"invalid {what} '{name}': {why}",
            help=["a store path name may use letters, digits and + . _ ? = - and must not start with '.'"],
        )


def check_digest(digest: object, what: str = "store path digest") -> None:
    """Raise E100 unless ``digest`` is 26 nix base-32 characters encoding 128 bits."""
    # 26 characters hold 130 bits; a 128-bit value leaves the top two bits clear, so the first
    # character is one of "01234567".  Why not ``nixbase32_decode``: it is 10x slower, and keys are
    # checked for every input of every derivation.
    if not (isinstance(digest, str) and len(digest) == XXH3_LEN and digest[0] in "01234567"
            and _DIGEST_CHARS.issuperset(digest)):
        raise SkiffError(INVALID_STORE_PATH, f"invalid {what}: expected 26 nix base-32 characters, found {digest!r}")


def _v_digest(_inst: object, _attr: object, value: object) -> None:
    check_digest(value)


def _v_name(_inst: object, _attr: object, value: object) -> None:
    check_name(value)


@attrs.frozen(slots=True, order=True)
class StorePath:
    """A store object's identity: ``digest`` (26 nix base-32 chars) and ``name``."""

    digest: str = attrs.field(validator=_v_digest)
    name: str = attrs.field(validator=_v_name)

    def __str__(self) -> str:
        return f"{self.digest}-{self.name}"

    @property
    def basename(self) -> str:
        return f"{self.digest}-{self.name}"

    @property
    def is_derivation(self) -> bool:
        return self.name.endswith(".drv")

    @classmethod
    def parse(cls, text: str) -> StorePath:
        """The store path of a basename ``<digest>-<name>`` (E100 if malformed)."""
        if not isinstance(text, str) or len(text) < XXH3_LEN + 2 or text[XXH3_LEN] != "-":
            raise SkiffError(INVALID_STORE_PATH, f"invalid store path '{text}': expected '<26-char digest>-<name>'")
        return cls(text[:XXH3_LEN], text[XXH3_LEN + 1 :])

    @classmethod
    def from_digest(cls, digest: bytes, name: str) -> StorePath:
        """The store path named by a 16-byte digest."""
        return cls(fast_nixbase32(digest), name)


_HEX_RE = re.compile(r"[0-9a-fA-F]{64}")


def parse_sha256(text: str) -> str:
    """A SHA-256 given as 64 hex digits, 52 nix base-32 characters, ``sha256:<hex|base32>`` or
    an SRI ``sha256-<base64>``, returned as 64 lowercase hex digits (E104 otherwise)."""
    if not isinstance(text, str):
        raise SkiffError(INVALID_HASH, f"invalid sha256 hash: expected a string, found {text!r}")
    body = text.strip()
    try:
        if body.startswith("sha256-"):
            raw = base64.b64decode(body[7:], validate=True)
            if len(raw) == 32:
                return raw.hex()
        else:
            if body.startswith("sha256:"):
                body = body[7:]
            if _HEX_RE.fullmatch(body):
                return body.lower()
            if len(body) == 52:
                return nixbase32_decode(body, 32).hex()
    except ValueError:
        pass
    raise SkiffError(
        INVALID_HASH,
        f"invalid sha256 hash '{text}'",
        help=["expected 64 hex digits, 52 nix base-32 characters or 'sha256-<base64>'"],
    )
