"""Build progress for people, on stderr.

Before building, one plan line: ``plan: N to build, M valid, K to fetch``.  While building, on a
terminal, a live view (rich) redrawn a few times a second: done/total, running, failed, elapsed,
and one line per running derivation — for a Buildroot image, the package and step Buildroot is
at and how many packages are done.  Where stderr is not a terminal (a CI log, a pipe) the view
degrades to quiet lines: one per finished derivation, and for an image one per package begun.
``-q`` and ``--json`` print nothing here; ``-v`` streams every builder's log, line by line,
prefixed with the derivation's name (``LogFollower`` tails the per-derivation log files, so it
works for every builder without the builders knowing).  Errors are not printed here: the build
raises and ``skiffeval.cli.main`` renders the error.

Events come from ``skiffeval.store.realize`` (``RealizeEvent``: plan/start/built/cutoff/failed/
skipped; never two calls at once) and from ``skiffeval.builders.buildroot_image`` (``buildroot``:
``ProgressEvent`` of ``skiffeval.buildroot.progress``), possibly from worker threads.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Any, Callable


from skiffeval.cli.output import Output

__all__ = ["Progress", "LogFollower", "mode_for"]

REFRESH_PER_SECOND = 8
MAX_RUNNING_SHOWN = 8


def mode_for(output: Output, stream: Any = None) -> str:
    """``quiet`` (-q, --json), ``live`` (a terminal) or ``lines``."""
    stream = stream if stream is not None else output.stderr
    if output.verbosity < 0 or output.json:
        return "quiet"
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty and os.environ.get("TERM", "") != "dumb":
        return "live"
    return "lines"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


@dataclasses.dataclass(slots=True)
class _Running:
    name: str
    started: float
    step: Any = None  # the last Buildroot ProgressEvent of an image


class LogFollower:
    """Tails the log files of running derivations and hands each new complete line to
    ``emit(name, line)``: polled by a daemon thread, and drained when a derivation ends."""

    def __init__(self, emit: Callable[[str, str], None], interval: float = 0.1) -> None:
        self.emit = emit
        self.interval = interval
        self._logs: dict[str, list[Any]] = {}  # key -> [name, path, offset, partial]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, key: str, name: str, path: str | None) -> None:
        if not path:
            return
        with self._lock:
            self._logs[key] = [name, path, 0, b""]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="skiffeval-logs", daemon=True)
                self._thread.start()

    def finish(self, key: str) -> None:
        """The derivation ``key`` ended: emit the rest of its log."""
        with self._lock:
            entry = self._logs.pop(key, None)
            if entry is not None:
                self._read(entry, final=True)

    def poll(self) -> None:
        with self._lock:
            for entry in list(self._logs.values()):
                self._read(entry, final=False)

    def _read(self, entry: list[Any], final: bool) -> None:
        # Called with self._lock held, and emits under it: lines of one log stay in order.
        # (Lock order: this lock, then whatever ``emit`` takes; never the other way round.)
        name, path, offset, partial = entry
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            data = b""
        entry[2] = offset + len(data)
        *complete, rest = (partial + data).split(b"\n")
        for raw in complete:
            self.emit(name, raw.decode("utf-8", "replace").rstrip("\r"))
        if final and rest:
            self.emit(name, rest.decode("utf-8", "replace").rstrip("\r"))
        entry[3] = b"" if final else rest

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for entry in self._logs.values():
                self._read(entry, final=True)
            self._logs.clear()


class Progress:
    """Renders realization events on stderr (see the module docstring).  Use it as a context
    manager (or call ``close``) so the live view is taken down even when the build fails."""

    def __init__(self, output: Output, *, mode: str | None = None, console: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.output = output
        self.mode = mode or mode_for(output)
        self.clock = clock
        self.started = clock()
        self.total = 0
        self.done = 0
        self.built = 0
        self.cutoff = 0
        self.failed: list[str] = []
        self.skipped = 0
        self.valid = 0
        self.fetch = 0
        self.running: dict[str, _Running] = {}
        self._packages: dict[str, str] = {}  # image name -> last package announced (lines mode)
        self._lock = threading.RLock()
        self._live: Any = None
        self._console = console
        self.follower = LogFollower(self._log_line) if output.verbosity > 0 and self.mode != "quiet" else None

    # -- plumbing ------------------------------------------------------------------------------

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _say(self, text: str) -> None:
        """A line for people: above the live view, or on stderr."""
        if self.mode == "quiet":
            return
        with self._lock:
            if self._live is not None:
                self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                self.output.stderr.write(text + "\n")
                self.output.stderr.flush()

    def _log_line(self, name: str, line: str) -> None:
        self._say(f"{name}> {line}")

    def _start_live(self) -> None:
        if self.mode != "live" or self._live is not None:
            return
        from rich.console import Console
        from rich.live import Live

        console = self._console or Console(file=self.output.stderr, no_color=not self.output.color,
                                           highlight=False, soft_wrap=False)
        self._live = Live(_View(self), console=console, refresh_per_second=REFRESH_PER_SECOND,
                          transient=True, redirect_stdout=False, redirect_stderr=False)
        self._live.start()

    def close(self) -> None:
        """Take the live view down (leaving nothing behind) and stop following logs."""
        if self.follower is not None:
            self.follower.close()
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    # -- events --------------------------------------------------------------------------------

    def event(self, ev: Any) -> None:
        kind = ev.kind
        if self.follower is not None:  # before taking our lock (see LogFollower._read)
            if kind == "start":
                self.follower.follow(ev.key, ev.name, ev.log_path)
            elif kind in ("built", "cutoff", "failed"):
                self.follower.finish(ev.key)
        with self._lock:
            if kind == "plan":
                considered, valid = ev.counts
                self.valid = valid
                self.total = considered - valid
                self.fetch = getattr(ev, "fetch", 0)
                if self.total or self.output.verbosity > 0:
                    self._say(self.plan_line())
                if self.total:
                    self._start_live()
            elif kind == "start":
                self.running[ev.key] = _Running(ev.name, self.clock())
                if self.mode == "lines" and self.output.verbosity > 0:
                    self._say(f"building '{ev.name}'")
            elif kind in ("built", "cutoff", "failed", "skipped"):
                self._finished(kind, ev, self.running.pop(ev.key, None))

    def _finished(self, kind: str, ev: Any, run: _Running | None) -> None:
        if kind == "skipped":
            self.skipped += 1
            if self.output.verbosity > 0:
                self._say(f"skipped '{ev.name}' (an input failed)")
            return
        self.done += 1
        if kind == "failed":
            self.failed.append(ev.name)
            self._say(f"[{self.done}/{self.total}] failed '{ev.name}'" + (f" (log: {ev.log_path})" if ev.log_path else ""))
            return
        if kind == "built":
            self.built += 1
        else:
            self.cutoff += 1
        if self.mode == "lines":
            what = "built" if kind == "built" else "unchanged (early cutoff)"
            self._say(f"[{self.done}/{self.total}] {what} '{ev.name}' ({ev.seconds:.2f}s)")

    def buildroot(self, name: str, event: Any) -> None:
        """A Buildroot step (``>>> pkg version Step``) of the image ``name`` being built."""
        with self._lock:
            for run in self.running.values():
                if run.name == name:
                    run.step = event
            if self.mode != "lines":
                return
            label = event.package or event.message
            if self.output.verbosity > 0 or self._packages.get(name) != label:
                self._packages[name] = label
                self._say(f"  {name}: {_step_text(event)}")

    def buildroot_line(self, name: str, line: str) -> None:
        """A line of Buildroot's output: ``-v`` shows it through the log follower already."""

    # -- texts ---------------------------------------------------------------------------------

    def plan_line(self) -> str:
        to_build = self.total - self.fetch
        return f"plan: {to_build} to build, {self.valid} valid, {self.fetch} to fetch"

    def status_line(self) -> str:
        parts = [f"{self.done}/{self.total} done", f"{len(self.running)} running"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "building: " + ", ".join(parts) + f" · {_clock(self.clock() - self.started)}"

    def running_lines(self) -> list[str]:
        now = self.clock()
        rows = sorted(self.running.values(), key=lambda r: r.started)
        width = max((len(r.name) for r in rows), default=0)
        out = []
        for r in rows[:MAX_RUNNING_SHOWN]:
            text = f"  {r.name.ljust(width)}  {_clock(now - r.started)}"
            if r.step is not None:
                text += f"  {_step_text(r.step)}"
            out.append(text)
        if len(rows) > MAX_RUNNING_SHOWN:
            out.append(f"  … and {len(rows) - MAX_RUNNING_SHOWN} more")
        return out

    def plan(self, plan: Any) -> None:
        """What ``--dry-run`` prints (stdout): the plan in full."""
        out = self.output
        if out.json:
            out.data({k: [{"key": key, "name": name} for key, name in getattr(plan, k)] for k in ("valid", "build", "cutoff", "may_cutoff")})
            return
        out.result(f"{len(plan.build)} to build, {len(plan.valid)} valid, {len(plan.may_cutoff)} may be cut off early")
        for key, name in plan.build:
            out.result(f"  build  {name}  ({key})")
        for key, name in plan.may_cutoff:
            out.result(f"  maybe  {name}  (unchanged inputs would skip it)")

    def summary(self, outcome: Any) -> None:
        self.close()
        result = outcome.result
        if result.built or result.cutoff:
            self._say(f"built {len(result.built)}, unchanged {len(result.cutoff)}, valid {len(result.valid)} "
                      f"in {self.clock() - self.started:.2f}s")


def _step_text(event: Any) -> str:
    """``[42/120] busybox 1.36.1: Building`` for a Buildroot progress event."""
    done = f"[{event.done}/{event.total}] " if event.total else (f"[{event.done}] " if event.done else "")
    what = f"{event.package} {event.version}".strip()
    return f"{done}{what}: {event.message}" if what else f"{done}{event.message}"


class _View:
    """The live view's renderable, computed at each refresh (so the clocks move)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def __rich__(self) -> Any:
        from rich.text import Text

        p = self.progress
        with p._lock:
            head = Text(p.status_line(), style="bold")
            lines = [Text(line) for line in p.running_lines()]
        from rich.console import Group

        return Group(head, *lines)
