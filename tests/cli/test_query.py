"""``skiffeval query tree|graph|references|referrers|requisites``, ``why-depends``, ``path-info``
on the fixture project ``fixtures/demo`` (two layers, every derivation a system makes without a
Buildroot source): golden texts, JSON schemas, the store-only path, graphs not yet built.

Golden texts (``golden/``) are compared after ``normalize``: the store root becomes ``<store>``
and every store digest or derivation key ``<n>`` (numbered by first appearance), so a change of
the derivation format does not touch them while any change of shape does.  ``SKIFFEVAL_ACCEPT=1``
rewrites them (review the diff before committing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from skiffeval.derivation import Derivation, input_of
from tests.cli.runner import Result, run

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
DIGEST = re.compile(r"(?<![0-9a-z])[0-9abcdfghijklmnpqrsvwxyz]{26}(?=-)")

# -- helpers (also used by the other test_query_* modules) -----------------------------------


def project(tmp: Path, name: str = "demo") -> Path:
    """A copy of ``fixtures/<name>`` at ``tmp/<name>`` (its store will be ``store/``)."""
    dest = tmp / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def sk(args: list[str], cwd: Path) -> Result:
    """Run the command line in ``cwd`` with the store ``cwd/store``; never a traceback."""
    r = run([*args, "--store", "store"], cwd=cwd)
    assert "Traceback" not in r.err, r.err
    return r


def ok(args: list[str], cwd: Path) -> Result:
    r = sk(args, cwd)
    assert r.code == 0, r.err
    return r


def normalize(text: str, cwd: Path) -> str:
    text = text.replace(os.path.realpath(cwd / "store"), "<store>")
    names: dict[str, str] = {}

    def number(m: re.Match) -> str:
        if m.group(0) not in names:
            names[m.group(0)] = f"<{len(names) + 1}>"
        return names[m.group(0)]

    return DIGEST.sub(number, text)


def check_golden(name: str, text: str, cwd: Path) -> None:
    path = GOLDEN / name
    got = normalize(text, cwd)
    if os.environ.get("SKIFFEVAL_ACCEPT") == "1" or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(got)
    assert got == path.read_text(), f"golden {name} differs (SKIFFEVAL_ACCEPT=1 rewrites it)"


def layered(n: int, width: int = 3, *, sources: dict[int, object] | None = None) -> list[Derivation]:
    """``n`` write-text derivations, each reading the previous ``width`` (their output paths are
    in its text, so the outputs refer to each other in the same shape)."""
    drvs: list[Derivation] = []
    for i in range(n):
        prev = drvs[-width:]
        ins = {f"p{j}": input_of(p) for j, p in enumerate(prev)}
        text = f"layer {i}: " + " ".join(f"${{inputs.p{j}.out}}" for j in range(len(prev)))
        srcs = {}
        if sources and i in sources:
            srcs["src"] = sources[i]
            text += " ${sources.src}"
        drvs.append(Derivation(name=f"layer-{i}", builder="builtin:write-text",
                               env={"out": "${outputs.out}", "text": text + "\n"}, input_drvs=ins, input_srcs=srcs))
    return drvs


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project, built once (``./result`` -> the bundle)."""
    cwd = project(tmp_path_factory.mktemp("built"))
    ok(["build", "board.sk"], cwd)
    return cwd


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """The demo project, nothing built."""
    return project(tmp_path)


def drv_file(cwd: Path, suffix: str) -> str:
    found = [p.name for p in (cwd / "store").iterdir() if p.name.endswith(suffix)]
    assert len(found) == 1, found
    return found[0]


# -- tree ------------------------------------------------------------------------------------


def test_tree_golden(built: Path) -> None:
    r = ok(["query", "tree", "board.sk"], built)
    check_golden("tree.txt", r.out, built)


def test_tree_shared_subtrees_are_printed_once_and_marked(built: Path) -> None:
    r = ok(["query", "tree", "board.sk", "--json"], built)
    doc = json.loads(r.out)
    lines = doc["lines"]
    edges = sum(1 for ln in lines if ln["depth"] > 0)
    expanded = [ln["node"] for ln in lines if not ln["shared"]]
    # every node's children are listed once: one line per edge, plus the root
    assert len(lines) == 1 + edges
    hooks = [ln for ln in lines if ln["node"].endswith("-demo-hooks.drv")]
    assert [ln["shared"] for ln in hooks] == [False, True]
    with_children = {ln["node"] for ln in lines if ln["shared"]}
    assert all(expanded.count(n) == 1 for n in with_children)  # expanded once, marked after
    assert sum(1 for ln in lines if ln["node"].endswith("-post-build.sh")) == 1  # under hooks, once


def test_tree_from_the_store_alone_equals_the_evaluated_tree(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evaluated = ok(["query", "tree", "board.sk"], built).out
    from skiffeval.session.core import Session

    def no_evaluation(self):  # noqa: ANN001
        raise AssertionError("a store target must not evaluate anything")

    monkeypatch.setattr(Session, "evaluator", property(no_evaluation))
    assert ok(["query", "tree", "./result"], built).out == evaluated
    assert ok(["query", "tree", drv_file(built, "-demo-bundle.drv")], built).out == evaluated
    assert ok(["query", "tree", f"store/{drv_file(built, '-demo-bundle.drv')}"], built).out == evaluated


def _index_rows(cwd: Path) -> dict[str, str]:
    import sqlite3

    from skiffeval.session.drvindex import _INDEX_TABLE

    conn = sqlite3.connect(cwd / "store" / ".skiffeval" / "query-index.sqlite")
    try:
        return dict(conn.execute(f"SELECT key, doc FROM {_INDEX_TABLE}"))
    finally:
        conn.close()


def test_a_build_fills_the_query_index_as_reading_the_drv_files_would(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(["build", "board.sk"], fresh)
    from_build = _index_rows(fresh)
    drvs = {p.name.split("-", 1)[0] for p in (fresh / "store").iterdir() if p.name.endswith(".drv")}
    assert set(from_build) == drvs  # every derivation the build made, and only those

    # the first query after the build reads index rows, no .drv file
    from skiffeval.session.drvindex import _Reader

    def no_file(self, key, name):  # noqa: ANN001
        raise AssertionError(f"read {key}-{name}.drv although the build indexed it")

    with monkeypatch.context() as m:
        m.setattr(_Reader, "doc", no_file)
        tree = ok(["query", "tree", "./result"], fresh).out

    # the same rows as a query makes from the files themselves (no answer kept either)
    for suffix in ("-wal", "-shm", ""):
        (fresh / "store" / ".skiffeval" / f"query-index.sqlite{suffix}").unlink(missing_ok=True)
    shutil.rmtree(fresh / "store" / ".skiffeval" / "query-cache")
    assert ok(["query", "tree", "./result"], fresh).out == tree
    assert _index_rows(fresh) == from_build


def test_tree_of_outputs_golden(built: Path) -> None:
    r = ok(["query", "tree", "./result", "--outputs"], built)
    check_golden("tree-outputs.txt", r.out, built)


def test_tree_before_anything_is_built(fresh: Path) -> None:
    r = ok(["query", "tree", "board.sk#config"], fresh)
    assert r.out.splitlines()[0].endswith("-demo-config.drv (config, not built)")
    assert "built)" not in r.out.replace("not built)", "")
    assert not list((fresh / "store").glob("*.drv")), "a query writes no derivations"
    outs = sk(["query", "tree", "board.sk", "--outputs"], fresh)
    assert outs.code == 1 and "E401" in outs.err and "not built" in outs.err


def test_tree_depth(built: Path) -> None:
    r = ok(["query", "tree", "board.sk", "--depth", "1"], built)
    assert all(not line.startswith(("│   ", "    ")) for line in r.out.splitlines())
    assert len(r.out.splitlines()) == 7


def test_tree_json_schema(built: Path) -> None:
    doc = json.loads(ok(["query", "tree", "board.sk", "--json"], built).out)
    assert set(doc) == {"roots", "nodes", "lines"}
    root = doc["nodes"][doc["roots"][0]]
    assert root["type"] == "derivation" and root["kind"] == "bundle" and root["built"] is True
    assert set(root) == {"id", "name", "type", "kind", "built", "path", "key", "builder", "fixed", "outputs"}
    assert root["outputs"]["out"] == os.path.realpath(built / "result")
    source = next(n for n in doc["nodes"].values() if n["type"] == "source")
    assert set(source) == {"id", "name", "type", "kind", "built", "path"}
    assert set(doc["lines"][1]) == {"depth", "node", "slot", "shared"}


# -- a deep shared graph stays linear -------------------------------------------------------


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Derivation]]:
    """400 derivations, each reading the previous three, written (not built) to a store."""
    from skiffeval.store import LocalStore

    cwd = tmp_path_factory.mktemp("deep")
    with LocalStore(cwd / "store") as store:
        drvs = layered(400, sources={0: store.add_bytes("base.conf", b"BR2_X=y\n")})
        store.write_derivations(drvs)
    return cwd, drvs


def test_an_indexed_closure_is_read_in_one_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first walk reads the .drv files and indexes them with their input edges; the next
    reads the whole closure with one recursive query instead of one read per wave (400 here)."""
    from skiffeval.session.drvindex import _Reader
    from skiffeval.store import LocalStore

    with LocalStore(tmp_path / "store") as store:
        drvs = layered(400)
        store.write_derivations(drvs)
    top = drvs[-1].drv_path.basename
    first = ok(["query", "tree", top], tmp_path).out

    waves_reading: list[int] = []
    original = _Reader.prefetch

    def counting(self, refs):  # noqa: ANN001
        refs = list(refs)
        if any(r not in self.recs for r in refs):
            waves_reading.append(len(refs))
        return original(self, refs)

    monkeypatch.setattr(_Reader, "prefetch", counting)
    assert ok(["query", "tree", top], tmp_path).out == first
    assert waves_reading == [1]  # the root's own record; then its closure at once
    # with a depth limit only the levels asked for are read, wave by wave
    ok(["query", "tree", top, "--depth", "3"], tmp_path)
    assert len(waves_reading) == 1 + 1 + 3  # the roots (twice: two commands), three levels


def test_deep_tree_is_linear_and_its_lines_bounded(deep) -> None:
    cwd, drvs = deep
    r = ok(["query", "tree", drvs[-1].drv_path.basename], cwd)
    lines = r.out.splitlines()
    edges = sum(len(d.input_drvs) + len(d.input_srcs) for d in drvs)
    assert len(lines) == 1 + edges  # each edge once: a re-expanding tree would have ~3^400 lines
    assert max(len(line) for line in lines) < 250  # guides beyond 24 levels become "+N"
    indegree = {d.drv_path.basename: 0 for d in drvs}
    for d in drvs:
        for inp in d.input_drvs.values():
            indegree[next(x.drv_path.basename for x in drvs if x.key == inp.key)] += 1
    # each derivation with inputs is expanded at its first line, marked at every other one
    assert sum(line.endswith("[see above]") for line in lines) == sum(n - 1 for n in indegree.values() if n)
    deepest = max(lines, key=len)
    assert re.match(r"\+\d+ ", deepest)


def test_deep_why_depends_and_requisites(deep) -> None:
    cwd, drvs = deep
    top, bottom = drvs[-1].drv_path.basename, drvs[0].drv_path.basename
    r = ok(["why-depends", top, bottom, "--json"], cwd)
    lines = json.loads(r.out)["lines"]
    assert lines[0]["node"] == top and lines[-1]["node"] == bottom
    assert len(lines) == 1 + 133  # the shortest chain jumps three back each step (399 / 3)
    assert all(ln["sites"] == [{"field": "env.text", "path": "", "layer": None, "file": None, "label": None, "symbol": None}]
               for ln in lines[1:])
    req = ok(["query", "requisites", top], cwd).out.split()
    assert len(req) == len(drvs) + 1  # and the source
    assert req[-1].endswith(top) and req.index(f"{cwd.resolve()}/store/{bottom}") < req.index(f"{cwd.resolve()}/store/{drvs[1].drv_path.basename}")


# -- graph -------------------------------------------------------------------------------------


def test_graph_dot_golden(built: Path) -> None:
    r = ok(["query", "graph", "board.sk"], built)
    check_golden("graph.dot", r.out, built)


def test_graph_svg_through_graphviz(built: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    r = ok(["query", "graph", "./result", "--format", "svg", "-o", "board.svg"], built)
    svg = (built / "board.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    svg = svg.replace("&#45;", "-")
    assert "demo-config" in svg and "[config]" in svg and "#b7e4c7" in svg  # labels, kinds, built colour
    assert "wrote board.svg" in r.err


def test_graph_svg_without_graphviz(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(built))  # no 'dot' there
    r = sk(["query", "graph", "./result", "--format", "svg"], built)
    assert r.code == 1 and "E403" in r.err and "--format dot" in r.err


def test_graph_json_schema_and_states(fresh: Path) -> None:
    ok(["build", "board.sk", "-A", "kernel_config"], fresh)
    doc = json.loads(ok(["query", "graph", "board.sk", "--format", "json"], fresh).out)
    assert doc == json.loads(ok(["query", "graph", "board.sk", "--json"], fresh).out)
    assert set(doc) == {"roots", "nodes", "edges"}
    by_name = {n["name"]: n for n in doc["nodes"]}
    assert by_name["demo-kernel-config"]["built"] is True and by_name["demo-config"]["built"] is False
    kinds = {n["name"]: n["kind"] for n in doc["nodes"]}
    assert kinds == {
        "demo-bundle": "bundle", "demo-config": "config", "demo-hooks": "hooks", "demo-kernel-config": "fragments",
        "demo-overlay": "overlay", "demo-patches": "patches", "demo-users": "text", "buildroot.conf": "fragment",
        "post-build.sh": "hook", "kernel.conf": "fragment", "files-hostname": "files", "overlay": "overlay",
        "patches": "patches",
    }
    edge = next(e for e in doc["edges"] if e["slot"] == "demo-overlay" and e["from"].endswith("-demo-config.drv"))
    assert set(edge) == {"from", "to", "slot", "outputs"} and edge["outputs"] == ["out"]
    dot = ok(["query", "graph", "board.sk"], fresh).out
    assert 'style="rounded,filled,dashed"' in dot and "#b7e4c7" in dot


# -- references, referrers, requisites --------------------------------------------------------


def test_references_referrers_requisites(built: Path) -> None:
    store = os.path.realpath(built / "store")
    refs = ok(["query", "references", "board.sk#kernel_config"], built).out.split()
    assert [os.path.basename(p)[27:] for p in refs] == ["kernel.conf", "kernel.conf"]
    assert all(p.startswith(store + "/") for p in refs)
    back = ok(["query", "referrers", refs[0]], built).out.split()
    assert [os.path.basename(p)[27:] for p in back] == ["demo-kernel-config.drv"]
    users = ok(["query", "referrers", "board.sk#kernel_config"], built).out.split()
    assert sorted(os.path.basename(p)[27:] for p in users) == ["demo-bundle.drv", "demo-config.drv"]
    req = ok(["query", "requisites", "board.sk#overlay"], built).out.split()
    assert [os.path.basename(p)[27:] for p in req] == ["files-hostname.drv", "overlay", "demo-overlay.drv"]


def test_output_queries(built: Path) -> None:
    out_refs = ok(["query", "references", "./result", "--outputs"], built).out.split()
    assert sorted(os.path.basename(p)[27:] for p in out_refs) == [
        "demo-config", "demo-hooks", "demo-kernel-config", "demo-overlay", "demo-patches", "demo-users"]
    overlay = next(p for p in out_refs if p.endswith("-demo-overlay"))
    back = json.loads(ok(["query", "referrers", overlay, "--outputs", "--json"], built).out)
    assert sorted(n["name"] for n in back) == ["demo-bundle", "demo-config", "demo-config-provenance"]
    assert all(n["type"] == "output" and n["built"] for n in back)
    req = ok(["query", "requisites", "./result", "--outputs"], built).out.split()
    assert req[-1] == os.path.realpath(built / "result") and len(req) == 8


def test_referrers_of_an_evaluated_target_need_no_written_derivations(fresh: Path) -> None:
    users = ok(["query", "referrers", "board.sk#hooks", "--json"], fresh).out
    names = sorted(n["name"] for n in json.loads(users))
    assert names == ["demo-bundle", "demo-config"]
    assert not list((fresh / "store").glob("*.drv"))


# -- why-depends -------------------------------------------------------------------------------


def test_why_depends_golden(built: Path) -> None:
    r = ok(["why-depends", "board.sk", "layers/base/kernel.conf"], built)
    check_golden("why-depends.txt", r.out, built)
    r = ok(["why-depends", "./result", "files-hostname", "--all"], built)
    check_golden("why-depends-all.txt", r.out, built)


def test_why_depends_names_the_spec_entry_layer_and_file(built: Path) -> None:
    doc = json.loads(ok(["why-depends", "board.sk#config", "layers/base/buildroot.conf", "--json"], built).out)
    assert set(doc) == {"roots", "dependencies", "nodes", "lines"}
    step = doc["lines"][-1]
    assert step["slot"] == "buildroot-conf"
    assert step["sites"] == [{"field": "env.spec", "path": "parts[0].path", "layer": "demo/base",
                              "file": "demo/base:base/buildroot.conf", "label": "base/buildroot.conf", "symbol": None}]
    text = ok(["why-depends", "board.sk#config", "demo-hooks"], built).out
    assert "via env.spec generated[3].value (symbol BR2_ROOTFS_POST_BUILD_SCRIPT)" in text


def test_why_depends_accepts_every_kind_of_dependency(built: Path) -> None:
    hooks_drv = drv_file(built, "-demo-hooks.drv")
    for dep in ("demo-hooks", hooks_drv, f"store/{hooks_drv}", "board.sk#hooks"):
        r = ok(["why-depends", "./result", dep], built)
        last = [line for line in r.out.splitlines() if "── " in line][-1]
        assert last.split(": ", 1)[1].startswith(hooks_drv), dep
    hooks_out = next(p for p in (built / "store").iterdir() if p.name.endswith("-demo-hooks"))
    r = ok(["why-depends", "./result", str(hooks_out), "--outputs"], built)
    assert r.out.splitlines()[-1].endswith("-demo-hooks (hooks, output)")


def test_why_depends_failures(built: Path) -> None:
    r = sk(["why-depends", "board.sk#kernel_config", "demo-overlay"], built)
    assert r.code == 1 and "E400" in r.err and "does not depend on 'demo-overlay'" in r.err
    r = sk(["why-depends", "board.sk", "demo-confg"], built)
    assert r.code == 1 and "E402" in r.err and "did you mean 'demo-config'" in r.err
    r = sk(["why-depends", "board.sk#config", "demo-hooks", "--json", "-A", "x"], built)
    assert r.code == 2
    r = sk(["why-depends", "board.sk#kernel_config", "demo-overlay", "--json"], built)
    assert r.code == 1 and json.loads(r.err)["diagnostics"][0]["code"] == "E400"


# -- path-info -------------------------------------------------------------------------------


def test_path_info(built: Path) -> None:
    doc = json.loads(ok(["path-info", "./result", "-S", "--json"], built).out)
    [info] = doc
    assert set(info) == {"path", "kind", "size", "files", "sha256", "deriver", "references", "closure_size"}
    assert info["path"] == os.path.realpath(built / "result") and info["kind"] == "output"
    assert info["deriver"].endswith("-demo-bundle.drv") and len(info["references"]) == 6
    closure = json.loads(ok(["path-info", "./result", "-rS", "--json"], built).out)
    assert closure[-1]["path"] == info["path"] and len(closure) == 8
    by_path = {c["path"]: c for c in closure}
    for c in closure:  # closure size = own size + sizes of the transitive references
        seen, todo = {c["path"]}, list(c["references"])
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(by_path[p]["references"])
        assert c["closure_size"] == sum(by_path[p]["size"] for p in seen)
    text = ok(["path-info", "./result", "-S"], built).out
    assert text.splitlines()[0] == info["path"] and "  closure     " in text and "  deriver     " in text
    drv = json.loads(ok(["path-info", "board.sk#config", "--drv", "--json"], built).out)
    assert drv[0]["kind"] == "drv" and drv[0]["path"].endswith("-demo-config.drv") and "closure_size" not in drv[0]


def test_path_info_closure_sizes_of_a_shared_graph(tmp_path: Path) -> None:
    from skiffeval.builders import realize
    from skiffeval.store import LocalStore

    with LocalStore(tmp_path / "store") as store:
        drvs = layered(60)
        store.write_derivations(drvs)
        top = realize(store, [drvs[-1]], graph=drvs).of(drvs[-1])
        store.add_indirect_root(tmp_path / "result", top)
    recs = json.loads(ok(["path-info", "./result", "-rS", "--json"], tmp_path).out)
    assert len(recs) == 60
    by_path = {r["path"]: r for r in recs}
    top_rec = by_path[os.path.realpath(tmp_path / "result")]
    assert top_rec["closure_size"] == sum(r["size"] for r in recs)
    first = recs[0]
    assert first["references"] == [] and first["closure_size"] == first["size"]


def test_path_info_of_something_not_built(fresh: Path) -> None:
    r = sk(["path-info", "board.sk#config"], fresh)
    assert r.code == 1 and "E401" in r.err and "--drv" in r.err
