"""Last-fragment-wins merging of kernel, U-Boot and BusyBox fragments (``merge_config.sh -m``).

The model
---------
SkiffOS merges these fragments with the Linux ``scripts/kconfig/merge_config.sh -m -r``
(copied as ``scripts/merge_config.sh``), one fragment at a time onto the merged text so far.
For each later fragment, for each name ``CFG`` it assigns (lines matching
``^<prefix>NAME=`` or exactly ``^# <prefix>NAME is not set$``):

1. if ``CFG`` occurs as a *word* anywhere in the merged text (``grep -w``),
2. every line of the merged text that contains ``CFG`` followed by a blank or ``=``
   (``sed "/CFG[ =]/d"``, unanchored) is removed;

then the whole fragment, comments included, is appended.  So each symbol ends up once, at
the position of the **last** fragment that assigns it; a symbol assigned twice *inside* one
fragment keeps both lines (kconfig's last-assignment-wins then applies); a symbol set only
by earlier fragments keeps its place.  ``merge_last_wins`` reproduces this text line for line,
and records which line was removed by which (``Override``) for provenance.

Where the shell loses data, the result is the same but a diagnostic says so:

* ``W203`` — the unanchored ``sed`` also removes an assignment of *another* symbol that
  merely mentions ``CFG`` (``CONFIG_IKCONFIG_PROC=y`` when a later fragment sets
  ``CONFIG_PROC``, or a string value containing ``CONFIG_FOO=``).  Comment lines that mention
  ``CFG`` are removed too, silently, as the shell does.

One deliberate difference: the shell concatenates files with ``cat``, so a fragment without a
final newline is glued to the next one's first line; here every fragment line stays a line.
(SkiffOS itself never glues kernel fragments: it appends a ``# Configuration from`` header
starting with a newline before each merge.)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import attrs

from skiffeval.diagnostics import Diagnostic, Note, Severity, Source, Span
from skiffeval.kconfig import codes
from skiffeval.kconfig.fragment import Assignment, Fragment, parse_fragment

__all__ = ["MergedLine", "Override", "MergeResult", "merge_last_wins"]


@attrs.frozen
class MergedLine:
    """One line of the merged text, where it came from, and the assignment it makes (if any)."""

    text: str
    span: Span
    assignment: Assignment | None = None


@attrs.frozen
class Override:
    """An assignment of ``symbol`` removed from the merged text because of the later line ``by``
    (which assigns the same symbol, or, for ``W203``, another one that the removed line mentions)."""

    symbol: str
    removed: MergedLine
    by: MergedLine

    @property
    def same_value(self) -> bool:
        return self.removed.text == self.by.text


@attrs.frozen
class MergeResult:
    """The merged text, its lines with provenance, what was overridden, and diagnostics."""

    text: str
    lines: tuple[MergedLine, ...]
    overrides: tuple[Override, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        """The surviving assignments, in merged order."""
        return tuple(line.assignment for line in self.lines if line.assignment is not None)


_WORD = "A-Za-z0-9_"


def _fragment_lines(fragment: Fragment, prefix: str) -> tuple[list[MergedLine], list[Diagnostic]]:
    """The lines of ``fragment`` with their provenance spans and assignments."""
    parsed = parse_fragment(fragment.text, fragment.file, prefix=prefix)
    spans = fragment.line_spans
    source = Source(fragment.file, fragment.text)
    by_line = {a.span.line: a for a in parsed.assignments}
    raw_lines = fragment.text.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()

    def where(number: int, text: str) -> Span:
        if spans is not None and number - 1 < len(spans):
            return spans[number - 1]
        return Span(fragment.file, number, 1, number, max(len(text), 1), source)

    lines = []
    for number, text in enumerate(raw_lines, 1):
        span = where(number, text)
        a = by_line.get(number)
        lines.append(MergedLine(text, span, attrs.evolve(a, span=span) if a else None))
    diags = [
        dataclasses.replace(d, span=where(d.span.line, raw_lines[d.span.line - 1])) if spans and d.span else d
        for d in parsed.diagnostics
    ]
    return lines, diags


def _assigned_names(lines: Sequence[MergedLine], prefix: str) -> list[str]:
    """The names ``merge_config.sh`` extracts from a fragment (with prefix), in line order."""
    p = re.escape(prefix)
    set_re = re.compile(rf"^({p}[{_WORD}]*)=")
    unset_re = re.compile(rf"^# ({p}[{_WORD}]*) is not set$")
    names = []
    for line in lines:
        m = set_re.match(line.text) or unset_re.match(line.text)
        if m:
            names.append(m.group(1))
    return names


def merge_last_wins(fragments: Sequence[Fragment], *, prefix: str = "CONFIG_") -> MergeResult:
    """Merge ``fragments`` in order as ``merge_config.sh -m`` does (see the module docstring).

    The first fragment is the base; ``prefix`` is the configuration prefix of the fragments.
    """
    merged: list[MergedLine] = []
    overrides: list[Override] = []
    diags: list[Diagnostic] = []
    for index, fragment in enumerate(fragments):
        lines, parse_diags = _fragment_lines(fragment, prefix)
        diags.extend(parse_diags)
        if index > 0:
            for cfg in _assigned_names(lines, prefix):
                if not cfg:
                    continue
                word = re.compile(rf"(?<![{_WORD}]){re.escape(cfg)}(?![{_WORD}])")
                if not any(word.search(line.text) for line in merged):
                    continue
                doomed = re.compile(re.escape(cfg) + "[ =]")
                name = cfg[len(prefix) :]
                by = [line for line in lines if line.assignment and line.assignment.symbol == name]
                by_line = by[-1] if by else next(line for line in lines if doomed.search(line.text))
                kept = []
                for line in merged:
                    if not doomed.search(line.text):
                        kept.append(line)
                        continue
                    other = line.assignment
                    if other is None:
                        continue  # a comment mentioning the name: dropped, as the shell does
                    overrides.append(Override(other.symbol, line, by_line))
                    if other.symbol != name:
                        diags.append(
                            Diagnostic(
                                Severity.WARNING,
                                codes.MERGE_REMOVED_OTHER,
                                f"'{prefix}{other.symbol}' is lost: merge_config.sh removes every line "
                                f"containing '{cfg}' followed by ' ' or '=' when a later fragment sets '{cfg}'",
                                line.span,
                                related=(Note(f"'{cfg}' set here", by_line.span),),
                            )
                        )
                merged = kept
        merged.extend(lines)
    text = "".join(line.text + "\n" for line in merged)
    return MergeResult(text, tuple(merged), tuple(overrides), tuple(diags))
