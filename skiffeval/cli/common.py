"""Options every command shares, as one decorator, and the session they configure.

``--store``, ``-I``, ``--json``, ``-v``/``-q`` and ``--no-color`` are accepted by every command
(after the command name, as users type them); commands that take a FILE also take ``--arg``,
``--argstr`` and ``-A``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable

import click

from skiffeval.cli.output import Output
from skiffeval.session import evalcache
from skiffeval.session.options import ArgValue, SessionOptions

__all__ = ["common_options", "file_options", "Context", "arg_values", "count"]


class Context:
    """What a command needs: the output and a (lazily built) session."""

    def __init__(self, output: Output, options: SessionOptions) -> None:
        self.output = output
        self.options = options
        self._session = None

    def set_overrides(self, overrides: tuple[str, ...]) -> None:
        """``--override-input NAME=PATH`` values (before the session is made)."""
        pairs = []
        for item in overrides:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise click.BadParameter(f"expected NAME=PATH, found '{item}'", param_hint="--override-input")
            pairs.append((name, path))
        self.options = dataclasses.replace(self.options, overrides=tuple(pairs))

    @property
    def session(self):
        """The session (a ``skiffeval.session.Session``), made on first use."""
        if self._session is None:
            from skiffeval.session.core import Session

            self._session = Session(self.options)
        return self._session

    # -- the evaluation cache ------------------------------------------------------------------

    @property
    def store_root(self) -> str:
        return os.path.realpath(os.path.join(self.options.cwd, self.options.store_dir or "store"))

    def cache_key(self, command: dict, args: dict[str, ArgValue] | None = None) -> str:
        """The evaluation-cache key of a command (with its ``--arg``/``--argstr`` values) under
        these options."""
        opts = self.options
        if args is not None:
            command = {**command, "args": {k: [v.text, v.is_expr] for k, v in args.items()}}
        return evalcache.command_key({
            **command,
            "include": list(opts.include),
            "path": opts.env_search_path,
            "overrides": [[n, os.path.abspath(os.path.join(opts.cwd, p))] for n, p in opts.overrides],
            "cwd": opts.cwd,
            "store": self.store_root,
        })

    def cached(self, key: str) -> dict | None:
        return evalcache.lookup(os.path.join(self.store_root, ".skiffeval"), key, self.store_root)

    def save_cache(self, key: str, record: dict) -> None:
        paths = [t["path"] for t in record.get("targets", ())]
        evalcache.save(os.path.join(self.store_root, ".skiffeval"), key, self.session.inputs, record, paths)

    def relink(self, record: dict, link: str) -> None:
        """Point the out-links of a cached build at its outputs again (they are GC roots)."""
        links, store = [], None
        for i, target in enumerate(record["targets"]):
            name = link if i == 0 else f"{link}-{i + 1}"
            path = os.path.join(self.options.cwd, name)
            wanted = os.path.join(self.store_root, target["path"])
            try:
                current = os.readlink(path)
            except OSError:
                current = None
            if current != wanted:  # the usual no-op build finds its link in place
                from skiffeval.derivation import StorePath
                from skiffeval.store.local import LocalStore

                store = store or LocalStore(self.store_root, clean=False)
                store.add_indirect_root(path, StorePath.parse(target["path"]))
            links.append(name)
        record["links"] = links


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared options; the command receives ``ctx: Context`` instead of them."""

    @click.option("--store", "store_dir", metavar="DIR", envvar="SKIFFEVAL_STORE", help="Store root (default: ./store, or $SKIFFEVAL_STORE).")
    @click.option("-I", "--include", "include", multiple=True, metavar="NAME=DIR", help="Add a search path entry for <NAME/...> (repeatable).")
    @click.option("--json", "as_json", is_flag=True, help="Print results and errors as JSON.")
    @click.option("-v", "--verbose", count=True, help="Say more (repeatable).")
    @click.option("-q", "--quiet", is_flag=True, help="Say only what was asked for.")
    @click.option("--no-color", is_flag=True, help="Do not colour the output.")
    @functools.wraps(fn)
    def wrapper(*args: Any, store_dir: str | None, include: tuple[str, ...], as_json: bool, verbose: int, quiet: bool, no_color: bool, **kwargs: Any) -> Any:
        output = Output.create(json=as_json, no_color=no_color, verbose=verbose, quiet=quiet)
        options = SessionOptions(
            include=include,
            env_search_path=os.environ.get("SKIFFEVAL_PATH"),
            store_dir=store_dir,
        )
        return fn(*args, ctx=Context(output, options), **kwargs)

    return wrapper


def file_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--arg NAME EXPR``, ``--argstr NAME VALUE`` and ``-A ATTR`` for commands taking a FILE."""

    @click.option("--arg", "arg", nargs=2, multiple=True, metavar="NAME EXPR", help="Pass NAME = EXPR to a file that is a function.")
    @click.option("--argstr", "argstr", nargs=2, multiple=True, metavar="NAME VALUE", help="Pass NAME = \"VALUE\" to a file that is a function.")
    @functools.wraps(fn)
    def wrapper(*args: Any, arg: tuple, argstr: tuple, **kwargs: Any) -> Any:
        return fn(*args, args=arg_values(arg, argstr), **kwargs)

    return wrapper


def arg_values(arg: tuple, argstr: tuple) -> dict[str, ArgValue]:
    values: dict[str, ArgValue] = {}
    for name, text in arg:
        values[name] = ArgValue(text, True)
    for name, text in argstr:
        values[name] = ArgValue(text, False)
    return values


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for one: ``count(1, "error")`` is "1 error"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
