"""The incremental planner: symbol → package mapping, full rebuilds, fingerprints, cascades."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from skiffeval.buildroot.incremental import BuildState, SymbolMap, plan
from skiffeval.buildroot.showinfo import PackageInfo, ShowInfo


def info(**deps: tuple[str, ...]) -> ShowInfo:
    """A show-info whose packages are the keywords (``_`` → ``-``) with these dependencies."""
    entries = []
    for raw, ds in deps.items():
        name = raw.replace("_", "-")
        entries.append(PackageInfo(
            key=name, type="host" if name.startswith("host-") else "target", name=name.removeprefix("host-"),
            virtual=False, version="1", dependencies=tuple(sorted(ds)),
            package_dir="boot/" + name if name in ("uboot", "grub2") else "package/" + name,
        ))
    return ShowInfo.from_entries(entries)


BASE = {
    "BR2_ARCH": '"x86_64"', "BR2_x86_64": "y", "BR2_TOOLCHAIN_BUILDROOT_GLIBC": "y",
    "BR2_PACKAGE_BUSYBOX": "y", "BR2_PACKAGE_PYTHON3": "y", "BR2_PACKAGE_PYTHON_REQUESTS": "y",
    "BR2_PACKAGE_OPENSSL": "y", "BR2_PACKAGE_CTORRENT": "y", "BR2_LINUX_KERNEL": "y",
    "BR2_TARGET_UBOOT": "y", "BR2_PACKAGE_HOST_NCURSES": "y", "BR2_TARGET_GENERIC_HOSTNAME": '"a"',
    "BR2_ROOTFS_OVERLAY": '"/s/1-overlay"', "BR2_GLOBAL_PATCH_DIR": '"/s/1-patches"',
}
INFO = info(
    busybox=(), python3=("host-ncurses",), python_requests=("python3",), openssl=(), ctorrent=(),
    linux=("host-ncurses",), uboot=(), host_ncurses=(), kmod_module=("linux",),
)


def cfg(values: dict[str, str | None]) -> str:
    return "".join(f"{k}={v}\n" if v is not None else f"# {k} is not set\n" for k, v in values.items())


def state(changes=None, show_info=INFO, **kw) -> BuildState:
    values = dict(BASE)
    values.update(changes or {})
    return BuildState(cfg({k: v for k, v in values.items()}), show_info, **kw)


def test_symbol_to_package_mapping():
    m = SymbolMap(INFO.names | {"python"}, boot={"uboot"})
    assert m.package_of("BR2_PACKAGE_PYTHON_REQUESTS") == "python-requests"
    assert m.package_of("BR2_PACKAGE_PYTHON_REQUESTS_SOCKS") == "python-requests"  # longest prefix
    assert m.package_of("BR2_PACKAGE_PYTHON3_SSL") == "python3"
    assert m.package_of("BR2_PACKAGE_PYTHON_FOO") == "python"
    assert m.package_of("BR2_PACKAGE_HOST_NCURSES_WCHAR") == "host-ncurses"
    assert m.package_of("BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE") == "linux"
    assert m.package_of("BR2_TARGET_UBOOT_BOARD_DEFCONFIG") == "uboot"
    assert m.package_of("BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES") == "busybox"
    assert m.package_of("BR2_PACKAGE_OPENSSLX") is None  # a prefix must end at '_'
    assert m.package_of("BR2_TARGET_GENERIC_HOSTNAME") is None


def test_no_previous_state_is_a_full_clean():
    p = plan(None, state())
    assert p.full_clean and p.targets == ("clean",)
    assert p.diagnostic().code.code == "W300"
    assert plan(state(), state()).diagnostic() is None


def test_same_state_is_no_action():
    p = plan(state(), state())
    assert not p.full_clean and p.actions == () and p.notes == ()


def test_sub_option_change_dircleans_that_package_only():
    p = plan(state(), state({"BR2_PACKAGE_BUSYBOX_SHOW_OTHERS": "y"}))
    assert p.targets == ("busybox-dirclean",)
    assert p.actions[0].reasons == ("BR2_PACKAGE_BUSYBOX_SHOW_OTHERS: (unset) → y",)


def test_host_package_change_cascades_to_dependents():
    p = plan(state(), state({"BR2_PACKAGE_HOST_NCURSES_WCHAR": "y"}))
    assert p.packages == ("host-ncurses", "kmod-module", "linux", "python-requests", "python3")
    reasons = {a.package: a.reasons for a in p.actions}
    assert reasons["python-requests"] == ("depends on 'python3', which is rebuilt",)
    assert reasons["kmod-module"] == ("depends on 'linux', which is rebuilt",)


def test_kernel_symbol_and_fragment_fingerprint():
    p = plan(state(), state({"BR2_LINUX_KERNEL_INTREE_DTS_NAME": '"x"'}))
    assert p.packages == ("kmod-module", "linux")
    p = plan(state(package_fingerprints={"linux": "aaa", "busybox": "b"}),
             state(package_fingerprints={"linux": "bbb", "busybox": "b"}))
    assert p.packages == ("kmod-module", "linux")
    assert p.actions[1].reasons[0].startswith("its inputs changed")


def test_patch_fingerprint_with_tracked_global_patch_dir():
    tracked = {"BR2_GLOBAL_PATCH_DIR"}
    old = state(package_fingerprints={"openssl": "1"}, tracked_symbols=tracked)
    new = state({"BR2_GLOBAL_PATCH_DIR": '"/s/2-patches"'}, package_fingerprints={"openssl": "2"}, tracked_symbols=tracked)
    assert plan(old, new).packages == ("openssl",)
    # untracked, a new patch directory path applies to every package: full rebuild
    assert plan(state(), state({"BR2_GLOBAL_PATCH_DIR": '"/s/2-patches"'})).full_clean


def test_toolchain_and_architecture_changes_clean_everything():
    for change in [
        {"BR2_x86_64": None, "BR2_x86_corei7": "y"},
        {"BR2_ARCH": '"aarch64"'},
        {"BR2_TOOLCHAIN_BUILDROOT_GLIBC": None, "BR2_TOOLCHAIN_BUILDROOT_MUSL": "y"},
        {"BR2_GCC_VERSION_14_X": "y"},
        {"BR2_BINUTILS_VERSION_2_45_X": "y"},
        {"BR2_KERNEL_HEADERS_6_12": "y"},
        {"BR2_TARGET_OPTIMIZATION": '"-O3"'},
        {"BR2_OPTIMIZE_2": "y"},
        {"BR2_SHARED_STATIC_LIBS": "y"},
        {"BR2_INIT_SYSTEMD": "y"},
        {"BR2_PACKAGE_GLIBC_UTILS": "y"},
    ]:
        p = plan(state(), state(change))
        assert p.full_clean, change
        assert p.targets == ("clean",)


def test_global_fingerprint_removal_and_version_change_clean_everything():
    assert plan(state(global_fingerprints={"buildroot": "1"}), state(global_fingerprints={"buildroot": "2"})).full_clean
    smaller = info(**{k.replace("-", "_"): v.dependencies for k, v in ((p.key, p) for p in INFO.packages) if k != "ctorrent"})
    p = plan(state(), state({"BR2_PACKAGE_CTORRENT": None}, show_info=smaller))
    assert p.full_clean and "removed from the configuration: 'ctorrent'" in p.actions[0].reasons[0]
    bumped = ShowInfo.from_entries(
        PackageInfo(**{**{f: getattr(e, f) for f in ("key", "type", "name", "virtual", "dependencies", "package_dir")},
                       "version": "2" if e.key == "busybox" else e.version}) for e in INFO.entries
    )
    assert plan(state(), state(show_info=bumped)).full_clean


def test_optional_dependency_enabled_rebuilds_the_user():
    """The manual's example: enabling openssl must rebuild ctorrent."""
    without = info(busybox=(), ctorrent=())
    with_ssl = info(busybox=(), ctorrent=("openssl",), openssl=())
    old = state({"BR2_PACKAGE_OPENSSL": None, "BR2_PACKAGE_PYTHON3": None, "BR2_PACKAGE_PYTHON_REQUESTS": None}, show_info=without)
    new = state({"BR2_PACKAGE_PYTHON3": None, "BR2_PACKAGE_PYTHON_REQUESTS": None}, show_info=with_ssl)
    p = plan(old, new)
    assert not p.full_clean and p.packages == ("ctorrent",)
    assert p.actions[0].reasons == ("its dependencies changed: +openssl",)
    assert "'openssl' is new: make builds it" in p.notes


def test_reapplied_and_cross_package_symbols():
    p = plan(state(), state({"BR2_TARGET_GENERIC_HOSTNAME": '"b"', "BR2_ROOTFS_OVERLAY": '"/s/2-overlay"'}))
    assert p.actions == () and len(p.notes) == 2 and all("re-applied" in n for n in p.notes)
    p = plan(state(), state({"BR2_TARGET_GENERIC_GETTY_PORT": '"ttyS1"'}))
    assert p.packages == ("busybox",)  # busybox's inittab carries the getty


def test_without_show_info_packages_come_from_symbols():
    p = plan(state(show_info=None), state({"BR2_PACKAGE_PYTHON_REQUESTS_SOCKS": "y"}, show_info=None))
    assert p.packages == ("python-requests",)
    p = plan(state(show_info=None), state({"BR2_PACKAGE_OPENSSL": None}, show_info=None))
    assert p.full_clean


def test_explain_and_json():
    p = plan(state(), state({"BR2_PACKAGE_BUSYBOX_SHOW_OTHERS": "y", "BR2_DL_DIR": '"/x"'}))
    assert p.explain() == [
        "rebuild 'busybox' (make busybox-dirclean):",
        "  BR2_PACKAGE_BUSYBOX_SHOW_OTHERS: (unset) → y",
        'no rebuild: BR2_DL_DIR: (unset) → "/x" (does not change what is built (downloads, caches, parallelism))',
    ]
    assert p.to_json()["actions"][0]["target"] == "busybox-dirclean"


SYMS = ["BR2_PACKAGE_BUSYBOX_X", "BR2_PACKAGE_PYTHON3_SSL", "BR2_PACKAGE_HOST_NCURSES_Y", "BR2_TARGET_GENERIC_HOSTNAME",
        "BR2_LINUX_KERNEL_Z", "BR2_PACKAGE_OPENSSL_BIN", "BR2_ARCH", "BR2_ROOTFS_OVERLAY", "BR2_UNKNOWN"]


@given(
    st.dictionaries(st.sampled_from(SYMS), st.sampled_from(["y", '"a"', None]), max_size=5),
    st.dictionaries(st.sampled_from(sorted(INFO.names)), st.sampled_from(["1", "2"]), max_size=3),
    st.randoms(use_true_random=False),
)
def test_planner_is_deterministic_and_order_independent(changes, fps, rnd: random.Random):
    old = state(package_fingerprints={k: "1" for k in fps})
    new = state(changes, package_fingerprints=fps)
    first = plan(old, new)
    # the same configuration with its lines shuffled, and the mappings in another order
    lines = new.config.splitlines(keepends=True)
    rnd.shuffle(lines)
    items = list(fps.items())
    rnd.shuffle(items)
    shuffled = BuildState("".join(lines), INFO, package_fingerprints=items)
    assert plan(old, shuffled) == first
    assert plan(old, new) == first
    if first.full_clean:
        assert first.targets == ("clean",)
    else:
        assert list(first.packages) == sorted(first.packages) and set(first.packages) <= INFO.names


def test_files_an_overlay_no_longer_has_are_removed_or_given_back_by_their_package():
    old = state(overlay_files={"etc/issue", "etc/motd", "usr/bin/busybox", "etc/kept"})
    new = state(overlay_files={"etc/kept", "etc/new"})
    owners = {"usr/bin/busybox": ["busybox"], "etc/motd": ["gone-package"]}
    p = plan(old, new, file_owners=owners)
    assert not p.full_clean
    # a file only the overlay had is deleted; a package's own file comes back by rebuilding it,
    # without its dependents (they are built from nothing that changed)
    assert p.removals == ("etc/issue", "etc/motd")
    assert p.packages == ("busybox",)
    assert p.targets == ("busybox-dirclean",)  # make targets only
    assert [a["target"] for a in p.to_json()["actions"]] == ["rm target/etc/issue", "rm target/etc/motd", "busybox-dirclean"]
    assert "remove 'target/etc/issue':" in p.explain()
    # without ownership (no file lists): every such file is removed
    assert plan(old, new).removals == ("etc/issue", "etc/motd", "usr/bin/busybox")
    # files the overlays still have, or added ones, need nothing
    assert plan(new, state(overlay_files={"etc/kept", "etc/new", "etc/more"})).actions == ()
    # directories (a trailing /) come after the files, deepest first
    dirs = plan(state(overlay_files={"opt/", "opt/app/", "opt/app/bin/", "opt/app/bin/run", "etc/", "etc/x"}),
                state(overlay_files={"etc/", "etc/x"}))
    assert [a["target"] for a in dirs.to_json()["actions"]] == [
        "rm target/opt/app/bin/run", "rmdir target/opt/app/bin", "rmdir target/opt/app", "rmdir target/opt"]
