"""The session: the one place where the evaluator meets derivations, the store and builders.

A ``Session`` is what a command works with: it owns the store (when one is needed), builds the
evaluator with the host's I/O and domain builtins, and offers one call per thing the CLI does
(evaluate a file, build attributes, query ...).  The CLI parses arguments and prints; the
session does neither.

Search path: ``-I`` entries first, then ``SKIFFEVAL_PATH`` (given by the CLI: the session does
not read the environment), then ``layers=<skiffeval's own layer library>``.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any, Mapping, Sequence

import attrs

from skiffeval.eval.evaluator import Evaluator, SearchPathEntry, parse_search_path, run_deep
from skiffeval.eval.io import EvalIO, FileSystemIO
from skiffeval.eval.values import force

__all__ = ["Session", "SessionOptions", "ArgValue", "default_layers_dir"]


def default_layers_dir() -> str:
    """The directory of skiffeval's own layer library (``<layers/...>``)."""
    return str(resources.files("skiffeval._layers"))


@attrs.frozen
class ArgValue:
    """A value for ``--arg NAME EXPR`` (``is_expr``) or ``--argstr NAME VALUE``."""

    text: str
    is_expr: bool


@attrs.frozen
class SessionOptions:
    include: tuple[str, ...] = ()
    env_search_path: str | None = None
    store_dir: str | None = None
    cwd: str = attrs.field(factory=os.getcwd)


class Session:
    """One command's worth of evaluation (and, later, building)."""

    def __init__(self, options: SessionOptions | None = None, io: EvalIO | None = None) -> None:
        self.options = options or SessionOptions()
        self.io = io if io is not None else FileSystemIO()
        self.search_path: list[SearchPathEntry] = self._search_path()
        self._evaluator: Evaluator | None = None

    def _search_path(self) -> list[SearchPathEntry]:
        entries = list(self.options.include)
        if self.options.env_search_path:
            entries.extend(self.options.env_search_path.split(":"))
        path = parse_search_path(entries)
        path.append(("layers", default_layers_dir()))
        return path

    @property
    def evaluator(self) -> Evaluator:
        if self._evaluator is None:
            self._evaluator = Evaluator(self.io, self.search_path, display_root=self.options.cwd)
        return self._evaluator

    # -- evaluation ------------------------------------------------------------------------

    def _arguments(self, args: Mapping[str, ArgValue]) -> dict[str, Any]:
        ev = self.evaluator
        out: dict[str, Any] = {}
        for name, arg in args.items():
            out[name] = ev.eval_text(arg.text, f"(--arg {name})", self.options.cwd) if arg.is_expr else arg.text
        return out

    def evaluate(
        self,
        file: str,
        attr_paths: Sequence[str] = (),
        args: Mapping[str, ArgValue] | None = None,
        *,
        deep: bool = False,
    ) -> list[Any]:
        """The values of ``file`` (auto-called with ``args``) at each ``-A`` path (or the whole
        value), forced to weak head normal form, or completely with ``deep``."""

        def work() -> list[Any]:
            ev = self.evaluator
            root = ev.auto_call(ev.eval_file(os.path.join(self.options.cwd, file)), self._arguments(args or {}))
            values = [ev.select_path(root, p) for p in attr_paths] if attr_paths else [force(root)]
            if deep:
                for v in values:
                    ev.force_deep(v)
            return values

        return run_deep(work)

    def evaluate_expression(self, text: str, args: Mapping[str, ArgValue] | None = None, *, deep: bool = False) -> Any:
        """The value of an expression given on the command line (``--expr``)."""

        def work() -> Any:
            ev = self.evaluator
            value = ev.auto_call(ev.eval_text(text, "(--expr)", self.options.cwd), self._arguments(args or {}))
            return ev.force_deep(value) if deep else force(value)

        return run_deep(work)

    def render(self, value: Any, *, json: bool, strict: bool) -> str:
        """The text of a value for printing: Nix-like text, or JSON."""
        from skiffeval.eval.builtins.json import to_json_text
        from skiffeval.eval.printer import print_value

        ev = self.evaluator
        if json:
            return run_deep(lambda: to_json_text(ev, value, None)[0])
        return run_deep(lambda: print_value(ev, value, strict=strict))
