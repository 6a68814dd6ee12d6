"""Diagnostics: the one span type, user errors with stable codes, and how they are rendered.

The model
---------
* A ``Source`` is the text of one file (or of a command-line expression) and its display name.
* A ``Span`` is a ``file:line:col`` range inside a source.  It is the only position type in
  skiffeval: every AST node, every fragment assignment and every user error carries one.
* An ``ErrorCode`` is a stable identifier (``E012``) with a short slug.  Codes are defined by the
  domain that raises them (``define_code`` in that domain's ``codes`` module) and registered here,
  so one table lists them all (``all_codes``) and a test proves each is documented.
* A ``Diagnostic`` is one message for a person: severity, code, message, the span it is about,
  ``help`` lines ("did you mean ...") and ``notes`` (the ``while evaluating ...`` stack).
* ``SkiffError`` is the exception that carries an error diagnostic.  It is raised with its span
  attached (never patched on later); callers that add context append notes as it unwinds.
* ``InternalError`` is a bug in skiffeval, a different class that says so.

Messages follow one style: lower case, no final period, the thing named in quotes, expected
versus found, "did you mean" where a name is close.

This module is a leaf: it imports nothing from skiffeval.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "Source",
    "Span",
    "ErrorCode",
    "define_code",
    "all_codes",
    "Severity",
    "Note",
    "Diagnostic",
    "SkiffError",
    "InternalError",
    "did_you_mean",
    "render_text",
    "render_json",
    "MAX_NOTES",
]


# ---------------------------------------------------------------------------------------------
# sources and spans


# Plain dataclasses, not attrs: this module is imported by every command, a warm one included,
# and attrs costs 30-50 ms to import.
@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Source:
    """The text of one file, with its display name, for rendering source lines under errors."""

    name: str
    text: str
    # The absolute file path, when the source is a file (lets builtins find the caller's directory).
    path: str | None = None
    _line_starts: list[int] = dataclasses.field(init=False, default_factory=list)

    def line_starts(self) -> list[int]:
        """Offsets at which each line begins (computed once)."""
        if not self._line_starts:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts.extend(starts)
        return self._line_starts

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline ('' past the end)."""
        starts = self.line_starts()
        if line < 1 or line > len(starts):
            return ""
        begin = starts[line - 1]
        end = self.text.find("\n", begin)
        return self.text[begin:] if end < 0 else self.text[begin:end]

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        import bisect

        starts = self.line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def __repr__(self) -> str:
        return f"Source({self.name!r})"


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """A range in a source file: 1-based line and column of its start and (inclusive) end.

    ``source`` is kept for rendering the line under a caret; it takes no part in equality so
    spans compare by position alone.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    source: Source | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def point(cls, file: str, line: int, col: int = 1, source: Source | None = None) -> Span:
        """A span of one character (or a whole line when no column is known)."""
        return cls(file, line, col, line, col, source)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "end_line": self.end_line,
            "end_column": self.end_col,
        }


# ---------------------------------------------------------------------------------------------
# error codes


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorCode:
    """A stable error code: ``code`` (``E012``), a ``slug`` and the ``domain`` that defined it."""

    code: str
    slug: str
    domain: str
    summary: str

    def __str__(self) -> str:
        return self.code


_CODES: dict[str, ErrorCode] = {}


def define_code(code: str, slug: str, domain: str, summary: str) -> ErrorCode:
    """Define and register an error code; each code may be defined once, in one domain."""
    if len(code) != 4 or code[0] not in "EW" or not code[1:].isdigit():
        raise InternalError(f"malformed error code {code!r}")
    existing = _CODES.get(code)
    if existing is not None:
        if existing.slug == slug and existing.domain == domain:
            return existing
        raise InternalError(f"error code {code} defined twice ({existing.slug}, {slug})")
    value = ErrorCode(code, slug, domain, summary)
    _CODES[code] = value
    return value


def all_codes() -> list[ErrorCode]:
    """Every code registered so far (import the domains' ``codes`` modules first), sorted."""
    return [_CODES[k] for k in sorted(_CODES)]


# Codes that belong to no domain in particular.
INTERNAL = define_code("E000", "internal", "general", "a bug in skiffeval")
USAGE = define_code("E001", "usage", "general", "a command line that cannot be carried out")
MISSING_DEPENDENCY = define_code("E002", "missing-dependency", "general", "a Python package skiffeval needs is not installed")


# ---------------------------------------------------------------------------------------------
# diagnostics


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclasses.dataclass(frozen=True, slots=True)
class Note:
    """One line of context under a diagnostic, usually ``while evaluating ...``, with its span."""

    message: str
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "location": self.span.to_json() if self.span else None}


@dataclasses.dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message for a person: what went wrong (or is suspicious), where, and what might help."""

    severity: Severity
    code: ErrorCode
    message: str
    span: Span | None = None
    help: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    # Other places that take part (e.g. "first set here"); rendered with their own source lines.
    related: tuple[Note, ...] = ()

    def with_note(self, note: Note) -> Diagnostic:
        return dataclasses.replace(self, notes=self.notes + (note,))

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code.code,
            "slug": self.code.slug,
            "message": self.message,
            "location": self.span.to_json() if self.span else None,
            "help": list(self.help),
            "notes": [n.to_json() for n in collapse_notes(self.notes)],
            "related": [n.to_json() for n in self.related],
        }


class SkiffError(Exception):
    """A user error: carries a ``Diagnostic`` with a stable code and (nearly always) a span.

    Context is added while the error unwinds with ``add_note``; notes are kept in the order
    they were added, innermost first.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        span: Span | None = None,
        *,
        help: Iterable[str] = (),
        notes: Iterable[Note] = (),
        related: Iterable[Note] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.help = list(help)
        self.notes: list[Note] = list(notes)
        self.related = list(related)

    def add_note(self, message: str, span: Span | None = None) -> SkiffError:
        self.notes.append(Note(message, span))
        return self

    @property
    def diagnostic(self) -> Diagnostic:
        return Diagnostic(
            Severity.ERROR,
            self.code,
            self.message,
            self.span,
            tuple(self.help),
            tuple(self.notes),
            tuple(self.related),
        )

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.code}: {self.message}"


class InternalError(Exception):
    """A bug in skiffeval (never a user mistake); rendered as such, with a request to report it."""


# ---------------------------------------------------------------------------------------------
# helpers


def did_you_mean(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Close matches of ``name`` among ``candidates``, best first; a case-only difference first."""
    pool = sorted(set(candidates))
    lowered = name.lower()
    exact_case = [c for c in pool if c.lower() == lowered and c != name]
    import difflib  # here: every command imports this module, few make suggestions

    close = difflib.get_close_matches(name, pool, n=limit, cutoff=0.7)
    seen: list[str] = []
    for c in exact_case + close:
        if c not in seen and c != name:
            seen.append(c)
    return seen[:limit]


def did_you_mean_help(name: str, candidates: Iterable[str]) -> list[str]:
    """A ``help`` list with one "did you mean" line, or empty when nothing is close."""
    matches = did_you_mean(name, candidates)
    if not matches:
        return []
    quoted = ", ".join(f"'{m}'" for m in matches)
    return [f"did you mean {quoted}?"]


MAX_NOTES = 12


def collapse_notes(notes: Sequence[Note], limit: int = MAX_NOTES) -> list[Note]:
    """Bound a note stack: consecutive repeats collapse into one, the middle of a long stack is elided.

    Repeats are detected as runs of an identical (message, span) pair and as runs of an identical
    *cycle* of up to four notes (mutual recursion), so a 10,000-deep recursion prints a few lines.
    """
    out: list[Note] = []
    i = 0
    n = len(notes)
    while i < n:
        collapsed = False
        for period in (1, 2, 3, 4):
            block = notes[i : i + period]
            if len(block) < period:
                break
            reps = 1
            while notes[i + reps * period : i + (reps + 1) * period] == block:
                reps += 1
            if reps > 1 and (period == 1 or reps > 2):
                out.extend(block)
                out.append(Note(f"... the {'note' if period == 1 else f'{period} notes'} above repeated {reps - 1} more time{'s' if reps > 2 else ''}"))
                i += reps * period
                collapsed = True
                break
        if not collapsed:
            out.append(notes[i])
            i += 1
    if len(out) > limit:
        head = limit * 2 // 3
        tail = limit - head - 1
        out = out[:head] + [Note(f"... {len(out) - head - tail} more notes")] + out[len(out) - tail :]
    return out


def _source_excerpt(span: Span, gutter: int) -> list[str]:
    if span.source is None:
        return []
    text = span.source.line_text(span.line)
    if not text and span.line > len(span.source.line_starts()):
        return []
    shown = text.expandtabs(1)
    prefix = " " * gutter
    caret_start = max(span.col - 1, 0)
    if span.end_line == span.line:
        width = max(span.end_col - span.col + 1, 1)
    else:
        width = max(len(shown) - caret_start, 1)
    width = min(width, max(len(shown) - caret_start, 1))
    return [
        f"{str(span.line).rjust(gutter)} | {shown}",
        f"{prefix} | {' ' * caret_start}{'^' * width}",
    ]


def render_text(diag: Diagnostic | SkiffError, *, color: bool = False) -> str:
    """Render a diagnostic for a terminal: ``file:line:col: error[E012]: message``, the source
    line with a caret, ``help:`` lines and the bounded ``while ...`` notes."""
    if isinstance(diag, SkiffError):
        diag = diag.diagnostic
    where = f"{diag.span}: " if diag.span else ""
    sev = diag.severity.value
    head = f"{sev}[{diag.code.code}]"
    if color:
        style = {"error": "1;31", "warning": "1;33", "info": "1;36"}[sev]
        head = f"\x1b[{style}m{head}\x1b[0m"
    lines = [f"{where}{head}: {diag.message}"]
    spans = [diag.span] + [r.span for r in diag.related]
    gutter = max((len(str(s.line)) for s in spans if s is not None), default=1) + 1
    if diag.span is not None:
        lines.extend(_source_excerpt(diag.span, gutter))
    for rel in diag.related:
        lines.append(f"{' ' * gutter} = {rel.message}" + (f" ({rel.span})" if rel.span else ""))
        if rel.span is not None:
            lines.extend(_source_excerpt(rel.span, gutter))
    for h in diag.help:
        lines.append(f"{' ' * gutter} = help: {h}")
    for note in collapse_notes(diag.notes):
        suffix = f" ({note.span})" if note.span else ""
        lines.append(f"{' ' * gutter} = {note.message}{suffix}")
    return "\n".join(lines)


def render_json(diags: Iterable[Diagnostic | SkiffError]) -> str:
    """Render diagnostics as a JSON document ``{"diagnostics": [...]}``."""
    items = [(d.diagnostic if isinstance(d, SkiffError) else d).to_json() for d in diags]
    return json.dumps({"diagnostics": items}, indent=2, sort_keys=True)


def internal_error_text(exc: BaseException) -> str:
    """The message shown for a bug in skiffeval."""
    return (
        f"internal error[{INTERNAL.code}]: {type(exc).__name__}: {exc}\n"
        "  = this is a skiffeval bug, not a problem with your input; please report it with the\n"
        "    command you ran (re-run with SKIFFEVAL_DEBUG=1 for the Python traceback)"
    )
