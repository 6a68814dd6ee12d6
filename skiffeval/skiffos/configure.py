"""What ``make configure`` writes into the final config folder, computed from a ``Chain``.

This replays ``scripts/build_configs.sh`` over the chain with the functions of ``compat.py``:
for each chain folder in order, its Buildroot, BusyBox, cflags, kernel and U-Boot files (in that
order within a folder, each in byte order), its overlay, patch folders, users tables and hooks;
then the placeholders, ``BR2_CCACHE_DIR`` and the cflags.  The final ``make defconfig`` (which
needs Buildroot) is not part of it: ``ConfigureOutput.buildroot_config`` is the defconfig input.

File contents are read through ``read`` (by default from disk, given each file's path), so the
session can inject a reader that records every file as a hashed input.  The workspace paths
(``ConfigureParams``) default to SkiffOS's own layout under ``<root>/workspaces``.
"""

from __future__ import annotations


import re
from collections.abc import Callable

import attrs

from skiffeval.diagnostics import Diagnostic, Note, SkiffError, Source, Span
from skiffeval.skiffos import codes, compat
from skiffeval.skiffos.chain import Chain
from skiffeval.skiffos.codes import Diagnostics
from skiffeval.skiffos.package import read_text

__all__ = ["ConfigureParams", "ConfigureOutput", "configure"]


@attrs.frozen
class ConfigureParams:
    """The workspace-dependent values ``make configure`` writes into the configs."""

    final_config_dir: str
    buildroot_dir: str
    ccache_dir: str
    version: str = "unknown"
    version_commit: str = "unknown"

    @classmethod
    def skiffos_defaults(
        cls, root: str, workspace: str, *, version: str = "unknown", version_commit: str = "unknown"
    ) -> ConfigureParams:
        """SkiffOS's layout: ``workspaces/.config_<ws>/`` (with its trailing slash),
        ``workspaces/<ws>`` and ``workspaces/.ccache/<ws>``."""
        return cls(
            final_config_dir=f"{root}/workspaces/.config_{workspace}/",
            buildroot_dir=f"{root}/workspaces/{workspace}",
            ccache_dir=f"{root}/workspaces/.ccache/{workspace}",
            version=version,
            version_commit=version_commit,
        )


@attrs.frozen
class ConfigureOutput:
    """The texts ``make configure`` writes (before Buildroot's ``make defconfig``)."""

    skiff_config: str
    buildroot_config: str
    kernel_config: str
    uboot_config: str
    busybox_config: str
    users: str
    cflags: str
    pre_build_script: str
    post_build_script: str
    br2_external: tuple[str, ...]
    warnings: tuple[Diagnostic, ...] = ()

    def files(self) -> dict[str, str]:
        """The outputs by their path inside SkiffOS's final config folder."""
        return {
            "skiff_config": self.skiff_config,
            "buildroot/config": self.buildroot_config,
            "kernel/config": self.kernel_config,
            "uboot/config": self.uboot_config,
            "busybox/config": self.busybox_config,
            "users": self.users,
            "cflags": self.cflags,
            "pre_build.sh": self.pre_build_script,
            "post_build.sh": self.post_build_script,
        }


_OPTIMIZATION = re.compile(r"BR2_TARGET_OPTIMIZATION")


def configure(
    chain: Chain,
    params: ConfigureParams,
    *,
    read: Callable[[str], str] = read_text,
) -> ConfigureOutput:
    """Compute every text ``make configure`` writes for ``chain``.  Raises ``SkiffosError``
    (or ``SkiffError`` ``E274`` for text SkiffOS would rewrite); warnings are returned."""
    diagnostics = Diagnostics()
    merged = {kind: "" for kind in ("buildroot", "busybox", "kernel", "uboot")}
    users: list[str] = []
    users_files: list[tuple[str, str]] = []
    overlays: list[str] = []
    br_patches: list[str] = []
    kernel_patches: list[str] = []
    uboot_patches: list[str] = []
    cflags: list[str] = []
    optimization_sites: list[Span] = []
    final = params.final_config_dir
    header = compat.hook_script_header(f"{final}/bind_env.sh", params.buildroot_dir)
    pre_script = post_script = header

    for entry in chain.entries:
        folder = entry.path
        pkg = entry.package
        path = folder
        try:
            for kind in ("buildroot", "busybox"):
                for rel in pkg.fragments(kind):
                    path = f"{folder}/{rel}"
                    text = read(path)
                    if kind == "buildroot":
                        optimization_sites.extend(_sites(path, text))
                    merged[kind] = compat.merge_fragment(merged[kind] + compat.fragment_header(path), text)
                    merged[kind] = compat.substitute_config_root(merged[kind], folder)
            for rel in pkg.cflags:
                path = f"{folder}/{rel}"
                flags = compat.cflags_of(read(path))
                if not flags:
                    diagnostics.warning(
                        codes.EMPTY_CFLAGS,
                        f"'{rel}' has no flags (only comments); SkiffOS skips it",
                        codes.file_span(path),
                    )
                    continue
                name = rel.split("/", 1)[1]
                merged["buildroot"] += compat.cflags_header(f"{folder}/buildroot", name, flags)
                cflags.append(flags)
            for kind in ("kernel", "uboot"):
                for rel in pkg.fragments(kind):
                    path = f"{folder}/{rel}"
                    merged[kind] = compat.merge_fragment(merged[kind] + compat.fragment_header(path), read(path))
                    merged[kind] = compat.substitute_config_root(merged[kind], folder)
        except SkiffError as err:
            # the text functions know no file: this error is about the file being merged
            raise SkiffError(
                err.code,
                err.message,
                err.span or codes.file_span(path),
                help=err.help,
                notes=[*err.notes, Note(f"while merging the configuration of '{entry.name}'")],
            ) from err
        for attr, into in (
            ("root_overlay", overlays),
            ("kernel_patches", kernel_patches),
            ("uboot_patches", uboot_patches),
            ("buildroot_patches", br_patches),
        ):
            rel = getattr(pkg, attr)
            if rel is not None:
                into.append(f"{folder}/{rel}")
        for rel in pkg.users:
            path = f"{folder}/{rel}"
            text = read(path)
            users.append(text)
            users_files.append((path, text))
        if pkg.pre_hook:
            pre_script += compat.hook_lines(f"{folder}/{pkg.pre_hook}", folder)
        if pkg.post_hook:
            post_script += compat.hook_lines(f"{folder}/{pkg.post_hook}", folder)

    _check_users(users_files, diagnostics)
    values = {
        "REPLACEME_BR_PATCHES": " ".join(br_patches),
        "REPLACEME_BUSYBOX_FRAGMENTS": f"{final}/busybox/config",
        "REPLACEME_KERNEL_FRAGMENTS": f"{final}/kernel/config",
        "REPLACEME_KERNEL_PATCHES": " ".join(kernel_patches),
        "REPLACEME_UBOOT_FRAGMENTS": f"{final}/uboot/config",
        "REPLACEME_UBOOT_PATCHES": " ".join(uboot_patches),
        "REPLACEME_ROOTFS_OVERLAY": " ".join(overlays),
        "REPLACEME_FINAL_CONFIG_DIR": final,
        "REPLACEME_SKIFF_VERSION_COMMIT": params.version_commit,
        "REPLACEME_SKIFF_VERSION": params.version,
    }
    buildroot = compat.replace_placeholders(merged["buildroot"], values)
    buildroot += compat.ccache_line(params.ccache_dir)
    flags = compat.join_cflags(cflags)
    if flags:
        for span in optimization_sites:
            diagnostics.warning(
                codes.OPTIMIZATION_OVERRIDDEN,
                "BR2_TARGET_OPTIMIZATION is replaced by the flags of the cflags folders",
                span,
                help=("move these flags into a cflags/ file",),
            )
        buildroot = compat.merge_fragment(buildroot, compat.optimization_fragment(flags))
    diagnostics.check()
    return ConfigureOutput(
        skiff_config=chain.resolution.skiff_config + "\n",
        buildroot_config=buildroot,
        kernel_config=merged["kernel"],
        uboot_config=merged["uboot"],
        busybox_config=merged["busybox"],
        users=compat.concat_users(users),
        cflags=flags + "\n",
        pre_build_script=pre_script,
        post_build_script=post_script,
        br2_external=chain.external_trees,
        warnings=diagnostics.warnings,
    )


def _sites(path: str, text: str) -> list[Span]:
    source = Source(path, text)
    spans = []
    for m in re.finditer(r"(?m)^BR2_TARGET_OPTIMIZATION=", text):
        line, col = source.position(m.start())
        spans.append(Span(path, line, col, line, col + len("BR2_TARGET_OPTIMIZATION") - 1, source))
    return spans


def _check_users(files: list[tuple[str, str]], diagnostics: Diagnostics) -> None:
    for index, (path, text) in enumerate(files):
        if not text or text.endswith("\n"):
            continue
        if any(t for _, t in files[index + 1 :]):
            source = Source(path, text)
            line = len(source.line_starts())
            diagnostics.warning(
                codes.NO_TRAILING_NEWLINE,
                "users table has no final newline; SkiffOS glues its last line to the next table's first",
                Span(path, line, 1, line, max(len(source.line_text(line)), 1), source),
                help=("end the file with a newline",),
            )



