"""The >>> line parser and the progress tracker."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from skiffeval.buildroot.progress import ProgressTracker, parse_step_line

CASES = [
    (">>> busybox 1.36.1 Extracting", ("busybox", "1.36.1", "extract", "Extracting")),
    (">>> host-ncurses 6.4 Building", ("host-ncurses", "6.4", "build", "Building")),
    (">>> host-skeleton  Installing to host directory", ("host-skeleton", "", "install-host", "Installing to host directory")),
    (">>>   Finalizing target directory", ("", "", "", "Finalizing target directory")),
    (">>>   Generating filesystem image rootfs.ext2", ("", "", "", "Generating filesystem image rootfs.ext2")),
    (">>> linux 6.18.7 Installing to images directory", ("linux", "6.18.7", "install-image", "Installing to images directory")),
    (">>> libfoo 2.1 Installing to staging directory", ("libfoo", "2.1", "install-staging", "Installing to staging directory")),
    (">>> foo custom Syncing from source dir /src/foo", ("foo", "custom", "rsync", "Syncing from source dir /src/foo")),
    (">>> bar 1.0 Patching libtool", ("bar", "1.0", "", "Patching libtool")),
    ("\x1b[7m>>> zlib 1.3.1 Configuring\x1b[27m", ("zlib", "1.3.1", "configure", "Configuring")),  # tput smso/rmso
    (">>> glibc 2.42-67-g4ebd33dd Downloading\r\n", ("glibc", "2.42-67-g4ebd33dd", "download", "Downloading")),
]


def test_step_lines():
    for line, expected in CASES:
        got = parse_step_line(line)
        assert got is not None, line
        assert (got.package, got.version, got.step, got.message) == expected, line


def test_other_lines_are_not_steps():
    for line in ["", ">>>", ">>> ", ">>> foo", ">>> foo 1.0", ">>> foo 1.0 ", "  CC foo.o", "x >>> foo 1.0 Building"]:
        assert parse_step_line(line) is None, line


@given(st.text())
def test_parser_never_raises(line):
    parse_step_line(line)


@given(st.lists(st.one_of(st.text(), st.sampled_from([c[0] for c in CASES])), max_size=40))
def test_tracker_never_raises_and_done_is_monotonic(lines):
    events = []
    tracker = ProgressTracker(total=5, on_event=events.append, clock=iter(range(10_000)).__next__)
    for line in lines:
        tracker.feed(line)
    tracker.finish(True)
    dones = [e.done for e in events]
    assert dones == sorted(dones)
    assert all(e.elapsed >= 0 for e in events)


def test_done_counting_and_tails():
    log = [
        ">>> host-tool 0.3 Extracting", "x", ">>> host-tool 0.3 Installing to host directory",
        ">>> libfoo 2.1 Building", *[f"cc {i}" for i in range(40)],
        ">>> libfoo 2.1 Installing to staging directory", ">>> libfoo 2.1 Installing to target",
        ">>> hello 1.0 Configuring", "boom",
    ]
    tracker = ProgressTracker(total=3, already_done={"old"})
    events = [e for e in map(tracker.feed, log) if e is not None]
    assert [e.done for e in events] == [1, 1, 2, 2, 2, 3]  # "old" was done before the build
    assert tracker.done == {"old", "host-tool", "libfoo"}
    tail = tracker.package_tail("libfoo")
    assert len(tail) == 30 and tail[-1] == ">>> libfoo 2.1 Installing to target"
    assert tracker.package_tail("hello") == (">>> hello 1.0 Configuring", "boom")
    assert tracker.last_package_step.package == "hello"
    tracker.finish(False)
    assert "hello" not in tracker.done
