"""Kconfig fragments: reading ``NAME=value`` text into assignments, and writing inline values.

The model
---------
A *fragment* is the text of a ``.config``-style file: Buildroot's ``BR2_FOO=y``, the kernel's
``CONFIG_FOO=m``, ``# NAME is not set``, comments and blank lines.  ``parse_fragment`` turns it
into ``Assignment(symbol, value, span)`` records, one per line that kconfig would apply, with
``value`` the raw text after ``=`` exactly as written (quotes and escapes kept; ``None`` for
"is not set").  A line without a final newline is an ordinary line.

Which lines count, and how, mirrors ``conf_read_simple`` of Linux 4.17 kconfig (Buildroot's
``conf``), because the result must equal what ``make defconfig`` does with the same text:

* lines are split on ``\\n`` only; one ``\\r`` before it is dropped (CRLF files);
* ``# <prefix>NAME is not set`` unsets ``NAME``; text after "is not set" is ignored;
* ``<prefix>NAME=value`` assigns ``value`` verbatim, trailing blanks included (kconfig does
  not strip them: ``BR2_N=3 `` is not a valid int);
* the *prefix* is ``CONFIG_`` for the kernel, U-Boot and BusyBox and empty for Buildroot.

Everything else kconfig silently ignores.  Here it becomes a diagnostic, never an exception:

* error ``E200`` — a line that is neither an assignment, an unset, a comment nor blank
  (``BR2_FOO y``, ``=y``, ``BR2_FOO = y``, an indented assignment, stray words): the author's
  intent is unknown and kconfig would drop the line;
* error ``E201`` — a value that opens a quote and never closes it: no symbol type accepts it;
* warning ``W200`` — a comment such as ``#BR2_FOO is not set`` that kconfig still reads as an
  unset, of the name after the second character (``R2_FOO`` here); the assignment is kept,
  because kconfig applies it;
* warning ``W201`` — ``FOO=y`` in a fragment whose prefix is ``CONFIG_``: ignored by kconfig;
* warning ``W202`` — text after the closing quote of a string, which kconfig ignores.

Whether a value suits its symbol (``BR2_X=maybe`` on a bool) is only known against a
Kconfig tree; ``skiffeval.kconfig.apply`` decides that.

``render_fragment_value`` goes the other way, for inline attribute sets of a layer:
``True`` → ``=y``, ``False`` → ``# NAME is not set``, an int → ``=n``, a string → a quoted
Kconfig string with ``"`` and ``\\`` escaped as kconfig writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from skiffeval.diagnostics import Diagnostic, Severity, SkiffError, Source, Span
from skiffeval.kconfig import codes

__all__ = [
    "Fragment",
    "Assignment",
    "ParsedFragment",
    "parse_fragment",
    "render_assignment",
    "render_fragment_value",
    "inline_fragment",
    "quote_string",
    "string_literal_end",
    "unquote_string",
    "is_symbol_name",
]

_NAME_RE = re.compile(r"[A-Za-z0-9_]+\Z")
_BARE_ASSIGN_RE = re.compile(r"([A-Za-z0-9_]+)=")


def is_symbol_name(name: str) -> bool:
    """True for a name kconfig can define: ASCII letters, digits and ``_``, at least one."""
    return bool(_NAME_RE.match(name))


@attrs.frozen
class Fragment:
    """A fragment as supplied by a layer: its text, the file it is shown as, and the layer.

    ``line_spans`` gives the provenance of each line when the text was generated (an inline
    attribute set renders to one line per attribute, whose span is the attribute in the
    ``.sk`` file); without it, line *n* of the text is ``file:n``.
    """

    text: str
    file: str = "<fragment>"
    layer: str = ""
    line_spans: tuple[Span, ...] | None = None

    def parse(self, prefix: str = "") -> ParsedFragment:
        return parse_fragment(self.text, self.file, prefix=prefix, line_spans=self.line_spans)


@attrs.frozen
class Assignment:
    """One line kconfig applies: ``symbol`` (without prefix), the raw ``value`` text as written
    (``None`` for "is not set") and the ``span`` of the line."""

    symbol: str
    value: str | None
    span: Span


@attrs.frozen
class ParsedFragment:
    """The assignments of one fragment, in line order, and what was wrong with its lines."""

    assignments: tuple[Assignment, ...]
    diagnostics: tuple[Diagnostic, ...]


# ---------------------------------------------------------------------------------------------
# strings


def string_literal_end(value: str) -> int | None:
    """Index just past the closing quote of the string literal that opens ``value``, or None.

    ``value`` starts with ``"``; a backslash escapes the next character (as kconfig reads it).
    """
    i = 1
    n = len(value)
    while i < n:
        c = value[i]
        if c == '"':
            return i + 1
        i += 2 if c == "\\" else 1
    return None


def unquote_string(value: str) -> str | None:
    """The content of the string literal that opens ``value`` (escapes removed), or None if
    ``value`` is not a terminated literal.  Text after the closing quote is ignored, as in kconfig."""
    if not value.startswith('"'):
        return None
    end = string_literal_end(value)
    if end is None:
        return None
    return re.sub(r"\\(.)", r"\1", value[1 : end - 1], flags=re.DOTALL)


def quote_string(text: str) -> str:
    """``text`` as a Kconfig string literal: ``"`` and ``\\`` escaped with a backslash."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# parsing


def _unset_name(line: str, prefix: str) -> str | None:
    """The name kconfig reads from a ``#`` line as "is not set", or None (conf_read_simple:
    skip two characters, the prefix, the name up to a space, then "is not set")."""
    body = line[2:]
    if not body.startswith(prefix):
        return None
    rest = body[len(prefix) :]
    space = rest.find(" ")
    if space < 0 or not rest.startswith("is not set", space + 1):
        return None
    return rest[:space]


def parse_fragment(
    text: str,
    file: str = "<fragment>",
    *,
    prefix: str = "",
    line_spans: Sequence[Span] | None = None,
) -> ParsedFragment:
    """Parse fragment ``text`` (shown as ``file``) into assignments and diagnostics.

    Never raises for any input text; see the module docstring for the rules.
    """
    source = Source(file, text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    assignments: list[Assignment] = []
    diags: list[Diagnostic] = []

    for number, raw in enumerate(lines, 1):
        line = raw[:-1] if raw.endswith("\r") else raw

        def span(col: int = 1, end_col: int | None = None) -> Span:
            if line_spans is not None and number - 1 < len(line_spans):
                return line_spans[number - 1]
            last = max(len(line), 1)
            end = last if end_col is None else max(min(end_col, last), col)
            return Span(file, number, col, number, end, source)

        def report(code, message: str, col: int = 1, end_col: int | None = None, help=()) -> None:
            severity = Severity.ERROR if code.code.startswith("E") else Severity.WARNING
            diags.append(Diagnostic(severity, code, message, span(col, end_col), tuple(help)))

        if not line.strip():
            continue

        if line[0] == "#":
            name = _unset_name(line, prefix)
            if name is None or not is_symbol_name(name):
                continue  # a comment
            if line[1] != " ":
                fixed = "# " + line[1:]
                report(
                    codes.READS_AS_UNSET,
                    f"kconfig reads '{line}' as unsetting '{name}', not as a comment",
                    help=[f"did you mean '{fixed}'?"],
                )
            assignments.append(Assignment(name, None, span()))
            continue

        if line.startswith(prefix):
            rest = line[len(prefix) :]
            eq = rest.find("=")
            if eq < 0:
                report(
                    codes.MALFORMED_LINE,
                    f"expected '{prefix}NAME=value' or '# {prefix}NAME is not set', found '{line}'",
                )
                continue
            name, value = rest[:eq], rest[eq + 1 :]
            if not is_symbol_name(name):
                help: list[str] = []
                if not name:
                    help.append("the symbol name before '=' is missing")
                elif name != name.lstrip():
                    help.append("kconfig ignores indented lines: remove the leading blanks")
                elif name != name.rstrip() or value[:1].isspace():
                    help.append("kconfig allows no blanks around '='")
                else:
                    help.append("a symbol name has only letters, digits and '_'")
                report(
                    codes.MALFORMED_LINE,
                    f"expected '{prefix}NAME=value' with a symbol name, found '{line}'",
                    help=help,
                )
                continue
            value_col = len(prefix) + len(name) + 2
            if value.startswith('"'):
                end = string_literal_end(value)
                if end is None:
                    report(
                        codes.UNTERMINATED_STRING,
                        f"expected a closing '\"' in the value of '{name}', found end of line",
                        value_col,
                        help=["kconfig drops the assignment"],
                    )
                    continue
                if value[end:]:
                    report(
                        codes.TEXT_AFTER_STRING,
                        f"text after the closing quote of '{name}' is ignored: '{value[end:]}'",
                        value_col + end,
                    )
            assignments.append(Assignment(name, value, span()))
            continue

        bare = _BARE_ASSIGN_RE.match(line)
        if bare:
            report(
                codes.MISSING_PREFIX,
                f"'{bare.group(1)}' lacks the '{prefix}' prefix, so kconfig ignores the line",
                help=[f"did you mean '{prefix}{line}'?"],
            )
        else:
            report(
                codes.MALFORMED_LINE,
                f"expected '{prefix}NAME=value' or '# {prefix}NAME is not set', found '{line}'",
            )

    return ParsedFragment(tuple(assignments), tuple(diags))


# ---------------------------------------------------------------------------------------------
# rendering


def render_assignment(assignment: Assignment, prefix: str = "") -> str:
    """The fragment line of ``assignment`` (without newline); parsing it gives it back."""
    if assignment.value is None:
        return f"# {prefix}{assignment.symbol} is not set"
    return f"{prefix}{assignment.symbol}={assignment.value}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an attribute set"
    if callable(value):
        return "a function"
    return f"a value of type '{type(value).__name__}'"


def render_fragment_value(symbol: str, value: object, *, prefix: str = "", span: Span | None = None) -> str:
    """The fragment line (without newline) that sets ``symbol`` to the inline ``value``.

    ``True`` → ``NAME=y``; ``False`` → ``# NAME is not set``; an int → ``NAME=<decimal>``;
    a string → ``NAME="..."``.  Raises ``SkiffError`` (E202, E203, E204) at ``span`` otherwise.
    """
    if not is_symbol_name(symbol):
        raise SkiffError(
            codes.BAD_SYMBOL_NAME,
            f"expected a Kconfig symbol name (letters, digits and '_'), found '{symbol}'",
            span,
        )
    if isinstance(value, bool):
        return f"{prefix}{symbol}=y" if value else f"# {prefix}{symbol} is not set"
    if isinstance(value, int):
        return f"{prefix}{symbol}={value}"
    if isinstance(value, str):
        bad = "a newline" if "\n" in value else "a NUL character" if "\0" in value else None
        if bad:
            raise SkiffError(
                codes.UNREPRESENTABLE_STRING,
                f"expected a one-line string for '{symbol}', found a string with {bad}",
                span,
            )
        return f"{prefix}{symbol}={quote_string(value)}"
    raise SkiffError(
        codes.UNSUPPORTED_VALUE,
        f"expected a bool, an int or a string for '{symbol}', found {_kind(value)}",
        span,
    )


def inline_fragment(
    values: Mapping[str, object] | Iterable[tuple[str, object]],
    *,
    file: str,
    layer: str = "",
    spans: Mapping[str, Span] | None = None,
    prefix: str = "",
) -> Fragment:
    """A ``Fragment`` for an inline attribute set: one line per entry, in the given order, each
    line's provenance the entry's span in ``spans`` (or line *n* of ``file``)."""
    items = list(values.items()) if isinstance(values, Mapping) else list(values)
    lines: list[str] = []
    line_spans: list[Span] = []
    for number, (symbol, value) in enumerate(items, 1):
        where = spans.get(symbol) if spans else None
        lines.append(render_fragment_value(symbol, value, prefix=prefix, span=where))
        line_spans.append(where or Span.point(file, number))
    text = "".join(line + "\n" for line in lines)
    return Fragment(text, file, layer, tuple(line_spans) if spans else None)
