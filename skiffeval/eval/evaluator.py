"""The evaluator: files in, values out, with I/O injected and imports memoized.

An ``Evaluator`` owns one evaluation: its I/O (``EvalIO``), its search path, the builtins (the
core ones plus those the host registers, e.g. ``derivation`` and ``layer`` from the session),
and the memo of imported files.  It is deterministic: nothing it does depends on the clock, the
environment, ``PYTHONHASHSEED`` or dict iteration of unordered data (attribute names are
always sorted where order shows).

Imports are memoized by (path, XXH3 of the content); the parsed AST is shared between
evaluators by (content digest, display name), and between processes by ``syntax.astcache``
(a file parsed before is not parsed again, and lark is not imported for it).  A file being imported while it is already being
imported is an import cycle, reported as infinite recursion naming the file.

Deep programs: evaluation runs on a thread with a large stack and a high recursion limit
(``run``), so a 10,000-deep chain of imports or calls evaluates; unbounded recursion ends with a
located E046 error rather than a crash.

The Python frames of a deep evaluation: CPython (3.11) keeps interpreter frames in 16 KiB
chunks that it maps when a call needs one and unmaps as soon as the frame at its start returns,
so an evaluation whose calls go back and forth across a chunk boundary (every derivation of a
deep chain does, while it hashes itself) maps and unmaps a chunk each time: 7,800 times, a
tenth of the time of ``benchmarks/eval_chain.py``.  ``run`` therefore enters the evaluation
through a function whose frame claims a 32 MiB value stack (``co_stacksize``, never touched):
CPython gives that frame a 64 MiB chunk of its own, and the evaluation's frames fill the other
half without mapping anything (pages are touched as they are used).  Why not a setting: the
chunk size is a constant of the interpreter, and its arena allocator can be replaced from C only.

Garbage collection: while an evaluation runs, a full collection comes at most every
``FULL_GC_EVERY`` collections of the middle generation (Python's default is 10).  What an
evaluation allocates stays reachable until it ends (thunks, sets, strings of its values), so
every full collection rescans all of it and finds next to nothing: four of them cost 0.15 s of
the 1.3 s that 10,000 derivations took (``benchmarks/eval_chain.py``).  Young garbage (the
cycles of thunks left unforced in a ``let`` frame) is still collected as before.
"""

from __future__ import annotations

import gc
import os
import posixpath
import sys
import threading
from typing import Any, Callable, Iterable, Sequence, TypeVar

import xxhash

from skiffeval.diagnostics import Note, SkiffError, Span, did_you_mean_help
from skiffeval.eval import codes
from skiffeval.eval.builtins import load_core
from skiffeval.eval.builtins.registry import Registry
from skiffeval.eval.compiler import Compiler
from skiffeval.eval.io import EvalIO, NotARegularFile
from skiffeval.eval.runtime import call, coerce_to_string, force_deep
from skiffeval.eval.values import Attrs, Closure, PathValue, PrimOp, Thunk, force
from skiffeval.syntax import ast, astcache

# The parser (lark and its tables, ~0.1 s to import) is imported at the first text to parse:
# an evaluation that parses nothing (``skiffos configure`` calls the builtin directly) never
# pays for it.


def parse_bytes(data: bytes, name: str, path: str | None = None) -> Any:
    from skiffeval.syntax.parser import parse_bytes as parse

    return parse(data, name, path)

__all__ = ["Evaluator", "SearchPathEntry", "run_deep", "parse_search_path", "attributes_here"]

T = TypeVar("T")

SearchPathEntry = tuple[str | None, str]
"""``(prefix, directory)``: ``<prefix/rest>`` is ``directory/rest``; a None prefix serves any."""

STACK_BYTES = 1 << 30
RECURSION_LIMIT = 400_000
FULL_GC_EVERY = 100  # collections of generation 1 between full collections while evaluating
FRAME_STACK_SLOTS = (1 << 22) + 64  # 32 MiB and a little: CPython maps the next power of two

_limit_lock = threading.Lock()
_deep_runs = 0  # run_deep calls in progress (the limits are changed while any runs)
_saved_limit = [1000]
_saved_gc_threshold = [gc.get_threshold()]

_ast_cache: dict[tuple[str, str, str], ast.Expr] = {}
_ast_lock = threading.Lock()


def _in_frame_chunk(fn: Callable[[], T]) -> T:
    """``fn()``, called from a frame whose (unused) value stack is ``FRAME_STACK_SLOTS`` long."""
    return fn()


_in_frame_chunk.__code__ = _in_frame_chunk.__code__.replace(co_stacksize=FRAME_STACK_SLOTS)


def run_deep(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a thread with a 1 GiB stack, room for its Python frames, a high recursion
    limit and rarer full garbage collections (see the module docstring); re-raise its error."""
    result: list[Any] = []

    def target() -> None:
        try:
            result.append((True, _in_frame_chunk(fn)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            result.append((False, exc))

    with _limit_lock:
        global _deep_runs
        if _deep_runs == 0:
            _saved_limit[0] = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit[0], RECURSION_LIMIT))
            _saved_gc_threshold[0] = threshold = gc.get_threshold()
            gc.set_threshold(threshold[0], threshold[1], max(threshold[2], FULL_GC_EVERY))
        _deep_runs += 1
        old_size = threading.stack_size()
        threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="skiffeval-eval")
            thread.start()
        finally:
            threading.stack_size(old_size)
    try:
        thread.join()
    finally:
        with _limit_lock:
            _deep_runs -= 1
            if _deep_runs == 0:
                sys.setrecursionlimit(_saved_limit[0])
                gc.set_threshold(*_saved_gc_threshold[0])
    ok, value = result[0]
    if ok:
        return value
    raise value


def parse_search_path(entries: Iterable[str]) -> list[SearchPathEntry]:
    """``name=dir`` or ``dir`` entries (``-I`` values, ``SKIFFEVAL_PATH`` split on ':')."""
    out: list[SearchPathEntry] = []
    for entry in entries:
        if not entry:
            continue
        if "=" in entry:
            prefix, _, directory = entry.partition("=")
            out.append((prefix.strip("/"), os.path.abspath(directory)))
        else:
            out.append((None, os.path.abspath(entry)))
    return out


class Evaluator:
    """One evaluation context; see the module docstring."""

    def __init__(
        self,
        io: EvalIO,
        search_path: Sequence[SearchPathEntry] = (),
        extra_builtins: Iterable[Registry] = (),
        display_root: str | None = None,
    ) -> None:
        self.io = io
        self.search_path = list(search_path)
        self.display_root = display_root if display_root is not None else os.getcwd()
        self._imports: dict[tuple[str, str], Any] = {}
        self._search_cache: dict[str, PathValue] = {}
        self.globals: dict[str, Any] = {}
        self.builtins_attrs = Attrs({})
        self._install_builtins([load_core(), *extra_builtins])

    # -- builtins --------------------------------------------------------------------------

    def _install_builtins(self, registries: list[Registry]) -> None:
        values: dict[str, Any] = {}
        for registry in registries:
            for spec in registry:
                if spec.impl is None:
                    value: Any = spec.value
                else:
                    strict = tuple(p not in spec.lazy for p in spec.params)
                    value = PrimOp(spec.name, len(spec.params), spec.impl, strict, spec.doc, spec.params)
                values[spec.name] = value
                if spec.is_global:
                    self.globals[spec.name] = value
        values["builtins"] = None  # placeholder replaced below (builtins.builtins is itself)
        self.builtins_attrs = Attrs(values)
        values["builtins"] = self.builtins_attrs
        self.globals["builtins"] = self.builtins_attrs

    def primop(self, name: str) -> PrimOp:
        return self.builtins_attrs.values[name]

    # -- files -----------------------------------------------------------------------------

    def display_name(self, path: str) -> str:
        """How a file is named in messages: relative to the display root when inside it."""
        root = self.display_root.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root) :]
        return path

    def read_file(self, path: str, span: Span | None) -> bytes:
        """Read a file through the injected I/O, turning OS errors into located errors."""
        try:
            return self.io.read_file(path)
        except FileNotFoundError:
            raise SkiffError(codes.FILE_NOT_FOUND, f"file '{self.display_name(path)}' does not exist", span, help=self._near(path)) from None
        except IsADirectoryError:
            raise SkiffError(codes.FILE_UNREADABLE, f"'{self.display_name(path)}' is a directory, not a file", span) from None
        except NotADirectoryError:
            raise SkiffError(codes.FILE_NOT_FOUND, f"file '{self.display_name(path)}' does not exist (a parent is not a directory)", span) from None
        except NotARegularFile as exc:
            raise SkiffError(codes.FILE_UNREADABLE, f"'{self.display_name(path)}' is {exc.kind}, not a file", span,
                             help=["evaluation reads regular files only (their content is what a later run compares)"]) from None
        except OSError as exc:
            raise SkiffError(codes.FILE_UNREADABLE, f"cannot read '{self.display_name(path)}': {exc.strerror or exc}", span) from None

    def _near(self, path: str) -> list[str]:
        """"did you mean" among the siblings of a missing file."""
        directory, name = posixpath.split(path)
        try:
            siblings = self.io.read_dir(directory)
        except OSError:
            return []
        return did_you_mean_help(name, siblings)

    def parse_file(self, path: str, data: bytes) -> ast.Expr:
        digest = xxhash.xxh3_128_hexdigest(data)
        name = self.display_name(path)
        key = (digest, name, path)
        tree = _ast_cache.get(key)
        if tree is None:
            tree = astcache.load(data, digest, name, path)
            if tree is None:
                tree = parse_bytes(data, name, path)
                astcache.store(digest, tree)
            with _ast_lock:
                _ast_cache[key] = tree
        return tree

    def import_file(self, path: str, span: Span | None = None) -> Any:
        """The value of the file at ``path`` (``default.sk`` for a directory), memoized."""
        if self.io.file_type(path) == "directory":
            path = posixpath.join(path, "default.sk")
        data = self.read_file(path, span)
        digest = xxhash.xxh3_128_hexdigest(data)
        key = (path, digest)
        cached = self._imports.get(key)
        if cached is None:
            tree = self.parse_file(path, data)
            code = Compiler(self, posixpath.dirname(path)).compile(tree, None)
            # the origin names the file in an import-cycle message; a top-level file needs none
            origin = (f"file '{self.display_name(path)}'", span) if span is not None else None
            cached = Thunk(code, None, origin)
            self._imports[key] = cached
        try:
            return cached.force()
        except SkiffError as exc:
            if span is not None:
                exc.notes.append(Note(f"while importing '{self.display_name(path)}'", span))
            raise

    def eval_text(self, text: str, name: str = "<expression>", base_dir: str | None = None) -> Any:
        """The value of an expression given as text (``--arg`` values, ``-E``)."""
        tree = parse_bytes(text.encode("utf-8"), name)
        code = Compiler(self, base_dir or self.display_root).compile(tree, None)
        return code(None)

    def eval_file(self, path: str) -> Any:
        return self.import_file(os.path.abspath(path))

    def find_search_path(self, text: str, span: Span | None) -> PathValue:
        """Resolve ``<text>`` against the search path."""
        cached = self._search_cache.get(text)
        if cached is not None:
            return cached
        for prefix, directory in self.search_path:
            if prefix is None:
                candidate = posixpath.join(directory, text)
            elif text == prefix:
                candidate = directory
            elif text.startswith(prefix + "/"):
                candidate = posixpath.join(directory, text[len(prefix) + 1 :])
            else:
                continue
            if self.io.file_type(candidate) is not None:
                value = PathValue(posixpath.normpath(candidate))
                self._search_cache[text] = value
                return value
        prefixes = [p for p, _ in self.search_path if p]
        head = text.split("/", 1)[0]
        where = ", ".join(f"{p}={d}" if p else d for p, d in self.search_path) or "nothing"
        raise SkiffError(
            codes.SEARCH_PATH,
            f"'<{text}>' was not found in the search path ({where})",
            span,
            help=did_you_mean_help(head, prefixes) + ["add a directory with '-I name=dir' or SKIFFEVAL_PATH"],
        )

    # -- calling with arguments and selecting ----------------------------------------------

    def auto_call(self, value: Any, args: dict[str, Any], span: Span | None = None) -> Any:
        """As Nix's auto-call: a function of an attribute set is called with the given
        arguments it declares (its defaults for the rest); other values are returned as is."""
        value = force(value)
        if type(value) is not Closure or value.lam.formals is None:
            return value
        given: dict[str, Any] = {}
        for name, default, fspan in value.lam.formals:
            if name in args:
                given[name] = args[name]
            elif default is None:
                raise SkiffError(
                    codes.MISSING_ARGUMENT,
                    f"cannot evaluate {value.lam.name}: it needs argument '{name}', which has no default",
                    fspan,
                    help=[f"pass it with --arg {name} EXPR or --argstr {name} VALUE"],
                )
        return force(call(self, value, Attrs(given), span))

    def select_path(self, value: Any, attr_path: str) -> Any:
        """Follow an ``-A`` path (``a.b."c.d".0``) from ``value``; numbers index lists."""
        for name in split_attr_path(attr_path):
            value = force(value)
            if type(value) is tuple and name.isdigit():
                index = int(name)
                if index >= len(value):
                    raise SkiffError(codes.BAD_CLI_ARGUMENT, f"list index {index} in attribute path '{attr_path}' is out of bounds")
                value = value[index]
                continue
            if type(value) is not Attrs:
                raise SkiffError(codes.BAD_CLI_ARGUMENT, f"cannot select '{name}' of attribute path '{attr_path}': the value is not an attribute set")
            if name not in value.values:
                help = did_you_mean_help(name, value.values)
                if not help and value.values:
                    help = [attributes_here(value)]
                raise SkiffError(
                    codes.BAD_CLI_ARGUMENT,
                    f"attribute '{name}' in selection path '{attr_path}' not found",
                    help=help,
                )
            value = value.values[name]
        return force(value)

    def force_deep(self, value: Any) -> Any:
        return force_deep(self, value, None)

    def coerce_to_string(self, value: Any, span: Span | None = None, **kw: Any) -> tuple[str, frozenset]:
        return coerce_to_string(self, value, span, **kw)


def attributes_here(value: Attrs) -> str:
    """``the attributes here are 'a', 'b', ...`` (the first twelve): help for a person who has
    to pick one of them, with -A or in an attribute path."""
    names = value.names()
    return "the attributes here are " + ", ".join(f"'{n}'" for n in names[:12]) + (", ..." if len(names) > 12 else "")


def split_attr_path(text: str) -> list[str]:
    """Split ``a.b."c.d"`` into its names."""
    names: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise SkiffError(codes.BAD_CLI_ARGUMENT, f"unbalanced quote in attribute path '{text}'")
    if text:
        names.append("".join(current))
    if any(n == "" for n in names):
        raise SkiffError(codes.BAD_CLI_ARGUMENT, f"empty attribute name in attribute path '{text}'")
    return names


_ = PrimOp  # re-exported type used by hosts
