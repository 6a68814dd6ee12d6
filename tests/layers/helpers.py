"""Helpers of the layer tests: fixture copies, sessions with a private store, builds, and the
chunked error-case files (``cases/*.txt``).

Every test works on a copy of ``fixtures/`` in its own temporary directory, with its own store
(``<copy>/store``): nothing a test writes reaches the repository or another test.  ``prepare``
adds to the copy what git cannot keep — file modes other than the executable bit, and symlinks
that point outside the tree.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
from typing import Any

import attrs

from skiffeval.diagnostics import SkiffError
from skiffeval.session import ArgValue, BuildRequest, Session, SessionOptions
from tests.cli.runner import Result, run

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
CASES = HERE / "cases"
ZERO_HASH = "sha256:" + "0" * 64


def prepare(tmp_path: pathlib.Path, name: str = "tree") -> pathlib.Path:
    """A copy of ``fixtures/`` at ``tmp_path/name`` with the special modes and symlinks."""
    root = tmp_path / name
    shutil.copytree(FIXTURES, root, symlinks=True)
    normalize_modes(root)
    overlay = root / "lib/fx/base/overlay"
    (overlay / "var/lib/private/state").chmod(0o600)
    (overlay / "var/lib/private").chmod(0o700)
    (overlay / "etc/issue").chmod(0o4755)
    os.symlink("/etc/passwd", overlay / "etc/passwd-link")  # absolute, outside every tree
    os.symlink("../../../../../../../../../../etc", overlay / "etc/up")  # relative, climbing out
    os.symlink("motd", overlay / "etc/motd-link")  # relative, inside
    return root


def normalize_modes(root: pathlib.Path) -> None:
    """Modes as a checkout made with umask 022 has them (0644/0755 files, 0755 directories),
    whatever the umask of the checkout the fixtures were copied from."""
    for top, dirs, files in os.walk(root):
        for d in dirs:
            if not os.path.islink(os.path.join(top, d)):
                os.chmod(os.path.join(top, d), 0o755)
        for f in files:
            path = os.path.join(top, f)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)


def session(cwd: pathlib.Path, **options: Any) -> Session:
    """A session working in ``cwd`` with the store ``cwd/store`` (or ``store_dir=``)."""
    return Session(SessionOptions(cwd=str(cwd), **{"store_dir": "store", **options}))


def build(cwd: pathlib.Path, target: str, *attrs_: str, argstr: dict[str, str] | None = None, **options: Any):
    """Build ``target`` (-A each of ``attrs_``, ``--argstr`` each of ``argstr``) in a fresh
    session: (session, outcome)."""
    s = session(cwd, **options)
    args = {name: ArgValue(value, False) for name, value in (argstr or {}).items()}
    outcome = s.build([BuildRequest(target, tuple(attrs_), args)], out_link=None)
    return s, outcome


def out_path(s: Session, outcome, index: int = 0) -> pathlib.Path:
    """The real path of the ``index``-th target's output."""
    return pathlib.Path(s.store.real_path(outcome.targets[index][3]))


def output_of(s: Session, outcome, label: str, output: str = "out") -> pathlib.Path:
    """The real path of output ``output`` of the target labelled ``label``."""
    for lab, drv, _, _ in outcome.targets:
        if lab == label:
            return pathlib.Path(s.store.real_path(outcome.result.outputs[drv.key][output]))
    raise KeyError(label)


def drv_named(s: Session, suffix: str):
    """The one derivation of the session's table whose name ends with ``suffix``."""
    found = [d for d in s.table.by_key.values() if d.name.endswith(suffix)]
    assert len(found) == 1, [d.name for d in found]
    return found[0]


def build_error(cwd: pathlib.Path, target: str, *attrs_: str, **options: Any) -> SkiffError:
    """The error building ``target`` raises (fails the test when it builds)."""
    try:
        build(cwd, target, *attrs_, **options)
    except SkiffError as exc:
        return exc
    raise AssertionError(f"building {target} {attrs_} succeeded; expected an error")


def cli(args: list[str], cwd: pathlib.Path, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process (``tests/cli/runner.py``)."""
    return run(args, cwd=cwd, env=env)


def json_diagnostics(stderr: str) -> list[dict[str, Any]]:
    """The diagnostics of a ``--json`` run's standard error (progress lines come before)."""
    start = stderr.find('{\n  "diagnostics"')
    assert start >= 0, stderr
    return json.JSONDecoder().raw_decode(stderr[start:])[0]["diagnostics"]


def write(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# ---------------------------------------------------------------------------------------------
# chunked case files
#
#   === name of the case
#   %attr ATTR                 build -A ATTR (default: the board's value, the bundle)
#   %symlink PATH TARGET       create the symlink PATH -> TARGET before building
#   %error CODE "regex"        the error has no location (a build failure): its code and message
#   %help "regex"              a help line of the error matches
#   %note "regex"              a note of the error matches
#   %xfail reason              a known bug: the case must fail (strict)
#   --- path/of/file           the file's text follows (default board.sk: one layer l/x/a.sk)
#   TEXT  ### CODE @COL "regex"  the error is reported at this line (and column) of this file
#
# Annotations are removed from the text written.  A case has exactly one expected error.

_ANNOTATION = re.compile(r"\s*###\s+(\w+)(?:\s+@(\d+))?(?:\s+\"((?:[^\"\\]|\\.)*)\")?\s*$")
_QUOTED = re.compile(r"^(\w+)?\s*\"((?:[^\"\\]|\\.)*)\"$")
DEFAULT_BOARD = "system { layers = [ (import ./l/x/a.sk { }) ]; }\n"


@attrs.define
class Expected:
    code: str
    file: str | None
    line: int | None
    col: int | None
    regex: str | None


@attrs.define
class ErrorCase:
    name: str
    line: int
    files: dict[str, list[str]] = attrs.field(factory=dict)
    directives: dict[str, list[str]] = attrs.field(factory=dict)
    expected: Expected | None = None

    def one(self, key: str) -> str | None:
        values = self.directives.get(key)
        return values[-1] if values else None

    def materialize(self, root: pathlib.Path) -> pathlib.Path:
        texts = {rel: "\n".join(lines).rstrip("\n") + "\n" for rel, lines in self.files.items()}
        texts.setdefault("board.sk", DEFAULT_BOARD)
        write(root, texts)
        for item in self.directives.get("symlink", []):
            link, target = item.split()
            (root / link).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, root / link)
        return root


def _unquote(text: str) -> str:
    return text.replace('\\"', '"')


def read_error_cases(path: pathlib.Path) -> list[ErrorCase]:
    cases: list[ErrorCase] = []
    current: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if raw.startswith("=== "):
            cases.append(ErrorCase(raw[4:].strip(), number))
            current = None
            continue
        if not cases:
            continue
        case = cases[-1]
        if raw.startswith("--- "):
            current = raw[4:].strip()
            case.files[current] = []
            continue
        if raw.startswith("%") and current is None:
            key, _, value = raw[1:].partition(" ")
            case.directives.setdefault(key, []).append(value.strip())
            if key == "error":
                m = _QUOTED.match(value.strip())
                assert m, f"{path}:{number}: %error CODE \"regex\""
                case.expected = Expected(m.group(1), None, None, None, _unquote(m.group(2)))
            continue
        if current is None:
            continue
        m = _ANNOTATION.search(raw)
        if m:
            assert case.expected is None, f"{path}:{number}: one expected error per case"
            lines = case.files[current]
            case.expected = Expected(m.group(1), current, len(lines) + 1,
                                     int(m.group(2)) if m.group(2) else None,
                                     _unquote(m.group(3)) if m.group(3) is not None else None)
            raw = raw[: m.start()]
        case.files[current].append(raw)
    for case in cases:
        assert case.expected is not None, f"{path}:{case.line}: case '{case.name}' expects no error"
    return cases


def check_error_case(case: ErrorCase, tmp_path: pathlib.Path) -> None:
    """Build the case with the CLI (``--json``) and check the one error it reports."""
    root = case.materialize(tmp_path / "case")
    args = ["build", "board.sk", "--json", "--no-out-link", "--store", "store"]
    if case.one("attr"):
        args += ["-A", case.one("attr")]
    result = cli(args, cwd=root)
    assert result.code == 1, (result.code, result.err)  # a user error, never an internal one
    diagnostics = [d for d in json_diagnostics(result.err) if d["severity"] == "error"]
    assert len(diagnostics) == 1, diagnostics
    got = diagnostics[0]
    want = case.expected
    # the code and the location first, then the message
    assert got["code"] == want.code, got
    if want.file is None:
        assert got["location"] is None, got["location"]
    else:
        loc = got["location"]
        assert loc is not None, got
        assert (loc["file"], loc["line"]) == (want.file, want.line), got
        if want.col is not None:
            assert loc["column"] == want.col, got
    if want.regex is not None:
        assert re.search(want.regex, got["message"]), (want.regex, got["message"])
    for regex in case.directives.get("help", []):
        regex = _QUOTED.match(regex).group(2)
        assert any(re.search(_unquote(regex), h) for h in got["help"]), (regex, got["help"])
    for regex in case.directives.get("note", []):
        regex = _QUOTED.match(regex).group(2)
        assert any(re.search(_unquote(regex), n["message"]) for n in got["notes"]), (regex, got["notes"])
