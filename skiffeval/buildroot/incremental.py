"""Incremental rebuilds that are correct: what to clean in a kept build directory before ``make``.

The model
---------
Buildroot rebuilds nothing when the configuration changes: each package step leaves a stamp
file and a stamped step never runs again.  The manual ("Understanding when a full rebuild is
necessary", ``docs/manual/rebuilding-packages.adoc``) leaves it to the user.  ``plan`` does it:
given the ``BuildState`` the directory was last built from and the new one, it returns a frozen
``Plan``: either one ``make clean`` (everything is rebuilt; ``.config`` is kept) or a set of
``make <pkg>-dirclean`` actions, each with the reasons that caused it, plus ``notes`` for
changes that need no action.  The rules (each documented in ``docs/buildroot.md``):

1. **Full clean** when there is no previous state; when a global fingerprint changed (the
   Buildroot source tree itself: its package recipes are not tracked per package); when a symbol
   of the architecture, the toolchain, the global build options or the root-filesystem skeleton
   changed (``FULL_REBUILD_RULES``); when a package was removed or changed version (Buildroot
   never deletes what a package installed, so the old files would stay in ``target/``).
2. **dirclean** a package when a symbol that belongs to it changed — ``BR2_PACKAGE_<PKG>`` and
   its sub-options ``BR2_PACKAGE_<PKG>_*`` (the *longest* package prefix wins:
   ``BR2_PACKAGE_PYTHON_REQUESTS_FOO`` is ``python-requests``, not ``python``), ``host-*`` by
   ``BR2_PACKAGE_HOST_*``, ``linux`` by ``BR2_LINUX_KERNEL*``, ``uboot`` and the other boot
   loaders (``boot/``) by ``BR2_TARGET_<PKG>*``, virtual packages by ``BR2_PACKAGE_HAS_``/``PROVIDES_<PKG>``,
   plus the few symbols a package reads under another name (``READ_BY``) — or when the package's
   fingerprint changed (its patches, the kernel/U-Boot/BusyBox fragments), or when its list of
   dependencies changed (an optional dependency was enabled: the manual's ``ctorrent``/``openssl``
   case).  Package names come from ``make show-info`` (old ∪ new); without it, from the
   ``BR2_PACKAGE_*=y`` symbols of the two configurations.
3. **Cascade**: every package that depends, directly or not, on a dircleaned package is
   dircleaned too (the manual: a package is not rebuilt when one of its ``_DEPENDENCIES`` is;
   what it compiled against may have changed).  Dependencies come from the new show-info.
4. **No action** for symbols Buildroot re-reads at every ``make`` (overlays, post-build and
   post-image scripts, users tables, filesystem images, hostname, download sites, job count:
   ``REAPPLIED_RULES``) and for symbols no package claims; they are listed in ``notes``.

``tracked_symbols`` of a state name the path-valued symbols whose *content* its fingerprints
cover (``BR2_GLOBAL_PATCH_DIR`` with per-package patch fingerprints, the fragment-file lists with
the ``linux``/``uboot``/``busybox`` fingerprints): their text is not compared, so a new store
path for one package's patches rebuilds that package only.

The plan depends only on its inputs: the same states give the same plan whatever the order of
lines in the configurations or of entries in the mappings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from skiffeval.buildroot import codes
from skiffeval.buildroot.showinfo import ShowInfo, package_symbol
from skiffeval.diagnostics import Diagnostic, Severity
from skiffeval.kconfig import parse_fragment

__all__ = [
    "BuildState",
    "Action",
    "Plan",
    "plan",
    "parse_config",
    "SymbolMap",
    "FULL_REBUILD_RULES",
    "REAPPLIED_RULES",
    "READ_BY",
    "DEFAULT_TRACKED_SYMBOLS",
]


def _rules(*pairs: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(rx), why) for rx, why in pairs)


_ARCH = "the target architecture changed; it is compiled into every package"
_TOOLCHAIN = "the toolchain changed (compiler, C library, kernel headers or their options); every package is built with it"
_BUILD = "a global build option changed; it is part of every package's compiler flags or build setup"
_SKELETON = "the root filesystem skeleton or init system changed; every package installs on top of it"
_HOST = "the host compiler or Buildroot itself changed"

# Symbols whose change needs a full rebuild (the manual: architecture and toolchain; and the
# "Build options" menu of Buildroot's top-level Config.in, which every package's flags include).
FULL_REBUILD_RULES = _rules(
    (r"BR2_[a-z]", _ARCH),  # arch variant symbols: BR2_x86_64, BR2_cortex_a53, BR2_aarch64 ...
    (r"BR2_(ARCH|NORMALIZED_ARCH|ENDIAN|READELF_ARCH_NAME|USE_MMU|SOFT_FLOAT|KERNEL_64_USERLAND_32)(_|$)", _ARCH),
    (r"BR2_(GCC_TARGET|BINFMT|ARM|ARM64|AARCH64|MIPS|RISCV|POWERPC|X86|LOONGARCH|XTENSA|ARC|SPARC|SH|M68K|OR1K|S390X)_", _ARCH),
    (r"BR2_(TOOLCHAIN|GCC|BINUTILS|KERNEL_HEADERS|UCLIBC|PTHREAD|PTHREADS)(_|$)", _TOOLCHAIN),
    (r"BR2_(EXTRA_GCC_CONFIG_OPTIONS|DEFAULT_KERNEL_HEADERS|DEFAULT_KERNEL_VERSION)$", _TOOLCHAIN),
    (r"BR2_PACKAGE_(GLIBC|UCLIBC|MUSL|GCC_FINAL|HOST_LINUX_HEADERS|HAS_TOOLCHAIN_EXTERNAL|PROVIDES_TOOLCHAIN_EXTERNAL)(_|$)", _TOOLCHAIN),
    (r"BR2_(ENABLE_LOCALE|USE_WCHAR|INSTALL_LIBSTDCPP|TARGET_OPTIMIZATION|TARGET_LDFLAGS)$", _TOOLCHAIN),
    (r"BR2_(ENABLE_DEBUG|DEBUG_[0-9]|ENABLE_RUNTIME_DEBUG|STRIP_\w+|OPTIMIZE_\w+|ENABLE_LTO)$", _BUILD),
    (r"BR2_(STATIC_LIBS|SHARED_LIBS|SHARED_STATIC_LIBS|PIC_PIE|TIME_BITS_64|REPRODUCIBLE)$", _BUILD),
    (r"BR2_(SSP|RELRO|FORTIFY_SOURCE)_\w+$", _BUILD),
    (r"BR2_(PER_PACKAGE_DIRECTORIES|PACKAGE_OVERRIDE_FILE|FORCE_HOST_BUILD|HOST_DIR|GLOBAL_PATCH_DIR)$", _BUILD),
    (r"BR2_GOOGLE_BREAKPAD_", _BUILD),
    (r"BR2_(HOSTARCH|HOST_GCC_VERSION|VERSION)$|BR2_HOST_GCC_AT_LEAST_", _HOST),
    (r"BR2_(ROOTFS_SKELETON|ROOTFS_MERGED_USR|INIT|ROOTFS_DEVICE_CREATION|PACKAGE_SKELETON)(_|$)", _SKELETON),
)

_REAPPLIED = "re-applied by every make (target finalization, filesystem images)"
_NO_EFFECT = "does not change what is built (downloads, caches, parallelism)"
# Symbols Buildroot's global steps read at every make, or that do not affect the output.
REAPPLIED_RULES = _rules(
    (r"BR2_ROOTFS_(OVERLAY|POST_\w+|USERS_TABLES|DEVICE_TABLE|STATIC_DEVICE_TABLE)$", _REAPPLIED),
    (r"BR2_TARGET_ROOTFS_", _REAPPLIED),
    (r"BR2_TARGET_GENERIC_|BR2_TARGET_ENABLE_ROOT_LOGIN$|BR2_SYSTEM_", _REAPPLIED),
    (r"BR2_(ENABLE_LOCALE_PURGE|ENABLE_LOCALE_WHITELIST|GENERATE_LOCALE)$", _REAPPLIED),
    (r"BR2_(DL_DIR|PRIMARY_SITE|PRIMARY_SITE_ONLY|BACKUP_SITE|JLEVEL|DEFCONFIG|DOWNLOAD_FORCE_CHECK_HASHES)$", _NO_EFFECT),
    (r"BR2_(\w+_MIRROR|CCACHE\w*|CURL|WGET|SVN|BZR|GIT|CVS|LOCALFILES|SCP|SFTP|HG|\w+CAT|TAR_OPTIONS)$", _NO_EFFECT),
    (r"BR2_(HAVE_DOT_CONFIG|BROKEN|HIDE_SECONDARY_TARGET_OPTIONS|BASE_DIR|DEFCONFIG_FROM_ENV)$", _NO_EFFECT),
)

# Symbols that packages read under another name (Buildroot 2026.02.3: system/system.mk's
# SYSTEM_GETTY_* and SYSTEM_REMOUNT_ROOT_INITTAB, and direct uses in these packages' .mk files).
READ_BY: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"BR2_TARGET_GENERIC_GETTY"), ("busybox", "openrc", "systemd", "sysvinit")),
    (re.compile(r"BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW$"), ("busybox", "systemd", "sysvinit")),
    (re.compile(r"BR2_TARGET_GENERIC_PASSWD_"), ("busybox",)),
    (re.compile(r"BR2_TARGET_GENERIC_HOSTNAME$"), ("systemd",)),
    (re.compile(r"BR2_SYSTEM_DHCP$"), ("ifupdown-scripts", "netifrc", "systemd")),
    (re.compile(r"BR2_TARGET_LOCALTIME$"), ("php", "tz", "tzdata")),
    (re.compile(r"BR2_TARGET_TZ_ZONELIST$"), ("tzdata",)),
)

# Path-valued symbols whose content a caller usually covers with fingerprints.
DEFAULT_TRACKED_SYMBOLS = frozenset({
    "BR2_GLOBAL_PATCH_DIR",
    "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
    "BR2_LINUX_KERNEL_PATCH",
    "BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE",
    "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES",
    "BR2_TARGET_UBOOT_PATCH",
    "BR2_TARGET_UBOOT_CUSTOM_CONFIG_FILE",
    "BR2_PACKAGE_BUSYBOX_CONFIG",
    "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES",
})

# Packages whose symbols do not start with BR2_PACKAGE_<NAME>.
_SPECIAL_PREFIXES = {"linux": ("BR2_LINUX_KERNEL",)}


def _sorted_pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


def parse_config(text: str) -> dict[str, str | None]:
    """A ``.config`` as ``{symbol: raw value}``; "is not set" and absent both read as None
    (kconfig treats them alike), so only assignments with a value are kept."""
    out: dict[str, str | None] = {}
    for a in parse_fragment(text, ".config").assignments:
        if a.value is None:
            out.pop(a.symbol, None)
        else:
            out[a.symbol] = a.value
    return out


@attrs.frozen
class BuildState:
    """What a build directory is built from: the resolved ``.config`` text, its ``make
    show-info`` (optional but recommended), fingerprints of package inputs (package name →
    digest: patches, fragments), global fingerprints (name → digest: the Buildroot source tree),
    and the symbols whose content the fingerprints cover (``tracked_symbols``)."""

    config: str
    show_info: ShowInfo | None = None
    package_fingerprints: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_sorted_pairs)
    global_fingerprints: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_sorted_pairs)
    tracked_symbols: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    # the files the root-filesystem overlays put into target/ (paths relative to it)
    overlay_files: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)


@attrs.frozen(order=True)
class Action:
    """One step of a plan: ``kind`` ``clean`` (``package`` None), ``dirclean``, or ``remove``
    (``path``: a file of ``target/`` that only an overlay had put there; a directory when it
    ends with ``/``, removed only if nothing else left anything in it), with reasons."""

    kind: str
    package: str | None
    reasons: tuple[str, ...]
    path: str | None = None

    @property
    def target(self) -> str:
        """The make target (``clean``, ``<pkg>-dirclean``), or ``rm target/<path>``."""
        if self.kind == "remove":
            if self.path is not None and self.path.endswith("/"):
                return f"rmdir target/{self.path[:-1]}"
            return f"rm target/{self.path}"
        return "clean" if self.kind == "clean" else f"{self.package}-dirclean"


@attrs.frozen
class Plan:
    """What to clean before ``make``: ``full_clean`` (one ``clean`` action) or dirclean
    actions sorted by package; ``notes`` explain changes that need no action."""

    full_clean: bool
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        """The make targets to run, in order."""
        return tuple(a.target for a in self.actions if a.kind != "remove")

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(a.package for a in self.actions if a.package is not None)

    @property
    def removals(self) -> tuple[str, ...]:
        """Paths under ``target/`` to delete (files an overlay no longer provides)."""
        return tuple(a.path for a in self.actions if a.kind == "remove")

    def explain(self) -> list[str]:
        """One line per action and reason, then the notes: for "explain every rebuild"."""
        lines = []
        for a in self.actions:
            if a.kind == "remove":
                what = f"remove 'target/{a.path}'"
            else:
                what = "full rebuild (make clean)" if a.kind == "clean" else f"rebuild '{a.package}' (make {a.target})"
            lines.append(what + ":")
            lines.extend(f"  {r}" for r in a.reasons)
        lines.extend(f"no rebuild: {n}" for n in self.notes)
        return lines

    def diagnostic(self) -> Diagnostic | None:
        """Warning W300 for a full rebuild (its reasons as help lines); None otherwise."""
        if not self.full_clean:
            return None
        return Diagnostic(
            Severity.WARNING, codes.FULL_REBUILD,
            "the build directory is cleaned: every package is rebuilt", help=self.actions[0].reasons,
        )

    def to_json(self) -> dict:
        return {
            "full_clean": self.full_clean,
            "actions": [{"target": a.target, "package": a.package, "reasons": list(a.reasons)}
                        | ({"path": a.path} if a.path is not None else {}) for a in self.actions],
            "notes": list(self.notes),
        }


class SymbolMap:
    """Maps Kconfig symbols to the Buildroot packages they configure (longest prefix wins)."""

    def __init__(self, packages: Iterable[str], boot: Iterable[str] = ("uboot",)) -> None:
        self.packages = frozenset(packages)
        self.boot = frozenset(boot)
        prefixes: dict[str, str] = {}
        for name in sorted(self.packages):
            for prefix in self._prefixes(name, name in self.boot):
                prefixes.setdefault(prefix, name)
        self._prefixes_map = prefixes
        self._ordered = sorted(prefixes, key=lambda p: (-len(p), p))

    @staticmethod
    def _prefixes(name: str, boot: bool) -> tuple[str, ...]:
        if name in _SPECIAL_PREFIXES:
            return _SPECIAL_PREFIXES[name]
        sym = package_symbol(name)
        upper = sym.removeprefix("BR2_PACKAGE_")
        out = [sym]
        if not name.startswith("host-"):
            out += [f"BR2_PACKAGE_HAS_{upper}", f"BR2_PACKAGE_PROVIDES_{upper}"]
        if boot:  # boot loaders (boot/ in Buildroot) are configured by BR2_TARGET_<NAME>
            out.append(f"BR2_TARGET_{upper}")
        return tuple(out)

    def package_of(self, symbol: str) -> str | None:
        """The package a symbol belongs to, or None."""
        for prefix in self._ordered:
            if symbol == prefix or symbol.startswith(prefix + "_"):
                return self._prefixes_map[prefix]
        return None

    def readers_of(self, symbol: str) -> tuple[str, ...]:
        """Packages of this map that read ``symbol`` under another name (``READ_BY``)."""
        for rx, pkgs in READ_BY:
            if rx.match(symbol):
                return tuple(p for p in pkgs if p in self.packages)
        return ()


def _fallback_packages(config: Mapping[str, str | None]) -> set[str]:
    """Package names guessed from ``BR2_PACKAGE_<X>=y`` (used only without show-info: a symbol
    that extends another enabled one is read as its sub-option)."""
    names = set()
    enabled = sorted(s for s, v in config.items() if v == "y" and s.startswith("BR2_PACKAGE_"))
    for sym in enabled:
        # BR2_PACKAGE_FOO_BAR=y beside BR2_PACKAGE_FOO=y is taken as a sub-option of foo.
        if any(sym.startswith(other + "_") for other in enabled):
            continue
        rest = sym.removeprefix("BR2_PACKAGE_")
        host = rest.startswith("HOST_")
        base = rest.removeprefix("HOST_").lower().replace("_", "-")
        names.add(("host-" if host else "") + base)
    if config.get("BR2_LINUX_KERNEL") == "y":
        names.add("linux")
    if config.get("BR2_TARGET_UBOOT") == "y":
        names.add("uboot")
    return names


def _match(rules, symbol: str) -> str | None:
    for rx, why in rules:
        if rx.match(symbol):
            return why
    return None


def _show(value: str | None) -> str:
    return "(unset)" if value is None else value


def plan(previous: BuildState | None, new: BuildState, file_owners: Mapping[str, Iterable[str]] | None = None) -> Plan:
    """The clean-up to do in a build directory built from ``previous`` before building ``new``.

    ``file_owners`` (``target/`` path → the packages that installed it, from Buildroot's
    ``.files-list.txt``) decides what a file that an overlay no longer provides needs: a
    package's own file comes back by rebuilding that package, any other file is removed."""
    if previous is None:
        return _full(["no record of what the build directory was built from"])

    full: list[str] = []
    for name, (old, cur) in _changed(dict(previous.global_fingerprints), dict(new.global_fingerprints)).items():
        full.append(f"'{name}' changed ({_short(old)} → {_short(cur)})")

    old_cfg, new_cfg = parse_config(previous.config), parse_config(new.config)
    tracked = previous.tracked_symbols & new.tracked_symbols
    changed = {s: v for s, v in _changed(old_cfg, new_cfg).items() if s not in tracked}

    old_pkgs = previous.show_info.names if previous.show_info else _fallback_packages(old_cfg)
    new_pkgs = new.show_info.names if new.show_info else _fallback_packages(new_cfg)
    boot = {"uboot"}
    for info in (previous.show_info, new.show_info):
        if info is not None:
            boot |= {p.key for p in info.packages if (p.package_dir or "").startswith("boot/")}
    symbols = SymbolMap(old_pkgs | new_pkgs, boot)

    removed = sorted(old_pkgs - new_pkgs)
    if removed:
        full.append(
            "removed from the configuration: " + ", ".join(f"'{p}'" for p in removed)
            + " (Buildroot does not delete the files a package installed)"
        )
    if previous.show_info and new.show_info:
        for name in sorted(old_pkgs & new_pkgs):
            a, b = previous.show_info.get(name).version, new.show_info.get(name).version
            if a != b:
                full.append(f"'{name}' changed version {_show(a)} → {_show(b)} (the old version's files stay installed)")

    reasons: dict[str, list[str]] = {}
    notes: list[str] = []
    added = set(new_pkgs - old_pkgs)
    for sym in sorted(changed):
        old, cur = changed[sym]
        change = f"{sym}: {_show(old)} → {_show(cur)}"
        why = _match(FULL_REBUILD_RULES, sym)
        if why is not None:
            full.append(f"{change} ({why})")
            continue
        owner = symbols.package_of(sym)
        readers = symbols.readers_of(sym)
        for pkg in ((owner,) if owner else ()) + readers:
            if pkg in new_pkgs and pkg in old_pkgs:
                reasons.setdefault(pkg, []).append(change)
            elif pkg in new_pkgs and owner == pkg:
                added.add(pkg)
        if owner is None and not readers:
            how = _match(REAPPLIED_RULES, sym) or "no package of this configuration is configured by it"
            notes.append(f"{change} ({how})")
        elif owner is not None and owner not in new_pkgs and not readers:
            notes.append(f"{change} (its package '{owner}' is not built)")

    if full:
        return _full(full)

    for name, (old, cur) in _changed(dict(previous.package_fingerprints), dict(new.package_fingerprints)).items():
        if name in new_pkgs and name in old_pkgs:
            reasons.setdefault(name, []).append(f"its inputs changed (patches or fragments: {_short(old)} → {_short(cur)})")
        elif name not in new_pkgs:
            notes.append(f"the inputs of '{name}' changed (it is not built)")

    if previous.show_info and new.show_info:
        for name in sorted(old_pkgs & new_pkgs):
            a = set(previous.show_info.get(name).dependencies)
            b = set(new.show_info.get(name).dependencies)
            if a != b:
                delta = [f"+{d}" for d in sorted(b - a)] + [f"-{d}" for d in sorted(a - b)]
                reasons.setdefault(name, []).append(f"its dependencies changed: {' '.join(delta)}")

    _cascade(reasons, new.show_info, old_pkgs)
    # (after the cascade: a package reinstalled for its own file changes nothing it is built from)
    removals: list[Action] = []
    owners = file_owners or {}
    # directories a package still built has installed into: they stay whatever the overlays do
    package_dirs = {parent + "/" for path, pkgs in owners.items() if any(p in new_pkgs for p in pkgs)
                    for parent in _parents(path)}
    for path in sorted(previous.overlay_files - new.overlay_files):
        if path in package_dirs:
            continue
        why = f"the overlays no longer have '{path}'"
        rebuilt = [p for p in sorted(set(owners.get(path, ()))) if p in new_pkgs and p in old_pkgs]
        for pkg in rebuilt:
            reasons.setdefault(pkg, []).append(f"{why}, which they had put over this package's own file")
        if not rebuilt:
            removals.append(Action("remove", None, (why,), path))

    # files first, then directories, deepest first (each is removed only once empty)
    removals.sort(key=lambda a: (a.path.endswith("/"), -a.path.count("/") if a.path.endswith("/") else 0, a.path))
    notes.extend(f"'{p}' is new: make builds it" for p in sorted(added))
    actions = tuple(removals) + tuple(Action("dirclean", p, tuple(r)) for p, r in sorted(reasons.items()))
    return Plan(False, actions, tuple(notes))


def _parents(path: str) -> list[str]:
    """``a/b/c`` -> ``["a", "a/b"]``."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _cascade(reasons: dict[str, list[str]], info: ShowInfo | None, built: frozenset[str] | set[str]) -> None:
    """Add every package that depends, directly or not, on one in ``reasons``; each added
    package's reason names its direct dependencies that are rebuilt.  Packages not ``built``
    before are left out: make builds them after their dependencies anyway."""
    if info is None:
        return
    dependents: dict[str, set[str]] = {}
    for p in info.packages:
        for d in p.dependencies:
            dependents.setdefault(d, set()).add(p.key)
    closure = set(reasons)
    queue = sorted(reasons)
    while queue:
        cur = queue.pop()
        for dep in dependents.get(cur, ()):
            if dep not in closure:
                closure.add(dep)
                queue.append(dep)
    for name in sorted(p for p in closure - set(reasons) if p in built):
        pkg = info.get(name)
        direct = sorted(d for d in (pkg.dependencies if pkg else ()) if d in closure)
        reasons[name] = [
            "depends on " + ", ".join(f"'{d}'" for d in direct) + (", which is" if len(direct) == 1 else ", which are") + " rebuilt"
        ]


def _changed(old: Mapping[str, str | None], new: Mapping[str, str | None]) -> dict[str, tuple[str | None, str | None]]:
    return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


def _short(value: str | None) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= 16 else value[:12] + "…"


def _full(reasons: list[str]) -> Plan:
    return Plan(True, (Action("clean", None, tuple(reasons)),), ())
