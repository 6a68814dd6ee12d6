"""Tree hashing: manifests, self-references, reference scanning, the stat cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.store.tree import CHUNK, OutputScan, SourceWalk, TreeWalker, hash_tree, path_digest
from skiffeval.store.treeops import CopyWalk, normalize, rewrite_self_refs


def make_tree(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("hello\n")
    (root / "x.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "x.sh", 0o755)
    (root / "empty").mkdir()
    os.symlink("a/b/f.txt", root / "link")
    os.symlink("/etc/passwd", root / "abs-link")  # kept as a link, never followed
    return root


def test_manifest_ignores_times_owner_and_modes_but_not_exec(tmp_path: Path) -> None:
    t = make_tree(tmp_path / "t")
    h1 = hash_tree(t)
    os.utime(t / "a" / "b" / "f.txt", (12345, 12345))
    os.chmod(t / "a" / "b" / "f.txt", 0o600)
    assert hash_tree(t) == h1
    os.chmod(t / "a" / "b" / "f.txt", 0o700)  # now executable: a different tree
    assert hash_tree(t).xxh_manifest != h1.xxh_manifest
    os.chmod(t / "a" / "b" / "f.txt", 0o644)
    os.unlink(t / "link")
    os.symlink("a/b", t / "link")
    assert hash_tree(t).xxh_manifest != h1.xxh_manifest
    assert h1.files == 4 and h1.kind == "dir"


def test_names_matter_and_digest_includes_name(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    h = hash_tree(tmp_path / "f")
    assert h.kind == "file" and h.flat_sha256 == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    assert path_digest("a", h.xxh_manifest) != path_digest("b", h.xxh_manifest)


def test_all_walkers_agree(tmp_path: Path) -> None:
    t = make_tree(tmp_path / "t")
    big = t / "big.bin"
    big.write_bytes(os.urandom(CHUNK + 12345))
    base = hash_tree(t)
    walk = SourceWalk({}, now_ns=time.time_ns())
    assert walk.hash(t).xxh_manifest == base.xxh_manifest
    copied = CopyWalk(now_ns=time.time_ns()).copy(t, tmp_path / "copy")
    assert copied.xxh_manifest == base.xxh_manifest and copied.sha_manifest == base.sha_manifest
    assert hash_tree(tmp_path / "copy") == base
    scan = OutputScan(b"0" * 26, {})
    assert scan.hash(t).xxh_manifest == base.xxh_manifest
    # the copy is in store form
    st = os.lstat(tmp_path / "copy" / "x.sh")
    assert st.st_mode & 0o777 == 0o555 and st.st_mtime == 1
    assert os.lstat(tmp_path / "copy" / "a").st_mode & 0o777 == 0o555
    assert os.readlink(tmp_path / "copy" / "abs-link") == "/etc/passwd"


def test_special_files_are_refused(tmp_path: Path) -> None:
    t = tmp_path / "t"
    t.mkdir()
    os.mkfifo(t / "fifo")
    with pytest.raises(SkiffError) as e:
        hash_tree(t)
    assert "fifo" in e.value.message
    with pytest.raises(SkiffError):
        SourceWalk({}, now_ns=0).hash(t)


def test_self_references_are_hashed_modulo_and_rewritten(tmp_path: Path) -> None:
    scratch, other_scratch = b"1" * 26, b"2" * 26

    def build(where: Path, sd: bytes) -> None:
        where.mkdir()
        (where / "bin").write_bytes(b"#!" + str(tmp_path).encode() + b"/" + sd + b"-out/bin\n" + b"x" * (CHUNK - 10) + sd + b"tail")
        os.symlink(b"/s/" + sd + b"-out/bin", where / "self")

    build(tmp_path / "one", scratch)
    build(tmp_path / "two", other_scratch)
    h1 = OutputScan(scratch, {}).hash(tmp_path / "one")
    h2 = OutputScan(other_scratch, {}).hash(tmp_path / "two")
    # different scratch paths, same content modulo them: same final digest
    assert h1.xxh_manifest == h2.xxh_manifest and set(h1.self_refs) == {b"bin", b"self"}
    final = path_digest("out", h1.xxh_manifest).encode()
    rewrite_self_refs(tmp_path / "one", list(h1.self_refs), scratch, final)
    data = (tmp_path / "one" / "bin").read_bytes()
    assert scratch not in data and data.count(final) == 2
    again = OutputScan(final, {}).hash(tmp_path / "one")
    assert again.xxh_manifest == h1.xxh_manifest  # verify's view: modulo the final digest
    # an accidental zero string is not a self-reference: positions are part of the hash
    (tmp_path / "three").mkdir()
    (tmp_path / "three" / "bin").write_bytes(b"0" * 26)
    (tmp_path / "four").mkdir()
    (tmp_path / "four" / "bin").write_bytes(scratch)
    assert OutputScan(scratch, {}).hash(tmp_path / "three").xxh_manifest != OutputScan(scratch, {}).hash(tmp_path / "four").xxh_manifest


def test_reference_scanning_across_chunks(tmp_path: Path) -> None:
    ref, far, absent = b"a" * 26, b"b" * 26, b"c" * 26
    body = b"x" * (CHUNK - 13) + ref + b"y" * (2 * CHUNK) + b"/" + far + b"-name"
    (tmp_path / "f").write_bytes(body)
    h = OutputScan(b"0" * 26, {ref: 1, far: 2, absent: 3}).hash(tmp_path / "f")
    assert h.references == {ref, far}
    with pytest.raises(SkiffError):
        (tmp_path / "g").mkdir()
        (tmp_path / "g" / ("n" + "1" * 26)).write_text("")
        OutputScan(b"1" * 26, {}).hash(tmp_path / "g")


def test_a_folder_that_cannot_be_opened_is_walked_by_full_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The source walk looks entries up in the open folder; where a folder cannot be opened
    (no read permission, no descriptors left) it takes full paths, with the same result."""
    t = make_tree(tmp_path / "t")
    base = hash_tree(t)
    real_open = os.open
    opened: list[bytes] = []

    def refuse(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & os.O_DIRECTORY:
            opened.append(path)
            raise OSError(24, "Too many open files")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    walk = SourceWalk({}, now_ns=time.time_ns())
    assert walk.hash(t).xxh_manifest == base.xxh_manifest
    assert len(opened) >= 3  # the top and its folders were tried


def test_stat_cache_answers_and_invalidates(tmp_path: Path) -> None:
    t = make_tree(tmp_path / "t")
    f = t / "a" / "b" / "f.txt"
    past = time.time() - 100
    for p in (f, t / "x.sh"):
        os.utime(p, (past, past))
    time.sleep(0.06)  # leave the racy window for the ctime set just now
    w1 = SourceWalk({}, now_ns=time.time_ns())
    h1 = w1.hash(t)
    assert w1.misses == 2 and set(w1.new_cache[b"a/b"]) == {b"f.txt", b"/"}  # "/": the folder's listing
    # unchanged: answered by the cache alone (a probe raises on any miss)
    w2 = SourceWalk(w1.new_cache, now_ns=time.time_ns(), probe=True)
    assert w2.hash(t).xxh_manifest == h1.xxh_manifest
    # touch with the same content: a miss, re-hashed, same manifest
    os.utime(f, None)
    time.sleep(0.06)
    w3 = SourceWalk(w2.new_cache, now_ns=time.time_ns())
    assert w3.hash(t).xxh_manifest == h1.xxh_manifest and w3.misses == 1
    # same size, same mtime, new content: ctime still changes, so it is re-hashed
    st = os.stat(f)
    f.write_text("HELLO\n")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    w4 = SourceWalk(w3.new_cache, now_ns=time.time_ns())
    h4 = w4.hash(t)
    assert w4.misses == 1 and h4.xxh_manifest != h1.xxh_manifest
    assert h4.xxh_manifest == hash_tree(t).xxh_manifest
    # racy entries (changed just now) are hashed but not kept
    assert b"f.txt" not in w4.new_cache[b"a/b"]


def test_normalize(tmp_path: Path) -> None:
    t = make_tree(tmp_path / "t")
    os.chmod(t / "a" / "b" / "f.txt", 0o640)
    normalize(t)
    assert os.lstat(t / "a" / "b" / "f.txt").st_mode & 0o777 == 0o444
    assert os.lstat(t / "x.sh").st_mode & 0o777 == 0o555
    assert os.lstat(t).st_mode & 0o777 == 0o555
    assert os.lstat(t / "link").st_mtime == 1


def test_tree_walker_is_what_verify_uses(tmp_path: Path) -> None:
    t = make_tree(tmp_path / "t")
    assert TreeWalker().hash(t) == hash_tree(t)


def test_a_view_of_a_tree_is_the_tree_of_its_files_alone(tmp_path: Path) -> None:
    """``Only``: the walkers keep the listed files and the folders on their way, nothing else,
    and agree with each other and with a tree that holds only those files."""
    from skiffeval.store.tree import Only

    t = make_tree(tmp_path / "t")
    (t / "a" / "other.txt").write_text("left out\n")
    only = Only(["a/b/f.txt", "x.sh", "link"])
    assert only.dirs == {b"a", b"a/b"}
    alone = tmp_path / "alone"
    (alone / "a" / "b").mkdir(parents=True)
    (alone / "a" / "b" / "f.txt").write_text("hello\n")
    (alone / "x.sh").write_text("#!/bin/sh\n")
    os.chmod(alone / "x.sh", 0o755)
    os.symlink("a/b/f.txt", alone / "link")
    expected = hash_tree(alone)
    assert SourceWalk({}, now_ns=time.time_ns(), only=only).hash(t).xxh_manifest == expected.xxh_manifest
    copied = CopyWalk(now_ns=time.time_ns(), only=only).copy(t, tmp_path / "copy")
    assert copied.xxh_manifest == expected.xxh_manifest and copied.sha_manifest == expected.sha_manifest
    assert sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*")) == [
        "a", "a/b", "a/b/f.txt", "link", "x.sh"]


def test_unchanged_folders_are_not_listed_again(tmp_path: Path, monkeypatch) -> None:
    """A folder whose own numbers are unchanged is walked from its cached listing (no
    ``scandir``); an entry added, removed or renamed changes the folder, which is listed again."""
    import skiffeval.store.tree as tree

    t = make_tree(tmp_path / "t")
    past = time.time() - 100
    for p in (t / "a" / "b" / "f.txt", t / "x.sh"):
        os.utime(p, (past, past))
    time.sleep(0.06)
    w1 = SourceWalk({}, now_ns=time.time_ns())
    h1 = w1.hash(t)
    listed: list[bytes] = []
    real_scandir = os.scandir

    def counting_scandir(path):
        listed.append(bytes(path))
        return real_scandir(path)

    monkeypatch.setattr(tree.os, "scandir", counting_scandir)
    w2 = SourceWalk(w1.new_cache, now_ns=time.time_ns(), probe=True)
    assert w2.hash(t).xxh_manifest == h1.xxh_manifest and listed == []
    (t / "a" / "new.txt").write_text("new\n")
    time.sleep(0.06)
    w3 = SourceWalk(w2.new_cache, now_ns=time.time_ns())
    h3 = w3.hash(t)
    assert listed == [bytes(t / "a")]  # only the changed folder
    listed.clear()
    assert h3.xxh_manifest == hash_tree(t).xxh_manifest != h1.xxh_manifest
    os.rename(t / "a" / "new.txt", t / "a" / "b" / "moved.txt")
    expected = hash_tree(t).xxh_manifest
    listed.clear()
    assert SourceWalk(w3.new_cache, now_ns=time.time_ns()).hash(t).xxh_manifest == expected
    assert sorted(listed) == [bytes(t / "a"), bytes(t / "a" / "b")]
