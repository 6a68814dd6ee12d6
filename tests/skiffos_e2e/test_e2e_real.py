"""End to end against a real SkiffOS checkout and a real Buildroot: SkiffOS's own
``make configure`` and ``skiffeval skiffos configure --buildroot`` on the same combinations.

Opt-in: ``SKIFFEVAL_TEST_SKIFFOS`` names a SkiffOS checkout and ``SKIFFEVAL_TEST_BUILDROOT`` a
Buildroot tree (else the checkout's ``buildroot`` submodule); skipped without them or ``make``.
Everything runs in a throwaway copy; the checkout is only read.

How SkiffOS is made to run offline (as in ``tests/skiffos/test_skiffos_real.py``): the copy's
``buildroot`` submodule is a symbolic link to the Buildroot tree (``ensure_submodule.sh`` then
does not call git), the environment is cleared (no ``TERM``: SkiffOS's Makefile sets
``TERM=xterm``; ``TERM=dumb`` would make ``tput`` fail), and each combination gets its own
workspace ``t<i>``, configured in parallel.  The copy keeps ``.git``: both take the version
placeholders from ``git describe``.

The one expected difference: ``BR2_EXTERNAL_<NAME>_VERSION`` in ``final/buildroot``, which
Buildroot's ``setlocalversion`` takes from git — SkiffOS's external trees are in the checkout,
skiffeval's are store copies without git, so skiffeval's is empty.

Compared, after ``e2e_helpers.normalize*`` (checkout and workspace paths versus store paths):

* every file SkiffOS writes into ``workspaces/.config_<ws>/`` that skiffeval also writes (all but
  ``bind_env.sh``), byte for byte;
* ``final/buildroot`` — the ``.config`` of Buildroot's ``make defconfig`` that ``build_configs.sh``
  moves there — assignment by assignment (kconfiglib and Buildroot's conf differ in comments).

The combinations are six chosen ones (``COMBOS``); ``SKIFFEVAL_TEST_SKIFFOS_CONFIGS`` gives
others, separated by ``;`` (all are configured by SkiffOS at once, in parallel).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import pytest

from skiffeval.skiffos import load

from tests.skiffos_e2e.e2e_helpers import (
    CONFIG_FILES,
    assignments,
    diff_assignments,
    entry_tokens,
    normalize_skiffeval,
    normalize_skiffos,
    read,
    skiffeval,
    stored_names,
)

SKIFFOS = os.environ.get("SKIFFEVAL_TEST_SKIFFOS")
pytestmark = [pytest.mark.skipif(not SKIFFOS, reason="SKIFFEVAL_TEST_SKIFFOS is not set"), pytest.mark.slow]

# ``SKIFFEVAL_TEST_SKIFFOS_CONFIGS`` replaces these with its own, separated by ';' (a sweep over
# every board of a checkout, say), each a SKIFF_CONFIG value
COMBOS = [c.strip() for c in os.environ.get("SKIFFEVAL_TEST_SKIFFOS_CONFIGS", "").split(";") if c.strip()] or [
    "virt/qemu", "pi/4,skiff/core", "skiff/core,apps/docker", "intel/desktop,core/fedora", "pine64/phone",
    "pi/4,util/argon1"]  # (the last has a Kconfig dependency loop: docs/kconfig.md, "Dependency loops")


def buildroot_tree() -> str | None:
    assert SKIFFOS
    for c in (os.environ.get("SKIFFEVAL_TEST_BUILDROOT", ""), os.path.join(SKIFFOS, "buildroot")):
        if c and os.path.isfile(os.path.join(c, "Makefile")):
            return os.path.realpath(c)
    return None


def clean_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def buildroot() -> str:
    br = buildroot_tree()
    if br is None or shutil.which("make") is None:
        pytest.skip("no Buildroot tree (SKIFFEVAL_TEST_BUILDROOT) or no make")
    return br


@pytest.fixture(scope="module")
def configured(tmp_path_factory, buildroot) -> pathlib.Path:
    """A copy of the checkout with every combination configured by SkiffOS (workspace t<i>)."""
    root = tmp_path_factory.mktemp("real") / "skiffos"
    top = os.path.realpath(SKIFFOS)

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n in ("workspaces", "buildroot")] if os.path.realpath(folder) == top else []

    shutil.copytree(SKIFFOS, root, symlinks=True, ignore=ignore)
    (root / "workspaces").mkdir()
    os.symlink(buildroot, root / "buildroot")
    procs = []
    for i, config in enumerate(COMBOS):
        log = open(root / f"configure-t{i}.log", "w")
        procs.append((subprocess.Popen(["make", "configure"], cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                       env=clean_env(SKIFF_CONFIG=config, SKIFF_WORKSPACE=f"t{i}")), log))
    for proc, log in procs:
        rc = proc.wait(timeout=900)
        log.close()
        assert rc == 0, pathlib.Path(log.name).read_text()[-3000:]
    return root


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("store")


def _skiffeval_configure(root: pathlib.Path, store: pathlib.Path, buildroot: str, index: int) -> pathlib.Path:
    out = store.parent / f"out-t{index}"
    r = skiffeval(["skiffos", "configure", "--root", str(root), "--config", COMBOS[index], "--workspace", f"t{index}",
                   "--buildroot", buildroot, "--out", str(out), "-q"], store.parent, store=str(store))
    assert r.code == 0, r.err[-3000:]
    return out


@pytest.mark.parametrize("index", range(len(COMBOS)), ids=COMBOS)
def test_same_configuration_as_skiffos(configured, store, buildroot, index):
    config, ws = COMBOS[index], f"t{index}"
    out = _skiffeval_configure(configured, store, buildroot, index)
    chain = load(str(configured), config, workspace=ws)
    entries = [(e.name, e.path) for e in chain.entries]
    bases = [os.path.basename(path.rstrip("/")) for _, path in entries]
    present = [p for _, p in entries if os.path.isdir(p)]
    stored = stored_names(present, store.parent, str(store)) if len(set(bases)) < len(bases) else None
    tokens = entry_tokens(entries, stored)
    final = configured / "workspaces" / f".config_{ws}"

    def theirs(rel: str) -> str:
        return normalize_skiffos(read(final / rel), str(configured), ws, entries)

    def ours(rel: str) -> str:
        return normalize_skiffeval(read(out / rel), str(store), tokens)

    assert ours("skiff_config") == theirs("skiff_config") == chain.resolution.skiff_config + "\n"
    for rel in CONFIG_FILES:
        assert ours(rel) == theirs(rel), f"{config}: {rel} differs"
    expected, got = assignments(theirs("final/buildroot")), assignments(ours("final/buildroot"))
    assert len(expected) > 1000  # a whole .config
    for symbol in [k for k in expected if re.fullmatch(r"BR2_EXTERNAL_\w+_VERSION", k)]:
        assert got.pop(symbol) == '""', symbol  # store copies have no git (see the module docstring)
        expected.pop(symbol)
    differences = diff_assignments(expected, got)
    assert differences == [], f"{config}: final/buildroot differs:\n" + "\n".join(differences)
    print(f"{config}: {len(CONFIG_FILES)} files equal, final/buildroot: {len(expected)} assignments equal")
