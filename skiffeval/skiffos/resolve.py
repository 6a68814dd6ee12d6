"""Resolution of ``SKIFF_CONFIG`` into the ordered list of packages, exactly as SkiffOS does it.

The model (``scripts/enumerate_configs.sh``), which is *not* a topological sort:

    L = split(SKIFF_CONFIG)
    repeat
        final = []
        for conf in L:
            skip conf unless it starts with 1-100 letters/digits and '/'
            skip conf if it is already in final (exact string)
            for dep in dependencies(conf):
                if dep not in L: append dep to final     # lands just before conf
            append conf to final
        L = final
    until a pass appended no dependency

So a dependency the user did not list is inserted just before the first package that needs it,
while a dependency the user listed stays where the user put it, even after its dependent (and
then overrides it).  Names are looked up by key (``PI/4`` finds ``pi/4``) but compared as written
(``PI/4,pi/4`` keeps both, and the folder is merged twice).  Cycles terminate: a name already in
``L`` is not added again.  The first package, in pass order, that has ``metadata/buildtarget``
sets the build target.

SkiffOS drops what it cannot use (invalid names, malformed dependency files, missing override
folders) and exits on an unknown name; skiffeval reports each as an error (all of them, at the end
of resolution) and warns where the order is surprising (a dependency after its dependent, a
cycle, a name that matches only case- or key-wise).  An unknown or broken entry stays in the list
while the passes run, so a package that needs it does not re-add it forever (SkiffOS, which drops
it, loops forever in that case).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import attrs

from skiffeval.diagnostics import (
    Diagnostic,
    InternalError,
    Note,
    Severity,
    Source,
    Span,
    did_you_mean_help,
)
from skiffeval.skiffos import codes
from skiffeval.skiffos.codes import Diagnostics
from skiffeval.skiffos.discovery import Discovery, PackageRef
from skiffeval.skiffos.metadata import Dependency, parse_dependencies, read_cat
from skiffeval.skiffos.names import has_valid_key, is_selectable, package_key, split_config
from skiffeval.skiffos.package import read_text

__all__ = ["PackageMeta", "Selected", "Resolution", "resolve", "read_meta", "CONFIG_SOURCE_NAME"]

CONFIG_SOURCE_NAME = "SKIFF_CONFIG"


@attrs.frozen
class PackageMeta:
    """What resolution needs from a package folder: its dependencies, build target, problems."""

    dependencies: tuple[Dependency, ...] = ()
    build_target: str | None = None
    problems: tuple[Diagnostic, ...] = ()


def _missing_folder(ref: PackageRef) -> Diagnostic:
    var = ref.origin.base
    span = Span(var, 1, 1, 1, max(len(ref.path), 1), Source(var, ref.path))
    return Diagnostic(
        Severity.ERROR,
        codes.OVERRIDE_MISSING,
        f"package '{ref.name}' has no folder: '{ref.path}' does not exist",
        span,
        (f"SkiffOS silently drops '{ref.name}' from the chain",),
    )


def read_meta(ref: PackageRef) -> PackageMeta:
    """Read ``metadata/dependencies`` and ``metadata/buildtarget`` of a package folder."""
    if not os.path.isdir(ref.path):
        return PackageMeta(problems=(_missing_folder(ref),))
    meta = os.path.join(ref.path, "metadata")
    deps: tuple[Dependency, ...] = ()
    problems: tuple[Diagnostic, ...] = ()
    deps_path = os.path.join(meta, "dependencies")
    if os.path.isfile(deps_path):
        deps, problems = parse_dependencies(read_text(deps_path), f"{ref.path}/metadata/dependencies", ref.name)
    target_path = os.path.join(meta, "buildtarget")
    target = read_cat(read_text(target_path)) if os.path.isfile(target_path) else None
    return PackageMeta(deps, target, problems)


@attrs.frozen
class Selected:
    """One package of the resolved list: the name as written, the package it selects, where it
    was written (in ``SKIFF_CONFIG`` or in a ``metadata/dependencies`` file), and the package
    whose dependency inserted it (None when the user listed it)."""

    name: str
    package: PackageRef
    span: Span
    required_by: str | None = None


@attrs.frozen
class Resolution:
    """The resolved packages in SkiffOS's order, with the warnings resolution found."""

    config: str
    selected: tuple[Selected, ...]
    passes: int
    build_target: str | None = None
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.selected)

    @property
    def skiff_config(self) -> str:
        """The comma-joined list SkiffOS exports as ``SKIFF_CONFIG`` (and saves in ``skiff_config``)."""
        return ",".join(self.names)


@attrs.frozen
class _Item:
    name: str
    span: Span
    required_by: str | None
    requirer_span: Span | None = None


def _token_span(source: Source, start: int, end: int) -> Span:
    return Span(source.name, 1, start + 1, 1, end, source)


def _check_user_name(name: str, span: Span, discovery: Discovery, diagnostics: Diagnostics) -> bool:
    if not is_selectable(name):
        if "/" not in name:
            message = f"invalid package name '{name}': expected 'category/name'"
        else:
            message = (
                f"invalid package name '{name}': the category must be 1 to 100 letters or digits"
            )
        diagnostics.error(
            codes.INVALID_NAME,
            message,
            span,
            help=("SkiffOS silently ignores this entry",),
        )
        return False
    if not has_valid_key(name):
        help = ["SkiffOS's shell aborts on this name"]
        for folder in discovery_ignored(discovery, name):
            help.append(f"the folder '{folder}' exists, but SkiffOS ignores folders with such names")
        diagnostics.error(
            codes.INVALID_NAME,
            f"invalid package name '{name}': a name may only contain letters, digits, '_' and '/'",
            span,
            help=help,
        )
        return False
    return True


def discovery_ignored(discovery: Discovery, name: str) -> list[str]:
    """Folders with exactly this name that discovery ignored."""
    return [f.path for f in discovery.ignored if f.name == name]


def _reaches(start: str, goal: str, deps_of: Callable[[str], tuple[str, ...]]) -> bool:
    seen = {start}
    stack = [start]
    while stack:
        cur = stack.pop()
        if cur == goal:
            return True
        for d in deps_of(cur):
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return False


def resolve(
    config: str,
    discovery: Discovery,
    *,
    load: Callable[[PackageRef], PackageMeta] = read_meta,
) -> Resolution:
    """Resolve a ``SKIFF_CONFIG`` string against discovered packages, as SkiffOS does.

    ``load`` reads a package's metadata (injected so tests can resolve in-memory graphs).
    Raises ``SkiffosError`` with every error found; the result carries the warnings."""
    diagnostics = Diagnostics()
    source = Source(CONFIG_SOURCE_NAME, config)
    items: list[_Item] = []
    tokens = split_config(config)
    if not tokens:
        diagnostics.error(
            codes.EMPTY_CONFIG,
            "SKIFF_CONFIG selects no package",
            Span(source.name, 1, 1, 1, 1, source),
            help=("set it to one or more 'category/name', for example 'pi/4,skiff/core'",),
        )
    for tok in tokens:
        span = _token_span(source, tok.start, tok.end)
        if _check_user_name(tok.text, span, discovery, diagnostics):
            items.append(_Item(tok.text, span, None))

    metas: dict[str, PackageMeta] = {}
    unknown: set[str] = set()

    def meta_of(ref: PackageRef) -> PackageMeta:
        if ref.key not in metas:
            meta = load(ref)
            metas[ref.key] = meta
            diagnostics.extend(meta.problems)
        return metas[ref.key]

    build_target: str | None = None
    passes = 0
    # Each pass that adds a dependency adds a name not seen before; names are bounded by the
    # user's entries plus every dependency entry of every package, so this always ends.
    limit = len(items) + len(discovery.packages) + 8
    while True:
        passes += 1
        if passes > limit + sum(len(m.dependencies) for m in metas.values()):
            raise InternalError("SKIFF_CONFIG resolution did not converge")
        listed = {it.name for it in items}
        final: list[_Item] = []
        in_final: set[str] = set()
        added = False
        for it in items:
            if it.name in in_final:
                continue
            ref = discovery.find(package_key(it.name))
            if ref is None:
                if it.name not in unknown:
                    unknown.add(it.name)
                    _report_unknown(it, discovery, diagnostics)
            else:
                meta = meta_of(ref)
                for dep in meta.dependencies:
                    if dep.name not in listed:
                        final.append(_Item(dep.name, dep.span, ref.name, it.span))
                        in_final.add(dep.name)
                        added = True
                if not build_target and meta.build_target is not None:
                    build_target = meta.build_target
            final.append(it)
            in_final.add(it.name)
        items = final
        if not added:
            break

    selected = []
    for it in items:
        ref = discovery.find(package_key(it.name))
        if ref is not None:
            selected.append(Selected(it.name, ref, it.span, it.required_by))
    _check_order(selected, metas, diagnostics)
    diagnostics.check()
    return Resolution(config, tuple(selected), passes, build_target or None, diagnostics.warnings)


def _report_unknown(it: _Item, discovery: Discovery, diagnostics: Diagnostics) -> None:
    help = did_you_mean_help(it.name, discovery.names)
    for folder in discovery_ignored(discovery, it.name):
        help.append(f"the folder '{folder}' exists, but SkiffOS does not take it as a package")
    related = ()
    if it.required_by is not None:
        related = (Note(f"required by '{it.required_by}'", it.requirer_span),)
    diagnostics.error(
        codes.UNKNOWN_PACKAGE,
        f"unknown package '{it.name}'",
        it.span,
        help=help,
        related=related,
    )


def _check_order(selected: list[Selected], metas: dict[str, PackageMeta], diagnostics: Diagnostics) -> None:
    first_at: dict[str, int] = {}
    by_key: dict[str, Selected] = {}
    by_path: dict[str, Selected] = {}
    for i, sel in enumerate(selected):
        first_at.setdefault(sel.name, i)
        if sel.name != sel.package.name:
            diagnostics.warning(
                codes.NON_CANONICAL_NAME,
                f"'{sel.name}' selects '{sel.package.name}' only because SkiffOS compares "
                "upper-cased names with '/' read as '_'",
                sel.span,
                help=(f"write '{sel.package.name}'",),
            )
        earlier = by_key.get(sel.package.key) or by_path.get(sel.package.path)
        if earlier is not None:
            diagnostics.error(
                codes.SAME_FOLDER_TWICE,
                f"'{sel.name}' selects the folder of '{earlier.name}' a second time",
                sel.span,
                help=(
                    "SkiffOS merges the folder twice (its fragments, overlay, patches and hooks "
                    "all repeat); list the package once",
                ),
                related=(Note(f"'{earlier.name}' selected here", earlier.span),),
            )
        by_key.setdefault(sel.package.key, sel)
        by_path.setdefault(sel.package.path, sel)

    def deps_of(name: str) -> tuple[str, ...]:
        meta = metas.get(package_key(name))
        return tuple(d.name for d in meta.dependencies) if meta else ()

    for i, sel in enumerate(selected):
        meta = metas.get(sel.package.key)
        if meta is None:
            continue
        for dep in meta.dependencies:
            j = first_at.get(dep.name)
            if j is None or j <= i:
                continue
            later = selected[j]
            if _reaches(dep.name, sel.name, deps_of):
                diagnostics.warning(
                    codes.DEPENDENCY_CYCLE,
                    f"'{sel.name}' and '{dep.name}' depend on each other; SkiffOS applies "
                    f"'{sel.name}' first",
                    dep.span,
                    related=(Note(f"'{dep.name}' selected here", later.span),),
                )
                continue
            diagnostics.warning(
                codes.DEPENDENCY_AFTER,
                f"'{dep.name}' is applied after '{sel.name}', which depends on it, so it "
                f"overrides '{sel.name}'",
                later.span,
                help=(_order_help(dep.name, sel.name, later),),
                related=(
                    Note(f"'{sel.name}' selected here", sel.span),
                    Note(f"'{sel.name}' depends on '{dep.name}' here", dep.span),
                ),
            )


def _order_help(dep: str, dependent: str, later: Selected) -> str:
    if later.required_by is None:
        return f"list '{dep}' before '{dependent}' in SKIFF_CONFIG, or leave it out to have it inserted before"
    return (
        f"'{dep}' was inserted for '{later.required_by}'; list it in SKIFF_CONFIG before "
        f"'{dependent}' to apply it first"
    )
