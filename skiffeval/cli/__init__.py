"""The command line: the only place that parses arguments or prints.

``main`` runs the click application and turns every outcome into an exit status: 0 success,
1 a user error (evaluation, build: rendered with its code and location), 2 a usage error,
3 an internal error (a bug in skiffeval, said as such).  A Python traceback is shown only for
internal errors and only with ``SKIFFEVAL_DEBUG=1``.
"""

from __future__ import annotations

import os
import re
import sys

import click

from skiffeval.diagnostics import MISSING_DEPENDENCY, USAGE, InternalError, SkiffError, internal_error_text, render_json, render_text

__all__ = ["main", "run", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_INTERNAL"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def _color(argv: list[str]) -> bool:
    return "--no-color" not in argv and "NO_COLOR" not in os.environ and sys.stderr.isatty()


def _say(diag: SkiffError, args: list[str]) -> None:
    """Print a diagnostic the command itself did not get to print (text, or JSON with --json)."""
    sys.stderr.write((render_json([diag]) if _wants_json(args) else render_text(diag, color=_color(args))) + "\n")


def _usage_error(exc: click.UsageError) -> SkiffError:
    """A usage error in the language's format: ``error[E001]: no such option '--x'`` with the
    usage line and where to get help."""
    message = exc.format_message().strip()
    help_lines = []
    hint = re.match(r"(?s)(.*?)\.?\s*\(?((?:Did you mean|Possible options)[^()]*?)\)?$", message)
    if hint:  # click's "(Did you mean one of: ...)" becomes a help line
        message = hint.group(1)
        help_lines.append(hint.group(2)[:1].lower() + hint.group(2)[1:])
    message = (message[:1].lower() + message[1:]).rstrip(".")
    if exc.ctx is not None:
        help_lines += [f"usage: {exc.ctx.get_usage().removeprefix('Usage: ')}",
                       f"try '{exc.ctx.command_path} --help'"]
    return SkiffError(USAGE, message, help=help_lines)


# Import name -> distribution name of each runtime dependency (pyproject.toml's dependencies).
_DEPENDENCIES = {"attr": "attrs", "attrs": "attrs", "cattrs": "cattrs", "lark": "lark", "kconfiglib": "kconfiglib",
                 "xxhash": "xxhash", "rich": "rich", "click": "click", "orjson": "orjson"}


def run() -> None:
    """The ``skiffeval`` console script and ``python -m skiffeval``: ``main``, then an exit that
    does not free every object one by one.

    A configuration holds Buildroot's parsed Kconfig tree (~100,000 objects, in cycles) and an
    evaluation's values; the interpreter's teardown freed them for 0.8–1.2 s of a 2–3 s
    ``skiffos configure``.  The output is flushed first; nothing skiffeval leaves to exit
    handlers needs them (temporary folders are removed where they are made, store writes are
    committed or marked pending, locks are released by the kernel with the process).  mypy
    exits the same way (its ``hard_exit``).  ``main`` itself returns normally: tests and other
    callers in the same process are unaffected.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe (`| head`): what was read is all
            pass
    os._exit(code)


# Python calls the command line allows in a row (``sys.setrecursionlimit``, raised for the
# run): the store's tree walks (hashing, copying, scanning outputs, removing) recurse once per
# folder level, and a tree whose paths the system can still name (PATH_MAX, 4,096 bytes) is at
# most ~2,048 levels deep.  CPython 3.11 runs Python-to-Python calls without growing the C
# stack, so the limit only has to leave room; the evaluation runs deeper still (``run_deep``).
RECURSION_LIMIT = 10_000


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (the recursion limit is raised to
    ``RECURSION_LIMIT`` while it runs, and put back)."""
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    try:
        return _main(argv)
    finally:
        sys.setrecursionlimit(old_limit)


def _main(argv: list[str] | None) -> int:
    from skiffeval.cli.app import app
    from skiffeval.cli.output import flush_pending

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        os.getcwd()
    except FileNotFoundError:  # every relative path would be meaningless
        diag = SkiffError(USAGE, "the current directory no longer exists (it was deleted after this shell entered it)",
                          help=["cd into an existing directory and run the command again"])
        _say(diag, args)
        return EXIT_USAGE
    try:
        app.main(args=args, prog_name="skiffeval", standalone_mode=False)
        flush_pending(sys.stderr)
        return EXIT_OK
    except SkiffError as exc:
        if _wants_json(args):
            flush_pending(sys.stderr, [exc])
        else:
            sys.stderr.write(render_text(exc, color=_color(args)) + "\n")
        return EXIT_FAILURE
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        sys.stderr.write("aborted\n")
        return EXIT_FAILURE
    except click.UsageError as exc:
        diag = _usage_error(exc)
        _say(diag, args)
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else EXIT_FAILURE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in _DEPENDENCIES:
            sys.stderr.write(internal_error_text(exc) + "\n")
            return EXIT_INTERNAL
        # an installation older than the code (a pull without a reinstall), or a broken venv
        diag = SkiffError(MISSING_DEPENDENCY, f"the Python package '{_DEPENDENCIES[top]}' that skiffeval needs is not installed",
                          help=["install skiffeval again so that its dependencies are installed: "
                                "python3 -m pip install -e . (in the clone), or pip install --upgrade skiffeval"])
        _say(diag, args)
        return EXIT_FAILURE
    except (InternalError, Exception) as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("SKIFFEVAL_DEBUG"):
            import traceback  # here: only an internal error with SKIFFEVAL_DEBUG=1 prints one

            traceback.print_exc()
        sys.stderr.write(internal_error_text(exc) + "\n")
        return EXIT_INTERNAL
