"""The builtins of the language, grouped by topic; ``load_core`` imports them all.

``registry`` defines how a builtin declares its parameters; ``core``, ``lists``, ``attrsets``,
``strings`` and ``json`` register the general ones (Nix's set, minus impure and float ones).
Domain builtins (``derivation``, ``layer`` ...) are registered by the host, not here.
"""

from __future__ import annotations

from skiffeval.eval.builtins.registry import CORE, Registry


def load_core() -> Registry:
    """The registry of core builtins, with every topic module imported."""
    from skiffeval.eval.builtins import attrsets, core, json, lists, strings  # noqa: F401

    return CORE
