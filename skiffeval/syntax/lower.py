"""Lowering: lark's rule callbacks that build frozen AST nodes while the LALR parser runs.

The parser is built with ``keep_all_tokens=True`` so every callback sees its punctuation
tokens too; a node's span runs from its first token to its last.  Rule and alias names are the
contract with ``grammar/skiff.lark``.

Static checks that need no evaluation happen here, with the span of the offending name:
duplicate attributes (nested keys merge as in Nix: ``a.b = 1; a.c = 2;``), duplicate formals,
dynamic names in ``let``, integer range and float literals.
"""

from __future__ import annotations

from typing import Any

from lark import Token, Transformer

from skiffeval.diagnostics import SkiffError, Source, Span
from skiffeval.syntax import ast
from skiffeval.syntax.codes import (
    DUPLICATE_ATTR,
    DUPLICATE_FORMAL,
    DYNAMIC_IN_LET,
    INT_RANGE,
    NO_FLOATS,
)
from skiffeval.syntax.strings import strip_indentation, unescape_dq, unescape_ind

__all__ = ["Lowering"]

INT_MAX = 2**63 - 1


class _Pattern:
    """Intermediate result of the ``formals`` rule."""

    __slots__ = ("entries", "ellipsis")

    def __init__(self, entries: tuple[ast.Formal, ...], ellipsis: bool) -> None:
        self.entries = entries
        self.ellipsis = ellipsis


class _Name:
    """Intermediate result of an ``attrname`` rule: a static name or an expression, with span."""

    __slots__ = ("name", "span")

    def __init__(self, name: ast.AttrName, span: Span) -> None:
        self.name = name
        self.span = span


def _start(item: Any) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.line, item.column
    span = item.span
    return span.line, span.col


def _end(item: Any) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.end_line, item.end_column - 1
    span = item.span
    return span.end_line, span.end_col


class Lowering(Transformer):
    """Callbacks from grammar rules to AST nodes for one source file."""

    def __init__(self, source: Source) -> None:
        super().__init__(visit_tokens=False)
        self.set_source(source)

    def set_source(self, source: Source) -> None:
        self.source = source
        self.file = source.name

    # -- helpers ---------------------------------------------------------------------------

    def span(self, first: Any, last: Any) -> Span:
        line, col = _start(first)
        end_line, end_col = _end(last)
        return Span(self.file, line, col, end_line, end_col, self.source)

    def tok_span(self, tok: Token) -> Span:
        return self.span(tok, tok)

    # -- top level -------------------------------------------------------------------------

    def start(self, c: list) -> ast.Expr:
        return c[0]

    def expr_simple(self, c: list) -> ast.Expr:  # parenthesised expression: ( expr )
        return c[1]

    # -- literals --------------------------------------------------------------------------

    def var(self, c: list) -> ast.Expr:
        return ast.Var(self.tok_span(c[0]), str(c[0]))

    def int(self, c: list) -> ast.Expr:
        value = int(c[0])
        if value > INT_MAX:
            raise SkiffError(INT_RANGE, f"integer literal '{c[0]}' does not fit in 64 bits", self.tok_span(c[0]))
        return ast.Int(self.tok_span(c[0]), value)

    def float(self, c: list) -> ast.Expr:
        raise SkiffError(
            NO_FLOATS,
            f"floating-point number '{c[0]}' is not supported",
            self.tok_span(c[0]),
            help=["the language has integers only; write a string if a tool needs a decimal value"],
        )

    def path(self, c: list) -> ast.Expr:
        return ast.Path(self.tok_span(c[0]), str(c[0]))

    def home_path(self, c: list) -> ast.Expr:
        return ast.Path(self.tok_span(c[0]), str(c[0]))

    def search_path(self, c: list) -> ast.Expr:
        return ast.SearchPath(self.tok_span(c[0]), str(c[0])[1:-1])

    # -- strings ---------------------------------------------------------------------------

    def str_text(self, c: list) -> str:
        return unescape_dq(str(c[0]))

    def str_interp(self, c: list) -> ast.Expr:
        return c[1]

    def string(self, c: list) -> ast.Expr:
        return ast.Str(self.span(c[0], c[-1]), _merge(c[1:-1]))

    def ind_text(self, c: list) -> str:
        return str(c[0])

    def ind_esc_dollar(self, c: list) -> str:
        return unescape_ind(str(c[0]))

    ind_esc_quotes = ind_esc_dollar
    ind_esc_char = ind_esc_dollar

    def ind_interp(self, c: list) -> ast.Expr:
        return c[1]

    def ind_string(self, c: list) -> ast.Expr:
        return ast.Str(self.span(c[0], c[-1]), _merge(strip_indentation(list(c[1:-1]))))

    # -- lists, attribute sets, bindings ---------------------------------------------------

    def list_items(self, c: list) -> list:
        return c

    def list(self, c: list) -> ast.Expr:
        return ast.List(self.span(c[0], c[-1]), tuple(c[1]))

    def name_id(self, c: list) -> _Name:
        return _Name(str(c[0]), self.tok_span(c[0]))

    name_or = name_id

    def name_string(self, c: list) -> _Name:
        s: ast.Str = c[0]
        if all(isinstance(p, str) for p in s.parts):
            return _Name("".join(s.parts), s.span)  # type: ignore[arg-type]
        return _Name(s, s.span)

    def name_interp(self, c: list) -> _Name:
        return _Name(c[1], self.span(c[0], c[-1]))

    def attrpath(self, c: list) -> list[_Name]:
        return [x for x in c if isinstance(x, _Name)]

    def bind_value(self, c: list) -> ast.AttrDef:
        names: list[_Name] = c[0]
        return ast.AttrDef(
            tuple(n.name for n in names), tuple(n.span for n in names), c[2], self.span(names[0], c[-1])
        )

    def inherit(self, c: list) -> ast.Inherit:
        names = [x for x in c[1:-1] if isinstance(x, _Name)]
        return self._inherit(names, None, self.span(c[0], c[-1]))

    def inherit_from(self, c: list) -> ast.Inherit:
        names = [x for x in c[4:-1] if isinstance(x, _Name)]
        return self._inherit(names, c[2], self.span(c[0], c[-1]))

    def _inherit(self, names: list[_Name], source: ast.Expr | None, span: Span) -> ast.Inherit:
        for n in names:
            if not isinstance(n.name, str):
                raise SkiffError(DYNAMIC_IN_LET, "dynamic attribute names are not allowed in 'inherit'", n.span)
        return ast.Inherit(tuple(n.name for n in names), tuple(n.span for n in names), source, span)  # type: ignore[misc]

    def binds(self, c: list) -> list:
        return c

    binds_nonempty = binds

    def attrs(self, c: list) -> ast.Expr:
        span = self.span(c[0], c[-1])
        return ast.Attrs(span, False, _check_bindings(c[1], in_let=False))

    def attrs_empty(self, c: list) -> ast.Expr:
        return ast.Attrs(self.span(c[0], c[-1]), False, ())

    def rec_attrs(self, c: list) -> ast.Expr:
        return ast.Attrs(self.span(c[0], c[-1]), True, _check_bindings(c[2], in_let=False))

    def let(self, c: list) -> ast.Expr:
        return ast.Let(self.span(c[0], c[-1]), _check_bindings(c[1], in_let=True), c[3])

    # -- functions -------------------------------------------------------------------------

    def formal_required(self, c: list) -> ast.Formal:
        return ast.Formal(str(c[0]), None, self.tok_span(c[0]))

    def formal_default(self, c: list) -> ast.Formal:
        return ast.Formal(str(c[0]), c[2], self.tok_span(c[0]))

    def formals(self, c: list) -> _Pattern:
        entries = tuple(x for x in c if isinstance(x, ast.Formal))
        ellipsis = any(isinstance(x, Token) and x.type == "ELLIPSIS" for x in c)
        seen: dict[str, ast.Formal] = {}
        for f in entries:
            if f.name in seen:
                raise SkiffError(
                    DUPLICATE_FORMAL,
                    f"duplicate argument '{f.name}' in function pattern",
                    f.span,
                    related=[_first_here(seen[f.name].span)],
                )
            seen[f.name] = f
        return _Pattern(entries, ellipsis)

    def lambda_simple(self, c: list) -> ast.Expr:
        return ast.Lambda(self.span(c[0], c[-1]), str(c[0]), None, c[2], self.span(c[0], c[1]))

    def lambda_formals(self, c: list) -> ast.Expr:
        return self._lambda(c[0], c[-1], None, c[1], c[3])

    def lambda_empty(self, c: list) -> ast.Expr:
        return self._lambda(c[0], c[-1], None, _Pattern((), False), c[2])

    def lambda_formals_at(self, c: list) -> ast.Expr:
        return self._lambda(c[0], c[-1], c[4], c[1], c[5])

    def lambda_empty_at(self, c: list) -> ast.Expr:
        return self._lambda(c[0], c[-1], c[3], _Pattern((), False), c[4])

    def lambda_at_formals(self, c: list) -> ast.Expr:
        return self._lambda(c[0], c[-1], c[0], c[3], c[5])

    def lambda_at_empty(self, c: list) -> ast.Expr:
        return self._lambda(c[0], c[-1], c[0], _Pattern((), False), c[4])

    def _lambda(self, first: Any, body: ast.Expr, at: Token | None, pattern: _Pattern, colon: Token) -> ast.Expr:
        if at is not None:
            for f in pattern.entries:
                if f.name == str(at):
                    raise SkiffError(
                        DUPLICATE_FORMAL, f"duplicate argument '{f.name}' in function pattern", self.tok_span(at)
                    )
        formals = ast.Formals(pattern.entries, pattern.ellipsis)
        return ast.Lambda(
            self.span(first, body), str(at) if at is not None else None, formals, body, self.span(first, colon)
        )

    # -- control ---------------------------------------------------------------------------

    def if_(self, c: list) -> ast.Expr:
        return ast.If(self.span(c[0], c[-1]), c[1], c[3], c[5])

    def assert_(self, c: list) -> ast.Expr:
        return ast.Assert(self.span(c[0], c[-1]), c[1], c[3])

    def with_(self, c: list) -> ast.Expr:
        return ast.With(self.span(c[0], c[-1]), c[1], c[3])

    # -- selection and application ---------------------------------------------------------

    def select(self, c: list) -> ast.Expr:
        names: list[_Name] = c[2]
        return ast.Select(
            self.span(c[0], names[-1]), c[0], tuple(n.name for n in names), tuple(n.span for n in names), None
        )

    def select_or(self, c: list) -> ast.Expr:
        names: list[_Name] = c[2]
        return ast.Select(
            self.span(c[0], c[-1]), c[0], tuple(n.name for n in names), tuple(n.span for n in names), c[4]
        )

    def apply(self, c: list) -> ast.Expr:
        return ast.Apply(self.span(c[0], c[-1]), c[0], c[1])

    def op_has(self, c: list) -> ast.Expr:
        names: list[_Name] = c[2]
        return ast.HasAttr(self.span(c[0], names[-1]), c[0], tuple(n.name for n in names))

    # -- operators -------------------------------------------------------------------------

    def _binop(self, c: list) -> ast.Expr:
        return ast.BinOp(self.span(c[0], c[-1]), str(c[1]), c[0], c[2])

    op_impl = op_or = op_and = op_eq = op_ne = op_lt = op_le = op_gt = op_ge = _binop
    op_update = op_add = op_sub = op_mul = op_div = op_concat = _binop

    def op_not(self, c: list) -> ast.Expr:
        return ast.Not(self.span(c[0], c[-1]), c[1])

    def op_negate(self, c: list) -> ast.Expr:
        return ast.Negate(self.span(c[0], c[-1]), c[1])


def _merge(parts: list) -> tuple:
    """Join adjacent literal parts; drop empty literals."""
    out: list = []
    for p in parts:
        if isinstance(p, str):
            if not p:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += p
                continue
        out.append(p)
    return tuple(out)


def _first_here(span: Span):
    from skiffeval.diagnostics import Note

    return Note("first defined here", span)


def _check_bindings(bindings: list, *, in_let: bool) -> tuple[ast.Binding, ...]:
    """Reject duplicate static names and (in ``let``) dynamic ones; merge nested keys.

    ``a.b = 1; a.c = 2;`` becomes ``a = { b = 1; c = 2; }``, and an explicit non-rec attribute
    set literal merges with nested keys for the same name, as in Nix.
    """
    where = "let" if in_let else "attribute set"
    out: list[ast.Binding] = []
    static: dict[str, tuple[int, Span]] = {}  # name -> (index in out, span of definition)
    for b in bindings:
        if isinstance(b, ast.Inherit):
            for name, span in zip(b.names, b.name_spans):
                if name in static:
                    raise SkiffError(
                        DUPLICATE_ATTR, f"attribute '{name}' already defined", span, related=[_first_here(static[name][1])]
                    )
                static[name] = (-1, span)
            out.append(b)
            continue
        head = b.path[0]
        if not isinstance(head, str):
            if in_let:
                raise SkiffError(DYNAMIC_IN_LET, "dynamic attribute names are not allowed in 'let'", b.path_spans[0])
            out.append(b)
            continue
        if head not in static:
            static[head] = (len(out), b.path_spans[0])
            out.append(b if len(b.path) == 1 else _nest(b))
            continue
        index, first = static[head]
        existing = out[index] if index >= 0 else None
        merged = _merge_into(existing, b) if isinstance(existing, ast.AttrDef) else None
        if merged is None:
            raise SkiffError(
                DUPLICATE_ATTR,
                f"attribute '{head}' already defined in this {where}",
                b.path_spans[0],
                related=[_first_here(first)],
            )
        out[index] = merged
    return tuple(out)


def _nest(b: ast.AttrDef) -> ast.AttrDef:
    """``a.b.c = v`` as ``a = { b.c = v; }`` (the inner set is checked recursively)."""
    inner = ast.AttrDef(b.path[1:], b.path_spans[1:], b.value, b.span)
    value = ast.Attrs(b.span, False, _check_bindings([inner], in_let=False))
    return ast.AttrDef(b.path[:1], b.path_spans[:1], value, b.span)


def _merge_into(existing: ast.AttrDef, new: ast.AttrDef) -> ast.AttrDef | None:
    """Merge ``new`` into an existing definition of the same name when both are plain sets."""
    old_value = existing.value
    if not isinstance(old_value, ast.Attrs) or old_value.rec:
        return None
    if len(new.path) > 1:
        extra: list = [ast.AttrDef(new.path[1:], new.path_spans[1:], new.value, new.span)]
    elif isinstance(new.value, ast.Attrs) and not new.value.rec:
        extra = list(new.value.bindings)
    else:
        return None
    value = ast.Attrs(old_value.span, False, _check_bindings(list(old_value.bindings) + extra, in_let=False))
    return ast.AttrDef(existing.path, existing.path_spans, value, existing.span)
