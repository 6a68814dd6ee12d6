"""The metadata parsers on their own (pure text)."""

from __future__ import annotations

from skiffeval.skiffos.metadata import parse_commands, parse_dependencies, parse_external_desc


def test_dependencies_trailing_newlines_and_separators():
    deps, problems = parse_dependencies("a/b, c/d  e/f\n\n\n", "f", "x/y")
    assert problems == ()
    assert [(d.name, d.span.col, d.span.end_col) for d in deps] == [("a/b", 1, 3), ("c/d", 6, 8), ("e/f", 11, 13)]


def test_dependencies_empty_file():
    assert parse_dependencies("", "f", "x/y") == ((), ())
    assert parse_dependencies("\n", "f", "x/y") == ((), ())


def test_commands_read_loop_quirks():
    text = "  a\\tb  Does\\, things\\\n continued\nx, y,z\n\nlast no newline"
    cmds, problems = parse_commands(text, "f")
    # read without -r: "\t" -> "t", "\," -> ",", backslash-newline joins lines; then commas -> blanks
    assert [(c.name, c.description, c.span.line) for c in cmds] == [
        ("atb", "Does things continued", 1),
        ("x", "y z", 3),
    ]
    assert [(p.code.code, p.span.line) for p in problems] == [("W258", 5)]


def test_commands_with_final_newline_have_no_warning():
    cmds, problems = parse_commands("a A\n", "f")
    assert [c.name for c in cmds] == ["a"] and problems == ()


def test_external_desc_like_buildroot():
    assert parse_external_desc("name:  FOO\ndesc: Foo things\n") == ("FOO", "Foo things")
    assert parse_external_desc("name:FOO\n") == ("", "")
    assert parse_external_desc("name: A\nname: B\n") == ("A\nB", "")
