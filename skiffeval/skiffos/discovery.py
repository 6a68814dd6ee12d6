"""Discovery: which ``category/name`` package folders a SkiffOS tree and its extra paths define.

The model (``scripts/enumerate_configs.sh``):

* The configs paths are the entries of ``SKIFF_EXTRA_CONFIGS_PATH`` (colon-separated, in order)
  and then ``<root>/configs``.  In each, every folder exactly two levels deep is a package
  (``find . -mindepth 2 -maxdepth 2 -type d``: symbolic links are not followed at either level),
  unless its name has a character outside ``[A-Za-z0-9/_]`` (hidden folders such as ``.git/x``
  fall out this way).
* A package is recorded under its key (``names.package_key``) by the first definition:
  a ``SKIFF_CONFIG_PATH_<KEY>`` override, then the extra paths in order, then ``configs/``.
  Later definitions are *shadowed*.  Two folders of one configs path with the same key (``a/b_c``
  and ``a_b/c``) are taken in directory order by SkiffOS; skiffeval takes the first in byte order
  and warns.
* The folder is written as ``<entry>/<category>/<name>`` with every ``//`` collapsed once
  (``sed s#//#/#g``); that string is the package's path in every generated file.
* A relative entry is resolved by SkiffOS against ``configs/`` while dependencies are read, but
  the fragments are merged from a temporary directory, where the relative path points nowhere:
  the package keeps its dependencies and silently loses its content.  skiffeval rejects it.
  An empty entry (``a::b``, or a trailing colon) and a missing folder are ignored by SkiffOS with
  a message; skiffeval warns.

Inputs are explicit (root, extra paths, overrides); nothing is read from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import attrs

from skiffeval.diagnostics import Diagnostic, Source, Span
from skiffeval.skiffos import codes
from skiffeval.skiffos.codes import Diagnostics
from skiffeval.skiffos.names import ENV_PREFIX, is_package_folder_name, normalize_override_key, package_key

__all__ = [
    "Origin",
    "PackageRef",
    "IgnoredFolder",
    "Discovery",
    "discover",
    "normalize_root",
    "check_safe_path",
    "UNSAFE_PATH_CHARS",
]

# Characters that SkiffOS's scripts split on (unquoted arrays), glob, or rewrite (the ``sed``
# substitutions use ``#`` and ``@`` as delimiters and ``&``/``\`` in replacements; ``printf``
# formats take ``%`` and ``\``; the hook wrapper quotes paths in ``"…"``; BR2_EXTERNAL joins with
# ``:``).  A path with one of them cannot give the same result as SkiffOS, so it is an error.
UNSAFE_PATH_CHARS = frozenset(" \t\n\r\v\f#@&\\%\"$`:*?[")


@attrs.frozen
class Origin:
    """Where a package's definition came from: ``override`` (``base`` is the variable name),
    ``extra`` (``base`` is the entry, ``index`` its position), ``configs`` or ``base`` (the
    fixed folders of the chain: ``configs-base/pre``, ``overrides``, …)."""

    kind: str
    base: str
    index: int = 0


@attrs.frozen
class PackageRef:
    """A discovered package: its name, key, folder (as SkiffOS writes it) and origin."""

    name: str
    key: str
    path: str
    origin: Origin


@attrs.frozen
class IgnoredFolder:
    """A two-levels-deep folder that SkiffOS does not take as a package, and why."""

    name: str
    path: str
    reason: str


@attrs.frozen
class Discovery:
    """Every package a tree defines (winners, sorted by key), what they shadow and what was
    ignored, with the warnings found on the way."""

    root: str
    configs_paths: tuple[str, ...]
    packages: tuple[PackageRef, ...]
    shadowed: tuple[PackageRef, ...] = ()
    ignored: tuple[IgnoredFolder, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    _index: dict[str, PackageRef] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {p.key: p for p in self.packages})

    def find(self, key: str) -> PackageRef | None:
        """The package recorded under ``key`` (see ``names.package_key``), if any."""
        return self._index.get(key)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(p.name for p in self.packages))


def normalize_root(root: str | os.PathLike[str]) -> str:
    """The root as SkiffOS's ``$(pwd)`` writes it: absolute, no trailing slash, links kept."""
    text = os.fspath(root)
    if len(text) > 1:
        text = text.rstrip("/") or "/"
    return text


def check_safe_path(path: str, what: str, span: Span | None, diagnostics: Diagnostics) -> bool:
    """Report a path SkiffOS's scripts would split or rewrite; True when it is safe."""
    bad = sorted({c for c in path if c in UNSAFE_PATH_CHARS})
    if not bad:
        return True
    shown = ", ".join(repr(c) for c in bad)
    diagnostics.error(
        codes.UNSAFE_PATH,
        f"{what} '{path}' contains {shown}, which SkiffOS's shell scripts split or rewrite",
        span,
        help=("move the tree to a path of letters, digits and '/._-'",),
    )
    return False


def _scan(base: str) -> list[tuple[str, str, bool]]:
    """``(name, folder, is_link)`` of the folders two levels below ``base``, byte-ordered."""
    found: list[tuple[str, str, bool]] = []
    try:
        categories = sorted(os.scandir(base), key=lambda e: os.fsencode(e.name))
    except OSError:
        return found
    for cat in categories:
        if not cat.is_dir(follow_symlinks=True):
            continue
        if cat.is_symlink():
            found.append((cat.name + "/*", cat.path, True))
            continue
        try:
            children = sorted(os.scandir(cat.path), key=lambda e: os.fsencode(e.name))
        except OSError:
            continue
        for pkg in children:
            if pkg.is_dir(follow_symlinks=True):
                found.append((f"{cat.name}/{pkg.name}", pkg.path, pkg.is_symlink()))
    return found


def _list_base(
    base: str, origin: Origin, diagnostics: Diagnostics, ignored: list[IgnoredFolder]
) -> list[PackageRef]:
    refs: list[PackageRef] = []
    by_key: dict[str, PackageRef] = {}
    for name, folder, is_link in _scan(base):
        hidden = any(part.startswith(".") for part in name.split("/"))
        if is_link:
            if not hidden:
                ignored.append(IgnoredFolder(name, folder, "symbolic link"))
                diagnostics.warning(
                    codes.IGNORED_FOLDER,
                    f"'{name}' is a symbolic link, which SkiffOS's package search does not follow",
                    codes.file_span(folder),
                    help=("make it a real folder, or add its parent to the extra configs paths",),
                )
            continue
        if not is_package_folder_name(name):
            ignored.append(IgnoredFolder(name, folder, "invalid characters"))
            if not hidden:
                diagnostics.warning(
                    codes.IGNORED_FOLDER,
                    f"'{name}' is not a package: SkiffOS ignores folder names with characters "
                    "outside letters, digits, '_' and '/'",
                    codes.file_span(folder),
                )
            continue
        key = package_key(name)
        path = f"{base}/{name}".replace("//", "/")
        ref = PackageRef(name, key, path, origin)
        if key in by_key:
            first = by_key[key]
            diagnostics.warning(
                codes.KEY_COLLISION,
                f"'{name}' and '{first.name}' share the key '{key}'; SkiffOS picks one of them in "
                f"directory order, skiffeval picks '{first.name}'",
                codes.file_span(path),
                help=("rename one of the folders",),
            )
            continue
        by_key[key] = ref
        refs.append(ref)
    return refs


def _entry_spans(entries: Sequence[str]) -> tuple[Source, list[Span]]:
    text = ":".join(entries)
    source = Source("SKIFF_EXTRA_CONFIGS_PATH", text)
    spans = []
    offset = 0
    for e in entries:
        end = offset + max(len(e), 1) - 1
        spans.append(Span(source.name, 1, offset + 1, 1, end + 1, source))
        offset += len(e) + 1
    return source, spans


def discover(
    root: str | os.PathLike[str],
    extra_paths: str | Sequence[str] = (),
    overrides: Mapping[str, str] | None = None,
) -> Discovery:
    """Find every package of the SkiffOS tree at ``root`` (absolute) plus ``extra_paths``
    (``SKIFF_EXTRA_CONFIGS_PATH``, a colon-separated string or a list) and ``overrides``
    (``SKIFF_CONFIG_PATH_<KEY>`` values, keyed by variable name, key or package name).

    Raises ``SkiffosError`` on errors; the result carries the warnings."""
    diagnostics = Diagnostics()
    root_text = normalize_root(root)
    root_span = codes.file_span(root_text)
    if not os.path.isabs(root_text):
        diagnostics.error(codes.RELATIVE_PATH, f"the SkiffOS root '{root_text}' is not absolute", root_span)
        diagnostics.check()
    if not os.path.isdir(os.path.join(root_text, "configs")):
        diagnostics.error(
            codes.MISSING_ROOT,
            f"'{root_text}' is not a SkiffOS checkout: it has no 'configs' folder",
            root_span,
        )
        diagnostics.check()
    check_safe_path(root_text, "the SkiffOS root", root_span, diagnostics)

    entries = extra_paths.split(":") if isinstance(extra_paths, str) else list(extra_paths)
    if isinstance(extra_paths, str) and extra_paths == "":
        entries = []
    _, spans = _entry_spans(entries)
    ignored: list[IgnoredFolder] = []
    winners: dict[str, PackageRef] = {}
    shadowed: list[PackageRef] = []

    def offer(ref: PackageRef) -> None:
        if ref.key in winners:
            shadowed.append(ref)
        else:
            winners[ref.key] = ref

    # Overrides come first: SkiffOS never replaces a variable that is already set.
    override_items = sorted((overrides or {}).items())
    for raw_key, value in override_items:
        key = normalize_override_key(raw_key)
        var = ENV_PREFIX + key
        if not value:
            continue
        span = Span(var, 1, 1, 1, max(len(value), 1), Source(var, value))
        if not os.path.isabs(value):
            diagnostics.error(
                codes.RELATIVE_PATH,
                f"'{var}' is a relative path '{value}'",
                span,
                help=("SkiffOS reads its dependencies relative to configs/ but loses its content; use an absolute path",),
            )
            continue
        check_safe_path(value, f"'{var}'", span, diagnostics)
        name = raw_key if "/" in raw_key else key
        offer(PackageRef(name, key, value, Origin("override", var)))

    bases: list[tuple[str, Origin]] = []
    for index, (entry, span) in enumerate(zip(entries, spans)):
        if entry == "":
            diagnostics.warning(
                codes.MISSING_CONFIGS_PATH,
                "empty entry in the extra configs paths; SkiffOS ignores it",
                span,
                help=("remove the doubled, leading or trailing ':'",),
            )
            continue
        if not os.path.isabs(entry):
            diagnostics.error(
                codes.RELATIVE_PATH,
                f"extra configs path '{entry}' is relative",
                span,
                help=(
                    "SkiffOS resolves it against configs/ while reading dependencies, then merges "
                    "from a temporary folder where it points nowhere: the packages lose their "
                    "content; use an absolute path",
                ),
            )
            continue
        if not os.path.isdir(entry):
            diagnostics.warning(
                codes.MISSING_CONFIGS_PATH,
                f"extra configs path '{entry}' is not a folder; SkiffOS ignores it",
                span,
            )
            continue
        check_safe_path(entry, "extra configs path", span, diagnostics)
        bases.append((entry, Origin("extra", entry, index)))
    configs = f"{root_text}/configs"
    bases.append((configs, Origin("configs", configs)))

    for base, origin in bases:
        for ref in _list_base(base, origin, diagnostics, ignored):
            offer(ref)

    # An override given as a key takes the name of the folder it replaces, if there is one.
    named: dict[str, str] = {}
    for ref in shadowed:
        named.setdefault(ref.key, ref.name)
    packages = []
    for ref in winners.values():
        if ref.origin.kind == "override" and "/" not in ref.name and ref.key in named:
            ref = attrs.evolve(ref, name=named[ref.key])
        packages.append(ref)
    diagnostics.check()
    return Discovery(
        root=root_text,
        configs_paths=tuple(b for b, _ in bases),
        packages=tuple(sorted(packages, key=lambda p: p.key)),
        shadowed=tuple(shadowed),
        ignored=tuple(ignored),
        warnings=diagnostics.warnings,
    )
