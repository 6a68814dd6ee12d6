"""Builders: the ``builtin:<name>`` registry, the basic builtins and the external runner.

``DefaultRunner`` is the ``BuildRunner`` the session passes to ``skiffeval.store.realize``: it
runs ``builtin:<name>`` builders in-process and every other builder as an external program
(sandboxed with bubblewrap where it can run).  ``realize(store, targets, ...)`` is
``skiffeval.store.realize.realize`` with that runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from skiffeval.builders import basic as _basic  # noqa: F401  (registers the basic builtins)
from skiffeval.builders.external import run_external, sandbox_available
from skiffeval.builders.registry import Builtin, builder_names, get_builder, register_builder
from skiffeval.derivation import Derivation
from skiffeval.store.build import BuildContext
from skiffeval.store.local import LocalStore
from skiffeval.store.realize import RealizeEvent, RealizePlan, RealizeResult
from skiffeval.store.realize import realize as _realize

__all__ = [
    "Builtin",
    "register_builder",
    "get_builder",
    "builder_names",
    "DefaultRunner",
    "run_external",
    "sandbox_available",
    "realize",
]


class DefaultRunner:
    """Dispatches ``builtin:<name>`` to the registry and anything else to ``run_external``.

    ``sandbox``: None = bubblewrap when available, True = require it, False = never.
    """

    def __init__(self, sandbox: bool | None = None) -> None:
        self.sandbox = sandbox

    def __call__(self, ctx: BuildContext) -> None:
        name = ctx.builtin_name
        if name is not None:
            get_builder(name)(ctx)
        else:
            run_external(ctx, sandbox=self.sandbox)


def realize(
    store: LocalStore,
    targets: Iterable[Derivation],
    *,
    graph: Mapping[str, Derivation] | Iterable[Derivation] | None = None,
    jobs: int = 1,
    keep_going: bool = False,
    dry_run: bool = False,
    on_event: Callable[[RealizeEvent], None] | None = None,
    sandbox: bool | None = None,
    runner: Callable[[BuildContext], None] | None = None,
) -> RealizeResult | RealizePlan:
    """``skiffeval.store.realize.realize`` with the default runner (or ``runner``)."""
    return _realize(store, targets, runner or DefaultRunner(sandbox), graph=graph, jobs=jobs,
                    keep_going=keep_going, dry_run=dry_run, on_event=on_event)
