"""Systems: ``system { name; buildroot; layers; }`` and the derivations it yields.

The layers are put in order (``layers.order_layers``) and their fields become one derivation
per concern, each cached and queried on its own (docs/layers.md, "A system's derivations"):

=================  ====================================================================
attribute          derivation
=================  ====================================================================
``config``         the merged Buildroot defconfig input (+ ``provenance`` output)
``kernel_config``  ``uboot_config``, ``busybox_config``: merged fragments, last wins
``overlay``        one merged root overlay, later layers win
``patches``        the global (and kernel/U-Boot) patch directories in layer order
``external``       the BR2_EXTERNAL trees, validated, in layer order
``hooks``          post-build and post-image wrapper scripts
``users``          the makeuser tables concatenated
``resolved``       the full ``.config`` and minimal defconfig by kconfiglib (+ ``report``)
=================  ====================================================================

The system value itself is the *default bundle*: a derivation whose output links the offline
ones above (everything but ``resolved`` and the Buildroot build), with those derivations as
extra attributes.  The bundle needs no Buildroot source.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any, Callable

from skiffeval.derivation import FixedOutput
from skiffeval.diagnostics import Diagnostic, Note, SkiffError, Span, did_you_mean_help
from skiffeval.eval.builtins.registry import Registry, builtin
from skiffeval.eval.errors import type_error
from skiffeval.eval.runtime import coerce_to_string, expect_attrs, expect_plain_string
from skiffeval.eval.values import Attrs, CStr, PathValue, Thunk, force
from skiffeval.kconfig import render_fragment_value
from skiffeval.session.codes import BAD_EXTERNAL, BAD_FILES, BAD_FRAGMENT, BAD_LAYER, BAD_SYSTEM, NO_BUILDROOT
from skiffeval.session.drvs import DrvTable, Text
from skiffeval.session.layers import HOOK_KINDS, PATCH_KINDS, Layer, order_layers, shadowed_layer_warning

__all__ = ["system_builtins", "SystemHost"]

SYSTEM_FIELDS = {
    "name": "a string naming the system",
    "description": "a string",
    "buildroot": "the Buildroot source: a fetchgit/fetchurl derivation or a path",
    "layers": "a list of layers, in order",
}


class SystemHost:
    """What the system builtins need from the session besides the derivation table."""

    def __init__(self, table: DrvTable, host_info: Callable[[], dict[str, str]], override: Callable[[str, Any, Span | None], Any],
                 source: Callable[..., tuple[str, frozenset]], warnings: list[Diagnostic] | None = None) -> None:
        self.table = table
        self.host_info = host_info
        # the Buildroot source as --override-input gives it (a directory is imported later)
        self.override = override
        # source(value, span, what, kconfig_view=None): the Buildroot source's text in a spec,
        # whole or (kconfig_view: extra files) the Kconfig view of a local tree
        self.source = source
        # label -> absolute path of every file a derivation names by label (for messages)
        self.labels: dict[str, str] = {}
        # system name -> its layers in order, as the last evaluation of it saw them
        self.systems: dict[str, list[Layer]] = {}
        # system name -> the commands its layers declare (LayerCommand records)
        self.commands: dict[str, list[Any]] = {}
        # layers whose fields were checked (id -> value), for this session only
        self.validated: dict[int, Any] = {}
        # a derivation label such as '(f.conf)' -> where the derivation was made (for messages)
        self.label_spans: dict[str, Span] = {}
        # warnings of the evaluation (the session's list: printed, and kept by the evaluation cache)
        self.warnings: list[Diagnostic] = warnings if warnings is not None else []
        # (derivation key, output, folder in it) -> the absolute path that folder is a copy of
        # (an external tree in the ``external`` output), to name a file of it in messages
        self.output_origins: dict[tuple[str, str, str], str] = {}


class _Spec:
    """A JSON spec being built from texts with context; ``text()`` joins the contexts."""

    def __init__(self) -> None:
        self.context: frozenset = frozenset()

    def add(self, value: tuple[str, frozenset]) -> str:
        self.context |= value[1]
        return value[0]

    def text(self, doc: Any) -> Text:
        return json.dumps(doc, sort_keys=True, separators=(",", ":")), self.context


def _str(ev, value: Any, span: Span | None, what: str) -> str:
    value = force(value)
    if type(value) not in (str, CStr):
        raise type_error("a string", value, span, what)
    return str(value)


class _SystemBuilder:
    def __init__(self, ev, host: SystemHost, name: str, layers: list[Layer], span: Span | None) -> None:
        self.ev = ev
        self.host = host
        self.table = host.table
        self.name = name
        self.layers = layers
        self.span = span

    # -- items of layer fields -------------------------------------------------------------

    def label(self, path: str, layer: Layer) -> str:
        """A machine-independent name for a file a layer uses, recorded in derivations (so keys
        do not depend on where a checkout lives): ``<prefix/rel>`` under a search-path entry,
        else ``<layer name>:<path relative to the layer's root>``."""
        for prefix, directory in self.ev.search_path:
            d = directory.rstrip("/") + "/"
            if path.startswith(d):
                rel = path[len(d):]
                text = f"<{prefix}/{rel}>" if prefix else f"<{rel}>"
                break
        else:
            text = f"{layer.name}:{os.path.relpath(path, layer.root)}"
        self.host.labels[text] = path
        return text

    def span_doc(self, span: Span | None, layer: Layer, fallback: str, line: int) -> list:
        if span is None:
            return [fallback, line, 1]
        path = span.source.path if span.source is not None else None
        return [self.label(path, layer) if path else span.file, span.line, span.col]

    def _is_drv(self, value: Any) -> bool:
        return type(value) is Attrs and force(value.values.get("type")) == "derivation"

    def _path_item(self, layer: Layer, value: PathValue, span: Span | None, what: str, spec: _Spec, kind: str | None = None) -> dict[str, Any]:
        path = layer.check_path(value.path, span, what)
        file_type = self.ev.io.file_type(path)
        if file_type is None:
            raise SkiffError(
                BAD_LAYER,
                f"{what} '{self.ev.display_name(path)}' of layer '{layer.name}' does not exist",
                span,
                help=self.ev._near(path),
            )
        if kind == "file" and file_type == "directory":
            raise SkiffError(BAD_LAYER, f"{what} '{self.ev.display_name(path)}' of layer '{layer.name}' is a directory, expected a file", span)
        if kind == "dir" and file_type != "directory":
            raise SkiffError(BAD_LAYER, f"{what} '{self.ev.display_name(path)}' of layer '{layer.name}' is not a directory", span)
        stored = spec.add(coerce_to_string(self.ev, value, span, what=what))
        return {
            "layer": layer.name,
            "label": os.path.relpath(path, layer.root),
            "file": self.label(path, layer),
            "path": stored,
        }

    def _drv_item(self, layer: Layer, value: Attrs, span: Span | None, what: str, spec: _Spec) -> dict[str, Any]:
        stored = spec.add(coerce_to_string(self.ev, value, span, what=what))
        name = _str(self.ev, value.values.get("name", "generated"), span, "a derivation name")
        made = self.table.derivation_of(value)
        where = self.table.spans.get(made[0].key) if made is not None else None
        if where is not None or span is not None:
            self.host.label_spans[f"({name})"] = where or span
        return {"layer": layer.name, "label": name, "file": f"({name})", "path": stored}

    def fragment_parts(self, field: str, spec: _Spec, prefix: str) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for layer in self.layers:
            for value, span in layer.items(field):
                what = f"a '{field}' fragment"
                if type(value) is PathValue:
                    parts.append(self._path_item(layer, value, span, what, spec, "file"))
                elif self._is_drv(value):
                    parts.append(self._drv_item(layer, value, span, what, spec))
                elif type(value) is Attrs:
                    parts.append(self._inline(layer, value, span, prefix, spec))
                elif type(value) in (str, CStr):
                    text = spec.add(coerce_to_string(self.ev, value, span))
                    where = self.span_doc(span, layer, "(text)", 1)
                    parts.append({"layer": layer.name, "label": "(text)", "file": where[0],
                                  "text": text, "spans": _line_spans(text, where, span)})
                else:
                    raise SkiffError(
                        BAD_FRAGMENT,
                        f"expected a fragment file, an attribute set of symbols or fragment text in '{field}' of layer '{layer.name}', found {_describe(value)}",
                        span,
                    )
        return parts

    def _inline(self, layer: Layer, value: Attrs, span: Span | None, prefix: str, spec: _Spec) -> dict[str, Any]:
        lines, spans = [], []
        for symbol in value.values:  # definition order is the user's order
            where = value.span_of(symbol) or span
            v = force(value.values[symbol])
            if type(v) is CStr:  # a string that names store paths: they become inputs
                v = spec.add((str(v), v.context))
            if v is None:
                continue
            name = symbol[len(prefix):] if prefix and symbol.startswith(prefix) else symbol  # CONFIG_X or X
            lines.append(render_fragment_value(name, v, prefix=prefix, span=where))
            spans.append(self.span_doc(where, layer, "(inline)", len(lines)))
        return {
            "layer": layer.name,
            "label": "(inline)",
            "file": self.span_doc(span, layer, "(inline)", 1)[0],
            "text": "".join(line + "\n" for line in lines),
            "spans": spans,
        }

    def check_externals(self) -> None:
        """BR2_EXTERNAL trees as Buildroot needs them (E161 at the layer's 'external'): an
        ``external.desc`` whose ``name:`` is made of letters, digits and '_' and unique across
        the system, a ``Config.in`` and an ``external.mk``."""
        io = self.ev.io
        names: dict[str, tuple[str, Span | None]] = {}
        for layer in self.layers:
            span = layer.field_span("external")
            for value, _ in layer.items("external"):
                path = value.path
                shown = self.ev.display_name(path)
                for required in ("external.desc", "Config.in", "external.mk"):
                    if io.file_type(os.path.join(path, required)) != "regular":
                        raise SkiffError(BAD_EXTERNAL, f"BR2_EXTERNAL tree '{shown}' of layer '{layer.name}' has no '{required}'", span,
                                         help=["an external tree needs external.desc (with 'name:'), Config.in and external.mk"])
                desc = self.ev.read_file(os.path.join(path, "external.desc"), span).decode("utf-8", "replace")
                m = re.search(r"^name:\s*(\S*)\s*$", desc, re.M)
                if m is None or not m.group(1):
                    raise SkiffError(BAD_EXTERNAL, f"external.desc of '{shown}' (layer '{layer.name}') has no 'name:' line", span)
                name = m.group(1)
                if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                    raise SkiffError(BAD_EXTERNAL, f"BR2_EXTERNAL name '{name}' of '{shown}' (layer '{layer.name}') is not made of letters, digits and '_'",
                                     span, help=["Buildroot derives BR2_EXTERNAL_<name>_PATH from it, so it must be a valid variable name"])
                if name in names:
                    other, other_span = names[name]
                    raise SkiffError(BAD_EXTERNAL, f"BR2_EXTERNAL name '{name}' is used by two trees: '{other}' and '{shown}'", span,
                                     related=[Note(f"'{other}' is used here", other_span)] if other_span else [])
                names[name] = (shown, span)

    def resources(self, layer: Layer, spec: _Spec) -> str:
        """The store path of a layer's ``resources`` directory ('' when it has none)."""
        value = layer.get("resources")
        if value is None:
            return ""
        span = layer.field_span("resources")
        if type(value) is not PathValue:
            raise type_error("a directory", value, span, f"'resources' of layer '{layer.name}'")
        return self._path_item(layer, value, span, "'resources' directory", spec, "dir")["path"]

    def dirs(self, field: str, spec: _Spec, *, allow_drv: bool) -> list[dict[str, Any]]:
        out = []
        for layer in self.layers:
            for value, span in layer.items(field):
                out.append(self._dir_item(layer, value, span, f"'{field}' entry", spec, allow_drv))
        return out

    def _dir_item(self, layer: Layer, value: Any, span: Span | None, what: str, spec: _Spec, allow_drv: bool) -> dict[str, Any]:
        if type(value) is PathValue:
            item = self._path_item(layer, value, span, what, spec, "dir")
            item["modes"] = _special_modes(layer.check_path(value.path, span, what))
            return item
        if allow_drv and self._is_drv(value):
            item = self._drv_item(layer, value, span, what, spec)
            modes = force(value.values.get("modes"))
            item["modes"] = {k: force(v) for k, v in modes.values.items()} if type(modes) is Attrs else {}
            return item
        raise SkiffError(BAD_LAYER, f"expected a directory{' or a files { } tree' if allow_drv else ''} for {what} of layer '{layer.name}', found {_describe(value)}", span)

    def sub_items(self, field: str, kinds: tuple[str, ...], spec: _Spec, item_kind: str) -> dict[str, list[dict[str, Any]]]:
        """Items of an attribute-set field (``patches``, ``hooks``) per kind, in layer order."""
        result: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        for layer in self.layers:
            value = layer.get(field)
            if value is None:
                continue
            span = layer.field_span(field)
            attrs = expect_attrs(value, span, f"'{field}' of layer '{layer.name}'")
            for key in attrs.values:
                if key not in kinds:
                    raise SkiffError(BAD_LAYER, f"unknown {field} kind '{key}' in layer '{layer.name}'", attrs.span_of(key) or span,
                                     help=did_you_mean_help(key, kinds) or [f"the kinds are {', '.join(kinds)}"])
            for kind in kinds:
                raw = attrs.values.get(kind)
                if raw is None:
                    continue
                raw = force(raw)
                kspan = attrs.span_of(kind) or span
                for item in (raw if type(raw) is tuple else (raw,)):
                    item = force(item)
                    if item_kind == "dir":
                        entry = self._dir_item(layer, item, kspan, f"'{field}.{kind}' entry", spec, False)
                    elif type(item) is PathValue:
                        entry = self._path_item(layer, item, kspan, f"'{field}.{kind}' script", spec, "file")
                    elif self._is_drv(item):
                        entry = self._drv_item(layer, item, kspan, f"'{field}.{kind}' script", spec)
                    else:
                        raise type_error("a path", item, kspan, f"'{field}.{kind}' of layer '{layer.name}'")
                    entry["dir"] = f"{len(result[kind]):02d}-{layer.name.replace('/', '-')}"
                    if item_kind == "file":
                        entry["resources"] = self.resources(layer, spec)
                    result[kind].append(entry)
        return result

    # -- derivations -----------------------------------------------------------------------

    def make(self, suffix: str, builder: str, spec_text: Text, outputs: tuple[str, ...] = ("out",), extra_env: dict[str, Text] | None = None):
        env = {"spec": spec_text, **(extra_env or {})}
        drv = self.table.make(f"{self.name}-{suffix}", (f"builtin:{builder}", frozenset()), (), env, outputs=outputs, span=self.span)
        return drv

    def value(self, drv) -> Attrs:
        return self.table.value(drv)

    def out_text(self, drv, output: str = "out") -> tuple[str, frozenset]:
        v = self.value(drv)
        return coerce_to_string(self.ev, v.values[output] if output != "out" else v, self.span)

    def build(self, buildroot: Any, buildroot_span: Span | None) -> Attrs:
        ev = self.ev
        attrs_out: dict[str, Any] = {}
        bundle_entries: dict[str, tuple[str, frozenset]] = {}
        generated: list[tuple[str, tuple[str, frozenset]]] = []

        def add(name: str, drv, generated_symbol: str | None = None, suffix: str = "") -> None:
            attrs_out[name] = self.value(drv)
            text = self.out_text(drv)
            bundle_entries[name] = text
            if generated_symbol:
                generated.append((generated_symbol, (text[0] + suffix, text[1])))

        # kernel / U-Boot / BusyBox fragments
        for field, name, symbol in (
            ("kernel", "kernel_config", "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"),
            ("uboot", "uboot_config", "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES"),
            ("busybox", "busybox_config", "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES"),
        ):
            spec = _Spec()
            parts = self.fragment_parts(field, spec, "CONFIG_")
            if parts:
                add(name, self.make(name.replace("_", "-"), "fragment-merge", spec.text({"parts": parts, "prefix": "CONFIG_"})), symbol)
        # overlay
        spec = _Spec()
        trees = self.dirs("overlay", spec, allow_drv=True)
        if trees:
            overlay = self.make("overlay", "overlay-merge", spec.text({"trees": trees}), ("out", "permissions"))
            add("overlay", overlay, "BR2_ROOTFS_OVERLAY")
            if any(t.get("modes") for t in trees):
                generated.append(("BR2_ROOTFS_DEVICE_TABLE", self.out_text(overlay, "permissions")))
        # patches
        spec = _Spec()
        patches = self.sub_items("patches", PATCH_KINDS, spec, "dir")
        if any(patches.values()):
            drv = self.make("patches", "patch-dirs", spec.text(patches))
            add("patches", drv)
            base, ctx = self.out_text(drv)
            for kind, symbol in (("buildroot", "BR2_GLOBAL_PATCH_DIR"), ("kernel", "BR2_LINUX_KERNEL_PATCH"), ("uboot", "BR2_TARGET_UBOOT_PATCH")):
                if patches[kind]:
                    generated.append((symbol, (" ".join(f"{base}/{kind}/{p['dir']}" for p in patches[kind]), ctx)))
        # external trees
        spec = _Spec()
        externals = self.dirs("external", spec, allow_drv=False)
        self.check_externals()
        for i, e in enumerate(externals):
            e["dir"] = f"{i:02d}-{e['layer'].replace('/', '-')}"
        external_drv = None
        if externals:
            external_drv = self.make("external", "br2-external", spec.text({"trees": externals}))
            add("external", external_drv)
            for e in externals:
                self.host.output_origins[(external_drv.key, "out", e["dir"])] = self.host.labels[e["file"]]
        # hooks
        spec = _Spec()
        hooks = self.sub_items("hooks", HOOK_KINDS, spec, "file")
        if any(hooks.values()):
            drv = self.make("hooks", "hook-wrappers", spec.text(hooks))
            add("hooks", drv)
            base, ctx = self.out_text(drv)
            if hooks["post_build"]:
                generated.append(("BR2_ROOTFS_POST_BUILD_SCRIPT", (f"{base}/post-build.sh", ctx)))
            if hooks["post_image"]:
                generated.append(("BR2_ROOTFS_POST_IMAGE_SCRIPT", (f"{base}/post-image.sh", ctx)))
        # users tables
        spec = _Spec()
        users = []
        for layer in self.layers:
            for value, span in layer.items("users"):
                if type(value) is PathValue:
                    users.append(self._path_item(layer, value, span, "'users' table", spec, "file"))
                elif type(value) in (str, CStr):
                    users.append({"layer": layer.name, "text": spec.add(coerce_to_string(ev, value, span))})
                else:
                    raise type_error("a makeuser table (a file or text)", value, span, f"'users' of layer '{layer.name}'")
        if users:
            add("users", self.make("users", "concat", spec.text({"parts": users})), "BR2_ROOTFS_USERS_TABLES")
        # cflags
        cflags: list[str] = []
        for layer in self.layers:
            for value, span in layer.items("cflags"):
                cflags.append(_str(ev, value, span, f"'cflags' of layer '{layer.name}'"))
        if cflags:
            generated.append(("BR2_TARGET_OPTIMIZATION", (" ".join(cflags), frozenset())))
        # the merged Buildroot config, and its base: the last layer's 'defconfig' (a name from
        # Buildroot's configs/, or a file of the layer, which becomes an input)
        spec = _Spec()
        base_defconfig = None
        base_in_tree: tuple[str, ...] = ()  # a base defconfig named by its path in the Buildroot tree
        for layer in self.layers:
            value = layer.get("defconfig")
            if value is not None:
                span = layer.field_span("defconfig")
                if type(value) is PathValue:
                    base_defconfig = self._path_item(layer, value, span, "defconfig", spec, "file")["path"]
                    base_in_tree = ()
                else:
                    base_defconfig = expect_plain_string(value, span, f"'defconfig' of layer '{layer.name}'")
                    base_in_tree = (base_defconfig,) if "/" in base_defconfig else ()
        parts = self.fragment_parts("buildroot", spec, "")
        gen_doc = [{"symbol": s, "value": spec.add(v)} for s, v in generated if s != "BR2_TARGET_OPTIMIZATION"]
        gen_doc += [{"symbol": s, "value": spec.add(v)} for s, v in generated if s == "BR2_TARGET_OPTIMIZATION"]
        config = self.make("config", "config-merge", spec.text({"parts": parts, "generated": gen_doc, "base": base_defconfig}), ("out", "provenance"))
        add("config", config)
        # resolved, show_info and image need the Buildroot source (and the host's compiler
        # version): they are made when asked for, so the offline bundle needs neither
        def made() -> dict[str, Any]:
            out = {"resolved": self._resolved(config, external_drv, buildroot, buildroot_span, base_in_tree)}
            if buildroot is not None:
                out.update(buildroot_derivations(
                    self.host, self.ev, self.table, self.name, buildroot, buildroot_span, out["resolved"],
                    self.value(external_drv) if external_drv is not None else None, self.span,
                ))
            return out

        names = ("resolved", "show_info", "image") if buildroot is not None else ("resolved",)
        attrs_out.update(made_once(made, names, self.span))
        if buildroot is None:
            for attr in ("show_info", "image"):
                attrs_out[attr] = no_buildroot(self.name, attr, self.span)
        # the default bundle
        spec = _Spec()
        entries = {k: spec.add(v) for k, v in bundle_entries.items()}
        bundle = self.make("bundle", "bundle", spec.text({"entries": entries}))
        result = self.value(bundle)
        result.values.update(attrs_out)
        result.values["layers"] = tuple(layer.name for layer in self.layers)
        result.values["system"] = self.name
        return result

    def _resolved(self, config, external_drv, buildroot: Any, span: Span | None, base_in_tree: tuple[str, ...]) -> Any:
        """``resolved`` reads the Kconfig view of a local Buildroot tree (and the base
        defconfig, when it is named by its path in the tree)."""
        if buildroot is None:
            return no_buildroot(self.name, "resolved", self.span)
        spec = _Spec()
        doc = {
            "buildroot": spec.add(self.host.source(buildroot, span, "the Buildroot source", kconfig_view=base_in_tree)),
            "config": spec.add(self.out_text(config)),
            "provenance": spec.add(self.out_text(config, "provenance")),
            "external": spec.add(self.out_text(external_drv)) if external_drv is not None else None,
            "host": self.host.host_info(),
        }
        return self.value(self.make("resolved", "kconfig-resolve", spec.text(doc), ("out", "report")))


def made_once(make: Callable[[], dict[str, Any]], names: tuple[str, ...], span: Span | None) -> dict[str, Thunk]:
    """Attributes ``names`` as thunks over one call of ``make`` (which returns them all): the
    derivations are made when the first of them is asked for, and once."""
    made: dict[str, Any] = {}

    def get(attr: str) -> Any:
        if not made:
            made.update(make())
        return force(made[attr])

    return {attr: Thunk(lambda _env, attr=attr: get(attr), None, (f"attribute '{attr}'", span)) for attr in names}


def no_buildroot(system: str, attr: str, span: Span | None) -> Thunk:
    """The value of ``resolved``/``show_info``/``image`` of a system without a Buildroot source:
    an error (E163) that says how to give one, when it is asked for."""

    def missing(_env: Any) -> Any:
        raise SkiffError(
            NO_BUILDROOT,
            f"system '{system}' has no Buildroot source, which '{attr}' needs",
            span,
            help=["add 'buildroot = fetchgit { ... };' to the system, or pass --override-input buildroot=PATH"],
        )

    return Thunk(missing, None)


def buildroot_derivations(host: SystemHost, ev, table: DrvTable, name: str, buildroot: Any, br_span: Span | None, resolved: Attrs,
                          external: Attrs | None, span: Span | None) -> dict[str, Attrs]:
    """A system's ``show_info`` and ``image`` (Buildroot's ``make show-info`` and ``make``):
    they take the whole Buildroot tree."""
    spec = _Spec()
    doc = {
        "buildroot": spec.add(host.source(buildroot, br_span, "the Buildroot source")),
        "resolved": spec.add(coerce_to_string(ev, resolved, span)),
        "external": spec.add(coerce_to_string(ev, external, span)) if external is not None else None,
        "system": name,
    }
    show = table.make(f"{name}-show-info", ("builtin:buildroot-show-info", frozenset()), (), {"spec": spec.text(doc)}, span=span)
    show_value = table.value(show)
    doc["show_info"] = spec.add(coerce_to_string(ev, show_value, span))
    image = table.make(f"{name}-image", ("builtin:buildroot", frozenset()), (), {"spec": spec.text(doc)}, span=span)
    return {"show_info": show_value, "image": table.value(image)}


def _special_modes(root: str) -> dict[str, str]:
    """Permissions in a directory tree that the store does not keep (it keeps only the
    executable bit): every entry whose mode is not 0644/0755 (files) or 0755 (directories)."""
    modes: dict[str, str] = {}
    for top, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in dirnames + sorted(filenames):
            path = os.path.join(top, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                continue
            # group and other write bits follow the checkout's umask, not the layer's intent
            mode = stat.S_IMODE(st.st_mode) & ~0o022
            usual = (0o755,) if stat.S_ISDIR(st.st_mode) else (0o644, 0o755)
            if mode not in usual:
                rel = os.path.relpath(path, root)
                _check_table_name(rel, None)
                modes[rel] = f"{mode:04o}"
    return modes


def _check_table_name(rel: str, span: Span | None) -> None:
    """A file with a special mode is named in Buildroot's permission table, whose fields are
    separated by blanks: such a name cannot hold one."""
    if any(c.isspace() for c in rel):
        raise SkiffError(
            BAD_FILES,
            f"'{rel}' has a special mode but its name holds a blank, which Buildroot's permission table cannot name",
            span,
            help=["rename the file, or give it mode 0644/0755 and set the mode in a post-build hook"],
        )


def _line_spans(text: str, where: list, span: Span | None = None) -> list:
    """Where each assignment line of a text fragment was written: from the field's line on, the
    next source line that reads the same (or, on the field's own lines, contains it: a one-line
    string); a line that reads nowhere as it is (made by interpolation, or a string defined
    elsewhere) gets the previous line's place, or the field's."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if span is None or span.source is None:
        return [where] * len(lines)
    source = span.source.text.splitlines()
    row, col = span.line - 1, 0  # where the next search starts (0-based line, column)
    out, current = [], where
    for line in lines:
        found = None
        for i in range(row, min(span.end_line, len(source))):  # the field's own lines: contains it
            at = source[i].find(line, col if i == row else 0)
            if at >= 0:
                found = (i, at)
                break
        if found is None:  # further on: a line that reads the same
            i = next((i for i in range(row + (col > 0), len(source)) if source[i].strip() == line), None)
            if i is not None:
                found = (i, source[i].find(line))
        if found is not None:
            current = [where[0], found[0] + 1, found[1] + 1]
            row, col = found[0], found[1] + len(line)
        out.append(current)
    return out


def _describe(value: Any) -> str:
    from skiffeval.eval.values import describe

    return describe(value)


_FILE_NAME_OK = __import__("re").compile(r"^(?!/)(?!.*(^|/)\.\.?(/|$))[^\0]+$")


def system_builtins(host: SystemHost) -> Registry:
    """``system``, ``files``, ``writeText``, ``fragment``, ``fetchurl`` and ``fetchgit``."""
    registry = Registry()
    table = host.table

    @builtin("system", "spec", is_global=True, registry=registry)
    def system(ev, span, spec):
        """A system from ordered layers and a Buildroot source (see docs/layers.md)."""
        spec = expect_attrs(spec, span, "the argument of 'system'")
        for key in spec.values:
            if key not in SYSTEM_FIELDS:
                raise SkiffError(BAD_SYSTEM, f"unknown system field '{key}'", spec.span_of(key) or span,
                                 help=did_you_mean_help(key, SYSTEM_FIELDS) or [f"the fields are {', '.join(sorted(SYSTEM_FIELDS))}"])
        name = force(spec.values.get("name", "system"))
        if type(name) is not str or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9+._-]*", name):
            raise SkiffError(BAD_SYSTEM, "the system name must be a string of letters, digits, '.', '_', '+' and '-', found "
                             + (f"'{name}'" if type(name) in (str, CStr) else _describe(name)), spec.span_of("name") or span)
        if "layers" not in spec.values:
            raise SkiffError(BAD_SYSTEM, "a system needs 'layers' (a list of layers)", span)
        layers_value = force(spec.values["layers"])
        layers_span = spec.span_of("layers") or span
        if type(layers_value) is not tuple:
            raise SkiffError(BAD_SYSTEM, f"'layers' of a system must be a list of layers, found {_describe(layers_value)}", layers_span)
        shadowed: list[tuple[Layer, Layer]] = []
        layers = order_layers([(v, layers_span) for v in layers_value], host.validated, shadowed)
        host.warnings.extend(shadowed_layer_warning(kept, dropped, name) for kept, dropped in shadowed)
        host.systems[name] = layers
        from skiffeval.session.commands import layer_commands

        host.commands[name] = [c for layer in layers for c in layer_commands(ev, layer)]
        buildroot = spec.values.get("buildroot")
        br_span = spec.span_of("buildroot") or span
        buildroot = host.override("buildroot", force(buildroot) if buildroot is not None else None, br_span)
        return _SystemBuilder(ev, host, name, layers, span).build(buildroot, br_span)

    @builtin("files", "entries", is_global=True, registry=registry)
    def files(ev, span, entries):
        """A generated file tree: ``{ "etc/motd" = "text"; "bin/x" = { text; mode = "0755"; };
        "link" = { symlink = "target"; }; "copy" = { source = ./file; }; }``."""
        entries = expect_attrs(entries, span, "the argument of 'files'")
        spec = _Spec()
        doc: dict[str, Any] = {}
        for rel in sorted(entries.values):
            where = entries.span_of(rel) or span
            if not _FILE_NAME_OK.match(rel) or rel.endswith("/"):
                raise SkiffError(BAD_FILES, f"file name '{rel}' must be a relative path without '.' or '..' components", where)
            value = force(entries.values[rel])
            if type(value) in (str, CStr):
                doc[rel] = {"text": spec.add(coerce_to_string(ev, value, where))}
                continue
            attrs = expect_attrs(value, where, f"the entry '{rel}' of 'files'")
            item: dict[str, Any] = {}
            for key in attrs.values:
                if key not in ("text", "mode", "symlink", "source", "executable"):
                    raise SkiffError(BAD_FILES, f"unknown key '{key}' in the entry '{rel}' of 'files'", attrs.span_of(key) or where,
                                     help=did_you_mean_help(key, ("text", "mode", "symlink", "source")))
            kinds = [k for k in ("text", "symlink", "source") if k in attrs.values]
            if len(kinds) != 1:
                raise SkiffError(BAD_FILES, f"the entry '{rel}' of 'files' needs exactly one of 'text', 'symlink' or 'source'", where)
            kind = kinds[0]
            if kind == "source":
                src = force(attrs.values["source"])
                if type(src) is PathValue and ev.io.file_type(src.path) == "directory":
                    raise SkiffError(BAD_FILES, f"the source of '{rel}' in 'files' is a directory; 'files' holds files",
                                     attrs.span_of("source") or where, help=["put a directory into 'overlay' instead"])
            item[kind] = spec.add(coerce_to_string(ev, attrs.values[kind], attrs.span_of(kind) or where))
            mode = force(attrs.values.get("mode", "0755" if force(attrs.values.get("executable", False)) is True else "0644"))
            if type(mode) is not str or not mode.isdigit() or len(mode) not in (3, 4) or any(c > "7" for c in mode):
                raise SkiffError(BAD_FILES, f"mode of '{rel}' must be an octal string such as \"0644\"", attrs.span_of("mode") or where)
            item["mode"] = mode
            if mode not in ("0644", "0755"):
                _check_table_name(rel, where)
            doc[rel] = item
        names = sorted(doc)
        for a, b in zip(names, names[1:]):
            if b.startswith(a + "/"):
                raise SkiffError(BAD_FILES, f"'{a}' of 'files' is a file, so '{b}' cannot be inside it", entries.span_of(b) or span,
                                 related=[Note(f"'{a}' is defined here", entries.span_of(a))] if entries.span_of(a) else [])
        first = sorted(doc)[0].rsplit("/", 1)[-1] if doc else "empty"
        name = "files-" + (re.sub(r"[^A-Za-z0-9+._?=-]+", "_", first).lstrip(".") or "tree")
        drv = table.make(name, ("builtin:files", frozenset()), (), {"spec": spec.text({"entries": doc})}, span=span)
        modes = {rel: item["mode"] for rel, item in doc.items() if "mode" in item and item["mode"] not in ("0644", "0755")}
        return table.value(drv, {"modes": Attrs(modes)})

    @builtin("writeText", "name", "text", is_global=True, registry=registry)
    def write_text(ev, span, name, text):
        """A store file named ``name`` with the content ``text``."""
        name = expect_plain_string(name, span, "the first argument of 'writeText'")
        content = coerce_to_string(ev, text, span, what="the second argument of 'writeText'")
        drv = table.make(name, ("builtin:write-text", frozenset()), (), {"text": content}, span=span)
        return table.value(drv)

    @builtin("fragment", "spec", is_global=True, registry=registry)
    def fragment(ev, span, spec):
        """A shareable fragment file: ``fragment { name = "x"; values = { BR2_FOO = true; }; }``
        or ``fragment { name = "x"; text = ''...''; }``."""
        spec = expect_attrs(spec, span, "the argument of 'fragment'")
        name = expect_plain_string(force(spec.values.get("name", "fragment")), spec.span_of("name") or span, "the fragment name")
        text = ""
        if "values" in spec.values:
            values = expect_attrs(force(spec.values["values"]), spec.span_of("values") or span, "'values' of a fragment")
            lines = []
            context: frozenset = frozenset()
            for symbol in values.values:
                v = force(values.values[symbol])
                if type(v) is CStr:
                    context |= v.context
                    v = str(v)
                lines.append(render_fragment_value(symbol, v, span=values.span_of(symbol) or span))
            text += "".join(line + "\n" for line in lines)
        else:
            context = frozenset()
        if "text" in spec.values:
            more, more_context = coerce_to_string(ev, spec.values["text"], spec.span_of("text") or span)
            context |= more_context
            text += more if more.endswith("\n") or not more else more + "\n"
        drv = table.make(name, ("builtin:write-text", frozenset()), (), {"text": (text, context)}, span=span)
        return table.value(drv)

    def _fixed(ev, span, spec, mode: str, fetcher: str, required: tuple[str, ...]):
        spec = expect_attrs(spec, span, f"the argument of '{fetcher}'")
        for key in required:
            if key not in spec.values:
                raise SkiffError(BAD_SYSTEM, f"'{fetcher}' needs '{key}'", span)
        hash_key = "hash" if "hash" in spec.values else "sha256"
        if hash_key not in spec.values:
            raise SkiffError(BAD_SYSTEM, f"'{fetcher}' needs 'hash' (the SHA-256 of what it fetches)", span,
                             help=["fetches are pinned: the content is checked before it enters the store"])
        url = expect_plain_string(force(spec.values["url"]), spec.span_of("url") or span, "the url")
        default_name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "source"
        name = expect_plain_string(force(spec.values.get("name", default_name)), spec.span_of("name") or span, "the name")
        try:
            fixed = FixedOutput(expect_plain_string(force(spec.values[hash_key]), spec.span_of(hash_key) or span, "the hash"), mode)
        except SkiffError as exc:
            exc.span = exc.span or spec.span_of(hash_key) or span
            raise
        env: dict[str, Text] = {"url": (url, frozenset())}
        if "rev" in spec.values:
            env["rev"] = (expect_plain_string(force(spec.values["rev"]), spec.span_of("rev") or span, "the rev"), frozenset())
        drv = table.make(name, (f"builtin:{fetcher}", frozenset()), (), env, fixed=fixed, span=span)
        return table.value(drv, {"url": url, **({"rev": env["rev"][0]} if "rev" in env else {})})

    @builtin("fetchurl", "spec", is_global=True, registry=registry)
    def fetchurl(ev, span, spec):
        """A file downloaded from ``url`` and checked against ``hash`` (SHA-256)."""
        return _fixed(ev, span, spec, "flat", "fetchurl", ("url",))

    @builtin("fetchgit", "spec", is_global=True, registry=registry)
    def fetchgit(ev, span, spec):
        """The tree of a git commit (``url``, ``rev``), checked against ``hash`` (skiffeval's
        tree SHA-256, docs/store.md)."""
        return _fixed(ev, span, spec, "recursive", "fetchgit", ("url", "rev"))

    return registry
