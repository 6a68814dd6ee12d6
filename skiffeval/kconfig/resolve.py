"""Resolving a configuration: a parsed Kconfig tree plus ordered fragments → ``.config``.

The model
---------
``resolve(spec, fragments, base=...)`` does in-process what ``conf --defconfig`` does with
the base defconfig followed by every fragment: clear the cached tree's user values, apply
the base's assignments and then each fragment's in order (``apply``), and write the full
``.config`` and the minimal defconfig (``writer``).  The provenance report (``report``)
explains the result line by line.

The parsed tree is shared by every resolution of the same ``TreeSpec`` in the process; a
resolution first clears all user values and choice selections (``unset_values``) and sets
the late environment, so it gives exactly what a fresh parse would (a test checks this).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import attrs

from skiffeval.diagnostics import Diagnostic, Span
from skiffeval.kconfig.apply import apply_assignments
from skiffeval.kconfig.engine import ParsedTree, TreeSpec, parse_count, parse_tree, recursion_limit
from skiffeval.kconfig.fragment import Assignment, Fragment, parse_fragment
from skiffeval.kconfig.loops import compute_in_conf_order, loop_diagnostic
from skiffeval.kconfig.report import Report, build_report
from skiffeval.kconfig.writer import config_text, config_values, min_config_text

__all__ = ["Resolution", "resolve"]


@attrs.frozen
class Resolution:
    """The result of a resolution: the full ``.config`` text, the minimal defconfig, the
    provenance report, the configuration prefix, and how long it took (``seconds``; plus
    ``parse_seconds`` if the tree was parsed for it, else 0)."""

    config: str
    defconfig: str
    report: Report
    prefix: str = ""
    seconds: float = attrs.field(default=0.0, eq=False)
    parse_seconds: float = attrs.field(default=0.0, eq=False)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.report.diagnostics

    def values(self) -> dict[str, str]:
        """Symbol → value as written in ``.config`` (``n`` for "is not set"), in file order."""
        return config_values(self.config, self.prefix)


def _remap(fragment: Fragment, line: int, span: Span) -> Span:
    spans = fragment.line_spans
    if spans is not None and 0 < line <= len(spans):
        return spans[line - 1]
    return span


def resolve(
    tree: TreeSpec | ParsedTree,
    fragments: Sequence[Fragment] = (),
    *,
    base: Fragment | None = None,
    late_env: Mapping[str, str] | None = None,
) -> Resolution:
    """Resolve ``base`` (optional) then ``fragments`` against ``tree`` (see the module docstring).

    Raises ``SkiffError`` only when the tree cannot be parsed; everything wrong with the
    fragments is in the report.
    """
    parse_before = 0.0
    if isinstance(tree, TreeSpec):
        count = parse_count()
        tree = parse_tree(tree)
        if parse_count() != count:
            parse_before = tree.parse_seconds
    prefix = tree.prefix
    start = time.perf_counter()

    inputs = ([base] if base is not None else []) + list(fragments)
    items: list[tuple[Assignment, str, tuple[int, int]]] = []
    parse_diags: list[tuple[tuple[int, int], Diagnostic]] = []
    for index, fragment in enumerate(inputs):
        parsed = parse_fragment(fragment.text, fragment.file, prefix=prefix)
        for a in parsed.assignments:
            line = a.span.line
            items.append((attrs.evolve(a, span=_remap(fragment, line, a.span)), fragment.layer, (index, line)))
        for d in parsed.diagnostics:
            line = d.span.line if d.span else 0
            span = _remap(fragment, line, d.span) if d.span else None
            parse_diags.append(((index, line), dataclasses.replace(d, span=span)))

    for i, loop in enumerate(tree.loops):  # the tree's own problems come first
        parse_diags.append(((-1, i), loop_diagnostic(loop, tree.spec.srctree)))

    kconf = tree.kconf
    with tree.lock, recursion_limit():
        tree.reset(late_env or {})
        applied = apply_assignments(kconf, items)
        if tree.loops:
            compute_in_conf_order(kconf)
        config = config_text(kconf, tree.title)
        minimal = min_config_text(kconf)
        report = build_report(
            kconf, applied, parse_diags, fragments=len(inputs), names=tree.names()
        )
    seconds = time.perf_counter() - start
    return Resolution(config, minimal, report, prefix, seconds, parse_before)
