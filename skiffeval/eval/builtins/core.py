"""Core builtins: types, control, errors, tracing, import and file reading.

File access goes through ``ev.io`` (the injected I/O), so every read is a recorded input.
"""

from __future__ import annotations

import posixpath
from typing import Any

from skiffeval.diagnostics import SkiffError, Span
from skiffeval.eval import codes
from skiffeval.eval.builtins.registry import CORE, builtin
from skiffeval.eval.errors import EvalAbort, type_error
from skiffeval.eval.runtime import (
    coerce_to_string,
    expect_attrs,
    expect_function,
    force_deep,
    make_path,
)
from skiffeval.eval.values import Attrs, Closure, CStr, PathValue, PrimOp, PrimOpApp, force, type_name

CORE.constant("true", True, is_global=True)
CORE.constant("false", False, is_global=True)
CORE.constant("null", None, is_global=True)
CORE.constant("langVersion", 6, doc="the language version this evaluator implements (Nix 2.8's is 6)")


# -- types -----------------------------------------------------------------------------------


@builtin("typeOf", "e")
def _type_of(ev, span, e):
    """The type of a value as a string: null, bool, int, string, path, list, set, lambda."""
    return type_name(e)


def _predicate(name: str, test):
    @builtin(name, "e", is_global=(name == "isNull"))
    def impl(ev, span, e):
        return test(e)

    impl.__doc__ = f"Whether the argument is {name[2:].lower()}."
    return impl


_predicate("isNull", lambda v: v is None)
_predicate("isBool", lambda v: type(v) is bool)
_predicate("isInt", lambda v: type(v) is int)
_predicate("isFloat", lambda v: False)
_predicate("isString", lambda v: type(v) is str or type(v) is CStr)
_predicate("isPath", lambda v: type(v) is PathValue)
_predicate("isList", lambda v: type(v) is tuple)
_predicate("isAttrs", lambda v: type(v) is Attrs)
_predicate(
    "isFunction",
    lambda v: type(v) in (Closure, PrimOp, PrimOpApp),
)


# -- control ---------------------------------------------------------------------------------


@builtin("throw", "message", is_global=True)
def _throw(ev, span, message):
    """Fail with ``message`` (catchable by ``tryEval``)."""
    text, _ = coerce_to_string(ev, message, span, what="the message of 'throw'")
    raise SkiffError(codes.THROWN, text, span)


@builtin("abort", "message", is_global=True)
def _abort(ev, span, message):
    """Stop evaluation with ``message`` (not catchable by ``tryEval``)."""
    text, _ = coerce_to_string(ev, message, span, what="the message of 'abort'")
    raise EvalAbort(codes.ABORTED, f"evaluation aborted: {text}", span)


@builtin("seq", "e1", "e2", lazy=("e2",))
def _seq(ev, span, e1, e2):
    """Force ``e1`` to weak head normal form, then return ``e2``."""
    return force(e2)


@builtin("deepSeq", "e1", "e2", lazy=("e2",))
def _deep_seq(ev, span, e1, e2):
    """Force ``e1`` completely, then return ``e2``."""
    force_deep(ev, e1, span)
    return force(e2)


@builtin("tryEval", "e", lazy=("e",))
def _try_eval(ev, span, e):
    """``{ success = true; value = e; }``, or ``{ success = false; value = false; }`` when ``e``
    throws or fails an assertion."""
    try:
        value = force(e)
    except EvalAbort:
        raise
    except SkiffError as exc:
        if exc.code in (codes.THROWN, codes.ASSERTION):
            return Attrs({"success": False, "value": False})
        raise
    return Attrs({"success": True, "value": value})


@builtin("trace", "e1", "e2", lazy=("e2",))
def _trace(ev, span, e1, e2):
    """Show ``e1`` on standard error, then return ``e2``."""
    from skiffeval.eval.printer import print_value

    value = force_deep(ev, e1, span)
    text = value if type(value) in (str, CStr) else print_value(ev, value)
    ev.io.trace(str(text), str(span) if span else "")
    return force(e2)


@builtin("functionArgs", "f")
def _function_args(ev, span, f):
    """The formal arguments of a function: name -> whether it has a default."""
    expect_function(f, span, "the argument of 'functionArgs'")
    if type(f) is Closure and f.lam.formals is not None:
        return Attrs({name: default is not None for name, default, _ in f.lam.formals})
    return Attrs({})


# -- files -----------------------------------------------------------------------------------


def path_argument(ev, value: Any, span: Span | None, what: str) -> str:
    """The absolute path a path or path-like string names (strings must be absolute)."""
    value = force(value)
    if type(value) is PathValue:
        return value.path
    if type(value) in (str, CStr) or type(value) is Attrs:
        text, _ = coerce_to_string(ev, value, span, copy_to_store=False, what=what)
        if not text.startswith("/"):
            raise SkiffError(codes.BAD_PATH, f"string '{text}' is not an absolute path ({what})", span)
        return make_path(text).path
    raise type_error("a path", value, span, what)


@builtin("import", "path", is_global=True)
def _import(ev, span, path):
    """Evaluate the file at ``path`` (a directory means its ``default.sk``); memoized."""
    return ev.import_file(path_argument(ev, path, span, "the argument of 'import'"), span)


@builtin("readFile", "path")
def _read_file(ev, span, path):
    """The contents of a file as a string."""
    p = path_argument(ev, path, span, "the argument of 'readFile'")
    data = ev.read_file(p, span)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SkiffError(codes.FILE_UNREADABLE, f"file '{p}' is not valid UTF-8 text", span) from None


@builtin("pathExists", "path")
def _path_exists(ev, span, path):
    """Whether anything exists at ``path``."""
    p = path_argument(ev, path, span, "the argument of 'pathExists'")
    return ev.io.file_type(p) is not None


@builtin("readDir", "path")
def _read_dir(ev, span, path):
    """The entries of a directory: name -> "regular", "directory", "symlink" or "unknown"."""
    p = path_argument(ev, path, span, "the argument of 'readDir'")
    try:
        entries = ev.io.read_dir(p)
    except FileNotFoundError:
        raise SkiffError(codes.FILE_NOT_FOUND, f"directory '{p}' does not exist", span) from None
    except NotADirectoryError:
        raise SkiffError(codes.FILE_UNREADABLE, f"'{p}' is not a directory", span) from None
    except OSError as exc:
        raise SkiffError(codes.FILE_UNREADABLE, f"cannot read directory '{p}': {exc.strerror or exc}", span) from None
    return Attrs(dict(entries))


@builtin("baseNameOf", "s", is_global=True)
def _base_name_of(ev, span, s):
    """The last component of a path or string (trailing slashes ignored)."""
    if type(s) is PathValue:
        return posixpath.basename(s.path.rstrip("/")) if s.path != "/" else ""
    text, ctx = coerce_to_string(ev, s, span, copy_to_store=False, what="the argument of 'baseNameOf'")
    base = text.rstrip("/").rsplit("/", 1)[-1] if text.rstrip("/") else ""
    return CStr(base, ctx) if ctx else base


@builtin("dirOf", "s", is_global=True)
def _dir_of(ev, span, s):
    """The directory part of a path or string."""
    if type(s) is PathValue:
        return make_path(posixpath.dirname(s.path) or "/")
    text, ctx = coerce_to_string(ev, s, span, copy_to_store=False, what="the argument of 'dirOf'")
    i = text.rfind("/")
    result = "." if i < 0 else (text[:i] if i > 0 else "/")
    return CStr(result, ctx) if ctx else result


@builtin("toPath", "s")
def _to_path(ev, span, s):
    """An absolute path string, normalized (deprecated in Nix; kept for compatibility)."""
    return path_argument(ev, s, span, "the argument of 'toPath'")


@builtin("getEnv", "name")
def _get_env(ev, span, name):
    """Always "" : evaluation is pure and reads no environment variables (as Nix's pure mode)."""
    return ""


@builtin("removeAttrs", "set", "names", is_global=True)
def _remove_attrs(ev, span, s, names):
    """``set`` without the attributes listed in ``names``."""
    from skiffeval.eval.runtime import expect_list, expect_plain_string

    s = expect_attrs(s, span, "the first argument of 'removeAttrs'")
    drop = {expect_plain_string(force(n), span, "an attribute name") for n in expect_list(names, span, "the second argument of 'removeAttrs'")}
    return Attrs({k: v for k, v in s.values.items() if k not in drop}, s.spans)
