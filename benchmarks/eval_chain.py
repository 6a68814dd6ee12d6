#!/usr/bin/env python3
"""Benchmark: evaluate and hash a chain of 10,000 derivations written in the language, beside
Nix 2.8 evaluating the same program (``nix-instantiate --readonly-mode``: evaluate + hash,
nothing written), then write the ``.drv`` files and realize them (cold, then no-op).

The program (the same text for both, but the builder: ``builtin:write-text`` here, ``/bin/sh``
for Nix): a ``foldl'`` over ``genList`` where each derivation depends on the previous three
through its environment and writes a small file.  The store half of this workload built from
Python records directly is ``benchmarks/store_chain.py``.

    python benchmarks/eval_chain.py [-n 10000] [--no-nix] [--no-build] [--repeat N]

``--repeat N`` (evaluate + hash only): N rounds, each a fresh skiffeval process beside its own
Nix run, then the medians and the median of the per-round ratios.  On a shared machine whose
speed moves from minute to minute, that ratio is the figure to compare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROGRAM = """{{ n ? {n} }}:
let
  step = acc: i:
    let
      s = toString i;
      d = derivation {{
        name = "layer-" + s;
        builder = "{builder}";{system}
        text = "layer " + s;
        deps = "${{acc.a}} ${{acc.b}} ${{acc.c}}";
      }};
    in {{ a = d; b = acc.a; c = acc.b; }};
  last = builtins.foldl' step {{ a = ""; b = ""; c = ""; }} (builtins.genList (i: i) n);
in last.a
"""


def skiffeval_side(n: int, work: Path, build: bool) -> dict[str, float]:
    from skiffeval.session import BuildRequest, Session, SessionOptions

    (work / "chain.sk").write_text(PROGRAM.format(n=n, builder="builtin:write-text", system=""))
    times: dict[str, float] = {}
    session = Session(SessionOptions(cwd=str(work), store_dir="store"))
    session.evaluator  # opening the store is not evaluation
    start = time.perf_counter()
    targets = session.instantiate(BuildRequest("chain.sk"))
    times["evaluate + hash"] = time.perf_counter() - start
    assert len(session.table.by_key) == n, len(session.table.by_key)
    if build:
        start = time.perf_counter()
        session.realize_targets(targets)
        times["write .drv + cold build"] = time.perf_counter() - start
        again = Session(SessionOptions(cwd=str(work), store_dir="store"))
        again.evaluator
        start = time.perf_counter()
        again.realize_targets(again.instantiate(BuildRequest("chain.sk")))
        times["evaluate + no-op build"] = time.perf_counter() - start
    return times


def nix_side(n: int, work: Path) -> dict[str, float]:
    nix = shutil.which("nix-instantiate")
    if nix is None:
        return {}
    (work / "chain.nix").write_text(PROGRAM.format(n=n, builder="/bin/sh", system='\n        system = "x86_64-linux";'))
    env = {"PATH": os.environ["PATH"], "HOME": str(work), "NIX_REMOTE": "local",
           "NIX_STATE_DIR": str(work / "nix-state"), "NIX_STORE_DIR": str(work / "nix-store")}
    start = time.perf_counter()
    subprocess.run([nix, "--readonly-mode", str(work / "chain.nix")], env=env, check=True, capture_output=True)
    return {"evaluate + hash": time.perf_counter() - start}


def repeated(n: int, rounds: int, nix: bool) -> None:
    """``--repeat``: each round a fresh process evaluating (``--one``), then Nix beside it."""
    import statistics

    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        work = Path(tmp)
        for i in range(rounds):
            done = subprocess.run([sys.executable, __file__, "-n", str(n), "--one", str(work)],
                                  capture_output=True, text=True, check=True)
            ours.append(float(done.stdout.split()[-1]))
            other = nix_side(n, work).get("evaluate + hash") if nix else None
            if other:
                theirs.append(other)
            print(f"round {i + 1}: skiffeval {ours[-1]:.2f}s" + (f"  nix 2.8 {other:.2f}s  {ours[-1] / other:.2f}x" if other else ""),
                  flush=True)
    line = f"median: skiffeval {statistics.median(ours):.2f}s"
    if theirs:
        ratios = [a / b for a, b in zip(ours, theirs)]
        line += f"  nix 2.8 {statistics.median(theirs):.2f}s  ratio {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--no-nix", action="store_true")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--repeat", type=int, default=0, metavar="N")
    parser.add_argument("--one", metavar="DIR", help=argparse.SUPPRESS)  # a round of --repeat
    args = parser.parse_args()
    if args.one:
        print(f"{skiffeval_side(args.n, Path(args.one), False)['evaluate + hash']:.4f}")
        return
    if args.repeat:
        repeated(args.n, args.repeat, not args.no_nix)
        return
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        work = Path(tmp)
        ours = skiffeval_side(args.n, work, not args.no_build)
        theirs = {} if args.no_nix else nix_side(args.n, work)
    print(f"{'step':28} {'skiffeval':>10} {'nix 2.8':>10} {'ratio':>7}")
    for step, value in ours.items():
        other = theirs.get(step)
        print(f"{step:28} {value:9.2f}s " + (f"{other:9.2f}s {value / other:6.1f}x" if other else f"{'-':>10} {'-':>7}"))


if __name__ == "__main__":
    main()
