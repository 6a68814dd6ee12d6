"""Applying fragment assignments to a parsed tree, accepting exactly what kconfig accepts.

The model
---------
Each ``Assignment`` is first *classified* against its symbol, with the rules of
``conf_set_sym_val``/``sym_string_valid`` of Linux 4.17 kconfig (Buildroot's ``conf``):

* bool: the first character is ``y`` or ``n`` (so ``yes`` is y and ``maybe`` is rejected);
* tristate: the first character is ``y``, ``m`` or ``n``;
* string: a quoted literal, backslash escapes removed, text after the closing quote ignored;
  an unquoted value is rejected (``conf`` ignores it without a word);
* int: ``-?(0|[1-9][0-9]*)`` — no ``+``, no leading zeros, no blanks (kconfiglib alone would
  accept ``+5``, ``007`` and ``1_000``, which ``conf`` rejects);
* hex: ``(0x|0X)?[0-9a-fA-F]+``;
* ``# NAME is not set`` sets bool and tristate symbols to n and does nothing to others;
* a name no Kconfig file defines does nothing.

An accepted value is then applied in order with kconfiglib's ``set_value``; a choice member
set to y or m first sets the choice's mode, as kconfiglib's ``load_config`` does, and becomes
the choice's user selection, so the last member set to y wins.  Applying the base defconfig
and then each fragment in order is what ``conf --defconfig`` does with their concatenation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs
import kconfiglib
from kconfiglib import BOOL, HEX, INT, STRING, TRISTATE, TYPE_TO_STR

from skiffeval.diagnostics import InternalError
from skiffeval.kconfig.fragment import Assignment, unquote_string

__all__ = ["Applied", "classify", "apply_assignments", "type_name"]

_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_HEX_RE = re.compile(r"(?:0[xX])?[0-9a-fA-F]+\Z")

# Why an assignment did nothing (``Applied.problem``).
UNKNOWN = "unknown-symbol"
INVALID = "invalid-value"
UNSET_NOT_BOOL = "unset-not-bool"


@attrs.frozen
class Applied:
    """One assignment as kconfig took it: the value handed to kconfiglib (``y``/``m``/``n``,
    the unescaped string, the number as written), or ``None`` and the ``problem`` (with a
    human ``detail``) when kconfig ignores it.  ``order`` is its place among all assignments,
    ``position`` the (fragment index, line in that fragment's text) it came from."""

    assignment: Assignment
    layer: str
    order: int
    position: tuple[int, int]
    type: str
    value: str | None
    problem: str | None = None
    detail: str = ""

    @property
    def symbol(self) -> str:
        return self.assignment.symbol


def type_name(sym: kconfiglib.Symbol | None) -> str:
    """``bool``, ``tristate``, ``string``, ``int``, ``hex``, or ``unknown`` (undefined/untyped)."""
    if sym is None or not sym.nodes:
        return "unknown"
    return TYPE_TO_STR[sym.orig_type]


def classify(sym: kconfiglib.Symbol | None, raw: str | None) -> tuple[str | None, str | None, str]:
    """(value for kconfiglib, problem, detail) of the raw value ``raw`` for ``sym``."""
    if sym is None or not sym.nodes:
        return None, UNKNOWN, "no Kconfig file defines it"
    kind = sym.orig_type
    tname = TYPE_TO_STR[kind]
    if raw is None:
        if kind in (BOOL, TRISTATE):
            return "n", None, ""
        return None, UNSET_NOT_BOOL, f"'# {sym.name} is not set' does nothing to a {tname} symbol"
    if kind is BOOL:
        if raw[:1] in ("y", "n"):
            return raw[0], None, ""
        return None, INVALID, f"expected y or n for the bool '{sym.name}', found '{raw}'"
    if kind is TRISTATE:
        if raw[:1] in ("y", "m", "n"):
            return raw[0], None, ""
        return None, INVALID, f"expected y, m or n for the tristate '{sym.name}', found '{raw}'"
    if kind is STRING:
        text = unquote_string(raw)
        if text is None:
            return None, INVALID, f"expected a quoted string for the string '{sym.name}', found '{raw}'"
        return text, None, ""
    if kind is INT:
        if _INT_RE.match(raw):
            return raw, None, ""
        return None, INVALID, f"expected a decimal integer for the int '{sym.name}', found '{raw}'"
    if kind is HEX:
        if _HEX_RE.match(raw):
            return raw, None, ""
        return None, INVALID, f"expected a hexadecimal number for the hex '{sym.name}', found '{raw}'"
    return None, INVALID, f"'{sym.name}' has no type, so no value can be assigned to it"


def apply_assignments(
    kconf: kconfiglib.Kconfig, items: Iterable[tuple[Assignment, str, tuple[int, int]]]
) -> list[Applied]:
    """Classify and apply ``(assignment, layer, position)`` triples in order; the tree's user
    values must have been cleared first.  Returns what happened to each assignment."""
    result = []
    syms = kconf.syms
    for order, (assignment, layer, position) in enumerate(items):
        sym = syms.get(assignment.symbol)
        value, problem, detail = classify(sym, assignment.value)
        result.append(Applied(assignment, layer, order, position, type_name(sym), value, problem, detail))
        if value is None:
            continue
        if sym.choice is not None and value != "n" and sym.orig_type in (BOOL, TRISTATE):
            sym.choice.set_value(value)
        if not sym.set_value(value):
            raise InternalError(f"kconfiglib rejected {assignment.symbol}={value!r}, which conf accepts")
    return result
