"""The driver against the mini-buildroot fixture: configure, show-info, build, failures, cleaning."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from skiffeval.buildroot import BuildrootError, codes
from skiffeval.buildroot.incremental import BuildState, plan
from tests.buildroot.helpers import EXTERNAL, FIXTURE, driver, needs_make, tree_files, write_source

pytestmark = needs_make

BASE = "BR2_PACKAGE_HELLO=y\nBR2_PACKAGE_LIBFOO=y\n"


def configured(tmp_path, dl_dir, text=BASE, **kw):
    br = driver(tmp_path, text, dl_dir, **kw)
    br.defconfig()
    return br


def test_defconfig_writes_config_from_br2_defconfig(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir, BASE + 'BR2_PACKAGE_HELLO_GREETING="ahoy"\nBR2_NOT_A_SYMBOL=y\n')
    config = br.read_config()
    assert "BR2_PACKAGE_HELLO=y\n" in config
    assert 'BR2_PACKAGE_HELLO_GREETING="ahoy"\n' in config
    assert "# BR2_PACKAGE_BROKEN is not set\n" in config
    assert "BR2_NOT_A_SYMBOL" not in config  # unknown symbols are dropped, as kconfig does
    assert f'BR2_DEFCONFIG="{tmp_path / "defconfig"}"' in config
    assert os.path.exists(br.log_path("defconfig"))


def test_defconfig_with_external_tree(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir, BASE + "BR2_PACKAGE_EXTPKG=y\n", externals=[EXTERNAL])
    assert "BR2_PACKAGE_EXTPKG=y" in br.read_config()
    remembered = (tmp_path / "out" / ".br2-external.mk").read_text()
    assert str(EXTERNAL) in remembered
    info = br.show_info()
    ext = info.get("extpkg")
    assert ext is not None and ext.package_dir == str(EXTERNAL / "package" / "extpkg")
    assert ext.dependencies == ("libfoo",)
    assert "extpkg" in info.get("libfoo").reverse_dependencies


def test_missing_defconfig_is_a_config_error(tmp_path, dl_dir):
    br = driver(tmp_path, BASE, dl_dir)
    os.unlink(br.invocation.defconfig)
    with pytest.raises(BuildrootError) as exc:
        br.defconfig()
    assert exc.value.code is codes.CONFIG_FAILED
    assert "Can't find default configuration" in exc.value.message


def test_external_without_desc_is_a_config_error(tmp_path, dl_dir):
    bad = tmp_path / "bad-external"
    bad.mkdir()
    br = driver(tmp_path, BASE, dl_dir, externals=[bad])
    with pytest.raises(BuildrootError) as exc:
        br.defconfig()
    assert exc.value.code is codes.CONFIG_FAILED
    assert "does not have an 'external.desc'" in exc.value.message


def test_olddefconfig_and_savedefconfig(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir)
    with open(br.config_path, "a") as f:
        f.write("BR2_PACKAGE_BROKEN=y\n")
    br.olddefconfig()
    assert br.read_config().count("BR2_PACKAGE_BROKEN") == 2  # the symbol and its sub-option
    saved = br.savedefconfig()
    assert saved == str(tmp_path / "out" / "defconfig")
    text = Path(saved).read_text()
    assert "BR2_PACKAGE_BROKEN=y" in text and "BR2_PACKAGE_HELLO=y" in text
    assert "BR2_DEFCONFIG" not in text and "BR2_ARCH" not in text  # defaults are not saved


def test_show_info_lists_enabled_packages_and_dependencies(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir)
    info = br.show_info()
    assert sorted(info.names) == ["hello", "host-tool", "libfoo"]
    assert info.total == 3
    hello = info.get("hello")
    assert (hello.type, hello.version, hello.dependencies) == ("target", "1.0", ("host-tool", "libfoo"))
    tool = info.get("host-tool")
    assert (tool.type, tool.name, tool.install_target) == ("host", "tool", None)
    assert info.get("libfoo").patches == ("package/libfoo/0001-fix-the-build.patch",)
    assert info.get("rootfs-tar").type == "rootfs"
    assert br.show_info_text().startswith("{")


def test_build_writes_images_and_reports_progress_in_order(tmp_path, dl_dir):
    events, lines = [], []
    br = configured(tmp_path, dl_dir, lines=lines, events=events)
    info = br.show_info()
    result = br.build(info)
    assert result.result.ok and (result.done, result.total) == (3, 3)
    with tarfile.open(os.path.join(result.images, "rootfs.tar")) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        assert names == ["./etc/hostname", "./usr/bin/hello", "./usr/lib/libfoo.so.2"]
        assert tar.extractfile("./usr/bin/hello").read() == b"hello 1.0 says hello with libfoo\n"
    for pkg in ("hello-1.0", "libfoo-2.1", "host-tool-0.3"):
        assert (tmp_path / "out" / "build" / pkg / ".stamp_installed").exists()
    # progress: host-tool and libfoo before hello's configure step; done counts grow to 3 of 3
    steps = [(e.package, e.step) for e in events if e.package]
    assert steps.index(("host-tool", "install-host")) < steps.index(("hello", "configure"))
    assert steps.index(("libfoo", "install-target")) < steps.index(("hello", "configure"))
    assert [e.step for e in events if e.package == "libfoo"] == [
        "extract", "patch", "configure", "build", "install-staging", "install-target"
    ]
    dones = [e.done for e in events]
    assert dones == sorted(dones) and dones[0] == 0 and all(e.total == 3 for e in events)
    assert events[-1].message == "Generating filesystem image rootfs.tar" and events[-1].done == 3
    assert all(e.elapsed >= 0 for e in events)
    assert any(line.startswith(">>> hello 1.0 Building") for line in lines)
    assert "hello 1.0 Building" in Path(br.log_path("build")).read_text()


def test_build_is_deterministic(tmp_path, dl_dir):
    images = []
    for run in ("a", "b"):
        br = configured(tmp_path / run, dl_dir)
        images.append((Path(br.build().images) / "rootfs.tar").read_bytes())
    assert images[0] == images[1]


def test_rebuild_counts_complete_packages_as_done(tmp_path, dl_dir):
    events = []
    br = configured(tmp_path, dl_dir, events=events)
    info = br.show_info()
    br.build(info)
    events.clear()
    result = br.build(info)
    assert (result.done, result.total) == (3, 3)
    assert [e.package for e in events if e.package] == []  # nothing rebuilt


def test_failing_package_reports_package_step_and_last_lines(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir, BASE + "BR2_PACKAGE_BROKEN=y\nBR2_PACKAGE_BROKEN_FAIL=y\n")
    info = br.show_info()
    with pytest.raises(BuildrootError) as exc:
        br.build(info)
    failure = exc.value.failure
    assert exc.value.code is codes.PACKAGE_FAILED
    assert (failure.kind, failure.package, failure.version, failure.step) == ("package", "broken", "0.9", "build")
    assert len(failure.tail) == 30
    assert any(line.startswith("make: *** [") and ".stamp_built] Error 1" in line for line in failure.tail[-3:])
    assert any("error: expected ';'" in line for line in failure.tail)
    assert all("libfoo" not in line for line in failure.tail)  # only the failing package's lines
    assert "package 'broken' 0.9 failed at step 'build'" == exc.value.message
    assert failure.log_path == br.log_path("build")


def test_failing_download_names_package_url_and_offline_hint(tmp_path, dl_dir):
    os.unlink(dl_dir / "libfoo" / "libfoo-2.1.tar")
    br = configured(tmp_path, dl_dir)
    info = br.show_info()
    with pytest.raises(BuildrootError) as exc:
        br.build(info)
    failure = exc.value.failure
    assert exc.value.code is codes.DOWNLOAD_FAILED
    assert (failure.package, failure.step, failure.offline) == ("libfoo", "download", True)
    assert failure.urls == ("http://sources.mini.invalid/libfoo/libfoo-2.1.tar",)
    assert failure.source == "libfoo-2.1.tar"
    assert "http://sources.mini.invalid/libfoo/libfoo-2.1.tar" in exc.value.message
    assert "network is unreachable" in exc.value.message
    text = "\n".join(exc.value.help)
    assert f"'libfoo-2.1.tar' into '{dl_dir / 'libfoo'}/'" in text
    assert "--dl-dir" in text and "BR2_PRIMARY_SITE" in text


def test_primary_site_mirror_provides_sources_offline(tmp_path, dl_dir):
    os.unlink(dl_dir / "libfoo" / "libfoo-2.1.tar")
    mirror = tmp_path / "mirror"
    write_source(mirror, "", "libfoo-2.1.tar")
    br = configured(tmp_path, dl_dir, make_vars={"BR2_PRIMARY_SITE": f"file://{mirror}"})
    assert br.build().result.ok
    assert (dl_dir / "libfoo" / "libfoo-2.1.tar").exists()


def test_dirclean_and_clean(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir)
    info = br.show_info()
    br.build(info)
    build = tmp_path / "out" / "build"
    br.dirclean(["hello"])
    assert not (build / "hello-1.0").exists() and (build / "libfoo-2.1").exists()
    events = []
    br.on_progress = events.append
    br.build(info)
    assert {e.package for e in events if e.package} == {"hello"}
    br.clean()
    assert not build.exists() and not (tmp_path / "out" / "images").exists()
    assert (tmp_path / "out" / ".config").exists()


def test_dirclean_of_unknown_package_is_a_config_error(tmp_path, dl_dir):
    br = configured(tmp_path, dl_dir)
    with pytest.raises(BuildrootError) as exc:
        br.dirclean(["nosuchpkg"])
    assert exc.value.code is codes.CONFIG_FAILED
    assert "not a package of this configuration" in exc.value.help[0]


def test_incremental_plan_matches_a_pure_build(tmp_path, dl_dir):
    """Change a sub-option and enable an optional dependency; the planned rebuild in the kept
    directory gives the same image as a build from scratch."""
    old_text = "BR2_PACKAGE_HELLO=y\n"
    new_text = 'BR2_PACKAGE_HELLO=y\nBR2_PACKAGE_EXTPKG=y\nBR2_PACKAGE_LIBFOO=y\nBR2_PACKAGE_HELLO_GREETING="hi"\n'
    br = configured(tmp_path / "kept", dl_dir, old_text, externals=[EXTERNAL])
    old_info = br.show_info()
    br.build(old_info)
    before = BuildState(br.read_config(), old_info)

    br2 = configured(tmp_path / "kept", dl_dir, new_text, externals=[EXTERNAL])
    new_info = br2.show_info()
    the_plan = plan(before, BuildState(br2.read_config(), new_info))
    assert not the_plan.full_clean and the_plan.packages == ("hello",)
    br2.apply(the_plan)
    kept = br2.build(new_info)

    pure = configured(tmp_path / "pure", dl_dir, new_text, externals=[EXTERNAL]).build()
    assert tree_files(str(tmp_path / "kept" / "out" / "target")) == tree_files(str(tmp_path / "pure" / "out" / "target"))
    assert (Path(kept.images) / "rootfs.tar").read_bytes() == (Path(pure.images) / "rootfs.tar").read_bytes()


def test_dircleans_described_by_show_info_need_no_make_call(tmp_path, dl_dir):
    """With the cleaned build's show-info a dirclean is Buildroot's own rule, rm -Rf of the
    package's directory, done without make; the result still matches a pure build."""
    br = configured(tmp_path / "kept", dl_dir, "BR2_PACKAGE_HELLO=y\n")
    old_info = br.show_info()
    br.build(old_info)
    hello_dir = tmp_path / "kept" / "out" / old_info.get("hello").stamp_dir
    assert hello_dir.is_dir()
    before = BuildState(br.read_config(), old_info)
    br2 = configured(tmp_path / "kept", dl_dir, 'BR2_PACKAGE_HELLO=y\nBR2_PACKAGE_HELLO_GREETING="hi"\n')
    new_info = br2.show_info()
    the_plan = plan(before, BuildState(br2.read_config(), new_info))
    assert the_plan.packages == ("hello",)
    assert br2.apply(the_plan, old_info) == []  # no make call
    assert not hello_dir.exists()
    assert f"rm -Rf {hello_dir}" in Path(br2.log_path("dirclean")).read_text()
    kept = br2.build(new_info)
    pure = configured(tmp_path / "pure", dl_dir, 'BR2_PACKAGE_HELLO=y\nBR2_PACKAGE_HELLO_GREETING="hi"\n').build()
    assert (Path(kept.images) / "rootfs.tar").read_bytes() == (Path(pure.images) / "rootfs.tar").read_bytes()


def test_without_the_plan_buildroot_keeps_stale_packages(tmp_path, dl_dir):
    """The reason the planner exists: Buildroot alone does not rebuild on a config change."""
    br = configured(tmp_path, dl_dir, "BR2_PACKAGE_HELLO=y\n")
    br.build()
    br2 = configured(tmp_path, dl_dir, 'BR2_PACKAGE_HELLO=y\nBR2_PACKAGE_HELLO_GREETING="hi"\n')
    br2.build()
    assert (tmp_path / "out" / "target" / "usr" / "bin" / "hello").read_text() == "hello 1.0 says hello alone\n"


def test_environment_is_controlled(tmp_path, dl_dir, monkeypatch):
    monkeypatch.setenv("MAKEFLAGS", "-k")
    monkeypatch.setenv("SECRET_TOKEN", "x")
    br = driver(tmp_path, BASE, dl_dir, jobs=3, source_date_epoch=42, passthrough=("HOME",))
    env = br.invocation.environment()
    assert set(env) <= {"PATH", "HOME", "LC_ALL", "BR2_DL_DIR", "SOURCE_DATE_EPOCH"}
    assert env["LC_ALL"] == "C" and env["SOURCE_DATE_EPOCH"] == "42" and env["BR2_DL_DIR"] == str(dl_dir)
    assert br.invocation.command() [-1] == "BR2_JLEVEL=3"
    br.defconfig()
    assert br.build().result.ok
