"""The query cache (``skiffeval.session.querycache``): a kept answer is the one a fresh walk
gives, what depends on the store's metadata follows the store (its generation), and a damaged
or missing cache is only a slower query."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from skiffeval.session.querycache import TABLE
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


def _kinds(cwd: Path) -> list[str]:
    conn = sqlite3.connect(_index(cwd))
    try:
        return sorted(kind.split("/")[0] for (kind,) in conn.execute(f"SELECT kind FROM {TABLE}"))
    finally:
        conn.close()


def test_kept_answers_are_the_fresh_ones(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    drv = drv_file(cwd, "-demo-bundle.drv")
    for args in [*QUERIES, ["path-info", drv, "-rS", "--drv"]]:
        _drop_index(cwd)
        fresh = ok(args, cwd).out
        assert ok(args, cwd).out == fresh, args  # the second from the cache
    assert set(_kinds(cwd)) == {"path-records"}  # the last query's (the index was dropped before it)
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
    sk(["store", "gc"], cwd)  # empties the query cache (and keeps ./result's closure)
    assert ok(["path-info", "./result", "-rS", "--json"], cwd).out == outputs


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
    with LocalStore(tmp_path / "store") as store:  # opening a store changes nothing
        assert store.db.generation() == third


def test_a_damaged_cache_is_only_a_slower_query(tmp_path: Path) -> None:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    tree = ok(["query", "tree", "./result", "--json"], cwd).out
    conn = sqlite3.connect(_index(cwd))
    with conn:
        conn.execute(f"UPDATE {TABLE} SET blob = x'ff00ff'")
    conn.close()
    assert ok(["query", "tree", "./result", "--json"], cwd).out == tree
    assert json.loads(tree)["roots"]
