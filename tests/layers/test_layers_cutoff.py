"""Early cutoff and determinism of a system's derivations.

* A comment-only edit of a fragment rebuilds ``config`` (its input changed) but yields the same
  output, so nothing downstream is built again; a real change rebuilds downstream.
* The same board evaluated from two checkouts, two working directories, two stores or two
  processes with different ``PYTHONHASHSEED`` gives the same derivation keys: labels recorded in
  derivations hold no absolute paths.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from skiffeval.session import BuildRequest
from tests.layers.helpers import FIXTURES, prepare, session

BOARD = "boards/full.sk"
ATTRS = ("config", "kernel_config", "overlay", "patches", "external", "hooks", "users", "resolved")


def build_all(root: pathlib.Path):
    """Build the bundle and ``resolved``: (session, outcome, events)."""
    s = session(root)
    events = []
    outcome = s.build([BuildRequest(BOARD), BuildRequest(BOARD, ("resolved",))], out_link=None, on_event=events.append)
    return s, outcome, events


def names(s, keys) -> set[str]:
    return {s.table.by_key[k].name for k in keys}


def outputs(s, outcome) -> dict[str, dict[str, str]]:
    return {s.table.by_key[k].name: {o: str(p) for o, p in outs.items()} for k, outs in outcome.result.outputs.items()}


def edit(path: pathlib.Path, fn) -> None:
    path.write_text(fn(path.read_text()))


def test_a_comment_appended_to_a_fragment_rebuilds_only_config(tmp_path):
    root = prepare(tmp_path)
    s1, o1, _ = build_all(root)
    edit(root / "lib/fx/app/buildroot.conf", lambda t: t + "# a comment, and a blank line\n\n")
    s2, o2, events = build_all(root)
    assert names(s2, o2.result.built) == {"full-config"}
    # the bundle and resolved see the same config output: cut off, not built
    assert names(s2, o2.result.cutoff) == {"full-bundle", "full-resolved"}
    assert sorted((e.kind, e.name) for e in events if e.kind in ("built", "cutoff")) == [
        ("built", "full-config"), ("cutoff", "full-bundle"), ("cutoff", "full-resolved")]
    assert outputs(s1, o1)["full-config"] == outputs(s2, o2)["full-config"]
    assert outputs(s1, o1)["full-bundle"] == outputs(s2, o2)["full-bundle"]
    # the derivation changed (its input did), its output did not
    k1 = {d.name: d.key for d in s1.table.by_key.values()}
    k2 = {d.name: d.key for d in s2.table.by_key.values()}
    assert k1["full-config"] != k2["full-config"]


def test_a_comment_that_moves_lines_reruns_resolved_for_the_report_only(tmp_path):
    root = prepare(tmp_path)
    s1, o1, _ = build_all(root)
    edit(root / "lib/fx/app/buildroot.conf", lambda t: "# a new first line\n" + t)
    s2, o2, _ = build_all(root)
    # config's 'out' is the same, its 'provenance' (lines) is not: resolved runs again, and
    # writes the same .config (out) with a report pointing one line further down
    assert names(s2, o2.result.built) == {"full-config", "full-resolved"}
    assert names(s2, o2.result.cutoff) == {"full-bundle"}
    before, after = outputs(s1, o1), outputs(s2, o2)
    assert before["full-config"]["out"] == after["full-config"]["out"]
    assert before["full-config"]["provenance"] != after["full-config"]["provenance"]
    assert before["full-resolved"]["out"] == after["full-resolved"]["out"]
    assert before["full-resolved"]["report"] != after["full-resolved"]["report"]


def test_a_real_change_rebuilds_downstream(tmp_path):
    root = prepare(tmp_path)
    s1, o1, _ = build_all(root)
    edit(root / "lib/fx/app/buildroot.conf", lambda t: t.replace("BR2_PACKAGE_HTOP=y", "# BR2_PACKAGE_HTOP is not set"))
    s2, o2, _ = build_all(root)
    assert names(s2, o2.result.built) == {"full-config", "full-bundle", "full-resolved"}
    assert not o2.result.cutoff
    assert outputs(s1, o1)["full-resolved"]["out"] != outputs(s2, o2)["full-resolved"]["out"]


def test_a_kernel_comment_edit_cuts_off_at_kernel_config(tmp_path):
    root = prepare(tmp_path)
    build_all(root)
    edit(root / "lib/fx/base/kernel.conf", lambda t: t.replace("# fx/base kernel options", "# reworded comment"))
    s2, o2, _ = build_all(root)
    assert names(s2, o2.result.built) == {"full-kernel-config"}
    assert names(s2, o2.result.cutoff) == {"full-config", "full-bundle", "full-resolved"}


def test_a_second_build_builds_nothing(tmp_path):
    root = prepare(tmp_path)
    build_all(root)
    s2, o2, _ = build_all(root)
    assert not o2.result.built and not o2.result.cutoff
    assert names(s2, o2.result.valid) >= {"full-bundle", "full-resolved"}


# -- determinism -----------------------------------------------------------------------------------


def keys_of(root: pathlib.Path, cwd: pathlib.Path | None = None, store: pathlib.Path | None = None) -> dict[str, str]:
    """Every derivation key an evaluation of the board makes, by name (the board given by path
    relative to ``cwd``)."""
    cwd = cwd or root
    s = session(cwd, store_dir=str(store or cwd / "store"))
    board = os.path.relpath(root / BOARD, cwd)
    for attr in ("",) + ATTRS:
        s.instantiate(BuildRequest(board, (attr,) if attr else ()))
    return {d.name: d.key for d in s.table.by_key.values()}


def test_the_same_keys_from_two_checkouts(tmp_path):
    one = keys_of(prepare(tmp_path / "a", "checkout"))
    two = keys_of(prepare(tmp_path / "somewhere/else/entirely", "x"))
    assert one == two
    assert len(one) >= 12


def test_the_same_keys_from_another_working_directory_and_store(tmp_path):
    root = prepare(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert keys_of(root) == keys_of(root, cwd=other, store=tmp_path / "another-store")


def test_no_absolute_path_in_the_derivations(tmp_path):
    root = prepare(tmp_path)
    s = session(root)
    for attr in ATTRS:
        s.instantiate(BuildRequest(BOARD, (attr,)))
    for drv in s.table.by_key.values():
        text = json.dumps([drv.args, dict(drv.env)])
        assert str(tmp_path) not in text, (drv.name, text)


def test_the_library_boards_have_the_same_keys_from_two_checkouts(tmp_path):
    # skiffeval's own boards: labels under the search path are <layers/...>
    import shutil

    from skiffeval.session import default_layers_dir

    keys = []
    for where in ("one", "two/deeper"):
        copy = tmp_path / where / "layers"
        shutil.copytree(default_layers_dir(), copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        s = session(tmp_path / where, include=(f"layers={copy}",))
        s.instantiate(BuildRequest("layers/boards/qemu-x86_64.sk", ("config",)))
        keys.append({d.name: d.key for d in s.table.by_key.values()})
    assert keys[0] == keys[1]


_KEYS_SCRIPT = """
import json, sys
from skiffeval.session import BuildRequest, Session, SessionOptions
s = Session(SessionOptions(cwd=sys.argv[1], store_dir=sys.argv[2]))
for attr in sys.argv[3:]:
    s.instantiate(BuildRequest("boards/full.sk", (attr,) if attr != "-" else ()))
print(json.dumps({d.name: d.key for d in s.table.by_key.values()}, sort_keys=True))
"""


def test_the_same_keys_whatever_the_hash_seed(tmp_path):
    root = prepare(tmp_path)
    results = []
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-c", _KEYS_SCRIPT, str(root), str(tmp_path / f"store-{seed}"), "-", *ATTRS],
            capture_output=True, text=True, env=env, cwd=str(pathlib.Path(__file__).resolve().parents[2]),
        )
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1] == results[2]
    assert "full-resolved" in results[0]


def test_fixtures_unchanged():
    assert not (FIXTURES / "store").exists()


def test_the_same_keys_from_a_group_writable_checkout(tmp_path):
    normal = keys_of(prepare(tmp_path / "a", "checkout"))
    root = prepare(tmp_path / "b", "checkout")
    for top, dirs, files in os.walk(root / "lib/fx/app/overlay"):
        for name in dirs + files:
            path = os.path.join(top, name)
            os.chmod(path, os.stat(path).st_mode | 0o020)
    os.chmod(root / "lib/fx/app/overlay", 0o775)
    assert keys_of(root) == normal
