"""Query benchmark: every graph query over a 10,000-derivation graph, from the store alone.

The workload: N derivations (default 10,000) built directly as ``skiffeval.derivation`` records,
each reading the previous three (so sub-graphs are shared everywhere: a tree that re-expanded
them would print ~3^depth lines) and every tenth one a source file; all ``.drv`` files are
written to a temporary store in one transaction and (unless ``--no-build``) realized with
``builtin:write-text``, each output mentioning its inputs' paths (so the output graph has the
same shape).  Then each query runs through the command line (``skiffeval.cli.main``) in a fresh process,
timed after the imports (parsing, the query and the printing are measured, stdout to a buffer;
process start and imports, ~0.3 s, are not),
with a fresh session each time, on the top derivation's ``.drv``, in four states of the query
index (``.skiffeval/query-index.sqlite``) and the query cache beside it:
- *index cold*: the index and the cache deleted (every ``.drv`` file read): a store whose
  records were never indexed (``.drv`` files written by something else);
- *first walk*: the index as a build leaves it (the records of what it built), but no walk
  kept (``skiffeval.session.querycache``): what the first query of a graph nothing walked
  costs — a root the build did not name;
- *after build*: the index and the cache as ``skiffeval build`` leaves them — it also keeps
  the derivation walk of what it built and the output walk of its out-link
  (``queries.remember_build``; ``index_after_build`` and ``remember_build`` in the setup line,
  timed here after realizing): what the first query after a build costs;
- *warm*: the same query again (the answers it kept): the median and best wall time of
  ``--repeat`` runs, and the median CPU time of the process (the fairer figure on a shared,
  busy machine).
Every state's figure is the median of ``--repeat`` runs, each from the state made anew.

With ``--nix`` (and ``nix-instantiate`` installed) the same graph is instantiated into a
throwaway Nix 2.8 store and ``nix-store -q --tree/--graph/-qR/--referrers`` run on its top
``.drv``: side by side, including Nix's process start (~40 ms).

Usage: python benchmarks/query_graph.py [-n 10000] [--no-build] [--nix] [--repeat 3] [--json]
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skiffeval.derivation import Derivation, input_of  # noqa: E402
from skiffeval.store import LocalStore  # noqa: E402


def graph(n: int, store: LocalStore) -> list[Derivation]:
    """N layered derivations: each reads the previous three; every tenth also a source."""
    drvs: list[Derivation] = []
    for i in range(n):
        prev = drvs[-3:]
        ins = {f"p{j}": input_of(p) for j, p in enumerate(prev)}
        deps = " ".join(f"${{inputs.p{j}.out}}" for j in range(len(prev)))
        srcs = {}
        if i % 10 == 0:
            srcs["frag"] = store.add_bytes(f"frag-{i}.conf", f"BR2_LAYER_{i}=y\n".encode())
            deps += " ${sources.frag}"
        drvs.append(Derivation(name=f"layer-{i}", builder="builtin:write-text",
                               env={"out": "${outputs.out}", "text": f"layer {i}: {deps}\n"},
                               input_drvs=ins, input_srcs=srcs))
    return drvs


_CHILD = r"""
import contextlib, io, json, sys, time
sys.path.insert(0, sys.argv[1])
from skiffeval.cli import main
import skiffeval.cli.cmd_query, skiffeval.session.core, skiffeval.session.queries  # noqa: F401 (imports are not the query)
out, err = io.StringIO(), io.StringIO()
t0, c0 = time.perf_counter(), time.process_time()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(sys.argv[2:])
print(json.dumps([time.perf_counter() - t0, time.process_time() - c0, code, len(out.getvalue()), err.getvalue()[-2000:]]))
"""


def run(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """Time one command line in a fresh process, after its imports: (wall seconds, CPU seconds,
    bytes printed).  Why a fresh process: that is what a user runs, and a benchmark process
    holding 10,000 records makes Python's cyclic GC walk them during every query."""
    root = str(Path(__file__).resolve().parent.parent)
    proc = subprocess.run([sys.executable, "-c", _CHILD, root, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{args}: {proc.stderr[-2000:]}")
    wall, cpu, code, size, err = json.loads(proc.stdout.splitlines()[-1])
    if code != 0:
        raise SystemExit(f"{args}: exit {code}\n{err}")
    return wall, cpu, size


def queries(top: str, bottom: str, middle: str, built: bool) -> dict[str, list[str]]:
    q = {
        "query tree": ["query", "tree", top],
        "query tree --json": ["query", "tree", top, "--json"],
        "query graph --format dot": ["query", "graph", top, "--format", "dot"],
        "query graph --format json": ["query", "graph", top, "--format", "json"],
        "query references": ["query", "references", top],
        "query referrers": ["query", "referrers", middle],
        "query requisites": ["query", "requisites", top],
        "why-depends": ["why-depends", top, bottom],
        "why-depends --all": ["why-depends", top, bottom, "--all"],
        "path-info --drv -rS": ["path-info", top, "-rS", "--drv"],
    }
    if built:
        q.update({
            "query tree --outputs": ["query", "tree", "./result", "--outputs"],
            "query requisites --outputs": ["query", "requisites", "./result", "--outputs"],
            "path-info -rS": ["path-info", "./result", "-rS"],
            "path-info -rS --json": ["path-info", "./result", "-rS", "--json"],
        })
    return q


def bench(n: int, work: Path, build: bool, repeat: int) -> dict:
    store = LocalStore(work / "store")
    t0 = time.perf_counter()
    drvs = graph(n, store)
    store.write_derivations(drvs)
    setup = {"construct_and_write": time.perf_counter() - t0}
    if build:
        from skiffeval.builders import realize

        t0 = time.perf_counter()
        result = realize(store, [drvs[-1]], graph=drvs)
        setup["cold_build"] = time.perf_counter() - t0
        store.add_indirect_root(work / "result", result.of(drvs[-1]))
    store.close()
    index = work / "store" / ".skiffeval" / "query-index.sqlite"
    kept = index.parent / "query-cache"
    built_index = work / "index-after-build.sqlite"  # the index as the build left it (closed: no WAL)
    built_kept = work / "kept-after-build"  # the walks the build kept
    if build:
        # what `skiffeval build` does after building (Session.realize_targets), in a session
        # whose table holds the records, as the build's evaluation left it: the built records
        # into the query index, then the walks of what it built
        from skiffeval.session import Session, SessionOptions
        from skiffeval.session.queries import index_records, remember_build

        session = Session(SessionOptions(cwd=str(work), store_dir="store"))
        for d in drvs:
            session.table.add(d)
        t0 = time.perf_counter()
        index_records(session.store, drvs, session.query_recs)
        setup["index_after_build"] = time.perf_counter() - t0
        shutil.copyfile(index, built_index)  # (index_records closed it: no WAL)
        t0 = time.perf_counter()
        remember_build(session, [drvs[-1]], [result.of(drvs[-1])])
        setup["remember_build"] = time.perf_counter() - t0
        session.store.close()
        shutil.copytree(kept, built_kept)
    top = drvs[-1].drv_path.basename
    bottom = drvs[0].drv_path.basename
    middle = drvs[n // 2].drv_path.basename
    times: dict[str, dict[str, float]] = {}

    def drop_index() -> None:  # and the answers kept beside it
        for suffix in ("-wal", "-shm", ""):
            Path(f"{index}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(kept, ignore_errors=True)

    def cold_state() -> None:
        drop_index()

    def first_walk_state() -> None:
        drop_index()
        if built_index.exists():
            shutil.copyfile(built_index, index)

    def after_build_state() -> None:
        first_walk_state()
        if built_kept.exists():
            shutil.copytree(built_kept, kept)

    def median_of(state: Any, argv: list[str]) -> tuple[float, float, int]:
        """The median wall and CPU time of ``repeat`` runs, each from ``state`` made anew."""
        runs = []
        for _ in range(repeat):
            state()
            runs.append(run(argv, work))
        return statistics.median(w for w, _, _ in runs), statistics.median(c for _, c, _ in runs), runs[0][2]

    for label, argv in queries(top, bottom, middle, build).items():
        cold, _, size = median_of(cold_state, argv)
        first_walk, first_walk_cpu, _ = median_of(first_walk_state, argv)
        after_build, after_build_cpu, _ = median_of(after_build_state, argv)
        warm = [run(argv, work) for _ in range(repeat)]  # the last state's answers kept
        times[label] = {"cold_index": cold, "first_walk": first_walk, "first_walk_cpu": first_walk_cpu,
                        "after_build": after_build, "after_build_cpu": after_build_cpu,
                        "warm": statistics.median(w for w, _, _ in warm), "warm_best": min(w for w, _, _ in warm),
                        "warm_cpu": statistics.median(c for _, c, _ in warm), "bytes": size}
    return {"setup": setup, "queries": times}


def nix_file(n: int) -> str:
    lines = ["let"]
    for i in range(n):
        deps = " ".join(f"d{j}" for j in range(max(0, i - 3), i))
        src = f' src{i} = builtins.toFile "frag-{i}.conf" "BR2_LAYER_{i}=y\\n";' if i % 10 == 0 else ""
        lines.append(f'  d{i} = derivation {{ name = "layer-{i}"; system = builtins.currentSystem; builder = "/bin/sh";'
                     f' deps = [ {deps} ];{src} args = [ "-c" "echo layer {i} > $out" ]; }};')
    lines.append(f"in d{n - 1}")
    return "\n".join(lines) + "\n"


def bench_nix(n: int, work: Path, repeat: int) -> dict[str, float] | None:
    if shutil.which("nix-instantiate") is None:
        return None
    root = work / "nix"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "nix.conf").write_text("build-users-group =\nsandbox = false\nsubstituters =\n")
    env = dict(os.environ, NIX_REMOTE="local", NIX_STORE_DIR=str(root / "store"), NIX_STATE_DIR=str(root / "var"),
               NIX_LOG_DIR=str(root / "log"), NIX_CONF_DIR=str(root / "etc"), HOME=str(root))
    f = root / "graph.nix"
    f.write_text(nix_file(n))
    top = subprocess.run(["nix-instantiate", str(f)], env=env, check=True, capture_output=True, text=True).stdout.split()[0]
    bottom = subprocess.run(["nix-store", "-qR", top], env=env, check=True, capture_output=True, text=True).stdout.split()
    bottom_drv = next(p for p in bottom if p.endswith("-layer-0.drv"))
    middle = next(p for p in bottom if p.endswith(f"-layer-{n // 2}.drv"))

    sizes: dict[str, int] = {}

    def timed(*argv: str, times: int = repeat, limit: float = 600.0) -> float:
        runs = []
        for _ in range(times):
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=limit)
            except subprocess.TimeoutExpired:
                return float("inf")
            runs.append(time.perf_counter() - t0)
            sizes[" ".join(argv[:4])] = len(proc.stdout)
        return statistics.median(runs)

    return {
        "query tree": timed("nix-store", "-q", "--tree", top),
        "query graph --format dot": timed("nix-store", "-q", "--graph", top),
        "query references": timed("nix-store", "-q", "--references", top),
        "query referrers": timed("nix-store", "-q", "--referrers", middle),
        "query requisites": timed("nix-store", "-qR", top),
        "why-depends": timed("nix", "--extra-experimental-features", "nix-command", "why-depends", "--derivation", top, bottom_drv),
        # quadratic (each path's closure walked anew): once, and given up after 10 minutes
        "path-info --drv -rS": timed("nix", "--extra-experimental-features", "nix-command", "path-info", "--derivation", "-rS", top,
                                     times=1),
        "tree_bytes": sizes["nix-store -q --tree " + top],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--no-build", action="store_true", help="skip realizing (and the output-graph queries)")
    ap.add_argument("--nix", action="store_true", help="also time Nix 2.8's queries on the same graph")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="skiffeval-qbench-", dir=os.environ.get("SKIFFEVAL_BENCH_DIR")) as tmp:
        work = Path(tmp)
        load = [os.getloadavg()[0]]
        ours = bench(args.n, work, not args.no_build, args.repeat)
        load.append(os.getloadavg()[0])
        ours["load_average"] = load  # at the start and at the end: how busy the machine was
        nix = bench_nix(args.n, work, args.repeat) if args.nix else None
        for dirpath, dirs, _files in os.walk(work):  # read-only trees: make them deletable
            for d in dirs:
                os.chmod(os.path.join(dirpath, d), 0o755)
    if args.json:
        print(json.dumps({"n": args.n, "skiffeval": ours, "nix": nix}, indent=2))
        return
    print(f"{args.n} derivations, each reading the previous three (every tenth also a source)")
    print("setup: " + ", ".join(f"{k} {v:.2f}s" for k, v in ours["setup"].items()))
    print(f"load average: {ours['load_average'][0]:.1f} at the start, {ours['load_average'][1]:.1f} at the end"
          " (CPU time is the fairer figure on a busy machine)")
    print(f"{'query':<28}{'index cold':>11}{'first walk':>11}{'(CPU)':>8}{'after build':>12}{'(CPU)':>8}"
          f"{'warm':>9}{'best':>9}{'CPU':>9}{'output':>10}{'Nix 2.8':>10}")
    for label, t in ours["queries"].items():
        theirs = (nix or {}).get(label)
        print(f"{label:<28}{t['cold_index']:>10.3f}s{t['first_walk']:>10.3f}s{t['first_walk_cpu']:>7.3f}s"
              f"{t['after_build']:>11.3f}s{t['after_build_cpu']:>7.3f}s"
              f"{t['warm']:>8.3f}s{t['warm_best']:>8.3f}s{t['warm_cpu']:>8.3f}s"
              f"{t['bytes'] / 1024:>8.0f}KB{(f'{theirs:.3f}s' if theirs is not None else '-'):>10}")
    if nix is not None:
        print(f"Nix's tree printed {nix['tree_bytes'] / 1024:.0f} KB (its indentation grows with depth)")


if __name__ == "__main__":
    main()
