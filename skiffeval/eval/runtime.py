"""The operations of the language on values: calling, selecting, coercing, comparing, arithmetic.

Compiled code and builtins share these, so a type error reads the same wherever it happens.
Every function that can fail takes the ``span`` to blame; none does I/O except through
``ev.io`` (path coercion copies the path via the host).

Semantics follow Nix 2.8 where the two languages overlap: integer division truncates toward
zero, ``==`` never holds between functions, derivations compare by ``outPath``, ``toString``
renders ``true`` as ``"1"`` and ``false``/``null`` as ``""``, ``+`` of a path and a string is a
path, and ``"${path}"`` copies the path (here: hands it to the host).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from skiffeval.diagnostics import Note, SkiffError, Span, did_you_mean_help
from skiffeval.eval import codes
from skiffeval.eval.errors import type_error
from skiffeval.eval.values import (
    Attrs,
    Closure,
    CStr,
    PathValue,
    PrimOp,
    PrimOpApp,
    Thunk,
    describe,
    force,
    make_string,
)

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.eval.evaluator import Evaluator

INT_MIN = -(2**63)
_SELF_EXPLAINING = (codes.THROWN, codes.ABORTED)
_EMPTY: frozenset = frozenset()
_NOTELESS_BUILTINS = frozenset({"import"})  # adds its own "while importing" note
INT_MAX = 2**63 - 1
_MISSING = object()


# ---------------------------------------------------------------------------------------------
# function application


def call(ev: Evaluator, fn: Any, arg: Any, span: Span | None) -> Any:
    """Apply ``fn`` (a value in WHNF) to ``arg`` (a value or thunk)."""
    t = type(fn)
    if t is Closure:
        lam = fn.lam
        if lam.formals is None:  # ``lam.enter`` of a plain ``x: body``, one step shorter
            return lam.body([fn.env, arg])
        return lam.enter(ev, fn.env, arg, span)
    if t is PrimOp:
        if fn.arity == 1:
            return run_primop(ev, fn, (arg,), span)
        return PrimOpApp(fn, (arg,))
    if t is PrimOpApp:
        args = fn.args + (arg,)
        if len(args) == fn.primop.arity:
            return run_primop(ev, fn.primop, args, span)
        return PrimOpApp(fn.primop, args)
    if t is Attrs and "__functor" in fn.values:
        functor = force(fn.values["__functor"])
        return call(ev, force(call(ev, functor, fn, span)), arg, span)
    raise SkiffError(codes.NOT_A_FUNCTION, f"attempt to call something which is not a function but {describe(fn)}", span)


def run_primop(ev: Evaluator, op: PrimOp, args: tuple, span: Span | None) -> Any:
    """Run a builtin on all its arguments (forcing the strict ones); its errors name it."""
    strict = op.strict
    if len(args) == 1:
        a = args[0]
        if strict[0] and type(a) is Thunk:
            a = a.force()
        forced: tuple = (a,)
    else:
        forced = tuple([a.force() if s and type(a) is Thunk else a for a, s in zip(args, strict)])
    try:
        return op.impl(ev, span, *forced)
    except SkiffError as exc:
        note_builtin(exc, op, span)
        raise


def note_builtin(exc: SkiffError, op: PrimOp, span: Span | None) -> None:
    """Add "while calling the builtin 'name'" to an error raised by ``op`` (once; not to errors
    that explain themselves)."""
    if exc.code in _SELF_EXPLAINING or op.name in _NOTELESS_BUILTINS:
        return
    if not exc.notes or exc.notes[-1].message != f"while calling the builtin '{op.name}'":
        exc.notes.append(Note(f"while calling the builtin '{op.name}'", span))


def call_value(ev: Evaluator, fn: Any, args: list, span: Span | None) -> Any:
    """Apply ``fn`` to several arguments in turn, forcing the result (for builtins)."""
    value = force(fn)
    for a in args:
        value = force(call(ev, value, a, span))
    return value


# ---------------------------------------------------------------------------------------------
# attribute sets


def expect_attrs(value: Any, span: Span | None, what: str | None = None) -> Attrs:
    if type(value) is not Attrs:
        raise type_error("an attribute set", value, span, what)
    return value


def missing_attribute(attrs: Attrs, name: str, span: Span | None) -> SkiffError:
    return SkiffError(
        codes.MISSING_ATTRIBUTE,
        f"attribute '{name}' missing",
        span,
        help=did_you_mean_help(name, attrs.values.keys()),
    )


def select(value: Any, name: str, span: Span | None) -> Any:
    """``value.name`` (value in WHNF); the result is forced."""
    if type(value) is not Attrs:
        raise type_error("an attribute set", value, span, f"selecting attribute '{name}'")
    v = value.values.get(name, _MISSING)
    if v is _MISSING:
        raise missing_attribute(value, name, span)
    return v.force() if type(v) is Thunk else v


def is_derivation(value: Any) -> bool:
    if type(value) is not Attrs:
        return False
    t = value.values.get("type", _MISSING)
    if t is _MISSING:
        return False
    return force(t) == "derivation"


# ---------------------------------------------------------------------------------------------
# strings


def expect_string(ev: Evaluator, value: Any, span: Span | None, what: str | None = None) -> str:
    """A string value (context kept); paths and other values are type errors."""
    if type(value) is str or type(value) is CStr:
        return value
    raise type_error("a string", value, span, what)


def expect_plain_string(value: Any, span: Span | None, what: str) -> str:
    """A string without context (attribute names, regexes, file names ...)."""
    if type(value) is str:
        return value
    if type(value) is CStr:
        raise SkiffError(
            codes.CONTEXT_NOT_ALLOWED,
            f"the string '{_short(value)}' refers to a build output and cannot be used as {what}",
            span,
        )
    raise type_error("a string", value, span, what)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def coerce_to_string(
    ev: Evaluator,
    value: Any,
    span: Span | None,
    *,
    copy_to_store: bool = True,
    coerce_more: bool = False,
    what: str | None = None,
) -> tuple[str, frozenset]:
    """The text and context a value has where a string is needed.

    Strings are themselves; paths become what the host makes of them (``copy_to_store``) or
    their text; sets become their ``__toString`` result or their ``outPath``.  With
    ``coerce_more`` (``toString``) integers, booleans, null and lists are accepted too.
    """
    t = type(value)
    if t is str:
        return value, _EMPTY
    if t is Thunk:
        value = value.force()
        t = type(value)
    if t is str:
        return value, _EMPTY
    if t is CStr:
        return str(value), value.context
    if t is PathValue:
        if copy_to_store:
            try:
                text, element = ev.io.path_to_string(value.path)
            except FileNotFoundError:
                raise SkiffError(codes.FILE_NOT_FOUND, f"path '{value.path}' does not exist", span) from None
            except OSError as exc:
                raise SkiffError(codes.FILE_UNREADABLE, f"cannot read path '{value.path}': {exc.strerror or exc}", span) from None
            return text, frozenset((element,))
        return value.path, frozenset()
    if t is Attrs:
        values = value.values
        to_string = values.get("__toString", _MISSING)
        if to_string is not _MISSING:
            result = force(call(ev, force(to_string), value, span))
            return coerce_to_string(ev, result, span, copy_to_store=copy_to_store, coerce_more=coerce_more, what=what)
        out_path = values.get("outPath", _MISSING)
        if out_path is not _MISSING:
            if type(out_path) is Thunk:
                out_path = out_path.force()
            if type(out_path) is CStr:  # a derivation: the usual case, made short
                return str(out_path), out_path.context
            return coerce_to_string(ev, out_path, span, copy_to_store=copy_to_store, coerce_more=coerce_more, what=what)
    if coerce_more:
        if value is None or value is False:
            return "", frozenset()
        if value is True:
            return "1", frozenset()
        if t is int:
            return str(value), frozenset()
        if t is tuple:
            parts: list[str] = []
            context: frozenset = frozenset()
            last = len(value) - 1
            for i, item in enumerate(value):
                text, ctx = coerce_to_string(ev, item, span, copy_to_store=copy_to_store, coerce_more=True, what=what)
                parts.append(text)
                context |= ctx
                item = force(item)
                # as Nix: a space after each element but the last, and none after an empty list
                if i < last and not (type(item) is tuple and not item):
                    parts.append(" ")
            return "".join(parts), context
    message = f"cannot coerce {describe(value)} to a string"
    if what:
        message += f" for {what}"
    help: list[str] = []
    if t is int or t is bool or value is None:
        help.append("use 'toString' to turn it into text")
    raise SkiffError(codes.NOT_COERCIBLE, message, span, help=help)


# ---------------------------------------------------------------------------------------------
# equality and ordering


def equal(ev: Evaluator, a: Any, b: Any, span: Span | None) -> bool:
    """Deep equality as ``==`` (forces what it compares)."""
    a = force(a)
    b = force(b)
    ta, tb = type(a), type(b)
    if ta is CStr:
        ta = str
    if tb is CStr:
        tb = str
    if ta is not tb:
        return False
    if ta is str or ta is int or ta is bool or a is None:
        return a == b
    if ta is PathValue:
        return a.path == b.path
    if ta is tuple:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if x is not y and not equal(ev, x, y, span):
                return False
        return True
    if ta is Attrs:
        if a is b:
            return True
        if is_derivation(a) and is_derivation(b):
            if "outPath" in a.values and "outPath" in b.values:
                return equal(ev, a.values["outPath"], b.values["outPath"], span)
        if len(a.values) != len(b.values):
            return False
        for name, x in a.values.items():
            y = b.values.get(name, _MISSING)
            if y is _MISSING:
                return False
            if x is not y and not equal(ev, x, y, span):
                return False
        return True
    return False  # functions are never equal


def less_than(ev: Evaluator, a: Any, b: Any, span: Span | None) -> bool:
    """``a < b`` for integers, strings, paths and lists (lexicographic)."""
    a = force(a)
    b = force(b)
    ta = str if type(a) is CStr else type(a)
    tb = str if type(b) is CStr else type(b)
    if ta is int and tb is int:
        return a < b
    if ta is str and tb is str:
        return a.encode() < b.encode()
    if ta is PathValue and tb is PathValue:
        return a.path.encode() < b.path.encode()
    if ta is tuple and tb is tuple:
        for x, y in zip(a, b):
            if not equal(ev, x, y, span):
                return less_than(ev, x, y, span)
        return len(a) < len(b)
    raise SkiffError(codes.NOT_COMPARABLE, f"cannot compare {describe(a)} with {describe(b)}", span)


# ---------------------------------------------------------------------------------------------
# arithmetic


def check_int(value: int, span: Span | None) -> int:
    if value < INT_MIN or value > INT_MAX:
        raise SkiffError(codes.OVERFLOW, f"integer overflow: {value} does not fit in 64 bits", span)
    return value


def expect_int(value: Any, span: Span | None, what: str | None = None) -> int:
    if type(value) is not int:
        raise type_error("an integer", value, span, what)
    return value


def expect_bool(value: Any, span: Span | None, what: str | None = None) -> bool:
    if type(value) is not bool:
        raise type_error("a boolean", value, span, what)
    return value


def expect_list(value: Any, span: Span | None, what: str | None = None) -> tuple:
    if type(value) is not tuple:
        raise type_error("a list", value, span, what)
    return value


def expect_function(value: Any, span: Span | None, what: str | None = None) -> Any:
    t = type(value)
    if t is Closure or t is PrimOp or t is PrimOpApp or (t is Attrs and "__functor" in value.values):
        return value
    raise type_error("a function", value, span, what)


def add(ev: Evaluator, a: Any, b: Any, span: Span | None) -> Any:
    """``a + b``: integers, strings (context joined) and paths."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return check_int(a + b, span)
    if ta is str and tb is str:
        return a + b
    if ta is PathValue:
        if tb is PathValue:
            return make_path(a.path + b.path)
        if tb is str:
            return make_path(a.path + b)
        if tb is CStr:
            raise SkiffError(
                codes.CONTEXT_NOT_ALLOWED,
                f"a string that refers to a build output cannot be appended to a path ('{_short(b)}')",
                span,
            )
        raise SkiffError(codes.TYPE, f"cannot append {describe(b)} to a path", span)
    if ta is str or ta is CStr:
        if tb is str or tb is CStr or tb is PathValue or tb is Attrs:
            text, ctx = coerce_to_string(ev, b, span, what="the right side of '+'")
            left_ctx = a.context if ta is CStr else frozenset()
            return make_string(a + text, left_ctx | ctx)
        raise SkiffError(codes.TYPE, f"cannot add {describe(b)} to a string", span, help=["use 'toString' to turn it into text"] if tb is int else [])
    if ta is Attrs and (tb is str or tb is CStr):
        text, ctx = coerce_to_string(ev, a, span, what="the left side of '+'")
        right_ctx = b.context if tb is CStr else frozenset()
        return make_string(text + b, ctx | right_ctx)
    raise SkiffError(codes.TYPE, f"cannot add {describe(b)} to {describe(a)}", span)


def divide(a: int, b: int, span: Span | None) -> int:
    """Integer division truncating toward zero (as C and Nix do)."""
    if b == 0:
        raise SkiffError(codes.DIVISION_BY_ZERO, "division by zero", span)
    q = abs(a) // abs(b)
    return check_int(q if (a >= 0) == (b >= 0) else -q, span)


def make_path(text: str) -> PathValue:
    """A path value from text: made absolute-normal (``.`` and ``..`` resolved lexically)."""
    norm = posixpath.normpath(text)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return PathValue(norm)


def path_relative(base_dir: str, text: str) -> PathValue:
    return make_path(posixpath.join(base_dir, text))


__all__ = [
    "call", "call_value", "run_primop", "note_builtin", "select", "expect_attrs", "missing_attribute", "is_derivation",
    "expect_string", "expect_plain_string", "coerce_to_string", "equal", "less_than",
    "check_int", "expect_int", "expect_bool", "expect_list", "expect_function", "add", "divide",
    "make_path", "path_relative", "INT_MIN", "INT_MAX",
]


def force_deep(ev: Evaluator, value: Any, span: Span | None) -> Any:
    """Force ``value`` and everything inside it (each attribute set or list once: cycles end)."""
    value = force(value)
    seen: set[int] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is tuple or t is Attrs:
            if id(v) in seen:
                continue
            seen.add(id(v))
            items = v if t is tuple else v.values.values()
            for x in items:
                stack.append(x.force() if type(x) is Thunk else x)
    return value


__all__.append("force_deep")
