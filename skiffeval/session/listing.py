"""Listing layers: those a board reaches (in the order they apply) or those found under a
directory, with their descriptions — what SkiffOS's ``make`` prints as its package list."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import attrs

from skiffeval.diagnostics import SkiffError
from skiffeval.eval.evaluator import run_deep
from skiffeval.eval.values import Attrs, Closure, force
from skiffeval.session.layers import as_layer

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.session.core import Session

__all__ = ["LayerEntry", "SystemEntry", "Listing", "list_layers"]


@attrs.frozen
class LayerEntry:
    name: str
    description: str
    unlisted: bool
    file: str
    depends: tuple[str, ...]


@attrs.frozen
class SystemEntry:
    name: str
    file: str
    layers: tuple[str, ...]


@attrs.frozen
class Listing:
    layers: tuple[LayerEntry, ...]
    systems: tuple[SystemEntry, ...]
    errors: tuple[SkiffError, ...]


def _entry(session: Session, value: Any, file: str) -> LayerEntry:
    """A listing line: the layer's name, description and the file that defines it."""
    validated = session._system_host.validated
    layer = as_layer(value, None, validated)
    deps = tuple(as_layer(d, None, validated).name for d, _ in layer.items("depends"))
    where = layer.value.span_of("name")
    if where is not None and where.source is not None and where.source.path:
        file = session.evaluator.display_name(where.source.path)
    return LayerEntry(layer.name, layer.description, layer.unlisted, file, deps)


def list_layers(session: Session, target: str) -> Listing:
    """Layers reachable from a board file, or found in the ``.sk`` files under a directory."""
    path = os.path.abspath(os.path.join(session.options.cwd, target))
    files = [path]
    if os.path.isdir(path):
        files = sorted(
            os.path.join(top, f)
            for top, dirs, names in os.walk(path)
            for f in names
            if f.endswith(".sk") and not dirs.sort()
        )
    layers: dict[str, LayerEntry] = {}
    systems: list[SystemEntry] = []
    errors: list[SkiffError] = []

    def visit(file: str) -> None:
        ev = session.evaluator
        display = ev.display_name(file)
        value = ev.auto_call(ev.eval_file(file), {})
        value = force(value)
        if type(value) is Closure:  # a layer file whose arguments all have defaults was called
            return
        if type(value) is Attrs and force(value.values.get("type")) == "layer":
            stack = [value]
            while stack:
                v = stack.pop()
                entry = _entry(session, v, display)
                if entry.name not in layers:
                    layers[entry.name] = entry
                    stack.extend(d for d, _ in as_layer(v, None, session._system_host.validated).items("depends"))
            return
        system_name = force(value.values.get("system")) if type(value) is Attrs else None
        if isinstance(system_name, str) and system_name in session._system_host.systems:
            ordered = session._system_host.systems[system_name]
            systems.append(SystemEntry(system_name, display, tuple(layer.name for layer in ordered)))
            for layer in ordered:
                if layer.name not in layers:
                    layers[layer.name] = _entry(session, layer.value, display)

    from skiffeval.eval.codes import MISSING_ARGUMENT

    for file in files:
        try:
            run_deep(lambda file=file: visit(file))
        except SkiffError as exc:
            if exc.code is MISSING_ARGUMENT and len(files) > 1:
                continue  # a layer file whose options have no defaults cannot be listed on its own
            errors.append(exc)
    return Listing(tuple(sorted(layers.values(), key=lambda e: e.name)), tuple(systems), tuple(errors))
