#!/usr/bin/env python3
"""Benchmark: parsing and evaluating .sk text, with Nix 2.8 side by side where it applies.

    python benchmarks/parse_eval.py            # prints a table; numbers go to docs/performance.md

Cases:
* parse a realistic 2,000-line file (layer definitions: sets, lists, strings, paths) and a dense
  one (~38 tokens a line), warm parser (tables loaded, as in any command after the first line);
* evaluate a 10,000-attribute set of small computations, strictly;
* 10,000-deep chains of function calls and of let-bindings;
* the same programs through ``nix-instantiate --eval --strict`` when it is installed (ratio).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skiffeval.eval.evaluator import Evaluator, run_deep  # noqa: E402
from skiffeval.eval.io import MemoryIO  # noqa: E402
from skiffeval.syntax.parser import parse  # noqa: E402

REALISTIC = '''  layer{i} = {{
    name = "cat/layer{i}";
    description = "layer number {i}";
    depends = [ (import ./common.sk {{ }}) ];
    buildroot = [ ./buildroot/pi4.conf {{ BR2_TARGET_GENERIC_HOSTNAME = hostname; BR2_PACKAGE_HTOP = true; }} ];
    overlay = [ ./root_overlay {{ "etc/motd" = "welcome to ${{hostname}}\\n"; }} ];
    enabled = if n > {i} then true else false;
  }};
'''


def realistic_text() -> str:
    return "{ hostname, n }: {\n" + "".join(REALISTIC.format(i=i) for i in range(250)) + "}\n"


def dense_text() -> str:
    lines = [f'  a{i} = {{ n = {i}; s = "v${{toString {i}}}"; l = [ {i} ({i} + 1) ]; f = x: x + {i}; }};' for i in range(1998)]
    return "{\n" + "\n".join(lines) + "\n}\n"


EVAL_PROGRAMS = {
    "10k attributes, strict": "builtins.listToAttrs (builtins.genList (i: { name = \"a\" + toString i; value = { x = i * 2; s = \"v\" + toString i; l = [ i (i + 1) ]; }; }) 10000)",
    "10k-deep calls": "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10000",
    "foldl' over 100k": "builtins.foldl' (a: b: a + b) 0 (builtins.genList (i: i) 100000)",
}


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def nix_time(program: str) -> float | None:
    nix = shutil.which("nix-instantiate")
    if nix is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="bench-nix-"))
    path = root / "p.nix"
    path.write_text(f"builtins.deepSeq ({program}) true\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "NIX_REMOTE": "local", "NIX_STATE_DIR": str(root / "state")}

    def run() -> None:
        subprocess.run([nix, "--eval", "--strict", str(path)], env=env, check=True, capture_output=True)

    return best_of(3, run)


def main() -> None:
    parse("1", "warm.sk")
    rows = []
    for label, text in (("parse 2,000 realistic lines", realistic_text()), ("parse 2,000 dense lines", dense_text())):
        tokens = len(text.split())
        rows.append((label, best_of(3, lambda: parse(text, "bench.sk")), None, f"{len(text.splitlines())} lines, ~{tokens} words"))
    for label, program in EVAL_PROGRAMS.items():
        def run(program=program) -> None:
            ev = Evaluator(MemoryIO({}))
            run_deep(lambda: ev.force_deep(ev.eval_text(program, "bench.sk", "/")))
        rows.append((label, best_of(3, run), nix_time(program), "includes parse"))
    print(f"{'case':34} {'skiffeval':>10} {'nix 2.8':>10} {'ratio':>7}  note")
    for label, ours, nix, note in rows:
        nix_text = f"{nix:9.3f}s" if nix is not None else "        -"
        ratio = f"{ours / nix:6.1f}x" if nix else "      -"
        print(f"{label:34} {ours:9.3f}s {nix_text} {ratio}  {note}")


if __name__ == "__main__":
    main()
