"""``skiffeval skiffos configure`` end to end on the synthetic fixture tree.

The files ``--out`` receives must be, paths aside, the bytes SkiffOS's own ``make configure``
wrote for the same tree (``tests/skiffos/golden/alpha-top-cyc``, written by SkiffOS on the
fixture; see ``e2e_helpers`` for the path tokens).  Other combinations are checked against the
reader library's replay with SkiffOS's own paths (``ConfigureParams.skiffos_defaults``), which
``tests/skiffos/test_skiffos_real.py`` checks against SkiffOS.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import pytest

from skiffeval.skiffos import ConfigureParams, configure, load

from tests.skiffos_e2e.e2e_helpers import (
    CONFIG_FILES,
    GOLDEN,
    TREE,
    entry_tokens,
    golden_name,
    normalize_skiffeval,
    normalize_skiffos,
    read,
    skiffeval,
)

CONFIG = "board/alpha,apps/top,cyc/a"
CHAIN = "base/core,board/common,util/extra,board/alpha,apps/low,apps/mid,apps/top,cyc/b,cyc/a"


@pytest.fixture(scope="module")
def configured(tmp_path_factory) -> tuple[pathlib.Path, object]:
    """The fixture configured as the golden files were: workspace 'Dev' (SkiffOS's 'dev')."""
    d = tmp_path_factory.mktemp("configure")
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", CONFIG, "--workspace", "Dev", "--out", "out"], d)
    assert r.code == 0, r.err
    return d, r


def _tokens(root: str, config: str, workspace: str, extra: tuple[str, ...] = ()):
    chain = load(root, config, workspace=workspace, extra_paths=list(extra))
    entries = [(e.name, e.path) for e in chain.entries]
    return chain, entries, entry_tokens(entries)


def test_writes_every_file_and_says_what_it_configured(configured):
    d, r = configured
    files = sorted(str(p.relative_to(d / "out")) for p in (d / "out").rglob("*") if p.is_file())
    assert files == sorted([*CONFIG_FILES, "bind_env.sh", "report.json"])
    for script in ("pre_build.sh", "post_build.sh", "bind_env.sh"):
        assert os.access(d / "out" / script, os.X_OK), script
    assert not os.access(d / "out" / "buildroot" / "config", os.X_OK)
    assert f"configured {CHAIN} in out" in r.err
    assert (d / "out" / "skiff_config").read_text() == CHAIN + "\n"


@pytest.mark.parametrize("rel", CONFIG_FILES)
def test_file_equals_what_skiffos_make_configure_wrote(configured, rel):
    d, _ = configured
    _, entries, tokens = _tokens(TREE, CONFIG, "Dev")
    golden_entries = [(name, path.replace(TREE, "@ROOT@")) for name, path in entries]
    expected = normalize_skiffos(read(GOLDEN / "alpha-top-cyc" / golden_name(rel)), "@ROOT@", "dev", golden_entries)
    got = normalize_skiffeval(read(d / "out" / rel), str(d / "store"), tokens)
    assert got == expected


def test_paths_in_the_files_are_store_paths(configured):
    d, _ = configured
    text = read(d / "out" / "buildroot" / "config")
    assert TREE not in text and "/workspaces/" not in text
    store = os.path.realpath(d / "store")
    overlay = next(line for line in text.splitlines() if line.startswith("BR2_ROOTFS_OVERLAY="))
    dirs = overlay.split("=", 1)[1].strip('"').split()
    assert [os.path.basename(p) for p in dirs] == ["root_overlay"] * 3
    for p in dirs:
        assert p.startswith(store + "/") and os.path.isdir(p)
    # the folders written into the config are complete copies: the fragment files are there
    final = next(line for line in text.splitlines() if line.startswith("BR2_ROOTFS_USERS_TABLES="))
    users = final.split("=", 1)[1].strip('"')
    assert read(users) == read(d / "out" / "users")


def test_report_lists_the_warnings_with_their_locations(configured):
    d, r = configured
    report = json.loads((d / "out" / "report.json").read_text())
    diags = report["diagnostics"]
    assert [x["code"] for x in diags] == ["W251", "W259", "W258", "W262", "W260"]
    assert all(x["severity"] == "warning" for x in diags)
    by_code = {x["code"]: x for x in diags}
    loc = by_code["W251"]["location"]
    assert (os.path.relpath(loc["file"], TREE), loc["line"], loc["column"]) == ("configs/cyc/b/metadata/dependencies", 1, 1)
    assert by_code["W259"]["location"]["file"] == "SKIFF_WORKSPACE"
    loc = by_code["W258"]["location"]
    assert (os.path.relpath(loc["file"], TREE), loc["line"]) == ("configs/board/alpha/metadata/commands", 2)
    # and on stderr, in the usual form
    assert f"{TREE}/configs/cyc/b/metadata/dependencies:1:1: warning[W251]:" in r.err
    assert "SKIFF_WORKSPACE:1:1: warning[W259]: workspace 'Dev' is used as 'dev'" in r.err


def test_configure_warnings_point_at_the_checkout(configured):
    d, _ = configured
    diags = {x["code"]: x for x in json.loads((d / "out" / "report.json").read_text())["diagnostics"]}
    assert diags["W262"]["location"]["file"] == f"{TREE}/configs/board/alpha/cflags/20-comments"
    assert diags["W260"]["location"]["file"] == f"{TREE}/configs/board/common/users/20-guest"


def test_json_output(tmp_path):
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "base/core", "--out", "o", "--json"], tmp_path)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["skiff_config"] == "base/core"
    assert data["out"] == str(tmp_path / "o")
    assert data["files"] == sorted([*CONFIG_FILES, "bind_env.sh", "report.json"])


COMBOS = [
    ("board/alpha,board/common", "default", ()),
    ("apps/top", "dev", ()),
    ("util/with/under", "default", ()),
    ("base/core", "Other WS", ()),
    ("board/alpha,extra/only", "dev", (f"{TREE}/extra",)),
]


@pytest.mark.parametrize(("config", "workspace", "extra"), COMBOS)
def test_file_equals_the_replay_with_skiffos_paths(tmp_path, config, workspace, extra):
    args = ["skiffos", "configure", "--root", TREE, "--config", config, "--workspace", workspace, "--out", "o"]
    for e in extra:
        args += ["--extra-configs-path", e]
    r = skiffeval(args, tmp_path)
    assert r.code == 0, r.err
    chain, entries, tokens = _tokens(TREE, config, workspace, extra)
    out = configure(chain, ConfigureParams.skiffos_defaults(TREE, chain.workspace))
    for rel, text in out.files().items():
        expected = normalize_skiffos(text, TREE, chain.workspace, entries)
        assert normalize_skiffeval(read(tmp_path / "o" / rel), str(tmp_path / "store"), tokens) == expected, rel


def test_extra_path_shadows_configs(tmp_path):
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "board/alpha", "--extra-configs-path",
                   f"{TREE}/extra", "--out", "o"], tmp_path)
    assert r.code == 0, r.err
    text = read(tmp_path / "o" / "buildroot" / "config")
    assert "-alpha/buildroot/shadow\n" in text  # extra/board/alpha wins over configs/board/alpha
    assert "BR2_PACKAGE_ORDER" not in text


def test_a_rerun_is_identical_and_builds_nothing(configured, tmp_path):
    d, _ = configured
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", CONFIG, "--workspace", "Dev", "--out", "again"], d)
    assert r.code == 0, r.err
    assert "built" not in r.err
    for rel in [*CONFIG_FILES, "report.json"]:
        assert read(d / "again" / rel) == read(d / "out" / rel), rel


def test_an_edited_fragment_is_noticed(tmp_path):
    """SkiffOS's ``make compile`` reconfigures only when the chain changes; skiffeval hashes
    every file it reads."""
    root = tmp_path / "tree"
    shutil.copytree(TREE, root, symlinks=True)
    args = ["skiffos", "configure", "--root", str(root), "--config", "base/core", "--out", "o"]
    assert skiffeval(args, tmp_path).code == 0
    before = read(tmp_path / "o" / "buildroot" / "config")
    (root / "configs" / "base" / "core" / "buildroot" / "core").write_text('BR2_PACKAGE_ORDER="edited"\n')
    r = skiffeval(args, tmp_path)
    assert r.code == 0, r.err
    after = read(tmp_path / "o" / "buildroot" / "config")
    assert 'BR2_PACKAGE_ORDER="core"' in before and 'BR2_PACKAGE_ORDER="edited"' in after


def test_out_files_are_replaced_not_appended(configured, tmp_path):
    d, _ = configured
    out = tmp_path / "o"
    shutil.copytree(d / "out", out)
    os.chmod(out / "users", 0o444)  # a read-only leftover is replaced too
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "base/core", "--out", "o"], tmp_path)
    assert r.code == 0, r.err
    assert read(out / "skiff_config") == "base/core\n"
    assert read(out / "users") == "svc -1 svc -1 * - - - Service\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_version_placeholders_follow_the_checkout(tmp_path):
    import subprocess

    from tests.skiffos.skiffos_helpers import write_tree

    root = write_tree(tmp_path / "t", {
        "configs-base/pre/buildroot/version": 'BR2_TARGET_GENERIC_HOSTNAME="skiffos-REPLACEME_SKIFF_VERSION_COMMIT"\n'
                                              'BR2_TARGET_GENERIC_ISSUE="Welcome to SkiffOS REPLACEME_SKIFF_VERSION!"\n',
        "configs/a/b/buildroot/x": "BR2_X=y\n",
    })
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"], ["tag", "v1.2"]):
        subprocess.run(["git", *cmd], cwd=root, env=env, check=True, capture_output=True)
    short = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    r = skiffeval(["skiffos", "configure", "--root", root, "--config", "a/b", "--out", "o"], tmp_path)
    assert r.code == 0, r.err
    text = read(tmp_path / "o" / "buildroot" / "config")
    assert f'BR2_TARGET_GENERIC_HOSTNAME="skiffos-{short}"' in text
    assert 'BR2_TARGET_GENERIC_ISSUE="Welcome to SkiffOS v1.2!"' in text


def _add(root: pathlib.Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


EDITS = [
    # (id, arguments beyond --config base/core, the change, the text that must then appear / vanish)
    ("new-fragment", (), lambda r: _add(r, "configs/base/core/buildroot/zz", "BR2_NEW=y\n"), "BR2_NEW=y", True),
    ("removed-fragment", (), lambda r: (r / "configs/base/core/buildroot/core").unlink(), 'BR2_PACKAGE_ORDER="core"', False),
    ("new-dependencies", (), lambda r: _add(r, "configs/base/core/metadata/dependencies", "util/loner\n"),
     "BR2_PACKAGE_LONER=y", True),
    ("new-workspace-folder", ("--workspace", "fresh"),
     lambda r: _add(r, "overrides/workspaces/fresh/buildroot/x", "BR2_FRESH=y\n"), "BR2_FRESH=y", True),
    ("new-shadowing-package", ("--extra-configs-path", "{root}/more"),
     lambda r: _add(r, "more/base/core/buildroot/other", "BR2_SHADOW=y\n"), "BR2_SHADOW=y", True),
]


@pytest.mark.parametrize("edit", EDITS, ids=[e[0] for e in EDITS])
def test_a_warm_run_notices_changes_in_the_tree(tmp_path, edit):
    """The second run of the same command may reuse the last evaluation only when nothing it read
    (files, folder listings, absent files) has changed."""
    _, args, change, expect, present = edit
    root = tmp_path / "tree"
    shutil.copytree(TREE, root, symlinks=True)
    (root / "more").mkdir()
    cmd = ["skiffos", "configure", "--root", str(root), "--config", "base/core", "--out", "o",
           *(a.format(root=root) for a in args)]
    r = skiffeval(cmd, tmp_path)
    assert r.code == 0, r.err
    assert (expect in read(tmp_path / "o" / "buildroot" / "config")) is not present
    change(root)
    r = skiffeval(cmd, tmp_path)
    assert r.code == 0, r.err
    assert (expect in read(tmp_path / "o" / "buildroot" / "config")) is present


def test_a_warm_run_in_a_new_process_imports_nothing_heavy(configured):
    """The evaluation cache answers a rerun: no parser, evaluator, kconfig or SkiffOS reader is
    imported (nor attrs: the warm path's records are plain dataclasses), and the saved warnings
    are printed as the first run printed them."""
    import subprocess
    import sys

    d, first = configured
    probe = (
        "import sys\n"
        "from skiffeval.cli import main\n"
        "try:\n"
        f"    code = main({['skiffos', 'configure', '--root', str(TREE), '--config', CONFIG, '--workspace', 'Dev', '--out', 'warm']!r})\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('lark', 'attr', 'attrs') or m.startswith(('skiffeval.kconfig', 'skiffeval.skiffos', 'skiffeval.eval', 'kconfiglib')))\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], cwd=d, capture_output=True, text=True, timeout=120)
    *printed, last = r.stderr.rstrip("\n").split("\n")
    assert last == "0 []", r.stderr
    diagnostics = [ln for ln in first.err.rstrip("\n").split("\n") if not ln.startswith(("plan: ", "[1/1] built"))]
    assert [ln.replace(" in warm", " in out") for ln in printed] == diagnostics
