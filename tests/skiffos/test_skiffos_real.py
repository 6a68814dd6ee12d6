"""Against a real SkiffOS checkout: skiffeval must give what SkiffOS's own scripts give.

Opt-in: set ``SKIFFEVAL_TEST_SKIFFOS`` to a SkiffOS checkout (else every test here is skipped).
Everything runs in a throwaway copy under pytest's tmp dir; the checkout is only read.

* Resolution: SkiffOS's ``scripts/enumerate_configs.sh`` is sourced in the copy for several
  ``SKIFF_CONFIG`` values and its ``SKIFF_CONFIG`` / ``SKIFF_CONFIG_PATH`` compared with ours.
* ``make configure``: needs a Buildroot tree, taken from the checkout's ``buildroot`` submodule,
  else ``SKIFFEVAL_TEST_BUILDROOT``, else a ``buildroot`` folder beside the checkout (skipped when
  none has a Makefile, or ``make`` is missing).  Every text it writes into
  ``workspaces/.config_<ws>/`` (except ``bind_env.sh``, a dump of the environment) is compared
  byte for byte with ``configure()``.  The fixture tree is run through SkiffOS's scripts the same
  way, which checks the edge cases (byte order, unanchored deletions, cflags, glued users …).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from skiffeval.skiffos.chain import load
from skiffeval.skiffos.codes import SkiffosError
from skiffeval.skiffos.configure import ConfigureParams, configure
from skiffeval.skiffos.discovery import discover
from skiffeval.skiffos.resolve import resolve

from skiffos_helpers import TREE

SKIFFOS = os.environ.get("SKIFFEVAL_TEST_SKIFFOS")
pytestmark = pytest.mark.skipif(not SKIFFOS, reason="SKIFFEVAL_TEST_SKIFFOS is not set")

COMBOS = ["virt/qemu", "pi/4,skiff/core", "skiff/core,apps/docker", "intel/desktop,core/fedora", "pine64/phone"]
FIXTURE_COMBOS = ["board/alpha,apps/top,cyc/a", "board/alpha,board/common", "BASE/CORE,base/core", "util/with/under"]
ENUMERATE = (
    'source ../scripts/utils.sh; source ../scripts/enumerate_configs.sh >/dev/null 2>&1; '
    'echo "$SKIFF_CONFIG"; echo "${SKIFF_CONFIG_PATH[*]}"'
)


def clean_env(**extra: str) -> dict[str, str]:
    # No TERM: SkiffOS's Makefile then exports TERM=xterm (with TERM=dumb, `tput smso` fails and
    # build_configs.sh stops under `set -e`).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    env.update(extra)
    return env


def buildroot_tree() -> str | None:
    assert SKIFFOS
    candidates = [os.path.join(SKIFFOS, "buildroot"), os.environ.get("SKIFFEVAL_TEST_BUILDROOT", ""),
                  os.path.join(os.path.dirname(os.path.abspath(SKIFFOS)), "buildroot")]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "Makefile")):
            return os.path.abspath(c)
    return None


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> str:
    dst = tmp_path_factory.mktemp("skiffos") / "skiffos"
    shutil.copytree(SKIFFOS, dst, symlinks=True, ignore=shutil.ignore_patterns("workspaces"))
    (dst / "workspaces").mkdir()
    return str(dst)


@pytest.fixture(scope="module")
def fixture_copy(tmp_path_factory, copy) -> str:
    """The fixture tree with SkiffOS's scripts (copied in the throwaway dir only)."""
    dst = tmp_path_factory.mktemp("fixture") / "tree"
    shutil.copytree(TREE, dst, symlinks=True)
    for part in ("scripts", "build", "resources", "Makefile"):
        src = os.path.join(copy, part)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst / part)
    (dst / "workspaces").mkdir()
    return str(dst)


def enumerate_with_skiffos(root: str, config: str) -> tuple[str, list[str]]:
    out = subprocess.run(["bash", "-c", ENUMERATE], cwd=os.path.join(root, "configs"),
                         env=clean_env(SKIFF_CONFIG=config), capture_output=True, text=True, check=True)
    names, paths = out.stdout.split("\n")[:2]
    return names, paths.split()


@pytest.mark.parametrize("config", COMBOS)
def test_resolution_matches_enumerate_configs(copy, config):
    names, paths = enumerate_with_skiffos(copy, config)
    chain = load(copy, config)
    assert chain.resolution.skiff_config == names
    assert [e.path for e in chain.packages] == paths


@pytest.mark.parametrize("config", FIXTURE_COMBOS)
def test_fixture_resolution_matches_enumerate_configs(fixture_copy, config):
    names, paths = enumerate_with_skiffos(fixture_copy, config)
    discovery = discover(fixture_copy)
    if config == "BASE/CORE,base/core":
        # SkiffOS merges the folder twice; skiffeval refuses (E263)
        assert (names, paths) == (config, [f"{fixture_copy}/configs/base/core"] * 2)
        with pytest.raises(SkiffosError) as info:
            resolve(config, discovery)
        assert info.value.code.code == "E263"
        return
    resolution = resolve(config, discovery)
    assert resolution.skiff_config == names
    assert [s.package.path for s in resolution.selected] == paths


def run_configure(root: str, jobs: dict[str, str]) -> None:
    """Run ``make configure`` for each workspace -> SKIFF_CONFIG, in parallel."""
    procs = {}
    for ws, config in jobs.items():
        log = open(os.path.join(root, f"configure-{ws}.log"), "w")
        procs[ws] = (subprocess.Popen(["make", "configure"], cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                      env=clean_env(SKIFF_CONFIG=config, SKIFF_WORKSPACE=ws)), log)
    for ws, (proc, log) in procs.items():
        rc = proc.wait(timeout=600)
        log.close()
        assert rc == 0, pathlib.Path(log.name).read_text()[-3000:]


def compare(root: str, config: str, ws: str) -> None:
    chain = load(root, config, workspace=ws)
    final = f"{root}/workspaces/.config_{chain.workspace}/"
    version = pathlib.Path(final, "skiff_version").read_text().strip()
    commit = "unknown"
    if os.path.isdir(os.path.join(root, ".git")):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True).stdout.strip() or "unknown"
    params = ConfigureParams.skiffos_defaults(root, chain.workspace, version=version, version_commit=commit)
    out = configure(chain, params)
    for rel, text in out.files().items():
        with open(final + rel, encoding="utf-8", errors="surrogateescape") as f:
            assert text == f.read(), f"{config}: {rel} differs"


@pytest.fixture(scope="module")
def configured(copy) -> str:
    br = buildroot_tree()
    if br is None or shutil.which("make") is None:
        pytest.skip("no Buildroot tree (or no make) for SkiffOS's make configure")
    link = os.path.join(copy, "buildroot")
    shutil.rmtree(link, ignore_errors=True)
    os.symlink(br, link)
    run_configure(copy, {f"t{i}": c for i, c in enumerate(COMBOS)})
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(COMBOS)))
def test_make_configure_output_matches(configured, index):
    compare(configured, COMBOS[index], f"t{index}")


@pytest.mark.slow
def test_make_configure_on_the_fixture_tree(fixture_copy):
    br = buildroot_tree()
    if br is None or shutil.which("make") is None:
        pytest.skip("no Buildroot tree (or no make) for SkiffOS's make configure")
    os.symlink(br, os.path.join(fixture_copy, "buildroot"))
    run_configure(fixture_copy, {"Dev": FIXTURE_COMBOS[0], "other": "board/alpha,board/common"})
    compare(fixture_copy, FIXTURE_COMBOS[0], "Dev")
    compare(fixture_copy, "board/alpha,board/common", "other")
