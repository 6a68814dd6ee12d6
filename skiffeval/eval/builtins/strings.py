"""String, regex, version, hashing and arithmetic builtins.

Nix strings are byte strings; ``stringLength`` and ``substring`` count UTF-8 bytes here too, so
results agree with Nix on non-ASCII text.  Regular expressions are POSIX extended (as Nix's
``std::regex::extended``), translated to Python's ``re``: bracket classes such as
``[[:alpha:]]`` and a literal backslash or leading ``]`` inside brackets.
"""

from __future__ import annotations

import functools
import hashlib
import re

from skiffeval.diagnostics import SkiffError
from skiffeval.eval import codes
from skiffeval.eval.builtins.registry import builtin
from skiffeval.eval.runtime import (
    check_int,
    coerce_to_string,
    divide,
    expect_int,
    expect_list,
    expect_plain_string,
    expect_string,
)
from skiffeval.eval.values import Attrs, context_of, force, make_string


@builtin("toString", "e", is_global=True)
def _to_string(ev, span, e):
    """``e`` as a string: strings, paths, integers, booleans (true is "1"), null, lists
    (space-separated) and sets with ``__toString`` or ``outPath``."""
    text, ctx = coerce_to_string(ev, e, span, copy_to_store=False, coerce_more=True, what="the argument of 'toString'")
    return make_string(text, ctx)


@builtin("stringLength", "e")
def _string_length(ev, span, e):
    """The length of a string in bytes."""
    text, _ = coerce_to_string(ev, e, span, what="the argument of 'stringLength'")
    return len(text.encode("utf-8"))


@builtin("substring", "start", "len", "s")
def _substring(ev, span, start, length, s):
    """``len`` bytes of ``s`` from byte ``start`` (a negative ``len`` means to the end)."""
    start = expect_int(start, span, "the first argument of 'substring'")
    length = expect_int(length, span, "the second argument of 'substring'")
    if start < 0:
        raise SkiffError(codes.BAD_VALUE, f"negative start position {start} in 'substring'", span)
    text, ctx = coerce_to_string(ev, s, span, what="the third argument of 'substring'")
    data = text.encode("utf-8")
    piece = data[start:] if length < 0 else data[start : start + length]
    return make_string(piece.decode("utf-8", errors="replace"), ctx)


@builtin("concatStringsSep", "sep", "list")
def _concat_strings_sep(ev, span, sep, lst):
    """The strings of ``list`` joined by ``sep``."""
    sep_text, context = coerce_to_string(ev, expect_string(ev, sep, span, "the first argument of 'concatStringsSep'"), span)
    parts: list[str] = []
    for item in expect_list(lst, span, "the second argument of 'concatStringsSep'"):
        text, ctx = coerce_to_string(ev, item, span, what="an element of the list given to 'concatStringsSep'")
        parts.append(text)
        context |= ctx
    return make_string(sep_text.join(parts), context)


@builtin("replaceStrings", "from", "to", "s")
def _replace_strings(ev, span, from_, to, s):
    """``s`` with each occurrence of a string of ``from`` replaced by the matching one of ``to``
    (scanning left to right, first pattern that matches wins)."""
    from_list = [
        str(expect_string(ev, force(x), span, "an element of the first argument of 'replaceStrings'"))
        for x in expect_list(from_, span, "the first argument of 'replaceStrings'")
    ]
    to_values = [coerce_to_string(ev, force(x), span, what="an element of the second argument of 'replaceStrings'") for x in expect_list(to, span, "the second argument of 'replaceStrings'")]
    if len(from_list) != len(to_values):
        raise SkiffError(codes.BAD_VALUE, "'from' and 'to' arguments of 'replaceStrings' have different lengths", span)
    text, context = coerce_to_string(ev, s, span, what="the third argument of 'replaceStrings'")
    out: list[str] = []
    p = 0
    n = len(text)
    while p <= n:
        for pattern, (replacement, ctx) in zip(from_list, to_values):
            if text.startswith(pattern, p):
                out.append(replacement)
                context |= ctx
                if pattern:
                    p += len(pattern)
                else:
                    if p < n:
                        out.append(text[p])
                    p += 1
                break
        else:
            if p < n:
                out.append(text[p])
            p += 1
    return make_string("".join(out), context)


# -- regular expressions ---------------------------------------------------------------------

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "xdigit": "0-9A-Fa-f", "punct": r"!-/:-@\[-`{-~",
    "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e", "word": r"\w",
}


def _translate_posix(regex: str) -> str:
    out: list[str] = []
    i = 0
    n = len(regex)
    while i < n:
        c = regex[i]
        if c == "\\" and i + 1 < n:
            out.append(regex[i : i + 2])
            i += 2
            continue
        if c != "[":
            out.append(c)
            i += 1
            continue
        # a bracket expression
        j = i + 1
        parts = ["["]
        if j < n and regex[j] == "^":
            parts.append("^")
            j += 1
        if j < n and regex[j] == "]":
            parts.append(r"\]")
            j += 1
        while j < n and regex[j] != "]":
            if regex.startswith("[:", j):
                end = regex.find(":]", j + 2)
                if end < 0:
                    raise ValueError("unterminated character class")
                name = regex[j + 2 : end]
                if name not in _CLASSES:
                    raise ValueError(f"unknown character class '[:{name}:]'")
                parts.append(_CLASSES[name])
                j = end + 2
                continue
            ch = regex[j]
            parts.append("\\" + ch if ch in "\\[" else ch)
            j += 1
        if j >= n:
            raise ValueError("unterminated bracket expression")
        parts.append("]")
        out.append("".join(parts))
        i = j + 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def _compile_regex(regex: str) -> re.Pattern:
    return re.compile(_translate_posix(regex))


def _regex(regex: str, span) -> re.Pattern:
    try:
        return _compile_regex(regex)
    except (re.error, ValueError) as exc:
        raise SkiffError(codes.BAD_REGEX, f"invalid regular expression '{regex}': {exc}", span) from None


@builtin("match", "regex", "str")
def _match(ev, span, regex, s):
    """``null`` unless ``regex`` matches all of ``str``; else the list of its groups (``null``
    for a group that did not take part)."""
    pattern = _regex(expect_plain_string(regex, span, "the first argument of 'match'"), span)
    text, ctx = coerce_to_string(ev, s, span, what="the second argument of 'match'")
    m = pattern.fullmatch(text)
    if m is None:
        return None
    return tuple(None if g is None else make_string(g, ctx) for g in m.groups())


@builtin("split", "regex", "str")
def _split(ev, span, regex, s):
    """``str`` split by ``regex``: the pieces between matches, and for each match the list of
    its groups, alternating."""
    pattern = _regex(expect_plain_string(regex, span, "the first argument of 'split'"), span)
    text, ctx = coerce_to_string(ev, s, span, what="the second argument of 'split'")
    out: list = []
    last = 0
    for m in pattern.finditer(text):
        out.append(make_string(text[last : m.start()], ctx))
        out.append(tuple(None if g is None else make_string(g, ctx) for g in m.groups()))
        last = m.end()
    out.append(make_string(text[last:], ctx))
    return tuple(out)


# -- versions --------------------------------------------------------------------------------


def _next_component(s: str, p: int) -> tuple[str, int]:
    n = len(s)
    while p < n and s[p] in ".-":
        p += 1
    if p >= n:
        return "", p
    start = p
    if s[p].isdigit():
        while p < n and s[p].isdigit():
            p += 1
    else:
        while p < n and not s[p].isdigit() and s[p] not in ".-":
            p += 1
    return s[start:p], p


def _components_lt(c1: str, c2: str) -> bool:
    n1 = int(c1) if c1.isdigit() else None
    n2 = int(c2) if c2.isdigit() else None
    if n1 is not None and n2 is not None:
        return n1 < n2
    if c1 == "" and n2 is not None:
        return True
    if c1 == "pre" and c2 != "pre":
        return True
    if c2 == "pre":
        return False
    if n2 is not None:
        return True
    if n1 is not None:
        return False
    return c1 < c2


def compare_versions(a: str, b: str) -> int:
    """Nix's version order: -1, 0 or 1."""
    p1 = p2 = 0
    while p1 < len(a) or p2 < len(b):
        c1, p1 = _next_component(a, p1)
        c2, p2 = _next_component(b, p2)
        if _components_lt(c1, c2):
            return -1
        if _components_lt(c2, c1):
            return 1
    return 0


@builtin("compareVersions", "s1", "s2")
def _compare_versions(ev, span, a, b):
    """-1, 0 or 1 as version ``s1`` is older than, equal to or newer than ``s2``."""
    return compare_versions(
        expect_plain_string(a, span, "the first argument of 'compareVersions'"),
        expect_plain_string(b, span, "the second argument of 'compareVersions'"),
    )


@builtin("splitVersion", "s")
def _split_version(ev, span, s):
    """The components of a version string, as ``compareVersions`` sees them."""
    text = expect_plain_string(s, span, "the argument of 'splitVersion'")
    out = []
    p = 0
    while p < len(text):
        c, p = _next_component(text, p)
        if not c:
            break
        out.append(c)
    return tuple(out)


@builtin("parseDrvName", "s")
def _parse_drv_name(ev, span, s):
    """``{ name; version; }`` split at the first '-' not followed by a letter."""
    text = expect_plain_string(s, span, "the argument of 'parseDrvName'")
    for i, c in enumerate(text):
        if c == "-" and i + 1 < len(text) and not text[i + 1].isalpha():
            return Attrs({"name": text[:i], "version": text[i + 1 :]})
    return Attrs({"name": text, "version": ""})


# -- hashing and context -----------------------------------------------------------------------

_HASHES = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


@builtin("hashString", "type", "s")
def _hash_string(ev, span, algo, s):
    """The hexadecimal ``md5``, ``sha1``, ``sha256`` or ``sha512`` digest of a string."""
    name = expect_plain_string(algo, span, "the first argument of 'hashString'")
    if name not in _HASHES:
        raise SkiffError(codes.BAD_VALUE, f"unknown hash algorithm '{name}'", span, help=["use one of 'md5', 'sha1', 'sha256', 'sha512'"])
    text, _ = coerce_to_string(ev, s, span, what="the second argument of 'hashString'")
    return _HASHES[name](text.encode("utf-8")).hexdigest()


@builtin("unsafeDiscardStringContext", "s")
def _discard_context(ev, span, s):
    """The string without its context (it no longer makes a derivation depend on anything)."""
    text, _ = coerce_to_string(ev, s, span, what="the argument of 'unsafeDiscardStringContext'")
    return text


@builtin("hasContext", "s")
def _has_context(ev, span, s):
    """Whether a string refers to build outputs or sources."""
    return bool(context_of(expect_string(ev, s, span, "the argument of 'hasContext'")))


# -- arithmetic ------------------------------------------------------------------------------


def _int_op(name: str, fn):
    @builtin(name, "e1", "e2")
    def impl(ev, span, a, b):
        a = expect_int(a, span, f"the first argument of '{name}'")
        b = expect_int(b, span, f"the second argument of '{name}'")
        return fn(a, b, span)

    impl.__doc__ = f"Integer '{name}'."
    return impl


_int_op("add", lambda a, b, span: check_int(a + b, span))
_int_op("sub", lambda a, b, span: check_int(a - b, span))
_int_op("mul", lambda a, b, span: check_int(a * b, span))
_int_op("div", divide)
_int_op("bitAnd", lambda a, b, span: a & b)
_int_op("bitOr", lambda a, b, span: a | b)
_int_op("bitXor", lambda a, b, span: a ^ b)
