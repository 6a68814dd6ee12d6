"""Dependency loops in Kconfig trees: found, reported (W221), and resolved as ``conf`` does.

kconfiglib refuses a tree with a dependency loop (a ``KconfigError`` while parsing).  Buildroot's
``conf`` (Linux 4.17 kconfig) prints "recursive dependency detected!" and goes on.  Real trees
have such loops: SkiffOS's ``util/argon1`` makes one in Buildroot 2026.02 (its package selects
``BR2_PACKAGE_PYTHON3`` and depends on ``BR2_PACKAGE_BUSYBOX_SHOW_OTHERS``, which
``BR2_PACKAGE_APPARMOR_UTILS`` selects, which depends on ``BR2_PACKAGE_PYTHON3``).  So skiffeval
does what ``conf`` does:

* the tree is parsed with kconfiglib's check off, and ``dependency_loops`` finds the loops
  itself, the same way on every run (``loop_diagnostic`` makes each a W221 warning of every
  resolution against the tree);
* values of such a tree are computed by ``compute_in_conf_order``, which follows ``conf``'s
  order and its rule for a symbol asked for while its own value is being computed.  Inside a
  loop that order decides the result; ``tests/kconfig`` compares it with C ``conf`` on every
  assignment of a loop's symbols.

Trees without loops are untouched: kconfiglib's own code computes their values.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import attrs
import kconfiglib

from skiffeval.diagnostics import Diagnostic, Note, Severity, Span
from skiffeval.kconfig import codes

__all__ = ["DependencyLoop", "dependency_loops", "loop_diagnostic", "loops_checked_later", "install_conf_rules",
           "compute_in_conf_order"]

_REAL_LOOP_CHECK = kconfiglib._check_dep_loop_sym
_MAX_LOOPS = 10


@contextlib.contextmanager
def loops_checked_later() -> Iterator[None]:
    """kconfiglib's loop check off while a tree is parsed (``dependency_loops`` does it after);
    the caller serializes parses (``engine._PARSE_LOCK``)."""
    kconfiglib._check_dep_loop_sym = lambda sym, ignore_choice: None
    try:
        yield
    finally:
        kconfiglib._check_dep_loop_sym = _REAL_LOOP_CHECK


@attrs.frozen
class DependencyLoop:
    """A dependency loop of a tree: its symbols (or choices) in order, each with where it is
    defined (a path as the tree names it, relative to ``srctree``, and a line); each one's
    value depends on the next one's, and the last's on the first's."""

    items: tuple[tuple[str, str, int], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The names in order, the first repeated at the end."""
        names = tuple(name for name, _, _ in self.items)
        return names + names[:1]


def dependency_loops(kconf: kconfiglib.Kconfig) -> tuple[DependencyLoop, ...]:
    """The dependency loops of a parsed tree: at most ten, and one for each group of symbols
    caught in loops, found the same way on every run.

    A depth-first search over kconfiglib's dependency graph (a symbol's ``_dependents`` are
    the symbols whose values depend on its value, through ``depends on``, ``select``, ``imply``
    or a condition), from the symbols in definition order and to the dependents in name order.  Why not kconfiglib's own check: it walks sets, so which
    of two loops through a symbol it names changes from run to run, and a report must not.
    A choice's members depend on each other through the choice; kconfiglib's check accounts for
    that and this search takes the choice as one node, so every loop kconfiglib would refuse is
    found.
    """

    def node_of(item: object) -> object:
        return item.choice if isinstance(item, kconfiglib.Symbol) and item.choice is not None else item

    labels: dict[int, tuple[str, str, int]] = {}

    def label(node: object) -> tuple[str, str, int]:
        made = labels.get(id(node))
        if made is None:
            first = node.nodes[0] if node.nodes else None
            name = node.name if node.name else "<choice>"
            made = labels[id(node)] = (name, first.filename if first else "?", first.linenr if first else 0)
        return made

    def dependents(node: object) -> list[object]:
        if isinstance(node, kconfiglib.Choice):
            out = {id(n): n for m in (node, *node.syms) for n in map(node_of, m._dependents) if n is not node}
            return sorted(out.values(), key=label)
        deps = node._dependents
        if not deps:
            return []
        return sorted({id(n): n for n in map(node_of, deps) if n is not node}.values(), key=label)

    loops: list[DependencyLoop] = []
    state: dict[int, int] = {}  # id -> 1 on the current path, 2 done
    named: set[int] = set()  # the symbols of the loops named so far
    for root in map(node_of, kconf.unique_defined_syms):
        if id(root) in state or len(loops) >= _MAX_LOOPS:
            continue
        path = [root]
        stack = [iter(dependents(root))]
        state[id(root)] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[id(path.pop())] = 2
                stack.pop()
                continue
            seen = state.get(id(nxt))
            if seen == 1:
                cycle = path[path.index(nxt):]
                # one loop named per group of entangled symbols: a loop through a symbol of one
                # already named is the same knot seen another way
                if len(loops) < _MAX_LOOPS and not any(id(n) in named for n in cycle):
                    named.update(id(n) for n in cycle)
                    # what the loop's first symbol depends on comes before it: read it backwards
                    loops.append(DependencyLoop(tuple(label(n) for n in reversed(cycle))))
                continue
            if seen is None:
                state[id(nxt)] = 1
                path.append(nxt)
                stack.append(iter(dependents(nxt)))
    return tuple(loops)


def loop_diagnostic(loop: DependencyLoop, srctree: str) -> Diagnostic:
    """W221 for ``loop``, at the first symbol's definition, the others' as related places."""

    def span(file: str, line: int) -> Span:
        return Span.point(file if os.path.isabs(file) else os.path.join(srctree, file), line)

    first = loop.items[0] if loop.items else None
    return Diagnostic(
        Severity.WARNING,
        codes.DEPENDENCY_LOOP,
        f"dependency loop: {' -> '.join(loop.names)} (each depends on the next, through 'depends on', "
        "'select' or a condition)",
        span(first[1], first[2]) if first else None,
        help=("Buildroot's conf reports it too (\"recursive dependency detected!\") and goes on; skiffeval "
              "computes the values as conf does, in its order (docs/kconfig.md, \"Dependency loops\")",
              "inside the loop that order decides values: break the loop (often a 'select' that should "
              "be a 'depends on') to make them not depend on it"),
        related=tuple(Note(f"'{name}' is defined here", span(file, line)) for name, file, line in loop.items[1:]),
    )


_GUARD = threading.local()
_GUARDED = False
_BOOL_TRISTATE = frozenset({kconfiglib.BOOL, kconfiglib.TRISTATE})
_C_HASH_SIZE = 9973  # SYMBOL_HASHSIZE of Linux kconfig


def install_conf_rules() -> None:
    """Let ``compute_in_conf_order`` compute values the way ``conf``'s ``sym_calc_value``
    does (installed once, when the first tree with a loop is parsed; outside that function
    every value is computed by kconfiglib's own code, as before).

    Where it differs from kconfiglib only matters in a loop, where a symbol is asked for while
    its own value is being computed:

    * ``conf`` first works out the prompts' visibility, the direct dependencies, the reverse
      (``select``) and weak (``imply``) dependencies; a symbol re-entered then reads as its
      *current* value, the one the previous pass gave it (``n`` before any);
    * then it sets the current value to ``n`` ("set default if recursively called") and looks
      at the user value and the defaults; a symbol re-entered now reads as ``n``.
    """
    global _GUARDED
    if _GUARDED:
        return
    compute = kconfiglib.Symbol.tri_value.fget
    expr_value = kconfiglib.expr_value
    BOOL = kconfiglib.BOOL

    def tri_value(self: kconfiglib.Symbol) -> int:
        value = self._cached_tri_val
        if value is not None:
            return value
        stale = getattr(_GUARD, "stale", None)
        if stale is None or self.orig_type not in _BOOL_TRISTATE or self.choice is not None:
            return compute(self)
        current = _GUARD.current
        if self in current:
            return current[self]
        current[self] = stale.get(self, 0)
        try:
            vis = self.visibility
            direct = expr_value(self.direct_dep)
            rev = expr_value(self.rev_dep)
            weak = expr_value(self.weak_rev_dep) if direct else 0
            current[self] = 0
            write = vis != 0
            val = 0
            if vis and self.user_value is not None:
                val = min(self.user_value, vis)
            else:
                if rev:
                    write = True
                for default, cond in self.defaults:
                    cond_val = expr_value(cond)
                    if cond_val:
                        val = min(expr_value(default), cond_val)
                        if val:
                            write = True
                        break
                if weak:
                    write = True
                    val = max(val, weak)
            val = max(val, rev)
            if val == 1 and (self.type is BOOL or weak == 2):
                val = 2
            self._write_to_conf = write
            self._cached_tri_val = val
            return val
        finally:
            del current[self]

    kconfiglib.Symbol.tri_value = property(tri_value, doc=kconfiglib.Symbol.tri_value.__doc__)
    _GUARDED = True


def _c_bucket(name: str) -> int:
    """The bucket of ``name`` in ``conf``'s symbol table: 32-bit FNV-1 of its bytes, mod 9973
    (symbol names are ASCII, so C's signed ``char`` makes no difference)."""
    h = 2166136261
    for byte in name.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % _C_HASH_SIZE


def compute_in_conf_order(kconf: kconfiglib.Kconfig) -> None:
    """Compute every value afresh as ``conf --defconfig`` does, for a tree with dependency
    loops, where the order of computation decides values (``install_conf_rules``):

    1. ``conf_read`` computes every symbol, walking its symbol table: bucket by bucket (a
       32-bit FNV-1 hash of the name, mod 9973), the last-created symbol of a bucket first
       (kconfiglib creates symbols in the order the parse first meets them, as ``conf`` does);
    2. the values are then invalidated and ``conf_write`` computes them again in menu order,
       a symbol re-entered early in its computation reading as the value step 1 gave it.

    The values stay cached for the writer.  A tree without loops gives the same values in any
    order, so this runs only for trees with loops.
    """
    syms = list(kconf.syms.values())
    menu_order = [node.item for node in kconf.node_iter() if isinstance(node.item, kconfiglib.Symbol)]
    _GUARD.current = {}
    try:
        _GUARD.stale = {}
        kconf._invalidate_all()
        for i in sorted(range(len(syms)), key=lambda i: (_c_bucket(syms[i].name), -i)):
            syms[i].tri_value  # noqa: B018 - computed (and cached) now, in this order
        stale = {sym: sym._cached_tri_val or 0 for sym in syms}
        kconf._invalidate_all()
        _GUARD.stale = stale
        for sym in menu_order:
            sym.tri_value  # noqa: B018
    finally:
        _GUARD.stale = None
        _GUARD.current = None
