"""The plain records a command hands to the session (kept apart from ``core`` so the command
line can build them, and consult the evaluation cache, without importing the evaluator)."""

from __future__ import annotations

import os
from typing import Mapping

import attrs

__all__ = ["ArgValue", "SessionOptions", "BuildRequest"]


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
    overrides: tuple[tuple[str, str], ...] = ()  # --override-input NAME=PATH


@attrs.frozen
class BuildRequest:
    """What to build: a file, attribute paths, arguments."""

    target: str
    attr_paths: tuple[str, ...] = ()
    args: Mapping[str, ArgValue] = attrs.field(factory=dict)
