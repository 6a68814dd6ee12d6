"""How builtins declare themselves: a name, named parameters and which of them stay lazy.

A builtin is a Python function ``impl(ev, span, *args)`` registered with ``@builtin``; its
parameters are forced before the call unless listed in ``lazy``, so every builtin reports its
argument errors the same way (``expected a list, found an integer for the second argument of
'map'`` via ``arg_name``).  The host (the session) registers more builtins (``derivation``,
``layer``, ``system`` ...) into its own ``Registry`` and hands it to the ``Evaluator``: the
evaluator never imports them.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

__all__ = ["BuiltinSpec", "Registry", "CORE", "builtin", "arg_name"]

_ORDINALS = ("first", "second", "third", "fourth", "fifth")


@attrs.frozen
class BuiltinSpec:
    """One builtin: ``params`` names its arguments; ``lazy`` lists those passed unforced;
    ``is_global`` also binds it at top level (as Nix does for ``map``, ``toString`` ...);
    ``value`` is set for constants (``true``, ``null`` ...), which have no parameters."""

    name: str
    params: tuple[str, ...]
    impl: Callable[..., Any] | None
    lazy: frozenset[str] = frozenset()
    is_global: bool = False
    doc: str = ""
    value: Any = None


class Registry:
    """An ordered collection of builtin specs."""

    def __init__(self) -> None:
        self.specs: dict[str, BuiltinSpec] = {}

    def add(self, spec: BuiltinSpec) -> None:
        if spec.name in self.specs:
            raise ValueError(f"builtin {spec.name!r} registered twice")
        self.specs[spec.name] = spec

    def constant(self, name: str, value: Any, *, is_global: bool = False, doc: str = "") -> None:
        self.add(BuiltinSpec(name, (), None, frozenset(), is_global, doc, value))

    def __iter__(self):
        return iter(self.specs.values())


CORE = Registry()


def builtin(
    name: str,
    *params: str,
    lazy: tuple[str, ...] = (),
    is_global: bool = False,
    registry: Registry = CORE,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``impl(ev, span, *args)`` as builtin ``name`` with the given parameter names."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        registry.add(BuiltinSpec(name, tuple(params), impl, frozenset(lazy), is_global, (impl.__doc__ or "").strip()))
        return impl

    return register


def arg_name(builtin_name: str, index: int, count: int) -> str:
    """``the second argument of 'map'`` (or ``the argument of 'head'``)."""
    if count == 1:
        return f"the argument of '{builtin_name}'"
    return f"the {_ORDINALS[index]} argument of '{builtin_name}'"
