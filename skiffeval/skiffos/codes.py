"""Error and warning codes of the ``skiffos`` domain (E250–E299, W250–W299), and the collector.

Every code names one way a SkiffOS tree or a ``SKIFF_CONFIG`` string can go wrong.  Most of them
are places where SkiffOS's own scripts fail *silently* (drop a package, lose its content, include a
folder twice) or crash with a shell error; skiffeval reports them with a location instead.
``docs/skiffos.md`` lists each code with the SkiffOS behaviour it replaces.

``Diagnostics`` collects what one step finds: warnings are returned with the step's result, and
errors are raised together, at the end of the step, as one ``SkiffosError`` (a ``SkiffError``
whose own code, message and span are those of the first error, carrying every diagnostic).
"""

from __future__ import annotations

from collections.abc import Iterable

from skiffeval.diagnostics import (
    Diagnostic,
    ErrorCode,
    Note,
    Severity,
    SkiffError,
    Span,
    define_code,
)

__all__ = ["Diagnostics", "SkiffosError", "file_span"]

_DOMAIN = "skiffos"


def _code(code: str, slug: str, summary: str) -> ErrorCode:
    return define_code(code, slug, _DOMAIN, summary)


# --- errors: discovery and inputs ---------------------------------------------------------------
RELATIVE_PATH = _code("E250", "relative-config-path", "a configs path that is not absolute")
MISSING_ROOT = _code("E251", "missing-skiffos-root", "the SkiffOS root is not a SkiffOS checkout")
UNSAFE_PATH = _code("E252", "unsafe-path", "a path SkiffOS's shell scripts would split or mangle")
OVERRIDE_MISSING = _code("E253", "override-missing", "a SKIFF_CONFIG_PATH_<KEY> override that is no folder")

# --- errors: resolution --------------------------------------------------------------------------
INVALID_NAME = _code("E260", "invalid-package-name", "a name SkiffOS ignores or crashes on")
UNKNOWN_PACKAGE = _code("E261", "unknown-package", "a package name no configs path defines")
MALFORMED_DEPENDENCIES = _code("E262", "malformed-dependencies", "metadata/dependencies SkiffOS rejects")
SAME_FOLDER_TWICE = _code("E263", "same-folder-twice", "one package folder selected twice")
EMPTY_CONFIG = _code("E264", "empty-config", "a SKIFF_CONFIG that selects nothing")

# --- errors: package contents --------------------------------------------------------------------
BAD_EXTERNAL = _code("E270", "bad-external-tree", "a buildroot_ext tree Buildroot rejects")
DUPLICATE_EXTERNAL = _code("E271", "duplicate-external-name", "two external trees with one name")
NOT_A_FILE = _code("E272", "not-a-file", "an entry of a fragment folder that is not a readable file")
BAD_COMMAND = _code("E273", "bad-command-name", "a command name SkiffOS's scripts crash on")
UNREPRESENTABLE = _code("E274", "unrepresentable", "text SkiffOS's printf or sed would rewrite")

# --- warnings ------------------------------------------------------------------------------------
DEPENDENCY_AFTER = _code("W250", "dependency-after-dependent", "a dependency applied after its dependent")
DEPENDENCY_CYCLE = _code("W251", "dependency-cycle", "packages that depend on each other")
NON_CANONICAL_NAME = _code("W252", "non-canonical-name", "a name that selects a package only case- or key-wise")
IGNORED_FOLDER = _code("W253", "ignored-folder", "a folder SkiffOS does not take as a package")
KEY_COLLISION = _code("W254", "key-collision", "two package folders with one SKIFF_CONFIG_PATH key")
MISSING_CONFIGS_PATH = _code("W255", "missing-configs-path", "an extra configs path that is no folder")
UNKNOWN_ENTRY = _code("W256", "unknown-package-entry", "a folder or file SkiffOS does not read")
HOOK_NOT_EXECUTABLE = _code("W257", "hook-not-executable", "a hook Buildroot cannot execute")
COMMANDS_IGNORED = _code("W258", "commands-ignored", "metadata/commands lines SkiffOS skips")
WORKSPACE_RENAMED = _code("W259", "workspace-renamed", "a workspace name SkiffOS rewrites")
NO_TRAILING_NEWLINE = _code("W260", "no-trailing-newline", "a users table glued to the next one")
OPTIMIZATION_OVERRIDDEN = _code("W261", "optimization-overridden", "BR2_TARGET_OPTIMIZATION replaced by cflags")
EMPTY_CFLAGS = _code("W262", "empty-cflags", "a cflags file without flags")


def file_span(path: str, line: int = 1, col: int = 1) -> Span:
    """The span of a file (or folder) as a whole, or of one position in it when known."""
    return Span.point(path, line, col)


class SkiffosError(SkiffError):
    """The errors one step found: a ``SkiffError`` for the first, with all of them attached.

    ``diagnostics`` holds every error and warning the step collected, in the order found, so a
    front end can show all of them, not just the first.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        first = next(d for d in self.diagnostics if d.severity is Severity.ERROR)
        super().__init__(
            first.code,
            first.message,
            first.span,
            help=first.help,
            notes=first.notes,
            related=first.related,
        )

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)


class Diagnostics:
    """A collector of diagnostics for one step; ``check()`` raises the errors, if any, together."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self._items:
            self._items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            self.add(d)

    def error(
        self,
        code: ErrorCode,
        message: str,
        span: Span | None,
        *,
        help: Iterable[str] = (),
        related: Iterable[Note] = (),
    ) -> None:
        self.add(Diagnostic(Severity.ERROR, code, message, span, tuple(help), (), tuple(related)))

    def warning(
        self,
        code: ErrorCode,
        message: str,
        span: Span | None,
        *,
        help: Iterable[str] = (),
        related: Iterable[Note] = (),
    ) -> None:
        self.add(Diagnostic(Severity.WARNING, code, message, span, tuple(help), (), tuple(related)))

    @property
    def all(self) -> tuple[Diagnostic, ...]:
        return tuple(self._items)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self._items if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self._items if d.severity is Severity.WARNING)

    def check(self) -> None:
        """Raise a ``SkiffosError`` carrying every diagnostic when any of them is an error."""
        if self.errors:
            raise SkiffosError(self._items)
