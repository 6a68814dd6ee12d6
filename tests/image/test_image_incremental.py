"""Incremental rebuilds as ``skiffeval build -A image`` applies them in the kept build directory
(``<store>/.skiffeval/builds/<system>``), on the extended mini-buildroot fixture: each test
builds a base configuration, changes one thing, builds again, and checks the plan the manifest
records, the fixture's stamp files (which packages were really rebuilt) and the image.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from tests.buildroot.helpers import needs_make
from tests.image.helpers import board, build_dir, extra_buildroot, fill_dl, manifest, plan_targets, rootfs, sk, stamps

pytestmark = needs_make

BASE = "BR2_LINUX_KERNEL = true; BR2_PACKAGE_PROBE = true;"
EXTRA = "patches.buildroot = ./patches; kernel = [ ./kernel.conf ];"
ALL = {"hello-1.0", "host-tool-0.3", "libfoo-2.1", "linux-6.1", "probe-0.1"}


class Board:
    """A board on the extended fixture in ``d``, its inputs, and its builds."""

    def __init__(self, d: Path) -> None:
        self.d = d
        self.source = extra_buildroot(d.parent / f"{d.name}-br")
        fill_dl(d / "dl", extra=True)
        self.patch("libfoo", "0001-libfoo.patch", "--- a/foo.c\n+++ b/foo.c\n")
        self.patch("probe", "0001-probe.patch", "--- a/probe.c\n+++ b/probe.c\n")
        (d / "kernel.conf").write_text("CONFIG_NET=y\n")
        self.write(BASE)

    def patch(self, pkg: str, name: str, text: str) -> None:
        (self.d / "patches" / pkg).mkdir(parents=True, exist_ok=True)
        (self.d / "patches" / pkg / name).write_text(text)

    def write(self, buildroot: str, extra: str = EXTRA, overlay: str = "") -> None:
        board(self.d, buildroot=buildroot, extra=extra, source=self.source, overlay=overlay)

    def build(self, *args: str, store: str = "store"):
        r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl", "--json", *args], self.d, store=store)
        assert r.code == 0, r.err
        return json.loads(r.out)

    @property
    def out(self) -> Path:
        return build_dir(self.d)

    def stamps(self) -> dict[str, float]:
        return stamps(self.out)

    def plan(self) -> dict:
        return manifest(self.d / "result")["plan"]


@pytest.fixture
def b(tmp_path) -> Board:
    b = Board(tmp_path / "board")
    b.build()
    return b


def rebuilt(before: dict[str, float], after: dict[str, float]) -> set[str]:
    """Package directories whose stamps were written again (or are new)."""
    return {k.split("/")[0] for k, t in after.items() if before.get(k) != t}


def test_the_first_build_builds_every_package(b):
    assert {k.split("/")[0] for k in b.stamps()} == ALL
    assert plan_targets(b.d / "result") == ["clean"]
    files = rootfs(b.d / "result")
    assert files["boot/kernel-config"] == b"linux 6.1: CONFIG_NET=y \n"


def test_unchanged_configuration_builds_nothing(b):
    before = b.stamps()
    data = b.build()
    assert data["built"] == 0
    # a comment in the board changes no derivation either
    (b.d / "board.sk").write_text((b.d / "board.sk").read_text() + "# a comment\n")
    data = b.build()
    assert data["built"] == 0
    assert b.stamps() == before


def test_a_changed_package_symbol_dircleans_that_package(b):
    before = b.stamps()
    b.write(BASE + ' BR2_PACKAGE_HELLO_GREETING = "hey";')
    b.build()
    plan = b.plan()
    assert plan["full_clean"] is False
    assert plan["actions"] == [{"target": "hello-dirclean", "package": "hello",
                                "reasons": ['BR2_PACKAGE_HELLO_GREETING: "hello" → "hey"']}]
    assert rebuilt(before, b.stamps()) == {"hello-1.0"}
    assert rootfs(b.d / "result")["usr/bin/hello"] == b"hello 1.0 says hey with libfoo\n"


def test_a_changed_library_symbol_dircleans_it_and_what_depends_on_it(b):
    before = b.stamps()
    b.write(BASE + " BR2_PACKAGE_LIBFOO_FAST = true;")
    b.build()
    actions = {a["package"]: a["reasons"] for a in b.plan()["actions"]}
    assert actions == {
        "libfoo": ["BR2_PACKAGE_LIBFOO_FAST: (unset) → y"],
        "hello": ["depends on 'libfoo', which is rebuilt"],
    }
    assert rebuilt(before, b.stamps()) == {"libfoo-2.1", "hello-1.0"}
    assert rootfs(b.d / "result")["usr/lib/libfoo.so.2"] == b"libfoo 2.1 fast\n"


def test_a_changed_kernel_fragment_dircleans_linux(b):
    before = b.stamps()
    (b.d / "kernel.conf").write_text("CONFIG_NET=y\nCONFIG_USB=y\n")
    b.build()
    assert plan_targets(b.d / "result") == ["linux-dirclean"]
    assert rebuilt(before, b.stamps()) == {"linux-6.1"}
    assert rootfs(b.d / "result")["boot/kernel-config"] == b"linux 6.1: CONFIG_NET=y CONFIG_USB=y \n"


def test_a_changed_patch_dircleans_its_package(b):
    before = b.stamps()
    b.patch("probe", "0001-probe.patch", "--- a/probe.c\n+++ b/probe.c\n@@ -1 +1 @@\n")
    b.build()
    assert plan_targets(b.d / "result") == ["probe-dirclean"]
    assert rebuilt(before, b.stamps()) == {"probe-0.1"}


def test_a_changed_library_patch_dircleans_it_and_what_depends_on_it(b):
    b.patch("libfoo", "0002-more.patch", "--- a/bar.c\n+++ b/bar.c\n")
    b.build()
    assert plan_targets(b.d / "result") == ["hello-dirclean", "libfoo-dirclean"]


def test_a_changed_patch_is_rebuilt_into_the_image(b):
    """Whatever the plan, the patched package is rebuilt with its new patch."""
    old = rootfs(b.d / "result")["usr/share/probe"]
    b.patch("probe", "0001-probe.patch", "--- a/probe.c\n+++ b/probe.c\n@@ -1 +1 @@\n")
    b.build()
    assert "probe-dirclean" in plan_targets(b.d / "result") or b.plan()["full_clean"]
    assert rootfs(b.d / "result")["usr/share/probe"] != old


def test_an_architecture_change_cleans_everything(b):
    before = b.stamps()
    b.write(BASE + " BR2_x86_64 = false;")
    b.build()
    plan = b.plan()
    assert plan["full_clean"] is True and plan_targets(b.d / "result") == ["clean"]
    assert any("BR2_x86_64: y → (unset)" in r and "architecture" in r for r in plan["actions"][0]["reasons"])
    after = b.stamps()
    assert rebuilt(before, after) == ALL and set(after) == set(before)


def test_a_toolchain_change_cleans_everything(b):
    before = b.stamps()
    b.write(BASE, EXTRA + ' cflags = [ "-O3" ];')
    b.build()
    plan = b.plan()
    assert plan["full_clean"] is True
    assert any("BR2_TARGET_OPTIMIZATION" in r and "toolchain" in r for r in plan["actions"][0]["reasons"])
    assert rebuilt(before, b.stamps()) == ALL


def test_a_removed_package_cleans_everything(b):
    b.write("BR2_LINUX_KERNEL = true;")
    b.build()
    plan = b.plan()
    assert plan["full_clean"] is True
    assert any("removed from the configuration: 'probe'" in r for r in plan["actions"][0]["reasons"])
    assert "usr/share/probe" not in rootfs(b.d / "result")


def test_a_new_package_is_built_without_cleaning_anything(b):
    before = b.stamps()
    b.write(BASE + " BR2_PACKAGE_SLOW = true;")
    b.build()
    plan = b.plan()
    assert plan["actions"] == [] and "'slow' is new: make builds it" in plan["notes"]
    assert rebuilt(before, b.stamps()) == {"slow-0.1"}


def test_overlay_and_hostname_changes_rebuild_no_package(b):
    before = b.stamps()
    b.write(BASE + ' BR2_TARGET_GENERIC_HOSTNAME = "other";', overlay='"etc/issue" = "welcome\\n";')
    data = b.build()
    assert data["built"] >= 1
    plan = b.plan()
    assert plan["actions"] == []
    notes = "\n".join(plan["notes"])
    assert "BR2_ROOTFS_OVERLAY" in notes and "BR2_TARGET_GENERIC_HOSTNAME" in notes
    assert b.stamps() == before
    files = rootfs(b.d / "result")
    assert files["etc/hostname"] == b"other\n" and files["etc/issue"] == b"welcome\n"


def test_incremental_images_equal_pure_ones(b):
    """After a chain of incremental builds, the image equals a --pure build's (another store)."""
    b.write(BASE + ' BR2_PACKAGE_HELLO_GREETING = "hey"; BR2_PACKAGE_LIBFOO_FAST = true;')
    b.build()
    (b.d / "kernel.conf").write_text("CONFIG_USB=y\n")
    b.build()
    incremental = (b.d / "result" / "images" / "rootfs.tar").read_bytes()
    # (a --pure build in a store that never built an image fails: see test_image_pure.py)
    (b.d / "pure-store" / ".skiffeval" / "builds").mkdir(parents=True)
    b.build("--pure", "-o", "pure", store="pure-store")
    assert (b.d / "pure" / "images" / "rootfs.tar").read_bytes() == incremental
    assert manifest(b.d / "pure")["pure"] is True


def test_a_changed_buildroot_source_cleans_everything(b):
    before = b.stamps()
    with open(b.source / "Makefile", "a") as f:
        f.write("# an edit of the Buildroot tree\n")
    b.build()
    plan = b.plan()
    assert plan["full_clean"] is True
    assert any(r.startswith("'buildroot' changed") for r in plan["actions"][0]["reasons"])
    assert rebuilt(before, b.stamps()) == ALL


def test_a_changed_host_package_symbol_dircleans_it_and_its_dependents(b):
    before = b.stamps()
    b.write(BASE + " BR2_PACKAGE_HOST_TOOL = true;")
    b.build()
    actions = {a["package"]: a["reasons"] for a in b.plan()["actions"]}
    assert actions["host-tool"] == ["BR2_PACKAGE_HOST_TOOL: (unset) → y"]
    assert set(actions) == {"host-tool", "hello", "linux"}  # both depend on host-tool
    assert rebuilt(before, b.stamps()) == {"host-tool-0.3", "hello-1.0", "linux-6.1"}


def test_a_build_directory_without_its_record_is_cleaned(b):
    (b.out / ".skiffeval-state.json").unlink()
    b.write(BASE + ' BR2_PACKAGE_HELLO_GREETING = "hey";')
    b.build()
    assert b.plan()["full_clean"] is True
    assert rootfs(b.d / "result")["usr/bin/hello"] == b"hello 1.0 says hey with libfoo\n"


def test_a_build_directory_without_its_config_builds_the_new_configuration(b):
    # the record still says what the directory holds: the plan is judged against it
    (b.out / ".config").unlink()
    b.write(BASE + ' BR2_PACKAGE_HELLO_GREETING = "hey";')
    b.build()
    assert rootfs(b.d / "result")["usr/bin/hello"] == b"hello 1.0 says hey with libfoo\n"


def test_a_changed_custom_kernel_configuration_dircleans_linux(b):
    (b.d / "linux.config").write_text("CONFIG_A=y\n")
    custom = BASE + ' BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE = "${./linux.config}";'
    b.write(custom)
    b.build()
    assert rootfs(b.d / "result")["boot/kernel-config"] == b"linux 6.1: CONFIG_A=y CONFIG_NET=y \n"
    (b.d / "linux.config").write_text("CONFIG_A=y\nCONFIG_B=y\n")
    b.build()
    assert plan_targets(b.d / "result") == ["linux-dirclean"]
    assert rootfs(b.d / "result")["boot/kernel-config"] == b"linux 6.1: CONFIG_A=y CONFIG_B=y CONFIG_NET=y \n"


def _board_with_external(tmp_path: Path) -> Board:
    """A board whose layer adds a copy of the fixture external tree (``ext/``) and enables its
    package; built once."""
    import shutil

    from tests.buildroot.helpers import EXTERNAL

    b = Board(tmp_path / "board")
    shutil.copytree(EXTERNAL, b.d / "ext")
    b.write(BASE + " BR2_PACKAGE_EXTPKG = true;", EXTRA + " external = [ ./ext ];")
    b.build()
    return b


def test_a_changed_external_tree_rebuilds_its_packages(tmp_path):
    b = _board_with_external(tmp_path)
    assert rootfs(b.d / "result")["usr/bin/extpkg"] == b"extpkg 1.2 from the fixture external tree of skiffeval\n"
    recipe = b.d / "ext" / "package" / "extpkg" / "extpkg.mk"
    recipe.write_text(recipe.read_text().replace(" from ", " of "))
    b.build()
    assert "extpkg-dirclean" in plan_targets(b.d / "result") or b.plan()["full_clean"]
    assert rootfs(b.d / "result")["usr/bin/extpkg"] == b"extpkg 1.2 of the fixture external tree of skiffeval\n"


def test_a_file_removed_from_the_overlay_leaves_the_image(b):
    b.write(BASE, overlay='"etc/issue" = "welcome\\n";')
    b.build()
    assert "etc/issue" in rootfs(b.d / "result")
    before = b.stamps()
    b.write(BASE, overlay='"etc/other" = "other\\n";')  # (not the first overlay again: that image is valid)
    b.build()
    files = rootfs(b.d / "result")
    assert "etc/other" in files and "etc/issue" not in files
    assert plan_targets(b.d / "result") == ["rm target/etc/issue"]  # no package rebuilt
    assert b.stamps() == before
    # the same image as a build from scratch
    b.build("--pure", "-o", "pure")
    assert rootfs(b.d / "pure") == files


def test_an_overlay_file_over_a_packages_own_file_gives_the_packages_file_back(b):
    b.write(BASE, overlay='"usr/bin/hello" = "from the overlay\\n";')
    b.build()
    assert rootfs(b.d / "result")["usr/bin/hello"] == b"from the overlay\n"
    b.write(BASE, overlay='"etc/other" = "other\\n";')
    b.build()
    assert plan_targets(b.d / "result") == ["hello-dirclean"]
    assert "overlays no longer have 'usr/bin/hello'" in b.plan()["actions"][0]["reasons"][0]
    assert rootfs(b.d / "result")["usr/bin/hello"] == b"hello 1.0 says hello with libfoo\n"


def test_a_changed_external_mk_is_a_full_clean(tmp_path):
    b = _board_with_external(tmp_path)
    mk = b.d / "ext" / "external.mk"
    mk.write_text(mk.read_text() + "# changed\n")
    b.build()
    assert b.plan()["full_clean"] is True
    assert any("external.mk" in r for r in b.plan()["actions"][0]["reasons"])


def test_a_package_that_now_installs_other_files_leaves_none_of_the_old_ones(b):
    b.write(BASE + ' BR2_PACKAGE_PROBE_PATH = "usr/share/probe-a";')
    b.build()
    assert "usr/share/probe-a" in rootfs(b.d / "result")
    b.write(BASE + ' BR2_PACKAGE_PROBE_PATH = "usr/share/probe-b";')
    b.build()
    assert plan_targets(b.d / "result") == ["probe-dirclean"]
    files = rootfs(b.d / "result")
    assert "usr/share/probe-b" in files and "usr/share/probe-a" not in files
    b.build("--pure", "-o", "pure")
    assert rootfs(b.d / "pure") == files


def test_a_patch_that_does_not_apply_is_named(b):
    b.build()
    b.patch("libfoo", "0002-clash.patch", "FAIL: this hunk does not match libfoo's sources\n")
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], b.d)
    assert r.code == 1
    assert "error[E302]: " in r.err
    assert "package 'libfoo' 2.1 failed at step 'patch': the patch '0002-clash.patch' does not apply" in r.err
    # where it is: the system's patch directories in the store, under the layer that gave it
    assert re.search(r"help: the patch is \S+-mini-patches/buildroot/\d\d-mini-board/libfoo/0002-clash\.patch", r.err), r.err
    assert "Patch failed!  Please fix 0002-clash.patch!" in r.err  # the package's own last lines


def _dirs(result_link: Path) -> set[str]:
    with tarfile.open(result_link / "images" / "rootfs.tar") as tar:
        return {m.name.removeprefix("./") for m in tar.getmembers() if m.isdir()}


def test_a_directory_only_the_overlays_made_goes_with_them(b):
    b.write(BASE, overlay='"etc/myapp/conf.d/a.conf" = "a\\n"; "usr/bin/hello-extra" = "x\\n";')
    b.build()
    assert {"etc/myapp", "etc/myapp/conf.d"} <= _dirs(b.d / "result")
    b.write(BASE, overlay='"etc/other" = "other\\n";')
    b.build()
    assert plan_targets(b.d / "result") == [
        "rm target/etc/myapp/conf.d/a.conf", "rm target/usr/bin/hello-extra",
        "rmdir target/etc/myapp/conf.d", "rmdir target/etc/myapp",
    ]  # deepest first; usr/bin and usr stay: the hello package installs into them
    dirs = _dirs(b.d / "result")
    assert "etc/myapp" not in dirs and "etc/myapp/conf.d" not in dirs
    assert "usr/bin" in dirs and "etc" in dirs  # a package's files are there; the overlay still has etc/
    # the same image as a build from scratch, directories included
    b.build("--pure", "-o", "pure")
    assert _dirs(b.d / "pure") == dirs and rootfs(b.d / "pure") == rootfs(b.d / "result")
