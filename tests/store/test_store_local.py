"""LocalStore: imports, .drv files, read-only objects, verify, gc, rebuild_db, queries, leftovers."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from skiffeval.builders import realize
from skiffeval.derivation import Derivation, StorePath, decode_drv
from skiffeval.diagnostics import SkiffError
from skiffeval.store import LocalStore
from skiffeval.store.memory import MemoryStore
from skiffeval.store.protocol import Store
from tests.store.store_helpers import layered, text_drv


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "store")
    yield s
    s.close()


def test_layout_and_protocol(store: LocalStore) -> None:
    assert isinstance(store, Store) and isinstance(MemoryStore(), Store)
    assert (store.meta / "db.sqlite").exists()
    mode = sqlite3.connect(store.meta / "db.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    sp = StorePath("1" * 26, "x")
    assert store.real_path(sp) == store.root / sp.basename
    assert store.parse_path(str(store.root / sp.basename / "sub" / "file")) == sp
    with pytest.raises(SkiffError):
        store.parse_path("/elsewhere/" + sp.basename)


def test_add_path_is_content_addressed_and_read_only(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f").write_text("one")
    os.symlink("../../../outside", src / "escape")
    p1 = store.add_path(src)
    assert p1.name == "src" and store.is_valid(p1)
    real = store.real_path(p1)
    assert (real / "d" / "f").read_text() == "one"
    assert os.readlink(real / "escape") == "../../../outside"  # a link, never followed
    assert os.lstat(real / "d" / "f").st_mode & 0o222 == 0
    assert store.add_path(src) == p1  # warm, no copy
    (src / "d" / "f").write_text("two")
    p2 = store.add_path(src)
    assert p2 != p1 and (store.real_path(p2) / "d" / "f").read_text() == "two"
    assert store.hash_source(src) == p2
    assert store.add_path(src, "renamed").name == "renamed"
    b = store.add_bytes("hello.txt", b"hi")
    assert store.real_path(b).read_bytes() == b"hi"
    info = store.path_info(b)
    assert info.kind == "source" and info.size == 2 and info.references == ()
    with pytest.raises(SkiffError) as e:
        store.add_path(tmp_path / "missing")
    assert e.value.code.code == "E116"


def test_write_derivations_in_one_batch(store: LocalStore) -> None:
    drvs = layered(20)
    paths = store.write_derivations(drvs)
    assert paths == [d.drv_path for d in drvs]
    for d in drvs:
        f = store.root / d.drv_path.basename
        assert os.lstat(f).st_mode & 0o222 == 0
        assert decode_drv(f.read_bytes(), expected_key=d.key) == d
    assert store.references(drvs[5].drv_path) == sorted(d.drv_path for d in drvs[2:5])
    fresh = LocalStore(store.root)
    assert fresh.read_derivation(drvs[7].key) == drvs[7]
    assert store.write_derivations(drvs) == paths  # idempotent
    with pytest.raises(SkiffError) as e:
        LocalStore(store.root.parent / "other").write_derivations([drvs[3]])  # inputs unknown
    assert e.value.code.code == "E111"


def test_verify_detects_modified_and_missing_outputs(store: LocalStore) -> None:
    drvs = layered(4)
    result = realize(store, drvs, graph=drvs)
    assert store.verify(check_contents=True).ok
    victim = store.real_path(result.of(drvs[1]))
    os.chmod(victim, 0o644)
    victim.write_text(victim.read_text().replace("layer", "LAYER"))
    report = store.verify(check_contents=True)
    assert [(p.path, p.problem) for p in report.problems] == [(result.of(drvs[1]), "digest")]
    assert not store.verify().problems  # without contents, only existence and modes
    assert store.verify().writable == (result.of(drvs[1]),)
    fixed = store.verify(check_contents=True, repair=True)
    # the broken path goes, and with it every path that refers to it (layer-2 and layer-3 name
    # layer-1's output in their text): no valid path may refer to a missing one
    gone = {result.of(d).basename for d in drvs[1:]}
    assert gone <= set(fixed.repaired) and not store.is_valid(result.of(drvs[1]))
    assert all(not store.is_valid(result.of(d)) for d in drvs[1:]) and store.is_valid(result.of(drvs[0]))
    assert store.verify(check_contents=True).ok
    again = realize(store, drvs, graph=drvs)  # the repaired path and its referrers are built again
    assert set(again.built) == {d.key for d in drvs[1:]}
    assert all(again.of(d) == result.of(d) for d in drvs)
    # a registered path deleted behind the store's back
    os.chmod(store.real_path(result.of(drvs[3])), 0o644)
    os.unlink(store.real_path(result.of(drvs[3])))
    assert [p.problem for p in store.verify().problems] == ["missing"]


def test_gc_deletes_unreachable_and_keeps_roots(store: LocalStore, tmp_path: Path) -> None:
    kept = layered(3)
    dropped = layered(3, salt="-other")
    r1 = realize(store, kept, graph=kept)
    r2 = realize(store, dropped, graph=dropped)
    link = store.add_indirect_root(tmp_path / "result", r1.of(kept[-1]))
    assert Path(os.readlink(link)) == store.real_path(r1.of(kept[-1]))
    src = store.add_bytes("keep-me", b"x")
    store.add_root("rev-1", src)
    (store.root / ("9" * 26 + "-stray")).write_text("leftover")
    dry = store.gc(dry_run=True)
    assert all(store.is_valid(r2.of(d)) for d in dropped)
    report = store.gc()
    assert set(report.deleted) == set(dry.deleted)
    for d in dropped:
        assert not store.is_valid(r2.of(d)) and not store.real_path(r2.of(d)).exists()
        assert not (store.root / d.drv_path.basename).exists()
    assert not (store.root / ("9" * 26 + "-stray")).exists()
    for d in kept:  # the out-link keeps the closure (the outputs refer to their inputs) and derivers
        assert store.is_valid(r1.of(d)) and store.is_valid(d.drv_path)
    assert store.is_valid(src)
    assert store.realisation(dropped[0].key) is None and store.realisation(kept[0].key) is not None
    # removing the link frees everything but the named root
    os.unlink(link)
    store.gc()
    assert not any(store.is_valid(r1.of(d)) for d in kept) and store.is_valid(src)
    assert [r.kind for r in store.roots()] == ["named"]
    assert store.verify(check_contents=True).ok


def test_gc_waits_for_builds(store: LocalStore) -> None:
    with store.shared_lock():
        with pytest.raises(SkiffError) as e:
            store.gc()
        assert e.value.code.code == "E117"


def test_rebuild_db_restores_metadata(store: LocalStore, tmp_path: Path) -> None:
    drvs = layered(5)
    result = realize(store, drvs, graph=drvs)
    src = store.add_bytes("src.txt", b"source")
    before = {d.key: store.path_info(result.of(d)) for d in drvs}
    os.chmod(store.meta / "db.sqlite", 0o644)
    store.close()
    for f in store.meta.glob("db.sqlite*"):
        f.unlink()
    (store.root / ("8" * 26 + "-junk")).write_text("not what its name says")
    s2 = LocalStore(store.root)
    report = s2.rebuild_db()
    assert report.derivations == 5 and report.realisations == 5 and ("8" * 26 + "-junk") in report.skipped
    for d in drvs:
        info = s2.path_info(result.of(d))
        assert (info.sha256, info.size, info.references, info.deriver) == (
            before[d.key].sha256, before[d.key].size, before[d.key].references, before[d.key].deriver)
        assert s2.realisation(d.key).outputs["out"] == result.of(d)
    assert s2.is_valid(src) and s2.path_info(src).kind == "source"
    assert s2.read_derivation(drvs[2].key) == drvs[2]
    noop = realize(s2, drvs, graph=drvs)
    assert noop.built == () and len(noop.valid) == 5
    assert report.lost
    # a database that cannot even be opened
    s2.close()
    (store.meta / "db.sqlite").write_bytes(b"this is not a database" * 100)
    for f in ("db.sqlite-wal", "db.sqlite-shm"):
        (store.meta / f).unlink(missing_ok=True)
    with pytest.raises(SkiffError) as e:
        LocalStore(store.root)
    assert e.value.code.code == "E118"
    s3, report3 = LocalStore.recover(store.root)
    assert report3.realisations == 5 and s3.realisation(drvs[4].key).outputs["out"] == result.of(drvs[4])
    s3.close()


def test_leftovers_of_a_dead_process_are_cleaned(store: LocalStore) -> None:
    scratch = store.root / ("7" * 26 + "-half")
    scratch.mkdir()
    (scratch / "partial").write_text("...")
    (store.meta / "pending" / "99999-dead").write_text(scratch.name + "\n")
    (store.meta / "tmp" / "build-x").mkdir()
    with store.shared_lock():  # someone is working: nothing is touched, even at start-up
        assert LocalStore(store.root).clean_leftovers() == []
    assert scratch.exists()
    assert LocalStore(store.root, clean=False).clean_leftovers() == [scratch.name]
    assert not scratch.exists() and not list((store.meta / "tmp").iterdir())
    assert not list((store.meta / "pending").iterdir())


def test_queries_are_consistent(store: LocalStore) -> None:
    a = text_drv("a", "A")
    b = text_drv("b", "B", a=a)
    c = text_drv("c", "C", b=b)
    r = realize(store, [c], graph=[a, b, c])
    pa, pb, pc = r.of(a), r.of(b), r.of(c)
    assert store.references(pc) == [pb] and store.referrers(pa) == [pb]
    assert store.requisites([pc]) == sorted([pa, pb, pc])
    info = store.path_info(pc)
    assert info.deriver == c.key and info.kind == "output"
    assert info.closure_size == sum(store.path_info(p).size for p in (pa, pb, pc))
    assert store.info().outputs == 3 and store.info().derivations == 3
    with pytest.raises(SkiffError):
        store.path_info(StorePath("5" * 26, "nope"))


def test_memory_store_basics(tmp_path: Path) -> None:
    m = MemoryStore()
    drvs = layered(3)
    m.write_derivations(drvs)
    assert m.read_derivation(drvs[1].key) == drvs[1]
    (tmp_path / "f").write_text("x")
    local = LocalStore(tmp_path / "store")
    assert m.add_path(tmp_path / "f") == local.add_path(tmp_path / "f")
    assert m.add_bytes("n", b"x") == local.add_bytes("n", b"x")
    assert m.is_valid(m.add_bytes("n", b"x"))
    assert m.references(drvs[2].drv_path) == sorted(d.drv_path for d in drvs[:2])


def test_a_tree_around_the_store_is_refused_before_anything_is_read(store: LocalStore, tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("beside the store\n")
    for around in (tmp_path, store.root, tmp_path / "store" / ".." ):
        with pytest.raises(SkiffError) as info:
            store.add_path(around)
        assert info.value.code.code == "E116" and "contains the store" in info.value.message
        with pytest.raises(SkiffError):
            store.hash_source(around)
    assert [p for p in os.listdir(store.root) if not p.startswith(".")] == []  # nothing was copied
    (tmp_path / "beside").mkdir()
    (tmp_path / "beside" / "f").write_text("x\n")
    assert store.is_valid(store.add_path(tmp_path / "beside"))  # a sibling of the store is fine


def test_a_view_and_the_whole_tree_keep_their_own_stat_caches(store: LocalStore, tmp_path: Path, monkeypatch) -> None:
    """Importing a view of a tree (``only=``) does not replace the whole tree's stat cache:
    both re-import from their caches without reading a file."""
    from skiffeval.store.sources import load_stat_cache

    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "Config.in").write_text("config A\n\tbool\n")
    (src / "pkg" / "pkg.mk").write_text("PKG_VERSION = 1\n")
    past = time.time() - 100
    for p in (src / "Config.in", src / "pkg" / "pkg.mk"):
        os.utime(p, (past, past))
    time.sleep(0.06)  # out of the racy window of the ctimes just set
    whole = store.add_path(src, "src")
    view = store.add_path(src, "src-view", only=["Config.in"])
    assert whole != view and sorted(os.listdir(store.real_path(view))) == ["Config.in"]
    assert set(load_stat_cache(store, str(src))) == {b".", b"pkg"}
    assert set(load_stat_cache(store, str(src) + "\0only")) == {b"."}
    import skiffeval.store.sources as sources

    def no_reads(*_a, **_k):
        raise AssertionError("a file was read")

    monkeypatch.setattr(sources, "CopyWalk", no_reads)  # a cache miss would copy (and read) the tree
    assert store.add_path(src, "src") == whole
    assert store.add_path(src, "src-view", only=["Config.in"]) == view
