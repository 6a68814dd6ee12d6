"""Realization: a scheduler that brings a derivation graph's outputs into the store.

The model (docs/store.md, "Realization")
* The closure of the targets is walked (derivations come from ``graph`` — any collection of
  derivations, e.g. everything an evaluation produced — or from the store);
  their ``.drv`` files are written; one query finds which are realized already (their
  realisation's outputs are all valid).  Only derivations that are targets, or inputs of a
  derivation that must be built, are considered — a valid derivation's inputs are not needed.
* A derivation is ready when its needed inputs are realized.  A worker resolves it; if its
  resolved key has valid outputs, nothing is built (*early cutoff*: the upstream change did not
  change what this builder would see); else it takes the resolved key's file lock, checks again
  (another process may have just built it) and builds (``build.build_outputs``).
* ``jobs`` workers run at once (threads: builders are subprocesses or short Python functions).
  Without ``keep_going`` the first failure stops new builds (running ones finish) and raises;
  with it, everything not downstream of a failure is built, then it raises.
* ``dry_run`` returns a ``RealizePlan``: what is valid, what will be built, what is already
  known to be cut off, and what may be cut off (it depends on something that will be built).
* Progress goes to ``on_event(RealizeEvent)``; this module never prints.  The callback may be
  called from worker threads, never two calls at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

import attrs

from skiffeval.derivation import Derivation, SortedMap, StorePath, resolve
from skiffeval.diagnostics import Note, SkiffError
from skiffeval.store.build import BuildRunner, build_outputs, log_tail
from skiffeval.store.codes import BUILD_FAILED, DEPENDENCY_CYCLE, DEPENDENCY_FAILED, MISSING_INPUT

if TYPE_CHECKING:
    from skiffeval.store.local import LocalStore

__all__ = ["realize", "RealizeEvent", "RealizeResult", "RealizePlan", "BuildFailure", "RealizeError"]


@attrs.frozen
class RealizeEvent:
    """Progress: ``kind`` is ``plan``, ``start``, ``built``, ``cutoff``, ``failed`` or ``skipped``."""

    kind: str
    key: str = ""
    name: str = ""
    log_path: str | None = None
    outputs: SortedMap[str, StorePath] = attrs.field(factory=SortedMap)
    seconds: float = 0.0
    error: SkiffError | None = attrs.field(default=None, eq=False)
    counts: tuple[int, int] = (0, 0)  # for "plan": (to consider, already valid)
    fetch: int = 0  # for "plan": how many of those not valid are fixed-output (fetches)


@attrs.frozen
class BuildFailure:
    key: str
    name: str
    error: SkiffError = attrs.field(eq=False)
    log_path: str | None
    log_tail: tuple[str, ...]


@attrs.frozen
class RealizeResult:
    """Outputs of every target (and every derivation realized on the way), and what happened."""

    outputs: Mapping[str, SortedMap[str, StorePath]]
    built: tuple[str, ...]
    cutoff: tuple[str, ...]
    valid: tuple[str, ...]
    failed: tuple[BuildFailure, ...]
    skipped: tuple[str, ...]

    def of(self, drv: Derivation, output: str = "out") -> StorePath:
        return self.outputs[drv.key][output]


@attrs.frozen
class RealizePlan:
    """What ``realize`` would do (``dry_run``); lists of (key, name)."""

    valid: tuple[tuple[str, str], ...]
    build: tuple[tuple[str, str], ...]
    cutoff: tuple[tuple[str, str], ...]
    may_cutoff: tuple[tuple[str, str], ...]


class RealizeError(SkiffError):
    """Raised when derivations failed; ``result`` holds what was realized and the failures."""

    def __init__(self, result: RealizeResult) -> None:
        first = result.failed[0]
        more = len(result.failed) - 1
        extra = f" (and {more} more failed)" if more > 0 else ""
        super().__init__(first.error.code, first.error.message + extra, help=first.error.help, notes=first.error.notes)
        self.result = result
        self.failures = result.failed


class _Inline:
    """An executor that runs each job at once in the calling thread (``jobs=1``).

    Why: with one job a thread pool only adds a hand-off per derivation, and a per-thread
    database connection per run.
    """

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, fn: Callable[..., object], *args: object) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except BaseException as e:  # delivered through the future, as a pool would
            fut.set_exception(e)
        return fut


class _Graph:
    """The closure of the targets: derivations by key, and each input ref mapped to a key."""

    def __init__(self, store: LocalStore, targets: list[Derivation], graph: Mapping[str, Derivation] | Iterable[Derivation] | None) -> None:
        self.by_key: dict[str, Derivation] = {}
        by_ref: dict[str, Derivation] = {}
        given = graph.values() if isinstance(graph, Mapping) else (graph or ())
        for d in given:
            by_ref.setdefault(d.key, d)
            if d.fixed is not None:
                prev = by_ref.get(d.ref)
                if prev is None or d.key < prev.key:  # deterministic choice among equal FODs
                    by_ref[d.ref] = d
        self.fod_ready: dict[str, StorePath] = {}  # FOD identity -> an already valid output
        stack = list(targets)
        while stack:
            d = stack.pop()
            if d.key in self.by_key:
                continue
            self.by_key[d.key] = d
            for slot, inp in d.input_drvs.items():
                if inp.fixed:
                    # Any valid output with this content identity will do, whoever fetched it.
                    if inp.key in self.fod_ready:
                        continue
                    ready = store.fod_output(inp.key)
                    if ready is not None:
                        self.fod_ready[inp.key] = ready
                        continue
                dep = by_ref.get(inp.key)
                if dep is None:
                    dep = store.read_derivation(inp.key)
                    if dep is None:
                        raise SkiffError(MISSING_INPUT, f"input '{slot}' of derivation '{d.name}' ({inp.key}) is neither given nor in the store")
                    by_ref[inp.key] = dep
                stack.append(dep)
        self.by_ref = by_ref

    def dep_key(self, ref: str) -> str | None:
        d = self.by_ref.get(ref)
        return None if d is None else d.key


def realize(
    store: LocalStore,
    targets: Iterable[Derivation],
    runner: BuildRunner,
    *,
    graph: Mapping[str, Derivation] | Iterable[Derivation] | None = None,
    jobs: int = 1,
    keep_going: bool = False,
    dry_run: bool = False,
    on_event: Callable[[RealizeEvent], None] | None = None,
) -> RealizeResult | RealizePlan:
    """Realize ``targets`` (see the module docstring); returns a ``RealizePlan`` when
    ``dry_run``, else a ``RealizeResult``; raises ``RealizeError`` when a build failed."""
    targets = list(targets)
    emit_lock = threading.Lock()

    def emit(ev: RealizeEvent) -> None:
        if on_event is not None:
            with emit_lock:
                on_event(ev)

    with store.shared_lock():
        if not dry_run and targets:
            # The common no-op: every target realized already.  Their inputs are not needed.
            known = store.realisations(t.key for t in targets)
            if len(known) == len({t.key for t in targets}):
                emit(RealizeEvent("plan", counts=(len(known), len(known))))
                keys = tuple(dict.fromkeys(t.key for t in targets))
                return RealizeResult({k: known[k].outputs for k in keys}, (), (), keys, (), ())
        g = _Graph(store, targets, graph)
        if not dry_run:
            store.write_derivations(g.by_key.values())
        done: dict[str, SortedMap[str, StorePath]] = {k: r.outputs for k, r in store.realisations(g.by_key).items()}
        needed = _needed(g, targets, done)
        emit(RealizeEvent("plan", counts=(len(needed), sum(1 for k in needed if k in done)),
                          fetch=sum(1 for k in needed if k not in done and g.by_key[k].fixed is not None)))
        if dry_run:
            return _plan(store, g, needed, done)
        with store.pending() as marker:
            return _run(store, g, needed, done, runner, max(1, jobs), keep_going, emit, marker)


def _needed(g: _Graph, targets: list[Derivation], done: Mapping[str, object]) -> list[str]:
    """Keys to consider, inputs before dependents: targets and inputs of what must be built."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    for t in targets:
        stack = [(t.key, False)]
        while stack:
            key, expanded = stack.pop()
            if expanded:
                state[key] = 2
                order.append(key)
                continue
            st = state.get(key)
            if st == 2:
                continue
            if st == 1:
                raise SkiffError(DEPENDENCY_CYCLE, f"derivation '{g.by_key[key].name}' depends on itself")
            state[key] = 1
            stack.append((key, True))
            if key in done:
                continue
            for inp in g.by_key[key].input_drvs.values():
                if inp.key in g.fod_ready:
                    continue
                dk = g.dep_key(inp.key)
                if dk is not None and state.get(dk) != 2:
                    if state.get(dk) == 1:
                        raise SkiffError(DEPENDENCY_CYCLE, f"derivation '{g.by_key[key].name}' depends on itself")
                    stack.append((dk, False))
    return order


def _input_outputs(g: _Graph, drv: Derivation, done: Mapping[str, SortedMap[str, StorePath]]) -> dict[str, Mapping[str, StorePath]]:
    out: dict[str, Mapping[str, StorePath]] = {}
    for slot, inp in drv.input_drvs.items():
        if inp.key in g.fod_ready:
            out[slot] = {"out": g.fod_ready[inp.key]}
        else:
            out[slot] = done[g.by_ref[inp.key].key]
    return out


def _plan(store: LocalStore, g: _Graph, needed: list[str], done: Mapping[str, SortedMap[str, StorePath]]) -> RealizePlan:
    valid, build, cutoff, maybe = [], [], [], []
    pending: set[str] = set()
    for key in needed:
        d = g.by_key[key]
        item = (key, d.name)
        if key in done:
            valid.append(item)
            continue
        deps = [g.dep_key(i.key) for i in d.input_drvs.values() if i.key not in g.fod_ready]
        if any(dk in pending for dk in deps):
            maybe.append(item)
            pending.add(key)
            continue
        resolved = resolve(d, str(store.root), _input_outputs(g, d, done))
        outs = store.resolved_outputs(resolved.key)
        if outs is not None:
            cutoff.append(item)
        else:
            build.append(item)
            pending.add(key)
    return RealizePlan(tuple(valid), tuple(build), tuple(cutoff), tuple(maybe))


def _run(store, g, needed, done, runner, jobs, keep_going, emit, marker):  # type: ignore[no-untyped-def]
    built: list[str] = []
    cutoff: list[str] = []
    valid = [k for k in needed if k in done]
    failed: list[BuildFailure] = []
    skipped: list[str] = []
    todo = [k for k in needed if k not in done]
    todo_set = set(todo)
    waiting: dict[str, set[str]] = {}
    dependents: dict[str, list[str]] = {}
    for k in todo:
        deps = {g.dep_key(i.key) for i in g.by_key[k].input_drvs.values() if i.key not in g.fod_ready}
        deps = {dk for dk in deps if dk in todo_set}
        waiting[k] = deps
        for dk in deps:
            dependents.setdefault(dk, []).append(k)
    ready = [k for k in reversed(todo) if not waiting[k]]
    stop = False

    def work(key: str, inputs: dict[str, Mapping[str, StorePath]]) -> tuple[str, SortedMap[str, StorePath], float]:
        drv = g.by_key[key]
        resolved = resolve(drv, str(store.root), inputs)
        outs = store.resolved_outputs(resolved.key)
        if outs is not None:
            store.register_realisation(key, resolved.key)
            store.journal(key, resolved.key, outs)
            return "cutoff", SortedMap(outs), 0.0
        with store.key_lock(resolved.key):
            outs = store.resolved_outputs(resolved.key)
            if outs is not None:  # another process built it while we waited for the lock
                store.register_realisation(key, resolved.key)
                store.journal(key, resolved.key, outs)
                return "cutoff", SortedMap(outs), 0.0
            if drv.fixed is not None:
                known = store.fod_output(drv.ref)  # the same declared content, fetched before
                if known is not None:
                    store.record_realisation(key, resolved, {"out": known})
                    return "cutoff", SortedMap({"out": known}), 0.0
            emit(RealizeEvent("start", key, drv.name, str(store.log_path(key, drv.name))))
            t0 = time.monotonic()
            outs = build_outputs(store, drv, resolved, runner, marker)
            return "built", SortedMap(outs), time.monotonic() - t0

    def skip_downstream(key: str, because: str) -> None:
        stack = list(dependents.get(key, ()))
        while stack:
            k = stack.pop()
            if k in waiting:
                del waiting[k]
                skipped.append(k)
                emit(RealizeEvent("skipped", k, g.by_key[k].name, error=SkiffError(
                    DEPENDENCY_FAILED, f"'{g.by_key[k].name}' was not built: its input '{g.by_key[because].name}' failed")))
                stack.extend(dependents.get(k, ()))

    pool_cm = _Inline() if jobs == 1 else ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="skiffeval-build")
    with pool_cm as pool:
        running: dict[Future, str] = {}
        while (ready and not stop) or running:
            while ready and not stop and len(running) < jobs:
                key = ready.pop()
                if key not in waiting:
                    continue
                del waiting[key]
                running[pool.submit(work, key, _input_outputs(g, g.by_key[key], done))] = key
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                key = running.pop(fut)
                drv = g.by_key[key]
                try:
                    how, outs, secs = fut.result()
                except SkiffError as e:
                    log = store.log_path(key, drv.name)
                    tail = tuple(log_tail(log))
                    failed.append(BuildFailure(key, drv.name, e, str(log) if log.exists() else None, tail))
                    emit(RealizeEvent("failed", key, drv.name, str(log), error=e))
                    if keep_going:
                        skip_downstream(key, key)
                    else:
                        stop = True
                    continue
                except Exception as e:  # an unexpected error in the store itself: not a build failure
                    stop = True
                    failed.append(BuildFailure(key, drv.name, SkiffError(
                        BUILD_FAILED, f"realizing '{drv.name}' failed: {type(e).__name__}: {e}",
                        notes=[Note("this may be a skiffeval bug")]), None, ()))
                    continue
                done[key] = outs
                (built if how == "built" else cutoff).append(key)
                emit(RealizeEvent(how, key, drv.name, outputs=outs, seconds=secs))
                for dep in dependents.get(key, ()):
                    w = waiting.get(dep)
                    if w is not None:
                        w.discard(key)
                        if not w:
                            ready.append(dep)
    store.db.prune()
    skipped += [k for k in waiting if k not in skipped]
    result = RealizeResult(
        {k: done[k] for k in needed if k in done}, tuple(built), tuple(cutoff), tuple(valid), tuple(failed), tuple(skipped)
    )
    if failed:
        raise RealizeError(result)
    return result
