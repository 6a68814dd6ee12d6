"""The Buildroot source as a pinned input: ``fetchurl``/``fetchgit`` (SHA-256 checked before
anything enters the store), offline failures that name the URL and ``--override-input``, and
``--override-input NAME=PATH`` with warning W150 when the path differs from the pin.

Only ``file://`` URLs are used: nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest

from tests.layers.helpers import ZERO_HASH, build, build_error, cli, json_diagnostics, output_of, prepare, session, write

PINNED = "boards/pinned.sk"
URL = "file:///nonexistent/skiffeval-fixture/buildroot.git"


def tree_hash(root, path) -> str:
    """skiffeval's tree SHA-256 of ``path`` (what a fetchgit pin names)."""
    s = session(root, store_dir=str(root / "hash-store"))
    return "sha256:" + s.store.path_info(s.store.add_path(str(path), "tree")).sha256


# -- --override-input ------------------------------------------------------------------------------


def test_an_override_that_differs_from_the_pin_warns(tmp_path):
    root = prepare(tmp_path)
    s, outcome = build(root, PINNED, "resolved", overrides=(("buildroot", "mini-br"),))
    [warning] = s.warnings
    assert warning.code.code == "W150"
    assert (warning.span.file, warning.span.line, warning.span.col) == ("boards/pinned.sk", 6, 3)
    assert warning.message.startswith(f"--override-input buildroot: the content of '{root}/mini-br' differs from the pinned 'buildroot-fixture'")
    assert warning.help == (f'pin it with hash = "{tree_hash(root, root / "mini-br")}" if this tree is the one you mean',)
    # the override is used: the build succeeds against it
    assert (output_of(s, outcome, "resolved") / "config").exists()


def test_the_warning_on_the_command_line(tmp_path):
    root = prepare(tmp_path)
    result = cli(["build", PINNED, "-A", "resolved", "--override-input", "buildroot=mini-br", "--no-out-link", "--no-color"], cwd=root)
    assert result.code == 0, result.err
    assert "boards/pinned.sk:6:3: warning[W150]: --override-input buildroot: the content of" in result.err
    result = cli(["build", PINNED, "-A", "resolved", "--override-input", "buildroot=mini-br", "--no-out-link", "--json"], cwd=root)
    assert result.code == 0
    assert [d["code"] for d in json_diagnostics(result.err)] == ["W150"]


def test_an_override_equal_to_the_pin_does_not_warn(tmp_path):
    root = prepare(tmp_path)
    pin = tree_hash(root, root / "mini-br")
    result = cli(["build", PINNED, "-A", "resolved", "--override-input", "buildroot=mini-br", "--argstr", "hash", pin,
                  "--no-out-link"], cwd=root)
    assert result.code == 0, result.err
    assert "W150" not in result.err


def test_an_override_of_a_missing_path(tmp_path):
    root = prepare(tmp_path)
    result = cli(["build", PINNED, "--override-input", "buildroot=no/such/dir", "--no-out-link", "--json"], cwd=root)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert err["code"] == "E159"
    assert (err["location"]["file"], err["location"]["line"]) == ("boards/pinned.sk", 6)
    assert err["message"] == f"--override-input buildroot: '{root}/no/such/dir' does not exist"


def test_an_override_without_equals_is_a_usage_error(tmp_path):
    root = prepare(tmp_path)
    result = cli(["build", PINNED, "--override-input", "buildroot", "--no-out-link"], cwd=root)
    assert result.code == 2
    assert "expected NAME=PATH, found 'buildroot'" in result.err


def test_an_override_naming_no_input_is_an_error(tmp_path):
    root = prepare(tmp_path)
    result = cli(["build", PINNED, "--override-input", "buildrot=mini-br", "--no-out-link", "--json"], cwd=root)
    assert result.code == 1
    assert [d["code"] for d in json_diagnostics(result.err)] == ["E159"]


# -- offline fetches ------------------------------------------------------------------------------


def test_an_unreachable_fetchgit_names_the_url_and_the_override(tmp_path):
    root = prepare(tmp_path)
    err = build_error(root, PINNED, "resolved")
    assert URL in err.message
    assert "cannot fetch" in err.message
    assert any("--override-input" in h for h in err.help)
    # nothing was registered for the fetch
    assert not any(p.name.endswith("-buildroot-fixture") for p in (root / "store").iterdir())


def test_the_offline_help_names_the_input_that_can_be_overridden(tmp_path):
    root = prepare(tmp_path)
    err = build_error(root, PINNED, "resolved")
    assert any("--override-input buildroot=" in h for h in err.help), err.help


def test_the_offline_message_says_what_went_wrong(tmp_path):
    root = prepare(tmp_path)
    err = build_error(root, PINNED, "resolved")
    assert "does not appear to be a git repository" in err.message, err.message


def test_a_failed_fetch_is_e158(tmp_path):
    root = prepare(tmp_path)
    assert build_error(root, PINNED, "resolved").code.code == "E158"


def test_an_unreachable_fetchurl_names_the_url_and_the_override(tmp_path):
    write(tmp_path, {"board.sk": f'fetchurl {{ url = "file:///nonexistent/skiffeval/src.tar.gz"; hash = "{ZERO_HASH}"; }}'})
    err = build_error(tmp_path, "board.sk")
    assert "cannot download 'file:///nonexistent/skiffeval/src.tar.gz'" in err.message
    assert any("--override-input" in h for h in err.help)


# -- SHA-256 checks --------------------------------------------------------------------------------


def test_fetchurl_checks_the_sha256_before_the_store(tmp_path):
    data = write(tmp_path, {"data.txt": "hello\n", "board.sk": '{ hash }: fetchurl { url = "file://${toString ./data.txt}"; inherit hash; }'})
    right = "sha256:" + hashlib.sha256(b"hello\n").hexdigest()
    result = cli(["build", "board.sk", "--argstr", "hash", ZERO_HASH, "--no-out-link", "--json"], cwd=data)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert err["code"] == "E113" and hashlib.sha256(b"hello\n").hexdigest() in err["message"]
    assert not [p for p in (tmp_path / "store").iterdir() if p.name.endswith("-data.txt")]
    result = cli(["build", "board.sk", "--argstr", "hash", right, "--print-out-paths", "--no-out-link"], cwd=data)
    assert result.code == 0, result.err
    assert open(result.out.strip()).read() == "hello\n"


@pytest.fixture
def git_buildroot(tmp_path):
    """The mini Buildroot tree as a git repository: (root, url, rev, tree hash)."""
    root = prepare(tmp_path)
    repo = root / "br.git"
    shutil.copytree(root / "mini-br", repo)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "mini"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)
    rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    write(root, {"git-board.sk": f"""
        {{ hash }}:
        system {{
          name = "git";
          buildroot = fetchgit {{ url = "file://{repo}"; rev = "{rev}"; inherit hash; }};
          layers = [ (import ./lib/fx/base.sk {{ }}) ];
        }}
    """})
    return root, repo, rev, tree_hash(root, root / "mini-br")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_fetchgit_checks_the_tree_hash_and_drops_dot_git(git_buildroot):
    root, repo, rev, pin = git_buildroot
    result = cli(["build", "git-board.sk", "-A", "resolved", "--argstr", "hash", ZERO_HASH, "--no-out-link", "--json"], cwd=root)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert err["code"] == "E113" and pin.removeprefix("sha256:") in err["message"]
    result = cli(["build", "git-board.sk", "-A", "resolved", "--argstr", "hash", pin, "--no-out-link"], cwd=root)
    assert result.code == 0, result.err
    [fetched] = [p for p in (root / "store").iterdir() if p.name.endswith("-br") and p.is_dir()]
    assert not (fetched / ".git").exists() and (fetched / "Config.in").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_override_with_the_same_tree_as_the_pin_does_not_warn(git_buildroot):
    root, repo, rev, pin = git_buildroot
    plain = root / "plain-copy"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    s, _ = build(root, "git-board.sk", "config", argstr={"hash": pin}, overrides=(("buildroot", str(plain)),))
    assert not s.warnings


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_override_with_a_git_checkout_at_the_pinned_commit_does_not_warn(git_buildroot):
    root, repo, rev, pin = git_buildroot
    s, _ = build(root, "git-board.sk", "config", argstr={"hash": pin}, overrides=(("buildroot", str(repo)),))
    assert not s.warnings, [w.message for w in s.warnings]
