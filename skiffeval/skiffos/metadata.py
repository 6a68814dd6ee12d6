"""Parsers for a package's ``metadata/*`` files and ``buildroot_ext/external.desc`` (pure text).

What SkiffOS does with each file (``scripts/enumerate_configs.sh``, ``print_*.sh``):

* ``dependencies`` is read with ``$(cat …)`` (trailing newlines dropped).  If what is left has any
  character outside ``, a-zA-Z0-9_/\\`` – a second line, a tab, a CR, a ``-`` – the whole package
  is dropped from the chain (with a message on stderr).  Otherwise it is split on commas and
  spaces; a piece that is not ``^[[:alnum:]]{1,100}/`` drops the package too (after the pieces
  before it were already queued); a ``\\`` passes this check and then crashes bash's lookup.
* ``commands`` is read by a ``while read line`` loop: ``read`` without ``-r`` removes backslashes
  (a backslash-newline joins two lines), trims blanks, and a last line without a newline is never
  seen.  Each line is split on commas and blanks; a line of fewer than two words is skipped; the
  first word is the command, the others, joined by single spaces, its description.
* ``description`` and ``buildtarget`` are read with ``$(cat …)``; ``unlisted`` only has to exist.
* ``external.desc`` is read by Buildroot's ``support/scripts/br2-external``: every line matching
  ``^name: +(.*)$`` contributes to the name (several lines give a multi-line name), likewise
  ``desc:``; the name must be non-empty and only ``[A-Za-z0-9_]``.
"""

from __future__ import annotations

import re

import attrs

from skiffeval.diagnostics import Diagnostic, Severity, Source, Span
from skiffeval.skiffos import codes
from skiffeval.skiffos.names import has_valid_key, is_selectable

__all__ = [
    "Dependency",
    "Command",
    "parse_dependencies",
    "parse_commands",
    "read_cat",
    "parse_external_desc",
]

_DEP_ALLOWED = re.compile(r"[, a-zA-Z0-9_/\\]*")
_DEP_TOKEN = re.compile(r"[^, ]+")
_COMMAND_NAME = re.compile(r"[A-Za-z0-9_-]+")
_EXT_NAME = re.compile(r"[A-Za-z0-9_]+")


@attrs.frozen
class Dependency:
    """One entry of ``metadata/dependencies``: the name as written and where it is written."""

    name: str
    span: Span


@attrs.frozen
class Command:
    """One ``metadata/commands`` line: ``make cmd/<pkg>/<name>`` runs ``make <name>`` in
    ``<pkg>/extensions`` (with ``bind_env.sh`` sourced and ``SKIFF_CURRENT_CONF_DIR`` set)."""

    name: str
    description: str
    span: Span


def _span(source: Source, start: int, end: int) -> Span:
    line, col = source.position(start)
    end_line, end_col = source.position(max(end - 1, start))
    return Span(source.name, line, col, end_line, end_col, source)


def _diag(severity: Severity, code, message: str, span: Span, help: tuple[str, ...] = ()) -> Diagnostic:
    return Diagnostic(severity, code, message, span, help)


def read_cat(text: str) -> str:
    """What ``$(cat file)`` gives: the text without its trailing newlines."""
    return text.rstrip("\n")


def _describe_char(c: str) -> str:
    if c == "\n":
        return "a second line"
    if c == "\r":
        return "a carriage return (CRLF line ending)"
    if c == "\t":
        return "a tab"
    return f"'{c}'"


def parse_dependencies(text: str, file: str, package: str) -> tuple[tuple[Dependency, ...], tuple[Diagnostic, ...]]:
    """Parse ``metadata/dependencies`` of ``package``: its entries, and errors where SkiffOS
    would drop or crash on the package.  A malformed file yields no entries."""
    source = Source(file, text)
    body = read_cat(text)
    problems: list[Diagnostic] = []
    bad = _DEP_ALLOWED.match(body)
    assert bad is not None
    if bad.end() < len(body):
        at = bad.end()
        what = _describe_char(body[at])
        # a second line is reported where it starts, not at the end of the first
        span = _span(source, at + 1, at + 2) if body[at] == "\n" else _span(source, at, at + 1)
        problems.append(
            _diag(
                Severity.ERROR,
                codes.MALFORMED_DEPENDENCIES,
                f"malformed dependencies of '{package}': expected one line of names separated by "
                f"commas or spaces, found {what}",
                span,
                (f"SkiffOS silently drops '{package}' from the chain when this file is malformed",),
            )
        )
        return (), tuple(problems)
    deps: list[Dependency] = []
    for m in _DEP_TOKEN.finditer(body):
        name = m.group()
        span = _span(source, m.start(), m.end())
        if not is_selectable(name):
            problems.append(
                _diag(
                    Severity.ERROR,
                    codes.MALFORMED_DEPENDENCIES,
                    f"invalid dependency '{name}' of '{package}': expected 'category/name' with a "
                    "category of 1 to 100 letters or digits",
                    span,
                    (f"SkiffOS silently drops '{package}' from the chain for this entry",),
                )
            )
            continue
        if not has_valid_key(name):
            problems.append(
                _diag(
                    Severity.ERROR,
                    codes.MALFORMED_DEPENDENCIES,
                    f"invalid dependency '{name}' of '{package}': a name may only contain letters, "
                    "digits, '_' and '/'",
                    span,
                    ("SkiffOS's shell aborts on this name",),
                )
            )
            continue
        deps.append(Dependency(name, span))
    return tuple(deps), tuple(problems)


def _read_lines(text: str) -> tuple[list[tuple[str, int]], int | None]:
    """Emulate ``while read line``: logical lines with their first line number, and the line
    number of a trailing partial line that ``read`` never hands to the loop (or None)."""
    lines: list[tuple[str, int]] = []
    buf: list[str] = []
    pending = False  # something was read since the last line ended
    line_no = start = 1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        pending = True
        if c == "\\":
            if i + 1 < n:
                if text[i + 1] == "\n":
                    line_no += 1
                else:
                    buf.append(text[i + 1])
            i += 2
            continue
        if c == "\n":
            lines.append(("".join(buf).strip(" \t\n"), start))
            buf = []
            pending = False
            line_no += 1
            start = line_no
        else:
            buf.append(c)
        i += 1
    partial = start if pending else None
    return lines, partial


def parse_commands(text: str, file: str) -> tuple[tuple[Command, ...], tuple[Diagnostic, ...]]:
    """Parse ``metadata/commands`` as SkiffOS's read loop does; warn about lines it skips."""
    source = Source(file, text)
    lines, partial = _read_lines(text)
    commands: list[Command] = []
    problems: list[Diagnostic] = []
    for line, number in lines:
        words = [w for w in re.split(r"[ \t\n,]+", line) if w]
        span = Span(file, number, 1, number, max(len(source.line_text(number)), 1), source)
        if len(words) < 2:
            if words:
                problems.append(
                    _diag(
                        Severity.WARNING,
                        codes.COMMANDS_IGNORED,
                        f"command '{words[0]}' has no description, so SkiffOS ignores it",
                        span,
                        ("write the description after the name, on the same line",),
                    )
                )
            continue
        name = words[0]
        if _COMMAND_NAME.fullmatch(name) is None:
            problems.append(
                _diag(
                    Severity.ERROR,
                    codes.BAD_COMMAND,
                    f"invalid command name '{name}': expected letters, digits, '_' or '-'",
                    span,
                    ("SkiffOS's shell aborts while listing the commands of this package",),
                )
            )
            continue
        commands.append(Command(name, " ".join(words[1:]), span))
    if partial is not None:
        problems.append(
            _diag(
                Severity.WARNING,
                codes.COMMANDS_IGNORED,
                "the last line of metadata/commands has no newline, so SkiffOS never reads it",
                Span(file, partial, 1, partial, max(len(source.line_text(partial)), 1), source),
                ("end the file with a newline",),
            )
        )
    return tuple(commands), tuple(problems)


def parse_external_desc(text: str) -> tuple[str, str]:
    """The ``name`` and ``desc`` Buildroot reads from ``external.desc`` (empty when absent)."""
    names = []
    descs = []
    for line in text.split("\n"):
        m = re.match(r"name: +(.*)$", line)
        if m:
            names.append(m.group(1))
        m = re.match(r"desc: +(.*)$", line)
        if m:
            descs.append(m.group(1))
    return read_cat("\n".join(names)), read_cat("\n".join(descs))


def valid_external_name(name: str) -> bool:
    """Whether Buildroot accepts an external tree name (non-empty, only ``[A-Za-z0-9_]``)."""
    return _EXT_NAME.fullmatch(name) is not None
