"""An in-process runner for the command line: exit status, stdout and stderr of one call."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import attrs

from skiffeval.cli import main


@attrs.frozen
class Result:
    code: int
    out: str
    err: str


def run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    old_env = dict(os.environ)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env:
            os.environ.update(env)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
    return Result(code, out.getvalue(), err.getvalue())
