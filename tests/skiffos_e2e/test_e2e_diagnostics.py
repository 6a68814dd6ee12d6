"""SkiffOS's silent failures (BRIEF §5) surface through ``skiffeval skiffos resolve|configure``
with their code, location and exit status.

Each case: the tree, SKIFF_CONFIG, extra CLI arguments, the code, where it is reported
(a file relative to the tree, or SkiffOS's input variable), line, column, and a regex the message
(with its help lines) must match.  Errors exit 1 and write nothing; warnings exit 0.
"""

from __future__ import annotations

import json
import os
import re

import attrs
import pytest

from tests.skiffos_e2e.e2e_helpers import BROKEN, TREE, skiffeval


@attrs.frozen
class Case:
    id: str
    root: str
    config: str
    code: str
    file: str
    line: int
    col: int
    pattern: str
    args: tuple[str, ...] = ()
    read_files: bool = False  # found only when the package's files are read (configure, not resolve)

    @property
    def error(self) -> bool:
        return self.code.startswith("E")

    def where(self) -> str:
        path = self.file if self.file.isupper() else f"{self.root}/{self.file}"
        return f"{path}:{self.line}:{self.col}"


CASES = [
    # unknown package: an error naming the close matches
    Case("unknown", TREE, "board/alpah", "E261", "SKIFF_CONFIG", 1, 1,
         r"unknown package 'board/alpah'.*did you mean 'board/alpha'\?"),
    Case("unknown-second", TREE, "base/core,util/extar", "E261", "SKIFF_CONFIG", 1, 11,
         r"unknown package 'util/extar'.*did you mean 'util/extra', 'util/loner'\?"),
    Case("unknown-dependency", BROKEN, "bad/unknowndep", "E261", "configs/bad/unknowndep/metadata/dependencies", 1, 8,
         r"unknown package 'base/nope'"),
    # malformed dependencies: SkiffOS drops the whole package
    Case("multi-line-dependencies", BROKEN, "bad/multiline", "E262", "configs/bad/multiline/metadata/dependencies", 2, 1,
         r"malformed dependencies of 'bad/multiline'.*found a second line.*silently drops 'bad/multiline'"),
    Case("bad-character", BROKEN, "bad/badchar", "E262", "configs/bad/badchar/metadata/dependencies", 1, 7,
         r"found ';'"),
    Case("crlf", BROKEN, "bad/crlf", "E262", "configs/bad/crlf/metadata/dependencies", 1, 7,
         r"carriage return"),
    Case("invalid-dependency", BROKEN, "bad/invdep", "E262", "configs/bad/invdep/metadata/dependencies", 1, 9,
         r"invalid dependency 'x_y/z'"),
    # relative extra path: SkiffOS keeps the dependencies and loses the content
    Case("relative-extra-path", TREE, "extra/only", "E250", "SKIFF_EXTRA_CONFIGS_PATH", 1, 1,
         r"extra configs path 'extra' is relative.*use an absolute path", ("--extra-configs-path", "extra")),
    # invalid names: bash aborts, or SkiffOS silently ignores the entry
    Case("dash-in-name", BROKEN, "bad/my-pkg", "E260", "SKIFF_CONFIG", 1, 1,
         r"invalid package name 'bad/my-pkg'.*shell aborts"),
    Case("underscore-category", BROKEN, "my_cat/pkg", "E260", "SKIFF_CONFIG", 1, 1,
         r"invalid package name 'my_cat/pkg'.*silently ignores"),
    # the same folder twice
    Case("same-folder-twice", TREE, "BASE/CORE,base/core", "E263", "SKIFF_CONFIG", 1, 11,
         r"'base/core' selects the folder of 'BASE/CORE' a second time.*list the package once"),
    # broken buildroot_ext trees
    Case("external-missing-files", BROKEN, "bad/ext", "E270", "configs/bad/ext/buildroot_ext", 1, 1,
         r"external tree 'buildroot_ext' has no 'Config.in'"),
    Case("external-bad-name", BROKEN, "bad/extname", "E270", "configs/bad/extname/buildroot_ext/external.desc", 1, 1,
         r"expected letters, digits and '_', found 'my-ext'"),
    Case("external-duplicate-name", BROKEN, "dup/one,dup/two", "E271", "configs/dup/two/buildroot_ext/external.desc", 1, 1,
         r"external tree name 'DUP' of 'dup/two' is already used by 'dup/one'"),
    # other crashes of SkiffOS's scripts
    Case("folder-in-fragments", BROKEN, "bad/dirfrag", "E272", "configs/bad/dirfrag/buildroot/sub", 1, 1, r"is a folder"),
    Case("blank-in-file-name", BROKEN, "bad/spacename", "E252", "configs/bad/spacename/kernel/my frag", 1, 1, r"contains ' '"),
    Case("bad-command-name", BROKEN, "bad/badcmd", "E273", "configs/bad/badcmd/metadata/commands", 1, 1, r"'do.it'"),
    # surprising results: warnings
    Case("dependency-after-dependent", TREE, "apps/mid,apps/low", "W250", "SKIFF_CONFIG", 1, 10,
         r"'apps/low' is applied after 'apps/mid', which depends on it, so it overrides 'apps/mid'"),
    Case("inserted-after-dependent", TREE, "board/alpha,board/common", "W250", "configs/board/common/metadata/dependencies", 1, 1,
         r"'base/core' is applied after 'util/extra'.*inserted for 'board/common'"),
    Case("cycle", TREE, "cyc/a", "W251", "configs/cyc/b/metadata/dependencies", 1, 1, r"depend on each other"),
    Case("non-canonical-name", TREE, "util/with/under", "W252", "SKIFF_CONFIG", 1, 1, r"write 'util/with_under'"),
    Case("hook-not-executable", BROKEN, "bad/hooknox", "W257", "configs/bad/hooknox/hooks/pre.sh", 1, 1, r"not executable",
         read_files=True),
    Case("mistyped-entries", BROKEN, "bad/typo", "W256", "configs/bad/typo/hooks/pre-sh", 1, 1, r"never run",
         read_files=True),
]


def _run(case: Case, command: str, tmp_path, *extra: str):
    args = ["skiffos", command, "--root", case.root, "--config", case.config, *case.args, *extra]
    if command == "configure":
        args += ["--out", "out"]
    return skiffeval(args, tmp_path)


def _block(err: str, header: str) -> str:
    """The diagnostic starting with ``header`` and its indented lines, joined."""
    lines = err.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith((" ", "\t")):
            break
        block.append(line)
    return " ".join(block)


@pytest.mark.parametrize(("case", "command"), [(c, cmd) for c in CASES for cmd in ("resolve", "configure")
                                               if cmd == "configure" or not c.read_files],
                         ids=lambda x: x.id if isinstance(x, Case) else x)
def test_diagnostic_through_the_cli(case: Case, command: str, tmp_path):
    r = _run(case, command, tmp_path)
    severity = "error" if case.error else "warning"
    header = f"{case.where()}: {severity}[{case.code}]: "
    assert header in r.err, r.err
    assert re.search(case.pattern, _block(r.err, header)), _block(r.err, header)
    assert "Traceback" not in r.err
    if case.error:
        assert r.code == 1
        assert not (tmp_path / "out").exists()  # nothing half written
    else:
        assert r.code == 0, r.err
        if command == "configure":
            report = json.loads((tmp_path / "out" / "report.json").read_text())
            assert case.code in [d["code"] for d in report["diagnostics"]]


@pytest.mark.parametrize("case", [c for c in CASES if c.error], ids=lambda c: c.id)
def test_errors_as_json(case: Case, tmp_path):
    r = _run(case, "configure", tmp_path, "--json")
    assert r.code == 1
    diag = json.loads(r.err)["diagnostics"][0]
    assert (diag["code"], diag["severity"]) == (case.code, "error")
    loc = diag["location"]
    assert (loc["line"], loc["column"]) == (case.line, case.col)
    assert loc["file"] == (case.file if case.file.isupper() else os.path.join(case.root, case.file))
    assert diag["slug"] and diag["message"]


def test_warnings_as_json(tmp_path):
    r = skiffeval(["skiffos", "resolve", "--root", TREE, "--config", "apps/mid,apps/low", "--json"], tmp_path)
    assert r.code == 0
    assert json.loads(r.out)["packages"] == ["apps/mid", "apps/low"]
    diags = json.loads(r.err)["diagnostics"]
    assert [(d["code"], d["severity"]) for d in diags] == [("W250", "warning")]
    related = diags[0]["related"]
    assert [x["message"] for x in related] == ["'apps/mid' selected here", "'apps/mid' depends on 'apps/low' here"]


def test_empty_config(tmp_path):
    r = skiffeval(["skiffos", "resolve", "--root", TREE, "--config", " , "], tmp_path)
    assert r.code == 1 and "error[E264]" in r.err


def test_missing_root_is_a_usage_error(tmp_path):
    r = skiffeval(["skiffos", "resolve", "--root", str(tmp_path / "nope"), "--config", "a/b"], tmp_path)
    assert r.code == 2 and "does not exist" in r.err


def test_not_a_skiffos_tree(tmp_path):
    (tmp_path / "empty").mkdir()
    r = skiffeval(["skiffos", "resolve", "--root", str(tmp_path / "empty"), "--config", "a/b"], tmp_path)
    assert r.code == 1 and "error[E251]" in r.err and "Traceback" not in r.err
