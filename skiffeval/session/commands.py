"""Layer commands: named scripts a layer declares, run with a system's outputs at hand — what
SkiffOS's ``make cmd/<pkg>/<cmd>`` does (``skiffeval run BOARD COMMAND``).

A native layer declares ``commands = { format = { script = ./format.sh; description = "..."; };
flash = ./flash.sh; }``; a SkiffOS package declares them in ``metadata/commands`` and runs them
with ``make <cmd>`` in its ``extensions/`` folder.  Scripts are run from their store copies.
"""

from __future__ import annotations

from typing import Any

import attrs

from skiffeval.diagnostics import SkiffError, Span, did_you_mean_help
from skiffeval.eval.errors import type_error
from skiffeval.eval.runtime import coerce_to_string, expect_attrs
from skiffeval.eval.values import Attrs, CStr, PathValue, force
from skiffeval.session.codes import BAD_COMMAND

__all__ = ["LayerCommand", "layer_commands"]


@attrs.frozen
class LayerCommand:
    """A command: which layer declares it, what it is for, and how to run it."""

    layer: str
    name: str
    description: str
    argv: tuple[str, ...]
    cwd: str | None
    env: tuple[tuple[str, str], ...] = ()
    span: Span | None = None


def layer_commands(ev: Any, layer: Any) -> list[LayerCommand]:
    """The commands of a native ``Layer`` (its ``commands`` field), scripts imported into the store."""
    value = layer.get("commands")
    if value is None:
        return []
    span = layer.field_span("commands")
    attrs_ = expect_attrs(value, span, f"'commands' of layer '{layer.name}'")
    out = []
    for name in attrs_.names():
        where = attrs_.span_of(name) or span
        item = force(attrs_.values[name])
        description = ""
        if type(item) is Attrs:
            for key in item.values:
                if key not in ("script", "description"):
                    raise SkiffError(BAD_COMMAND, f"unknown key '{key}' in command '{name}' of layer '{layer.name}'",
                                     item.span_of(key) or where, help=did_you_mean_help(key, ("script", "description")))
            if "script" not in item.values:
                raise SkiffError(BAD_COMMAND, f"command '{name}' of layer '{layer.name}' has no 'script'", where)
            description = str(force(item.values.get("description", "")))
            item = force(item.values["script"])
        if type(item) is PathValue:
            path = layer.check_path(item.path, where, f"the script of command '{name}'")
            text, _ = coerce_to_string(ev, PathValue(path), where)
            argv = ("/bin/sh", text)
        elif type(item) in (str, CStr):
            text, _ = coerce_to_string(ev, item, where)
            argv = ("/bin/sh", "-c", text, name)
        else:
            raise type_error("a script (a path or text)", item, where, f"command '{name}' of layer '{layer.name}'")
        resources = layer.get("resources")
        env = ()
        if type(resources) is PathValue:
            env = (("SKIFFEVAL_LAYER_DIR", coerce_to_string(ev, resources, where)[0]),)
        out.append(LayerCommand(layer.name, name, description, argv, None, env, where))
    return out
