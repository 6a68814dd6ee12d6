"""The engine: parse cache, resetting between resolutions, environment and recursion limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.kconfig import codes
from skiffeval.kconfig.buildroot import resolve_buildroot
from skiffeval.kconfig.engine import TreeSpec, clear_cache, parse_count, parse_tree
from skiffeval.kconfig.fragment import Fragment
from skiffeval.kconfig.resolve import resolve
from tests.kconfig.helpers import BASIC, FIXTURES, HOST, MINI

A = [Fragment("CONFIG_DEBUG=y\nCONFIG_WIFI=m\nCONFIG_BOOT_EMMC=y\nCONFIG_HOSTNAME=\"a\"\n", "a.conf", "a")]
B = [Fragment("CONFIG_CRYPTO=m\n# CONFIG_NET is not set\nCONFIG_LOG_LEVEL=2\n", "b.conf", "b")]


def test_parsed_once_per_spec():
    clear_cache()
    spec = TreeSpec("Kconfig", BASIC)
    before = parse_count()
    first = resolve(spec, A)
    second = resolve(spec, B)
    assert parse_count() == before + 1
    assert first.parse_seconds > 0 and second.parse_seconds == 0
    assert parse_tree(spec) is parse_tree(TreeSpec("Kconfig", BASIC))


def test_second_resolution_equals_a_fresh_parse():
    spec = TreeSpec("Kconfig", BASIC)
    resolve(spec, A)  # leaves user values and a choice selection behind
    cached = resolve(spec, B)
    clear_cache()
    fresh = resolve(spec, B)
    assert cached == fresh
    assert cached.report.to_json() == fresh.report.to_json()


def test_second_resolution_equals_a_fresh_process():
    """The cached tree after another resolution gives what a new Python process gives."""
    externals = [str(FIXTURES / "external-a")]
    resolve_buildroot(MINI, externals=externals, defconfig="mini_arm_nommu_defconfig",
                      fragments=[Fragment("BR2_PACKAGE_OLDFOO=y\nBR2_INIT_NONE=y\n", "x.conf")], host=HOST)
    frag = Fragment("BR2_PACKAGE_SKIFF_HELLO=y\n# BR2_PACKAGE_BUSYBOX is not set\n", "y.conf", "y")
    here = resolve_buildroot(MINI, externals=externals, defconfig="mini_x86_64_defconfig", fragments=[frag], host=HOST)
    program = textwrap.dedent(f"""
        import json
        from skiffeval.kconfig.buildroot import HostInfo, resolve_buildroot
        from skiffeval.kconfig.fragment import Fragment
        r = resolve_buildroot({MINI!r}, externals={externals!r}, defconfig="mini_x86_64_defconfig",
                              fragments=[Fragment({frag.text!r}, "y.conf", "y")], host=HostInfo("x86_64", "12"))
        print(json.dumps([r.config, r.defconfig, r.report.to_json()]))
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    config, defconfig, report = json.loads(out.stdout)
    assert (config, defconfig) == (here.config, here.defconfig)
    assert report == json.loads(json.dumps(here.report.to_json()))


def test_late_environment_changes_without_reparse():
    clear_cache()
    count = parse_count()
    a = resolve_buildroot(MINI, defconfig="mini_x86_64_defconfig", defconfig_path="/first/defconfig", host=HOST)
    b = resolve_buildroot(MINI, defconfig="mini_x86_64_defconfig", defconfig_path="/second/defconfig", host=HOST)
    c = resolve_buildroot(MINI, defconfig="mini_x86_64_defconfig", defconfig_path="", host=HOST)
    assert parse_count() == count + 1
    assert 'BR2_DEFCONFIG="/first/defconfig"' in a.config.splitlines()
    assert 'BR2_DEFCONFIG="/second/defconfig"' in b.config.splitlines()
    assert 'BR2_DEFCONFIG="$(CONFIG_DIR)/defconfig"' in c.config.splitlines()
    assert 'BR2_ROOTFS_POST_SCRIPT_ARGS="$(BR2_DEFCONFIG)"' in c.config.splitlines()
    clear_cache()
    assert resolve_buildroot(MINI, defconfig="mini_x86_64_defconfig", defconfig_path="/second/defconfig",
                             host=HOST) == b


def test_environment_is_controlled_and_restored(monkeypatch):
    monkeypatch.setenv("HOSTARCH", "sparc")
    monkeypatch.setenv("BR2_DEFCONFIG", "/leaked")
    monkeypatch.setenv("CONFIG_", "LEAK_")
    before = dict(os.environ)
    clear_cache()
    result = resolve_buildroot(MINI, defconfig="mini_x86_64_defconfig", host=HOST)
    assert dict(os.environ) == before
    values = result.values()
    assert values["BR2_TOOLCHAIN_EXTERNAL_BOOTLIN"] == "y"  # depends on BR2_HOSTARCH = "x86_64"
    assert not values["BR2_DEFCONFIG"].startswith('"/leaked')


def test_recursion_limit_is_restored():
    limit = sys.getrecursionlimit()
    clear_cache()
    resolve(TreeSpec("Kconfig", BASIC), A)
    assert sys.getrecursionlimit() == limit


def test_macros_stay_literal():
    values = resolve(TreeSpec("Kconfig", BASIC, env=(("TOPDIR", "/expanded"),)), []).values()
    assert values["DL_DIR"] == '"$(TOPDIR)/dl"'


def test_concurrent_resolutions_of_one_tree():
    spec = TreeSpec("Kconfig", BASIC)
    expected = {id(f): resolve(spec, f).config for f in (A, B)}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda f: (id(f), resolve(spec, f).config), [A, B] * 8))
    assert all(config == expected[key] for key, config in results)


@pytest.mark.parametrize(
    "files,line,message",
    [
        ({"Kconfig": "config A\n\tbool \"a\"\nfoo bar\n"}, 3, "couldn't parse 'foo bar'"),
        ({"Kconfig": "config A\n\tbool \"a\"\nsource \"missing/Kconfig\"\n"}, 3, "'missing/Kconfig' not found"),
        ({"Kconfig": "source \"sub/Kconfig\"\n", "sub/Kconfig": "config B\n\tbool\n\tdepends on (B\n"}, 3, ""),
    ],
)
def test_parse_errors_are_located(tmp_path, files, line, message):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    with pytest.raises(SkiffError) as info:
        resolve(TreeSpec("Kconfig", str(tmp_path)), [])
    err = info.value
    assert err.code is codes.KCONFIG_PARSE
    assert err.span is not None and err.span.line == line
    assert os.path.isabs(err.span.file) and os.path.exists(err.span.file)
    assert message in err.message
    assert err.message.startswith("cannot parse the Kconfig tree")


def test_missing_top_kconfig(tmp_path):
    with pytest.raises(SkiffError) as info:
        resolve(TreeSpec("Kconfig", str(tmp_path)), [])
    assert info.value.code is codes.KCONFIG_PARSE


def test_concurrent_first_use_parses_once():
    clear_cache()
    count = parse_count()
    spec = TreeSpec("Kconfig", BASIC)
    with ThreadPoolExecutor(4) as pool:
        trees = list(pool.map(lambda _: parse_tree(spec), range(8)))
    assert parse_count() == count + 1
    assert all(t is trees[0] for t in trees)
