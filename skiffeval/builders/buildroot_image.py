"""``builtin:buildroot`` (a system's ``image``) and ``builtin:buildroot-show-info`` (``show_info``).

Both drive a real Buildroot through ``skiffeval.buildroot`` (docs/buildroot.md):

* ``show-info``: ``make O=<tmp> BR2_EXTERNAL=… BR2_DEFCONFIG=<resolved defconfig> defconfig``,
  then ``make show-info``; the output is Buildroot's JSON in its canonical form.  Offline.
* ``buildroot``: the same ``defconfig`` then ``make``, in a *persistent* build directory per
  system (``<store>/.skiffeval/builds/<system>``, not keyed by hash), so a rebuild only redoes
  what changed.  Buildroot alone does not rebuild a package when its configuration changes, so
  before ``make`` the previous build's state is compared with this one
  (``skiffeval.buildroot.plan``): packages whose symbols, patches or fragments changed get
  ``make <pkg>-dirclean`` (and their dependents); a toolchain or architecture change cleans
  everything.  ``--pure`` builds in an empty directory instead.  The output holds ``images/``,
  the final ``config``, ``show-info.json`` and ``manifest.json`` (Buildroot version, packages
  and versions, the input store paths, the plan that was applied).

What is a cache and not part of any key: the download directory (``BR2_DL_DIR``; Buildroot
checks its own hashes), ccache and the build directory itself.  They come from ``SETTINGS``,
which the session fills from the command line before realizing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil

import xxhash

from skiffeval.builders.layers import read_text, spec_of
from skiffeval.builders.registry import register_builder
from skiffeval.buildroot import BuildState, Buildroot, Invocation, parse_show_info, plan
from skiffeval.buildroot.driver import installed_files
from skiffeval.buildroot.incremental import DEFAULT_TRACKED_SYMBOLS
from skiffeval.buildroot.progress import ProgressEvent
from skiffeval.kconfig import read_buildroot_source
from skiffeval.store.build import BuildContext
from skiffeval.store.locks import FileLock
from skiffeval.store.treeops import remove_tree

from skiffeval.builders.image_settings import SETTINGS, ImageSettings

__all__ = ["ImageSettings", "SETTINGS"]


_PATHS = re.compile(r'^(BR2_GLOBAL_PATCH_DIR|BR2_LINUX_KERNEL_PATCH|BR2_TARGET_UBOOT_PATCH|'
                    r'BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES|BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES|'
                    r'BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES|BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE|'
                    r'BR2_TARGET_UBOOT_CUSTOM_CONFIG_FILE|BR2_PACKAGE_BUSYBOX_CONFIG)="(.*)"$', re.M)
_OVERLAYS = re.compile(r'^BR2_ROOTFS_OVERLAY="(.*)"$', re.M)
_CCACHE_DIR = re.compile(r'^BR2_CCACHE_DIR="(.*)"$', re.M)
# in a kept build directory after a successful build: the key of the image derivation it built
# (what 'skiffeval run' checks before it hands the directory to a command as BUILDROOT_DIR)
IMAGE_MARKER = ".skiffeval-image"
# the build record's format: a record of another format is no record (full clean)
STATE_FORMAT = 2


def _externals(spec: dict) -> list[str]:
    if not spec.get("external"):
        return []
    entries = json.loads(read_text(os.path.join(spec["external"], "externals.json")))
    return [e["path"] if "path" in e else os.path.join(spec["external"], e["dir"]) for e in entries]


def _default_ccache_dir(ctx: BuildContext, spec: dict) -> str | None:
    """Without ``--ccache-dir``: ``<store>/.skiffeval/ccache`` when the configuration keeps
    Buildroot's default ``$(HOME)/.buildroot-ccache`` (make runs without ``HOME``, which would put
    it at ``/.buildroot-ccache``); a directory the configuration names itself is left to it."""
    try:
        config = read_text(os.path.join(spec["resolved"], "config"))
    except OSError:
        return None
    m = _CCACHE_DIR.search(config)
    if m is None or not m.group(1) or "$(HOME)" in m.group(1) or "${HOME}" in m.group(1):
        return str(ctx.store_root / ".skiffeval" / "ccache")
    return None


def _invocation(ctx: BuildContext, spec: dict, output: str) -> Invocation:
    meta = ctx.store_root / ".skiffeval"
    return Invocation(
        source=spec["buildroot"],
        output=output,
        externals=_externals(spec),
        defconfig=os.path.join(spec["resolved"], "defconfig"),
        dl_dir=SETTINGS.dl_dir or str(meta / "dl"),
        ccache_dir=SETTINGS.ccache_dir or _default_ccache_dir(ctx, spec),
        jobs=SETTINGS.jobs,
        source_date_epoch=int(ctx.env.get("SOURCE_DATE_EPOCH", "1") or 1),
    )


def _digest_tree(path: str) -> str:
    h = xxhash.xxh3_128()
    for top, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(top, name)
            h.update(os.path.relpath(full, path).encode() + b"\0")
            if os.path.islink(full):
                h.update(os.readlink(full).encode())
            else:
                with open(full, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


def external_fingerprints(externals: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Digests of the BR2_EXTERNAL trees, which Buildroot does not track either: per package
    (``package/**/<pkg>/`` holding a ``.mk``; ``host-<pkg>`` gets the same digest) and, as global
    fingerprints, each tree's own ``external.mk`` (it may change any package: a change there is
    a full clean).  A tree's ``Config.in`` and ``external.desc`` reach the build through
    ``.config`` and the paths, which the plan compares already."""
    packages: dict[str, str] = {}
    globals_: dict[str, str] = {}
    for index, tree in enumerate(externals):
        mk = os.path.join(tree, "external.mk")
        if os.path.isfile(mk):
            with open(mk, "rb") as f:
                globals_[f"external {index + 1} (external.mk)"] = xxhash.xxh3_128_hexdigest(f.read())
        for top, dirs, files in os.walk(os.path.join(tree, "package")):
            dirs.sort()
            if any(name.endswith(".mk") for name in files):
                name = os.path.basename(top)
                digest = xxhash.xxh3_128_hexdigest((packages.get(name, "") + _digest_tree(top)).encode())
                packages[name] = packages["host-" + name] = digest
    return packages, globals_


def overlay_files(config: str) -> list[str]:
    """The files and symlinks the root-filesystem overlays put into ``target/`` (paths relative
    to it, sorted), and their directories (with a trailing ``/``): what a later build must take
    out again when an overlay no longer has them."""
    m = _OVERLAYS.search(config)
    found: set[str] = set()
    for d in (m.group(1).split() if m else ()):
        for top, dirs, files in os.walk(d):
            for name in files + [x for x in dirs if os.path.islink(os.path.join(top, x))]:
                found.add(os.path.relpath(os.path.join(top, name), d))
            found.update(os.path.relpath(os.path.join(top, x), d) + "/" for x in dirs if not os.path.islink(os.path.join(top, x)))
    return sorted(found)


def fingerprints(config: str) -> dict[str, str]:
    """Per package, a digest of the inputs Buildroot does not track itself: the global patch
    directories' ``<pkg>/`` folders, the kernel/U-Boot/BusyBox fragments and patches, and their
    custom configuration files."""
    prints: dict[str, str] = {}
    for m in _PATHS.finditer(config):
        symbol, paths = m.group(1), m.group(2).split()
        if symbol == "BR2_GLOBAL_PATCH_DIR":
            for d in paths:
                if os.path.isdir(d):
                    for pkg in sorted(os.listdir(d)):
                        if os.path.isdir(os.path.join(d, pkg)):
                            prints[pkg] = xxhash.xxh3_128_hexdigest((prints.get(pkg, "") + _digest_tree(os.path.join(d, pkg))).encode())
            continue
        owner = "linux" if "LINUX" in symbol else "uboot" if "UBOOT" in symbol else "busybox"
        text = prints.get(owner, "")
        for p in paths:
            text += _digest_tree(p) if os.path.isdir(p) else (xxhash.xxh3_128_hexdigest(open(p, "rb").read()) if os.path.isfile(p) else p)
        prints[owner] = xxhash.xxh3_128_hexdigest(text.encode())
    return prints


@register_builder("buildroot-show-info")
def show_info(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    work = os.path.join(ctx.make_tmpdir(), "output")
    br = Buildroot(_invocation(ctx, spec, work), log_dir=str(ctx.tmpdir), on_line=lambda line: ctx.log.write(line + "\n"))
    br.defconfig()
    info = br.show_info()
    with open(ctx.out, "wb") as f:
        f.write(info.canonical_bytes())


@register_builder("buildroot")
def image(ctx: BuildContext) -> None:
    spec = spec_of(ctx)
    builds = SETTINGS.builds_dir or str(ctx.store_root / ".skiffeval" / "builds")
    os.makedirs(builds, exist_ok=True)
    if SETTINGS.pure:
        # A fresh directory, locked for as long as the build runs: `store gc` deletes the ones a
        # failed build left (kept for their logs) and never one in use.
        while True:
            output = os.path.join(builds, f"{PURE_PREFIX}{spec['system']}-{secrets.token_hex(4)}")
            with FileLock(_pure_lock_path(output)):
                try:
                    os.mkdir(output)
                except FileExistsError:
                    continue
                _build_image(ctx, spec, output)  # deletes the directory when it succeeds
                os.unlink(_pure_lock_path(output))
                return
    output = os.path.join(builds, spec["system"])
    # one build at a time in a kept build directory (two configurations of one system name
    # built at once would otherwise run make in the same O=); a build that waits says so
    lock = FileLock(ctx.store_root / ".skiffeval" / "locks" / f"build-{spec['system']}.lock")
    if not lock.acquire(blocking=False):
        message = f"waiting: another build of system '{spec['system']}' is using its build directory {output}"
        ctx.log.write(message + "\n")
        if SETTINGS.on_progress is not None:
            SETTINGS.on_progress(ctx.drv.name, ProgressEvent("", "", "wait", message, 0, None, 0.0, 0))
        lock.acquire()
    try:
        os.makedirs(output, exist_ok=True)
        _build_image(ctx, spec, output)
    finally:
        lock.release()


PURE_PREFIX = "pure-"


def _pure_lock_path(output: str) -> str:
    return os.path.join(os.path.dirname(output), f".{os.path.basename(output)}.lock")


def leftover_pure_builds(store_root: str | os.PathLike[str], *, delete: bool) -> list[tuple[str, int]]:
    """The ``--pure`` build directories failed builds left under ``<store>/.skiffeval/builds``
    (path, bytes), deleted with ``delete``; a directory whose build still runs is skipped."""
    builds = os.path.join(os.fspath(store_root), ".skiffeval", "builds")
    try:
        names = sorted(n for n in os.listdir(builds) if n.startswith(PURE_PREFIX))
    except FileNotFoundError:
        return []
    found: list[tuple[str, int]] = []
    for name in names:
        path = os.path.join(builds, name)
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        lock = FileLock(_pure_lock_path(path))
        if not lock.acquire(blocking=False):
            continue  # a build runs in it
        try:
            size = sum(os.lstat(os.path.join(top, f)).st_size for top, dirs, files in os.walk(path) for f in files + dirs)
            found.append((path, size))
            if delete:
                remove_tree(path)
                os.unlink(_pure_lock_path(path))
        finally:
            lock.release()
    return found


def _build_image(ctx: BuildContext, spec: dict, output: str) -> None:
    name = ctx.drv.name

    def on_line(line: str) -> None:
        ctx.log.write(line + "\n")
        if SETTINGS.on_line is not None:
            SETTINGS.on_line(name, line)

    def on_progress(event: object) -> None:
        if SETTINGS.on_progress is not None:
            SETTINGS.on_progress(name, event)

    br = Buildroot(_invocation(ctx, spec, output), log_dir=os.path.join(output, ".skiffeval-logs"),
                   on_line=on_line, on_progress=on_progress)
    info = parse_show_info(read_text(spec["show_info"])) if spec.get("show_info") else None
    state_path = os.path.join(output, ".skiffeval-state.json")
    previous = None
    saved = None
    # a directory that holds an earlier build (whether or not its record survived)
    earlier_build = os.path.exists(br.config_path) or os.path.isdir(os.path.join(output, "build"))
    if os.path.exists(state_path) and earlier_build:
        try:
            saved = json.loads(read_text(state_path))
        except ValueError:  # a record cut short by a crash is no record: build from a clean slate
            saved = None
    if saved is not None and saved.get("format") == STATE_FORMAT:
        previous = BuildState(
            config=saved["config"],
            show_info=parse_show_info(saved["show_info"]) if saved.get("show_info") else None,
            package_fingerprints=tuple(saved["package_fingerprints"].items()),
            global_fingerprints=tuple(saved["global_fingerprints"].items()),
            tracked_symbols=DEFAULT_TRACKED_SYMBOLS,
            overlay_files=saved["overlay_files"],
        )
    br.defconfig()
    config = br.read_config()
    external_prints, external_globals = external_fingerprints(_externals(spec))
    package_prints = fingerprints(config)
    for pkg, digest in external_prints.items():
        package_prints[pkg] = xxhash.xxh3_128_hexdigest((package_prints.get(pkg, "") + digest).encode())
    current = BuildState(
        config=config,
        show_info=info,
        package_fingerprints=tuple(package_prints.items()),
        global_fingerprints=(("buildroot", os.path.basename(spec["buildroot"])), *external_globals.items()),
        tracked_symbols=DEFAULT_TRACKED_SYMBOLS,  # their contents are in the fingerprints
        overlay_files=overlay_files(config),
    )
    applied = plan(previous, current, file_owners=installed_files(output) if previous is not None else None)
    ctx.log.write("".join(line + "\n" for line in applied.explain()))
    if earlier_build:  # without a (valid) record the plan is a full clean
        br.apply(applied, previous.show_info if previous is not None else None)
        if applied.full_clean:
            br.defconfig()  # 'make clean' keeps .config, but be exact (dircleans do not touch it)
    # which image the directory holds: none while it is being changed (see IMAGE_MARKER)
    marker = os.path.join(output, IMAGE_MARKER)
    if os.path.exists(marker):
        os.unlink(marker)
    # the state is written (atomically) before 'make': an interrupted build is judged against it
    with open(state_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump({
            "format": STATE_FORMAT,
            "config": config,
            "show_info": read_text(spec["show_info"]) if spec.get("show_info") else None,
            "package_fingerprints": dict(current.package_fingerprints),
            "global_fingerprints": dict(current.global_fingerprints),
            "overlay_files": sorted(current.overlay_files),
        }, f)
    os.replace(state_path + ".tmp", state_path)
    result = br.build(show_info=info)
    out = str(ctx.out)
    os.mkdir(out)
    shutil.copytree(result.images, os.path.join(out, "images"), symlinks=True)
    shutil.copyfile(br.config_path, os.path.join(out, "config"))
    if spec.get("show_info"):
        shutil.copyfile(spec["show_info"], os.path.join(out, "show-info.json"))
    source = read_buildroot_source(spec["buildroot"])
    manifest = {
        "system": spec["system"],
        "buildroot": spec["buildroot"],
        "buildroot_version": source.version_full or source.version,
        "packages": {p.key: p.version for p in info.packages} if info is not None else {},
        "inputs": {k: v for k, v in spec.items() if isinstance(v, str) and v.startswith(str(ctx.store_root))},
        "plan": applied.to_json(),
        "pure": SETTINGS.pure,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    if SETTINGS.pure:
        remove_tree(output)
    else:
        with open(marker, "w", encoding="utf-8") as f:
            f.write(ctx.drv.key + "\n")
