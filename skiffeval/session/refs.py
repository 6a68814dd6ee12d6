"""What strings refer to: string-context elements and the placeholders that stand for outputs.

During evaluation a derivation's output has no path yet (outputs are content-addressed), so the
string ``"${drv}/bin"`` holds a *placeholder* for it, ``/skiffeval/placeholder/<ref>-<name>/<output>``,
and its context holds an ``OutputRef``.  A source copied into the store is its real store path,
with a ``SourceRef`` in the context.  When a derivation is made from such strings (``drvs``),
each referenced output or source becomes an input *slot*, and its text in the strings becomes
the slot placeholder ``${inputs.<slot>.<output>}`` / ``${sources.<slot>}`` of
``skiffeval.derivation`` — so the derivation's text does not change when only an input does.

Why a visibly fake path for outputs (rather than a hash-shaped one, as Nix's CA derivations
use): a person reading ``skiffeval eval`` output should see at once that it is not built yet.
"""

from __future__ import annotations

import functools
import re

import attrs

from skiffeval.derivation import StorePath

__all__ = ["OutputRef", "SourceRef", "DrvFileRef", "placeholder", "PLACEHOLDER_PREFIX", "slot_name", "slot_base", "unique_slot"]

PLACEHOLDER_PREFIX = "/skiffeval/placeholder/"


@attrs.define(slots=True, init=False, eq=True, unsafe_hash=True)
class OutputRef:
    """A derivation output mentioned by a string: the derivation's ref (key, or content identity
    for a fixed-output derivation), its name and the output name; ``text`` is its placeholder.

    Never changed once made (it lives in frozen string contexts).  Why not ``attrs.frozen``: a
    frozen class sets its fields through ``object.__setattr__``, which made making one (once
    per derivation an evaluation makes) 2.5 times as costly as plain slot stores.
    """

    ref: str
    name: str
    output: str
    text: str = attrs.field(eq=False, repr=False)

    def __init__(self, ref: str, name: str, output: str) -> None:
        self.ref = ref
        self.name = name
        self.output = output
        self.text = f"{PLACEHOLDER_PREFIX}{ref}-{name}/{output}"  # ``placeholder``, in line


@attrs.frozen(slots=True, cache_hash=True)
class SourceRef:
    """A source in the store mentioned by a string, and the absolute text it appears as."""

    path: StorePath
    text: str


@attrs.frozen(slots=True)
class DrvFileRef:
    """A ``.drv`` file mentioned by a string (``drv.drvPath``): the derivation's key."""

    key: str
    name: str
    text: str


def placeholder(ref: str, name: str, output: str) -> str:
    """The text that stands for an output until it is built."""
    return f"{PLACEHOLDER_PREFIX}{ref}-{name}/{output}"


_SLOT_BAD = re.compile(r"[^A-Za-z0-9_+-]+")


def slot_name(name: str, taken: set[str]) -> str:
    """A slot name made from a derivation or source name, unique among ``taken`` (``-2``, ``-3``
    ... by order of first appearance)."""
    return unique_slot(slot_base(name), taken)


@functools.lru_cache(maxsize=8192)
def slot_base(name: str) -> str:
    """The slot name ``name`` asks for before it is made unique (``slot_name``)."""
    base = _SLOT_BAD.sub("-", name).strip("-") or "input"
    if not (base[0].isalnum() or base[0] == "_"):
        base = "_" + base
    return base


def unique_slot(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3`` ... the first not in ``taken``; added to ``taken``."""
    slot = base
    n = 2
    while slot in taken:
        slot = f"{base}-{n}"
        n += 1
    taken.add(slot)
    return slot
