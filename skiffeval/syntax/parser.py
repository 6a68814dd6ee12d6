"""Parsing .sk text into an AST, with errors people can act on.

The grammar (``grammar/skiff.lark``, shipped as ``skiffeval._grammar``) is compiled once per
process with lark's LALR parser and contextual lexer; the compiled tables are cached on disk by
lark (``cache=``), keyed by the grammar text and lark's version, so a new process loads them
instead of rebuilding (about 10 ms instead of 400 ms).

Parse errors become ``SkiffError`` with code E010-E013: the unexpected token in quotes, what was
expected in words ("expected ';' or '.'", "expected an expression"), and a hint for the usual
mistakes (a missing ';' after a binding, an unclosed bracket or string).
"""

from __future__ import annotations

import os
import re
import threading
from importlib import resources

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from skiffeval.diagnostics import Note, SkiffError, Source, Span
from skiffeval.syntax import ast
from skiffeval.syntax.codes import BAD_CHARACTER, BAD_FILE, SYNTAX, UNTERMINATED
from skiffeval.syntax.lower import Lowering
from skiffeval.usercache import user_cache_dir

__all__ = ["grammar_text", "parse", "parse_bytes", "build_parser"]

_lock = threading.Lock()
_parser: lark.Lark | None = None
# The one Lowering bound into the parser; its ``source`` is set for each parse under ``_lock``.
_lowering = Lowering(Source("<none>", ""))


def grammar_text() -> str:
    """The text of the grammar, read from the installed package data."""
    return resources.files("skiffeval._grammar").joinpath("skiff.lark").read_text(encoding="utf-8")


def _cache_path() -> str:
    directory = user_cache_dir()
    # lark appends nothing to an explicit path, so the name carries the grammar and lark identity.
    import hashlib

    digest = hashlib.sha256((grammar_text() + lark.__version__).encode()).hexdigest()[:16]
    return os.path.join(directory, f"grammar-{digest}.lark-cache")


def build_parser(*, strict: bool = False, cache: bool = True, lowering: Lowering | None = None) -> lark.Lark:
    """Compile the grammar (``strict=True`` fails on any conflict or terminal collision).

    With ``lowering`` the AST is built by its callbacks during the parse (no parse tree);
    without, ``parse`` returns lark trees (used by grammar tests).
    """
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        maybe_placeholders=False,
        keep_all_tokens=True,
        strict=strict,
        transformer=lowering,
        cache=_cache_path() if cache and not strict else False,
    )


def _get_parser() -> lark.Lark:
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = build_parser(lowering=_lowering)
    return _parser


def parse_bytes(data: bytes, name: str, path: str | None = None) -> ast.Expr:
    """Parse the bytes of a file (``path`` is its absolute path, if it is one); undecodable
    UTF-8 is a located error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        source = Source(name, data.decode("utf-8", errors="replace"))
        line, col = source.position(len(data[: exc.start].decode("utf-8", errors="replace")))
        raise SkiffError(BAD_FILE, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", Span(name, line, col, line, col, source)) from None
    return parse(text, name, path)


def parse(text: str, name: str, path: str | None = None) -> ast.Expr:
    """Parse ``text`` (displayed as ``name`` in errors) into an AST."""
    source = Source(name, text, path)
    parser = _get_parser()
    with _lock:
        _lowering.set_source(source)
        try:
            return parser.parse(text)
        except UnexpectedInput as exc:
            raise _syntax_error(exc, source) from None


_TERMINAL_WORDS = {
    "SEMICOLON": "';'", "COLON": "':'", "COMMA": "','", "DOT": "'.'", "EQUAL": "'='",
    "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'",
    "QMARK": "'?'", "AT": "'@'", "ID": "a name", "INT": "an integer", "DQUOTE": "'\"'",
    "IND_OPEN": "\"''\"", "IND_CLOSE": "\"''\"", "PATH": "a path", "SPATH": "a <search path>",
    "ELLIPSIS": "'...'", "IN": "'in'", "THEN": "'then'", "ELSE": "'else'", "OR": "'or'",
    "DOLLAR_CURLY": "'${'", "$END": "end of input", "INHERIT": "'inherit'",
}
_EXPR_START = {"ID", "INT", "LPAR", "LSQB", "LBRACE", "DQUOTE", "PATH"}
_OPERATORS = {
    "PLUS", "MINUS", "STAR", "SLASH", "LESSTHAN", "MORETHAN", "BANG", "__ANON_0", "__ANON_1",
}


_TOKEN_START = re.compile(r"[A-Za-z0-9_./<>~\"'{}()\[\];:,=?@!+\-*&|#$]")
_WORD = re.compile(r"[A-Za-z0-9_'\-./]+|\$\{|''|\S")


def _describe_token(tok: lark.Token, source: Source) -> tuple[str, int]:
    """How to name the unexpected token, and its length in characters.

    When a state rejects every terminal, lark re-lexes with the whole grammar and may report a
    string-content terminal spanning the rest of the line; the word at that place is clearer.
    """
    if tok.type == "$END":
        return "end of input", 1
    text = str(tok)
    if tok.type in ("STR_CHUNK", "IND_CHUNK", "IND_LONE") or len(text) > 30:
        m = _WORD.match(source.text, tok.start_pos or 0)
        text = m.group(0) if m else text[:1]
    return f"'{text}'", len(text)


_CLOSERS = frozenset({"RBRACE", "RSQB", "RPAR"})


def _expected_words(expected: set[str]) -> str:
    words: list[str] = []
    names = set(expected)
    if _EXPR_START <= names:
        words.append("an expression")
        names -= {
            "ID", "INT", "FLOAT", "LPAR", "LSQB", "LBRACE", "DQUOTE", "IND_OPEN", "PATH", "HPATH",
            "SPATH", "REC", "LET", "IF", "WITH", "ASSERT", "MINUS", "BANG",
        }
        # after an operand, any binary operator is acceptable: say so once
        if len(names & _OPERATORS) > 2 or any(n.startswith("__ANON") for n in names):
            names = {n for n in names if n not in _OPERATORS and not n.startswith("__ANON")}
            words.append("an operator")
    # closing brackets first: a list cut short below still names the one the input may lack
    for name in sorted(names, key=lambda n: (n not in _CLOSERS, n not in _TERMINAL_WORDS, n)):
        word = _TERMINAL_WORDS.get(name)
        if word is None:
            continue
        if word not in words:
            words.append(word)
    if not words:
        return ""
    if len(words) > 6:
        words = words[:6] + ["..."]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _shown(char: str) -> str:
    """A character for a message: quoted when it can be seen, else its code point (a NUL, a
    no-break space or a control character would print as nothing, or as a blank)."""
    if char.isprintable() and not char.isspace():
        return f"'{char}'"
    return f"U+{ord(char):04X}"


def _span_at(source: Source, line: int, col: int, length: int = 1) -> Span:
    return Span(source.name, line, col, line, col + max(length, 1) - 1, source)


def _syntax_error(exc: UnexpectedInput, source: Source) -> SkiffError:
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line, exc.column
        char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
        span = _span_at(source, line, col)
        rest = source.text[exc.pos_in_stream :]
        if rest.startswith("/*"):
            return SkiffError(UNTERMINATED, "comment is not closed", span, help=["end it with '*/'"])
        if char == "'" and rest.startswith("''"):
            return SkiffError(UNTERMINATED, "indented string is not closed", span)
        allowed = set(exc.allowed or ())
        if allowed and allowed <= {"STR_CHUNK", "DQUOTE", "DOLLAR_CURLY"}:
            return SkiffError(UNTERMINATED, "string is not closed", span, help=["end it with '\"'"])
        expected = _expected_words(allowed)
        message = f"unexpected character {_shown(char)}" if char else "unexpected character"
        if expected:
            message += f", expected {expected}"
        return SkiffError(BAD_CHARACTER, message, span)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected_set = set(getattr(exc, "expected", ()) or ())
        expected = _expected_words(expected_set)
        # point just after the last token (not at trailing blank lines or comments)
        end_line, end_col = source.position(len(source.text.rstrip()))
        span = _span_at(source, end_line, end_col)
        opener = _unclosed(source.text)
        notes = [Note(f"'{opener[0]}' opened here is not closed", _span_at(source, *source.position(opener[1])))] if opener else []
        if "ID" not in expected_set and ("DQUOTE" in expected_set or "IND_CLOSE" in expected_set):
            return SkiffError(UNTERMINATED, "string is not closed at end of input", span, related=notes)
        message = "unexpected end of input" + (f", expected {expected}" if expected else "")
        return SkiffError(SYNTAX, message, span, related=notes)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    if source.text.startswith("/*", tok.start_pos or 0) and "*/" not in source.text[tok.start_pos :]:
        return SkiffError(UNTERMINATED, "comment is not closed", _span_at(source, tok.line, tok.column, 2), help=["end it with '*/'"])
    described, length = _describe_token(tok, source)
    char = source.text[tok.start_pos or 0] if (tok.start_pos or 0) < len(source.text) else ""
    if tok.type in ("STR_CHUNK", "IND_CHUNK", "IND_LONE") and not _TOKEN_START.match(char):
        # lark re-lexed with the whole grammar after this state rejected every terminal; a
        # character that starts no token of the language is a lexical error
        expected = _expected_words(set(exc.expected))
        message = f"unexpected character {_shown(char)}" + (f", expected {expected}" if expected else "")
        return SkiffError(BAD_CHARACTER, message, _span_at(source, tok.line, tok.column))
    span = _span_at(source, tok.line, tok.column, length)
    acceptable = set(exc.expected)
    try:  # the exact set (LALR merges lookaheads of similar states; this simulates each one)
        acceptable = set(exc.interactive_parser.accepts()) or acceptable
    except Exception:  # noqa: BLE001 - best effort refinement of a message
        pass
    exc.expected = acceptable
    expected = _expected_words(acceptable)
    message = f"unexpected {described}"
    if expected:
        message += f", expected {expected}"
    help: list[str] = []
    if "SEMICOLON" in exc.expected and tok.type not in ("SEMICOLON",):
        help.append("is a ';' missing at the end of the previous binding?")
    if tok.type == "EQUAL" and "SEMICOLON" not in exc.expected:
        help.append("'=' defines an attribute inside '{ ... }' or 'let'; use '==' to compare")
    return SkiffError(SYNTAX, message, span, help=help)


def _unclosed(text: str) -> tuple[str, int] | None:
    """The innermost bracket left open at the end of ``text`` (ignores strings roughly)."""
    stack: list[tuple[str, int]] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            stack.append(('"', i))
        elif ch == "#":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        elif ch in "{[(":
            stack.append((ch, i))
        elif ch in "}])":
            if stack and stack[-1][0] == pairs[ch]:
                stack.pop()
        if not in_string and stack and stack[-1][0] == '"':
            stack.pop()
        i += 1
    return stack[-1] if stack else None
