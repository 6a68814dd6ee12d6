"""Why a requested value did not take effect, read from kconfiglib's dependency expressions.

The model
---------
After a resolution, each symbol's *effective* assignment (its last accepted one) is compared
with the symbol's final value.  When they differ, ``explain`` names the first reason that holds,
in this order:

* the symbol has no prompt: only defaults and ``select`` decide it (``W214``);
* wanted higher than it got:
  - the symbol is not visible enough: its ``depends on`` (``direct_dep``) is unmet, or else its
    prompt condition (``if``, ``visible if``) is (``W211``);
  - a choice member set to y lost to the member the choice selected (``W212``);
* wanted lower than it got:
  - something ``select``s it (``W213``);
  - it is the selected member of a choice, which must have one (``W216``);
* an int or hex value outside the active ``range`` (``E211``);
* otherwise a generic explanation (``W215``), e.g. m on a tristate when modules are off.

*Blockers* are the symbols that make a dependency fail: the dependency is split at its
top-level ``&&``; in every failing part, each non-constant symbol is listed with its value, in
the order it appears.  For a ``select``, the selecting symbols that are active are listed.
"""

from __future__ import annotations

import attrs
import kconfiglib
from kconfiglib import AND, BOOL, HEX, INT, NOT, OR, TRISTATE, Choice, Symbol, expr_str, expr_value, split_expr

from skiffeval.diagnostics import ErrorCode
from skiffeval.kconfig import codes
from skiffeval.kconfig.fragment import quote_string

__all__ = [
    "Blocker", "Explanation", "final_value", "requested_value", "took_effect", "explain", "blockers",
    "dependency_text", "active_range",
]


@attrs.frozen
class Blocker:
    """A symbol that keeps a value from taking effect, and its value (``.config`` notation)."""

    symbol: str
    value: str

    def __str__(self) -> str:
        return f"{self.symbol}={self.value}"


@attrs.frozen
class Explanation:
    """Why a value did not take effect: the diagnostic ``code``, the ``reason`` (its slug),
    the human ``why`` (the part after "was set to X but is Y: "), the blockers, and symbols
    whose own settings are worth pointing at (a choice's winner, active selectors)."""

    code: ErrorCode
    why: str
    blockers: tuple[Blocker, ...] = ()
    related: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return self.code.slug


def final_value(sym: Symbol) -> str | None:
    """The symbol's final value in ``.config`` notation: ``y``/``m``/``n``, a quoted string, a
    number; ``None`` for a string, int or hex that is not written to ``.config`` at all."""
    if sym.orig_type in (BOOL, TRISTATE):
        return sym.str_value
    if not sym.config_string:
        return None
    if sym.orig_type in (INT, HEX):
        return sym.str_value
    return quote_string(sym.str_value)


def requested_value(sym: Symbol, value: str) -> str:
    """An accepted value (as classified) in ``.config`` notation."""
    if sym.orig_type in (INT, HEX, BOOL, TRISTATE):
        return value
    return quote_string(value)


def _same(sym: Symbol, value: str) -> bool:
    if sym.orig_type in (BOOL, TRISTATE):
        return sym.str_value == value
    if not sym.config_string:
        return False
    if sym.orig_type is HEX:
        try:
            return int(sym.str_value, 16) == int(value, 16)
        except ValueError:
            return False
    return sym.str_value == value


def took_effect(sym: Symbol, value: str) -> bool:
    """Whether the accepted ``value`` is the symbol's final value."""
    return _same(sym, value)


def _items(expr) -> list:
    """The symbols of an expression in the order they appear."""
    if isinstance(expr, tuple):
        if expr[0] is NOT:
            return _items(expr[1])
        return _items(expr[1]) + _items(expr[2])
    return [expr]


def _notation(sc) -> str:
    if isinstance(sc, Choice):
        return sc.str_value or "n"
    if sc.orig_type in (BOOL, TRISTATE) or not sc.orig_type:
        return sc.str_value if sc.orig_type else sc.name
    value = final_value(sc)
    return "unset" if value is None else value


def blockers(expr, want: int) -> tuple[Blocker, ...]:
    """The symbols in the failing ``&&`` parts of ``expr`` (value below ``want``)."""
    out: list[Blocker] = []
    for term in split_expr(expr, AND):
        if expr_value(term) >= want:
            continue
        for sc in _items(term):
            if isinstance(sc, Symbol) and sc.is_constant:
                continue
            if isinstance(sc, Choice):
                continue
            b = Blocker(sc.name, _notation(sc))
            if b not in out:
                out.append(b)
    return tuple(out)


def _blocker_text(found: tuple[Blocker, ...]) -> str:
    return f" ({', '.join(map(str, found))})" if found else ""


def _tri(value: str) -> int:
    return {"n": 0, "m": 1, "y": 2}[value]


def explain(kconf: kconfiglib.Kconfig, sym: Symbol, value: str) -> Explanation:
    """Why the accepted ``value`` of ``sym`` is not its final value (see the module docstring)."""
    if not any(node.prompt for node in sym.nodes):
        return Explanation(
            codes.NO_PROMPT,
            "it has no prompt, so only its defaults and 'select' set it",
        )
    if sym.orig_type in (BOOL, TRISTATE):
        want, got = _tri(value), sym.tri_value
        if want > got:
            return _explain_lower(kconf, sym, want)
        return _explain_higher(kconf, sym, want, got)
    if sym.visibility == 0:
        return _unmet(sym, 1)
    if sym.orig_type in (INT, HEX):
        bounds = active_range(sym)
        if bounds is not None:
            base = 16 if sym.orig_type is HEX else 10
            low, high = bounds
            if not low <= int(value, base) <= high:
                show = str if base == 10 else hex
                return Explanation(codes.OUT_OF_RANGE, f"out of range [{show(low)}, {show(high)}]")
    return Explanation(codes.NOT_TAKEN, "kconfig computed another value")


def active_range(sym: Symbol) -> tuple[int, int] | None:
    """The (low, high) of the first ``range`` whose condition holds, as kconfig computes it."""
    base = 16 if sym.orig_type is HEX else 10
    for low, high, cond in sym.ranges:
        if expr_value(cond):
            def num(s: Symbol) -> int:
                try:
                    return int(s.str_value, base)
                except ValueError:
                    return 0
            return num(low), num(high)
    return None


def dependency_text(expr, drop: object = None) -> str:
    """``expr`` as Kconfig text, without the top-level ``&&`` part ``drop`` (kconfiglib adds a
    choice member's choice to its dependencies; people did not write it)."""
    parts = [t for t in split_expr(expr, AND) if t is not drop]
    if not parts:
        return "y"
    if len(parts) == len(split_expr(expr, AND)):
        return expr_str(expr)
    return " && ".join(f"({expr_str(t)})" if isinstance(t, tuple) and t[0] is OR else expr_str(t) for t in parts)


def _unmet(sym: Symbol, want: int) -> Explanation:
    if sym.type is not TRISTATE:
        want = min(want, 1)  # kconfig promotes m visibility to y for bool symbols
    dep = sym.direct_dep
    if expr_value(dep) < want:
        found = blockers(dep, want)
        return Explanation(
            codes.UNMET_DEPENDENCY,
            f"depends on '{dependency_text(dep, sym.choice)}'{_blocker_text(found)}",
            found,
        )
    prompts = [node.prompt[1] for node in sym.nodes if node.prompt]
    cond = max(prompts, key=expr_value)
    found = blockers(cond, want)
    return Explanation(
        codes.UNMET_DEPENDENCY,
        f"its prompt is hidden: '{dependency_text(cond, sym.choice)}'{_blocker_text(found)}",
        found,
    )


def _explain_lower(kconf: kconfiglib.Kconfig, sym: Symbol, want: int) -> Explanation:
    """``sym`` ended lower than the requested tristate ``want``."""
    if sym.visibility < want:
        dep_want = want if sym.type is TRISTATE else min(want, 1)
        if sym.choice is not None and sym.choice.visibility < want and expr_value(sym.direct_dep) >= dep_want:
            found = blockers(sym.choice.direct_dep, dep_want)
            return Explanation(
                codes.UNMET_DEPENDENCY,
                f"its choice depends on '{dependency_text(sym.choice.direct_dep)}'{_blocker_text(found)}",
                found,
            )
        return _unmet(sym, want)
    choice = sym.choice
    if choice is not None and want == 2:
        winner = choice.selection
        if winner is not None and winner is not sym:
            return Explanation(
                codes.CHOICE_SUPERSEDED,
                f"'{winner.name}' is the selected member of the same choice",
                (Blocker(winner.name, "y"),),
                (winner.name,),
            )
    return Explanation(codes.NOT_TAKEN, "kconfig computed a lower value")


def _explain_higher(kconf: kconfiglib.Kconfig, sym: Symbol, want: int, got: int) -> Explanation:
    """``sym`` ended higher than the requested tristate ``want``."""
    if expr_value(sym.rev_dep) > want:
        active = []
        for term in split_expr(sym.rev_dep, OR):
            if expr_value(term) > want:
                selector = split_expr(term, AND)[0]
                if isinstance(selector, Symbol) and not selector.is_constant:
                    active.append(selector)
        found = tuple(Blocker(s.name, _notation(s)) for s in active)
        names = ", ".join(f"'{s.name}'" for s in active)
        return Explanation(codes.SELECTED, f"selected by {names}{_blocker_text(found)}", found,
                           tuple(s.name for s in active))
    choice = sym.choice
    if choice is not None and want == 0 and choice.selection is sym:
        prompt = next((n.prompt[0] for n in choice.nodes if n.prompt), None)
        others = [s.name for s in choice.syms if s is not sym and s.visibility]
        where = f" '{prompt}'" if prompt else ""
        hint = f"; set another member to y instead (e.g. '{others[0]}')" if others else ""
        return Explanation(
            codes.CHOICE_NEEDS_MEMBER,
            f"the choice{where} must have one member set and selects it{hint}",
        )
    if want == 1 and got == 2 and sym.orig_type is TRISTATE and kconf.modules.tri_value == 0:
        return Explanation(codes.NOT_TAKEN, f"m counts as y because '{kconf.modules.name}' is n")
    return Explanation(codes.NOT_TAKEN, "kconfig computed a higher value")
