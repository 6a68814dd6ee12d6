"""Generated code for the two node shapes every program is made of: set literals and ``let``.

The compiler turns each node into a Python closure, and a set literal or a ``let`` frame into a
loop over the *makers* of its bindings (one call each).  For these two shapes it pays to go one
step further: the compiler tags the makers it can describe (``const``, ``slot``, ``thunk``),
and this module writes one Python function per literal whose body does the makers' work in
line, e.g. for ``{ a = d; b = acc.a; }`` (``d`` a slot of the enclosing frame)::

    def attrs(env):
        t1 = new(Thunk); t1.code = c1; t1.env = env; t1.origin = o1
        a = new(Attrs); a.values = {n0: env[2], n1: t1}; a.spans = spans
        return a

That is what the closures did, without a call per binding (and per thunk): a fifth of the
evaluation time of ``benchmarks/eval_chain.py`` went to those calls.  Only names the compiler
chose are spliced into the source (``n0``, ``c1`` ...); every value, name and code object is
passed in the function's namespace, never as text.

Why not generate code for everything: most nodes are already one closure doing one thing, and
generated code is harder to read in a traceback; these two shapes are where the calls were.
"""

from __future__ import annotations

from typing import Any, Callable

from skiffeval.eval.values import Attrs, Thunk

__all__ = ["const_maker", "slot_maker", "thunk_maker", "attrs_code", "let_code"]

Code = Callable[[Any], Any]


def const_maker(value: Any) -> Code:
    """The maker of a constant (a number, a plain string, a builtin)."""
    mk = lambda env: value  # noqa: E731
    mk.inline = ("const", value)  # type: ignore[attr-defined]
    return mk


def slot_maker(depth: int, index: int, getter: Code) -> Code:
    """``getter`` (reading slot ``index`` of the frame ``depth`` scopes out), described."""
    getter.inline = ("slot", depth, index)  # type: ignore[attr-defined]
    return getter


def thunk_maker(code: Code, origin: Any) -> Code:
    """The maker of a thunk of ``code`` in the environment it is given."""
    mk = lambda env: Thunk(code, env, origin)  # noqa: E731
    mk.inline = ("thunk", code, origin)  # type: ignore[attr-defined]
    return mk


def _value_of(mk: Code, i: int, env: str, ns: dict[str, Any], lines: list[str]) -> str:
    """The expression for maker ``mk``'s value in environment ``env``; statements it needs are
    appended to ``lines`` and the objects it uses put in ``ns``."""
    how = getattr(mk, "inline", None)
    if how is None:
        ns[f"m{i}"] = mk
        return f"m{i}({env})"
    if how[0] == "const":
        ns[f"k{i}"] = how[1]
        return f"k{i}"
    if how[0] == "slot":
        return env + "[0]" * how[1] + f"[{how[2]}]"
    ns[f"c{i}"], ns[f"o{i}"] = how[1], how[2]
    lines.append(f"    t{i} = new(Thunk); t{i}.code = c{i}; t{i}.env = {env}; t{i}.origin = o{i}")
    return f"t{i}"


def _define(name: str, lines: list[str], ns: dict[str, Any]) -> Code:
    ns.update(new=object.__new__, Thunk=Thunk, Attrs=Attrs)
    exec(compile("\n".join(lines) + "\n", f"<skiffeval generated {name}>", "exec"), ns)  # noqa: S102
    return ns[name]


def attrs_code(names: list[str], makers: list[Code], spans: dict[str, Any]) -> Code:
    """``lambda env: Attrs(dict(zip(names, [mk(env) for mk in makers])), spans)``, in line."""
    ns: dict[str, Any] = {"spans": spans}
    lines = ["def attrs(env):"]
    items = []
    for i, (name, mk) in enumerate(zip(names, makers)):
        ns[f"n{i}"] = name
        items.append(f"n{i}: {_value_of(mk, i, 'env', ns, lines)}")
    lines.append(f"    a = new(Attrs); a.values = {{{', '.join(items)}}}; a.spans = spans")
    lines.append("    return a")
    return _define("attrs", lines, ns)


def let_code(filled: list[tuple[Code, bool]], body: Code) -> Code:
    """``lambda env: body(fill(env))`` for a ``let`` whose frame ``fill`` makes from ``filled``
    (each maker runs in the new frame, or in ``env`` when it is a plain ``inherit``), in line."""
    ns: dict[str, Any] = {"body": body}
    lines = ["def let(env):", f"    frame = [env{', None' * len(filled)}]"]
    for i, (mk, is_outer) in enumerate(filled, start=1):
        value = _value_of(mk, i, "env" if is_outer else "frame", ns, lines)
        lines.append(f"    frame[{i}] = {value}")
    lines.append("    return body(frame)")
    return _define("let", lines, ns)
