"""``skiffeval store verify|gc|info|rebuild-db`` through the command line, on the demo project:
what each reports, that verify finds a changed output, that gc keeps what roots reach, that the
database comes back from the store's contents, and that no command creates a store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import run
from tests.cli.test_query import ok, project, sk


@pytest.fixture
def built(tmp_path: Path) -> Path:
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    return cwd


def _info(cwd: Path) -> dict:
    return json.loads(ok(["store", "info", "--json"], cwd).out)


def test_info_counts_what_a_build_made(built: Path) -> None:
    info = _info(built)
    assert set(info) == {"root", "sources", "outputs", "derivations", "realisations", "roots", "total_size", "db_bytes", "log_bytes"}
    assert info["root"] == os.path.realpath(built / "store")
    drvs = sum(1 for p in (built / "store").iterdir() if p.name.endswith(".drv"))
    assert info["derivations"] == drvs > 0
    assert info["outputs"] >= info["realisations"] > 0 and info["roots"] >= 1 and info["total_size"] > 0
    text = ok(["store", "info"], built).out
    assert f"derivations    {drvs}" in text


def test_verify_finds_a_changed_output_and_repair_lets_a_build_restore_it(built: Path) -> None:
    assert "0 problems" in ok(["store", "verify", "--check-contents"], built).out
    bundle = Path(os.path.realpath(built / "result"))
    # the bundle links to the other outputs: tamper with a file of one of them
    victim = next(Path(os.path.realpath(p)) for p in sorted(bundle.rglob("*")) if os.path.isfile(os.path.realpath(p)))
    output = Path(os.path.realpath(built / "store")) / victim.relative_to(os.path.realpath(built / "store")).parts[0]
    os.chmod(victim.parent, 0o755)
    os.chmod(victim, 0o644)
    original = victim.read_text()
    victim.write_text("tampered\n")
    assert "0 problems" in ok(["store", "verify"], built).out  # without re-hashing: paths exist
    r = sk(["store", "verify", "--check-contents", "--json"], built)
    assert r.code == 1
    doc = json.loads(r.out)
    assert [(p["problem"], f"{p['path']['digest']}-{p['path']['name']}") for p in doc["problems"]] == [("digest", output.name)]
    assert "E118" in r.err and "store verify --repair" in r.err
    assert "the store has 1 corrupt path\n" in sk(["store", "verify", "--check-contents"], built).err
    assert ": 1 problem, 0 unregistered entries" in sk(["store", "verify", "--check-contents"], built).out
    ok(["store", "verify", "--check-contents", "--repair"], built)
    ok(["build", "board.sk"], built)  # the unregistered output is built again
    assert "0 problems" in ok(["store", "verify", "--check-contents"], built).out
    assert victim.read_text() == original


def test_gc_keeps_what_a_root_reaches_and_deletes_the_rest(built: Path) -> None:
    before = _info(built)
    dry = json.loads(ok(["store", "gc", "--dry-run", "--json"], built).out)
    assert dry["dry_run"] is True and dry["kept"] > 0
    kept_names = set(os.listdir(built / "store"))
    assert all(name in kept_names for name in dry["deleted"])
    assert _info(built)["derivations"] == before["derivations"]  # a dry run deletes nothing
    (built / "result").unlink()  # the only root
    r = json.loads(ok(["store", "gc", "--json"], built).out)
    assert r["deleted"] and r["freed_bytes"] > 0
    assert all(not (built / "store" / name).exists() for name in r["deleted"])
    after = _info(built)
    assert after["outputs"] < before["outputs"]
    # the query index keeps rows only for the derivations the store still holds
    import sqlite3

    from skiffeval.session.drvindex import _INDEX_TABLE

    conn = sqlite3.connect(built / "store" / ".skiffeval" / "query-index.sqlite")
    indexed = {k for (k,) in conn.execute(f"SELECT key FROM {_INDEX_TABLE}")}
    conn.close()
    held = {p.name.split("-", 1)[0] for p in (built / "store").iterdir() if p.name.endswith(".drv")}
    assert indexed <= held and len(indexed) < before["derivations"]
    ok(["build", "board.sk"], built)  # everything comes back
    assert _info(built)["realisations"] == before["realisations"]


def test_rebuild_db_recovers_the_metadata_from_the_contents(built: Path) -> None:
    before = _info(built)
    meta = built / "store" / ".skiffeval"
    for name in os.listdir(meta):
        if name.startswith("db.sqlite"):
            (meta / name).unlink()
    r = json.loads(ok(["store", "rebuild-db", "--json"], built).out)
    assert r["derivations"] == before["derivations"] and r["paths"] > 0
    after = _info(built)
    assert (after["derivations"], after["sources"], after["outputs"]) == (before["derivations"], before["sources"], before["outputs"])
    assert "0 problems" in ok(["store", "verify", "--check-contents"], built).out
    out = ok(["build", "board.sk"], built)
    assert "built" not in out.err  # the realisations came back too: nothing to build


@pytest.mark.parametrize("command", [["verify"], ["gc"], ["gc", "--dry-run"], ["info"], ["rebuild-db"]])
def test_no_store_command_creates_a_store(tmp_path: Path, command: list[str]) -> None:
    r = sk(["store", *command], tmp_path)  # tmp_path/store does not exist
    assert r.code == 1
    assert "error[E123]: there is no store at" in r.err and "check --store" in r.err
    assert not (tmp_path / "store").exists()


def test_rebuild_db_accepts_a_store_whose_metadata_folder_is_gone(built: Path) -> None:
    drvs = _info(built)["derivations"]
    shutil.rmtree(built / "store" / ".skiffeval")
    assert json.loads(ok(["store", "rebuild-db", "--json"], built).out)["derivations"] == drvs


def test_a_file_outside_the_store_that_is_no_board_says_why_it_was_read_as_one(built: Path) -> None:
    (built / "notes.txt").write_text("root:x:0:0\n")
    r = sk(["path-info", "notes.txt"], built)
    assert r.code == 1
    assert "notes.txt:1:9: error[E010]" in r.err
    assert "help: 'notes.txt' is read as a board file because it is not in the store" in r.err


def test_a_missing_dependency_says_how_to_install_it(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` now fails as if not installed
    r = sk(["query", "graph", "board.sk", "--format", "json"], built)
    assert r.code == 1
    assert "error[E002]: the Python package 'orjson' that skiffeval needs is not installed" in r.err
    assert "python3 -m pip install -e ." in r.err and "internal error" not in r.err
    r = sk(["query", "tree", "board.sk", "--json"], built)  # the same, as JSON
    (diag,) = json.loads(r.err)["diagnostics"]
    assert (r.code, diag["code"], diag["slug"]) == (1, "E002", "missing-dependency")


def test_a_deleted_current_directory_is_a_usage_error(tmp_path: Path) -> None:
    import contextlib
    import io

    from skiffeval.cli import main

    gone = tmp_path / "gone"
    gone.mkdir()
    here = os.getcwd()
    err = io.StringIO()
    os.chdir(gone)
    try:
        gone.rmdir()
        with contextlib.redirect_stderr(err):
            code = main(["eval", "--expr", "1"])
    finally:
        os.chdir(here)
    assert code == 2 and "error[E001]: the current directory no longer exists" in err.getvalue()


@pytest.mark.parametrize("in_the_way", ["store", "."])
@pytest.mark.parametrize("command", [["build", "board.sk"], ["show-derivation", "board.sk"]])
def test_a_store_that_cannot_be_made_is_a_clear_error(tmp_path: Path, command: list[str], in_the_way: str) -> None:
    """A file where the store (or a folder above it) should be: E124 naming it, exit 1, and the
    file left as it was."""
    cwd = project(tmp_path)
    blocker = cwd / "blocker"
    blocker.write_text("not a store\n")
    store = "blocker" if in_the_way == "store" else "blocker/store"
    r = run([*command, "--store", store], cwd=cwd)
    assert r.code == 1, r.err
    assert "Traceback" not in r.err and "E000" not in r.err
    assert f"error[E124]: cannot use '{cwd / store}' as a store: " in r.err
    why = "it is not a directory" if in_the_way == "store" else f"'{blocker}' is not a directory"
    assert why in r.err and "--store DIR" in r.err
    assert blocker.read_text() == "not a store\n"


def test_a_store_another_user_owns_is_not_called_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store whose directories this user cannot write (root may write anywhere, so the
    answer of ``os.access`` is made up for the store's metadata folder): E124, not E118."""
    cwd = project(tmp_path)
    ok(["build", "board.sk"], cwd)
    meta = os.path.realpath(cwd / "store" / ".skiffeval")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == meta else real_access(p, mode, **kw))
    r = sk(["build", "board.sk"], cwd)
    assert r.code == 1
    assert f"error[E124]: cannot use '{cwd / 'store'}' as a store: Permission denied ('{meta}')" in r.err, r.err


def test_trees_a_thousand_folders_deep_are_built_verified_and_collected(tmp_path: Path) -> None:
    """The store's tree walks recurse once per folder level; the command line leaves room for
    any tree the system can name (``cli.RECURSION_LIMIT``): a source 1,200 folders deep is
    imported and copied by an in-process builder, an external builder makes an output as deep,
    ``verify --check-contents`` hashes both, and ``gc`` removes them (it used to stop with an
    internal error, every time, on such an output left behind)."""
    fd = os.open(tmp_path, os.O_RDONLY)
    os.mkdir("tree", dir_fd=fd)
    for level in range(1200):
        inner = os.open("tree" if level == 0 else "a", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
        os.mkdir("a", dir_fd=fd)
    os.close(fd)
    (tmp_path / "d.sk").write_text(
        '{ copy = derivation { name = "copy"; builder = "builtin:copy"; src = "${./tree}"; };\n'
        '  made = derivation { name = "made"; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; args = [ "-c"\n'
        '    "mkdir $out; cd $out; i=0; while [ $i -lt 1200 ]; do mkdir a; cd a; i=$((i+1)); done; echo x > f" ]; }; }\n')
    result = run(["build", "d.sk", "--no-out-link"], cwd=tmp_path)
    assert result.code == 0, result.err
    result = run(["store", "verify", "--check-contents"], cwd=tmp_path)
    assert result.code == 0 and "0 problems" in result.out + result.err, result.err
    result = run(["store", "gc"], cwd=tmp_path)
    assert result.code == 0, result.err
    assert [p for p in os.listdir(tmp_path / "store") if not p.startswith(".")] == []
    subprocess.run(["rm", "-rf", str(tmp_path / "tree")], check=True)


def test_an_output_deeper_than_the_system_can_name_is_a_clear_build_failure(tmp_path: Path) -> None:
    (tmp_path / "d.sk").write_text(
        'derivation { name = "deeper"; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; args = [ "-c"\n'
        '  "mkdir $out; cd $out; i=0; while [ $i -lt 2100 ]; do mkdir aa; cd aa; i=$((i+1)); done; echo x > f" ]; }\n')
    result = run(["build", "d.sk", "--no-out-link"], cwd=tmp_path)
    assert result.code == 1
    assert "failed: its output is nested too deeply: a path in it is longer than the system can name" in result.err
    assert "skiffeval bug" not in result.err
    assert [p for p in os.listdir(tmp_path / "store") if not p.startswith(".") and not p.endswith(".drv")] == []
