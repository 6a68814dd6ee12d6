"""Resolution and provenance report cases (cases/report.txt), each also checked against C conf."""

from __future__ import annotations

import json
import os
import re

import pytest

from skiffeval.diagnostics import Severity
from skiffeval.kconfig.br2external import read_external
from skiffeval.kconfig.buildroot import read_buildroot_source, resolve_buildroot
from skiffeval.kconfig.engine import TreeSpec
from skiffeval.kconfig.fragment import Fragment
from skiffeval.kconfig.resolve import resolve
from tests.kconfig.helpers import (
    BASIC,
    CASES,
    FIXTURES,
    HOST,
    KCONFIG_CONF,
    MINI,
    read_cases,
    run_conf,
    run_conf_buildroot,
)

REPORT_CASES = read_cases(CASES / "report.txt")


def _resolve_case(case):
    base = None
    fragments = []
    for f in case.fragments:
        frag = Fragment(f.text, f.file, f.layer)
        if f.base:
            base = frag
        else:
            fragments.append(frag)
    tree = case.one("tree")
    if tree == "basic":
        return resolve(TreeSpec("Kconfig", BASIC), fragments, base=base), base, fragments
    assert tree == "buildroot-mini", tree
    externals = [str(FIXTURES / name) for name in (case.one("externals") or "").split()]
    defconfig = case.one("defconfig")
    result = resolve_buildroot(MINI, externals=externals, defconfig=defconfig if defconfig else base,
                               fragments=fragments, host=HOST)
    return result, base, fragments


@pytest.mark.parametrize("case", REPORT_CASES, ids=[c.name for c in REPORT_CASES])
def test_report_case(case):
    result, _, _ = _resolve_case(case)
    with_info = "info" in case.directives

    got = sorted(
        (d.span.file, d.span.line, d.code.code, d.message)
        for d in result.diagnostics
        if with_info or d.severity is not Severity.INFO
    )
    want = sorted((f.file, line, code, regex) for f in case.fragments for line, code, regex in f.expected)
    assert [g[:3] for g in got] == [w[:3] for w in want], "\n" + result.report.to_text(info=True)
    for (_, _, _, message), (_, _, _, regex) in zip(got, want):
        if regex is not None:
            assert re.search(regex, message), f"{message!r} does not match {regex!r}"

    values = result.values()
    for spec in case.directives.get("expect", []):
        name, _, value = spec.partition("=")
        if value == "absent":
            assert name not in values
        else:
            assert values.get(name) == value, f"{name}: {values.get(name)!r} != {value!r}"
    for spec in case.directives.get("status", []):
        name, status, *reason = spec.split()
        entry = result.report.symbol(name)
        assert entry is not None and entry.status == status, entry
        if reason:
            assert entry.reason == reason[0]


@pytest.mark.skipif(KCONFIG_CONF is None, reason="kconfig-conf (kconfig-frontends-nox) is not installed")
@pytest.mark.parametrize("case", REPORT_CASES, ids=[c.name for c in REPORT_CASES])
def test_case_matches_c_conf(case):
    result, base, fragments = _resolve_case(case)
    parts = ([base] if base else []) + fragments
    if case.one("tree") == "basic":
        text = "".join(p.text if p.text.endswith("\n") or not p.text else p.text + "\n" for p in parts)
        config, minimal = run_conf(BASIC, "Kconfig", text)
    else:
        source = read_buildroot_source(MINI)
        externals = [read_external(str(FIXTURES / n)) for n in (case.one("externals") or "").split()]
        defconfig_path = ""
        if case.one("defconfig"):
            defconfig_path = os.path.join(MINI, "configs", case.one("defconfig"))
            with open(defconfig_path) as f:
                parts = [Fragment(f.read())] + parts
        text = "".join(p.text if p.text.endswith("\n") or not p.text else p.text + "\n" for p in parts)
        config, minimal = run_conf_buildroot(source, externals, text, defconfig_path)
    assert result.config == config
    assert result.defconfig == minimal


def test_report_json_is_stable_and_sorted():
    case = next(c for c in REPORT_CASES if c.name == "the later member of a choice wins")
    result, _, _ = _resolve_case(case)
    doc = result.report.to_json()
    assert doc["version"] == 1
    assert [s["symbol"] for s in doc["symbols"]] == sorted(s["symbol"] for s in doc["symbols"])
    text = json.dumps(doc, sort_keys=True)
    again, _, _ = _resolve_case(case)
    assert json.dumps(again.report.to_json(), sort_keys=True) == text
    emmc = next(s for s in doc["symbols"] if s["symbol"] == "BOOT_EMMC")
    assert emmc == {
        "symbol": "BOOT_EMMC",
        "type": "bool",
        "status": "not-taken",
        "requested": "y",
        "final": "n",
        "reason": "choice-superseded",
        "blockers": [{"symbol": "BOOT_SD", "value": "y"}],
        "winner": 0,
        "settings": [
            {
                "layer": "board",
                "location": {"file": "board.conf", "line": 1, "column": 1, "end_line": 1, "end_column": 18},
                "value": "y",
                "accepted": True,
                "problem": None,
            }
        ],
    }
    assert doc["summary"] == {
        "fragments": 2, "symbols": 2, "took_effect": 1, "not_taken": 1, "ignored": 0, "unknown": 0,
        "set_more_than_once": 0, "errors": 0, "warnings": 1,
    }
    (diag,) = doc["diagnostics"]
    assert diag["code"] == "W212" and diag["related"][0]["location"]["file"] == "override.conf"


def test_report_text_form():
    case = next(c for c in REPORT_CASES if c.name == "unmet dependency with two symbols")
    result, _, _ = _resolve_case(case)
    lines = result.report.to_text().splitlines()
    assert lines[0] == (
        "6 symbols set by 2 fragments: 5 took effect, 1 did not, 0 ignored, 0 unknown; "
        "0 set more than once; 0 errors, 1 warnings"
    )
    assert lines[1:] == [
        "board.conf:1:1: warning[W211]: 'BR2_PACKAGE_FOO' was set to y but is n: "
        "depends on 'BR2_USE_MMU && BR2_PACKAGE_BAR' (BR2_PACKAGE_BAR=n)"
    ]


def test_did_you_mean_in_help_and_text():
    result = resolve(TreeSpec("Kconfig", BASIC), [Fragment("CONFIG_NETT=y\nCONFIG_debug=y\n", "a.conf")])
    helps = [d.help for d in result.diagnostics]
    assert helps == [("did you mean 'NET'?",), ("did you mean 'DEBUG'?",)]
    assert "a.conf:1:1: warning[W210]: 'NETT' is not a symbol of this configuration; did you mean 'NET'?" in (
        result.report.to_text()
    )
