"""In-process builders for a system's derivations (docs/layers.md, "A system's derivations").

Each builder reads a JSON ``spec`` from its environment (input paths already resolved to real
store paths) and writes its outputs:

* ``config-merge`` — the merged Buildroot defconfig input: every layer fragment in order under
  a ``# from <layer> <file>`` header, *normalized* (assignments only: comments and blank lines
  dropped, so a comment-only edit yields the same output and nothing downstream rebuilds), then
  the variables skiffeval generates.  Outputs ``out`` (``defconfig``, ``meta.json``) and
  ``provenance`` (``provenance.json``: each part's normalized text and, per line, the file, line
  and column that set it — what the ``resolved`` report points at).
* ``fragment-merge`` — kernel/U-Boot/BusyBox fragments, "last fragment wins, earlier assignment
  removed": each symbol once, in the part that set it last.
* ``overlay-merge`` — one tree from several, later trees win; symlinks are copied as links
  (never followed), modes are kept.
* ``patch-dirs`` — Buildroot's global patch directories (and kernel/U-Boot patches) copied in
  order as ``<kind>/<NN>-<layer>/``, keeping the ``<pkg>/[<version>/]`` layout.
* ``br2-external`` — BR2_EXTERNAL trees validated (``external.desc`` with a unique ``name:``,
  ``Config.in``, ``external.mk``) and copied in order as ``<NN>-<name>/``.
* ``hook-wrappers`` — ``post-build.sh``/``post-image.sh`` running each layer's hook in order.
* ``concat`` — files and texts concatenated (makeuser tables).
* ``files`` — a tree generated from ``{ path = text | { text; mode; } | { symlink; }; }``.
* ``bundle`` — a directory of symlinks naming a system's outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from typing import Any

from skiffeval.builders.registry import register_builder
from skiffeval.diagnostics import SkiffError, Span
from skiffeval.kconfig import Fragment, parse_fragment, render_assignment
from skiffeval.kconfig.fragment import quote_string, unquote_string
from skiffeval.store.build import BuildContext
from skiffeval.store.codes import BUILD_FAILED

from skiffeval.builders.revisions import REVISIONS

__all__ = ["LIST_SYMBOLS", "REVISIONS", "spec_of", "read_text"]


# Buildroot variables whose value is a space-separated list of paths: skiffeval appends what it
# generates to what layers (and, in 'resolved', the base defconfig) give, instead of replacing.
LIST_SYMBOLS = (
    "BR2_GLOBAL_PATCH_DIR",
    "BR2_ROOTFS_OVERLAY",
    "BR2_ROOTFS_POST_BUILD_SCRIPT",
    "BR2_ROOTFS_POST_IMAGE_SCRIPT",
    "BR2_ROOTFS_USERS_TABLES",
    "BR2_LINUX_KERNEL_PATCH",
    "BR2_TARGET_UBOOT_PATCH",
    "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
    "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES",
    "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES",
    "BR2_ROOTFS_DEVICE_TABLE",
)


def spec_of(ctx: BuildContext) -> dict[str, Any]:
    """The builder's JSON spec (env ``spec``)."""
    text = ctx.env.get("spec")
    if text is None:
        raise SkiffError(BUILD_FAILED, f"builder '{ctx.builder}' needs the environment variable 'spec'")
    return json.loads(text)


def read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def _write(path: str, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)


def _span(item: list | None) -> Span | None:
    if not item:
        return None
    return Span.point(item[0], item[1], item[2] if len(item) > 2 else 1)


def _part_fragment(part: dict[str, Any]) -> Fragment:
    """The fragment of one spec part: a file's text, or inline text with its spans."""
    if part.get("path"):
        text = read_text(part["path"])
        return Fragment(text, part["file"], part["layer"])
    spans = tuple(s for s in (_span(x) for x in part.get("spans") or ()) if s is not None)
    return Fragment(part.get("text") or "", part["file"], part["layer"], spans or None)


def _parse(fragment: Fragment, prefix: str, log) -> list:
    parsed = parse_fragment(fragment.text, fragment.file, prefix=prefix, line_spans=fragment.line_spans)
    from skiffeval.diagnostics import Severity, render_text

    errors = [d for d in parsed.diagnostics if d.severity is Severity.ERROR]
    for d in parsed.diagnostics:
        log.write(render_text(d) + "\n")
    if errors:
        first = errors[0]
        raise SkiffError(first.code, first.message, first.span, help=first.help)
    return list(parsed.assignments)


def _span_doc(span: Span) -> list:
    return [span.file, span.line, span.col]


def _header(part: dict[str, Any]) -> str:
    return f"# from {part['layer']} {part['label']}"


@register_builder("config-merge")
def config_merge(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    lines: list[str] = []
    parts_doc: list[dict[str, Any]] = []
    list_values: dict[str, list[str]] = {}
    for part in spec["parts"]:
        fragment = _part_fragment(part)
        assignments = _parse(fragment, "", ctx.log)
        body = [render_assignment(a) for a in assignments]
        lines.append(_header(part))
        lines.extend(body)
        lines.append("")
        parts_doc.append(
            {
                "layer": part["layer"],
                "file": part["file"],
                "text": "".join(line + "\n" for line in body),
                "spans": [_span_doc(a.span) for a in assignments],
            }
        )
        for a in assignments:
            if a.symbol in LIST_SYMBOLS and a.value is not None:
                list_values.setdefault(a.symbol, []).extend((unquote_string(a.value) or "").split())
    generated_lines: list[str] = []
    generated_spans: list[list] = []
    for item in spec.get("generated", ()):
        symbol, value = item["symbol"], item["value"]
        if symbol in LIST_SYMBOLS:
            words: list[str] = []
            for w in list_values.get(symbol, []) + value.split():
                if w not in words:
                    words.append(w)
            value = " ".join(words)
        generated_lines.append(f"{symbol}={quote_string(value)}")
        generated_spans.append(item.get("span") or ["(generated by skiffeval)", len(generated_lines), 1])
    if generated_lines:
        lines.append("# generated by skiffeval")
        lines.extend(generated_lines)
        lines.append("")
        parts_doc.append(
            {
                "layer": "(skiffeval)",
                "file": "(generated)",
                "text": "".join(line + "\n" for line in generated_lines),
                "spans": generated_spans,
            }
        )
    out = ctx.outputs["out"]
    os.mkdir(out)
    _write(str(out / "defconfig"), "\n".join(lines).rstrip("\n") + "\n" if lines else "")
    _write(str(out / "meta.json"), json.dumps({"base": spec.get("base"), "list_symbols": sorted(list_values)}, indent=2, sort_keys=True) + "\n")
    prov = ctx.outputs["provenance"]
    os.mkdir(prov)
    _write(str(prov / "provenance.json"), json.dumps({"base": spec.get("base"), "parts": parts_doc}, indent=1, sort_keys=True) + "\n")


@register_builder("fragment-merge")
def fragment_merge(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    prefix = spec.get("prefix", "CONFIG_")
    parsed: list[tuple[dict[str, Any], list]] = []
    last: dict[str, tuple[int, int]] = {}
    for pi, part in enumerate(spec["parts"]):
        assignments = _parse(_part_fragment(part), prefix, ctx.log)
        parsed.append((part, assignments))
        for ai, a in enumerate(assignments):
            last[a.symbol] = (pi, ai)
    lines: list[str] = []
    for pi, (part, assignments) in enumerate(parsed):
        kept = [render_assignment(a, prefix) for ai, a in enumerate(assignments) if last[a.symbol] == (pi, ai)]
        if kept:
            lines.append(_header(part))
            lines.extend(kept)
            lines.append("")
    _write(str(ctx.out), "\n".join(lines).rstrip("\n") + "\n" if lines else "")


def copy_tree_into(src: str, dest: str, log=None) -> None:
    """Copy ``src`` over ``dest`` (later wins): directories merged, files and links replaced,
    links copied as links, modes kept (only permission bits)."""
    if os.path.islink(src) or not os.path.isdir(src):
        _copy_entry(src, dest, log)
        return
    os.makedirs(dest, exist_ok=True)
    for name in sorted(os.listdir(src)):
        s, d = os.path.join(src, name), os.path.join(dest, name)
        if os.path.isdir(s) and not os.path.islink(s):
            if os.path.lexists(d) and (os.path.islink(d) or not os.path.isdir(d)):
                os.unlink(d)
            copy_tree_into(s, d, log)
        else:
            _copy_entry(s, d, log)


def _copy_entry(s: str, d: str, log=None) -> None:
    if os.path.lexists(d):
        if os.path.isdir(d) and not os.path.islink(d):
            shutil.rmtree(d)
        else:
            os.unlink(d)
        if log is not None:
            log.write(f"replaced: {d}\n")
    if os.path.islink(s):
        os.symlink(os.readlink(s), d)
    else:
        shutil.copyfile(s, d, follow_symlinks=False)
        os.chmod(d, stat.S_IMODE(os.lstat(s).st_mode) | 0o200)


@register_builder("overlay-merge")
def overlay_merge(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    out = str(ctx.out)
    os.mkdir(out)
    modes: dict[str, str] = {}
    for item in spec["trees"]:
        ctx.log.write(f"overlay from {item['layer']}: {item['label']}\n")
        copy_tree_into(item["path"], out, ctx.log)
        for rel in list(modes):  # a later tree replaces the file, and its mode with it
            if os.path.lexists(os.path.join(item["path"], rel)):
                del modes[rel]
        modes.update(item.get("modes") or {})
    # The store keeps only the executable bit; the modes the layers asked for are applied by
    # Buildroot from this permission table (BR2_ROOTFS_DEVICE_TABLE, makedevs format).
    lines = ["# <name> <type> <mode> <uid> <gid> <major> <minor> <start> <inc> <count>"]
    for rel in sorted(modes):
        path = os.path.join(out, rel)
        if not os.path.lexists(path) or os.path.islink(path):
            continue
        kind = "d" if os.path.isdir(path) else "f"
        lines.append(f"/{rel} {kind} {modes[rel].lstrip('0') or '0'} 0 0 - - - - -")
    _write(str(ctx.outputs["permissions"]), "\n".join(lines) + "\n")


@register_builder("patch-dirs")
def patch_dirs(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    out = str(ctx.out)
    os.mkdir(out)
    for kind in ("buildroot", "kernel", "uboot"):
        items = spec.get(kind) or []
        if not items:
            continue
        os.mkdir(os.path.join(out, kind))
        for item in items:
            dest = os.path.join(out, kind, item["dir"])
            copy_tree_into(item["path"], dest, ctx.log)
            if kind == "buildroot":
                for name in sorted(os.listdir(dest)):
                    if os.path.isfile(os.path.join(dest, name)) and name.endswith(".patch"):
                        ctx.log.write(
                            f"warning: {item['layer']}: '{item['label']}/{name}' is at the top of a global patch "
                            "directory; Buildroot only reads <package>/[<version>/]*.patch\n"
                        )


_DESC_NAME = re.compile(r"^name:\s*(\S+)\s*$", re.M)


@register_builder("br2-external")
def br2_external(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    out = str(ctx.out)
    os.mkdir(out)
    seen: dict[str, str] = {}
    entries = []
    for item in spec["trees"]:
        path = item["path"]
        for required in ("external.desc", "Config.in", "external.mk"):
            if not os.path.isfile(os.path.join(path, required)):
                raise SkiffError(
                    BUILD_FAILED,
                    f"BR2_EXTERNAL tree '{item['label']}' of layer '{item['layer']}' has no '{required}'",
                    help=["an external tree needs external.desc (with 'name:'), Config.in and external.mk"],
                )
        m = _DESC_NAME.search(read_text(os.path.join(path, "external.desc")))
        if m is None:
            raise SkiffError(BUILD_FAILED, f"external.desc of '{item['label']}' (layer '{item['layer']}') has no 'name:' line")
        name = m.group(1)
        if name in seen:
            raise SkiffError(
                BUILD_FAILED,
                f"BR2_EXTERNAL name '{name}' is used by two trees: '{seen[name]}' and '{item['label']}' (layer '{item['layer']}')",
            )
        seen[name] = item["label"]
        dest = os.path.join(out, item["dir"])
        copy_tree_into(path, dest, ctx.log)
        entries.append({"name": name, "dir": item["dir"], "layer": item["layer"]})
    _write(os.path.join(out, "externals.json"), json.dumps(entries, indent=2, sort_keys=True) + "\n")


@register_builder("hook-wrappers")
def hook_wrappers(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    out = str(ctx.out)
    os.mkdir(out)
    for kind, file_name in (("post_build", "post-build.sh"), ("post_image", "post-image.sh")):
        lines = [
            "#!/bin/sh",
            f"# {file_name}: generated by skiffeval; runs each layer's {kind} hook in layer order.",
            "# Buildroot calls it with the target (or images) directory as $1.",
            "set -e",
        ]
        hook = file_name.removesuffix(".sh")
        for item in spec.get(kind) or []:
            layer_dir = item.get("resources") or ""
            # the marker lines are what a failed build is attributed by (buildroot.failures)
            who = _sh(f"{hook} hook of layer '{item['layer']}' ({item['label']})")
            lines.append(f"# layer {item['layer']}: {item['label']}")
            lines.append(f"echo skiffeval: running the {who}")
            lines.append(
                f"SKIFFEVAL_LAYER={_sh(item['layer'])} SKIFFEVAL_LAYER_DIR={_sh(layer_dir)} "
                f"SKIFF_CURRENT_CONF_DIR={_sh(layer_dir)} /bin/sh {_sh(item['path'])} \"$@\" "
                f"|| {{ status=$?; echo skiffeval: the {who} failed with exit status $status >&2; exit $status; }}"
            )
        _write(os.path.join(out, file_name), "\n".join(lines) + "\n", 0o755)


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@register_builder("concat")
def concat(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    chunks = []
    for part in spec["parts"]:
        text = read_text(part["path"]) if part.get("path") else part.get("text", "")
        if text and not text.endswith("\n"):
            text += "\n"
        chunks.append(text)
    _write(str(ctx.out), "".join(chunks))


@register_builder("files")
def files(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    out = str(ctx.out)
    os.mkdir(out)
    for rel in sorted(spec["entries"]):
        entry = spec["entries"][rel]
        dest = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if "symlink" in entry:
            os.symlink(entry["symlink"], dest)
        elif "source" in entry:
            shutil.copyfile(entry["source"], dest, follow_symlinks=True)
            os.chmod(dest, int(entry.get("mode", "0644"), 8))
        else:
            _write(dest, entry["text"], int(entry.get("mode", "0644"), 8))


@register_builder("bundle")
def bundle(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    out = str(ctx.out)
    os.mkdir(out)
    for name in sorted(spec["entries"]):
        os.symlink(spec["entries"][name], os.path.join(out, name))
