"""Store benchmark: a chain of layered derivations, side by side with Nix 2.8, and a warm re-hash.

The workload (BRIEF section 6): N derivations (default 10,000), each depending on the previous
three (their paths are in its environment) and writing a small file ``layer <i>``.  Why the
file does not mention its inputs: then every output would refer to the whole chain below it,
and Nix, which computes each build's input closure, becomes quadratic (its cold build of 10,000
did not finish in an hour); skiffeval is not (its closures are computed lazily).  skiffeval builds the records directly through
``skiffeval.derivation`` (the evaluation half belongs to the language benchmark; this measures
the hashing share), writes every ``.drv`` file in one transaction, builds them cold with
``builtin:write-text``, then realizes all N again (no-op) from a freshly opened store.  Nix gets
a generated ``.nix`` file with the same graph (``/bin/sh`` builders: Nix has no in-process
text builder for derivations) in a throwaway store under a temporary directory:
``nix-instantiate --readonly-mode`` (evaluate + hash), ``nix-instantiate`` (+ write the ``.drv``
files), ``nix-store --realise`` cold and again (no-op).  The Nix half is skipped cleanly when
``nix-instantiate`` is not installed.

Runs in a temporary directory inside the project's ``store/`` (see ``bench_dir``).

Also: cold import and warm re-hash of a 20,000-file tree (``SKIFFEVAL_BENCH_TREE`` names an
existing tree to copy instead, e.g. a Buildroot checkout).

Usage: python benchmarks/store_chain.py [-n 10000] [--no-nix] [--no-nix-build] [--json]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skiffeval.builders import realize  # noqa: E402
from skiffeval.derivation import Derivation, input_of  # noqa: E402
from skiffeval.store import LocalStore  # noqa: E402

TREE_FILES = 20_000


def chain(n: int) -> list[Derivation]:
    drvs: list[Derivation] = []
    for i in range(n):
        prev = drvs[-3:]
        ins = {f"p{j}": input_of(p) for j, p in enumerate(prev)}
        deps = " ".join(f"${{inputs.p{j}.out}}" for j in range(len(prev)))
        d = Derivation(name=f"layer-{i}", builder="builtin:write-text",
                       env={"deps": deps, "out": "${outputs.out}", "text": f"layer {i}\n"}, input_drvs=ins)
        d.key  # noqa: B018  (hash now: part of the measured share)
        drvs.append(d)
    return drvs


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def bench_skiffeval(n: int, work: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    out["hash"], drvs = timed(lambda: chain(n))
    store = LocalStore(work / "store")
    out["write_drvs"], _ = timed(lambda: store.write_derivations(drvs))
    out["cold_build"], result = timed(lambda: realize(store, drvs, graph=drvs))
    assert len(result.built) == n
    store.close()
    runs = []
    for _ in range(3):
        fresh = LocalStore(work / "store")
        t, r = timed(lambda: realize(fresh, drvs, graph=drvs))
        assert not r.built and len(r.valid) == n
        runs.append(t)
        fresh.close()
    out["noop_build"] = statistics.median(runs)
    return out


def make_tree(root: Path, files: int = TREE_FILES) -> Path:
    per_dir = 50
    for i in range(files):
        d = root / f"pkg{i // (per_dir * 4):03d}" / f"sub{(i // per_dir) % 4}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i % per_dir:02d}.mk").write_text(f"# file {i}\nVALUE_{i} = {i * 7919 % 100003}\n")
    return root


def bench_tree(work: Path) -> dict[str, float]:
    given = os.environ.get("SKIFFEVAL_BENCH_TREE")
    tree = work / "tree"
    if given:
        shutil.copytree(given, tree, symlinks=True)
    else:
        make_tree(tree)
    files = sum(len(fs) for _, _, fs in os.walk(tree))
    time.sleep(0.1)  # past the stat cache's racy window
    store = LocalStore(work / "tree-store")
    out: dict[str, float] = {"tree_files": float(files)}
    out["tree_cold_import"], p = timed(lambda: store.add_path(tree, "tree"))
    warm = []
    for _ in range(5):
        t, q = timed(lambda: store.add_path(tree, "tree"))
        assert q == p
        warm.append(t)
    out["tree_warm_rehash"] = statistics.median(warm)
    store.close()
    return out


def nix_file(n: int) -> str:
    lines = ["let"]
    for i in range(n):
        deps = " ".join(f"d{j}" for j in range(max(0, i - 3), i))
        lines.append(
            f'  d{i} = derivation {{ name = "layer-{i}"; system = builtins.currentSystem; builder = "/bin/sh"; '
            f'deps = [ {deps} ]; args = [ "-c" "echo layer {i} > $out" ]; }};'
        )
    lines.append("in [ " + " ".join(f"d{i}" for i in range(n)) + " ]")
    return "\n".join(lines) + "\n"


def bench_nix(n: int, work: Path, build: bool) -> dict[str, float] | None:
    if shutil.which("nix-instantiate") is None or shutil.which("nix-store") is None:
        return None
    root = work / "nix"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nix.conf").write_text("build-users-group =\nsandbox = false\nsubstituters =\nmax-jobs = 1\n")
    env = dict(os.environ, NIX_REMOTE="local", NIX_STORE_DIR=str(root / "store"), NIX_STATE_DIR=str(root / "var"),
               NIX_LOG_DIR=str(root / "log"), NIX_CONF_DIR=str(root / "etc"), HOME=str(root))
    f = root / "chain.nix"
    f.write_text(nix_file(n))

    def run(*argv: str) -> str:
        return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout

    out: dict[str, float] = {}
    out["hash"], _ = timed(lambda: run("nix-instantiate", "--readonly-mode", str(f)))
    t, drvs_text = timed(lambda: run("nix-instantiate", str(f)))
    out["write_drvs"] = max(t - out["hash"], 0.0)
    drvs = drvs_text.split()
    assert len(drvs) == n
    if build:
        out["cold_build"], _ = timed(lambda: run("nix-store", "--realise", *drvs))
        runs = [timed(lambda: run("nix-store", "--realise", *drvs))[0] for _ in range(3)]
        out["noop_build"] = statistics.median(runs)
    return out


def bench_dir() -> str | None:
    """Where to work: ``SKIFFEVAL_BENCH_DIR``, else inside the project's default store directory
    (a dot-named directory, which the store ignores), so the benchmark measures the file system
    a store really lives on.  Why not /tmp: on these machines creating files under /tmp was
    measured 4x slower than under /work, while both are the same ext4 file system."""
    given = os.environ.get("SKIFFEVAL_BENCH_DIR")
    if given:
        return given
    store = Path(__file__).resolve().parent.parent / "store"
    return str(store) if store.is_dir() and os.access(store, os.W_OK) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--no-nix", action="store_true")
    ap.add_argument("--no-nix-build", action="store_true", help="skip Nix's cold build (slow) and no-op")
    ap.add_argument("--no-tree", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix=".bench-", dir=bench_dir()) as tmp:
        work = Path(tmp)
        ours = bench_skiffeval(args.n, work)
        tree = {} if args.no_tree else bench_tree(work)
        nix = None if args.no_nix else bench_nix(args.n, work, not args.no_nix_build)
        for dirpath, dirs, _files in os.walk(work):  # read-only trees: make them deletable
            for d in dirs:
                os.chmod(os.path.join(dirpath, d), 0o755)
    if args.json:
        print(json.dumps({"n": args.n, "skiffeval": ours, "tree": tree, "nix": nix}, indent=2))
        return
    print(f"{args.n} layered derivations (each depends on the previous three)")
    print(f"{'step':<28}{'skiffeval':>12}{'Nix 2.8':>12}{'Nix/ours':>10}")
    labels = {"hash": "construct + hash", "write_drvs": "write .drv files", "cold_build": "cold build",
              "noop_build": "no-op build"}
    for key, label in labels.items():
        mine = ours[key]
        theirs = (nix or {}).get(key)
        ratio = f"{theirs / mine:.1f}x" if theirs else "-"
        print(f"{label:<28}{mine:>11.3f}s{(f'{theirs:.3f}s' if theirs is not None else 'skipped'):>12}{ratio:>10}")
    if tree:
        print(f"tree of {int(tree['tree_files'])} files: cold import {tree['tree_cold_import']:.3f}s, "
              f"warm re-hash {tree['tree_warm_rehash']:.3f}s")
    if nix is None and not args.no_nix:
        print("Nix not installed: its half was skipped")


if __name__ == "__main__":
    main()
