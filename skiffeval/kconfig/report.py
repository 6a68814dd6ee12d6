"""The provenance report of a resolution: who set each symbol, what won, and what did not work.

The model
---------
For every symbol that some fragment (or the base defconfig) assigns, a ``SymbolReport`` lists
every ``Setting`` in application order (layer, location, the raw value, whether kconfig
accepted it), which one *won* (the last accepted one), the requested value (the winner's, in
``.config`` notation), the final value, and a ``status``:

* ``took-effect`` — the final value is the requested one;
* ``not-taken`` — it is not; ``reason`` is the slug of the diagnostic that says why
  (``unmet-dependency``, ``choice-superseded``, ``selected``, ``no-prompt``,
  ``choice-needs-member``, ``out-of-range``, ``not-taken``) and ``blockers`` the symbols
  responsible;
* ``ignored`` — no setting was accepted (invalid values, "is not set" on a string);
* ``unknown`` — no Kconfig file defines the symbol.

``Report.diagnostics`` holds the fragment parse diagnostics and one diagnostic per problem,
each at the fragment line responsible, in application order.  ``Report.to_json`` is the stable
machine form (documented in ``docs/kconfig.md``; symbols sorted by name) and
``Report.to_text`` the concise human form: a summary line, then one line per diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import kconfiglib

from skiffeval.diagnostics import Diagnostic, Note, Severity, Span
from skiffeval.kconfig import codes
from skiffeval.kconfig.apply import INVALID, UNKNOWN, UNSET_NOT_BOOL, Applied
from skiffeval.kconfig.explain import Blocker, explain, final_value, requested_value, took_effect
from skiffeval.kconfig.suggest import NameIndex

__all__ = ["Setting", "SymbolReport", "Report", "build_report", "REPORT_VERSION"]

REPORT_VERSION = 1

TOOK_EFFECT = "took-effect"
NOT_TAKEN = "not-taken"
IGNORED = "ignored"
UNKNOWN_STATUS = "unknown"


@attrs.frozen
class Setting:
    """One assignment of a symbol: the layer and line that made it, the raw value as written
    (``None`` for "is not set"), and ``problem`` when kconfig ignored it (``invalid-value``,
    ``unset-not-bool``, ``unknown-symbol``)."""

    layer: str
    span: Span
    value: str | None
    problem: str | None = None

    @property
    def accepted(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "location": self.span.to_json(),
            "value": self.value,
            "accepted": self.accepted,
            "problem": self.problem,
        }


@attrs.frozen
class SymbolReport:
    """What happened to one symbol (see the module docstring for ``status`` and ``reason``)."""

    symbol: str
    type: str
    settings: tuple[Setting, ...]
    winner: int | None
    requested: str | None
    final: str | None
    status: str
    reason: str | None = None
    blockers: tuple[Blocker, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "type": self.type,
            "status": self.status,
            "requested": self.requested,
            "final": self.final,
            "reason": self.reason,
            "blockers": [{"symbol": b.symbol, "value": b.value} for b in self.blockers],
            "winner": self.winner,
            "settings": [s.to_json() for s in self.settings],
        }


@attrs.frozen
class Report:
    """The provenance report: per-symbol records (sorted by name) and diagnostics (in order)."""

    fragments: int
    symbols: tuple[SymbolReport, ...]
    diagnostics: tuple[Diagnostic, ...]

    def symbol(self, name: str) -> SymbolReport | None:
        return next((s for s in self.symbols if s.symbol == name), None)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)

    def counts(self) -> dict[str, int]:
        by_status = {TOOK_EFFECT: 0, NOT_TAKEN: 0, IGNORED: 0, UNKNOWN_STATUS: 0}
        for s in self.symbols:
            by_status[s.status] += 1
        return {
            "fragments": self.fragments,
            "symbols": len(self.symbols),
            "took_effect": by_status[TOOK_EFFECT],
            "not_taken": by_status[NOT_TAKEN],
            "ignored": by_status[IGNORED],
            "unknown": by_status[UNKNOWN_STATUS],
            "set_more_than_once": sum(1 for s in self.symbols if len(s.settings) > 1),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "summary": self.counts(),
            "symbols": [s.to_json() for s in self.symbols],
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{c['symbols']} symbols set by {c['fragments']} fragments: {c['took_effect']} took effect, "
            f"{c['not_taken']} did not, {c['ignored']} ignored, {c['unknown']} unknown; "
            f"{c['set_more_than_once']} set more than once; {c['errors']} errors, {c['warnings']} warnings"
        )

    def to_text(self, *, info: bool = False) -> str:
        """The summary line and one line per diagnostic (``info`` ones only if asked)."""
        lines = [self.summary()]
        for d in self.diagnostics:
            if d.severity is Severity.INFO and not info:
                continue
            where = f"{d.span}: " if d.span else ""
            hints = "".join(f"; {h}" for h in d.help)
            lines.append(f"{where}{d.severity.value}[{d.code.code}]: {d.message}{hints}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# building


def _diag(code, message: str, span: Span, *, help=(), related=(), severity=None) -> Diagnostic:
    if severity is None:
        severity = Severity.ERROR if code.code.startswith("E") else Severity.WARNING
    return Diagnostic(severity, code, message, span, tuple(help), (), tuple(related))


def _shown(value: str | None) -> str:
    return "not set" if value is None else value


def build_report(
    kconf: kconfiglib.Kconfig,
    applied: Sequence[Applied],
    parse_diagnostics: Sequence[tuple[tuple[int, int], Diagnostic]],
    *,
    fragments: int,
    names: NameIndex,
) -> Report:
    """The report of a resolution: ``applied`` is every assignment in application order,
    ``parse_diagnostics`` the fragment diagnostics with their (fragment, line) positions.
    Diagnostics are ordered by position: fragment by fragment, line by line."""
    ordered: list[tuple[tuple[int, int], int, Diagnostic]] = []

    def emit(position: tuple[int, int], diag: Diagnostic) -> None:
        ordered.append((position, len(ordered), diag))

    for position, diag in parse_diagnostics:
        emit(position, diag)

    by_symbol: dict[str, list[Applied]] = {}
    for a in applied:
        by_symbol.setdefault(a.symbol, []).append(a)

    reports: list[SymbolReport] = []
    for name, items in by_symbol.items():
        sym = kconf.syms.get(name)
        settings = tuple(Setting(a.layer, a.assignment.span, a.assignment.value, a.problem) for a in items)
        for a in items:
            if a.problem == UNKNOWN:
                emit(a.position, _diag(
                    codes.UNKNOWN_SYMBOL,
                    f"'{name}' is not a symbol of this configuration",
                    a.assignment.span,
                    help=names.help(name),
                ))
            elif a.problem == INVALID:
                emit(a.position, _diag(codes.INVALID_VALUE, a.detail, a.assignment.span))
            elif a.problem == UNSET_NOT_BOOL:
                emit(a.position, _diag(codes.UNSET_NOT_BOOL, a.detail, a.assignment.span))
        if sym is None or not sym.nodes:
            reports.append(SymbolReport(name, "unknown", settings, None, None, None, UNKNOWN_STATUS))
            continue

        accepted = [i for i, a in enumerate(items) if a.value is not None]
        final = final_value(sym)
        if not accepted:
            reports.append(SymbolReport(name, items[0].type, settings, None, None, final, IGNORED))
            continue
        win_index = accepted[-1]
        winner = items[win_index]
        requested = requested_value(sym, winner.value)

        if len(items) > 1:
            others = [a for a in items if a is not winner]
            same_file_conflict = any(
                a.value is not None and a.assignment.span.file == winner.assignment.span.file
                and a.value != winner.value
                for a in others
            )
            places = ", ".join(f"{_shown(a.assignment.value)} at {a.assignment.span}" for a in items)
            emit(winner.position, _diag(
                codes.SET_TWICE,
                f"'{name}' is set {len(items)} times ({places}); {_shown(winner.assignment.value)} "
                f"at {winner.assignment.span} wins",
                winner.assignment.span,
                related=[Note(f"also set to {_shown(a.assignment.value)} here", a.assignment.span) for a in others],
                severity=Severity.WARNING if same_file_conflict else Severity.INFO,
            ))

        if took_effect(sym, winner.value):
            reports.append(SymbolReport(name, winner.type, settings, win_index, requested, final, TOOK_EFFECT))
            continue

        why = explain(kconf, sym, winner.value)
        related = []
        where = []
        for other in why.related:
            theirs = [a for a in by_symbol.get(other, ()) if a.value is not None]
            if theirs:
                related.append(Note(f"'{other}' set here", theirs[-1].assignment.span))
                where.append(f"'{other}' was set at {theirs[-1].assignment.span}")
        emit(winner.position, _diag(
            why.code,
            f"'{name}' was set to {requested} but is {'unset' if final is None else final}: {why.why}"
            + "".join(f"; {w}" for w in where),
            winner.assignment.span,
            related=related,
        ))
        reports.append(SymbolReport(
            name, winner.type, settings, win_index, requested, final, NOT_TAKEN, why.reason, why.blockers
        ))

    for name, position, span, prompt in _legacy_options(kconf, by_symbol):
        emit(position, _diag(
            codes.LEGACY_OPTION,
            f"'{name}' is a legacy option" + (f": {prompt}" if prompt else ""),
            span,
            help=["it selects 'BR2_LEGACY', and Buildroot stops the build while that is set"],
        ))

    ordered.sort(key=lambda t: (t[0], t[1]))
    reports.sort(key=lambda r: r.symbol)
    return Report(fragments, tuple(reports), tuple(d for _, _, d in ordered))


def _legacy_options(kconf: kconfiglib.Kconfig, by_symbol: dict[str, list[Applied]]):
    """Fragment-set symbols that keep Buildroot's ``BR2_LEGACY`` on: (name, position, span, prompt)."""
    legacy = kconf.syms.get("BR2_LEGACY")
    if legacy is None or not legacy.nodes or legacy.tri_value == 0:
        return
    for term in kconfiglib.split_expr(legacy.rev_dep, kconfiglib.OR):
        if not kconfiglib.expr_value(term):
            continue
        selector = kconfiglib.split_expr(term, kconfiglib.AND)[0]
        items = [a for a in by_symbol.get(getattr(selector, "name", None), ()) if a.value is not None]
        if items:
            winner = items[-1]
            prompt = next((n.prompt[0] for n in selector.nodes if n.prompt), "")
            yield selector.name, winner.position, winner.assignment.span, prompt
