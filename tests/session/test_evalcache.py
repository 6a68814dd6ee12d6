"""The evaluation cache: an unchanged command is answered without evaluating; any change to
what the evaluation read (a file, a listing, an imported tree, an existence check) is noticed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.cli.runner import run

BOARD = """
let l = layer {
  name = "t/x";
  buildroot = [ ./x.conf { BR2_TARGET_GENERIC_HOSTNAME = "h"; } ];
  overlay = [ ./ov ];
};
in system { name = "t"; layers = [ l ]; }
"""


@pytest.fixture(autouse=True)
def no_racy_window(request, monkeypatch) -> None:
    """The tests of what is noticed write their changes just before they check: without the
    racy window (tested on its own below) their records are trusted at once."""
    if "racy" not in request.node.name:
        from skiffeval.session import evalcache

        monkeypatch.setattr(evalcache, "RACY_NS", 0)


@pytest.fixture
def board(tmp_path: Path) -> Path:
    (tmp_path / "board.sk").write_text(BOARD)
    (tmp_path / "x.conf").write_text("BR2_PACKAGE_A=y\n")
    (tmp_path / "ov" / "etc").mkdir(parents=True)
    (tmp_path / "ov" / "etc" / "motd").write_text("hello\n")
    return tmp_path


def _evaluated(board: Path, *extra: str) -> bool:
    """Whether a build evaluated (a cache hit says so with -v and evaluates nothing)."""
    r = run(["build", "board.sk", "-v", *extra], cwd=board)
    assert r.code == 0, r.err
    return "evaluation cache" not in r.err


def _touch(path: Path, text: str) -> None:
    path.write_text(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 1_000_000_000))  # another mtime, in the past


def test_second_build_is_answered_from_the_cache(board: Path) -> None:
    assert _evaluated(board)
    assert not _evaluated(board)
    assert os.path.islink(board / "result")


@pytest.mark.parametrize("change", ["fragment", "overlay", "new-overlay-file", "board"])
def test_changes_are_noticed(board: Path, change: str) -> None:
    assert _evaluated(board)
    if change == "fragment":
        _touch(board / "x.conf", "BR2_PACKAGE_B=y\n")
    elif change == "overlay":
        _touch(board / "ov" / "etc" / "motd", "changed\n")
    elif change == "new-overlay-file":
        (board / "ov" / "etc" / "issue").write_text("new\n")
    else:
        _touch(board / "board.sk", BOARD.replace('"h"', '"g"'))
    assert _evaluated(board)
    assert not _evaluated(board)


def test_other_arguments_are_another_entry(board: Path) -> None:
    assert _evaluated(board)
    assert _evaluated(board, "-A", "config")
    assert not _evaluated(board, "-A", "config")
    assert not _evaluated(board)


def test_a_deleted_output_is_rebuilt(board: Path) -> None:
    import shutil

    assert _evaluated(board)
    target = os.path.realpath(board / "result")
    # the store makes outputs read-only; a user may still delete one behind its back
    for top, dirs, files in os.walk(target):
        os.chmod(top, 0o755)
    os.chmod(os.path.dirname(target), 0o755)
    shutil.rmtree(target)
    assert _evaluated(board)


def test_no_eval_cache_flag(board: Path) -> None:
    assert _evaluated(board)
    assert _evaluated(board, "--no-eval-cache")
    time.sleep(0)


def test_tree_record_notices_every_kind_of_change(tmp_path: Path) -> None:
    """The record is checked by lstat alone, without listing folders: an added, removed or
    renamed entry must show through its folder's own numbers."""
    from skiffeval.session.evalcache import _tree, _tree_unchanged

    root = tmp_path / "t"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "deep").write_text("1\n")
    (root / "top").write_text("x\n")
    (root / ".git").mkdir()
    record, _ = _tree(str(root), frozenset({".git"}))
    assert "" in record[0].split("\0") and "a/b/deep" in record[0].split("\0")
    assert not any(name.startswith(".git") for name in record[0].split("\0"))
    assert _tree_unchanged(str(root), record)  # stable while nothing changes
    (root / ".git" / "index").write_text("ignored\n")
    assert _tree_unchanged(str(root), record)  # the excluded entry's contents
    record, _ = _tree(str(root), frozenset({".git"}))
    changes = [
        lambda: _touch(root / "a" / "b" / "deep", "2\n"),  # a file deep down, edited in place
        lambda: os.rename(root / "top", root / "top2"),  # renamed: same inode and times, another name
        lambda: os.symlink("top2", root / "a" / "b" / "link"),  # a new entry deep down
        lambda: os.chmod(root / "top2", 0o755),  # mode only
        lambda: (root / "a" / "b" / "link").unlink(),  # a removed entry
        lambda: os.rename(root / "a" / "b" / "deep", root / "a" / "deep"),  # moved up a folder
        lambda: (root / "a" / "new").mkdir(),  # a new, empty folder
    ]
    for change in changes:
        change()
        assert not _tree_unchanged(str(root), record)
        record, _ = _tree(str(root), frozenset({".git"}))
        assert _tree_unchanged(str(root), record)
    shutil.rmtree(root / "a")
    assert not _tree_unchanged(str(root), record)


def test_a_view_record_selects_and_sees_what_could_join_the_view(tmp_path: Path) -> None:
    """With ``select``, the walk returns the kept files, records them and every folder: an
    in-place edit of a file left out changes nothing, a new file anywhere shows."""
    from skiffeval.session.evalcache import _tree, _tree_unchanged

    root = tmp_path / "t"
    (root / "pkg" / "foo").mkdir(parents=True)
    (root / "Config.in").write_text("a\n")
    (root / "pkg" / "foo" / "Config.in").write_text("b\n")
    (root / "pkg" / "foo" / "foo.mk").write_text("c\n")
    record, selected = _tree(str(root), select=lambda rel: rel.rpartition("/")[2].startswith("Config."))
    assert sorted(selected) == ["Config.in", "pkg/foo/Config.in"]
    assert sorted(record[0].split("\0")) == ["", "Config.in", "pkg", "pkg/foo", "pkg/foo/Config.in"]
    _touch(root / "pkg" / "foo" / "foo.mk", "changed\n")
    assert _tree_unchanged(str(root), record)
    (root / "pkg" / "foo" / "Config.in.host").write_text("d\n")
    assert not _tree_unchanged(str(root), record)


def test_racy_records_are_not_trusted(tmp_path: Path, monkeypatch) -> None:
    """An input recorded within RACY_NS of its last change is not trusted by its numbers: a
    tree counts as changed, a file is compared by content."""
    from skiffeval.session import evalcache

    root = tmp_path / "t"
    root.mkdir()
    (root / "f").write_text("1\n")
    record, _ = evalcache._tree(str(root))
    assert record[2] and not evalcache._tree_unchanged(str(root), record)  # just written: racy
    monkeypatch.setattr(evalcache, "RACY_NS", 0)
    record, _ = evalcache._tree(str(root))
    assert not record[2] and evalcache._tree_unchanged(str(root), record)
    monkeypatch.undo()
    log = evalcache.InputLog()
    log.file(str(root / "f"), b"1\n")
    assert log.files[str(root / "f")][6]  # racy: the check reads the content
    st = os.stat(root / "f")
    (root / "f").write_text("2\n")  # same size; times put back: only the content tells
    os.utime(root / "f", ns=(st.st_atime_ns, st.st_mtime_ns))
    doc = log.to_json()
    doc["files"][str(root / "f")][:5] = evalcache._sig(os.stat(root / "f"))  # even the ctime as recorded
    assert not evalcache._unchanged(doc)
