"""Crash safety and concurrency: ``kill -9`` at random moments never leaves a registered
partial path; two processes realizing one graph build each derivation once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from skiffeval.store import LocalStore
from tests.store.store_worker import graph

ROOT = Path(__file__).resolve().parents[2]


def worker(store: Path, n: int, delay: float, jobs: int, counter: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if counter is not None:
        env["SKIFFEVAL_TEST_COUNTER"] = str(counter)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.store_worker", str(store), str(n), str(delay), str(jobs)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def check_consistent(root: Path, n: int, delay: float) -> int:
    """Open the store (cleaning leftovers), verify contents; return how many targets are realized."""
    with LocalStore(root) as store:
        report = store.verify(check_contents=True)
        assert report.ok, report.problems
        assert report.garbage == (), report.garbage  # leftovers were cleaned on open
        assert not list((store.meta / "pending").iterdir())
        drvs = graph(n, delay)
        done = store.realisations(d.key for d in drvs)
        for d in drvs:
            real = done.get(d.key)
            if real is not None:  # a registered output is complete
                out = store.real_path(real.outputs["out"])
                assert sorted(os.listdir(out)) == ["part0", "part1", "part2", "part3"]
        return len(done)


def test_kill_9_at_random_moments(tmp_path: Path) -> None:
    root = tmp_path / "store"
    n, delay = 40, 0.02
    rng = random.Random(20261125)
    progress = []
    for i in range(8):
        # Kill at a random moment: right after start (writing .drv files, cleaning) or once the
        # worker has started its k-th build (so mid-build, mid-hash, mid-rename, mid-commit).
        counter = tmp_path / f"started-{i}"
        proc = worker(root, n, delay, jobs=2, counter=counter)
        k = rng.choice([0, rng.randrange(1, 8)])
        deadline = time.monotonic() + 60
        if k == 0:
            time.sleep(rng.uniform(0.0, 0.6))
        else:
            while time.monotonic() < deadline and proc.poll() is None:
                if counter.exists() and len(counter.read_text().splitlines()) >= k:
                    break
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, delay * 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        progress.append(check_consistent(root, n, delay))
    proc = worker(root, n, delay, jobs=2)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip() == "done"
    assert check_consistent(root, n, delay) == n
    assert progress == sorted(progress)  # realized work is never lost
    assert any(0 < p < n for p in progress), progress  # kills landed in the middle of the graph
    print("progress after each kill:", progress)


def test_two_processes_build_each_derivation_once(tmp_path: Path) -> None:
    root = tmp_path / "store"
    counter = tmp_path / "builds.log"
    n = 16
    LocalStore(root).close()
    procs = [worker(root, n, 0.08, jobs=2, counter=counter) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    built = counter.read_text().splitlines()
    assert sorted(built) == sorted(f"layer-{i}" for i in range(n))  # each exactly once
    assert check_consistent(root, n, 0.08) == n
