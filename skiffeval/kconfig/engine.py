"""Parsing Kconfig trees with kconfiglib, once per process per tree identity.

The model
---------
A ``TreeSpec`` is everything that determines a parsed tree: the top Kconfig file, ``srctree``,
the *complete* environment during parsing (kconfiglib reads ``option env=`` values and
``$VAR`` in ``source`` paths from ``os.environ`` at parse time), files to generate in a private
directory first (Buildroot's ``.br2-external.in.*``) and which environment variables name that
directory.  ``parse_tree(spec)`` returns a cached ``ParsedTree``: the parsed ``Kconfig`` object
with a lock.  Parsing Buildroot's ``Config.in`` costs about a second and the object does not
pickle, so it is parsed at most once per process per spec (a small LRU keeps the last few).

Faithfulness to Buildroot's ``conf`` (Linux 4.17 kconfig, which has no preprocessor):

* ``LiteralMacroKconfig`` keeps ``$(NAME)`` references literal, as ``conf`` does, so
  ``BR2_DL_DIR="$(TOPDIR)/dl"`` stays as written instead of expanding to an empty variable;
* while parsing, ``os.environ`` holds exactly ``spec.env`` (nothing of the caller's
  environment leaks into the result) and is restored afterwards; a process-wide lock
  serializes this, as the environment is process-global state;
* the recursion limit is raised while a tree is parsed or evaluated (some Buildroot
  configurations need more than 1,000 frames in kconfiglib's value computation).

*Late* environment variables (``spec.late_env``) are ``option env=`` symbols whose value
changes per resolution without a reparse (Buildroot's ``BR2_DEFCONFIG``): they are parsed with
a placeholder value and ``ParsedTree.set_late_env`` replaces the placeholder default.

Why not run ``conf`` as a subprocess: it needs a compiled ``conf`` per Buildroot version,
reparses ``Config.in`` for every call (~1 s), writes into the output directory, and gives no
access to the dependency expressions the provenance report explains values with.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import attrs
import kconfiglib

from skiffeval.diagnostics import SkiffError, Span
from skiffeval.kconfig import codes
from skiffeval.kconfig.loops import DependencyLoop, dependency_loops, install_conf_rules, loops_checked_later
from skiffeval.kconfig.suggest import NameIndex

__all__ = [
    "TreeSpec",
    "ParsedTree",
    "LiteralMacroKconfig",
    "parse_tree",
    "clear_cache",
    "parse_count",
    "scoped_environ",
    "recursion_limit",
    "RECURSION_LIMIT",
]

RECURSION_LIMIT = 20_000
CACHE_SIZE = 4
_LATE_PLACEHOLDER = "@skiffeval-late-env@"


class LiteralMacroKconfig(kconfiglib.Kconfig):
    """A ``Kconfig`` whose preprocessor leaves every ``$(...)`` reference as written.

    Linux 4.17 kconfig (Buildroot's) predates the Kconfig preprocessor, so ``$(TOPDIR)`` in a
    default is just text to it.  kconfiglib would expand it (to the empty string).
    """

    def _expand_macro(self, s, i, args):  # noqa: ARG002 - kconfiglib's signature
        depth = 0
        j = i + 2
        while j < len(s):
            c = s[j]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return s, j + 1
                depth -= 1
            j += 1
        self._parse_error("missing end parenthesis in macro expansion")


@attrs.frozen
class TreeSpec:
    """What identifies a parsed Kconfig tree (hashable; the cache key).

    ``env`` is the whole environment during parsing; ``private_files`` are (name, text)
    pairs written into a fresh private directory before parsing (and removed after), whose
    path is given to the variables named in ``private_dir_vars``; ``late_env`` lists
    ``option env=`` variables set per resolution; ``title`` is the ``.config`` heading used
    when the tree has no ``mainmenu``.
    """

    kconfig: str
    srctree: str
    env: tuple[tuple[str, str], ...] = ()
    private_files: tuple[tuple[str, str], ...] = ()
    private_dir_vars: tuple[str, ...] = ()
    late_env: tuple[str, ...] = ()
    title: str = "Configuration"

    @property
    def prefix(self) -> str:
        """The configuration prefix (``CONFIG_`` unless the environment sets ``CONFIG_``)."""
        return dict(self.env).get("CONFIG_", "CONFIG_")


class ParsedTree:
    """A parsed tree owned by the cache.  Use ``kconf`` only while holding ``lock``."""

    def __init__(self, spec: TreeSpec, kconf: kconfiglib.Kconfig, parse_seconds: float, has_mainmenu: bool,
                 loops: tuple[DependencyLoop, ...] = ()):
        self.spec = spec
        self.kconf = kconf
        self.loops = loops
        self.parse_seconds = parse_seconds
        self.lock = threading.RLock()
        self.title = kconf.mainmenu_text if has_mainmenu else spec.title
        self._names: NameIndex | None = None
        self._late: dict[str, list[kconfiglib.Symbol]] = {}
        self._late_const: dict[str, kconfiglib.Symbol] = {}
        for sym in kconf.unique_defined_syms:
            if sym.env_var in spec.late_env:
                self._late.setdefault(sym.env_var, []).append(sym)

    @property
    def prefix(self) -> str:
        return self.spec.prefix

    def names(self) -> NameIndex:
        """The names of the symbols some Kconfig file defines, indexed for "did you mean"."""
        if self._names is None:
            self._names = NameIndex([s.name for s in self.kconf.unique_defined_syms])
        return self._names

    def reset(self, late_env: Mapping[str, str]) -> None:
        """Forget all user values and choice selections and set the late environment, so the
        tree is as freshly parsed (kconfiglib's ``unset_values``, without its per-symbol
        invalidation: everything is invalidated once at the end)."""
        kconf = self.kconf
        for sym in kconf.unique_defined_syms:
            sym.user_value = None
        for choice in kconf.unique_choices:
            choice.user_value = choice.user_selection = None
        self.set_late_env(late_env)

    def set_late_env(self, values: Mapping[str, str]) -> None:
        """Give the late ``option env=`` symbols their values for the next resolution (a
        variable missing from ``values`` is set but empty, as Buildroot's Makefile exports it)."""
        kconf = self.kconf
        for var in self.spec.late_env:
            previous = self._late_const.get(var)

            def is_late(default: kconfiglib.Symbol) -> bool:
                return default is previous or (
                    default.is_constant and default.name.startswith(_LATE_PLACEHOLDER)
                )

            # A fresh constant (kconfiglib registers constants only while parsing); remembered
            # so that the next call finds and replaces it.
            const = kconf._lookup_const_sym(values.get(var, ""))
            for sym in self._late.get(var, ()):
                for owner in (sym, *sym.nodes):
                    owner.defaults = [
                        (const if is_late(default) else default, cond) for default, cond in owner.defaults
                    ]
            self._late_const[var] = const
        kconf._invalidate_all()


# ---------------------------------------------------------------------------------------------
# process state: environment and recursion limit

_ENV_LOCK = threading.RLock()


@contextlib.contextmanager
def scoped_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Make ``os.environ`` exactly ``env`` for the duration of the block, then restore it."""
    with _ENV_LOCK:
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(env)
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.contextmanager
def recursion_limit(limit: int = RECURSION_LIMIT) -> Iterator[None]:
    """Raise the recursion limit to at least ``limit`` for the block."""
    old = sys.getrecursionlimit()
    if old < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        if old < limit:
            sys.setrecursionlimit(old)


# ---------------------------------------------------------------------------------------------
# the cache

_CACHE: OrderedDict[TreeSpec, ParsedTree] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_PARSE_LOCK = threading.Lock()
_PARSES = 0


def parse_count() -> int:
    """How many trees this process has parsed (for tests of the cache)."""
    return _PARSES


def clear_cache() -> None:
    """Forget every parsed tree."""
    with _CACHE_LOCK:
        _CACHE.clear()


def parse_tree(spec: TreeSpec) -> ParsedTree:
    """The parsed tree for ``spec``, parsed now or taken from the cache.

    Raises ``SkiffError`` (E230) when the tree cannot be read or parsed.
    """
    with _CACHE_LOCK:
        tree = _CACHE.get(spec)
        if tree is not None:
            _CACHE.move_to_end(spec)
            return tree
    # Parses are serialized anyway (they swap the process environment); holding this lock
    # while parsing also keeps two threads from parsing the same tree twice.
    with _PARSE_LOCK:
        with _CACHE_LOCK:
            tree = _CACHE.get(spec)
        if tree is None:
            tree = _parse(spec)
            with _CACHE_LOCK:
                _CACHE[spec] = tree
                while len(_CACHE) > CACHE_SIZE:
                    _CACHE.popitem(last=False)
    return tree


def _parse(spec: TreeSpec) -> ParsedTree:
    global _PARSES
    env = dict(spec.env)
    for var in spec.late_env:
        env[var] = _LATE_PLACEHOLDER + var
    private = tempfile.mkdtemp(prefix="skiffeval-kconfig-") if spec.private_files or spec.private_dir_vars else None
    try:
        if private is not None:
            for name, text in spec.private_files:
                with open(os.path.join(private, name), "w", encoding="utf-8") as f:
                    f.write(text)
            for var in spec.private_dir_vars:
                env[var] = private
        env["srctree"] = spec.srctree
        start = time.perf_counter()
        with scoped_environ(env), recursion_limit():
            try:
                with loops_checked_later():
                    kconf = LiteralMacroKconfig(spec.kconfig, warn=False, warn_to_stderr=False)
                found = dependency_loops(kconf)
            except kconfiglib.KconfigError as e:
                raise _parse_error(str(e), spec) from None
            except OSError as e:
                if e.filename and e.strerror and type(e) in (FileNotFoundError, PermissionError, IsADirectoryError):
                    raise SkiffError(
                        codes.KCONFIG_PARSE, f"cannot read '{e.filename}': {e.strerror.lower()}"
                    ) from None
                raise _parse_error(str(e), spec) from None
        seconds = time.perf_counter() - start
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    _PARSES += 1
    has_mainmenu = kconf.top_node.prompt[0] != "Main menu"
    if found:
        install_conf_rules()
    return ParsedTree(spec, kconf, seconds, has_mainmenu, found)


_LOCATION_RE = re.compile(r"^\s*(?P<file>[^\s:][^:]*):(?P<line>\d+):\s*(?:error:\s*)?(?P<msg>.*)$", re.M)


def _parse_error(message: str, spec: TreeSpec) -> SkiffError:
    """A ``SkiffError`` for a kconfiglib parse failure, located at the file and line it names."""
    text = message.strip()
    m = _LOCATION_RE.search(text)
    span = None
    if m:
        file = m.group("file")
        if not os.path.isabs(file):
            file = os.path.join(spec.srctree, file)
        span = Span.point(file, int(m.group("line")))
        text = m.group("msg").strip() or text
    first = text.splitlines()[0] if text else "unknown error"
    first = first.split(". ")[0]  # kconfiglib appends advice about $srctree after the fact
    first = first[:1].lower() + first[1:]
    return SkiffError(
        codes.KCONFIG_PARSE,
        f"cannot parse the Kconfig tree '{os.path.join(spec.srctree, spec.kconfig)}': {first.rstrip('.')}",
        span,
    )
