"""Error codes of the kconfig domain: E200–E249 (errors) and W200–W249 (warnings).

Every code is documented in ``docs/kconfig.md`` (a test checks that each one appears there).
Ranges inside the domain:

* E200–E209, W200–W209: fragment text (parsing, rendering inline values, merging)
* E210–E219, W210–W229: the effect of fragment assignments on a resolved configuration
* E230–E239: the inputs of a resolution (Kconfig trees, Buildroot sources, external trees)

Severity is chosen by one rule: input that kconfig cannot read, or a value it must reject
for the symbol's type, is an *error* (Buildroot would silently drop it); a well-formed
request that kconfig overrides or ignores for a reason inside the configuration is a
*warning*; facts that are the normal way layers work (a later layer overriding an earlier
one) are *info*.
"""

from __future__ import annotations

from skiffeval.diagnostics import define_code

__all__ = [
    "MALFORMED_LINE",
    "UNTERMINATED_STRING",
    "UNSUPPORTED_VALUE",
    "BAD_SYMBOL_NAME",
    "UNREPRESENTABLE_STRING",
    "READS_AS_UNSET",
    "MISSING_PREFIX",
    "TEXT_AFTER_STRING",
    "MERGE_REMOVED_OTHER",
    "INVALID_VALUE",
    "OUT_OF_RANGE",
    "UNKNOWN_SYMBOL",
    "UNMET_DEPENDENCY",
    "CHOICE_SUPERSEDED",
    "SELECTED",
    "NO_PROMPT",
    "NOT_TAKEN",
    "CHOICE_NEEDS_MEMBER",
    "UNSET_NOT_BOOL",
    "LEGACY_OPTION",
    "SET_TWICE",
    "DEPENDENCY_LOOP",
    "KCONFIG_PARSE",
    "BUILDROOT_SOURCE",
    "EXTERNAL_TREE",
    "EXTERNAL_NAME",
    "EXTERNAL_DUPLICATE",
    "DEFCONFIG_NOT_FOUND",
]

D = "kconfig"

# -- fragment text ------------------------------------------------------------------------------
MALFORMED_LINE = define_code(
    "E200", "malformed-fragment-line", D,
    "a fragment line that is neither 'NAME=value', '# NAME is not set', a comment nor blank")
UNTERMINATED_STRING = define_code(
    "E201", "unterminated-string", D, "a quoted value without its closing quote")
UNSUPPORTED_VALUE = define_code(
    "E202", "unsupported-inline-value", D,
    "an inline fragment value that is not a bool, an int or a string")
BAD_SYMBOL_NAME = define_code(
    "E203", "bad-symbol-name", D, "an inline fragment key that is not a Kconfig symbol name")
UNREPRESENTABLE_STRING = define_code(
    "E204", "unrepresentable-string", D,
    "an inline string value with a newline or NUL, which a fragment line cannot hold")
READS_AS_UNSET = define_code(
    "W200", "comment-reads-as-unset", D,
    "a comment that kconfig still reads as '# NAME is not set', NAME starting at its third character")
MISSING_PREFIX = define_code(
    "W201", "missing-prefix", D,
    "an assignment without the configuration prefix (e.g. 'CONFIG_'), which kconfig ignores")
TEXT_AFTER_STRING = define_code(
    "W202", "text-after-string", D, "text after the closing quote of a string value is ignored")
MERGE_REMOVED_OTHER = define_code(
    "W203", "merge-removed-other-line", D,
    "merge_config.sh semantics removed an assignment of another symbol that mentions the merged one")

# -- effect of assignments ----------------------------------------------------------------------
INVALID_VALUE = define_code(
    "E210", "invalid-value", D, "a value kconfig rejects for the symbol's type")
OUT_OF_RANGE = define_code(
    "E211", "out-of-range", D, "an int or hex value outside the symbol's active 'range'")
UNKNOWN_SYMBOL = define_code(
    "W210", "unknown-symbol", D, "an assignment to a name that no Kconfig file defines")
UNMET_DEPENDENCY = define_code(
    "W211", "unmet-dependency", D,
    "a value that did not take effect because the symbol's 'depends on' (or prompt condition) is unmet")
CHOICE_SUPERSEDED = define_code(
    "W212", "choice-superseded", D,
    "a choice member set to y that lost to another member of the same choice")
SELECTED = define_code(
    "W213", "selected", D, "a symbol set lower than what 'select' forces on it")
NO_PROMPT = define_code(
    "W214", "no-prompt", D,
    "an assignment to a symbol without a prompt, whose value only defaults and selects decide")
NOT_TAKEN = define_code(
    "W215", "not-taken", D, "a value that did not take effect for another reason")
CHOICE_NEEDS_MEMBER = define_code(
    "W216", "choice-needs-member", D,
    "a choice member set to n that stays y because a choice must have a selected member")
UNSET_NOT_BOOL = define_code(
    "W217", "unset-not-bool", D,
    "'# NAME is not set' on a string, int or hex symbol, which kconfig ignores")
LEGACY_OPTION = define_code(
    "W218", "legacy-option", D,
    "a Buildroot legacy option set to y (it selects BR2_LEGACY, which stops the build)")
SET_TWICE = define_code(
    "W220", "set-twice", D, "a symbol assigned more than once; the last valid assignment wins")
DEPENDENCY_LOOP = define_code(
    "W221", "dependency-loop", D,
    "a dependency loop in the Kconfig tree: reported, and values computed as Buildroot's conf does")

# -- inputs -------------------------------------------------------------------------------------
KCONFIG_PARSE = define_code(
    "E230", "kconfig-parse", D, "a Kconfig tree that cannot be read or parsed")
BUILDROOT_SOURCE = define_code(
    "E231", "buildroot-source", D, "a directory that is not a Buildroot source tree")
EXTERNAL_TREE = define_code(
    "E232", "external-tree", D,
    "a BR2_EXTERNAL tree that is missing or lacks external.desc, Config.in or external.mk")
EXTERNAL_NAME = define_code(
    "E233", "external-name", D, "a BR2_EXTERNAL tree whose external.desc name is missing or invalid")
EXTERNAL_DUPLICATE = define_code(
    "E234", "external-duplicate", D, "two BR2_EXTERNAL trees with the same name")
DEFCONFIG_NOT_FOUND = define_code(
    "E235", "defconfig-not-found", D, "a base defconfig that is in none of the configs/ directories")
