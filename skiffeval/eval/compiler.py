"""Compiling the AST into Python closures, with static scope resolution.

Each expression node becomes a function ``code(env) -> value`` that returns the weak head normal
form of the expression.  Compiling once and running closures avoids re-dispatching on node types
at every evaluation, which is the main cost of a tree-walking interpreter in CPython.

Environments are Python lists: ``env[0]`` is the enclosing environment, ``env[1:]`` the slots
of one scope (a ``let``, a ``rec`` set, a function's arguments, or the scope attrs of ``with``).
Variables are resolved while compiling, as Nix does: a lexically bound name becomes a
(depth, slot) access; a name bound nowhere lexically is looked up among the global builtins, and
then (at run time) in the enclosing ``with`` scopes, innermost first; a name bound nowhere is an
error before anything runs (E030) with the names in scope as "did you mean" candidates.

Laziness: the operands that Nix evaluates lazily (bindings, list elements, function arguments,
attribute values) are compiled to *lazy makers* ``mk(env) -> value or Thunk``: constants and
variables need no thunk; everything else gets one, carrying the name and span of its binding
for infinite-recursion messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from skiffeval.diagnostics import Note, SkiffError, Span, did_you_mean_help
from skiffeval.eval import codes
from skiffeval.eval.errors import type_error
from skiffeval.eval.inline import attrs_code, const_maker, let_code, slot_maker, thunk_maker
from skiffeval.eval.runtime import (
    add,
    call,
    check_int,
    coerce_to_string,
    divide,
    equal,
    expect_plain_string,
    less_than,
    make_path,
    missing_attribute,
    note_builtin,
    path_relative,
)
from skiffeval.eval.values import Attrs, Closure, CStr, PrimOp, Thunk
from skiffeval.syntax import ast

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.eval.evaluator import Evaluator

__all__ = ["Compiler", "LambdaInfo"]

Code = Callable[[Any], Any]
_MISSING = object()
_new_str = str.__new__


class Scope:
    """A compile-time scope: names bound to slot indices, or a ``with`` scope (no names)."""

    __slots__ = ("names", "parent", "is_with")

    def __init__(self, names: dict[str, int], parent: Scope | None, is_with: bool = False) -> None:
        self.names = names
        self.parent = parent
        self.is_with = is_with


class LambdaInfo:
    """A compiled function: its pattern, body and name; ``enter`` runs one call."""

    __slots__ = ("name", "span", "param", "formals", "ellipsis", "body", "nslots", "formal_names", "enter")

    def __init__(self, name: str, span: Span, param: str | None, formals: list | None, ellipsis: bool, body: Code) -> None:
        self.name = name
        self.span = span
        self.param = param
        self.formals = formals  # [(name, default lazy maker or None, span)]
        self.ellipsis = ellipsis
        self.body = body
        self.formal_names = frozenset(f[0] for f in formals) if formals is not None else frozenset()
        self.enter = self._enter_simple if formals is None else self._enter_formals

    def _enter_simple(self, ev: Evaluator, env: Any, arg: Any, span: Span | None) -> Any:
        return self.body([env, arg])

    def _enter_formals(self, ev: Evaluator, env: Any, arg: Any, span: Span | None) -> Any:
        value = arg.force() if type(arg) is Thunk else arg
        if type(value) is not Attrs:
            raise type_error("an attribute set", value, span, f"the argument of {self.name}")
        given = value.values
        if not self.ellipsis:
            for key in given:
                if key not in self.formal_names:
                    raise SkiffError(
                        codes.UNEXPECTED_ARGUMENT,
                        f"{self.name} called with unexpected argument '{key}'",
                        span,
                        help=did_you_mean_help(key, self.formal_names),
                        related=[Note("the function is defined here", self.span)],
                    )
        frame: list[Any] = [env]
        for name, default, fspan in self.formals:  # type: ignore[union-attr]
            v = given.get(name, _MISSING)
            if v is _MISSING:
                if default is None:
                    raise SkiffError(
                        codes.MISSING_ARGUMENT,
                        f"{self.name} called without required argument '{name}'",
                        span,
                        related=[Note(f"'{name}' is declared here", fspan)],
                    )
                v = default(frame)
            frame.append(v)
        if self.param is not None:
            frame.append(arg)
        return self.body(frame)


def _static_key(name: ast.AttrName) -> str | None:
    return name if isinstance(name, str) else None


class Compiler:
    """Compiles the AST of one file (whose directory anchors relative paths)."""

    def __init__(self, ev: Evaluator, base_dir: str) -> None:
        self.ev = ev
        self.base_dir = base_dir

    # -- scope resolution ------------------------------------------------------------------

    def _resolve(self, name: str, scope: Scope | None) -> tuple[str, Any]:
        depth = 0
        with_depths: list[int] = []
        s = scope
        while s is not None:
            if s.is_with:
                with_depths.append(depth)
            elif name in s.names:
                return "local", (depth, s.names[name])
            depth += 1
            s = s.parent
        if name in self.ev.globals:
            return "global", self.ev.globals[name]
        if with_depths:
            return "with", with_depths
        return "undefined", None

    def _names_in_scope(self, scope: Scope | None) -> set[str]:
        names: set[str] = set(self.ev.globals)
        s = scope
        while s is not None:
            names.update(s.names)
            s = s.parent
        return names

    def _undefined(self, name: str, span: Span, scope: Scope | None) -> SkiffError:
        help = did_you_mean_help(name, self._names_in_scope(scope))
        builtins_attrs = self.ev.builtins_attrs
        if not help and name in builtins_attrs.values:
            help = [f"did you mean 'builtins.{name}'?"]
        return SkiffError(codes.UNDEFINED_VARIABLE, f"undefined variable '{name}'", span, help=help)

    # -- entry points ----------------------------------------------------------------------

    def compile(self, node: ast.Expr, scope: Scope | None = None) -> Code:
        method = getattr(self, "c_" + type(node).__name__)
        return method(node, scope)

    def lazy(
        self,
        node: ast.Expr,
        scope: Scope | None,
        origin: tuple[str, Span] | None = None,
        name: str | None = None,
        filling: bool = False,
    ) -> Code:
        """A maker of the value-or-thunk of ``node`` in an environment (``name`` names a
        function defined directly as the value of a binding).  ``filling`` says the maker runs
        while its own frame is being filled (``let``, ``rec``, argument defaults), so a
        variable of that frame may not be there yet and must be read lazily."""
        if isinstance(node, ast.Lambda):
            return self.c_Lambda(node, scope, name)
        if isinstance(node, ast.Int):
            return const_maker(node.value)
        if isinstance(node, ast.Str) and all(isinstance(p, str) for p in node.parts):
            return const_maker("".join(node.parts))  # type: ignore[arg-type]
        if isinstance(node, ast.Var):
            kind, where = self._resolve(node.name, scope)
            if kind == "local" and not (filling and where[0] == 0):
                return slot_maker(where[0], where[1], _slot_getter(*where))
            if kind == "global":
                return const_maker(where)
        if not filling and (
            isinstance(node, ast.List)
            or (isinstance(node, ast.Attrs) and not node.rec and all(
                isinstance(b, ast.Inherit) or isinstance(b.path[0], str) for b in node.bindings))
        ):
            # a list, or a set with static names: making it cannot fail or loop and forces
            # nothing (its elements stay lazy), so it is made at once rather than behind a
            # thunk.  Not while a frame is being filled: it could read a slot not yet there.
            return self.compile(node, scope)
        if (isinstance(node, ast.Select) and node.default is None and len(node.path) == 1
                and isinstance(node.path[0], str) and isinstance(node.expr, ast.Var)):
            kind, where = self._resolve(node.expr.name, scope)
            if kind == "local" and where[0] <= 2 and not (filling and where[0] == 0):
                return _eager_select(where[0], where[1], node.path[0], self.compile(node, scope), origin)
        return thunk_maker(self.compile(node, scope), origin)

    # -- leaves ----------------------------------------------------------------------------

    def c_Int(self, node: ast.Int, scope: Scope | None) -> Code:
        value = node.value
        return lambda env: value

    def c_Var(self, node: ast.Var, scope: Scope | None) -> Code:
        kind, where = self._resolve(node.name, scope)
        if kind == "local":
            return _slot_forcer(*where)
        if kind == "global":
            value = where
            if type(value) is Thunk:
                return lambda env: value.force()
            return lambda env: value
        if kind == "with":
            return self._with_lookup(node.name, where, node.span, scope)
        raise self._undefined(node.name, node.span, scope)

    def _with_lookup(self, name: str, depths: list[int], span: Span, scope: Scope | None) -> Code:
        compiler = self

        def code(env: Any) -> Any:
            current_depth = 0
            e = env
            for d in depths:
                while current_depth < d:
                    e = e[0]
                    current_depth += 1
                scope_value = e[1]
                if type(scope_value) is Thunk:
                    scope_value = scope_value.force()
                if type(scope_value) is not Attrs:
                    raise type_error("an attribute set", scope_value, span, "the scope of 'with'")
                v = scope_value.values.get(name, _MISSING)
                if v is not _MISSING:
                    return v.force() if type(v) is Thunk else v
            raise compiler._undefined(name, span, scope)

        return code

    def c_Str(self, node: ast.Str, scope: Scope | None) -> Code:
        if all(isinstance(p, str) for p in node.parts):
            text = "".join(node.parts)  # type: ignore[arg-type]
            return lambda env: text
        ev = self.ev
        template: list[str | None] = []  # the literal parts, None where a value goes
        holes: list[tuple[int, Code, Span]] = []
        for p in node.parts:
            if isinstance(p, str):
                template.append(p)
            else:
                holes.append((len(template), self.compile(p, scope), p.span))
                template.append(None)

        def code(env: Any) -> Any:
            out = template.copy()
            context: frozenset | None = None
            for i, c, span in holes:
                v = c(env)
                t = type(v)
                if t is str:
                    out[i] = v
                    continue
                if t is Attrs:  # a derivation, made short (else: the general way)
                    p = v.values.get("outPath")
                    if type(p) is CStr and "__toString" not in v.values:
                        v, t = p, CStr
                if t is CStr:
                    out[i] = v
                    ctx = v.context
                else:
                    out[i], ctx = coerce_to_string(ev, v, span, what="string interpolation")
                if ctx:
                    context = ctx if context is None else context | ctx
            if context is None:
                return "".join(out)  # type: ignore[arg-type]
            made = _new_str(CStr, "".join(out))  # type: ignore[arg-type]
            made.context = context  # (``CStr(text, context)`` without its Python frame)
            return made

        return code

    def c_Path(self, node: ast.Path, scope: Scope | None) -> Code:
        text = node.text
        if text.startswith("~"):
            raise SkiffError(
                codes.BAD_PATH,
                f"home-relative path '{text}' is not allowed: evaluation does not read the environment",
                node.span,
                help=["use a path relative to this file, or pass the directory with --arg"],
            )
        if text.startswith("/"):
            value = make_path(text)
        else:
            value = path_relative(self.base_dir, text)
        return lambda env: value

    def c_SearchPath(self, node: ast.SearchPath, scope: Scope | None) -> Code:
        ev = self.ev
        text, span = node.text, node.span
        return lambda env: ev.find_search_path(text, span)

    # -- structures ------------------------------------------------------------------------

    def c_List(self, node: ast.List, scope: Scope | None) -> Code:
        makers = [self.lazy(item, scope) for item in node.items]
        if not makers:
            return lambda env: ()
        return lambda env: tuple([mk(env) for mk in makers])

    def _bindings(self, bindings: tuple[ast.Binding, ...], scope: Scope | None, frame_scope: Scope | None, what: str):
        """Split bindings into static (name, maker, span) evaluated in ``frame_scope`` (inherit in
        ``scope``) and dynamic (key code, maker, span)."""
        static: list[tuple[str, Code, Span]] = []
        dynamic: list[tuple[Code, Span, Code, Span]] = []
        recursive = frame_scope is not scope
        for b in bindings:
            if isinstance(b, ast.Inherit):
                if b.source is None:
                    for name, span in zip(b.names, b.name_spans):
                        kind, where = self._resolve(name, scope)
                        if kind == "undefined":
                            raise self._undefined(name, span, scope)
                        static.append((name, self.lazy(ast.Var(span, name), scope), span))
                else:
                    source_maker = self.lazy(b.source, frame_scope, filling=recursive)
                    for name, span in zip(b.names, b.name_spans):
                        static.append((name, _inherit_from(source_maker, name, span, (f"{what} '{name}'", span)), span))
                continue
            key = _static_key(b.path[0])
            value_node = b.value
            if len(b.path) > 1:  # only dynamic heads reach here un-nested
                value_node = ast.Attrs(b.span, False, (ast.AttrDef(b.path[1:], b.path_spans[1:], b.value, b.span),))
            if key is not None:
                origin = (f"{what} '{key}'", b.path_spans[0])
                static.append((key, self.lazy(value_node, frame_scope, origin, name=key, filling=recursive), b.path_spans[0]))
            else:
                key_code = self.compile(b.path[0], frame_scope)  # type: ignore[arg-type]
                dynamic.append((key_code, b.path_spans[0], self.lazy(value_node, frame_scope, (f"{what} (dynamic)", b.path_spans[0])), b.span))
        return static, dynamic

    def c_Attrs(self, node: ast.Attrs, scope: Scope | None) -> Code:
        if node.rec:
            return self._rec_attrs(node, scope)
        static, dynamic = self._bindings(node.bindings, scope, scope, "attribute")
        spans = {name: span for name, _, span in static}
        names = [name for name, _, _ in static]
        makers = [mk for _, mk, _ in static]
        add_dynamic = self._dynamic_adder(dynamic)
        if not dynamic:
            if not static:
                return lambda env: Attrs({}, spans)
            return attrs_code(names, makers, spans)

        def code(env: Any) -> Any:
            values = dict(zip(names, [mk(env) for mk in makers]))
            own_spans = dict(spans)
            add_dynamic(env, values, own_spans)
            return Attrs(values, own_spans)

        return code

    def _dynamic_adder(self, dynamic: list) -> Callable[[Any, dict, dict], None]:
        def add_dynamic(env: Any, values: dict, spans: dict) -> None:
            for key_code, key_span, mk, span in dynamic:
                key = key_code(env)
                if key is None:
                    continue
                key = expect_plain_string(key, key_span, "an attribute name")
                if key in values:
                    first = spans.get(key)
                    raise SkiffError(
                        codes.DUPLICATE_DYNAMIC,
                        f"dynamic attribute '{key}' already defined",
                        key_span,
                        related=[Note("first defined here", first)] if first else [],
                    )
                values[key] = mk(env)
                spans[key] = key_span

        return add_dynamic

    def _frame(self, bindings: tuple[ast.Binding, ...], scope: Scope | None, what: str):
        """The scope and slot makers of a recursive frame (``rec`` sets and ``let``)."""
        names: dict[str, int] = {}
        for b in bindings:
            if isinstance(b, ast.Inherit):
                for n in b.names:
                    names[n] = len(names) + 1
            else:
                key = _static_key(b.path[0])
                if key is not None:
                    names[key] = len(names) + 1
        frame_scope = Scope(names, scope)
        static, dynamic = self._bindings(bindings, scope, frame_scope, what)
        return frame_scope, static, dynamic

    def _filled(self, static: list, bindings: tuple[ast.Binding, ...]) -> list[tuple[Code, bool]]:
        """Each slot's maker, and whether it runs in the enclosing environment (a plain
        ``inherit``) rather than in the frame itself."""
        outer: set[str] = set()
        for b in bindings:
            if isinstance(b, ast.Inherit) and b.source is None:
                outer.update(b.names)
        return [(mk, name in outer) for name, mk, _ in static]

    def _filler(self, static: list, bindings: tuple[ast.Binding, ...]) -> Callable[[Any], list]:
        """A function making a recursive frame (``let``, ``rec``): each slot's maker runs in the
        frame itself, or for a plain ``inherit`` in the enclosing environment."""
        filled = self._filled(static, bindings)
        size = len(filled)

        def fill(env: Any) -> list:
            frame: list[Any] = [env]
            frame.extend([None] * size)
            i = 1
            for mk, is_outer in filled:
                frame[i] = mk(env) if is_outer else mk(frame)
                i += 1
            return frame

        return fill

    def _rec_attrs(self, node: ast.Attrs, scope: Scope | None) -> Code:
        frame_scope, static, dynamic = self._frame(node.bindings, scope, "attribute")
        fill = self._filler(static, node.bindings)
        spans = {name: span for name, _, span in static}
        names = [name for name, _, _ in static]
        add_dynamic = self._dynamic_adder(dynamic)

        def code(env: Any) -> Any:
            frame = fill(env)
            values = dict(zip(names, frame[1:]))
            if dynamic:
                own = dict(spans)
                add_dynamic(frame, values, own)
                return Attrs(values, own)
            return Attrs(values, spans)

        return code

    def c_Let(self, node: ast.Let, scope: Scope | None) -> Code:
        frame_scope, static, _ = self._frame(node.bindings, scope, "binding")
        body = self.compile(node.body, frame_scope)
        return let_code(self._filled(static, node.bindings), body)

    def c_With(self, node: ast.With, scope: Scope | None) -> Code:
        scope_maker = self.lazy(node.scope, scope)
        body = self.compile(node.body, Scope({}, scope, is_with=True))
        return lambda env: body([env, scope_maker(env)])

    # -- functions -------------------------------------------------------------------------

    def c_Lambda(self, node: ast.Lambda, scope: Scope | None, name: str | None = None) -> Code:
        label = f"function '{name}'" if name else f"anonymous function at {node.head_span}"
        if node.formals is None:
            body_scope = Scope({node.param: 1}, scope)  # type: ignore[dict-item]
            info = LambdaInfo(label, node.head_span, node.param, None, False, self.compile(node.body, body_scope))
        else:
            names = {f.name: i + 1 for i, f in enumerate(node.formals.entries)}
            if node.param is not None:
                names[node.param] = len(names) + 1
            body_scope = Scope(names, scope)
            formals = []
            for f in node.formals.entries:
                default = (
                    self.lazy(f.default, body_scope, (f"default of argument '{f.name}'", f.span), filling=True)
                    if f.default is not None
                    else None
                )
                formals.append((f.name, default, f.span))
            info = LambdaInfo(label, node.head_span, node.param, formals, node.formals.ellipsis, self.compile(node.body, body_scope))
        return lambda env: Closure(info, env)

    def c_Apply(self, node: ast.Apply, scope: Scope | None) -> Code:
        arg = self.lazy(node.arg, scope)
        span = node.span
        ev = self.ev
        if isinstance(node.fn, ast.Var):
            kind, where = self._resolve(node.fn.name, scope)
            if kind == "global" and type(where) is PrimOp and where.arity == 1:
                return _apply_primop(ev, where, arg, span)
        fn = self.compile(node.fn, scope)

        def code(env: Any) -> Any:
            f = fn(env)
            try:
                if type(f) is Closure and f.lam.formals is None:  # ``call``, one step shorter
                    result = f.lam.body([f.env, arg(env)])
                else:
                    result = call(ev, f, arg(env), span)
                return result.force() if type(result) is Thunk else result
            except SkiffError as exc:
                if type(f) is Closure:
                    exc.notes.append(Note(f"while calling {f.lam.name}", span))
                raise
            except RecursionError:
                raise SkiffError(
                    codes.TOO_DEEP,
                    "evaluation nested too deeply (stack overflow)",
                    span,
                    help=["this is usually a function that calls itself without end; the notes show where"],
                ) from None

        return code

    # -- selection -------------------------------------------------------------------------

    def _attr_path(self, path: tuple[ast.AttrName, ...], scope: Scope | None) -> list:
        out: list = []
        for name in path:
            if isinstance(name, str):
                out.append(name)
            else:
                out.append(self.compile(name, scope))
        return out

    def c_Select(self, node: ast.Select, scope: Scope | None) -> Code:
        base = self.compile(node.expr, scope)
        path = self._attr_path(node.path, scope)
        spans = node.path_spans
        default = self.compile(node.default, scope) if node.default is not None else None
        if default is None and len(path) == 1 and isinstance(path[0], str):
            name, nspan = path[0], spans[0]
            if isinstance(node.expr, ast.Var):
                kind, where = self._resolve(node.expr.name, scope)
                if kind == "local" and where[0] <= 2:
                    return _select_local(where[0], where[1], name, nspan)

            def select_one(env: Any) -> Any:
                v = base(env)
                if type(v) is not Attrs:
                    raise type_error("an attribute set", v, nspan, f"selecting attribute '{name}'")
                x = v.values.get(name, _MISSING)
                if x is _MISSING:
                    raise missing_attribute(v, name, nspan)
                return x.force() if type(x) is Thunk else x

            return select_one

        def select_path(env: Any) -> Any:
            v = base(env)
            for name, nspan in zip(path, spans):
                if type(name) is not str:
                    name = expect_plain_string(name(env), nspan, "an attribute name")
                if type(v) is not Attrs:
                    if default is not None:
                        return default(env)
                    raise type_error("an attribute set", v, nspan, f"selecting attribute '{name}'")
                x = v.values.get(name, _MISSING)
                if x is _MISSING:
                    if default is not None:
                        return default(env)
                    raise missing_attribute(v, name, nspan)
                v = x.force() if type(x) is Thunk else x
            return v

        return select_path

    def c_HasAttr(self, node: ast.HasAttr, scope: Scope | None) -> Code:
        base = self.compile(node.expr, scope)
        path = self._attr_path(node.path, scope)
        span = node.span

        def code(env: Any) -> Any:
            v = base(env)
            for name in path:
                if type(name) is not str:
                    name = expect_plain_string(name(env), span, "an attribute name")
                if type(v) is not Attrs:
                    return False
                x = v.values.get(name, _MISSING)
                if x is _MISSING:
                    return False
                v = x.force() if type(x) is Thunk else x
            return True

        return code

    # -- control ---------------------------------------------------------------------------

    def c_If(self, node: ast.If, scope: Scope | None) -> Code:
        cond, then, else_ = self.compile(node.cond, scope), self.compile(node.then, scope), self.compile(node.else_, scope)
        span = node.cond.span

        def code(env: Any) -> Any:
            c = cond(env)
            if c is True:
                return then(env)
            if c is False:
                return else_(env)
            raise type_error("a boolean", c, span, "the condition of 'if'")

        return code

    def c_Assert(self, node: ast.Assert, scope: Scope | None) -> Code:
        cond, body = self.compile(node.cond, scope), self.compile(node.body, scope)
        span = node.cond.span
        text = _source_text(span)

        def code(env: Any) -> Any:
            c = cond(env)
            if c is True:
                return body(env)
            if c is False:
                raise SkiffError(codes.ASSERTION, f"assertion '{text}' failed", span)
            raise type_error("a boolean", c, span, "the condition of 'assert'")

        return code

    def c_Not(self, node: ast.Not, scope: Scope | None) -> Code:
        inner = self.compile(node.expr, scope)
        span = node.expr.span

        def code(env: Any) -> Any:
            v = inner(env)
            if type(v) is not bool:
                raise type_error("a boolean", v, span, "the operand of '!'")
            return not v

        return code

    def c_Negate(self, node: ast.Negate, scope: Scope | None) -> Code:
        inner = self.compile(node.expr, scope)
        span = node.span

        def code(env: Any) -> Any:
            v = inner(env)
            if type(v) is not int:
                raise type_error("an integer", v, node.expr.span, "the operand of '-'")
            return check_int(-v, span)

        return code

    def c_BinOp(self, node: ast.BinOp, scope: Scope | None) -> Code:
        left, right = self.compile(node.left, scope), self.compile(node.right, scope)
        return _BINOPS[node.op](self.ev, left, right, node)


# ---------------------------------------------------------------------------------------------
# helpers


def _source_text(span: Span) -> str:
    if span.source is None or span.line != span.end_line:
        return "..."
    text = span.source.line_text(span.line)[span.col - 1 : span.end_col]
    return text if len(text) <= 60 else text[:57] + "..."


def _slot_getter(depth: int, index: int) -> Code:
    if depth == 0:
        return lambda env: env[index]
    if depth == 1:
        return lambda env: env[0][index]
    if depth == 2:
        return lambda env: env[0][0][index]

    def get(env: Any) -> Any:
        for _ in range(depth):
            env = env[0]
        return env[index]

    return get


def _slot_forcer(depth: int, index: int) -> Code:
    if depth == 0:
        def get0(env: Any) -> Any:
            v = env[index]
            return v.force() if type(v) is Thunk else v
        return get0
    if depth == 1:
        def get1(env: Any) -> Any:
            v = env[0][index]
            return v.force() if type(v) is Thunk else v
        return get1
    if depth == 2:
        def get2(env: Any) -> Any:
            v = env[0][0][index]
            return v.force() if type(v) is Thunk else v
        return get2

    def get(env: Any) -> Any:
        for _ in range(depth):
            env = env[0]
        v = env[index]
        return v.force() if type(v) is Thunk else v

    return get


def _select_local(depth: int, index: int, name: str, nspan: Span) -> Code:
    """``x.name`` for a variable ``x`` of one of the three innermost scopes (the usual case):
    the slot is read in place rather than through the variable's code (one call less).

    The three bodies differ only in how far up the frame chain they reach; they are written out
    (like ``_slot_forcer``'s) because a shared helper would put back the call this saves."""

    def select0(env: Any) -> Any:
        v = env[index]
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not Attrs:
            raise type_error("an attribute set", v, nspan, f"selecting attribute '{name}'")
        x = v.values.get(name, _MISSING)
        if x is _MISSING:
            raise missing_attribute(v, name, nspan)
        return x.force() if type(x) is Thunk else x

    def select1(env: Any) -> Any:
        v = env[0][index]
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not Attrs:
            raise type_error("an attribute set", v, nspan, f"selecting attribute '{name}'")
        x = v.values.get(name, _MISSING)
        if x is _MISSING:
            raise missing_attribute(v, name, nspan)
        return x.force() if type(x) is Thunk else x

    def select2(env: Any) -> Any:
        v = env[0][0][index]
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not Attrs:
            raise type_error("an attribute set", v, nspan, f"selecting attribute '{name}'")
        x = v.values.get(name, _MISSING)
        if x is _MISSING:
            raise missing_attribute(v, name, nspan)
        return x.force() if type(x) is Thunk else x

    return (select0, select1, select2)[depth]


def _eager_select(depth: int, index: int, name: str, code: Code, origin: Any) -> Code:
    """The maker of ``x.name`` (``x`` a variable of one of the three innermost scopes) as a
    lazy value: when ``x`` is already an attribute set that has ``name``, the selection cannot
    fail or loop, and its value is the attribute's own (a thunk stays a thunk, shared: a
    selection is that value, as in Nix).  Otherwise a thunk of ``code``, as any expression.

    Why: ``{ b = acc.a; c = acc.b; }`` over an accumulator forced by ``foldl'`` is the shape
    of layered configurations; a thunk each, forced later, was two objects and a call."""

    def select(env: Any) -> Any:
        v = env[index] if depth == 0 else env[0][index] if depth == 1 else env[0][0][index]
        if type(v) is Thunk and v.code is None:
            v = v.value
        if type(v) is Attrs:
            x = v.values.get(name, _MISSING)
            if x is not _MISSING:
                return x
        return Thunk(code, env, origin)

    return select


def _apply_primop(ev: Evaluator, op: PrimOp, arg: Code, span: Span) -> Code:
    """``op arg`` for a builtin of one argument named directly (``toString x``, ``derivation
    { ... }``): ``call`` without looking the function up or dispatching on its type."""

    impl, strict = op.impl, op.strict[0]

    def code(env: Any) -> Any:
        try:
            a = arg(env)
            if strict and type(a) is Thunk:
                a = a.force()
            try:
                result = impl(ev, span, a)  # ``run_primop``, in line
            except SkiffError as exc:
                note_builtin(exc, op, span)
                raise
            return result.force() if type(result) is Thunk else result
        except RecursionError:
            raise SkiffError(
                codes.TOO_DEEP,
                "evaluation nested too deeply (stack overflow)",
                span,
                help=["this is usually a function that calls itself without end; the notes show where"],
            ) from None

    return code


def _inherit_from(source_maker: Code, name: str, span: Span, origin: tuple[str, Span]) -> Code:
    def select(env: Any) -> Any:
        v = source_maker(env)
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not Attrs:
            raise type_error("an attribute set", v, span, f"inheriting '{name}'")
        x = v.values.get(name, _MISSING)
        if x is _MISSING:
            raise missing_attribute(v, name, span)
        return x.force() if type(x) is Thunk else x

    return lambda env: Thunk(select, env, origin)


def _arith(op: str):
    def build(ev: Evaluator, left: Code, right: Code, node: ast.BinOp) -> Code:
        span = node.span
        lspan, rspan = node.left.span, node.right.span

        if op == "+":
            def plus(env: Any) -> Any:
                a, b = left(env), right(env)
                if type(a) is int and type(b) is int:
                    r = a + b
                    if -9223372036854775808 <= r <= 9223372036854775807:
                        return r
                    return check_int(r, span)
                if type(a) is str and type(b) is str:
                    return a + b
                return add(ev, a, b, span)
            return plus

        def arith(env: Any) -> Any:
            a, b = left(env), right(env)
            if type(a) is not int:
                raise type_error("an integer", a, lspan, f"the left side of '{op}'")
            if type(b) is not int:
                raise type_error("an integer", b, rspan, f"the right side of '{op}'")
            if op == "-":
                return check_int(a - b, span)
            if op == "*":
                return check_int(a * b, span)
            return divide(a, b, span)

        return arith

    return build


def _logic(op: str):
    def build(ev: Evaluator, left: Code, right: Code, node: ast.BinOp) -> Code:
        lspan, rspan = node.left.span, node.right.span

        def check(v: Any, span: Span, side: str) -> bool:
            if type(v) is not bool:
                raise type_error("a boolean", v, span, f"the {side} side of '{op}'")
            return v

        if op == "&&":
            return lambda env: check(left(env), lspan, "left") and check(right(env), rspan, "right")
        if op == "||":
            return lambda env: check(left(env), lspan, "left") or check(right(env), rspan, "right")
        return lambda env: (not check(left(env), lspan, "left")) or check(right(env), rspan, "right")

    return build


def _compare(op: str):
    def build(ev: Evaluator, left: Code, right: Code, node: ast.BinOp) -> Code:
        span = node.span
        if op == "==":
            return lambda env: equal(ev, left(env), right(env), span)
        if op == "!=":
            return lambda env: not equal(ev, left(env), right(env), span)
        if op == "<":
            return lambda env: less_than(ev, left(env), right(env), span)
        if op == ">":
            return lambda env: _gt(ev, left(env), right(env), span)
        if op == "<=":
            return lambda env: not _gt(ev, left(env), right(env), span)
        return lambda env: not less_than(ev, left(env), right(env), span)

    return build


def _gt(ev: Evaluator, a: Any, b: Any, span: Span) -> bool:
    return less_than(ev, b, a, span)


def _update(ev: Evaluator, left: Code, right: Code, node: ast.BinOp) -> Code:
    lspan, rspan = node.left.span, node.right.span

    def code(env: Any) -> Any:
        a, b = left(env), right(env)
        if type(a) is not Attrs:
            raise type_error("an attribute set", a, lspan, "the left side of '//'")
        if type(b) is not Attrs:
            raise type_error("an attribute set", b, rspan, "the right side of '//'")
        if not b.values:
            return a
        if not a.values:
            return b
        values = dict(a.values)
        values.update(b.values)
        spans = dict(a.spans)
        spans.update(b.spans)
        return Attrs(values, spans)

    return code


def _concat(ev: Evaluator, left: Code, right: Code, node: ast.BinOp) -> Code:
    lspan, rspan = node.left.span, node.right.span

    def code(env: Any) -> Any:
        a, b = left(env), right(env)
        if type(a) is not tuple:
            raise type_error("a list", a, lspan, "the left side of '++'")
        if type(b) is not tuple:
            raise type_error("a list", b, rspan, "the right side of '++'")
        return a + b

    return code


_BINOPS: dict[str, Callable[..., Code]] = {
    "+": _arith("+"), "-": _arith("-"), "*": _arith("*"), "/": _arith("/"),
    "&&": _logic("&&"), "||": _logic("||"), "->": _logic("->"),
    "==": _compare("=="), "!=": _compare("!="), "<": _compare("<"), ">": _compare(">"),
    "<=": _compare("<="), ">=": _compare(">="),
    "//": _update, "++": _concat,
}
