"""Printing values as text, the way ``nix-instantiate --eval`` prints them.

``{ a = 1; b = [ 1 2 ]; }``: attribute names sorted, quoted when not identifiers; strings quoted
with ``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t`` and ``\\${`` escaped; functions as ``<LAMBDA>`` and
``<PRIMOP>``; unevaluated values as ``<CODE>`` unless printing strictly (which forces them); a set
that contains itself prints ``«repeated»`` where it recurs.  Derivations print as
``«derivation PATH»`` when the host marks them so (``drvPath``).
"""

from __future__ import annotations

import re
from typing import Any

from skiffeval.eval.values import Attrs, Closure, CStr, PathValue, PrimOp, PrimOpApp, Thunk, force

__all__ = ["print_value", "quote_string", "attr_name"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_'\-]*$")
_KEYWORDS = {"let", "in", "if", "then", "else", "assert", "with", "rec", "inherit", "or"}


def quote_string(text: str) -> str:
    out = ['"']
    for i, ch in enumerate(text):
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "$" and text.startswith("${", i):
            out.append("\\$")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def attr_name(name: str) -> str:
    return name if _IDENT.match(name) and name not in _KEYWORDS else quote_string(name)


def print_value(ev: Any, value: Any, *, strict: bool = True) -> str:
    """The text of ``value``; with ``strict`` everything is forced first."""
    parts: list[str] = []
    active: set[int] = set()

    def emit(v: Any) -> None:
        if type(v) is Thunk:
            if not strict and not v.forced:
                parts.append("<CODE>")
                return
            v = v.force()
        t = type(v)
        if v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif t is int:
            parts.append(str(v))
        elif t is str or t is CStr:
            parts.append(quote_string(v))
        elif t is PathValue:
            parts.append(v.path)
        elif t is tuple:
            if id(v) in active:
                parts.append("«repeated»")
                return
            active.add(id(v))
            parts.append("[ ")
            for x in v:
                emit(x)
                parts.append(" ")
            parts.append("]")
            active.discard(id(v))
        elif t is Attrs:
            if id(v) in active:
                parts.append("«repeated»")
                return
            active.add(id(v))
            parts.append("{ ")
            for name in v.names():
                parts.append(attr_name(name))
                parts.append(" = ")
                emit(v.values[name])
                parts.append("; ")
            parts.append("}")
            active.discard(id(v))
        elif t is Closure:
            parts.append("<LAMBDA>")
        elif t is PrimOp:
            parts.append("<PRIMOP>")
        elif t is PrimOpApp:
            parts.append("<PRIMOP-APP>")
        else:  # pragma: no cover
            raise AssertionError(t)

    emit(force(value) if strict else value)
    return "".join(parts)
