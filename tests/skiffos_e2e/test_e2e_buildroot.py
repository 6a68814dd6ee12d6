"""``skiffeval skiffos configure --buildroot``: ``final/buildroot`` and the provenance report, on
the fixture tree and the Buildroot-shaped Kconfig fixture (``tests/kconfig/fixtures/buildroot-mini``).

``final/buildroot`` is what Buildroot's ``make defconfig BR2_DEFCONFIG=<buildroot/config>
BR2_EXTERNAL=<trees>`` makes; the oracle here is the C ``conf`` (Debian's kconfig-conf, as in
``tests/kconfig``) run on the ``buildroot/config`` skiffeval wrote, with the same external tree.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from skiffeval.kconfig import detect_host
from skiffeval.kconfig.br2external import read_external
from skiffeval.kconfig.buildroot import read_buildroot_source

from tests.kconfig.helpers import needs_conf, run_conf_buildroot
from tests.skiffos_e2e.e2e_helpers import BROKEN, MINI_BUILDROOT, TREE, assignments, diff_assignments, read, skiffeval

CONFIG = "board/alpha,apps/top,cyc/a"


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    d = tmp_path_factory.mktemp("buildroot")
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", CONFIG, "--workspace", "Dev",
                   "--buildroot", MINI_BUILDROOT, "--out", "out"], d)
    assert r.code == 0, r.err
    return d, r


def test_final_buildroot_is_written(configured):
    d, r = configured
    final = read(d / "out" / "final" / "buildroot")
    assert final.startswith("#\n# Automatically generated file; DO NOT EDIT.\n# Buildroot 2099.02-mini Configuration\n")
    values = assignments(final)
    assert values["BR2_x86_64"] == "y"
    assert values["BR2_PACKAGE_HTOP"] is None  # y in configs-base/pre, n in overrides/: the override wins
    assert values["BR2_TARGET_OPTIMIZATION"] == '"-mcpu=fixture -O2  -pipe"'
    assert values["BR2_TARGET_GENERIC_HOSTNAME"] == '"fixture"'
    assert values["BR2_EXTERNAL_NAMES"] == '"FIXTURE_ALPHA"'
    ext = values["BR2_EXTERNAL_FIXTURE_ALPHA_PATH"].strip('"')
    assert ext.startswith(os.path.realpath(d / "store") + "/") and ext.endswith("-alpha/buildroot_ext")
    assert values["BR2_DEFCONFIG"].strip('"').endswith("-configure/buildroot/config")
    assert "final/buildroot: " in r.err and "full report: " in r.err


@needs_conf
def test_final_buildroot_equals_what_conf_makes_of_buildroot_config(configured):
    d, _ = configured
    final = assignments(read(d / "out" / "final" / "buildroot"))
    source = read_buildroot_source(MINI_BUILDROOT)
    host = detect_host(max_version=source.hostcc_max_version)
    ext = read_external(final["BR2_EXTERNAL_FIXTURE_ALPHA_PATH"].strip('"'))
    expected, _ = run_conf_buildroot(source, [ext], read(d / "out" / "buildroot" / "config"),
                                     defconfig_path=final["BR2_DEFCONFIG"].strip('"'), host=host)
    assert diff_assignments(assignments(expected), final) == []


def test_report_has_the_provenance_of_every_symbol(configured):
    d, _ = configured
    report = json.loads((d / "out" / "report.json").read_text())
    assert {"diagnostics", "summary", "symbols", "version"} <= set(report)
    symbols = {s["symbol"]: s for s in report["symbols"]}
    htop = symbols["BR2_PACKAGE_HTOP"]
    assert [(os.path.relpath(s["location"]["file"], TREE), s["location"]["line"], s["value"], s["layer"])
            for s in htop["settings"]] == [
        ("configs-base/pre/buildroot/10-common", 1, "y", "configs-base/pre"),
        ("overrides/buildroot/local", 2, "n", "overrides"),
    ]
    assert htop["winner"] == 1
    codes = [x["code"] for x in report["diagnostics"]]
    # the reader's warnings first, then kconfig's
    assert codes[:5] == ["W251", "W259", "W258", "W262", "W260"]
    assert {"W210", "W220", "W211"} <= set(codes[5:])


def test_kconfig_diagnostics_point_at_skiffos_files(configured):
    d, r = configured
    report = json.loads((d / "out" / "report.json").read_text())
    twice = next(x for x in report["diagnostics"] if x["code"] == "W220")
    assert (twice["location"]["file"], twice["location"]["line"]) == (f"{TREE}/overrides/buildroot/local", 2)
    assert twice["message"].startswith("'BR2_PACKAGE_HTOP' is set 2 times")
    unknown = f"{TREE}/configs/base/core/buildroot/core:1:1: warning[W210]: 'BR2_PACKAGE_ORDER' is not a symbol"
    assert unknown in r.err
    assert "did you mean 'BR2_PACKAGE_FOO'" in r.err


def test_json_lists_final_buildroot(tmp_path):
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "base/core", "--buildroot", MINI_BUILDROOT,
                   "--out", "o", "--json"], tmp_path)
    assert r.code == 0, r.err
    assert "final/buildroot" in json.loads(r.out)["files"]


def test_warm_run_is_identical(configured):
    d, _ = configured
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", CONFIG, "--workspace", "Dev",
                   "--buildroot", MINI_BUILDROOT, "--out", "again"], d)
    assert r.code == 0 and "built" not in r.err
    for rel in ("final/buildroot", "buildroot/config", "report.json"):
        assert read(d / "again" / rel) == read(d / "out" / rel), rel


def test_not_a_buildroot_tree(tmp_path):
    (tmp_path / "br").mkdir()
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "base/core", "--buildroot", str(tmp_path / "br"),
                   "--out", "o"], tmp_path)
    assert r.code == 1 and "error[E231]" in r.err and "Traceback" not in r.err


def test_each_warning_is_printed_once(configured):
    _, r = configured
    assert r.err.count("warning[W251]") == 1


def test_generated_lines_are_not_given_to_the_post_config(tmp_path):
    r = skiffeval(["skiffos", "configure", "--root", BROKEN, "--config", "bad/optim", "--buildroot", MINI_BUILDROOT,
                   "--out", "o"], tmp_path)
    assert r.code == 0, r.err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    post = f"{BROKEN}/configs-base/post/buildroot/config"
    lines = len(read(post).splitlines())
    for sym in report["symbols"]:
        for s in sym["settings"]:
            loc = s["location"]
            assert not (loc["file"] == post and loc["line"] > lines), (sym["symbol"], loc)
    # SkiffOS appends BR2_CCACHE_DIR and the cflags' BR2_TARGET_OPTIMIZATION after the last
    # fragment: they are a generated part of their own, not lines of configs-base/post
    optim = next(s for s in report["symbols"] if s["symbol"] == "BR2_TARGET_OPTIMIZATION")
    winner = optim["settings"][optim["winner"]]
    assert (winner["value"], winner["location"]["file"]) == ('"-O3 "', "(generated by SkiffOS's configure)")
    assert [s["location"]["file"] for s in optim["settings"]] == [
        f"{BROKEN}/configs/bad/optim/buildroot/opt", "(generated by SkiffOS's configure)"]


def test_concurrent_configures_share_one_store(tmp_path):
    """Three processes configure the same tree into one empty store at once: each succeeds, the
    results are identical and the store verifies."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    args = [sys.executable, "-m", "skiffeval", "skiffos", "configure", "--root", TREE, "--config", CONFIG,
            "--buildroot", MINI_BUILDROOT, "--store", "store", "-q"]
    procs = [subprocess.Popen([*args, "--out", f"o{i}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    for i in (1, 2):
        for rel in ("final/buildroot", "buildroot/config", "report.json"):
            assert read(tmp_path / f"o{i}" / rel) == read(tmp_path / "o0" / rel)
    r = skiffeval(["store", "verify"], tmp_path)
    assert r.code == 0 and "0 problems" in (r.out + r.err), r.out + r.err


def test_json_stderr_is_one_document(tmp_path):
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", CONFIG, "--buildroot", MINI_BUILDROOT,
                   "--out", "o", "--json"], tmp_path)
    assert r.code == 0
    json.loads(r.out)
    diags = json.loads(r.err)["diagnostics"]
    assert {"W251", "W210"} <= {d["code"] for d in diags}


def test_no_stale_final_buildroot(tmp_path):
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "base/core", "--buildroot", MINI_BUILDROOT,
                   "--out", "o"], tmp_path)
    assert r.code == 0
    r = skiffeval(["skiffos", "configure", "--root", TREE, "--config", "board/alpha", "--out", "o"], tmp_path)
    assert r.code == 0
    assert not (tmp_path / "o" / "final" / "buildroot").exists()


def _served_from_cache(cwd: pathlib.Path, args: list[str]) -> bool:
    """Run ``args`` in a new process: whether the evaluation cache answered it (no evaluator,
    kconfig or SkiffOS reader imported)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from skiffeval.cli import main\n"
        "try:\n"
        f"    code = main({args!r})\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = [m for m in sys.modules if m.startswith(('skiffeval.kconfig', 'skiffeval.skiffos', 'skiffeval.eval'))]\n"
        "print('probe', code, bool(heavy), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120)
    last = r.stderr.rstrip("\n").split("\n")[-1]
    assert last.startswith("probe 0 "), r.stderr
    return last == "probe 0 False"


def test_a_warm_run_checks_only_the_kconfig_view_of_the_buildroot_tree(tmp_path):
    """With ``--buildroot``, what the configuration read of the Buildroot tree is its Kconfig
    view: a file outside it edited in place keeps the warm run warm; a ``Config.in`` edited
    makes it evaluate and resolve again."""
    import shutil
    import time

    br = tmp_path / "br"
    shutil.copytree(MINI_BUILDROOT, br, symlinks=True)
    (br / "package" / "extra").mkdir(parents=True, exist_ok=True)
    (br / "package" / "extra" / "extra.mk").write_text("EXTRA_VERSION = 1\n")
    time.sleep(0.1)  # out of the racy window: a tree recorded right after a change is not trusted
    args = ["skiffos", "configure", "--root", TREE, "--config", "base/core", "--buildroot", str(br), "--out", "o"]
    r = skiffeval(args, tmp_path)
    assert r.code == 0, r.err
    assert _served_from_cache(tmp_path, args)
    with open(br / "package" / "extra" / "extra.mk", "a") as f:  # in place: its folder is unchanged
        f.write("EXTRA_SITE = nowhere\n")
    assert _served_from_cache(tmp_path, args)
    config = br / "Config.in"
    config.write_text(config.read_text().replace("Buildroot", "Buildroot (edited)", 1))
    assert not _served_from_cache(tmp_path, args)
    assert _served_from_cache(tmp_path, args)
