"""Classifying failed makes, from output as real Buildroot 2026.02.3 prints it."""

from __future__ import annotations

from skiffeval.buildroot import codes
from skiffeval.buildroot.failures import classify, parse_make_error
from skiffeval.buildroot.progress import ProgressTracker

# 'make' on qemu_x86_64_defconfig without a network (O=/tmp/brx/out), as captured.
OFFLINE = """\
>>> host-skeleton  Installing to host directory
# check-package DoNotInstallToHostdirUsr
>>> host-m4 1.4.21 Downloading
wget -nd -t 3 --connect-timeout=10 -O '/tmp/brx/out/build/.m4-1.4.21.tar.xz.AGHjiP/output' 'https://ftpmirror.gnu.org/m4/m4-1.4.21.tar.xz' 
--2026-11-25 20:26:52--  https://ftpmirror.gnu.org/m4/m4-1.4.21.tar.xz
Resolving ftpmirror.gnu.org (ftpmirror.gnu.org)... failed: Name or service not known.
wget: unable to resolve host address 'ftpmirror.gnu.org'
wget -nd -t 3 --connect-timeout=10 -O '/tmp/brx/out/build/.m4-1.4.21.tar.xz.buy1af/output' 'https://sources.buildroot.net/m4/m4-1.4.21.tar.xz' 
--2026-11-25 20:26:52--  https://sources.buildroot.net/m4/m4-1.4.21.tar.xz
Resolving sources.buildroot.net (sources.buildroot.net)... failed: Name or service not known.
wget: unable to resolve host address 'sources.buildroot.net'
make: *** [package/pkg-generic.mk:179: /tmp/brx/out/build/host-m4-1.4.21/.stamp_downloaded] Error 1
""".splitlines()


def test_offline_download():
    tracker = ProgressTracker()
    for line in OFFLINE:
        tracker.feed(line)
    f = classify(OFFLINE, tracker=tracker, output_dir="/tmp/brx/out", dl_dir="/dl")
    assert f.code is codes.DOWNLOAD_FAILED
    assert (f.package, f.version, f.step, f.offline, f.source) == ("host-m4", "1.4.21", "download", True, "m4-1.4.21.tar.xz")
    assert f.urls == (
        "https://ftpmirror.gnu.org/m4/m4-1.4.21.tar.xz",
        "https://sources.buildroot.net/m4/m4-1.4.21.tar.xz",
    )
    assert "'/dl/m4/'" in f.help[0]  # host packages share the download directory of their name


def test_git_download_without_tracker():
    lines = [
        "GIT_DIR=/dl/glibc/git/.git git remote add origin 'https://sourceware.org/git/glibc.git' ",
        "Fetching all references",
        "fatal: unable to access 'https://sourceware.org/git/glibc.git/': Could not resolve host: sourceware.org",
        "make: *** [package/pkg-generic.mk:179: /o/build/glibc-2.42-67-g4ebd33dd/.stamp_downloaded] Error 1",
    ]
    f = classify(lines, output_dir="/o")
    assert (f.kind, f.package, f.offline) == ("download", "glibc", True)
    assert f.urls[0] == "https://sourceware.org/git/glibc.git"


def test_hash_mismatch():
    lines = [
        ">>> zlib 1.3.1 Downloading",
        "ERROR: while checking hashes from package/zlib/zlib.hash",
        "ERROR: zlib-1.3.1.tar.xz has wrong sha256 hash:",
        "ERROR: expected: 38ef",
        "make: *** [package/pkg-generic.mk:179: /o/build/zlib-1.3.1/.stamp_downloaded] Error 1",
    ]
    f = classify(lines, output_dir="/o")
    assert f.code is codes.HASH_MISMATCH and f.package == "zlib" and f.source == "zlib-1.3.1.tar.xz"


def test_missing_host_programs():
    lines = [
        "You must install 'cpio' on your build machine",
        "You must install 'rsync' on your build machine",
        "make: *** [support/dependencies/dependencies.mk:27: dependencies] Error 1",
    ]
    f = classify(lines)
    assert f.code is codes.HOST_DEPENDENCY and f.missing == ("cpio", "rsync")


def test_config_errors():
    f = classify(["***", '*** Can\'t find default configuration "/x/defconfig"!', "***",
                  "make: *** [Makefile:1047: defconfig] Error 1"], what="make defconfig")
    assert f.code is codes.CONFIG_FAILED and f.message == 'make defconfig failed: Can\'t find default configuration "/x/defconfig"'
    f = classify(["Makefile:195: *** '/e': no such file or directory.  Stop."])
    assert f.code is codes.CONFIG_FAILED and f.message == "make failed: '/e': no such file or directory"


def test_outer_make_line_does_not_hide_the_package():
    lines = [">>> foo 1.0 Building", "cc: error", "make[1]: *** [package/pkg-generic.mk:273: /o/build/foo-1.0/.stamp_built] Error 1",
             "make: *** [Makefile:23: _all] Error 2"]
    f = classify(lines, output_dir="/o")
    assert (f.kind, f.package, f.step) == ("package", "foo", "build")


def test_anything_else():
    f = classify(["something odd", "make: *** [Makefile:1: world] Error 2"])
    assert f.code is codes.MAKE_FAILED and f.tail[-1].startswith("make: ***")


def test_make_error_line_formats():
    e = parse_make_error("make: *** [package/pkg-generic.mk:179: /o/build/x-1/.stamp_downloaded] Error 1")
    assert (e.makefile, e.line, e.target, e.status) == ("package/pkg-generic.mk", 179, "/o/build/x-1/.stamp_downloaded", 1)
    e = parse_make_error("make[2]: *** [/o/build/x-1/.stamp_built] Error 2")  # make < 4.2
    assert (e.makefile, e.target, e.status) == (None, "/o/build/x-1/.stamp_built", 2)
    assert parse_make_error("make: *** No rule to make target 'x'.  Stop.") is None
