"""Build progress: the plan line, quiet lines off a terminal, the live view on one (rendered
into a string), -q and --json silence, -v log streaming, Buildroot steps of an image."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
from pathlib import Path

import pytest

from skiffeval.buildroot.progress import ProgressEvent
from skiffeval.cli.output import Output
from skiffeval.cli.progress import LogFollower, Progress, _View, mode_for
from skiffeval.store.realize import RealizeEvent
from tests.cli.test_query import ok, project, sk


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def output(verbosity: int = 0, json: bool = False) -> tuple[Output, io.StringIO]:
    err = io.StringIO()
    return Output(json=json, color=False, verbosity=verbosity, stdout=io.StringIO(), stderr=err), err


def step(package: str, message: str, done: int, total: int | None = 120) -> ProgressEvent:
    return ProgressEvent(package, "1.36.1" if package else "", "build", message, done, total, 1.0, 10)


def drive(p: Progress, clock: Clock) -> None:
    p.event(RealizeEvent("plan", counts=(5, 2), fetch=1))
    p.event(RealizeEvent("start", "k1", "files-hostname", log_path=None))
    clock.now += 0.5
    p.event(RealizeEvent("built", "k1", "files-hostname", seconds=0.5))
    p.event(RealizeEvent("start", "k2", "demo-image"))
    p.buildroot("demo-image", step("busybox", "Extracting", 41))
    p.buildroot("demo-image", step("busybox", "Building", 42))
    p.buildroot("demo-image", step("zlib", "Extracting", 43))
    p.event(RealizeEvent("cutoff", "k3", "demo-config"))


def test_mode_follows_the_terminal_quiet_and_json() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, _ = output()
    assert mode_for(out) == "lines"
    assert mode_for(out, Tty()) == "live"
    assert mode_for(output(-1)[0], Tty()) == "quiet"
    assert mode_for(output(json=True)[0], Tty()) == "quiet"


def test_lines_mode() -> None:
    out, err = output()
    clock = Clock()
    with Progress(out, mode="lines", clock=clock) as p:
        drive(p, clock)
        p.event(RealizeEvent("failed", "k2", "demo-image", log_path="/s/.skiffeval/logs/k2-demo-image.log"))
        p.event(RealizeEvent("skipped", "k4", "demo-bundle"))
    assert err.getvalue().splitlines() == [
        "plan: 2 to build, 2 valid, 1 to fetch",
        "[1/3] built 'files-hostname' (0.50s)",
        "  demo-image: [41/120] busybox 1.36.1: Extracting",  # one line per package begun
        "  demo-image: [43/120] zlib 1.36.1: Extracting",
        "[2/3] unchanged (early cutoff) 'demo-config' (0.00s)",
        "[3/3] failed 'demo-image' (log: /s/.skiffeval/logs/k2-demo-image.log)",
    ]


def test_verbose_lines_name_starts_steps_and_skips() -> None:
    out, err = output(1)
    clock = Clock()
    with Progress(out, mode="lines", clock=clock) as p:
        drive(p, clock)
        p.event(RealizeEvent("skipped", "k4", "demo-bundle"))
    text = err.getvalue()
    assert "building 'demo-image'" in text and "skipped 'demo-bundle' (an input failed)" in text
    assert "  demo-image: [42/120] busybox 1.36.1: Building" in text  # every step with -v


def test_quiet_and_json_print_nothing() -> None:
    for verbosity, as_json in ((-1, False), (0, True)):
        out, err = output(verbosity, as_json)
        clock = Clock()
        with Progress(out, clock=clock) as p:
            drive(p, clock)
        assert err.getvalue() == ""


def test_no_plan_line_when_nothing_is_to_build() -> None:
    out, err = output()
    with Progress(out, mode="lines") as p:
        p.event(RealizeEvent("plan", counts=(3, 3)))
    assert err.getvalue() == ""
    out, err = output(1)
    with Progress(out, mode="lines") as p:
        p.event(RealizeEvent("plan", counts=(3, 3)))
    assert err.getvalue() == "plan: 0 to build, 3 valid, 0 to fetch\n"


def test_live_view_renders_running_derivations_and_the_image_step() -> None:
    from rich.console import Console

    out, err = output()
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    clock = Clock()
    p = Progress(out, mode="live", console=console, clock=clock)
    drive(p, clock)
    p.event(RealizeEvent("start", "k5", "demo-overlay"))
    clock.now += 65
    shot = Console(file=io.StringIO(), width=100, record=True, color_system=None)
    shot.print(_View(p))
    text = shot.export_text()
    lines = text.splitlines()
    assert lines[0] == "building: 2/3 done, 2 running · 1:05"
    assert lines[1].split() == ["demo-image", "1:05", "[43/120]", "zlib", "1.36.1:", "Extracting"]
    assert lines[2].split() == ["demo-overlay", "1:05"]
    p.event(RealizeEvent("failed", "k2", "demo-image", log_path="/logs/k2.log"))
    p.close()
    assert err.getvalue() == "plan: 2 to build, 2 valid, 1 to fetch\n"  # before the view starts
    shown = screen.getvalue()
    assert "failed 'demo-image' (log: /logs/k2.log)\n" in shown  # printed above the view
    assert shown.endswith("\x1b[2K")  # the view erased itself (transient)
    assert p._live is None


def test_live_view_lists_at_most_a_screenful() -> None:
    out, _ = output()
    p = Progress(out, mode="quiet", clock=Clock())
    p.event(RealizeEvent("plan", counts=(20, 0)))
    for i in range(12):
        p.event(RealizeEvent("start", f"k{i}", f"drv-{i:02d}"))
    lines = p.running_lines()
    assert len(lines) == 9 and lines[-1] == "  … and 4 more"


def test_log_follower_streams_lines_in_order(tmp_path: Path) -> None:
    log = tmp_path / "k-x.log"
    got: list[tuple[str, str]] = []
    follower = LogFollower(lambda name, line: got.append((name, line)), interval=3600)
    follower.follow("k", "x", str(log))
    follower.poll()  # no file yet
    log.write_text("one\ntw")
    follower.poll()
    assert got == [("x", "one")]  # the partial line waits
    with log.open("a") as f:
        f.write("o\nthree")
    follower.finish("k")
    assert got == [("x", "one"), ("x", "two"), ("x", "three")]
    follower.close()


# -- through the command line --------------------------------------------------------------


def test_build_prints_the_plan_and_lines(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    r = ok(["build", "board.sk"], cwd)
    lines = r.err.splitlines()
    assert lines[0] == "plan: 8 to build, 0 valid, 0 to fetch"
    assert lines[8] == "[8/8] built 'demo-bundle' (" + lines[8].split("(")[1]
    assert lines[9].startswith("built 8, unchanged 0, valid 0 in ")
    r = ok(["build", "board.sk", "--argstr", "hostname", "other"], cwd)
    assert r.err.splitlines()[0] == "plan: 4 to build, 4 valid, 0 to fetch"
    r = ok(["build", "board.sk", "--argstr", "hostname", "third", "-q"], cwd)
    assert r.err == ""


def test_verbose_build_streams_builder_logs(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    r = ok(["build", "board.sk", "-A", "overlay", "-v"], cwd)
    assert "demo-overlay> overlay from demo/base: base/overlay" in r.err.splitlines()
    assert r.err.index("building 'demo-overlay'") < r.err.index("demo-overlay> overlay from") < r.err.index("built 'demo-overlay'")


def test_plan_counts_fetches(tmp_path: Path) -> None:
    data = tmp_path / "blob.txt"
    data.write_text("fetched\n")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    (tmp_path / "f.sk").write_text(
        f'let f = fetchurl {{ url = "file://{data}"; hash = "sha256:{digest}"; }}; in writeText "uses" "${{f}}"\n')
    r = ok(["build", "f.sk"], tmp_path)
    assert r.err.splitlines()[0] == "plan: 1 to build, 0 valid, 1 to fetch"


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_image_progress_lines_from_buildroot(tmp_path: Path) -> None:
    from tests.buildroot.helpers import FIXTURE, fill_dl_dir

    fill_dl_dir(tmp_path / "dl")
    (tmp_path / "img.sk").write_text(f"""system {{
  name = "mini";
  buildroot = {FIXTURE};
  layers = [ (layer {{ name = "mini/base"; defconfig = "mini"; buildroot = [ {{ BR2_PACKAGE_HELLO = true; }} ]; }}) ];
}}
""")
    t0 = time.monotonic()
    r = sk(["build", "img.sk", "-A", "image", "--dl-dir", "dl"], tmp_path)
    assert r.code == 0, r.err
    lines = r.err.splitlines()
    assert lines[0] == "plan: 4 to build, 0 valid, 0 to fetch"
    steps = [line for line in lines if line.startswith("  mini-image: ")]
    assert steps[0] == "  mini-image: [0/2] hello 1.0: Extracting" or steps[0].startswith("  mini-image: [0/")
    assert any("Generating filesystem image" in s for s in steps)
    assert any(line.startswith("[4/4] built 'mini-image'") for line in lines)
    assert time.monotonic() - t0 < 60
