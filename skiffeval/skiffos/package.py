"""The contents of one package folder, read into a frozen record (``Package``).

What SkiffOS takes from a package folder (``scripts/build_configs.sh``, ``enumerate_configs.sh``):

* Fragment folders ``buildroot/``, ``kernel/``, ``uboot/``, ``busybox/``, and ``cflags/`` and
  ``users/``: every entry ``ls`` shows (names starting with ``.`` are skipped), in byte order
  (``ls -v | sort`` under ``LC_ALL=C``).  A sub-folder or an unreadable entry makes SkiffOS's
  ``cat`` fail (it aborts, or for ``cflags`` silently ignores the file); a name with a blank is
  split in two.  Both are errors here.
* Directory entries used as a whole when they are folders: ``root_overlay/``,
  ``buildroot_patches/``, ``kernel_patches/``, ``uboot_patches/``, ``buildroot_ext/`` (a
  BR2_EXTERNAL tree: ``external.desc``, ``Config.in`` and ``external.mk`` must all be files).
* ``hooks/pre.sh`` (run as Buildroot's post-build script) and ``hooks/post.sh`` (run as its
  post-image script) when they are files; nothing else in ``hooks/`` is run.
* ``metadata/``: ``dependencies``, ``description``, ``unlisted``, ``commands``, ``buildtarget``
  (see ``metadata.py``); commands exist only when ``extensions/`` is a folder.
* ``resources/`` and ``scripts/`` are not read by SkiffOS; hooks use them.

Paths in the record are relative to the package folder and sorted (fragment lists in byte order,
which is also the order SkiffOS applies them in).
"""

from __future__ import annotations

import os

import attrs

from skiffeval.diagnostics import did_you_mean
from skiffeval.skiffos import codes
from skiffeval.skiffos.codes import Diagnostics
from skiffeval.skiffos.discovery import Origin
from skiffeval.skiffos.metadata import (
    Command,
    Dependency,
    parse_commands,
    parse_dependencies,
    parse_external_desc,
    read_cat,
    valid_external_name,
)

__all__ = [
    "Package",
    "ExternalTree",
    "read_package",
    "read_text",
    "FRAGMENT_KINDS",
    "KNOWN_FOLDERS",
    "KNOWN_METADATA",
]

FRAGMENT_KINDS = ("buildroot", "kernel", "uboot", "busybox")
_LISTED = FRAGMENT_KINDS + ("cflags", "users")
_DIRECTORIES = ("root_overlay", "buildroot_patches", "kernel_patches", "uboot_patches", "resources", "scripts")
KNOWN_FOLDERS = frozenset(_LISTED + _DIRECTORIES + ("buildroot_ext", "hooks", "extensions", "metadata"))
KNOWN_METADATA = frozenset({"dependencies", "description", "unlisted", "commands", "buildtarget", "uniquegroup"})
_HOOKS = ("pre.sh", "post.sh")
_EXTERNAL_FILES = ("external.desc", "Config.in", "external.mk")
_UNSAFE_FILE_CHARS = frozenset(" \t\n\r\v\f%\\")


def read_text(path: str) -> str:
    """A file's text as SkiffOS's tools see its bytes (undecodable bytes kept as surrogates)."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "surrogateescape")


@attrs.frozen
class ExternalTree:
    """A package's ``buildroot_ext`` BR2_EXTERNAL tree: where it is and the name it declares."""

    path: str
    name: str
    description: str


@attrs.frozen
class Package:
    """One package folder as data.  ``path`` is the folder exactly as SkiffOS writes it into
    generated files; every other path is relative to it."""

    name: str
    path: str
    origin: Origin
    exists: bool = True
    description: str | None = None
    unlisted: bool = False
    dependencies: tuple[Dependency, ...] = ()
    build_target: str | None = None
    buildroot: tuple[str, ...] = ()
    kernel: tuple[str, ...] = ()
    uboot: tuple[str, ...] = ()
    busybox: tuple[str, ...] = ()
    cflags: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    root_overlay: str | None = None
    buildroot_patches: str | None = None
    kernel_patches: str | None = None
    uboot_patches: str | None = None
    buildroot_ext: ExternalTree | None = None
    pre_hook: str | None = None
    post_hook: str | None = None
    extensions: str | None = None
    commands: tuple[Command, ...] = ()
    resources: str | None = None
    scripts: str | None = None

    def fragments(self, kind: str) -> tuple[str, ...]:
        """The fragment files of ``kind`` (``buildroot``, ``kernel``, ``uboot``, ``busybox``)."""
        if kind not in FRAGMENT_KINDS:
            raise ValueError(f"unknown fragment kind {kind!r}")
        return getattr(self, kind)

    def file(self, relative: str) -> str:
        """The SkiffOS path of a file of this package (``<path>/<relative>``)."""
        return f"{self.path}/{relative}"


def _listing(folder: str) -> list[str]:
    """What ``ls`` shows of a folder (no dot files), in byte order."""
    return sorted((n for n in os.listdir(folder) if not n.startswith(".")), key=os.fsencode)


def _list_files(pkg_path: str, sub: str, diagnostics: Diagnostics) -> tuple[str, ...]:
    folder = os.path.join(pkg_path, sub)
    if not os.path.isdir(folder):
        return ()
    out: list[str] = []
    for name in _listing(folder):
        full = os.path.join(folder, name)
        bad = sorted({c for c in name if c in _UNSAFE_FILE_CHARS})
        if bad:
            diagnostics.error(
                codes.UNSAFE_PATH,
                f"file name '{sub}/{name}' contains {', '.join(repr(c) for c in bad)}, which "
                "SkiffOS's scripts split or rewrite",
                codes.file_span(full),
            )
            continue
        if not os.path.isfile(full) or not os.access(full, os.R_OK):
            what = "a folder" if os.path.isdir(full) else "not a readable file"
            diagnostics.error(
                codes.NOT_A_FILE,
                f"'{sub}/{name}' is {what}; SkiffOS reads every entry of '{sub}/' as a file",
                codes.file_span(full),
                help=("move it out of the folder, or give it a name starting with '.'",),
            )
            continue
        out.append(f"{sub}/{name}")
    return tuple(out)


def _folder(pkg_path: str, sub: str) -> str | None:
    return sub if os.path.isdir(os.path.join(pkg_path, sub)) else None


def _file_text(path: str) -> str | None:
    return read_text(path) if os.path.isfile(path) else None


def _read_external(pkg_path: str, diagnostics: Diagnostics) -> ExternalTree | None:
    folder = os.path.join(pkg_path, "buildroot_ext")
    if not os.path.isdir(folder):
        return None
    missing = [f for f in _EXTERNAL_FILES if not os.path.isfile(os.path.join(folder, f))]
    for f in missing:
        diagnostics.error(
            codes.BAD_EXTERNAL,
            f"external tree 'buildroot_ext' has no '{f}'",
            codes.file_span(folder),
            help=("a BR2_EXTERNAL tree needs external.desc, Config.in and external.mk",),
        )
    if "external.desc" in missing:
        return None
    desc_path = os.path.join(folder, "external.desc")
    name, desc = parse_external_desc(read_text(desc_path))
    if not valid_external_name(name):
        found = f"'{name}'" if name else "no 'name:' line"
        diagnostics.error(
            codes.BAD_EXTERNAL,
            f"external tree name: expected letters, digits and '_', found {found}",
            codes.file_span(desc_path),
        )
    return ExternalTree("buildroot_ext", name, desc or name)


def _read_hooks(pkg_path: str, diagnostics: Diagnostics) -> tuple[str | None, str | None]:
    folder = os.path.join(pkg_path, "hooks")
    if not os.path.isdir(folder):
        return None, None
    found: dict[str, str] = {}
    for hook in _HOOKS:
        full = os.path.join(folder, hook)
        if os.path.isfile(full):
            found[hook] = f"hooks/{hook}"
            if not os.access(full, os.X_OK):
                diagnostics.warning(
                    codes.HOOK_NOT_EXECUTABLE,
                    f"hook 'hooks/{hook}' is not executable; SkiffOS runs it directly, so the "
                    "build fails when Buildroot reaches it",
                    codes.file_span(full),
                    help=(f"chmod +x hooks/{hook}",),
                )
    for name in _listing(folder):
        if name in _HOOKS:
            continue
        close = did_you_mean(name, _HOOKS)
        if close:
            diagnostics.warning(
                codes.UNKNOWN_ENTRY,
                f"'hooks/{name}' is never run: SkiffOS runs only hooks/pre.sh and hooks/post.sh",
                codes.file_span(os.path.join(folder, name)),
                help=(f"did you mean 'hooks/{close[0]}'?",),
            )
    return found.get("pre.sh"), found.get("post.sh")


def _check_unknown(pkg_path: str, known_extra: frozenset[str], diagnostics: Diagnostics, metadata: bool) -> None:
    for name in _listing(pkg_path):
        full = os.path.join(pkg_path, name)
        if not os.path.isdir(full) or name in KNOWN_FOLDERS or name in known_extra:
            continue
        close = did_you_mean(name, KNOWN_FOLDERS)
        diagnostics.warning(
            codes.UNKNOWN_ENTRY,
            f"folder '{name}' is not read by SkiffOS",
            codes.file_span(full),
            help=(f"did you mean '{close[0]}'?",) if close else (),
        )
    meta = os.path.join(pkg_path, "metadata")
    if metadata and os.path.isdir(meta):
        for name in _listing(meta):
            if name in KNOWN_METADATA:
                continue
            close = did_you_mean(name, KNOWN_METADATA)
            diagnostics.warning(
                codes.UNKNOWN_ENTRY,
                f"'metadata/{name}' is not read by SkiffOS",
                codes.file_span(os.path.join(meta, name)),
                help=(f"did you mean 'metadata/{close[0]}'?",) if close else (),
            )


def _read_metadata(path: str, name: str, diagnostics: Diagnostics) -> dict[str, object]:
    meta = os.path.join(path, "metadata")
    found: dict[str, object] = {}
    deps_text = _file_text(os.path.join(meta, "dependencies"))
    if deps_text is not None:
        deps, problems = parse_dependencies(deps_text, f"{path}/metadata/dependencies", name)
        found["dependencies"] = deps
        diagnostics.extend(problems)
    description = _file_text(os.path.join(meta, "description"))
    if description is not None:
        found["description"] = read_cat(description)
    target = _file_text(os.path.join(meta, "buildtarget"))
    if target is not None:
        found["build_target"] = read_cat(target)
    found["unlisted"] = os.path.isfile(os.path.join(meta, "unlisted"))
    commands_text = _file_text(os.path.join(meta, "commands"))
    if commands_text is not None:
        if not os.path.isdir(os.path.join(path, "extensions")):
            diagnostics.warning(
                codes.COMMANDS_IGNORED,
                "metadata/commands is ignored: the package has no 'extensions' folder",
                codes.file_span(os.path.join(meta, "commands")),
            )
        else:
            commands, problems = parse_commands(commands_text, f"{path}/metadata/commands")
            found["commands"] = commands
            diagnostics.extend(problems)
    return found


def read_package(
    path: str,
    name: str,
    origin: Origin,
    diagnostics: Diagnostics,
    *,
    known_extra: frozenset[str] = frozenset(),
    metadata: bool = True,
) -> Package:
    """Read the package folder at ``path`` (the SkiffOS path string); problems go to
    ``diagnostics``.  A missing folder gives an empty package with ``exists`` false.
    ``known_extra`` names sub-folders that are expected besides the package ones (``overrides``
    holds ``workspaces/``).  With ``metadata`` false, ``metadata/`` is not read: SkiffOS reads it
    only for packages it resolves, never for ``configs-base/*`` or ``overrides``."""
    if not os.path.isdir(path):
        return Package(name, path, origin, exists=False)
    meta = _read_metadata(path, name, diagnostics) if metadata else {}
    pre_hook, post_hook = _read_hooks(path, diagnostics)
    _check_unknown(path, known_extra, diagnostics, metadata)
    lists = {sub: _list_files(path, sub, diagnostics) for sub in _LISTED}
    return Package(
        name=name,
        path=path,
        origin=origin,
        **meta,
        **lists,
        root_overlay=_folder(path, "root_overlay"),
        buildroot_patches=_folder(path, "buildroot_patches"),
        kernel_patches=_folder(path, "kernel_patches"),
        uboot_patches=_folder(path, "uboot_patches"),
        buildroot_ext=_read_external(path, diagnostics),
        pre_hook=pre_hook,
        post_hook=post_hook,
        extensions=_folder(path, "extensions"),
        resources=_folder(path, "resources"),
        scripts=_folder(path, "scripts"),
    )
