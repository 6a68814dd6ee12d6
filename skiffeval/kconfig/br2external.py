"""BR2_EXTERNAL trees: reading ``external.desc`` and generating ``.br2-external.in.*``.

The model
---------
Buildroot's ``support/scripts/br2-external`` validates each external tree and writes Kconfig
snippets that the main ``Config.in`` sources from ``$BR2_BASE_DIR``.  This module does the same
in Python, byte for byte:

* ``read_external(path)`` validates a tree as ``do_validate_one`` does — a directory with
  ``external.desc`` whose ``name:`` is non-empty and only ``[A-Za-z0-9_]``, plus
  ``external.mk`` and ``Config.in`` — and reads ``name:`` and ``desc:`` (``sed -r
  '/^name: +(.*)$/!d; s//\\1/'``: every matching line, joined by newlines; the description
  defaults to the name).  The path is made absolute without resolving symlinks (``cd; pwd``).
* ``check_unique`` rejects two trees with the same name, naming the first one.
* ``br2_external_files(externals)`` returns the text of ``.br2-external.in.paths``,
  ``.menus``, ``.toolchains``, ``.jpeg``, ``.openssl``, ``.skeleton``, ``.init`` and
  ``.linux`` exactly as ``do_kconfig`` writes them (the ``provides/*.in`` and
  ``linux/Config.ext.in`` hooks are looked up on disk).

The version of a tree (``BR2_EXTERNAL_<NAME>_VERSION``) is what ``setlocalversion`` prints for
it: a ``git describe`` when the tree is inside a git work tree, else nothing.  It is an input
here (``version=``), empty by default, which is what a tree outside any repository (e.g. in the
store) gets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import attrs

from skiffeval.diagnostics import Note, SkiffError, Span
from skiffeval.kconfig import codes

__all__ = ["ExternalTree", "read_external", "check_unique", "br2_external_files", "external_env", "ITEMS"]

ITEMS = ("paths", "menus", "toolchains", "jpeg", "openssl", "skeleton", "init", "linux")
_HEADER = "#\n# Automatically generated file; DO NOT EDIT.\n#\n\n"
_NAME_CHARS = re.compile(r"[A-Za-z0-9_]")


@attrs.frozen
class ExternalTree:
    """A validated BR2_EXTERNAL tree: absolute ``path``, ``name``, ``desc`` and ``version``."""

    path: str
    name: str
    desc: str
    version: str = ""


def _desc_field(text: str, field: str) -> str:
    pattern = re.compile(rf"^{field}: +(.*)$")
    values = [m.group(1) for line in text.split("\n") if (m := pattern.match(line))]
    return "\n".join(values)


def read_external(path: str, *, version: str = "") -> ExternalTree:
    """Validate and read the external tree at ``path`` (see the module docstring).

    Raises ``SkiffError``: E232 for a missing directory or file, E233 for a bad name.
    """
    if not os.path.isdir(path):
        raise SkiffError(codes.EXTERNAL_TREE, f"external tree '{path}' is not a directory")
    desc_file = os.path.join(path, "external.desc")
    if not os.path.isfile(desc_file):
        raise SkiffError(
            codes.EXTERNAL_TREE,
            f"external tree '{path}' has no 'external.desc'",
            help=["an external tree needs 'external.desc' with a 'name:' line, 'Config.in' and 'external.mk'"],
        )
    with open(desc_file, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    name = _desc_field(text, "name")
    where = Span.point(desc_file, 1)
    if not name:
        raise SkiffError(
            codes.EXTERNAL_NAME,
            f"'{desc_file}' does not define the name",
            where,
            help=["add a line 'name: NAME' (letters, digits and '_')"],
        )
    bad = _NAME_CHARS.sub("", name)
    if bad:
        line = next((i for i, l in enumerate(text.split("\n"), 1) if l.startswith("name:")), 1)
        raise SkiffError(
            codes.EXTERNAL_NAME,
            f"expected a name of letters, digits and '_' in '{desc_file}', found '{name}' "
            f"(invalid: '{bad}')",
            Span.point(desc_file, line),
        )
    for required in ("external.mk", "Config.in"):
        if not os.path.isfile(os.path.join(path, required)):
            raise SkiffError(codes.EXTERNAL_TREE, f"external tree '{path}' has no '{required}'")
    desc = _desc_field(text, "desc") or name
    return ExternalTree(os.path.abspath(path), name, desc, version)


def check_unique(externals: Sequence[ExternalTree]) -> None:
    """Raise ``SkiffError`` (E234) if two trees share a name."""
    seen: dict[str, ExternalTree] = {}
    for ext in externals:
        first = seen.get(ext.name)
        if first is not None:
            raise SkiffError(
                codes.EXTERNAL_DUPLICATE,
                f"external tree '{ext.path}' is named '{ext.name}', already the name of '{first.path}'",
                Span.point(os.path.join(ext.path, "external.desc"), 1),
                related=[Note("the first tree of that name", Span.point(os.path.join(first.path, "external.desc"), 1))],
            )
        seen[ext.name] = ext


def _provided(ext: ExternalTree, relpath: str, what: str, label: str) -> str:
    if os.path.isfile(os.path.join(ext.path, relpath)):
        return f'comment "{label}: {ext.desc}"\nsource "{ext.path}/{relpath}"\n\n'
    return f"# No {what} from: {ext.desc}\n\n"


def br2_external_files(externals: Sequence[ExternalTree]) -> dict[str, str]:
    """The ``.br2-external.in.<item>`` files (name → text) for ``externals``, in order."""
    files = {f".br2-external.in.{item}": _HEADER for item in ITEMS}
    if not externals:
        return {name: text + "# No br2-external tree defined.\n" for name, text in files.items()}

    def add(item: str, text: str) -> None:
        files[f".br2-external.in.{item}"] += text

    add("menus", 'menu "External options"\n\n')
    names = " ".join(e.name for e in externals)
    add("paths", f'config BR2_EXTERNAL_NAMES\n\tstring\n\tdefault "{names}"\n\n')
    several = len(externals) > 1
    for ext in externals:
        add(
            "paths",
            f'config BR2_EXTERNAL_{ext.name}_PATH\n\tstring\n\tdefault "{ext.path}"\n'
            f'config BR2_EXTERNAL_{ext.name}_VERSION\n\tstring\n\tdefault "{ext.version}"\n\n',
        )
        menu = f'menu "{ext.desc}"\n' if several else ""
        menu += f'comment "{ext.desc} (in {ext.path})"\nsource "{ext.path}/Config.in"\n'
        menu += f"endmenu # {ext.name}\n" if several else ""
        add("menus", menu + "\n")
        add("toolchains", _provided(ext, "provides/toolchains.in", "toolchain", "Toolchains from"))
        add("jpeg", _provided(ext, "provides/jpeg.in", "jpeg", "jpeg from"))
        add("openssl", _provided(ext, "provides/openssl.in", "openssl", "openssl from"))
        add("skeleton", _provided(ext, "provides/skeleton.in", "skeleton", "skeleton from"))
        add("init", _provided(ext, "provides/init.in", "init", "init from"))
        add("linux", _provided(ext, "linux/Config.ext.in", "linux extension", "linux extension from"))
    add("menus", "endmenu\n")
    return files


def external_env(externals: Sequence[ExternalTree]) -> dict[str, str]:
    """The variables Buildroot's Makefile exports for the trees (from ``.br2-external.mk``)."""
    env = {"BR2_EXTERNAL_NAMES": " ".join(e.name for e in externals)}
    for ext in externals:
        env[f"BR2_EXTERNAL_{ext.name}_PATH"] = ext.path
        env[f"BR2_EXTERNAL_{ext.name}_DESC"] = ext.desc
        env[f"BR2_EXTERNAL_{ext.name}_VERSION"] = ext.version
    return env
