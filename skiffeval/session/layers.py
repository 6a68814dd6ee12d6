"""Layers: the ``layer`` builtin, field validation, and the order layers apply in.

A layer is an attribute set made by ``layer { ... }`` (``type = "layer"``).  Its fields are
listed in ``FIELDS`` with the type each must have; an unknown field is an error with "did you
mean", a field of the wrong type an error at the field's definition.  Every path a layer
names must stay inside the layer's tree: its ``root`` (by default the directory of the file that
called ``layer``); a path that leaves it — lexically or through a symlink — is an error (E155).

Order (``order_layers``): depth-first post-order over ``depends``, in declaration order, the
first occurrence of a name kept; a dependency cycle is an error that prints the cycle.  Later
layers win.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

import attrs

from skiffeval.diagnostics import Diagnostic, Note, Severity, SkiffError, Span, did_you_mean_help
from skiffeval.eval.builtins.registry import Registry, builtin
from skiffeval.eval.runtime import expect_attrs
from skiffeval.eval.values import Attrs, CStr, PathValue, force
from skiffeval.session.codes import BAD_FRAGMENT, BAD_LAYER, BAD_LAYER_NAME, LAYER_CYCLE, LAYER_SHADOWED, PATH_ESCAPE

__all__ = ["FIELDS", "Layer", "layer_builtins", "order_layers", "as_layer", "shadowed_layer_warning", "LAYER_NAME_RE"]

LAYER_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*/[A-Za-z0-9_][A-Za-z0-9_.+-]*$")

# field -> (what it must be, for messages)
FIELDS: dict[str, str] = {
    "name": "a string 'category/name'",
    "description": "a string",
    "depends": "a list of layers",
    "unlisted": "a boolean",
    "replaces": "a boolean (true: this layer takes the place of the other layers of its name)",
    "buildroot": "a list of fragments (files, attribute sets or text)",
    "kernel": "a list of fragments",
    "uboot": "a list of fragments",
    "busybox": "a list of fragments",
    "defconfig": "the name of a Buildroot defconfig (e.g. \"qemu_x86_64\") or a path",
    "external": "a list of BR2_EXTERNAL tree directories",
    "patches": "an attribute set { buildroot; kernel; uboot; } of patch directories",
    "overlay": "a list of directories or 'files { ... }' trees",
    "hooks": "an attribute set { post_build; post_image; } of scripts",
    "cflags": "a list of compiler flags",
    "users": "a list of makeuser tables (files or text)",
    "commands": "an attribute set of commands { name = { script; description; }; }",
    "resources": "a directory of files hooks and commands use",
    "root": "the directory the layer's paths must stay inside",
    "type": "\"layer\"",
}
PATCH_KINDS = ("buildroot", "kernel", "uboot")
HOOK_KINDS = ("post_build", "post_image")


@attrs.frozen(eq=False)
class Layer:
    """A validated layer: its name, the attribute set, and the tree its paths must stay in."""

    name: str
    value: Attrs
    root: str
    span: Span | None

    @property
    def description(self) -> str:
        d = force(self.value.values.get("description", ""))
        return d if isinstance(d, str) else ""

    @property
    def unlisted(self) -> bool:
        return force(self.value.values.get("unlisted", False)) is True

    @property
    def replaces(self) -> bool:
        """``replaces = true``: meant to take the place of the other layers of its name."""
        return force(self.value.values.get("replaces", False)) is True

    def field_span(self, name: str) -> Span | None:
        return self.value.span_of(name) or self.span

    def get(self, name: str, default: Any = None) -> Any:
        v = self.value.values.get(name)
        return default if v is None else force(v)

    def items(self, name: str) -> list[tuple[Any, Span | None]]:
        """A list field's items (a single item counts as a list of one), with the field's span."""
        value = self.get(name)
        span = self.field_span(name)
        if value is None:
            return []
        if type(value) is tuple:
            return [(force(v), span) for v in value]
        return [(value, span)]

    def check_path(self, path: str, span: Span | None, what: str) -> str:
        """``path`` if it stays inside the layer's tree (lexically and after symlinks)."""
        root = self.root.rstrip("/") + "/"
        norm = os.path.normpath(path)
        if not (norm + "/").startswith(root):
            raise SkiffError(
                PATH_ESCAPE,
                f"{what} '{path}' of layer '{self.name}' is outside the layer's tree '{self.root}'",
                span,
                help=["keep the files inside the layer's directory, or set 'root' to a directory that contains them"],
            )
        real = os.path.realpath(norm)
        real_root = os.path.realpath(self.root).rstrip("/") + "/"
        if os.path.exists(norm) and not (real + "/").startswith(real_root):
            raise SkiffError(
                PATH_ESCAPE,
                f"{what} '{path}' of layer '{self.name}' leads outside the layer's tree through a symlink (to '{real}')",
                span,
            )
        return norm


def _caller_dir(span: Span | None) -> str | None:
    if span is not None and span.source is not None and span.source.path:
        return os.path.dirname(span.source.path)
    return None


def layer_builtins() -> Registry:
    """``layer`` (global)."""
    registry = Registry()

    @builtin("layer", "spec", is_global=True, registry=registry)
    def layer(ev, span, spec):
        """A layer from its fields (see docs/layers.md); unknown fields and a malformed name are
        errors here, the types of the other fields when a system uses the layer."""
        spec = expect_attrs(spec, span, "the argument of 'layer'")
        for key in spec.values:
            if key not in FIELDS:
                raise SkiffError(
                    BAD_LAYER,
                    f"unknown layer field '{key}'",
                    spec.span_of(key) or span,
                    help=did_you_mean_help(key, FIELDS) or [f"the fields are {', '.join(sorted(FIELDS))}"],
                )
        if "name" not in spec.values:
            raise SkiffError(BAD_LAYER, "a layer needs a 'name' (\"category/name\")", span)
        name = force(spec.values["name"])
        name_span = spec.span_of("name") or span
        if type(name) is not str:
            raise _wrong_type("name", name, name_span, "?")
        if not LAYER_NAME_RE.match(name):
            raise SkiffError(
                BAD_LAYER_NAME,
                f"layer name '{name}' is not of the form 'category/name'",
                name_span,
                help=["use letters, digits, '_', '.', '+' and '-', with one '/' after the category (e.g. \"pi/4\")"],
            )
        values = dict(spec.values)
        values["type"] = "layer"
        if "root" not in values:
            caller = _caller_dir(span)
            if caller is not None:
                values["root"] = PathValue(caller)
        return Attrs(values, dict(spec.spans))

    return registry


def _wrong_type(field: str, value: Any, span: Span | None, layer: str, what: str | None = None) -> SkiffError:
    return SkiffError(
        BAD_LAYER,
        f"'{field}' of layer '{layer}' must be {what or FIELDS[field]}, found {_describe(value)}",
        span,
    )


def _is_drv(value: Any) -> bool:
    return type(value) is Attrs and force(value.values.get("type")) == "derivation"


def _items(value: Any) -> tuple:
    return tuple(force(v) for v in value) if type(value) is tuple else (value,)


def _check_items(layer: str, field: str, value: Any, span: Span | None, ok) -> None:
    for item in _items(value):
        if not ok(item):
            if field in ("buildroot", "kernel", "uboot", "busybox"):
                raise SkiffError(
                    BAD_FRAGMENT,
                    f"expected a fragment file, an attribute set of symbols or fragment text in '{field}' of layer '{layer}', found {_describe(item)}",
                    span,
                )
            if field == "overlay":
                raise SkiffError(BAD_LAYER, f"expected a directory or a files {{ }} tree for 'overlay' entry of layer '{layer}', found {_describe(item)}", span)
            if field == "external":
                raise SkiffError(BAD_LAYER, f"expected a directory for 'external' entry of layer '{layer}', found {_describe(item)}", span)
            raise _wrong_type(field, item, span, layer)


_STR = (str, CStr)


def _fragment_item(v: Any) -> bool:
    return type(v) in (PathValue, Attrs) or type(v) in _STR


def _dir_item(v: Any) -> bool:
    return type(v) is PathValue


def _overlay_item(v: Any) -> bool:
    return type(v) is PathValue or _is_drv(v)


def _script_item(v: Any) -> bool:
    return type(v) is PathValue or _is_drv(v)


def validate_fields(layer: Layer) -> None:
    """Check the type of every field a layer sets (E152 at the field), forcing each field's top
    level only; their contents are checked where they are used."""
    name = layer.name
    values = layer.value.values
    for field in values:
        if field in ("name", "type", "depends"):
            continue
        value = force(values[field])
        span = layer.field_span(field)
        if value is None:
            continue
        if field == "description" and type(value) not in _STR:
            raise _wrong_type(field, value, span, name)
        elif field in ("unlisted", "replaces") and type(value) is not bool:
            raise _wrong_type(field, value, span, name)
        elif field in ("buildroot", "kernel", "uboot", "busybox"):
            _check_items(name, field, value, span, _fragment_item)
        elif field == "defconfig" and type(value) not in _STR and type(value) is not PathValue:
            raise _wrong_type(field, value, span, name)
        elif field == "external":
            _check_items(name, field, value, span, _dir_item)
        elif field == "overlay":
            _check_items(name, field, value, span, _overlay_item)
        elif field == "cflags":
            _check_items(name, field, value, span, lambda v: type(v) in _STR)
        elif field == "users":
            _check_items(name, field, value, span, lambda v: type(v) is PathValue or type(v) in _STR)
        elif field in ("resources", "root") and type(value) is not PathValue:
            raise _wrong_type(field, value, span, name)
        elif field in ("patches", "hooks", "commands"):
            if type(value) is not Attrs:
                raise _wrong_type(field, value, span, name)
            kinds = PATCH_KINDS if field == "patches" else HOOK_KINDS if field == "hooks" else None
            for key in value.values:
                where = value.span_of(key) or span
                if kinds is not None and key not in kinds:
                    raise SkiffError(BAD_LAYER, f"unknown {field} kind '{key}' in layer '{name}'", where,
                                     help=did_you_mean_help(key, kinds) or [f"the kinds are {', '.join(kinds)}"])
                item = force(value.values[key])
                if field == "patches":
                    _check_items(name, f"{field}", item, where, _dir_item)
                elif field == "hooks":
                    _check_items(name, f"{field}", item, where, _script_item)
                elif type(item) is not PathValue and type(item) not in _STR and type(item) is not Attrs:
                    raise SkiffError(BAD_LAYER, f"command '{key}' of layer '{name}' must be a script (a path or text) "
                                     f"or {{ script; description; }}, found {_describe(item)}", where)


def as_layer(value: Any, span: Span | None, validated: dict[int, Any] | None = None) -> Layer:
    """The ``Layer`` a value is, or a type error at ``span``."""
    value = force(value)
    if type(value) is not Attrs or force(value.values.get("type")) != "layer":
        if type(value) is Attrs and "name" not in value.values and any(k in value.values for k in ("buildroot", "kernel", "overlay")):
            raise SkiffError(BAD_LAYER, "expected a layer, found an attribute set that looks like one", span, help=["wrap it in 'layer { ... }'"])
        help = ["a layer file is usually a function of options: call it, e.g. '(import ./pi4.sk { })'"] if callable_value(value) else []
        raise SkiffError(BAD_LAYER, f"expected a layer, found {_describe(value)}", span, help=help)
    root = force(value.values.get("root"))
    name = force(value.values["name"])
    if type(root) is PathValue:
        root_path = root.path
    elif root is None:
        root_path = "/"  # a layer made without a file (e.g. from the command line)
    else:
        raise _wrong_type("root", root, value.span_of("root") or span, name)
    layer = Layer(name, value, root_path, span)
    # ``validated`` (the session's: id -> value, kept alive so an id is never reused) spares
    # checking a layer again each time a system reaches it
    if validated is None or id(value) not in validated:
        validate_fields(layer)
        if validated is not None:
            validated[id(value)] = value
    return layer


def callable_value(value: Any) -> bool:
    from skiffeval.eval.values import Closure, PrimOp, PrimOpApp

    return type(value) in (Closure, PrimOp, PrimOpApp)


def _describe(value: Any) -> str:
    from skiffeval.eval.values import describe

    return describe(value)


def order_layers(roots: Iterable[tuple[Any, Span | None]], validated: dict[int, Any] | None = None,
                 shadowed: list[tuple[Layer, Layer]] | None = None) -> list[Layer]:
    """Depth-first post-order over ``depends`` (declaration order, first occurrence kept).

    A later occurrence of a name written in another ``layer { }`` than the one kept (another
    file, or another place in one) is a different layer dropped: ``(kept, dropped)`` goes to
    ``shadowed``, once per place, unless the one kept says ``replaces = true`` (it is meant to
    take their place).  The same ``layer { }`` reached twice, whatever its options,
    is the layer met again (docs/layers.md, "Ordering")."""
    ordered: list[Layer] = []
    seen: set[str] = set()
    kept: dict[str, Layer] = {}
    reported: set[tuple[str, Any]] = set()
    stack_names: list[str] = []
    stack_spans: list[Span | None] = []

    def visit(value: Any, span: Span | None) -> None:
        layer = as_layer(value, span, validated)
        if layer.name in stack_names:
            start = stack_names.index(layer.name)
            cycle = stack_names[start:] + [layer.name]
            raise SkiffError(
                LAYER_CYCLE,
                f"layers depend on each other: {' -> '.join(cycle)}",
                span,
                notes=[Note(f"'{n}' is needed here", s) for n, s in zip(stack_names[start:], stack_spans[start:]) if s],
            )
        if layer.name in seen:
            if shadowed is not None:
                first = kept[layer.name]
                place = _defined_at(layer)
                if first.value is not layer.value and place is not None and place != _defined_at(first) \
                        and (layer.name, place) not in reported and not first.replaces:
                    reported.add((layer.name, place))
                    shadowed.append((first, layer))
            return
        stack_names.append(layer.name)
        stack_spans.append(span)
        for dep, dep_span in layer.items("depends"):
            visit(dep, layer.field_span("depends") or dep_span)
        stack_names.pop()
        stack_spans.pop()
        if layer.name not in seen:
            seen.add(layer.name)
            kept[layer.name] = layer
            ordered.append(layer)

    for value, span in roots:
        visit(value, span)
    return ordered


def _defined_at(layer: Layer) -> tuple[str, int, int] | None:
    """Where a layer's ``name`` is written (file, line, column): which ``layer { }`` made it."""
    span = layer.value.span_of("name")
    return (span.file, span.line, span.col) if span is not None else None


def shadowed_layer_warning(kept: Layer, dropped: Layer, system: str) -> Diagnostic:
    """W153: a layer of the same name as one already placed, defined elsewhere, not applied."""
    return Diagnostic(
        Severity.WARNING,
        LAYER_SHADOWED,
        f"layer '{dropped.name}' defined here is not applied to system '{system}': a layer of that name "
        "defined elsewhere came first, and layers are told apart by name",
        dropped.value.span_of("name"),
        help=(("this layer says 'replaces = true', but the other came first: list this one before the layers "
               "that depend on the other (the first occurrence of a name is kept)",)
              if dropped.replaces else
              ("the first occurrence of a name is kept (docs/layers.md, \"Ordering\"): give one of them another "
               "name, or use the same layer file in both places",
               "if the layer applied is meant to take this one's place, say so in it: replaces = true;")),
        related=(Note("the layer applied is defined here", kept.value.span_of("name")),),
    )
