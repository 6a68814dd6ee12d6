"""The session: the one place where the evaluator meets derivations, the store and builders.

``core.Session`` is the facade the CLI calls (one call per command).  The other modules are the
glue it is made of: ``refs`` (string-context elements and placeholders), ``storeio`` (the
evaluator's I/O backed by the store), ``drvs`` (the ``derivation`` builtin), and the domain
builtins for layers and systems.  Nothing outside this package joins the evaluator with the
store.
"""

from skiffeval.session.core import (
    ArgValue,
    BuildOutcome,
    BuildRequest,
    Session,
    SessionOptions,
    default_layers_dir,
    resolved_report,
    skiffos_value,
)

__all__ = ["Session", "SessionOptions", "ArgValue", "BuildRequest", "BuildOutcome", "default_layers_dir", "resolved_report", "skiffos_value"]
