"""The console script's way out (``skiffeval.cli.run``): the output is complete, the exit status
is the command's, and a reader that stops early (``| head``) gets no traceback."""

from __future__ import annotations

import subprocess
import sys

BIG = 'builtins.concatStringsSep "" (builtins.genList (i: "0123456789") 200000)'


def _skiffeval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skiffeval", *args], capture_output=True, timeout=120)


def test_the_whole_output_is_written_before_the_process_ends(tmp_path) -> None:
    r = _skiffeval("eval", "--expr", BIG, "--store", str(tmp_path / "store"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == b'"' + b"0123456789" * 200000 + b'"\n'


def test_the_exit_status_is_the_commands(tmp_path) -> None:
    r = _skiffeval("eval", "--expr", 'throw "no"', "--store", str(tmp_path / "store"), "--no-color")
    assert r.returncode == 1 and b"error[E034]: no" in r.stderr
    assert _skiffeval("no-such-command").returncode == 2


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "skiffeval", "eval", "--expr", BIG, "--store", str(tmp_path / "store")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.read(10) == b'"012345678'
    proc.stdout.close()  # as `| head -c 10` does
    _, err = proc.communicate(timeout=120)
    assert err == b"", err  # no traceback, no "Exception ignored" at exit
    assert proc.returncode == 1  # click's status for a closed output (it exits 1 on EPIPE)
