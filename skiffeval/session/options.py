"""The plain records a command hands to the session (kept apart from ``core`` so the command
line can build them, and consult the evaluation cache, without importing the evaluator).
Plain dataclasses: a warm command imports this module, and attrs would cost it 30-50 ms."""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

__all__ = ["ArgValue", "SessionOptions", "BuildRequest"]


@dataclasses.dataclass(frozen=True, slots=True)
class ArgValue:
    """A value for ``--arg NAME EXPR`` (``is_expr``) or ``--argstr NAME VALUE``."""

    text: str
    is_expr: bool


@dataclasses.dataclass(frozen=True, slots=True)
class SessionOptions:
    include: tuple[str, ...] = ()
    env_search_path: str | None = None
    store_dir: str | None = None
    cwd: str = dataclasses.field(default_factory=os.getcwd)
    overrides: tuple[tuple[str, str], ...] = ()  # --override-input NAME=PATH


@dataclasses.dataclass(frozen=True, slots=True)
class BuildRequest:
    """What to build: a file, attribute paths, arguments."""

    target: str
    attr_paths: tuple[str, ...] = ()
    args: Mapping[str, ArgValue] = dataclasses.field(default_factory=dict)
