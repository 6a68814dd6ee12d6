"""The query cache (``skiffeval.session.querycache``): a kept answer is the one a fresh walk
gives, what depends on the store's metadata follows the store (its generation), and a damaged
or missing cache is only a slower query."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_query import drv_file, ok, project, sk

QUERIES = [
    ["query", "tree", "board.sk"],
    ["query", "tree", "./result", "--json"],
    ["query", "graph", "./result", "--format", "json"],
    ["query", "requisites", "./result"],
    ["query", "tree", "./result", "--outputs"],
    ["query", "requisites", "./result", "--outputs", "--json"],
    ["why-depends", "./result", "files-hostname", "--all"],
    ["why-depends", "board.sk#config", "layers/base/buildroot.conf", "--json"],
    ["path-info", "./result", "-rS"],
    ["path-info", "./result", "-rS", "--json"],
]


def _index(cwd: Path) -> Path:
    return cwd / "store" / ".skiffeval" / "query-index.sqlite"


def _drop_index(cwd: Path) -> None:
    for suffix in ("-wal", "-shm", ""):
        Path(f"{_index(cwd)}{suffix}").unlink(missing_ok=True)


def _drop_cache(cwd: Path) -> None:
    for p in _entries(cwd):
        p.unlink()


def _entries(cwd: Path) -> list[Path]:
    folder = cwd / "store" / ".skiffeval" / "query-cache"
    return sorted(folder.iterdir()) if folder.exists() else []


def _kinds(cwd: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[0] for p in _entries(cwd))


def test_kept_answers_are_the_fresh_ones(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    drv = drv_file(cwd, "-demo-bundle.drv")
    for args in [*QUERIES, ["path-info", drv, "-rS", "--drv"]]:
        _drop_index(cwd)
        _drop_cache(cwd)
        fresh = ok(args, cwd).out
        assert ok(args, cwd).out == fresh, args  # the second from the cache
    assert set(_kinds(cwd)) == {"path-records"}  # the last query's
    ok(["query", "tree", "./result"], cwd)
    ok(["query", "tree", "./result", "--outputs"], cwd)
    assert _kinds(cwd) == ["drv-graph", "out-graph", "path-records", "realised"]


def test_kept_answers_follow_the_store(tmp_path: Path) -> None:
    """Built or not, the output graph and path-info are kept under the store's generation: a
    build (or any change of the store's metadata) makes them be read again."""
    cwd = project(tmp_path)
    before = ok(["query", "tree", "board.sk"], cwd).out
    assert "built)" not in before.replace("not built)", "")
    ok(["build", "board.sk"], cwd)
    after = ok(["query", "tree", "board.sk"], cwd).out
    assert "not built)" not in after
    assert after.replace("(config, built)", "") != before.replace("(config, not built)", "")
    # a derivation's graph is kept for good: the kept walk answered, with the new built state
    assert "drv-graph" in _kinds(cwd)

    outputs = ok(["path-info", "./result", "-rS", "--json"], cwd).out
    ok(["build", "board.sk"], cwd)  # a no-op build: the same answer, kept or read again
    assert ok(["path-info", "./result", "-rS", "--json"], cwd).out == outputs
    ok(["query", "tree", "board.sk"], cwd)
    sk(["store", "gc"], cwd)  # keeps ./result's closure; the query cache keeps the derivation walks of what is left
    assert ok(["path-info", "./result", "-rS", "--json"], cwd).out == outputs
    tree = ok(["query", "tree", "board.sk"], cwd).out  # the kept walk, with what gc left built
    assert "not built" in tree  # the outputs outside ./result's closure went
    _drop_cache(cwd)
    assert ok(["query", "tree", "board.sk"], cwd).out == tree


def test_store_gc_keeps_the_derivation_walks_whose_roots_it_keeps(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    ok(["query", "tree", "board.sk#config"], cwd)  # a walk from the config's .drv
    ok(["path-info", "./result", "-rS"], cwd)
    before = set(_kinds(cwd))
    assert {"drv-graph", "out-graph", "realised", "path-records"} <= before
    kept_drvs = {p.name for p in (cwd / "store").iterdir() if p.name.endswith(".drv")}
    sk(["store", "gc"], cwd)
    after = {p.name for p in (cwd / "store").iterdir() if p.name.endswith(".drv")}
    assert after == kept_drvs  # the out-link's closure keeps the .drv files (their outputs' derivers)
    assert _kinds(cwd) == ["drv-graph", "drv-graph"]  # what the generation keyed is stale: gone
    (cwd / "result").unlink()
    sk(["store", "gc"], cwd)  # nothing is rooted now: the .drv files go, and their walks
    assert _entries(cwd) == []


def test_the_generation_moves_with_every_changing_transaction(tmp_path: Path) -> None:
    from skiffeval.store import LocalStore

    with LocalStore(tmp_path / "store") as store:
        first = store.db.generation()
        with store.db.transaction() as c:
            c.execute("SELECT count(*) FROM paths").fetchall()
        assert store.db.generation() == first  # a transaction that changed nothing
        store.add_bytes("a.conf", b"A=y\n")
        second = store.db.generation()
        assert second != first
        store.add_bytes("b.conf", b"B=y\n")
        third = store.db.generation()
        assert third not in (first, second)
        from skiffeval.store.sources import load_stat_cache, save_stat_cache

        save_stat_cache(store, str(tmp_path / "tree"), {b"f": (1, 2, 3)})  # hashing's own cache: no query reads it
        assert load_stat_cache(store, str(tmp_path / "tree")) == {b"f": (1, 2, 3)}
        assert store.db.generation() == third
    with LocalStore(tmp_path / "store") as store:  # opening a store changes nothing
        assert store.db.generation() == third


def test_a_damaged_cache_is_only_a_slower_query(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    tree = ok(["query", "tree", "./result", "--json"], cwd).out
    for p in _entries(cwd):  # the header kept, the value damaged
        header = p.read_bytes().split(b"\n", 1)[0]
        p.write_bytes(header + b"\n\xff\x00\xff")
    assert ok(["query", "tree", "./result", "--json"], cwd).out == tree
    for p in _entries(cwd):  # cut short
        p.write_bytes(p.read_bytes()[:100])
    assert ok(["query", "tree", "./result", "--json"], cwd).out == tree
    assert json.loads(tree)["roots"]


def test_the_cache_keeps_the_entries_used_last(tmp_path: Path) -> None:
    import os
    import types

    from skiffeval.session import querycache

    store = types.SimpleNamespace(meta=str(tmp_path))
    for i in range(querycache.KEEP):
        querycache.save(store, "k", f"key {i}", ("value", i), "g1")
        os.utime(next(iter(_entries_in(tmp_path, f"key {i}"))), ns=(i * 10**9, i * 10**9))
    assert querycache.load(store, "k", "key 0", "g1") == ("value", 0)  # used last now
    assert querycache.load(store, "k", "key 0", "g2") is None  # another generation
    querycache.save(store, "k", "new\nkey", ["a", {"b": (1, None)}], "g1")
    assert querycache.load(store, "k", "new\nkey", "g1") == ["a", {"b": (1, None)}]
    assert querycache.load(store, "k", "key 1", "g1") is None  # the one used longest ago went
    assert querycache.load(store, "k", "key 0", "g1") == ("value", 0)
    assert len(list((tmp_path / "query-cache").iterdir())) == querycache.KEEP


def _entries_in(meta: Path, key: str) -> list[Path]:
    import hashlib

    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return list((meta / "query-cache").glob(f"*-{digest}"))


AFTER_BUILD = [
    ["query", "tree", "board.sk"],
    ["query", "graph", "board.sk", "--format", "json"],
    ["why-depends", "board.sk", "layers/base/buildroot.conf", "--all"],
    ["query", "tree", "./result", "--outputs"],
    ["query", "requisites", "./result", "--outputs", "--json"],
    ["path-info", "./result", "-r"],
    ["path-info", "./result", "-rS"],
    ["path-info", "./result", "-rS", "--json"],
    ["path-info", "board.sk", "--drv", "-rS"],
]


def _walked(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("walked a graph")


def test_a_build_keeps_the_walks_the_queries_after_it_start_with(tmp_path: Path, monkeypatch) -> None:
    """A build keeps the derivation walk of what it built (from its records in memory: no
    closure read from the store) and the output walk of its out-link; the first queries after
    it walk nothing, and answer what a walk of the store alone answers."""
    from skiffeval.session import drvindex, pathinfo, queries

    cwd = project(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(drvindex._Reader, "prefetch_closure", _walked)
        m.setattr(drvindex._Reader, "prefetch_store_closure", _walked)
        ok(["build", "board.sk"], cwd)
    assert _kinds(cwd) == ["drv-graph", "out-graph", "realised"]
    first = {}
    with monkeypatch.context() as m:
        for name in ("prefetch_closure", "prefetch_store_closure", "table_closure"):
            m.setattr(drvindex._Reader, name, _walked)
        m.setattr(queries._Builder, "expand", _walked)
        m.setattr(pathinfo, "_path_rows", _walked)
        m.setattr(queries, "_path_rows", _walked)
        for args in AFTER_BUILD:
            first[tuple(args)] = ok(args, cwd).out
    for args in AFTER_BUILD:
        _drop_index(cwd)
        _drop_cache(cwd)
        assert ok(args, cwd).out == first[tuple(args)], args
    assert "files-hostname" in first[("query", "tree", "board.sk")]


def test_a_no_op_build_walks_nothing(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    _drop_cache(cwd)
    ok(["build", "board.sk", "--no-eval-cache"], cwd)  # evaluated, nothing built
    assert _entries(cwd) == []
    (cwd / "board.sk").write_text((cwd / "board.sk").read_text().replace('"demo"', '"demo2"', 1))
    ok(["build", "board.sk"], cwd)  # something built: its walks kept
    assert _kinds(cwd) == ["drv-graph", "out-graph", "realised"]


def test_the_session_table_gives_a_closure_only_when_it_holds_all_of_it(tmp_path: Path) -> None:
    from skiffeval.session import BuildRequest, Session, SessionOptions
    from skiffeval.session.drvindex import _Reader

    cwd = project(tmp_path)
    session = Session(SessionOptions(cwd=str(cwd), store_dir="store"))
    [(_label, top, _out)] = session.instantiate(BuildRequest("board.sk"))
    refs = [inp.key for inp in top.input_drvs.values()]
    closure = set()
    stack = list(refs)
    while stack:
        ref = stack.pop()
        if ref not in closure:
            closure.add(ref)
            stack.extend(inp.key for inp in session.table.by_ref[ref].input_drvs.values())
    assert len(closure) >= 3

    reader = _Reader(session)
    assert reader.table_closure(refs)
    assert set(reader.recs) == closure
    assert all(reader.recs[r].key == session.table.by_ref[r].key for r in closure)
    again = _Reader(session)
    assert again.table_closure(refs)
    assert all(again.recs[r] is reader.recs[r] for r in closure)  # made once per session

    partial = _Reader(session)
    deepest = min(closure, key=lambda r: len(session.table.by_ref[r].input_drvs))
    del partial.by_ref[deepest]
    assert not partial.table_closure(refs)


def test_keeping_the_walks_is_never_a_failed_build(tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    from skiffeval.session import queries

    def broken(*_args: object, **_kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    cwd = project(tmp_path)
    monkeypatch.setattr(queries, "output_graph", broken)
    r = ok(["build", "board.sk"], cwd)
    assert "demo-bundle: " in r.err and (cwd / "result").exists()
    assert _kinds(cwd) == ["drv-graph", "realised"]  # the output walk only is missing


def test_path_info_trusts_a_kept_derivation_walk_only_where_the_store_agrees(tmp_path: Path) -> None:
    """``path-info --drv -r`` takes its closure from a kept derivation walk, unless the store
    says otherwise: a source with references (``store rebuild-db`` scans sources' bytes), or a
    path of the walk that is not valid."""
    import sqlite3

    from skiffeval.store import LocalStore

    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    args = ["path-info", "board.sk", "--drv", "-r", "--json"]
    recs = json.loads(ok(args, cwd).out)
    source = next(r["path"] for r in recs if r["kind"] == "source")
    other = next(r["path"] for r in recs if r["kind"] == "drv")
    base = lambda p: p.rsplit("/", 1)[1]  # noqa: E731
    with LocalStore(cwd / "store") as store, store.db.transaction() as c:  # as a rebuild-db may find it
        c.execute("INSERT INTO refs VALUES (?, ?)", (base(source), base(other)))
    assert "drv-graph" in _kinds(cwd)
    got = json.loads(ok(args, cwd).out)
    assert next(r for r in got if r["path"] == source)["references"] == [other]
    _drop_cache(cwd)
    assert json.loads(ok(args, cwd).out) == got

    ok(["query", "tree", "board.sk"], cwd)  # the walk kept again
    args = ["path-info", drv_file(cwd, "-demo-bundle.drv"), "--drv", "-r", "--json"]  # no evaluation: no import
    assert json.loads(ok(args, cwd).out) == got
    db = sqlite3.connect(cwd / "store" / ".skiffeval" / "db.sqlite")
    with db:  # the source gone, as a rebuild-db leaves a store that lost it: no row, no reference to it
        db.execute("DELETE FROM paths WHERE path = ?", (base(source),))
        db.execute("DELETE FROM refs WHERE reference = ? OR referrer = ?", (base(source), base(source)))
        db.execute("UPDATE meta SET value = 'damaged' WHERE key = 'generation'")
    db.close()
    assert "drv-graph" in _kinds(cwd)
    damaged = json.loads(ok(args, cwd).out)
    assert source not in {r["path"] for r in damaged} and len(damaged) == len(got) - 1
    _drop_cache(cwd)
    assert json.loads(ok(args, cwd).out) == damaged


FILE_QUERIES = [
    ["query", "tree", "board.sk"],
    ["query", "tree", "board.sk#config", "--json"],
    ["why-depends", "board.sk", "layers/base/buildroot.conf", "--all"],
    ["path-info", "board.sk", "-rS"],
]


def _evaluated(cwd: Path, args: list[str]) -> str:
    from tests.cli.runner import run

    r = run([*args, "--store", "store"], cwd=cwd, env={"SKIFFEVAL_NO_EVAL_CACHE": "1"})
    assert r.code == 0, r.err
    return r.out


def test_a_file_target_comes_from_the_evaluation_cache_while_nothing_it_read_changed(tmp_path: Path, monkeypatch) -> None:
    """A query names a built board's derivations without evaluating it again (as a no-op
    build), with the same answer — files shown by their paths included; an edit of a file the
    evaluation read makes it evaluate again."""
    from skiffeval.session.core import Session

    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    first = {tuple(a): ok(a, cwd).out for a in FILE_QUERIES}  # evaluated, and the targets kept
    assert "file 'layers/base/buildroot.conf'" in first[tuple(FILE_QUERIES[2])]

    def no_evaluation(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("evaluated")

    with monkeypatch.context() as m:
        m.setattr(Session, "instantiate", no_evaluation)
        for args in FILE_QUERIES:
            assert ok(args, cwd).out == first[tuple(args)], args
    for args in FILE_QUERIES:
        assert _evaluated(cwd, args) == first[tuple(args)], args
    from tests.cli.runner import run

    with monkeypatch.context() as m:  # "0" is "no", as click reads it for build --no-eval-cache
        m.setattr(Session, "instantiate", no_evaluation)
        assert run(["query", "tree", "board.sk", "--store", "store"], cwd=cwd,
                   env={"SKIFFEVAL_NO_EVAL_CACHE": "0"}).out == first[("query", "tree", "board.sk")]

    conf = cwd / "layers" / "base" / "buildroot.conf"
    conf.write_text(conf.read_text() + "BR2_EDITED=y\n")
    edited = ok(["query", "tree", "board.sk"], cwd).out  # evaluated again: the new, unbuilt config
    assert edited != first[("query", "tree", "board.sk")] and "not built" in edited
    assert edited == _evaluated(cwd, ["query", "tree", "board.sk"])


def test_an_unbuilt_file_target_is_evaluated_every_time(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["query", "tree", "board.sk"], cwd)
    folder = cwd / "store" / ".skiffeval" / "evalcache"
    assert not folder.exists() or not list(folder.iterdir())  # no .drv in the store to read back
