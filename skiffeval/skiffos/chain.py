"""The chain: every folder SkiffOS merges, in order, each read into a ``Package``.

The model (``scripts/build_configs.sh``)::

    <root>/configs-base/pre
    the resolved packages, in resolution order
    <root>/overrides
    <root>/overrides/workspaces/<workspace>/     (SkiffOS writes the trailing slash)
    <root>/configs-base/post                     (last: nothing overrides it)

Every folder of the chain is read the same way (``package.py``).  The workspace name is
normalized as ``scripts/check_workspace.sh`` does: characters outside letters, digits, ``.``,
``_``, ``-`` (and, by a quirk of ``tr``, ``[`` and ``]``) are deleted, the rest lower-cased, and
an empty result becomes ``default``.

``load`` runs discovery, resolution and the chain in one call, for the session.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping, Sequence

import attrs

from skiffeval.diagnostics import Diagnostic, Note, Source, Span
from skiffeval.skiffos import codes
from skiffeval.skiffos.codes import Diagnostics
from skiffeval.skiffos.discovery import Discovery, Origin, check_safe_path, discover
from skiffeval.skiffos.package import Package, read_package
from skiffeval.skiffos.resolve import Resolution, Selected, read_meta, resolve

__all__ = ["Role", "ChainEntry", "Chain", "build_chain", "normalize_workspace", "load"]

_WORKSPACE_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-[]")


class Role(enum.Enum):
    """The place of a folder in the chain."""

    PRE = "pre"
    PACKAGE = "package"
    OVERRIDES = "overrides"
    WORKSPACE = "workspace"
    POST = "post"


@attrs.frozen
class ChainEntry:
    """One folder of the chain: its role, a display name, the path SkiffOS writes for it (the
    ``$confp`` of its scripts), its contents, and for packages how resolution selected it."""

    role: Role
    name: str
    path: str
    package: Package
    selected: Selected | None = None


@attrs.frozen
class Chain:
    """The full chain of a SkiffOS configuration, with every warning found reading it."""

    root: str
    workspace: str
    resolution: Resolution
    entries: tuple[ChainEntry, ...]
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def packages(self) -> tuple[ChainEntry, ...]:
        """The entries selected by ``SKIFF_CONFIG`` (without pre, overrides and post)."""
        return tuple(e for e in self.entries if e.role is Role.PACKAGE)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(e.path for e in self.entries)

    @property
    def external_trees(self) -> tuple[str, ...]:
        """The BR2_EXTERNAL trees in chain order (SkiffOS joins them with ``:``)."""
        return tuple(e.package.file(e.package.buildroot_ext.path) for e in self.entries if e.package.buildroot_ext)


def normalize_workspace(name: str) -> str:
    """The workspace name SkiffOS uses for ``name`` (``scripts/check_workspace.sh``)."""
    kept = "".join(c for c in name if c in _WORKSPACE_KEEP).lower()
    return kept or "default"


def build_chain(discovery: Discovery, resolution: Resolution, workspace: str = "default") -> Chain:
    """Read every folder of the chain for a resolved configuration.

    Raises ``SkiffosError`` on errors; the result carries the warnings of this step and of the
    resolution."""
    diagnostics = Diagnostics()
    root = discovery.root
    ws = normalize_workspace(workspace)
    source = Source("SKIFF_WORKSPACE", workspace)
    ws_span = Span(source.name, 1, 1, 1, max(len(workspace), 1), source)
    if ws != workspace:
        diagnostics.warning(
            codes.WORKSPACE_RENAMED,
            f"workspace '{workspace}' is used as '{ws}'",
            ws_span,
            help=("SkiffOS keeps only letters, digits, '.', '_' and '-', in lower case",),
        )
    check_safe_path(ws, "the workspace name", ws_span, diagnostics)

    def base(role: Role, name: str, path: str, known: frozenset[str] = frozenset()) -> ChainEntry:
        pkg = read_package(path, name, Origin("base", path), diagnostics, known_extra=known, metadata=False)
        return ChainEntry(role, name, path, pkg)

    entries = [base(Role.PRE, "configs-base/pre", f"{root}/configs-base/pre")]
    for sel in resolution.selected:
        ref = sel.package
        pkg = read_package(ref.path, ref.name, ref.origin, diagnostics)
        entries.append(ChainEntry(Role.PACKAGE, ref.name, ref.path, pkg, sel))
    entries.append(base(Role.OVERRIDES, "overrides", f"{root}/overrides", frozenset({"workspaces"})))
    entries.append(base(Role.WORKSPACE, f"overrides/workspaces/{ws}", f"{root}/overrides/workspaces/{ws}/"))
    entries.append(base(Role.POST, "configs-base/post", f"{root}/configs-base/post"))
    _check_externals(entries, diagnostics)
    diagnostics.check()
    return Chain(root, ws, resolution, tuple(entries), resolution.warnings + diagnostics.warnings)


def _check_externals(entries: list[ChainEntry], diagnostics: Diagnostics) -> None:
    seen: dict[str, ChainEntry] = {}
    for entry in entries:
        ext = entry.package.buildroot_ext
        if ext is None or not ext.name:
            continue
        desc = codes.file_span(f"{entry.path}/buildroot_ext/external.desc".replace("//", "/"))
        if ext.name in seen:
            first = seen[ext.name]
            diagnostics.error(
                codes.DUPLICATE_EXTERNAL,
                f"external tree name '{ext.name}' of '{entry.name}' is already used by '{first.name}'",
                desc,
                help=("Buildroot refuses two BR2_EXTERNAL trees with one name",),
                related=(Note(f"'{first.name}' declares it", codes.file_span(f"{first.path}/buildroot_ext/external.desc")),),
            )
            continue
        seen[ext.name] = entry


def load(
    root: str | os.PathLike[str],
    config: str,
    *,
    extra_paths: str | Sequence[str] = (),
    overrides: Mapping[str, str] | None = None,
    workspace: str = "default",
) -> Chain:
    """Discover, resolve and read the chain of ``config`` in one step (what ``make configure``
    computes before merging).  Raises ``SkiffosError``; the chain carries all warnings."""
    discovery = discover(root, extra_paths, overrides)
    resolution = resolve(config, discovery, load=read_meta)
    chain = build_chain(discovery, resolution, workspace)
    return attrs.evolve(chain, warnings=discovery.warnings + chain.warnings)

