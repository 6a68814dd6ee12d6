"""Runtime values of the .sk language.

The representation is chosen for speed in CPython and stated here once:

==============  ====================================================================
.sk type        Python representation
==============  ====================================================================
null            ``None``
bool            ``True`` / ``False`` (tested with ``type(v) is bool`` before int)
int             ``int`` (64-bit range enforced by arithmetic)
string          ``str`` without context, ``CStr`` (a ``str`` subclass) with context
path            ``PathValue`` (an absolute, normalized POSIX path)
list            ``tuple`` of elements (values or thunks)
attribute set   ``Attrs`` (a dict of name -> value or thunk, plus definition spans)
function        ``Closure`` (a lambda and its environment) or ``PrimOp``/``PrimOpApp``
==============  ====================================================================

A ``Thunk`` is a suspended computation ``code(env)``; ``force`` evaluates it once and caches the
result.  While a thunk is being evaluated it is a *black hole*: forcing it again is infinite
recursion, reported with the name and span of the binding whose value needs itself.  A thunk
whose evaluation fails is restored, so ``tryEval`` and later attempts see the same error again.

String *context* is a frozenset of opaque, hashable elements supplied by the host (derivation
outputs, store sources); the evaluator only unions and carries them.
"""

from __future__ import annotations

from typing import Any, Callable

from skiffeval.diagnostics import Note, SkiffError, Span

__all__ = [
    "Thunk", "force", "CStr", "make_string", "context_of", "PathValue", "Attrs", "Closure",
    "PrimOp", "PrimOpApp", "type_name", "EMPTY_ATTRS", "BLACKHOLE",
]


def _blackhole(env: Any) -> Any:  # pragma: no cover - never called, a sentinel
    raise AssertionError("black hole evaluated")


BLACKHOLE = _blackhole


class Thunk:
    """A suspended computation: ``code(env)`` evaluated at most once.

    ``origin`` is ``(description, span)`` of the binding this thunk is the value of (or None);
    it names the culprit when the thunk turns out to need itself.
    """

    __slots__ = ("code", "env", "value", "origin")

    def __init__(self, code: Callable[[Any], Any], env: Any, origin: tuple[str, Span] | None = None) -> None:
        self.code = code
        self.env = env
        self.origin = origin

    def force(self) -> Any:
        code = self.code
        if code is None:
            return self.value
        if code is BLACKHOLE:
            from skiffeval.eval.errors import infinite_recursion

            raise infinite_recursion(self.origin)
        self.code = BLACKHOLE
        try:
            value = code(self.env)
        except SkiffError as exc:
            self.code = code
            if self.origin is not None:
                exc.notes.append(Note(f"while evaluating {self.origin[0]}", self.origin[1]))
            raise
        except BaseException:
            self.code = code
            raise
        self.code = None
        self.env = None
        self.value = value
        return value

    @classmethod
    def of(cls, value: Any) -> Thunk:
        """An already evaluated thunk (rarely needed: values are stored unwrapped)."""
        t = cls(BLACKHOLE, None)
        t.code = None
        t.value = value
        return t

    @property
    def forced(self) -> bool:
        return self.code is None


def force(value: Any) -> Any:
    """The weak head normal form of ``value`` (forcing it if it is a thunk)."""
    if type(value) is Thunk:
        return value.force()
    return value


class CStr(str):
    """A string with a non-empty context (the derivation outputs and sources it mentions)."""

    context: frozenset

    def __new__(cls, text: str, context: frozenset) -> CStr:
        self = str.__new__(cls, text)
        self.context = context
        return self

    def __reduce__(self):  # pragma: no cover - pickling support for completeness
        return (CStr, (str(self), self.context))


def make_string(text: str, context: frozenset | None) -> str:
    """A string value: plain ``str`` when the context is empty, ``CStr`` otherwise."""
    if context:
        return CStr(text, context)
    return text


def context_of(value: str) -> frozenset:
    """The context of a string value (empty for a plain ``str``)."""
    return value.context if type(value) is CStr else frozenset()


class PathValue:
    """A path value: an absolute, normalized POSIX path on the evaluating machine."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PathValue) and other.path == self.path

    def __hash__(self) -> int:
        return hash(("path", self.path))

    def __repr__(self) -> str:
        return f"PathValue({self.path!r})"

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]


class Attrs:
    """An attribute set: ``values`` maps names to values or thunks; ``spans`` maps names to where
    they were defined (shared between instances of one literal; may lack entries for names
    made by builtins)."""

    __slots__ = ("values", "spans")

    def __init__(self, values: dict[str, Any], spans: dict[str, Span] | None = None) -> None:
        self.values = values
        self.spans = spans if spans is not None else {}

    def get(self, name: str, default: Any = None) -> Any:
        v = self.values.get(name, _MISSING)
        if v is _MISSING:
            return default
        return force(v)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __len__(self) -> int:
        return len(self.values)

    def names(self) -> list[str]:
        """Attribute names sorted by code point (the order Nix prints and lists them)."""
        return sorted(self.values)

    def span_of(self, name: str) -> Span | None:
        return self.spans.get(name)

    def __repr__(self) -> str:
        return f"Attrs({self.names()!r})"


_MISSING = object()
EMPTY_ATTRS = Attrs({})


class Closure:
    """A user-defined function: the compiled lambda and the environment it closes over."""

    __slots__ = ("lam", "env")

    def __init__(self, lam: Any, env: Any) -> None:
        self.lam = lam
        self.env = env

    @property
    def name(self) -> str:
        return self.lam.name


class PrimOp:
    """A builtin function of ``arity`` arguments, implemented by ``impl(ev, span, *args)``.

    ``strict`` lists, per argument, whether it is forced before ``impl`` is called.
    """

    __slots__ = ("name", "arity", "impl", "strict", "doc", "params")

    def __init__(self, name: str, arity: int, impl: Callable[..., Any], strict: tuple[bool, ...], doc: str, params: tuple[str, ...]) -> None:
        self.name = name
        self.arity = arity
        self.impl = impl
        self.strict = strict
        self.doc = doc
        self.params = params


class PrimOpApp:
    """A builtin applied to fewer arguments than its arity."""

    __slots__ = ("primop", "args")

    def __init__(self, primop: PrimOp, args: tuple[Any, ...]) -> None:
        self.primop = primop
        self.args = args


def type_name(value: Any) -> str:
    """The name ``builtins.typeOf`` gives (``int``, ``bool``, ``string``, ``set``, ``lambda`` ...)."""
    t = type(value)
    if t is Thunk:
        value = value.force()
        t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is str or t is CStr:
        return "string"
    if t is PathValue:
        return "path"
    if t is tuple:
        return "list"
    if t is Attrs:
        return "set"
    if t is Closure or t is PrimOp or t is PrimOpApp:
        return "lambda"
    raise AssertionError(f"not a value: {t.__name__}")


_ARTICLES = {
    "null": "null", "bool": "a boolean", "int": "an integer", "string": "a string", "path": "a path",
    "list": "a list", "set": "an attribute set", "lambda": "a function",
}


def describe(value: Any) -> str:
    """A value's type in words for messages: 'an integer', 'a list', 'the boolean true' ..."""
    value = force(value)
    if value is True:
        return "the boolean 'true'"
    if value is False:
        return "the boolean 'false'"
    return _ARTICLES[type_name(value)]
