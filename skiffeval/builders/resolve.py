"""``builtin:kconfig-resolve``: the full Buildroot ``.config`` and minimal defconfig, resolved
in-process by kconfiglib against the system's Buildroot source and external trees, with the
provenance report (docs/layers.md, "resolved"; docs/kconfig.md).

Inputs (JSON ``spec``): ``buildroot`` (the source tree), ``config`` (the ``config``
derivation's ``out``: ``meta.json`` names the base defconfig), ``provenance`` (its
``provenance`` output: each part's normalized text with the span of every line), ``external``
(the ``external`` derivation's output, or null) and ``host`` (the build machine's arch and GCC
major version, which Buildroot's Kconfig reads; the session pins them in the spec).

Outputs: ``out`` — ``config`` (the ``.config``) and ``defconfig`` (the minimal defconfig);
``report`` — ``report.json`` and ``report.txt``.  Split so that a report-only change (a line
moved) does not change ``out``, and the image built from it is not rebuilt.

For the path-list variables skiffeval generates (``LIST_SYMBOLS``), the base defconfig's value
comes first: a board starting from ``qemu_x86_64`` keeps Buildroot's own patches and scripts.
"""

from __future__ import annotations

import json
import os

from skiffeval.builders.layers import LIST_SYMBOLS, read_text, spec_of
from skiffeval.builders.registry import register_builder
from skiffeval.diagnostics import Span
from skiffeval.kconfig import Fragment, HostInfo, parse_fragment, read_buildroot_source, read_external
from skiffeval.kconfig.buildroot import resolve_buildroot
from skiffeval.kconfig.fragment import quote_string, unquote_string
from skiffeval.store.build import BuildContext

__all__: list[str] = []


def _fragments(provenance: dict) -> list[Fragment]:
    out = []
    for part in provenance["parts"]:
        spans = tuple(Span.point(f, line, col) for f, line, col in part["spans"])
        out.append(Fragment(part["text"], part["file"], part["layer"], spans or None))
    return out


def _with_base_lists(fragments: list[Fragment], base_config: str) -> list[Fragment]:
    """Prepend the values the list symbols have without the layers (the base defconfig's, or
    Kconfig's defaults such as 'system/device_table.txt') to the generated part."""
    base_values: dict[str, list[str]] = {}
    for a in parse_fragment(base_config, "base").assignments:
        if a.symbol in LIST_SYMBOLS and a.value is not None:
            base_values[a.symbol] = (unquote_string(a.value) or "").split()
    if not base_values or not fragments or fragments[-1].layer != "(skiffeval)":
        return fragments
    generated = fragments[-1]
    lines = []
    for line in generated.text.splitlines():
        symbol, _, value = line.partition("=")
        if symbol in base_values:
            words = list(base_values[symbol])
            for w in (unquote_string(value) or "").split():
                if w not in words:
                    words.append(w)
            line = f"{symbol}={quote_string(' '.join(words))}"
        lines.append(line)
    text = "".join(line + "\n" for line in lines)
    return fragments[:-1] + [Fragment(text, generated.file, generated.layer, generated.line_spans)]


@register_builder("kconfig-resolve")
def kconfig_resolve(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    source = read_buildroot_source(spec["buildroot"])
    externals = []
    if spec.get("external"):
        for entry in json.loads(read_text(os.path.join(spec["external"], "externals.json"))):
            externals.append(read_external(entry["path"] if "path" in entry else os.path.join(spec["external"], entry["dir"])))
    meta = json.loads(read_text(os.path.join(spec["config"], "meta.json")))
    provenance = json.loads(read_text(os.path.join(spec["provenance"], "provenance.json")))
    fragments = _fragments(provenance)
    base = meta.get("base")
    if base and "/" not in base and not base.endswith("_defconfig"):
        base += "_defconfig"  # layers name Buildroot's configs/<name>_defconfig as <name>
    host = HostInfo(spec["host"]["arch"], spec["host"]["gcc_version"])
    if fragments and fragments[-1].layer == "(skiffeval)":
        # the list symbols' values without the layers (the parsed tree is cached: ~60 ms)
        plain = resolve_buildroot(source, externals=externals, defconfig=base or None, fragments=(), host=host)
        fragments = _with_base_lists(fragments, plain.config)
    ctx.log.write(f"resolving against {spec['buildroot']} (base defconfig: {base or 'none'})\n")
    result = resolve_buildroot(
        source, externals=externals, defconfig=base or None, fragments=fragments, host=host,
        defconfig_path=meta.get("defconfig_path"),
    )
    out = ctx.outputs["out"]
    os.mkdir(out)
    with open(out / "config", "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(result.config)
    with open(out / "defconfig", "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(result.defconfig)
    report = ctx.outputs["report"]
    os.mkdir(report)
    with open(report / "report.json", "w", encoding="utf-8") as f:
        json.dump(result.report.to_json(), f, indent=1, sort_keys=True)
        f.write("\n")
    with open(report / "report.txt", "w", encoding="utf-8") as f:
        f.write(result.report.to_text(info=True))
    ctx.log.write(result.report.to_text())
