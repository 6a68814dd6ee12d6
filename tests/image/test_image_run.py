"""``skiffeval run BOARD COMMAND [ARGS]`` and ``--list``: commands a native layer declares and
commands of a SkiffOS package (``metadata/commands`` + ``extensions/Makefile``), run with the
system's outputs in their environment."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from tests.buildroot.helpers import needs_make
from tests.image.helpers import MINI, SKIFFOS_TREE, board, build_dir, fill_dl, sk

pytestmark = needs_make

SHOW = """\
out=$1; shift
{ echo "args=$*"; echo "cwd=$(pwd)"
  for v in SKIFFEVAL_SYSTEM SKIFFEVAL_LAYER SKIFFEVAL_LAYER_DIR SKIFFEVAL_STORE SKIFFEVAL_BUNDLE SKIFFEVAL_CONFIG \\
           SKIFFEVAL_OVERLAY SKIFFEVAL_RESOLVED SKIFFEVAL_IMAGE SKIFFEVAL_IMAGES BUILDROOT_DIR; do
    eval "echo $v=\\${$v}"; done; } > "$out"
"""
COMMANDS = ('resources = ./res; commands = { show = { script = ./show.sh; description = "write the environment"; }; '
            'fail = "echo failing; exit 3"; };')


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.fixture
def native(tmp_path) -> Path:
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "table.txt").write_text("resource\n")
    (tmp_path / "show.sh").write_text(SHOW)
    board(tmp_path, extra=COMMANDS)
    fill_dl(tmp_path / "dl")
    return tmp_path


def test_list_names_the_commands_with_their_descriptions(native):
    r = sk(["run", "board.sk", "--list"], native)
    assert r.code == 0, r.err
    assert [line.rstrip() for line in r.out.splitlines()] == ["mini/board/fail", "mini/board/show  write the environment"]
    r = sk(["run", "board.sk", "--list", "--json"], native)
    assert json.loads(r.out) == [
        {"layer": "mini/board", "name": "fail", "description": ""},
        {"layer": "mini/board", "name": "show", "description": "write the environment"},
    ]
    # without a command, the list too
    assert sk(["run", "board.sk"], native).out == sk(["run", "board.sk", "--list"], native).out


def test_a_native_command_runs_with_its_arguments_and_the_systems_outputs(native):
    r = sk(["run", "board.sk", "show", "env.txt", "a", "b c"], native)
    assert r.code == 0, r.err
    env = read_env(native / "env.txt")
    store = native / "store"
    assert env["args"] == "a b c" and env["cwd"] == str(native)
    assert env["SKIFFEVAL_SYSTEM"] == "mini" and env["SKIFFEVAL_LAYER"] == "mini/board"
    assert env["SKIFFEVAL_STORE"] == str(store)
    assert (Path(env["SKIFFEVAL_LAYER_DIR"]) / "table.txt").read_text() == "resource\n"
    assert Path(env["SKIFFEVAL_BUNDLE"]).name.endswith("-mini-bundle")
    assert Path(env["SKIFFEVAL_CONFIG"]).name.endswith("-mini-config")
    assert (Path(env["SKIFFEVAL_OVERLAY"]) / "etc" / "motd").read_text() == "hello\n"
    assert env["BUILDROOT_DIR"] == str(build_dir(native))
    for name in ("SKIFFEVAL_BUNDLE", "SKIFFEVAL_CONFIG", "SKIFFEVAL_OVERLAY", "SKIFFEVAL_LAYER_DIR"):
        assert env[name].startswith(str(store) + "/")
    # no image was built: no image in the environment
    assert env["SKIFFEVAL_IMAGES"] == "" and env["SKIFFEVAL_IMAGE"] == ""


def test_after_an_image_build_the_images_are_in_the_environment(native):
    assert sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], native).code == 0
    r = sk(["run", "board.sk", "mini/board/show", "env.txt"], native)  # <layer>/<command> works too
    assert r.code == 0, r.err
    env = read_env(native / "env.txt")
    assert env["SKIFFEVAL_IMAGES"] == env["SKIFFEVAL_IMAGE"] + "/images"
    assert env["SKIFFEVAL_IMAGE"] == str((native / "result").resolve())
    with tarfile.open(Path(env["SKIFFEVAL_IMAGES"]) / "rootfs.tar") as tar:
        assert "./usr/bin/hello" in tar.getnames()
    assert (Path(env["SKIFFEVAL_RESOLVED"]) / "config").exists()
    assert (Path(env["BUILDROOT_DIR"]) / "images" / "rootfs.tar").exists()


def test_buildroot_dir_holds_the_images_of_the_systems_configuration(native):
    for greeting in ("a", "b", "a"):  # the last build is answered by the store: nothing runs make
        board(native, buildroot=f'BR2_PACKAGE_HELLO_GREETING = "{greeting}";', extra=COMMANDS)
        assert sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], native).code == 0
    r = sk(["run", "board.sk", "show", "env.txt"], native)
    assert r.code == 0
    assert "warning[W152]" in r.err and "another configuration's build" in r.err
    env = read_env(native / "env.txt")
    kept = Path(env["BUILDROOT_DIR"]) / "images" / "rootfs.tar"
    assert kept.read_bytes() == (Path(env["SKIFFEVAL_IMAGES"]) / "rootfs.tar").read_bytes()
    assert (Path(env["BUILDROOT_DIR"]) / ".config").read_bytes() == (Path(env["SKIFFEVAL_IMAGE"]) / "config").read_bytes()
    # built again there: the kept directory is the image's again, no warning
    board(native, buildroot='BR2_PACKAGE_HELLO_GREETING = "b";', extra=COMMANDS)
    assert sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], native).code == 0
    r = sk(["run", "board.sk", "show", "env.txt"], native)
    assert r.code == 0 and "W152" not in r.err
    assert read_env(native / "env.txt")["BUILDROOT_DIR"].endswith("/builds/mini")


def test_a_failing_command_is_an_error_at_its_definition(native):
    r = sk(["run", "board.sk", "fail"], native)
    assert r.code == 1
    assert "error[E164]: command 'mini/board/fail' failed with exit status 3" in r.err
    assert "board.sk:3:" in r.err  # where the command is declared


def test_an_unknown_command_says_did_you_mean(native):
    r = sk(["run", "board.sk", "shwo"], native)
    assert r.code == 1
    assert "error[E164]: no layer of 'mini' declares the command 'shwo'" in r.err
    assert "did you mean 'show'?" in r.err


def test_run_on_a_value_that_is_not_a_system(tmp_path):
    (tmp_path / "x.sk").write_text("{ a = 1; }\n")
    r = sk(["run", "x.sk", "--list"], tmp_path)
    assert r.code == 1 and "is not a system" in r.err


# -- SkiffOS package commands ------------------------------------------------------------------

@pytest.fixture
def skiffos(tmp_path) -> Path:
    (tmp_path / "sk.sk").write_text(f'skiffos {{ root = {SKIFFOS_TREE}; config = "mini/board"; buildroot = {MINI}; }}\n')
    fill_dl(tmp_path / "dl")
    return tmp_path


def test_skiffos_commands_are_listed(skiffos):
    r = sk(["run", "sk.sk", "--list", "--json"], skiffos)
    assert r.code == 0, r.err
    assert json.loads(r.out) == [
        {"layer": "mini/board", "name": "env", "description": "Write what a command sees."},
        {"layer": "mini/board", "name": "fail", "description": "Exit with status 4."},
    ]


def test_a_skiffos_command_runs_make_in_its_extensions_folder(skiffos):
    assert sk(["build", "sk.sk", "-A", "image", "--dl-dir", "dl"], skiffos).code == 0
    out = skiffos / "env.txt"
    r = sk(["run", "sk.sk", "env", f"OUT={out}"], skiffos)  # arguments go to make, as with SkiffOS
    assert r.code == 0, r.err
    env = read_env(out)
    conf_dir = Path(env["SKIFF_CURRENT_CONF_DIR"])
    assert env["cwd"] == str(conf_dir / "extensions")
    assert (conf_dir / "metadata" / "commands").exists()  # the package folder (its store copy)
    assert env["SKIFF_CONFIG"] == "mini/board" and env["SKIFFEVAL_LAYER"] == "mini/board"
    assert env["SKIFFEVAL_SYSTEM"] == "mini-board"
    assert env["BUILDROOT_DIR"] == str(build_dir(skiffos, "mini-board"))
    assert (Path(env["SKIFFEVAL_IMAGES"]) / "rootfs.tar").exists()
    assert env["SKIFFEVAL_BUNDLE"] and env["SKIFFEVAL_CONFIG"]


def test_a_failing_skiffos_command_points_at_metadata_commands(skiffos):
    r = sk(["run", "sk.sk", "fail"], skiffos)
    assert r.code == 1
    assert "command 'mini/board/fail' failed with exit status 2" in r.err  # make's status
    assert "metadata/commands:2:1" in r.err


def test_buildroot_dir_is_not_another_buildroot_trees_build_of_the_same_config(native):
    from tests.image.helpers import extra_buildroot

    first = extra_buildroot(native / "br1")
    second = extra_buildroot(native / "br2")
    recipe = second / "package" / "hello" / "hello.mk"
    recipe.write_text(recipe.read_text().replace(" says ", " said "))  # same .config, another image
    fill_dl(native / "dl", extra=True)
    for source in (first, second, first):  # the last build is answered by the store
        board(native, source=source, extra=COMMANDS)
        assert sk(["build", "board.sk", "-A", "image", "--dl-dir", "dl"], native).code == 0
    assert sk(["run", "board.sk", "show", "env.txt"], native).code == 0
    env = read_env(native / "env.txt")
    kept = Path(env["BUILDROOT_DIR"]) / "images" / "rootfs.tar"
    assert kept.read_bytes() == (Path(env["SKIFFEVAL_IMAGES"]) / "rootfs.tar").read_bytes()
