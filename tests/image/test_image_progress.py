"""What a person sees while an image builds and when it fails: Buildroot's ``>>>`` lines as
progress (done of total), a failing package with its step and last lines, an offline download
that says how to provide sources, and a local ``BR2_PRIMARY_SITE`` mirror that fixes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.session import BuildRequest, Session, SessionOptions
from tests.buildroot.helpers import needs_make
from tests.image.helpers import board, build_dir, fill_dl, manifest, rootfs, sk

pytestmark = needs_make

BROKEN = "BR2_PACKAGE_BROKEN = true; BR2_PACKAGE_BROKEN_FAIL = true;"


def session_build(d: Path, events: list, **settings):
    s = Session(SessionOptions(cwd=str(d), store_dir="store"))
    s.configure_images(dl_dir="dl", on_progress=lambda name, ev: events.append((name, ev)), **settings)
    return s.build([BuildRequest("board.sk", ("image",))], out_link=None)


# -- progress ------------------------------------------------------------------------------------

def test_progress_events_count_packages_done_of_the_show_info_total(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path)
    events: list = []
    session_build(tmp_path, events)
    assert {name for name, _ in events} == {"mini-image"}
    evs = [ev for _, ev in events]
    assert {ev.total for ev in evs} == {3}  # hello, libfoo, host-tool (from show-info)
    dones = [ev.done for ev in evs]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == 3
    steps = {(ev.package, ev.step) for ev in evs if ev.package}
    assert {("hello", "extract"), ("hello", "build"), ("hello", "install-target"), ("host-tool", "install-host"),
            ("libfoo", "install-staging")} <= steps
    assert [ev.message for ev in evs if not ev.package][-1] == "Generating filesystem image rootfs.tar"
    assert all(ev.elapsed >= 0 for ev in evs)

    # a rebuild of one package starts with the others counted as done
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hey";')
    events.clear()
    session_build(tmp_path, events)
    evs = [ev for _, ev in events]
    assert evs[0].done == 2 and evs[0].package == "hello" and evs[-1].done == 3
    assert {ev.package for ev in evs if ev.package} == {"hello"}


def test_progress_lines_reach_the_command_line(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path)
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    lines = [line.strip() for line in r.err.splitlines() if line.startswith("  mini-image: ")]
    # one line per package begun, then Buildroot's global steps, with done of total
    assert lines[0] == "mini-image: [0/3] hello 1.0: Extracting"
    assert "mini-image: [1/3] libfoo 2.1: Extracting" in lines
    assert lines[-1] == "mini-image: [3/3] Generating filesystem image rootfs.tar"
    assert all(re.match(r"mini-image: \[\d/3\] ", line) for line in lines)
    # -v shows every step, and Buildroot's own lines
    board(tmp_path, buildroot='BR2_PACKAGE_HELLO_GREETING = "hey";')
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl", "-v"], tmp_path)
    assert r.code == 0, r.err
    for step in ("Extracting", "Patching", "Configuring", "Building", "Installing to target"):
        assert f"  mini-image: [2/3] hello 1.0: {step}" in r.err
    assert "rebuild 'hello' (make hello-dirclean):" in r.err
    assert ">>> hello 1.0 Building" in r.err


# -- a package that fails ----------------------------------------------------------------------

def test_a_failing_package_names_the_package_step_and_log(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path, buildroot=BROKEN)
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 1
    assert "error[E302]" in r.err and "package 'broken' 0.9 failed at step 'build'" in r.err
    assert "rebuild after 'make broken-dirclean'" in r.err
    log = build_dir(tmp_path) / ".skiffeval-logs" / "build.log"
    assert f"the full log is {log}" in r.err
    assert "src/broken.c:12:1: error: expected ';' before '}' token" in log.read_text()
    assert "Traceback" not in r.err
    # what was done is kept for the next try: broken is configured, not built
    kept = build_dir(tmp_path) / "build" / "broken-0.9"
    assert (kept / ".stamp_configured").exists() and not (kept / ".stamp_built").exists()


def last_lines_of(log: Path, package: str, n: int = 30) -> list[str]:
    """The last ``n`` lines make printed after the last ``>>> <package>`` line."""
    lines = log.read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith(f">>> {package} "))
    return lines[start:][-n:]


def test_a_failing_package_shows_the_last_30_lines_of_its_output(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path, buildroot=BROKEN)
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 1
    expected = last_lines_of(build_dir(tmp_path) / ".skiffeval-logs" / "build.log", "broken")
    assert len(expected) == 30
    missing = [line for line in expected if line not in r.err]
    assert "src/broken.c:12:1: error: expected ';' before '}' token" in r.err  # the compiler's error, first of all
    assert missing == []
    assert "more notes" not in r.err


def test_a_failing_package_through_the_session_api(tmp_path):
    fill_dl(tmp_path / "dl")
    board(tmp_path, buildroot=BROKEN)
    events: list = []
    with pytest.raises(SkiffError) as info:
        session_build(tmp_path, events)
    assert info.value.code.code == "E302"
    assert events[-1][1].package == "broken" and events[-1][1].step == "build"


# -- downloads -----------------------------------------------------------------------------------

def test_an_offline_download_failure_says_how_to_provide_sources(tmp_path):
    fill_dl(tmp_path / "dl", skip=("libfoo",))
    board(tmp_path)
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 1
    assert "error[E301]" in r.err
    assert "cannot download the sources of 'libfoo' 2.1" in r.err
    assert "http://sources.mini.invalid/libfoo/libfoo-2.1.tar" in r.err
    assert f"put 'libfoo-2.1.tar' into '{tmp_path / 'dl'}/libfoo/'" in r.err
    assert "--dl-dir" in r.err and "BR2_PRIMARY_SITE" in r.err and "file://" in r.err
    assert "Traceback" not in r.err


def test_a_file_primary_site_set_by_a_layer_makes_the_build_work_offline(tmp_path):
    fill_dl(tmp_path / "dl", skip=("libfoo",))
    board(tmp_path)
    assert sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path).code == 1
    mirror = fill_dl(tmp_path / "mirror")  # <mirror>/<pkg>/<file>, as 'make source' leaves a dl dir
    board(tmp_path, buildroot=f'BR2_PRIMARY_SITE = "file://{mirror}";')
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    assert rootfs(tmp_path / "result")["usr/lib/libfoo.so.2"] == b"libfoo 2.1\n"
    assert (tmp_path / "dl" / "libfoo" / "libfoo-2.1.tar").exists()  # now in the download cache
    plan = manifest(tmp_path / "result")["plan"]
    assert plan["actions"] == [] and any(n.startswith("BR2_PRIMARY_SITE:") for n in plan["notes"])


def test_a_flat_file_primary_site_works_too(tmp_path):
    mirror = tmp_path / "flat"
    fill_dl(tmp_path / "tmp-dl")
    mirror.mkdir()
    for f in (tmp_path / "tmp-dl").glob("*/*.tar"):
        f.rename(mirror / f.name)
    board(tmp_path, buildroot=f'BR2_PRIMARY_SITE = "file://{mirror}";')
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "dl").glob("*/*.tar")) == ["hello-1.0.tar", "libfoo-2.1.tar", "tool-0.3.tar"]


def test_a_build_resumes_after_the_missing_source_is_provided(tmp_path):
    fill_dl(tmp_path / "dl", skip=("libfoo",))
    board(tmp_path)
    assert sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path).code == 1
    hello_stamp = build_dir(tmp_path) / "build" / "hello-1.0" / ".stamp_extracted"
    fill_dl(tmp_path / "dl")
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    # same configuration as the failed try: nothing is cleaned, make goes on where it stopped
    assert manifest(tmp_path / "result")["plan"]["actions"] == []
    assert hello_stamp.exists()


# -- a layer's hook ----------------------------------------------------------------------------

def test_post_build_hooks_run_and_a_failing_one_is_named_with_its_own_output(tmp_path):
    fill_dl(tmp_path / "dl")
    (tmp_path / "ok.sh").write_text('echo "stamped by the hook" > "$1/etc/hooked"\n')
    board(tmp_path, extra="hooks.post_build = ./ok.sh;")
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    assert rootfs(tmp_path / "result")["etc/hooked"] == b"stamped by the hook\n"

    (tmp_path / "bad.sh").write_text('echo "checking the target"\necho "no /etc/fstab in $1" >&2\nexit 4\n')
    board(tmp_path, extra="hooks.post_build = ./bad.sh;")
    r = sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 1
    assert "error[E306]: " in r.err
    assert "the post-build hook of layer 'mini/board' (bad.sh) failed with exit status 4" in r.err
    assert "no /etc/fstab in" in r.err and "checking the target" in r.err  # the hook's own lines
    assert "E302" not in r.err and "package 'hello'" not in r.err  # not blamed on the last package
    assert "fix the hook and build again" in r.err
