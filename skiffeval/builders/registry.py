"""The registry of in-process builders: ``builtin:<name>`` -> a Python function of a BuildContext.

A builtin builder is a pure function of its ``BuildContext``: it reads the resolved env/args
and input paths and writes its outputs (``ctx.outputs``), optionally logging to ``ctx.log``.
It must not read the clock, the network or anything outside its inputs, and raises
``SkiffError`` (or any exception) to fail the build.  Later issues register more
(``@register_builder("kconfig-merge")``).

A builder's module is imported when a derivation first needs the builder (``MODULES``): a
configuration does not pay for the Buildroot image builder or the fetchers (~0.1 s of
imports).  ``tests/store`` checks that ``MODULES`` names exactly what each module registers.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import TypeVar

from skiffeval.diagnostics import InternalError, SkiffError, did_you_mean_help
from skiffeval.store.build import BuildContext
from skiffeval.store.codes import UNKNOWN_BUILDER

__all__ = ["Builtin", "register_builder", "get_builder", "builder_names"]

Builtin = Callable[[BuildContext], None]
F = TypeVar("F", bound=Builtin)

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_REGISTRY: dict[str, Builtin] = {}

_LAYERS = "skiffeval.builders.layers"
_IMAGE = "skiffeval.builders.buildroot_image"
# builtin name -> the module that registers it
MODULES: dict[str, str] = {
    "write-text": "skiffeval.builders.basic", "copy": "skiffeval.builders.basic",
    "symlink-join": "skiffeval.builders.basic",
    "config-merge": _LAYERS, "fragment-merge": _LAYERS, "overlay-merge": _LAYERS, "patch-dirs": _LAYERS,
    "br2-external": _LAYERS, "hook-wrappers": _LAYERS, "concat": _LAYERS, "files": _LAYERS, "bundle": _LAYERS,
    "kconfig-resolve": "skiffeval.builders.resolve",
    "buildroot": _IMAGE, "buildroot-show-info": _IMAGE,
    "fetchurl": "skiffeval.builders.fetch", "fetchgit": "skiffeval.builders.fetch",
}


def register_builder(name: str) -> Callable[[F], F]:
    """Register the decorated function as ``builtin:<name>``."""
    if _NAME_RE.fullmatch(name) is None:
        raise InternalError(f"invalid builtin builder name {name!r}")

    def deco(fn: F) -> F:
        prev = _REGISTRY.get(name)
        if prev is not None and prev is not fn and getattr(prev, "__qualname__", None) != fn.__qualname__:
            raise InternalError(f"builtin builder '{name}' registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def get_builder(name: str) -> Builtin:
    """The builder registered as ``builtin:<name>`` (E119 with "did you mean" otherwise)."""
    fn = _REGISTRY.get(name)
    if fn is None and name in MODULES:
        importlib.import_module(MODULES[name])
        fn = _REGISTRY.get(name)
    if fn is None:
        raise SkiffError(UNKNOWN_BUILDER, f"unknown builtin builder 'builtin:{name}'",
                         help=did_you_mean_help(name, builder_names()) or [f"known: {', '.join(builder_names())}"])
    return fn


def builder_names() -> list[str]:
    """Every builtin builder's name (every builder module imported)."""
    for module in sorted(set(MODULES.values())):
        importlib.import_module(module)
    return sorted(_REGISTRY)
