"""``toJSON``, ``fromJSON`` and ``fromTOML``.

``toJSON`` writes what Nix writes: compact, attribute names sorted, sets with ``__toString`` or
``outPath`` as that string, paths as what the host makes of them (a store path), strings escaped
as Nix escapes them (``\\u00XX`` for control characters other than newline, return and tab).
The result carries the context of every string inside.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from skiffeval.diagnostics import SkiffError
from skiffeval.eval import codes
from skiffeval.eval.builtins.registry import builtin
from skiffeval.eval.runtime import coerce_to_string, expect_plain_string
from skiffeval.eval.values import Attrs, Closure, CStr, PathValue, PrimOp, PrimOpApp, describe, force, make_string

__all__ = ["to_json_text", "python_to_value"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(text: str) -> str:
    out = ['"']
    for ch in text:
        e = _ESCAPES.get(ch)
        if e is not None:
            out.append(e)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_json_text(ev, value: Any, span, *, copy_to_store: bool = True) -> tuple[str, frozenset]:
    """The JSON text of a value (forcing it deeply) and the union of the contexts inside."""
    parts: list[str] = []
    context: set = set()

    def emit(v: Any) -> None:
        v = force(v)
        t = type(v)
        if v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif t is int:
            parts.append(str(v))
        elif t is str:
            parts.append(_escape(v))
        elif t is CStr:
            context.update(v.context)
            parts.append(_escape(v))
        elif t is PathValue:
            text, ctx = coerce_to_string(ev, v, span, copy_to_store=copy_to_store)
            context.update(ctx)
            parts.append(_escape(text))
        elif t is tuple:
            parts.append("[")
            for i, x in enumerate(v):
                if i:
                    parts.append(",")
                emit(x)
            parts.append("]")
        elif t is Attrs:
            if "__toString" in v.values or "outPath" in v.values:
                text, ctx = coerce_to_string(ev, v, span, copy_to_store=copy_to_store)
                context.update(ctx)
                parts.append(_escape(text))
                return
            parts.append("{")
            for i, name in enumerate(v.names()):
                if i:
                    parts.append(",")
                parts.append(_escape(name))
                parts.append(":")
                emit(v.values[name])
            parts.append("}")
        elif t in (Closure, PrimOp, PrimOpApp):
            raise SkiffError(codes.BAD_JSON, f"cannot convert {describe(v)} to JSON", span)
        else:  # pragma: no cover - every value type is handled above
            raise AssertionError(t)

    emit(value)
    return "".join(parts), frozenset(context)


@builtin("toJSON", "e")
def _to_json(ev, span, e):
    """The JSON text of a value."""
    text, ctx = to_json_text(ev, e, span)
    return make_string(text, ctx)


def python_to_value(data: Any, span, source: str) -> Any:
    """A language value from parsed JSON/TOML data (integers only: floats are an error)."""
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, int):
        if not -(2**63) <= data < 2**63:
            raise SkiffError(codes.BAD_JSON, f"{source} integer {data} does not fit in 64 bits", span)
        return data
    if isinstance(data, float):
        raise SkiffError(codes.BAD_JSON, f"{source} number {data} is not an integer (the language has no floats)", span)
    if isinstance(data, list):
        return tuple(python_to_value(x, span, source) for x in data)
    if isinstance(data, dict):
        return Attrs({str(k): python_to_value(v, span, source) for k, v in data.items()})
    raise SkiffError(codes.BAD_JSON, f"{source} value of type {type(data).__name__} has no language equivalent", span)


@builtin("fromJSON", "e")
def _from_json(ev, span, e):
    """The value a JSON text denotes."""
    text = expect_plain_string(e, span, "the argument of 'fromJSON'")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SkiffError(codes.BAD_JSON, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", span) from None
    return python_to_value(data, span, "JSON")


@builtin("fromTOML", "e")
def _from_toml(ev, span, e):
    """The value a TOML text denotes (dates and floats are errors)."""
    text = expect_plain_string(e, span, "the argument of 'fromTOML'")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SkiffError(codes.BAD_JSON, f"invalid TOML: {exc}", span) from None
    return python_to_value(data, span, "TOML")
