"""Error codes of the syntax domain (E010-E029)."""

from skiffeval.diagnostics import define_code

SYNTAX = define_code("E010", "syntax-error", "syntax", "the text is not a valid .sk expression")
UNTERMINATED = define_code("E011", "unterminated", "syntax", "a string, comment or bracket is not closed")
BAD_CHARACTER = define_code("E012", "unexpected-character", "syntax", "a character that starts no token")
NO_FLOATS = define_code("E013", "no-floats", "syntax", "floating-point numbers are not part of the language")
DUPLICATE_ATTR = define_code("E014", "duplicate-attribute", "syntax", "an attribute is defined twice in one set")
DUPLICATE_FORMAL = define_code("E015", "duplicate-formal", "syntax", "a function pattern names an argument twice")
DYNAMIC_IN_LET = define_code("E016", "dynamic-let", "syntax", "dynamic attribute names are not allowed in let or inherit")
INT_RANGE = define_code("E017", "integer-range", "syntax", "an integer literal does not fit in 64 bits")
BAD_FILE = define_code("E018", "unreadable-source", "syntax", "a source file is not valid UTF-8")
