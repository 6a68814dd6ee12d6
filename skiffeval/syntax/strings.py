"""String literal semantics: escapes of ``"..."`` strings and indentation of ``''...''`` strings.

Both follow Nix 2.8 (the differential-test oracle): in ``"..."`` strings ``\\n \\r \\t`` are
control characters and any other escaped character stands for itself; ``$${`` is literal.  In
``''...''`` strings ``''$`` is ``$``, ``'''`` is ``''`` and ``''\\X`` escapes ``X``; the common
indentation of the non-blank lines is removed, counting spaces only; escaped characters count as
ordinary text when the indentation is measured (as in Nix 2.8); an interpolation ends the
leading whitespace of its line; a final line of spaces only is dropped.
"""

from __future__ import annotations

import re

__all__ = ["unescape_dq", "unescape_ind", "strip_indentation"]

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_DQ_ESCAPE = re.compile(r"\\([\s\S])")


def unescape_dq(chunk: str) -> str:
    """Decode the escapes of one literal chunk of a double-quoted string."""
    if "\\" not in chunk:
        return chunk
    return _DQ_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), chunk)


def unescape_ind(token: str) -> str:
    """The text of an indented-string escape token: ``''$``, ``'''`` or ``''\\X``."""
    if token == "''$":
        return "$"
    if token == "'''":
        return "''"
    assert token.startswith("''\\") and len(token) == 4
    return _ESCAPES.get(token[3], token[3])


def strip_indentation(parts: list) -> list:
    """Strip the common indentation from the parts of an indented string.

    ``parts`` is a list of ``str`` (literal text, escapes already decoded) and other objects
    (interpolations).  Returns a new list; adjacent literal parts are kept separate here and
    merged by the caller.
    """
    if not parts:
        return []
    at_start = True
    min_indent = 1_000_000
    cur = 0
    for part in parts:
        if not isinstance(part, str):
            if at_start:
                at_start = False
                min_indent = min(min_indent, cur)
            continue
        for ch in part:
            if at_start:
                if ch == " ":
                    cur += 1
                elif ch == "\n":
                    cur = 0
                else:
                    at_start = False
                    min_indent = min(min_indent, cur)
            elif ch == "\n":
                at_start = True
                cur = 0

    out: list = []
    at_start = True
    dropped = 0
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if not isinstance(part, str):
            at_start = False
            dropped = 0
            out.append(part)
            continue
        buf = []
        for ch in part:
            if at_start:
                if ch == " ":
                    if dropped >= min_indent:
                        buf.append(ch)
                    dropped += 1
                elif ch == "\n":
                    dropped = 0
                    buf.append(ch)
                else:
                    at_start = False
                    dropped = 0
                    buf.append(ch)
            else:
                buf.append(ch)
                if ch == "\n":
                    at_start = True
        text = "".join(buf)
        if index == last:
            nl = text.rfind("\n")
            if nl >= 0 and text[nl + 1 :].strip(" ") == "":
                text = text[: nl + 1]
        out.append(text)
    return out
