"""Package names, keys and the splitting of ``SKIFF_CONFIG``, exactly as SkiffOS's scripts do them.

The model (``scripts/enumerate_configs.sh``, run with ``LC_ALL=C``):

* A package is named ``category/name`` after its folder, two levels below a configs path.  A
  folder whose name has a character outside ``[A-Za-z0-9/_]`` is skipped by discovery.
* Its *key* is the name upper-cased (ASCII only) with ``/`` turned into ``_``; SkiffOS stores the
  package's folder in the shell variable ``SKIFF_CONFIG_PATH_<KEY>`` and finds it again through
  that variable.  So lookups are by key: ``PI/4`` finds ``pi/4`` and ``a/b/c`` finds ``a/b_c``.
* ``SKIFF_CONFIG`` is split on commas, spaces, tabs and newlines (``sed`` turns commas into spaces,
  then the shell splits on ``IFS``); empty pieces vanish.  A piece is *selectable* only when it
  starts with 1 to 100 ASCII letters or digits followed by ``/`` (``grep
  '^[[:alnum:]]\\{1,100\\}/.*$'``); others are dropped with a message.  A selectable piece whose
  key is no shell identifier (``-``, ``.``, ``\\`` …) makes bash abort on ``${!var}``.
"""

from __future__ import annotations

import re

import attrs

__all__ = [
    "ConfigToken",
    "package_key",
    "is_package_folder_name",
    "is_selectable",
    "has_valid_key",
    "split_config",
    "normalize_override_key",
]

_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_FOLDER_NAME = re.compile(r"[A-Za-z0-9/_]+")
_SELECTABLE = re.compile(r"[A-Za-z0-9]{1,100}/")
_KEY = re.compile(r"[A-Za-z0-9_]+")
_TOKEN = re.compile(r"[^, \t\n]+")
ENV_PREFIX = "SKIFF_CONFIG_PATH_"


def package_key(name: str) -> str:
    """The key SkiffOS derives from a name: ASCII upper case, every ``/`` turned into ``_``."""
    return name.translate(_UPPER).replace("/", "_")


def is_package_folder_name(name: str) -> bool:
    """Whether discovery keeps a ``category/name`` folder (only ``[A-Za-z0-9/_]`` characters)."""
    return _FOLDER_NAME.fullmatch(name) is not None


def is_selectable(name: str) -> bool:
    """Whether ``SKIFF_CONFIG`` resolution keeps a piece: 1–100 letters/digits, then ``/``."""
    return _SELECTABLE.match(name) is not None


def has_valid_key(name: str) -> bool:
    """Whether the key of ``name`` is a shell identifier suffix (else bash aborts on the lookup)."""
    return _KEY.fullmatch(package_key(name)) is not None


@attrs.frozen
class ConfigToken:
    """One piece of a ``SKIFF_CONFIG`` string and its character offsets (end exclusive)."""

    text: str
    start: int
    end: int


def split_config(config: str) -> tuple[ConfigToken, ...]:
    """Split a ``SKIFF_CONFIG`` string the way SkiffOS does, keeping each piece's offsets."""
    return tuple(ConfigToken(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(config))


def normalize_override_key(key: str) -> str:
    """The key of an override given as ``SKIFF_CONFIG_PATH_X_Y``, ``X_Y`` or a name ``x/y``."""
    if key.startswith(ENV_PREFIX):
        key = key[len(ENV_PREFIX) :]
    return package_key(key)
