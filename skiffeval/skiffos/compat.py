"""SkiffOS's text transformations, as pure functions (``scripts/build_configs.sh``,
``scripts/merge_config.sh``), so that skiffeval produces the same bytes SkiffOS writes.

Each function states the shell it reproduces.  Inputs that the shell would rewrite in ways no one
intends (a ``%`` reaching a ``printf`` format, a ``&`` or ``@`` reaching a ``sed`` replacement)
raise ``SkiffError`` (``E274``) instead of being copied wrongly.

* ``fragment_header``: before merging each fragment file, SkiffOS appends
  ``printf "\\n# Configuration from <folder>/<file>\\n"`` to the merged file.  The leading newline
  also ends a previous fragment that lacked its final newline.
* ``merge_fragment``: ``merge_config.sh -m -r <merged> <fragment>`` with the default prefix
  ``CONFIG_`` (SkiffOS never sets ``$CONFIG_``).  For every ``CONFIG_X=…`` or
  ``# CONFIG_X is not set`` line of the fragment, if ``CONFIG_X`` occurs as a whole word anywhere in
  the merged text, every merged line *containing* ``CONFIG_X=`` or ``CONFIG_X `` is deleted
  (unanchored: comments mentioning it go too, and so does ``CONFIG_FOO_CONFIG_X=y``); then the
  fragment is appended verbatim.  Buildroot symbols (``BR2_…``) never match the prefix, so
  Buildroot fragments are simply concatenated and Buildroot's kconfig keeps the last assignment;
  kernel, U-Boot and BusyBox fragments lose earlier assignments of what they set.
* ``substitute_config_root``: after each merge, ``sed -i "s#SKIFF_CONFIG_ROOT#<folder>#g"`` over
  the whole merged file, where ``<folder>`` is the chain folder being merged.
* ``cflags_of`` / ``cflags_header``: a ``cflags/*`` file contributes its lines minus comment lines
  (``sed '/^[ \\t]*#/d'``), every newline turned into a space (so a trailing space remains and
  blank lines count); an empty result is skipped.  Otherwise SkiffOS writes
  ``\\n# Configuration from <folder>/buildroot/<file>\\n# CFLAGS: "<flags>"\\n`` into the Buildroot
  file (the header names ``buildroot/``, not ``cflags/``), and at the very end merges
  ``BR2_TARGET_OPTIMIZATION="<all flags joined by one space>"``.
* ``replace_placeholders``: the ``REPLACEME_*`` tokens of the merged Buildroot file are replaced
  one ``sed`` at a time, in ``PLACEHOLDERS`` order (``REPLACEME_SKIFF_VERSION_COMMIT`` before its
  prefix ``REPLACEME_SKIFF_VERSION``); then ``BR2_CCACHE_DIR="<dir>"`` is appended.
* ``hook_script_header`` / ``hook_lines``: the post-build (``pre_build.sh``) and post-image
  (``post_build.sh``) wrappers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from skiffeval.diagnostics import SkiffError
from skiffeval.skiffos import codes

__all__ = [
    "printf_text",
    "fragment_header",
    "merge_fragment",
    "substitute_config_root",
    "cflags_of",
    "cflags_header",
    "join_cflags",
    "optimization_fragment",
    "PLACEHOLDERS",
    "replace_placeholders",
    "ccache_line",
    "hook_script_header",
    "hook_lines",
    "concat_users",
    "CONFIG_ROOT_TOKEN",
]

CONFIG_ROOT_TOKEN = "SKIFF_CONFIG_ROOT"

# In the order build_configs.sh substitutes them.
PLACEHOLDERS = (
    "REPLACEME_BR_PATCHES",
    "REPLACEME_BUSYBOX_FRAGMENTS",
    "REPLACEME_KERNEL_FRAGMENTS",
    "REPLACEME_KERNEL_PATCHES",
    "REPLACEME_UBOOT_FRAGMENTS",
    "REPLACEME_UBOOT_PATCHES",
    "REPLACEME_ROOTFS_OVERLAY",
    "REPLACEME_FINAL_CONFIG_DIR",
    "REPLACEME_SKIFF_VERSION_COMMIT",
    "REPLACEME_SKIFF_VERSION",
)

_SIMPLE_ESCAPES = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "?": "?",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


def _unrepresentable(what: str, text: str, why: str) -> SkiffError:
    return SkiffError(
        codes.UNREPRESENTABLE,
        f"{what} '{text}' {why}",
        None,
        help=("SkiffOS would write something else than intended; rename it",),
    )


def printf_text(fmt: str) -> str:
    """What bash's ``printf FMT`` (no arguments) prints: backslash escapes and ``%%`` are
    interpreted; any other ``%`` directive raises (its output depends on the directive)."""
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c == "%":
            if i + 1 < n and fmt[i + 1] == "%":
                out.append("%")
                i += 2
                continue
            raise _unrepresentable("text", fmt.strip("\n"), "has a '%' that SkiffOS passes to printf as a format")
        if c == "\\" and i + 1 < n:
            nxt = fmt[i + 1]
            if nxt in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[nxt])
                i += 2
                continue
            m = re.match(r"0?([0-7]{1,3})", fmt[i + 1 :]) if nxt in "01234567" else None
            if m:
                out.append(chr(int(m.group(1), 8)))
                i += 1 + m.end()
                continue
            m = re.match(r"x([0-9A-Fa-f]{1,2})", fmt[i + 1 :])
            if m:
                out.append(chr(int(m.group(1), 16)))
                i += 1 + m.end()
                continue
            if nxt in "cuU":
                raise _unrepresentable("text", fmt.strip("\n"), f"has '\\{nxt}', which SkiffOS's printf interprets")
        out.append(c)
        i += 1
    return "".join(out)


def fragment_header(fragment_path: str) -> str:
    """The header SkiffOS appends before merging the fragment at ``fragment_path``
    (``<folder>/<kind>/<file>``): ``\\n# Configuration from <path>\\n``."""
    return printf_text(f"\n# Configuration from {fragment_path}\n")


def _assigned_symbols(fragment: str, prefix: str) -> list[str]:
    set_re = re.compile(r"(" + re.escape(prefix) + r"[a-zA-Z0-9_]*)=")
    unset_re = re.compile(r"# (" + re.escape(prefix) + r"[a-zA-Z0-9_]*) is not set$")
    found = []
    for line in fragment.split("\n"):
        m = set_re.match(line) or unset_re.match(line)
        if m:
            found.append(m.group(1))
    return found


def merge_fragment(merged: str, fragment: str, prefix: str = "CONFIG_") -> str:
    """``merge_config.sh -m`` of one fragment into the merged text (see the module docstring)."""
    text = merged
    for sym in _assigned_symbols(fragment, prefix):
        if sym not in text:
            continue
        esc = re.escape(sym)
        if re.search(r"(?<![A-Za-z0-9_])" + esc + r"(?![A-Za-z0-9_])", text) is None:
            continue
        text = re.sub(r"(?m)^[^\n]*" + esc + r"[ =][^\n]*(?:\n|\Z)", "", text)
    return text + fragment


def substitute_config_root(text: str, folder: str) -> str:
    """``sed -i "s#SKIFF_CONFIG_ROOT#<folder>#g"``: the token becomes the chain folder."""
    for c in "#&\\\n":
        if c in folder:
            raise _unrepresentable("folder", folder, f"has {c!r}, which SkiffOS's sed rewrites")
    return text.replace(CONFIG_ROOT_TOKEN, folder)


def cflags_of(text: str) -> str:
    """The flags of one ``cflags/*`` file: comment lines dropped, newlines turned into spaces."""
    lines = text.split("\n")
    last = lines.pop()  # after the final newline ("" when the file ends with one)
    kept = [line + " " for line in lines if not re.match(r"[ \t]*#", line)]
    if last and not re.match(r"[ \t]*#", last):
        kept.append(last)
    return "".join(kept)


def cflags_header(buildroot_folder: str, file_name: str, flags: str) -> str:
    """What SkiffOS writes into the Buildroot file for one cflags file (its header names the
    package's ``buildroot`` folder)."""
    return printf_text(f"\n# Configuration from {buildroot_folder}/{file_name}\n") + printf_text(
        f'# CFLAGS: "{flags}"\n'
    )


def join_cflags(parts: Iterable[str]) -> str:
    """All cflags files' flags, joined by one space (``${array[@]}`` in an assignment)."""
    return " ".join(parts)


def optimization_fragment(flags: str) -> str:
    """The fragment SkiffOS merges last when there are cflags."""
    return f'BR2_TARGET_OPTIMIZATION="{flags}"\n'


def replace_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``REPLACEME_*`` token with its value, one at a time in ``PLACEHOLDERS``
    order, as the chain of ``sed -i "s@TOKEN@value@g"`` does."""
    for token in PLACEHOLDERS:
        value = values.get(token, "")
        for c in "@&\\\n":
            if c in value:
                raise _unrepresentable("value", value, f"of {token} has {c!r}, which SkiffOS's sed rewrites")
        text = text.replace(token, value)
    return text


def ccache_line(ccache_dir: str) -> str:
    """The line SkiffOS appends after the placeholders: ``BR2_CCACHE_DIR="<dir>"``."""
    return f'BR2_CCACHE_DIR="{ccache_dir}"\n'


def hook_script_header(bind_env_script: str, buildroot_dir: str) -> str:
    """The first lines of both hook wrappers (``pre_build.sh`` and ``post_build.sh``)."""
    return printf_text(f"#!/bin/bash\nset -eo pipefail\nsource {bind_env_script}\ncd {buildroot_dir}\n")


def hook_lines(hook: str, folder: str) -> str:
    """The two lines a wrapper gets for one hook: an announcement and the call, with
    ``SKIFF_CURRENT_CONF_DIR`` set to the chain folder the hook belongs to."""
    return (
        f'echo "$(tput smso)Executing hook: {hook}$(tput sgr0)"\n'
        f'SKIFF_CURRENT_CONF_DIR="{folder}" {hook}\n'
    )


def concat_users(tables: Iterable[str]) -> str:
    """The ``users`` file: every ``users/*`` table, concatenated as is (``cat >>``)."""
    return "".join(tables)
