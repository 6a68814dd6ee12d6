"""``resolved``: the full ``.config``, the minimal defconfig and the provenance report, resolved
by kconfiglib against the fixture's Buildroot-shaped tree (``fixtures/mini-br``) and the
system's external trees (docs/layers.md, "resolved")."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

import skiffeval.builders.resolve as resolve_builder
from skiffeval.kconfig import Fragment, HostInfo, resolve_buildroot
from skiffeval.session import resolved_report
from tests.layers.helpers import build, build_error, cli, drv_named, json_diagnostics, output_of, prepare, write

BOARD = "boards/problems.sk"
STORE_PATH = re.compile(r"/\S*?/store/[0-9a-z]{26}-")


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    """``boards/problems.sk -A resolved``, built once: (root, session, outcome, out, report dir)."""
    root = prepare(tmp_path_factory.mktemp("resolved"))
    s, outcome = build(root, BOARD, "resolved")
    drv = drv_named(s, "problems-resolved")
    outs = outcome.result.outputs[drv.key]
    return root, s, outcome, pathlib.Path(s.store.real_path(outs["out"])), pathlib.Path(s.store.real_path(outs["report"]))


def lines_of(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        m = re.match(r"^(BR2_\w+)=(.*)$", line) or re.match(r"^# (BR2_\w+) is not set$", line)
        if m:
            values[m.group(1)] = m.group(2) if m.lastindex == 2 else "n"
    return values


def test_the_outputs(problems):
    _, _, _, out, report = problems
    assert sorted(p.name for p in out.iterdir()) == ["config", "defconfig"]
    assert sorted(p.name for p in report.iterdir()) == ["report.json", "report.txt"]


def test_the_full_config(problems):
    root, s, _, out, _ = problems
    config = (out / "config").read_text()
    assert config.startswith("#\n# Automatically generated file; DO NOT EDIT.\n# Buildroot 2026.02-fixture Configuration\n#\n")
    values = lines_of(config)
    assert values["BR2_TARGET_GENERIC_HOSTNAME"] == '"problems"'  # the last layer wins over the base defconfig
    assert values["BR2_INIT_NONE"] == "y" and values["BR2_INIT_SYSTEMD"] == "n"  # the last =y of a choice wins
    assert values["BR2_PACKAGE_HTOP"] == "y" and values["BR2_PACKAGE_NCURSES"] == "y"  # selected
    assert "BR2_PACKAGE_FOO" not in values  # its dependency is not met: not even written
    assert values["BR2_PACKAGE_FXTOOL"] == "y"  # a symbol of fx/base's external tree
    assert values["BR2_EXTERNAL_NAMES"] == '"FXBASE"'
    assert values["BR2_TARGET_OPTIMIZATION"] == '"-O2 -pipe -fno-plt"'
    assert values["BR2_LINUX_KERNEL"] == "y" and values["BR2_TARGET_UBOOT"] == "y"  # from the base defconfig


def test_list_variables_keep_the_base_and_kconfig_values_first(problems):
    _, s, _, out, _ = problems
    values = lines_of((out / "config").read_text())
    store = str(s.store.root)

    def words(symbol):
        return values[symbol].strip('"').split()

    # the base defconfig's value first ...
    assert words("BR2_GLOBAL_PATCH_DIR")[0] == "board/mini/patches"
    assert [w.rsplit("/", 1)[-1] for w in words("BR2_GLOBAL_PATCH_DIR")[1:]] == ["00-fx-base", "01-fx-app"]
    assert words("BR2_ROOTFS_POST_BUILD_SCRIPT")[0] == "board/mini/post-build.sh"
    assert words("BR2_ROOTFS_POST_BUILD_SCRIPT")[1].endswith("-problems-hooks/post-build.sh")
    # ... or Kconfig's default, then what the layers gave, then what skiffeval generated
    assert words("BR2_ROOTFS_DEVICE_TABLE")[0] == "system/device_table.txt"
    assert words("BR2_ROOTFS_DEVICE_TABLE")[1].endswith("-problems-overlay-permissions")
    assert words("BR2_ROOTFS_OVERLAY")[0] == "board/app/overlay"
    assert words("BR2_ROOTFS_OVERLAY")[1].startswith(store) and words("BR2_ROOTFS_OVERLAY")[1].endswith("-problems-overlay")
    for symbol in ("BR2_LINUX_KERNEL_PATCH", "BR2_TARGET_UBOOT_PATCH", "BR2_ROOTFS_USERS_TABLES",
                   "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES",
                   "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES", "BR2_ROOTFS_POST_IMAGE_SCRIPT"):
        assert [w.startswith(store) for w in words(symbol)] == [True], symbol


def test_the_minimal_defconfig(problems):
    root, s, _, out, _ = problems
    minimal = (out / "defconfig").read_text()
    assert "BR2_DEFCONFIG=" not in minimal  # as make savedefconfig writes it
    assert STORE_PATH.sub("STORE/", minimal).splitlines()[:5] == [
        'BR2_GLOBAL_PATCH_DIR="board/mini/patches STORE/problems-patches/buildroot/00-fx-base STORE/problems-patches/buildroot/01-fx-app"',
        'BR2_TARGET_OPTIMIZATION="-O2 -pipe -fno-plt"',
        'BR2_TARGET_GENERIC_HOSTNAME="problems"',
        'BR2_TARGET_GENERIC_ISSUE="Welcome to the fixture"',
        "BR2_INIT_NONE=y",
    ]
    # the minimal defconfig alone gives the same .config (but for the BR2_DEFCONFIG line)
    external = lines_of((out / "config").read_text())["BR2_EXTERNAL_FXBASE_PATH"].strip('"')
    again = resolve_buildroot(
        str(root / "mini-br"), externals=[external],
        defconfig=Fragment(minimal, "defconfig", "defconfig"), host=HostInfo(**{
            "arch": s.host_info()["arch"], "gcc_version": s.host_info()["gcc_version"]}),
    )

    def comparable(text):
        return [line for line in text.splitlines() if not line.startswith("BR2_DEFCONFIG=")]

    assert comparable(again.config) == comparable((out / "config").read_text())


def test_the_report_says_who_set_a_symbol_and_who_won(problems):
    root, s, outcome, _, _ = problems
    drv = drv_named(s, "problems-resolved")
    report = resolved_report(s, drv, outcome.result.outputs[drv.key])
    [hostname] = [x for x in report["symbols"] if x["symbol"] == "BR2_TARGET_GENERIC_HOSTNAME"]
    who = [(st["layer"], st["location"]["file"], st["location"]["line"], st["value"]) for st in hostname["settings"]]
    assert [w[0] for w in who] == ["defconfig", "fx/base", "fx/app", "fx/problems"]
    assert who[0][1].endswith("/configs/mini_defconfig") and who[0][3] == '"mini"'
    # file labels are shown as the paths a person can open (relative to the working directory)
    assert who[1:] == [
        ("fx/base", "lib/fx/base.sk", 9, '"fixture"'),
        ("fx/app", "lib/fx/app/buildroot.conf", 2, '"app"'),
        ("fx/problems", "lib/fx/problems/buildroot.conf", 4, '"problems"'),
    ]
    assert hostname["winner"] == 3 and hostname["status"] == "took-effect"
    assert report["summary"]["set_more_than_once"] == 4


def test_the_report_says_why_a_value_did_not_take_effect(problems):
    root, s, outcome, _, _ = problems
    drv = drv_named(s, "problems-resolved")
    report = resolved_report(s, drv, outcome.result.outputs[drv.key])
    by_symbol = {x["symbol"]: x for x in report["symbols"]}
    assert (by_symbol["BR2_PACKAGE_FOO"]["status"], by_symbol["BR2_PACKAGE_FOO"]["reason"]) == ("not-taken", "unmet-dependency")
    assert by_symbol["BR2_PACKAGE_FOO"]["blockers"] == [{"symbol": "BR2_PACKAGE_BAR", "value": "n"}]
    assert (by_symbol["BR2_INIT_SYSTEMD"]["status"], by_symbol["BR2_INIT_SYSTEMD"]["reason"]) == ("not-taken", "choice-superseded")
    assert by_symbol["BR2_PACKAGE_HTOPP"]["status"] == "unknown"
    warnings = [(d["code"], d["location"]["file"], d["location"]["line"], d["message"], d["help"])
                for d in report["diagnostics"] if d["severity"] == "warning"]
    assert [w[:3] for w in warnings] == [
        ("W211", "lib/fx/problems/buildroot.conf", 2),
        ("W210", "lib/fx/problems/buildroot.conf", 3),
        ("W212", "lib/fx/problems/buildroot.conf", 5),
    ]
    assert "depends on 'BR2_PACKAGE_BAR' (BR2_PACKAGE_BAR=n)" in warnings[0][3]
    assert "did you mean 'BR2_PACKAGE_HTOP'" in warnings[1][4][0]
    assert "'BR2_INIT_NONE' is the selected member of the same choice" in warnings[2][3]


def test_the_text_report(problems):
    _, _, _, _, report = problems
    text = (report / "report.txt").read_text()
    assert text.splitlines()[0] == (
        "24 symbols set by 6 fragments: 21 took effect, 2 did not, 0 ignored, 1 unknown; 4 set more than once; 0 errors, 3 warnings")
    assert "fx/problems:problems/buildroot.conf:2:1: warning[W211]" in text


def test_the_text_report_says_who_won(problems):
    _, _, _, _, report = problems
    text = (report / "report.txt").read_text()
    assert "'BR2_TARGET_GENERIC_HOSTNAME' is set 4 times" in text


def test_the_command_line_prints_the_summary_and_the_diagnostics(tmp_path):
    root = prepare(tmp_path)
    result = cli(["build", BOARD, "-A", "resolved", "--no-out-link", "--no-color"], cwd=root)
    assert result.code == 0, result.err
    err = result.err
    assert re.search(
        r"^resolved: 24 symbols set by 6 fragments: 21 took effect, 2 did not, 1 unknown, 4 set more than once "
        r"\(0 errors, 3 warnings\); full report: .*/store/[0-9a-z]{26}-problems-resolved-report/report.txt$", err, re.M)
    # each diagnostic at the fragment file and line that asked for it, with the line quoted
    assert "lib/fx/problems/buildroot.conf:2:1: warning[W211]: 'BR2_PACKAGE_FOO' was set to y but is n" in err
    assert " 2 | BR2_PACKAGE_FOO=y" in err
    assert "lib/fx/problems/buildroot.conf:3:1: warning[W210]: 'BR2_PACKAGE_HTOPP' is not a symbol of this configuration" in err
    assert "= help: did you mean 'BR2_PACKAGE_HTOP'" in err
    assert "lib/fx/problems/buildroot.conf:5:1: warning[W212]" in err
    assert "= 'BR2_INIT_NONE' set here (lib/fx/problems/buildroot.conf:6:1)" in err
    assert re.search(r"^resolved: /.*-problems-resolved$", err, re.M)


def test_an_inline_value_is_reported_at_its_attribute(tmp_path):
    root = prepare(tmp_path)
    write(root, {"board2.sk": """
        system {
          name = "inline";
          buildroot = ./mini-br;
          layers = [ (layer { name = "i/i"; buildroot = [ { BR2_PACKAGE_FOO = true; } ]; }) ];
        }
    """})
    result = cli(["build", "board2.sk", "-A", "resolved", "--no-out-link", "--no-color"], cwd=root)
    assert result.code == 0, result.err
    assert "board2.sk:5:61: warning[W211]: 'BR2_PACKAGE_FOO' was set to y but is n" in result.err


def test_a_second_build_does_not_run_kconfig(tmp_path, monkeypatch):
    root = prepare(tmp_path)
    s1, o1 = build(root, BOARD, "resolved")
    assert "problems-resolved" in {s1.table.by_key[k].name for k in o1.result.built}

    def no_kconfig(*args, **kwargs):
        raise AssertionError("kconfig ran again")

    monkeypatch.setattr(resolve_builder, "resolve_buildroot", no_kconfig)
    monkeypatch.setattr(resolve_builder, "read_buildroot_source", no_kconfig)
    s2, o2 = build(root, BOARD, "resolved")
    assert not o2.result.built and not o2.result.cutoff
    assert output_of(s2, o2, "resolved") == output_of(s1, o1, "resolved")
    # and the command line says so
    result = cli(["build", BOARD, "-A", "resolved", "--no-out-link"], cwd=root)
    assert result.code == 0 and "built" not in result.err.split("resolved:")[0]


def test_a_base_defconfig_that_does_not_exist(tmp_path):
    root = prepare(tmp_path)
    write(root, {"board2.sk": """
        system { name = "nodef"; buildroot = ./mini-br; layers = [ (layer { name = "d/d"; defconfig = "mini_x86"; }) ]; }
    """})
    result = cli(["build", "board2.sk", "-A", "resolved", "--no-out-link", "--json"], cwd=root)
    assert result.code == 1
    [err] = [d for d in json_diagnostics(result.err)]
    assert err["code"] == "E235"
    assert "defconfig 'mini_x86_defconfig' is in none of the configs/ directories" in err["message"]
    assert any("did you mean 'mini_defconfig'" in h for h in err["help"])


def test_a_buildroot_source_that_is_not_one(tmp_path):
    root = prepare(tmp_path)
    write(root, {"notbr/README": "not Buildroot\n", "board2.sk": """
        system { name = "notbr"; buildroot = ./notbr; layers = [ ]; }
    """})
    result = cli(["build", "board2.sk", "-A", "resolved", "--no-out-link", "--json"], cwd=root)
    assert result.code == 1
    [err] = json_diagnostics(result.err)
    assert err["code"] == "E231" and "expected a Buildroot source tree with 'Config.in' and 'Makefile'" in err["message"]


def test_the_buildroot_source_from_the_command_line(tmp_path):
    # a system without 'buildroot' gets one with --override-input (no warning: nothing pinned)
    root = prepare(tmp_path)
    write(root, {"board2.sk": 'system { name = "ov"; layers = [ (import ./lib/fx/base.sk { }) ]; }'})
    s, outcome = build(root, "board2.sk", "resolved", overrides=(("buildroot", "mini-br"),))
    assert not s.warnings
    assert 'BR2_TARGET_GENERIC_HOSTNAME="fixture"' in (output_of(s, outcome, "resolved") / "config").read_text()


def test_resolved_depends_on_the_buildroot_tree(tmp_path):
    root = prepare(tmp_path)
    s1, o1 = build(root, BOARD, "resolved")
    config = root / "mini-br/Config.in"
    config.write_text(config.read_text().replace('default "buildroot"', 'default "changed"'))
    s2, o2 = build(root, BOARD, "resolved")
    assert drv_named(s1, "problems-resolved").key != drv_named(s2, "problems-resolved").key
    assert "problems-resolved" in {s2.table.by_key[k].name for k in o2.result.built}


def test_a_base_defconfig_from_an_external_tree(tmp_path):
    root = prepare(tmp_path)
    write(root, {
        "lib/ext/tree/external.desc": "name: EXTDEF\n",
        "lib/ext/tree/Config.in": "",
        "lib/ext/tree/external.mk": "",
        "lib/ext/tree/configs/board_defconfig": 'BR2_aarch64=y\nBR2_TARGET_GENERIC_HOSTNAME="from-external"\n',
        "board2.sk": """
            system { name = "extdef"; buildroot = ./mini-br;
                     layers = [ (layer { name = "ext/def"; external = [ ./lib/ext/tree ]; defconfig = "board"; root = ./lib; }) ]; }
        """,
    })
    s, outcome = build(root, "board2.sk", "resolved")
    values = lines_of((output_of(s, outcome, "resolved") / "config").read_text())
    assert values["BR2_aarch64"] == "y"
    assert values["BR2_TARGET_GENERIC_HOSTNAME"] == '"from-external"'
    assert values["BR2_DEFCONFIG"].endswith('-external/00-ext-def/configs/board_defconfig"')


def test_a_text_fragment_line_is_reported_at_its_own_line(tmp_path):
    root = prepare(tmp_path)
    write(root, {"board2.sk": """system {
  name = "text";
  buildroot = ./mini-br;
  layers = [ (layer { name = "t/t"; buildroot = [ ''
    BR2_PACKAGE_HTOP=y
    BR2_PACKAGE_FOO=y
  '' ]; }) ];
}
"""})
    s, outcome = build(root, "board2.sk", "resolved")
    drv = drv_named(s, "text-resolved")
    report = resolved_report(s, drv, outcome.result.outputs[drv.key])
    [w211] = [d for d in report["diagnostics"] if d["code"] == "W211"]
    assert (w211["location"]["file"], w211["location"]["line"]) == ("board2.sk", 6)


def test_a_one_line_text_fragment_is_reported_at_its_column(tmp_path):
    root = prepare(tmp_path)
    write(root, {"board3.sk": """system {
  name = "text";
  buildroot = ./mini-br;
  layers = [ (layer { name = "t/t";
    buildroot = [ "BR2_PACKAGE_HTOP=y\\nBR2_PACKAGE_FOO=y" ]; }) ];
}
"""})
    s, outcome = build(root, "board3.sk", "resolved")
    drv = drv_named(s, "text-resolved")
    report = resolved_report(s, drv, outcome.result.outputs[drv.key])
    [w211] = [d for d in report["diagnostics"] if d["code"] == "W211"]
    # the string is one source line: its lines are found in it, FOO after HTOP
    assert (w211["location"]["file"], w211["location"]["line"]) == ("board3.sk", 5)
    assert w211["location"]["column"] > len('    buildroot = [ "BR2_PACKAGE_HTOP=y')


def test_a_dependency_loop_is_reported_at_the_checkout_files_not_the_store_copies(tmp_path):
    """Kconfig files are read from store copies (the Buildroot tree's Kconfig view, the layers'
    external trees); the report shown names the files the user has (W221 across both)."""
    root = prepare(tmp_path)
    with open(root / "mini-br/Config.in", "a") as f:
        f.write('\nconfig BR2_LOOP_A\n\tbool "a"\n\tdepends on BR2_PACKAGE_LOOP_B\n')
    with open(root / "lib/fx/base/external/Config.in", "a") as f:
        f.write('\nconfig BR2_PACKAGE_LOOP_B\n\tbool "b"\n\tdepends on BR2_LOOP_A\n')
    s, outcome = build(root, BOARD, "resolved")
    drv = drv_named(s, "problems-resolved")
    report = resolved_report(s, drv, outcome.result.outputs[drv.key])
    [loop] = [d for d in report["diagnostics"] if d["code"] == "W221"]
    assert "BR2_LOOP_A" in loop["message"] and "BR2_PACKAGE_LOOP_B" in loop["message"]
    places = [(loop["location"]["file"], loop["location"]["line"])]
    places += [(n["location"]["file"], n["location"]["line"]) for n in loop["related"]]
    mini_lines = (root / "mini-br/Config.in").read_text().splitlines()
    ext_lines = (root / "lib/fx/base/external/Config.in").read_text().splitlines()
    assert sorted(places) == sorted([
        ("lib/fx/base/external/Config.in", ext_lines.index("config BR2_PACKAGE_LOOP_B") + 1),
        ("mini-br/Config.in", mini_lines.index("config BR2_LOOP_A") + 1),
    ])
    # the report in the store keeps the store copies: it is the same for every checkout
    stored = json.loads((pathlib.Path(s.store.real_path(outcome.result.outputs[drv.key]["report"])) / "report.json").read_text())
    [kept] = [d for d in stored["diagnostics"] if d["code"] == "W221"]
    assert STORE_PATH.match(kept["location"]["file"])


@pytest.mark.parametrize("tree", ["mini-br/Config.in", "lib/fx/base/external/Config.in"])
def test_a_kconfig_syntax_error_is_located_in_the_checkout(tmp_path, tree):
    """The resolution parses store copies; the error names the user's file and line (it used
    to lose its place: the build failure kept only the store's path, and no span)."""
    root = prepare(tmp_path)
    with open(root / tree, "a") as f:
        f.write('\nconfig BR2_BROKEN\n\tbool "b"\n\tdepends on (\n')
    exc = build_error(root, BOARD, "resolved")
    assert exc.code.code == "E230"
    assert (exc.span.file, exc.span.line) == (tree, len((root / tree).read_text().splitlines()))
    assert "cannot parse the Kconfig tree 'mini-br/Config.in': couldn't parse 'depends on ('" in exc.message
    assert "/store/" not in exc.message


def _instantiate(root: pathlib.Path, *attrs_: str):
    """Evaluate ``BOARD``'s ``attrs_`` (nothing built): the session."""
    from skiffeval.session import BuildRequest
    from tests.layers.helpers import session

    s = session(root)
    s.instantiate(BuildRequest(BOARD, attrs_, {}))
    return s


def _view_source(s, drv) -> pathlib.Path:
    """The Buildroot source a derivation reads: its one input source named like the tree."""
    [sp] = [sp for sp in drv.input_srcs.values() if "mini-br" in sp.name]
    return pathlib.Path(s.store.real_path(sp))


def test_resolved_reads_only_the_kconfig_view_of_a_local_tree(tmp_path):
    """``resolved`` takes the ``Config.*`` files, ``Makefile`` and ``configs/`` of a local
    Buildroot tree (its Kconfig view): a change anywhere else does not change it, while
    ``show_info`` and ``image`` take the whole tree."""
    root = prepare(tmp_path)
    write(root, {
        "mini-br/package/foo/Config.in": "",  # not sourced: in the view all the same
        "mini-br/package/foo/foo.mk": "FOO_VERSION = 1\n",
        "mini-br/board/x/readme.txt": "x\n",
    })
    s1 = _instantiate(root, "resolved", "show_info", "image")
    resolved1, show1 = drv_named(s1, "problems-resolved"), drv_named(s1, "problems-show-info")
    view = _view_source(s1, resolved1)
    assert view.name.endswith("-mini-br-kconfig")
    files = sorted(str(p.relative_to(view)) for p in view.rglob("*") if not p.is_dir())
    assert files == ["Config.in", "Makefile", "configs/mini_arm_defconfig", "configs/mini_defconfig", "package/foo/Config.in"]
    whole = _view_source(s1, show1)
    assert (whole / "package/foo/foo.mk").is_file() and (whole / "board/x/readme.txt").is_file()
    # a change outside the view: the same resolved, another show_info
    (root / "mini-br/package/foo/foo.mk").write_text("FOO_VERSION = 2\n")
    s2 = _instantiate(root, "resolved", "show_info")
    assert drv_named(s2, "problems-resolved").key == resolved1.key
    assert drv_named(s2, "problems-show-info").key != show1.key
    # a file that joins the view (a new Config.* file): another resolved
    write(root, {"mini-br/package/foo/Config.in.host": ""})
    s3 = _instantiate(root, "resolved")
    assert drv_named(s3, "problems-resolved").key != resolved1.key


def test_a_base_defconfig_named_by_its_path_in_the_tree_is_in_the_view(tmp_path):
    root = prepare(tmp_path)
    write(root, {
        "mini-br/board/acme/acme_defconfig": 'BR2_TARGET_GENERIC_HOSTNAME="acme"\n',
        "board2.sk": """
            system { name = "bypath"; buildroot = ./mini-br;
                     layers = [ (layer { name = "b/p"; defconfig = "board/acme/acme_defconfig"; }) ]; }
        """,
    })
    s, outcome = build(root, "board2.sk", "resolved")
    view = _view_source(s, drv_named(s, "bypath-resolved"))
    assert (view / "board/acme/acme_defconfig").is_file() and not (view / "board/acme/other").exists()
    values = lines_of((output_of(s, outcome, "resolved") / "config").read_text())
    assert values["BR2_TARGET_GENERIC_HOSTNAME"] == '"acme"'
