"""The driver against the real Buildroot: ``make defconfig`` and ``make savedefconfig`` outputs.

Needs a Buildroot checkout in ``SKIFFEVAL_TEST_BUILDROOT`` (skipped without), ``make`` and a
host ``gcc``.  Every test runs Buildroot's own make on a throwaway ``O=`` directory (offline,
about a second) and compares its output byte for byte with the in-process resolution.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from skiffeval.diagnostics import Severity
from skiffeval.kconfig.buildroot import detect_host, read_buildroot_source, resolve_buildroot
from skiffeval.kconfig.engine import parse_count
from skiffeval.kconfig.fragment import Fragment
from tests.kconfig.helpers import FIXTURES

BUILDROOT = os.environ.get("SKIFFEVAL_TEST_BUILDROOT")
pytestmark = [
    pytest.mark.skipif(not BUILDROOT, reason="SKIFFEVAL_TEST_BUILDROOT is not set"),
    pytest.mark.skipif(not (shutil.which("make") and shutil.which("gcc")), reason="needs make and gcc"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def source():
    return read_buildroot_source(BUILDROOT)


@pytest.fixture(scope="module")
def host(source):
    return detect_host(max_version=source.hostcc_max_version)


def make(out, *args):
    """Run Buildroot's make with ``O=out`` and a clean environment."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(out), "LC_ALL": "C"}
    subprocess.run(["make", "-s", "-C", BUILDROOT, f"O={out}", *args], env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def conf_binary(tmp_path_factory):
    """An output directory in which make has built Buildroot's ``conf`` once (tests copy it)."""
    seed = tmp_path_factory.mktemp("seed")
    make(seed, "defconfig", f"BR2_DEFCONFIG={BUILDROOT}/configs/qemu_x86_64_defconfig")
    return seed / "build"


def make_defconfig(tmp_path, conf_binary, defconfig, externals=(), savedefconfig_by_make=False):
    """``.config`` from ``make defconfig``, and the minimal config from ``savedefconfig``.

    ``make savedefconfig`` parses every package's makefile (about 8 s), so unless asked, the
    minimal config comes from the same ``conf`` binary run as the Makefile runs it, with the
    environment of ``COMMON_CONFIG_ENV``; the environment itself is what the ``.config``
    comparison through make checks.
    """
    out = tmp_path / "make"
    out.mkdir()
    shutil.copytree(conf_binary, out / "build", symlinks=True)
    args = ["defconfig", f"BR2_DEFCONFIG={defconfig}"]
    if externals:
        args.append("BR2_EXTERNAL=" + ":".join(externals))
    make(out, *args)
    if savedefconfig_by_make:
        make(out, "savedefconfig", f"BR2_DEFCONFIG={out}/defconfig")
    else:
        exported = {}
        for line in (out / ".br2-external.mk").read_text().splitlines():
            if line.startswith("export "):
                name, _, value = line[len("export "):].partition(" = ")
                exported[name] = value
        source = read_buildroot_source(BUILDROOT)
        host = detect_host(max_version=source.hostcc_max_version)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "BR2_DEFCONFIG": f"{out}/defconfig",
            "BR2_CONFIG": f"{out}/.config", "HOST_GCC_VERSION": host.gcc_version, "BASE_DIR": str(out),
            "SKIP_LEGACY": "", "BR2_VERSION_FULL": source.version_full, "BR2_VERSION": source.version,
            "HOSTARCH": host.arch, "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "n", "LC_ALL": "C", **exported,
        }
        subprocess.run([str(out / "build/buildroot-config/conf"), f"--savedefconfig={out}/defconfig", "Config.in"],
                       cwd=BUILDROOT, env=env, check=True, capture_output=True)
        text = (out / "defconfig").read_text()
        (out / "defconfig").write_text("".join(l for l in text.splitlines(True) if not l.startswith("BR2_DEFCONFIG=")))
    return (out / ".config").read_text(), (out / "defconfig").read_text()


@pytest.mark.parametrize("name", ["qemu_x86_64_defconfig", "raspberrypi4_64_defconfig"])
def test_upstream_defconfig(tmp_path, conf_binary, source, host, name):
    by_make = name == "raspberrypi4_64_defconfig"
    config, minimal = make_defconfig(tmp_path, conf_binary, os.path.join(BUILDROOT, "configs", name),
                                     savedefconfig_by_make=by_make)
    result = resolve_buildroot(source, defconfig=name, host=host)
    assert result.config == config
    assert result.defconfig == minimal
    assert result.report.errors == ()


def test_cached_tree_is_reset_between_resolutions(source, host):
    count = parse_count()
    first = resolve_buildroot(source, defconfig="raspberrypi4_64_defconfig", host=host)
    resolve_buildroot(source, defconfig="qemu_x86_64_defconfig",
                      fragments=[Fragment("BR2_PACKAGE_HTOP=y\nBR2_INIT_SYSTEMD=y\n", "x.conf")], host=host)
    again = resolve_buildroot(source, defconfig="raspberrypi4_64_defconfig", host=host)
    assert again == first
    assert parse_count() <= count + 1


SKIFF_CORE = """\
BR2_PACKAGE_HTOP=y
# BR2_PACKAGE_NCURSES is not set
BR2_TARGET_GENERIC_HOSTNAME="skiff"
BR2_PACKAGE_SKIFF_HELLO=y
BR2_PACKAGE_SKIFF_HELLO_GREETING="hey \\"you\\""
BR2_PACKAGE_HTPO=y
BR2_ROOTFS_OVERLAY="/a /b"
BR2_INIT_SYSTEMD=y
BR2_JLEVEL=nope
"""
# no final newline: must not be glued to anything
OVERRIDES = 'BR2_TARGET_GENERIC_HOSTNAME="garage"\nBR2_PACKAGE_DROPBEAR=y'


@pytest.mark.parametrize("name", ["qemu_x86_64_defconfig", "raspberrypi4_64_defconfig"])
def test_fragments_and_an_external_tree(tmp_path, conf_binary, source, host, name):
    ext = tmp_path / "external-a"  # a copy outside any git work tree: its version is ""
    shutil.copytree(FIXTURES / "external-a", ext)
    with open(os.path.join(BUILDROOT, "configs", name)) as f:
        base = f.read()
    merged = tmp_path / "merged_defconfig"
    merged.write_text(base + SKIFF_CORE + OVERRIDES + "\n")
    config, minimal = make_defconfig(tmp_path, conf_binary, str(merged), [str(ext)])

    fragments = [Fragment(SKIFF_CORE, "skiff/core/buildroot/core", "skiff/core"),
                 Fragment(OVERRIDES, "overrides/buildroot/host", "overrides")]
    result = resolve_buildroot(source, externals=[str(ext)], defconfig=name, fragments=fragments,
                               host=host, defconfig_path=str(merged))
    assert result.config == config
    assert result.defconfig == minimal

    found = {(d.span.file, d.span.line, d.code.code) for d in result.diagnostics if d.severity is not Severity.INFO}
    core = "skiff/core/buildroot/core"
    assert (core, 2, "W213") in found  # ncurses is selected by htop
    assert (core, 6, "W210") in found  # misspelt htop
    assert (core, 9, "E210") in found  # an int that is not one
    assert ("overrides/buildroot/host", 1, "W220") not in found  # an override across files is info
    values = result.values()
    assert values["BR2_TARGET_GENERIC_HOSTNAME"] == '"garage"'
    assert values["BR2_PACKAGE_DROPBEAR"] == "y"
    assert values["BR2_EXTERNAL_SKIFF_A_PATH"] == f'"{ext}"'
    hostname = result.report.symbol("BR2_TARGET_GENERIC_HOSTNAME")
    assert [s.layer for s in hostname.settings] == ["skiff/core", "overrides"]
    assert hostname.winner == 1


def test_the_kconfig_view_holds_every_file_a_parse_reads(source, host):
    """``kconfig_view_files`` (what ``resolved`` takes of a local Buildroot tree) holds every
    Kconfig file kconfiglib reads from the real tree, and the defconfigs."""
    from skiffeval.kconfig.buildroot import buildroot_spec, kconfig_view_files
    from skiffeval.kconfig.engine import parse_tree

    view = set(kconfig_view_files(BUILDROOT))
    tree = parse_tree(buildroot_spec(source, [], host))
    read = {os.path.relpath(os.path.join(BUILDROOT, f), BUILDROOT) for f in tree.kconf.kconfig_filenames}
    in_tree = {f for f in read if not f.startswith("..") and not os.path.isabs(f)}
    assert len(in_tree) > 1000 and in_tree <= view, sorted(in_tree - view)[:10]
    assert "Makefile" in view and "configs/qemu_x86_64_defconfig" in view
    assert not any(f.endswith(".mk") for f in view)
