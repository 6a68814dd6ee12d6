"""SkiffOS trees as systems: the ``skiffos { root; config; ... }`` builtin.

A real SkiffOS checkout is read with ``skiffeval.skiffos`` (discovery, SkiffOS's resolution, the
chain ``configs-base/pre``, packages, ``overrides``, the workspace override, ``configs-base/post``).
Each folder of the chain is imported into the store as a source, and ``make configure``'s texts
are computed over those store copies (``skiffos.configure``), so every path in them is a store
path, not a workspace path.  The result is a system with the attributes of a native one:

* ``config`` — SkiffOS's final config folder (``skiff_config``, ``buildroot/config``,
  ``kernel/config``, ``uboot/config``, ``busybox/config``, ``users``, ``cflags``,
  ``pre_build.sh``, ``post_build.sh``, ``bind_env.sh``), byte for byte what SkiffOS writes but
  for the paths;
* ``kernel_config``, ``uboot_config``, ``busybox_config``, ``users``, ``hooks`` — those files
  as derivations of their own;
* ``overlay``, ``patches``, ``external`` — the chain's root overlays merged, its patch folders,
  its BR2_EXTERNAL trees (as a native system has them);
* ``resolved`` — the full ``.config`` Buildroot's ``make defconfig`` makes from
  ``buildroot/config`` (kconfiglib), with the provenance report pointing at SkiffOS's files;
* ``layers`` — the chain's folder names; ``chain`` — the resolved ``SKIFF_CONFIG``.

Where SkiffOS would silently lose data, the reader raises an error or returns warnings; the
warnings are the session's (printed by the CLI).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Any

import attrs

from skiffeval.diagnostics import Diagnostic, SkiffError
from skiffeval.eval.builtins.registry import Registry, builtin
from skiffeval.eval.errors import type_error
from skiffeval.eval.runtime import coerce_to_string, expect_attrs, expect_list, expect_plain_string
from skiffeval.eval.values import Attrs, CStr, PathValue, force
from skiffeval.session.codes import BAD_SYSTEM
from skiffeval.session.drvs import DrvTable
from skiffeval.session.system import SystemHost, _Spec, buildroot_derivations, made_once, no_buildroot

__all__ = ["skiffos_builtins", "SKIFFOS_FIELDS"]

SKIFFOS_FIELDS = {
    "root": "the SkiffOS checkout (a path)",
    "config": "SKIFF_CONFIG: package names separated by commas or spaces",
    "workspace": "the workspace name (default \"default\")",
    "extra_paths": "SKIFF_EXTRA_CONFIGS_PATH entries (absolute paths)",
    "overrides": "SKIFF_CONFIG_PATH_<KEY> overrides: { \"pi/4\" = /path; }",
    "buildroot": "the Buildroot source, for 'resolved'",
    "name": "the system's name (default: the config, made a valid name)",
    "version": "SKIFF_VERSION (default: 'git describe --tags' of the checkout, as SkiffOS computes it)",
    "version_commit": "SKIFF_VERSION_COMMIT (default: the checkout's short commit)",
}
_HEADER = re.compile(r"^# Configuration from (.*)$")


def _abs_path(ev, value: Any, span, what: str) -> str:
    value = force(value)
    if type(value) is PathValue:
        return value.path
    if type(value) in (str, CStr) and str(value).startswith("/"):
        return os.path.normpath(str(value))
    raise type_error("an absolute path", value, span, what)


def skiff_version(root: str, log: Any = None) -> tuple[str, str]:
    """SKIFF_VERSION and SKIFF_VERSION_COMMIT as ``scripts/skiff_version.sh`` computes them:
    ``git describe --tags`` (else the short commit) and the short commit; "unknown" outside
    git.  What git read is logged for the evaluation cache."""
    import subprocess

    git_dir = os.path.join(root, ".git")
    if log is not None:
        for rel in ("HEAD", "packed-refs"):
            path = os.path.join(git_dir, rel)
            try:
                with open(path, "rb") as f:
                    log.file(path, f.read())
            except OSError:
                log.kind(path, None)
        for rel in ("refs/tags", "refs/heads"):
            path = os.path.join(git_dir, rel)
            try:
                log.tree(path)
            except OSError:
                pass

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None

    # Only the checkout's own repository counts (SkiffOS would also take one it is nested in:
    # a vendored copy of a tree would then carry its host project's version).
    head = git("rev-parse", "--verify", "--short", "HEAD") if os.path.exists(git_dir) else None
    if head is None:
        return "unknown", "unknown"
    return git("describe", "--tags", "HEAD") or head, head


def _provenance(buildroot_config: str, labels: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """``buildroot/config`` split at SkiffOS's ``# Configuration from`` headers into parts, each
    line mapped back to the file and line it came from (the parts feed ``kconfig-resolve``)."""
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    line_in_file = 0
    preamble: list[str] = []
    for line in buildroot_config.split("\n"):
        m = _HEADER.match(line)
        if m:
            layer, label = labels.get(m.group(1).rstrip("/"), ("(skiffos)", m.group(1)))
            current = {"layer": layer, "file": label, "lines": [], "spans": []}
            parts.append(current)
            line_in_file = 0
            continue
        if current is None:
            preamble.append(line)
            continue
        line_in_file += 1
        current["lines"].append(line)
        current["spans"].append([current["file"], line_in_file, 1])
    # what SkiffOS appends after the last fragment (BR2_CCACHE_DIR, the cflags' optimisation
    # flags) belongs to no fragment file: it is its own, generated part
    generated: list[str] = []
    if parts:
        last = parts[-1]
        while last["lines"] and (last["lines"][-1] == "" or last["lines"][-1].startswith(("BR2_CCACHE_DIR=", "BR2_TARGET_OPTIMIZATION="))):
            line = last["lines"].pop()
            last["spans"].pop()
            if line:
                generated.insert(0, line)
    out = []
    for part in parts:
        lines = part["lines"]
        while lines and lines[-1] == "":  # the blank line before the next header
            lines.pop()
            part["spans"].pop()
        out.append({"layer": part["layer"], "file": part["file"], "text": "".join(x + "\n" for x in lines), "spans": part["spans"]})
    if generated:
        # the joined flags of every cflags file, and the ccache line: SkiffOS's own lines
        file = "(generated by SkiffOS's configure)"
        out.append({"layer": "(skiffos)", "file": file, "text": "".join(x + "\n" for x in generated),
                    "spans": [[file, i + 1, 1] for i in range(len(generated))]})
    return {"base": None, "parts": out}


def skiffos_builtins(host: SystemHost, warnings: list[Diagnostic]) -> Registry:
    """``skiffos`` (global)."""
    registry = Registry()
    table: DrvTable = host.table

    @builtin("skiffos", "spec", is_global=True, registry=registry)
    def skiffos(ev, span, spec):
        """A system from a SkiffOS checkout (see docs/skiffos.md)."""
        from skiffeval import skiffos as sk

        spec = expect_attrs(spec, span, "the argument of 'skiffos'")
        for key in spec.values:
            if key not in SKIFFOS_FIELDS:
                from skiffeval.diagnostics import did_you_mean_help

                raise SkiffError(BAD_SYSTEM, f"unknown skiffos field '{key}'", spec.span_of(key) or span,
                                 help=did_you_mean_help(key, SKIFFOS_FIELDS) or [f"the fields are {', '.join(sorted(SKIFFOS_FIELDS))}"])
        for required in ("root", "config"):
            if required not in spec.values:
                raise SkiffError(BAD_SYSTEM, f"'skiffos' needs '{required}' ({SKIFFOS_FIELDS[required]})", span)
        root = _abs_path(ev, spec.values["root"], spec.span_of("root") or span, "the SkiffOS root")
        config = expect_plain_string(force(spec.values["config"]), spec.span_of("config") or span, "SKIFF_CONFIG")
        workspace = expect_plain_string(force(spec.values.get("workspace", "default")), spec.span_of("workspace") or span, "the workspace")
        extra = [
            _abs_path(ev, p, spec.span_of("extra_paths") or span, "an extra configs path") if type(force(p)) is PathValue else str(force(p))
            for p in expect_list(force(spec.values.get("extra_paths", ())), spec.span_of("extra_paths") or span, "'extra_paths'")
        ]
        overrides: dict[str, str] = {}
        if "overrides" in spec.values:
            o = expect_attrs(force(spec.values["overrides"]), spec.span_of("overrides") or span, "'overrides'")
            for k, v in o.values.items():
                overrides[k] = _abs_path(ev, v, o.span_of(k) or span, f"the override of '{k}'")
        chain = sk.load(root, config, extra_paths=extra, overrides=overrides, workspace=workspace)
        _log_discovery(ev.io, root, extra, chain)
        warnings.extend(chain.warnings)
        default_name = re.sub(r"[^A-Za-z0-9+._?=-]+", "-", config).strip("-")[:80] or "skiffos"
        name = expect_plain_string(force(spec.values.get("name", default_name)), spec.span_of("name") or span, "the name")
        return _build(ev, span, spec, chain, name, root, workspace)

    def _build(ev, span, spec, chain, name: str, root: str, workspace: str) -> Attrs:
        from skiffeval import skiffos as sk

        doc_spec = _Spec()
        stored_entries = []
        folder_context: dict[str, frozenset] = {}  # store folder -> its context element
        labels: dict[str, tuple[str, str]] = {}  # store folder -> (layer, label)
        for entry in chain.entries:
            package = entry.package
            if not package.exists:
                stored_entries.append(entry)
                continue
            text, ctx = coerce_to_string(ev, PathValue(os.path.normpath(entry.path)), span, what=f"the folder of '{entry.name}'")
            doc_spec.context |= ctx
            folder_context[text] = ctx
            stored_entries.append(attrs.evolve(entry, path=text, package=attrs.evolve(package, path=text)))
            rel = os.path.relpath(os.path.normpath(entry.path), root)
            label = f"skiffos:{rel}"
            host.labels[label] = os.path.normpath(entry.path)
            labels[text] = (entry.name, label)
        stored = attrs.evolve(chain, entries=tuple(stored_entries))
        version, commit = skiff_version(root, getattr(ev.io, "log", None))
        if "version" in spec.values:
            version = expect_plain_string(force(spec.values["version"]), spec.span_of("version") or span, "the version")
        if "version_commit" in spec.values:
            commit = expect_plain_string(force(spec.values["version_commit"]), spec.span_of("version_commit") or span, "the commit")
        params = sk.ConfigureParams(final_config_dir="${outputs.out}", buildroot_dir="$BASE_DIR",
                                    ccache_dir="$(HOME)/.buildroot-ccache", version=version, version_commit=commit)
        originals = {text: os.path.normpath(e.path) for text, e in zip((s.path for s in stored_entries), chain.entries) if e.package.exists}
        try:
            out = sk.configure(stored, params)
        except SkiffError as exc:
            exc.span = _unstore_span(exc.span, originals)
            raise
        warnings.extend(_unstore(d, originals) for d in out.warnings)
        files = dict(out.files())
        file_labels: dict[str, tuple[str, str]] = {}
        for path, (layer, folder_label, rest) in _file_labels(out.buildroot_config, labels).items():
            file_labels[path] = (layer, folder_label + rest)
            host.labels[folder_label + rest] = host.labels.get(folder_label, "") + rest
        bind_env = (
            "#!/bin/bash\n"
            f'export SKIFF_CONFIG="{chain.resolution.skiff_config}"\n'
            f'export SKIFF_WORKSPACE="{chain.workspace}"\n'
            'export SKIFF_FINAL_CONFIG_DIR="${outputs.out}"\n'
            'export BUILDROOT_DIR="$BASE_DIR"\n'
            "export PATH=$BUILDROOT_DIR/host/bin:$PATH\n"
        )
        externals = [{"name": os.path.basename(p), "path": p} for p in out.br2_external]
        entries: dict[str, dict[str, str]] = {}
        for rel, text in files.items():
            entries[rel] = {"text": text, "mode": "0755" if rel.endswith(".sh") else "0644"}
        entries["bind_env.sh"] = {"text": bind_env, "mode": "0755"}
        entries["meta.json"] = {"text": json.dumps({"base": None, "defconfig_path": "${outputs.out}/buildroot/config"}, sort_keys=True) + "\n", "mode": "0644"}
        entries["externals.json"] = {"text": json.dumps(externals, sort_keys=True) + "\n", "mode": "0644"}
        entries["br2_external"] = {"text": ":".join(out.br2_external) + "\n", "mode": "0644"}
        configure_drv = table.make(
            f"{name}-configure", ("builtin:files", frozenset()), (),
            {"spec": doc_spec.text({"entries": entries})}, span=span,
        )
        config_value = table.value(configure_drv)
        config_text = coerce_to_string(ev, config_value, span)
        # The provenance derivation is another derivation: its '${outputs.out}' would be its own
        # output, so the configure output's paths are written as that output's placeholder.
        prov = _provenance(out.buildroot_config.replace("${outputs.out}", config_text[0]), file_labels)
        prov_spec = _Spec()
        prov_spec.context = doc_spec.context | config_text[1]
        provenance_drv = table.make(
            f"{name}-provenance", ("builtin:files", frozenset()), (),
            {"spec": prov_spec.text({"entries": {"provenance.json": {"text": json.dumps(prov, indent=1, sort_keys=True) + "\n", "mode": "0644"}}})},
            span=span,
        )
        result_attrs: dict[str, Any] = {"config": config_value}

        def view(attr: str, rel: str) -> None:
            drv = table.make(f"{name}-{attr.replace('_', '-')}", ("builtin:copy", frozenset()), (),
                             {"src": (f"{config_text[0]}/{rel}", config_text[1])}, span=span)
            result_attrs[attr] = table.value(drv)

        view("kernel_config", "kernel/config")
        view("uboot_config", "uboot/config")
        view("busybox_config", "busybox/config")
        view("users", "users")
        hooks = _Spec()
        hooks_drv = table.make(f"{name}-hooks", ("builtin:files", frozenset()), (), {"spec": hooks.text({"entries": {
            "pre_build.sh": {"text": files["pre_build.sh"], "mode": "0755"},
            "post_build.sh": {"text": files["post_build.sh"], "mode": "0755"},
        }})}, span=span)
        result_attrs["hooks"] = table.value(hooks_drv)
        # the chain's overlays merged, patches and external trees, as a native system has them
        overlay_spec, patch_spec, ext_spec = _Spec(), _Spec(), _Spec()
        patch_items: dict[str, list] = {"buildroot": [], "kernel": [], "uboot": []}
        ext_items: list = []
        overlay_items = []
        for i, entry in enumerate(stored.entries):
            pkg = entry.package
            if not pkg.exists:
                continue
            layer, label = labels.get(entry.path, (entry.name, entry.name))
            ctx = folder_context.get(entry.path, frozenset())
            if pkg.root_overlay:
                overlay_spec.context |= ctx
                overlay_items.append({"layer": layer, "label": f"{label}/{pkg.root_overlay}", "path": f"{entry.path}/{pkg.root_overlay}"})
            for kind, attr in (("buildroot", "buildroot_patches"), ("kernel", "kernel_patches"), ("uboot", "uboot_patches")):
                rel = getattr(pkg, attr)
                if rel:
                    patch_spec.context |= ctx
                    patch_items[kind].append({"layer": layer, "label": f"{label}/{rel}", "path": f"{entry.path}/{rel}", "dir": f"{len(patch_items[kind]):02d}-{entry.name.replace('/', '-')}"})
            if pkg.buildroot_ext:
                ext_spec.context |= ctx
                ext_items.append({"layer": layer, "label": f"{label}/{pkg.buildroot_ext.path}", "path": f"{entry.path}/{pkg.buildroot_ext.path}", "dir": f"{len(ext_items):02d}-{entry.name.replace('/', '-')}"})
        if overlay_items:
            drv = table.make(f"{name}-overlay", ("builtin:overlay-merge", frozenset()), (), {"spec": overlay_spec.text({"trees": overlay_items})}, outputs=("out", "permissions"), span=span)
            result_attrs["overlay"] = table.value(drv)
        if any(patch_items.values()):
            drv = table.make(f"{name}-patches", ("builtin:patch-dirs", frozenset()), (), {"spec": patch_spec.text(patch_items)}, span=span)
            result_attrs["patches"] = table.value(drv)
        if ext_items:
            drv = table.make(f"{name}-external", ("builtin:br2-external", frozenset()), (), {"spec": ext_spec.text({"trees": ext_items})}, span=span)
            result_attrs["external"] = table.value(drv)
        # resolved
        buildroot = spec.values.get("buildroot")
        br_span = spec.span_of("buildroot") or span
        buildroot = host.override("buildroot", force(buildroot) if buildroot is not None else None, br_span)
        if buildroot is not None:
            rspec = _Spec()
            doc = {
                "buildroot": rspec.add(host.source(buildroot, br_span, "the Buildroot source", kconfig_view=())),
                "config": rspec.add(config_text),
                "provenance": rspec.add(coerce_to_string(ev, table.value(provenance_drv), span)),
                "external": rspec.add(config_text) if out.br2_external else None,
                "host": host.host_info(),
            }
            drv = table.make(f"{name}-resolved", ("builtin:kconfig-resolve", frozenset()), (), {"spec": rspec.text(doc)}, outputs=("out", "report"), span=span)
            result_attrs["resolved"] = table.value(drv)
            # show_info and image take the whole Buildroot tree: made only when asked for, so a
            # configuration reads no more of it than its Kconfig view
            resolved = result_attrs["resolved"]
            result_attrs.update(made_once(
                lambda: buildroot_derivations(host, ev, table, name, buildroot, br_span, resolved,
                                              config_value if out.br2_external else None, span),
                ("show_info", "image"), span))
        else:
            for attr in ("resolved", "show_info", "image"):
                result_attrs[attr] = no_buildroot(name, attr, span)
        # the default bundle
        bundle = _Spec()
        bundle_entries = {k: bundle.add(coerce_to_string(ev, v, span)) for k, v in result_attrs.items()
                          if k not in ("resolved", "show_info", "image")}
        bundle_drv = table.make(f"{name}-bundle", ("builtin:bundle", frozenset()), (), {"spec": bundle.text({"entries": bundle_entries})}, span=span)
        value = table.value(bundle_drv)
        value.values.update(result_attrs)
        from skiffeval.session.commands import LayerCommand

        host.commands[name] = [
            LayerCommand(entry.name, cmd.name, cmd.description, ("make", cmd.name), f"{entry.path}/{entry.package.extensions}",
                         (("SKIFF_CURRENT_CONF_DIR", entry.path), ("SKIFF_CURRENT_CONF_NAME", entry.name),
                          ("SKIFF_FINAL_CONFIG_DIR", config_text[0]), ("SKIFF_CONFIG", chain.resolution.skiff_config),
                          ("SKIFF_WORKSPACE", workspace)), cmd.span)
            for entry in stored.entries if entry.package.exists and entry.package.extensions
            for cmd in entry.package.commands
        ]
        value.values["layers"] = tuple(e.name for e in chain.entries)
        host.systems[name] = [_chain_layer(entry) for entry in chain.entries if entry.package.exists]
        value.values["chain"] = chain.resolution.skiff_config
        value.values["system"] = name
        return value

    return registry


def _chain_layer(entry: Any) -> Any:
    """A chain folder as a layer record (for listings: name, description, folder)."""
    from skiffeval.session.layers import Layer

    pkg = entry.package
    folder = os.path.normpath(entry.path)
    value = Attrs({"type": "layer", "name": entry.name, "description": (pkg.description or "").strip(),
                   "unlisted": bool(pkg.unlisted), "root": PathValue(folder)})
    return Layer(entry.name, value, folder, None)


def _unstore_span(span: Any, originals: dict[str, str]) -> Any:
    """A span over a store copy of a chain folder, moved to the folder in the checkout."""
    if span is None:
        return None
    for text, original in originals.items():
        if span.file.startswith(text):
            path = original + span.file[len(text):]
            source = span.source
            if source is not None:
                from skiffeval.diagnostics import Source

                source = Source(path, source.text, path)
            return dataclasses.replace(span, file=path, source=source)
    return span


def _unstore(diag: Diagnostic, originals: dict[str, str]) -> Diagnostic:
    """A diagnostic about store copies, about the checkout's files instead."""
    return dataclasses.replace(
        diag,
        span=_unstore_span(diag.span, originals),
        notes=tuple(dataclasses.replace(n, span=_unstore_span(n.span, originals)) for n in diag.notes),
        related=tuple(dataclasses.replace(n, span=_unstore_span(n.span, originals)) for n in diag.related),
    )


def _log_discovery(io: Any, root: str, extra: list[str], chain: Any) -> None:
    """Log what discovery looked at, for the evaluation cache: the two levels of package
    folders under each configs path, and whether each chain folder exists (their contents are
    logged when they are imported)."""
    log = getattr(io, "log", None)
    if log is None:
        return
    for base in [os.path.join(root, "configs"), *extra]:
        try:
            categories = os.listdir(base)
        except OSError:
            log.kind(base, None)
            continue
        log.listing(base, categories)
        for category in categories:
            path = os.path.join(base, category)
            if os.path.isdir(path):
                log.listing(path, os.listdir(path))
    for entry in chain.entries:
        log.kind(os.path.normpath(entry.path), "directory" if entry.package.exists else None)


def _file_labels(buildroot_config: str, folders: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str, str]]:
    """(layer, folder label, path inside the folder) of every file a ``# Configuration from``
    header names."""
    out: dict[str, tuple[str, str, str]] = {}
    for line in buildroot_config.split("\n"):
        m = _HEADER.match(line)
        if not m:
            continue
        path = m.group(1).rstrip("/")
        for folder, (layer, label) in folders.items():
            if path.startswith(folder.rstrip("/") + "/"):
                out[path] = (layer, label, path[len(folder.rstrip("/")):])
                break
    return out
