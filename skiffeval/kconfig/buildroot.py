"""The Buildroot driver: ``make defconfig`` reproduced in-process with kconfiglib.

The model
---------
``resolve_buildroot(source, externals=..., defconfig=..., fragments=...)`` gives exactly the
``.config`` that ``make O=<dir> defconfig BR2_DEFCONFIG=<base> BR2_EXTERNAL=<trees>`` writes
for the base defconfig followed by the fragments, the ``make savedefconfig`` output, and the
provenance report.  It takes what Buildroot's Makefile gives its ``conf``:

* the environment (``COMMON_CONFIG_ENV`` and the Makefile's exports): ``CONFIG_=""`` (symbols
  carry ``BR2_`` in their names), ``srctree``, ``BR2_VERSION`` and ``BR2_VERSION_FULL``,
  ``HOSTARCH`` and ``HOST_GCC_VERSION`` (``HostInfo``), ``BASE_DIR`` and ``BR2_BASE_DIR`` (a
  private directory), ``SKIP_LEGACY=""``, ``BR2_HIDE_SECONDARY_TARGET_OPTIONS=n``,
  ``BR2_DEFCONFIG`` (per resolution: the base defconfig's path by default), and
  ``BR2_EXTERNAL_NAMES`` and ``BR2_EXTERNAL_<NAME>_PATH/_DESC/_VERSION``;
* the ``.br2-external.in.*`` files, generated into that private directory (never into the
  source) as ``support/scripts/br2-external`` writes them (``br2external``);
* ``$(NAME)`` references kept literal, and a raised recursion limit (``engine``);
* the base defconfig applied first, replacing all values, then each fragment merged in order.

The parsed ``Config.in`` is cached per (source, externals, host, version) identity: a second
resolution with other fragments costs tens of milliseconds, not a reparse.

``HostInfo`` and the versions are explicit inputs: they change the result (toolchains offered
for the host, ``BR2_HOST_GCC_AT_LEAST_*``).  ``detect_host`` computes them the way the Makefile
does, by running the host compiler.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence

import attrs

from skiffeval.diagnostics import SkiffError, did_you_mean_help
from skiffeval.kconfig import codes
from skiffeval.kconfig.br2external import (
    ExternalTree,
    br2_external_files,
    check_unique,
    external_env,
    read_external,
)
from skiffeval.kconfig.engine import TreeSpec
from skiffeval.kconfig.fragment import Fragment
from skiffeval.kconfig.resolve import Resolution, resolve

__all__ = [
    "HostInfo",
    "BuildrootSource",
    "detect_host",
    "read_buildroot_source",
    "buildroot_spec",
    "find_defconfig",
    "resolve_buildroot",
    "kconfig_view_files",
    "kconfig_view_select",
]

DEFAULT_HOSTCC_MAX_VERSION = 15


@attrs.frozen
class HostInfo:
    """The host facts Buildroot's Makefile hands to kconfig: ``HOSTARCH`` (e.g. ``x86_64``)
    and ``HOST_GCC_VERSION`` (the major version, or ``"4 9"`` style for gcc 4)."""

    arch: str
    gcc_version: str


@attrs.frozen
class BuildrootSource:
    """A Buildroot source tree: its absolute ``path``, ``version`` (``BR2_VERSION`` from the
    Makefile), ``version_full`` (``BR2_VERSION_FULL``) and ``hostcc_max_version``."""

    path: str
    version: str
    version_full: str
    hostcc_max_version: int = DEFAULT_HOSTCC_MAX_VERSION


def read_buildroot_source(path: str, *, version_full: str | None = None) -> BuildrootSource:
    """Read the version facts of the Buildroot tree at ``path``.

    ``version_full`` defaults to the release version; Buildroot derives it with
    ``setlocalversion`` (``git describe``), and it only reaches the ``mainmenu`` title.
    Raises ``SkiffError`` (E231) if ``path`` is not a Buildroot source tree.
    """
    path = os.path.abspath(path)
    makefile = os.path.join(path, "Makefile")
    if not os.path.isfile(os.path.join(path, "Config.in")) or not os.path.isfile(makefile):
        raise SkiffError(
            codes.BUILDROOT_SOURCE,
            f"expected a Buildroot source tree with 'Config.in' and 'Makefile', found '{path}'",
        )
    with open(makefile, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    version = re.search(r"^export BR2_VERSION := *(\S+)", text, re.M)
    if version is None:
        raise SkiffError(
            codes.BUILDROOT_SOURCE,
            f"expected 'export BR2_VERSION := ...' in '{makefile}', found none",
        )
    cap = re.search(r"^HOSTCC_MAX_VERSION := *(\d+)", text, re.M)
    return BuildrootSource(
        path,
        version.group(1),
        version_full if version_full is not None else version.group(1),
        int(cap.group(1)) if cap else DEFAULT_HOSTCC_MAX_VERSION,
    )


_ARCH_FIXES = (
    (r"i.86", "x86"), (r"sun4u", "sparc64"), (r"arm.*", "arm"), (r"sa110", "arm"),
    (r"ppc64", "powerpc64"), (r"ppc", "powerpc"), (r"macppc", "powerpc"), (r"sh.*", "sh"),
)


def kconfig_view_select(extra: Sequence[str] = ()) -> Callable[[str], bool]:
    """The test of a Buildroot tree's Kconfig view on a file's path relative to the tree
    (see ``kconfig_view_files``); ``extra`` are further paths it keeps."""
    extras = set()
    for rel in extra:
        rel = os.path.normpath(rel)
        if not rel.startswith(("../", "/")) and rel != "..":
            extras.add(rel)

    def select(rel: str) -> bool:
        return (rel.rpartition("/")[2].startswith("Config.") or rel.startswith("configs/") or rel == "Makefile"
                or rel in extras)

    return select


def kconfig_view_files(root: str, *, extra: Sequence[str] = ()) -> list[str]:
    """The files of the Buildroot tree at ``root`` that a resolution reads: its "Kconfig view",
    as paths relative to ``root``, sorted.

    They are every ``Config.*`` file (``Config.in``, ``Config.in.host``, ``Config.in.legacy``,
    ``Config.ext``, ``Config.in.options``...: every file a ``source`` statement of Buildroot's
    Kconfig tree names is called so; ``tests/kconfig`` checks it against what kconfiglib opens
    on a real tree), the top-level ``Makefile`` (``BR2_VERSION``, ``HOSTCC_MAX_VERSION``),
    everything under the top-level ``configs/`` (the base defconfigs), and the ``extra`` paths
    that are files (a base defconfig given by its path in the tree).  ``.git`` is not walked.

    A configuration built from the view equals one built from the whole tree, and the rest of
    the tree (15,000 files, most of a checkout: ``.mk`` files, patches, board files) neither
    enters the store for it nor is checked by a warm run.  Folders are listed with
    ``os.scandir`` and no file is ``stat``ed.  (The session selects with
    ``kconfig_view_select`` during the walk that also records the tree for the evaluation
    cache.)
    """
    select = kconfig_view_select(extra)
    found: list[str] = []
    stack = [("", os.path.abspath(root))]
    while stack:
        prefix, top = stack.pop()
        with os.scandir(top) as it:
            for entry in it:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if prefix or name != ".git":
                        stack.append((prefix + name + "/", entry.path))
                elif select(prefix + name):
                    found.append(prefix + name)
    return sorted(found)


def detect_host(cc: str = "gcc", *, max_version: int = DEFAULT_HOSTCC_MAX_VERSION) -> HostInfo:
    """``HOSTARCH`` and ``HOST_GCC_VERSION`` computed as Buildroot's Makefile does, by running
    ``cc -v`` and ``cc --version`` (pass ``source.hostcc_max_version`` as ``max_version``)."""
    env = dict(os.environ, LC_ALL="C")
    verbose = subprocess.run([cc, "-v"], capture_output=True, text=True, env=env, check=False)
    arch = ""
    for line in (verbose.stdout + verbose.stderr).splitlines():
        m = re.match(r"Target: ([^-]*)", line)
        if m:
            arch = m.group(1)
            for pattern, replacement in _ARCH_FIXES:
                arch = re.sub(pattern, replacement, arch, count=1)
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, env=env, check=False).stdout
    found = [
        f"{m.group(1)} {m.group(2)}"
        for line in out.splitlines()
        if (m := re.match(r"^.* ([0-9]*)\.([0-9]*)\.([0-9]*)[ ]*.*", line))
    ]
    version = "\n".join(found)
    major = version.split(" ")[0].split("\n")[0]
    if not (major.isdigit() and int(major) <= max_version):
        version = str(max_version)
    if version.split()[:1] != ["4"]:
        version = version.split()[0] if version.split() else version
    return HostInfo(arch, version)


def buildroot_spec(
    source: BuildrootSource,
    externals: Sequence[ExternalTree],
    host: HostInfo,
    *,
    hide_secondary_target_options: str = "n",
) -> TreeSpec:
    """The ``TreeSpec`` of Buildroot's ``Config.in`` with these external trees and host."""
    env = {
        "CONFIG_": "",
        "BR2_VERSION": source.version,
        "BR2_VERSION_FULL": source.version_full,
        "HOSTARCH": host.arch,
        "HOST_GCC_VERSION": host.gcc_version,
        "SKIP_LEGACY": "",
        "BR2_HIDE_SECONDARY_TARGET_OPTIONS": hide_secondary_target_options,
        **external_env(externals),
    }
    return TreeSpec(
        kconfig="Config.in",
        srctree=source.path,
        env=tuple(sorted(env.items())),
        private_files=tuple(sorted(br2_external_files(externals).items())),
        private_dir_vars=("BASE_DIR", "BR2_BASE_DIR"),
        late_env=("BR2_DEFCONFIG",),
        title="Buildroot Configuration",
    )


def find_defconfig(source: BuildrootSource, externals: Sequence[ExternalTree], name: str) -> str:
    """The file of the base defconfig ``name``: a name looked up in ``configs/`` of the last
    external tree first and of Buildroot last (as ``make <name>`` does), or a path (absolute
    or relative to the Buildroot source).  Raises ``SkiffError`` (E235)."""
    if "/" in name:
        path = os.path.join(source.path, name)
        if os.path.isfile(path):
            return path
        raise SkiffError(codes.DEFCONFIG_NOT_FOUND, f"defconfig file '{path}' does not exist")
    dirs = [os.path.join(d, "configs") for d in reversed([source.path] + [e.path for e in externals])]
    for d in dirs:
        path = os.path.join(d, name)
        if os.path.isfile(path):
            return path
    known = sorted({f for d in dirs if os.path.isdir(d) for f in os.listdir(d) if f.endswith("_defconfig")})
    raise SkiffError(
        codes.DEFCONFIG_NOT_FOUND,
        f"defconfig '{name}' is in none of the configs/ directories ({', '.join(dirs)})",
        help=did_you_mean_help(name, known),
    )


def resolve_buildroot(
    source: BuildrootSource | str,
    *,
    externals: Sequence[ExternalTree | str] = (),
    defconfig: str | Fragment | None = None,
    fragments: Sequence[Fragment] = (),
    host: HostInfo | None = None,
    defconfig_path: str | None = None,
    hide_secondary_target_options: str = "n",
) -> Resolution:
    """Resolve a Buildroot configuration (see the module docstring).

    ``externals`` are ``ExternalTree``s or paths (read with version ""), in ``BR2_EXTERNAL``
    order; ``defconfig`` is a name from ``configs/``, a path, or the base as a ``Fragment``;
    ``fragments`` are applied after it in order.  ``host`` defaults to ``detect_host()``.
    ``defconfig_path`` is the ``BR2_DEFCONFIG`` value (written into ``.config``); it defaults
    to the base defconfig's file, or "" when there is none or it was given as text.

    The minimal defconfig has no ``BR2_DEFCONFIG=`` line, as ``make savedefconfig`` removes it.
    """
    if isinstance(source, str):
        source = read_buildroot_source(source)
    trees = [e if isinstance(e, ExternalTree) else read_external(e) for e in externals]
    check_unique(trees)
    if host is None:
        host = detect_host(max_version=source.hostcc_max_version)
    base: Fragment | None
    if isinstance(defconfig, str):
        path = find_defconfig(source, trees, defconfig)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            base = Fragment(f.read(), path, "defconfig")
        late = path if defconfig_path is None else defconfig_path
    else:
        base = defconfig
        late = "" if defconfig_path is None else defconfig_path
    spec = buildroot_spec(source, trees, host, hide_secondary_target_options=hide_secondary_target_options)
    result = resolve(spec, fragments, base=base, late_env={"BR2_DEFCONFIG": late})
    minimal = "".join(
        line for line in result.defconfig.splitlines(keepends=True) if not line.startswith("BR2_DEFCONFIG=")
    )
    return attrs.evolve(result, defconfig=minimal)
