"""Build progress for people: a one-line plan, then one line per finished derivation
(``-v`` also names each start), and a summary; quiet with ``-q``."""

from __future__ import annotations

from typing import Any

from skiffeval.cli.output import Output


class Progress:
    """Renders realization events on stderr."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.total = 0
        self.done = 0

    def event(self, ev: Any) -> None:
        kind = ev.kind
        if kind == "plan":
            considered, valid = ev.counts
            todo = considered - valid
            self.total = todo
            if todo:
                self.output.info(f"{todo} derivation{'s' if todo != 1 else ''} to build, {valid} already valid")
        elif kind == "start":
            self.output.detail(f"building '{ev.name}'")
        elif kind in ("built", "cutoff"):
            self.done += 1
            what = "built" if kind == "built" else "unchanged (early cutoff)"
            self.output.info(f"[{self.done}/{self.total}] {what} '{ev.name}' ({ev.seconds:.2f}s)")
        elif kind == "failed":
            self.output.info(f"failed '{ev.name}'" + (f" (log: {ev.log_path})" if ev.log_path else ""))
        elif kind == "skipped":
            self.output.detail(f"skipped '{ev.name}' (an input failed)")

    def buildroot(self, name: str, event: Any) -> None:
        """A Buildroot step (``>>> pkg version Step``) of the image being built."""
        done = f"{event.done}/{event.total}" if event.total else f"{event.done}"
        what = f"{event.package} {event.version}".strip() if event.package else ""
        self.output.info(f"  [{name}] {done} {what} {event.step or event.message}".rstrip())

    def buildroot_line(self, name: str, line: str) -> None:
        """A line of Buildroot's output (shown with -v)."""
        if self.output.verbosity > 0:
            self.output.stderr.write(line + "\n")

    def plan(self, plan: Any) -> None:
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
        result = outcome.result
        if result.built or result.cutoff:
            self.output.info(f"built {len(result.built)}, unchanged {len(result.cutoff)}, valid {len(result.valid)}")
