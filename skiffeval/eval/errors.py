"""Constructors for the evaluation errors, so every message reads the same way.

Style (STYLE.md §5): lower case, no final period, names in quotes, expected versus found.
"""

from __future__ import annotations

from typing import Any

from skiffeval.diagnostics import SkiffError, Span
from skiffeval.eval import codes
from skiffeval.eval.values import describe

__all__ = ["type_error", "infinite_recursion", "EvalAbort"]


def type_error(expected: str, value: Any, span: Span | None, what: str | None = None) -> SkiffError:
    """``expected a list, found an integer`` (optionally ``for the second argument of 'map'``)."""
    message = f"expected {expected}, found {describe(value)}"
    if what:
        message += f" for {what}"
    return SkiffError(codes.TYPE, message, span)


def infinite_recursion(origin: tuple[str, Span] | None) -> SkiffError:
    if origin is None:
        return SkiffError(codes.INFINITE_RECURSION, "infinite recursion: a value needs itself to be computed")
    what, span = origin
    return SkiffError(
        codes.INFINITE_RECURSION,
        f"infinite recursion: the value of {what} needs itself",
        span,
        help=["look for a binding that refers to itself, directly or through other bindings (notes below show the path)"],
    )


class EvalAbort(SkiffError):
    """``abort``: an error that ``tryEval`` does not catch."""
