"""The abstract syntax tree of the .sk language: frozen attrs nodes, each with a ``Span``.

Nodes are plain data: no evaluation logic and no parent links, so a tree can be cached by the
content hash of its file and shared by every evaluation that imports it.  Positions live on the
nodes themselves (``span``), never patched on afterwards.

Strings are kept as the parts the user wrote: literal text (already unescaped and, for ``''``
strings, with indentation stripped) and interpolated expressions.  Attribute names are either
static (``str``) or dynamic (an expression, from ``${e}`` or an interpolated string).
"""

from __future__ import annotations

from typing import Union

import attrs

from skiffeval.diagnostics import Span

__all__ = [
    "Expr", "Int", "Str", "Path", "SearchPath", "Var", "Select", "HasAttr", "Apply", "Lambda",
    "Formal", "Formals", "Let", "AttrDef", "Inherit", "Binding", "Attrs", "List", "If",
    "Assert", "With", "BinOp", "Not", "Negate", "AttrName", "BINARY_OPS",
]


@attrs.frozen(slots=True)
class Expr:
    """Base of every expression node."""

    span: Span = attrs.field(repr=False)


@attrs.frozen(slots=True)
class Int(Expr):
    value: int


@attrs.frozen(slots=True)
class Str(Expr):
    """A string: a tuple of literal ``str`` parts and interpolated ``Expr`` parts."""

    parts: tuple[Union[str, Expr], ...]


@attrs.frozen(slots=True)
class Path(Expr):
    """A path literal as written (``./x``, ``../x``, ``/abs``, ``~/x``), resolved at evaluation
    against the directory of the file it appears in."""

    text: str


@attrs.frozen(slots=True)
class SearchPath(Expr):
    """``<name/rest>``: looked up in the search path (``-I``, ``SKIFFEVAL_PATH``, ``layers``)."""

    text: str


@attrs.frozen(slots=True)
class Var(Expr):
    name: str


AttrName = Union[str, Expr]
"""A static attribute name, or an expression that evaluates to one."""


@attrs.frozen(slots=True)
class Select(Expr):
    """``e.a.b`` or ``e.a.b or default``; ``path_spans`` locate each name for errors."""

    expr: Expr
    path: tuple[AttrName, ...]
    path_spans: tuple[Span, ...] = attrs.field(repr=False)
    default: Expr | None = None


@attrs.frozen(slots=True)
class HasAttr(Expr):
    """``e ? a.b``."""

    expr: Expr
    path: tuple[AttrName, ...]


@attrs.frozen(slots=True)
class Apply(Expr):
    fn: Expr
    arg: Expr


@attrs.frozen(slots=True)
class Formal:
    """One entry of an attribute-set pattern: ``name`` or ``name ? default``."""

    name: str
    default: Expr | None
    span: Span = attrs.field(repr=False)


@attrs.frozen(slots=True)
class Formals:
    """An attribute-set pattern ``{ a, b ? 1, ... }``."""

    entries: tuple[Formal, ...]
    ellipsis: bool


@attrs.frozen(slots=True)
class Lambda(Expr):
    """``x: body``, ``{ ... }: body`` or ``x@{ ... }: body`` (``param`` is the ``x``)."""

    param: str | None
    formals: Formals | None
    body: Expr
    # The span of the head (``x:`` / the pattern), used to name the function in messages.
    head_span: Span = attrs.field(repr=False, eq=False)


@attrs.frozen(slots=True)
class AttrDef:
    """``a.b.c = value;`` inside an attribute set or ``let``."""

    path: tuple[AttrName, ...]
    path_spans: tuple[Span, ...] = attrs.field(repr=False)
    value: Expr
    span: Span = attrs.field(repr=False)


@attrs.frozen(slots=True)
class Inherit:
    """``inherit a b;`` or ``inherit (source) a b;``; each name with its span."""

    names: tuple[str, ...]
    name_spans: tuple[Span, ...] = attrs.field(repr=False)
    source: Expr | None
    span: Span = attrs.field(repr=False)


Binding = Union[AttrDef, Inherit]


@attrs.frozen(slots=True)
class Attrs(Expr):
    """``{ bindings }`` or ``rec { bindings }``."""

    rec: bool
    bindings: tuple[Binding, ...]


@attrs.frozen(slots=True)
class Let(Expr):
    bindings: tuple[Binding, ...]
    body: Expr


@attrs.frozen(slots=True)
class List(Expr):
    items: tuple[Expr, ...]


@attrs.frozen(slots=True)
class If(Expr):
    cond: Expr
    then: Expr
    else_: Expr


@attrs.frozen(slots=True)
class Assert(Expr):
    cond: Expr
    body: Expr


@attrs.frozen(slots=True)
class With(Expr):
    scope: Expr
    body: Expr


BINARY_OPS = ("+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "->", "//", "++")


@attrs.frozen(slots=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@attrs.frozen(slots=True)
class Not(Expr):
    expr: Expr


@attrs.frozen(slots=True)
class Negate(Expr):
    expr: Expr
