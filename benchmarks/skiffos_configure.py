#!/usr/bin/env python3
"""Benchmark: SkiffOS's ``make configure`` and ``skiffeval skiffos configure`` side by side.

    python benchmarks/skiffos_configure.py --skiffos ~/SkiffOS --buildroot ~/buildroot [-n 3]
        [--config virt/qemu --config pi/4,skiff/core ...] [--json] [--no-skiffos]

(``--skiffos`` / ``--buildroot`` default to ``$SKIFFEVAL_BENCH_SKIFFOS`` /
``$SKIFFEVAL_BENCH_BUILDROOT``, then ``$SKIFFEVAL_TEST_SKIFFOS`` / ``$SKIFFEVAL_TEST_BUILDROOT``.)

Whole commands are timed as a user runs them (subprocess, wall clock), with
``PYTHONDONTWRITEBYTECODE`` unset (else every skiffeval start compiles all its modules) and after
one untimed start that writes the bytecode.  skiffeval is started through the console script
beside the running interpreter (not a pyenv shim, which adds ~80 ms of bash).  For each
combination (default ``virt/qemu``, ``pi/4,skiff/core``, ``intel/desktop,core/fedora``), each of
N rounds:

* **SkiffOS**: a fresh copy of the checkout (``workspaces/`` left out, ``buildroot`` a symbolic
  link to the Buildroot tree, a cleared environment), then ``make configure`` — what a user's
  first ``make configure`` of a workspace costs (it also sets up the workspace: Buildroot's
  ``make O=… defconfig``, ~1.5 s of it) — and ``make configure`` again in the same copy
  (SkiffOS always re-merges: ``configure`` sets ``SKIFF_FORCE_RECONFIG``);
* **skiffeval cold (empty store)**: ``skiffeval skiffos configure --buildroot … --out …`` into
  an empty store and with an empty user cache (``XDG_CACHE_HOME``, fresh each round: the
  grammar tables and the "did you mean" answers are made anew): it imports the chain folders
  and the Buildroot tree's Kconfig view (~3,700 of its ~15,000 files) into the store,
  evaluates, writes the configuration, parses Buildroot's ``Config.in`` and resolves;
* **skiffeval warm**: the same command again on that store, nothing changed (N runs);
* **skiffeval cold config**: the same store, another workspace name (``SKIFF_WORKSPACE`` is in
  ``bind_env.sh``, so the configuration and its resolution are new derivations): the sources are
  in the store, everything else is done again — BRIEF §6's "cold config build", where the
  kconfiglib parse dominates; the user cache is the one the cold run filled, as on a user's
  machine after the first configuration.

It prints the medians and the ratios against SkiffOS's first ``make configure`` (BRIEF §6
targets: warm ≤ 0.2 s and ≥ 30× faster, cold ≥ 3× faster) and checks that both wrote the same
``skiff_config``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CONFIGS = ["virt/qemu", "pi/4,skiff/core", "intel/desktop,core/fedora"]
WARM_TARGET_S = 0.2
WARM_TARGET_RATIO = 30.0
COLD_TARGET_RATIO = 3.0


def skiffeval_command() -> list[str]:
    script = Path(sys.executable).parent / "skiffeval"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "skiffeval"]


def user_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def clean_env(**extra: str) -> dict[str, str]:
    """SkiffOS's environment: no TERM (its Makefile sets TERM=xterm), nothing inherited."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def timed(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    with open(log, "w") as f:
        t0 = time.perf_counter()
        rc = subprocess.run(args, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
        elapsed = time.perf_counter() - t0
    if rc != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(args)} failed ({rc}) in {cwd}:\n{tail}")
    return elapsed


def fresh_copy(skiffos: Path, buildroot: Path, dst: Path) -> Path:
    top = os.path.realpath(skiffos)

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n in ("workspaces", "buildroot")] if os.path.realpath(folder) == top else []

    shutil.copytree(skiffos, dst, symlinks=True, ignore=ignore)
    (dst / "workspaces").mkdir()
    os.symlink(os.path.realpath(buildroot), dst / "buildroot")
    return dst


def bench_config(config: str, skiffos: Path, buildroot: Path, rounds: int, work: Path, run_skiffos: bool) -> dict:
    cmd = skiffeval_command()
    times: dict[str, list[float]] = {"skiffos_first": [], "skiffos_again": [], "cold": [], "warm": [], "cold_config": []}
    chains: set[str] = set()
    for i in range(rounds):
        rnd = work / f"{config.replace('/', '_').replace(',', '+')}-{i}"
        rnd.mkdir()
        root = fresh_copy(skiffos, buildroot, rnd / "skiffos")
        if run_skiffos:
            env = clean_env(SKIFF_CONFIG=config, SKIFF_WORKSPACE="bench")
            times["skiffos_first"].append(timed(["make", "configure"], root, env, rnd / "skiffos-1.log"))
            times["skiffos_again"].append(timed(["make", "configure"], root, env, rnd / "skiffos-2.log"))
            chains.add((root / "workspaces" / ".config_bench" / "skiff_config").read_text())
        args = [*cmd, "skiffos", "configure", "--root", str(root), "--config", config,
                "--buildroot", str(buildroot), "--store", str(rnd / "store"), "-q"]
        ws = ["--workspace", "bench"]
        env = user_env(XDG_CACHE_HOME=str(rnd / "user-cache"))  # empty at the cold run
        times["cold"].append(timed([*args, *ws, "--out", str(rnd / "out-cold")], rnd, env, rnd / "cold.log"))
        chains.add((rnd / "out-cold" / "skiff_config").read_text())
        for j in range(rounds):
            out = ["--out", str(rnd / f"out-warm{j}")]
            times["warm"].append(timed([*args, *ws, *out], rnd, env, rnd / "warm.log"))
        out = ["--workspace", f"other{i}", "--out", str(rnd / "out-other")]
        times["cold_config"].append(timed([*args, *out], rnd, env, rnd / "cold-config.log"))
        shutil.rmtree(rnd, ignore_errors=True)
    if len(chains) != 1:
        raise SystemExit(f"{config}: SkiffOS and skiffeval wrote different chains: {sorted(chains)}")
    med = {k: statistics.median(v) for k, v in times.items() if v}
    result: dict = {"config": config, "chain": chains.pop().strip(), "rounds": rounds,
                    "median_s": med, "all_s": times}
    if "skiffos_first" in med:
        base = med["skiffos_first"]
        result["ratio_cold"] = base / med["cold"]
        result["ratio_cold_config"] = base / med["cold_config"]
        result["ratio_warm"] = base / med["warm"]
        result["targets"] = {
            "warm_le_0.2s": med["warm"] <= WARM_TARGET_S,
            "warm_ge_30x": result["ratio_warm"] >= WARM_TARGET_RATIO,
            "cold_config_ge_3x": result["ratio_cold_config"] >= COLD_TARGET_RATIO,
            "cold_empty_store_ge_3x": result["ratio_cold"] >= COLD_TARGET_RATIO,
        }
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--skiffos", default=os.environ.get("SKIFFEVAL_BENCH_SKIFFOS") or os.environ.get("SKIFFEVAL_TEST_SKIFFOS"))
    p.add_argument("--buildroot", default=os.environ.get("SKIFFEVAL_BENCH_BUILDROOT") or os.environ.get("SKIFFEVAL_TEST_BUILDROOT"))
    p.add_argument("--config", action="append", help="SKIFF_CONFIG (repeatable)")
    p.add_argument("-n", "--rounds", type=int, default=3, help="rounds per combination (warm: n runs per round)")
    p.add_argument("--no-skiffos", action="store_true", help="time skiffeval only")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if not args.skiffos or not args.buildroot:
        p.error("--skiffos and --buildroot (or SKIFFEVAL_BENCH_SKIFFOS / SKIFFEVAL_BENCH_BUILDROOT) are needed")
    skiffos, buildroot = Path(args.skiffos).resolve(), Path(args.buildroot).resolve()
    if not (buildroot / "Config.in").is_file():
        p.error(f"{buildroot} is not a Buildroot tree")
    subprocess.run([*skiffeval_command(), "--version"], env=user_env(), check=True, capture_output=True)  # bytecode
    results = []
    with tempfile.TemporaryDirectory(prefix="skiffeval-bench-skiffos-") as tmp:
        for config in args.config or DEFAULT_CONFIGS:
            results.append(bench_config(config, skiffos, buildroot, args.rounds, Path(tmp), not args.no_skiffos))
            if not args.json:
                print_row(results[-1], header=len(results) == 1)
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(), "results": results}, indent=1))


def print_row(r: dict, header: bool) -> None:
    m = r["median_s"]
    if header:
        print(f"{'config':27} {'SkiffOS':>7} {'again':>6} {'cold':>6} {'x':>5} {'c.conf':>6} {'x':>5} {'warm':>6} {'x':>5}"
              "  targets (medians in s; x = SkiffOS / skiffeval)")

    def f(key: str, fmt: str) -> str:
        return format(m[key], fmt) if key in m else "-"

    def x(key: str) -> str:
        return f"{r[key]:.1f}" if key in r else "-"

    targets = " ".join(f"{k}={'ok' if v else 'MISS'}" for k, v in r.get("targets", {}).items())
    print(f"{r['config']:27} {f('skiffos_first', '7.2f')} {f('skiffos_again', '6.2f')} {f('cold', '6.2f')} "
          f"{x('ratio_cold'):>5} {f('cold_config', '6.2f')} {x('ratio_cold_config'):>5} {f('warm', '6.3f')} "
          f"{x('ratio_warm'):>5}  {targets}", flush=True)


if __name__ == "__main__":
    main()
