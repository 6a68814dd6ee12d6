"""The build directory of an image: ``--pure`` (an empty directory, the reference for incremental
builds), the kept directory per system, what reaches Buildroot's command line (job count), and
the settings a session hands to the builder."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.session import BuildRequest, Session, SessionOptions
from tests.buildroot.helpers import needs_make
from tests.image.helpers import board, build_dir, extra_buildroot, fill_dl, manifest, rootfs, sk, stamps

pytestmark = needs_make


def build(d: Path, *args: str, store: str = "store") -> dict:
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl", "--json", *args], d, store=store)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_pure_builds_in_an_empty_directory_and_leaves_the_kept_one_alone(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hi";')
    build(tmp_path)
    kept = build_dir(tmp_path)
    before = (stamps(kept), (kept / ".config").read_text(), (kept / ".skiffeval-state.json").read_text())

    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hey";')
    build(tmp_path, "--pure", "-o", "pure")
    m = manifest(tmp_path / "pure")
    assert m["pure"] is True
    assert [a["target"] for a in m["plan"]["actions"]] == ["clean"]  # nothing recorded: all built
    assert rootfs(tmp_path / "pure")["usr/bin/hello"] == b"hello 1.0 says hey with libfoo\n"
    # the kept directory is as the incremental build left it, and no pure directory is left over
    assert (stamps(kept), (kept / ".config").read_text(), (kept / ".skiffeval-state.json").read_text()) == before
    assert sorted(os.listdir(kept.parent)) == ["mini"]

    # the same configuration built incrementally (in another store) gives the same images/
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hi";')
    build(tmp_path, "-o", "inc", store="store2")
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hey";')
    build(tmp_path, "-o", "inc", store="store2")
    assert [a["target"] for a in manifest(tmp_path / "inc")["plan"]["actions"]] == ["hello-dirclean"]
    assert (tmp_path / "inc" / "images" / "rootfs.tar").read_bytes() == (tmp_path / "pure" / "images" / "rootfs.tar").read_bytes()


def test_pure_works_in_a_fresh_store(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path)
    build(tmp_path, "--pure")
    assert manifest(tmp_path / "result")["pure"] is True


def test_systems_of_one_name_built_at_once_do_not_share_a_build_directory(tmp_path, monkeypatch):
    # The two image builds are made to reach the build directory's lock together (a barrier in
    # front of the builder), so the second one waits whatever the machine's speed; without the
    # barrier one build's dependencies may finish after the other image is built, and nothing
    # would be shared to begin with.
    from skiffeval.builders import buildroot_image, registry

    both = threading.Barrier(2, timeout=120)

    def met(ctx):
        both.wait()
        return buildroot_image.image(ctx)

    monkeypatch.setitem(registry._REGISTRY, "buildroot", met)
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot='BR2_PACKAGE_SLOW = true; BR2_PACKAGE_HELLO_GREETING = "a";', source=source, file="a.sk")
    board(tmp_path, buildroot='BR2_PACKAGE_SLOW = true; BR2_PACKAGE_HELLO_GREETING = "b";', source=source, file="b.sk")
    r = sk(["build", "a.sk", "b.sk", "-A", "image", "--dl-dir", "dl", "-j", "2"], tmp_path)
    assert r.code == 0, r.err
    assert "waiting: another build of system 'mini' is using its build directory" in r.err  # the second says why it waits
    overlaps = tmp_path / "store" / ".skiffeval" / "builds" / "overlaps"
    assert not overlaps.exists(), overlaps.read_text()
    assert rootfs(tmp_path / "result")["usr/bin/hello"] == b"hello 1.0 says a with libfoo\n"
    assert rootfs(tmp_path / "result-2")["usr/bin/hello"] == b"hello 1.0 says b with libfoo\n"


def test_systems_of_one_name_built_one_after_the_other_are_correct(tmp_path):
    """They share the kept directory; the incremental plan keeps each image right."""
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "a";', source=source, file="a.sk")
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "b"; BR2_PACKAGE_LIBFOO = false;', source=source, file="b.sk")
    for name, text in (("a", b"hello 1.0 says a with libfoo\n"), ("b", b"hello 1.0 says b alone\n")):
        r = sk(["build", f"{name}.sk", "-A", "image", "--dl-dir", "dl", "-o", name], tmp_path)
        assert r.code == 0, r.err
        assert rootfs(tmp_path / name)["usr/bin/hello"] == text
    assert manifest(tmp_path / "b")["plan"]["full_clean"] is True  # libfoo was removed


def test_without_j_the_configurations_job_count_reaches_the_packages(tmp_path):
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot="BR2_PACKAGE_PROBE = true; BR2_JLEVEL = 3;", source=source)
    build(tmp_path)
    assert rootfs(tmp_path / "result")["usr/share/probe"].startswith(b"jlevel=3 ")


def test_cores_sets_the_make_job_count_for_one_build(tmp_path):
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot="BR2_PACKAGE_PROBE = true; BR2_JLEVEL = 3;", source=source)
    build(tmp_path, "--cores", "2", "--pure")
    assert rootfs(tmp_path / "result")["usr/share/probe"].startswith(b"jlevel=2 ")


def test_the_job_count_is_not_part_of_the_key(tmp_path):
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot="BR2_PACKAGE_PROBE = true;", source=source)
    first = build(tmp_path)
    again = build(tmp_path, "-j", "4")
    assert again["built"] == 0 and again["outputs"] == first["outputs"]


def test_a_session_does_not_inherit_another_sessions_image_settings(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path)
    build(tmp_path, "--pure", "--no-out-link")
    # a new session on another store, configured by nobody: its download directory is its own (empty)
    session = Session(SessionOptions(cwd=str(tmp_path), store_dir="other"))
    with pytest.raises(SkiffError) as info:
        session.build([BuildRequest("board.sk", ("image",))], out_link=None)
    assert info.value.code.code == "E301"
    assert str(tmp_path / "other" / ".skiffeval" / "dl") in "\n".join(info.value.help)


def test_a_truncated_state_record_means_no_record(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path)
    build(tmp_path)
    state = build_dir(tmp_path) / ".skiffeval-state.json"
    state.write_text(state.read_text()[:100])  # what a kill -9 while writing it leaves
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hey";')
    build(tmp_path)
    assert manifest(tmp_path / "result")["plan"]["full_clean"] is True
    assert rootfs(tmp_path / "result")["usr/bin/hello"] == b"hello 1.0 says hey with libfoo\n"


def test_ccache_dir_reaches_buildroot(tmp_path):
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot="BR2_PACKAGE_PROBE = true; BR2_CCACHE = true;", source=source)
    build(tmp_path, "--ccache-dir", "cc")
    assert rootfs(tmp_path / "result")["usr/share/probe"].endswith(f" ccache={tmp_path / 'cc'}\n".encode())


def test_without_ccache_dir_the_cache_is_not_at_the_filesystem_root(tmp_path):
    source = extra_buildroot(tmp_path / "br")
    fill_dl(tmp_path / "dl", extra=True)
    board(tmp_path, buildroot="BR2_PACKAGE_PROBE = true; BR2_CCACHE = true;", source=source)
    build(tmp_path)
    probe = rootfs(tmp_path / "result")["usr/share/probe"].decode()
    ccache = probe.rsplit(" ccache=", 1)[1].strip()
    assert ccache != "/.buildroot-ccache" and os.path.isabs(ccache)


def test_store_gc_deletes_what_failed_pure_builds_left_and_nothing_in_use(tmp_path):
    from skiffeval.builders.buildroot_image import _pure_lock_path
    from skiffeval.store.locks import FileLock

    fill_dl(tmp_path / "dl")
    board(tmp_path, buildroot="BR2_PACKAGE_BROKEN = true; BR2_PACKAGE_BROKEN_FAIL = true;")
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl", "--pure"], tmp_path)
    assert r.code == 1 and "error[E302]" in r.err
    builds = tmp_path / "store" / ".skiffeval" / "builds"
    (left,) = [p for p in builds.iterdir() if p.name.startswith("pure-mini-")]
    assert (left / "build" / "broken-0.9").is_dir()  # kept for its logs
    # a directory whose build still runs (its lock held) is left alone
    running = builds / "pure-mini-running"
    running.mkdir()
    lock = FileLock(_pure_lock_path(str(running)))
    assert lock.acquire(blocking=False)
    try:
        dry = json.loads(sk(["store", "gc", "--dry-run", "--json"], tmp_path).out)
        assert [p["path"] for p in dry["pure_builds"]] == [str(left)] and dry["pure_builds"][0]["bytes"] > 0
        assert left.is_dir()
        r = sk(["store", "gc"], tmp_path)
        assert r.code == 0, r.err
        assert "deleted 1 failed --pure build directories" in r.out
        assert not left.exists() and running.is_dir()
        assert sorted(p.name for p in builds.iterdir()) == [".pure-mini-running.lock", "pure-mini-running"]
    finally:
        lock.release()
    assert json.loads(sk(["store", "gc", "--json"], tmp_path).out)["pure_builds"][0]["path"] == str(running)
    assert sorted(p.name for p in builds.iterdir()) == []
