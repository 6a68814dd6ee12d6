"""Writing a resolved tree as ``conf`` writes it: the full ``.config`` and the minimal defconfig.

The model
---------
``config_text`` is byte for byte what Linux 4.17 ``conf_write`` produces (Buildroot's
``.config`` after ``make defconfig``): the heading with the main menu's title, then the menu
tree in order — a ``#``-boxed title for each visible menu and comment, one line per symbol
that is written (at its first definition).  kconfiglib's own ``write_config`` differs only in
adding ``# end of <menu>`` lines, and a heading only if asked.

``min_config_text`` is ``conf --savedefconfig`` (``conf_write_defconfig``): in menu order, the
symbols whose value differs from their default, that the user can change, skipping a choice's
default member when it is selected.
"""

from __future__ import annotations

from collections.abc import Iterator

import kconfiglib
from kconfiglib import BOOL, COMMENT, MENU, Symbol, expr_value

__all__ = ["config_text", "min_config_text", "config_values"]


def _walk(kconf: kconfiglib.Kconfig) -> Iterator[kconfiglib.MenuNode]:
    """Every menu node in menu order (depth first), without the top node."""
    node = kconf.top_node
    while True:
        if node.list:
            node = node.list
        elif node.next:
            node = node.next
        else:
            while node.parent:
                node = node.parent
                if node.next:
                    node = node.next
                    break
            else:
                return
        yield node


def config_text(kconf: kconfiglib.Kconfig, title: str) -> str:
    """The full ``.config`` as ``conf`` writes it, with ``title`` in the heading."""
    chunks = [f"#\n# Automatically generated file; DO NOT EDIT.\n# {title}\n#\n"]
    add = chunks.append
    seen: set[Symbol] = set()
    for node in _walk(kconf):
        item = node.item
        if item.__class__ is Symbol:
            if item in seen:
                continue
            seen.add(item)
            line = item.config_string
            if line:
                add(line)
        elif expr_value(node.dep) and ((item is MENU and expr_value(node.visibility)) or item is COMMENT):
            add(f"\n#\n# {node.prompt[0]}\n#\n")
    return "".join(chunks)


def min_config_text(kconf: kconfiglib.Kconfig) -> str:
    """The minimal configuration (``savedefconfig``), without a heading."""
    chunks = []
    seen: set[Symbol] = set()
    for node in _walk(kconf):
        sym = node.item
        if sym.__class__ is not Symbol or sym in seen:
            continue
        seen.add(sym)
        line = sym.config_string
        if not line:
            continue
        if not sym.choice and sym.visibility <= expr_value(sym.rev_dep):
            continue  # cannot be changed
        if sym.str_value == sym._str_default():
            continue
        choice = sym.choice
        if (
            choice is not None
            and not choice.is_optional
            and choice._selection_from_defaults() is sym
            and sym.orig_type is BOOL
            and sym.tri_value == 2
        ):
            continue
        chunks.append(line)
    return "".join(chunks)


def config_values(text: str, prefix: str = "") -> dict[str, str]:
    """The assignments of a ``.config`` text: symbol → value as written (``n`` for "is not
    set"), in file order.  For comparing configurations."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# ") and line.endswith(" is not set"):
            name = line[2:-len(" is not set")]
            if name.startswith(prefix):
                values[name[len(prefix):]] = "n"
        elif line and not line.startswith("#") and "=" in line and line.startswith(prefix):
            name, _, value = line.partition("=")
            values[name[len(prefix):]] = value
    return values
