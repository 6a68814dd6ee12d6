"""The session: the one place where the evaluator meets derivations, the store and builders.

``core.Session`` is the facade the CLI calls (one call per command).  The other modules are the
glue it is made of: ``refs`` (string-context elements and placeholders), ``storeio`` (the
evaluator's I/O backed by the store, logging every input), ``drvs`` (the ``derivation``
builtin), ``layers``/``system``/``skiffos`` (the domain builtins), ``targets`` and ``listing``
(what commands name), ``evalcache`` (answering an unchanged command without evaluating),
``queries`` (trees, graphs, why-depends; records in ``querytypes``, codes in ``querycodes``,
path-info in ``pathinfo``) over ``drvindex`` (derivation records as queries read them, and the
query index a build fills) and ``querycache`` (the answers of recent queries, in that index).
Nothing outside this package joins the evaluator with the store.

The names below are imported on first use, so ``options`` and ``evalcache`` stay cheap to load.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Session", "SessionOptions", "ArgValue", "BuildRequest", "BuildOutcome", "default_layers_dir",
    "resolved_report", "skiffos_value",
]

_FROM_OPTIONS = {"SessionOptions", "ArgValue", "BuildRequest"}


def __getattr__(name: str) -> Any:
    if name in _FROM_OPTIONS:
        from skiffeval.session import options

        return getattr(options, name)
    if name in __all__:
        from skiffeval.session import core

        return getattr(core, name)
    raise AttributeError(f"module 'skiffeval.session' has no attribute {name!r}")
