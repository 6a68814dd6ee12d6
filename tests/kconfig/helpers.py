"""Helpers of the kconfig tests: fixture paths, the C ``conf`` oracle, and the case-file reader.

The oracle is Debian's ``kconfig-conf`` (kconfig-frontends-nox: the ``conf`` of Linux 4.11
kconfig).  ``run_conf`` feeds it the concatenation of a base and fragments with
``--defconfig`` and returns the ``.config`` it writes and its ``--savedefconfig`` output.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence

import attrs
import pytest

from skiffeval.kconfig.br2external import ExternalTree, br2_external_files, external_env
from skiffeval.kconfig.buildroot import BuildrootSource, HostInfo

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE / "fixtures"
CASES = HERE / "cases"
BASIC = str(FIXTURES / "basic")
MINI = str(FIXTURES / "buildroot-mini")
HOST = HostInfo("x86_64", "12")

KCONFIG_CONF = shutil.which("kconfig-conf")
needs_conf = pytest.mark.skipif(
    KCONFIG_CONF is None, reason="kconfig-conf (Debian's kconfig-frontends-nox) is not installed"
)


def run_conf(srctree: str, kconfig: str, text: str, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(.config, savedefconfig) that C ``conf --defconfig`` makes of ``text``."""
    with tempfile.TemporaryDirectory(prefix="skiffeval-conf-") as d:
        with open(os.path.join(d, "in"), "w", encoding="utf-8") as f:
            f.write(text)
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "srctree": srctree,
                "KCONFIG_CONFIG": os.path.join(d, "out"), **(env or {})}
        for args in ([f"--defconfig={d}/in"], [f"--savedefconfig={d}/min"]):
            subprocess.run([KCONFIG_CONF, "-s", *args, kconfig], cwd=srctree, env=full,
                           check=True, capture_output=True)
        with open(os.path.join(d, "out"), encoding="utf-8") as f:
            config = f.read()
        with open(os.path.join(d, "min"), encoding="utf-8") as f:
            minimal = f.read()
    return config, minimal


def run_conf_buildroot(source: BuildrootSource, externals: Sequence[ExternalTree], text: str,
                       defconfig_path: str = "", host: HostInfo = HOST) -> tuple[str, str]:
    """``run_conf`` on a Buildroot-shaped tree with the environment Buildroot's Makefile sets
    and the generated ``.br2-external.in.*`` files."""
    with tempfile.TemporaryDirectory(prefix="skiffeval-base-") as base:
        for name, body in br2_external_files(externals).items():
            with open(os.path.join(base, name), "w", encoding="utf-8") as f:
                f.write(body)
        env = {
            "CONFIG_": "", "BR2_VERSION": source.version, "BR2_VERSION_FULL": source.version_full,
            "HOSTARCH": host.arch, "HOST_GCC_VERSION": host.gcc_version, "BASE_DIR": base,
            "BR2_BASE_DIR": base, "SKIP_LEGACY": "", "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "n",
            "BR2_DEFCONFIG": defconfig_path, **external_env(externals),
        }
        config, minimal = run_conf(source.path, "Config.in", text, env)
    minimal = "".join(l for l in minimal.splitlines(keepends=True) if not l.startswith("BR2_DEFCONFIG="))
    return config, minimal


# ---------------------------------------------------------------------------------------------
# case files: many small cases per file
#
#   === name of the case
#   %tree basic | buildroot-mini         %externals external-a external-b
#   %defconfig mini_x86_64_defconfig     %info (check info diagnostics too)
#   %expect SYMBOL=value                 %status SYMBOL took-effect|not-taken|ignored|unknown
#   --- file.conf layer [base] [nonewline]
#   FRAGMENT LINE  ### CODE "regex on the message"  ### CODE2
#
# An annotation says a diagnostic with that code (and a message matching the regex) is
# reported at that line; every diagnostic reported must be annotated.

_ANNOTATION = re.compile(r"\s+###\s+(\w+)(?:\s+\"((?:[^\"\\]|\\.)*)\")?")


@attrs.define
class CaseFragment:
    file: str
    layer: str
    base: bool
    lines: list[str] = attrs.field(factory=list)
    expected: list[tuple[int, str, str | None]] = attrs.field(factory=list)  # line, code, regex
    newline: bool = True

    @property
    def text(self) -> str:
        body = "\n".join(self.lines)
        return body + "\n" if self.newline and self.lines else body


@attrs.define
class Case:
    name: str
    line: int
    directives: dict[str, list[str]] = attrs.field(factory=dict)
    fragments: list[CaseFragment] = attrs.field(factory=list)

    def one(self, key: str, default: str | None = None) -> str | None:
        values = self.directives.get(key)
        return values[-1] if values else default


def read_cases(path: pathlib.Path) -> list[Case]:
    cases: list[Case] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if raw.startswith("=== "):
            cases.append(Case(raw[4:].strip(), number))
            continue
        if not cases:
            continue
        case = cases[-1]
        if raw.startswith("--- "):
            words = raw[4:].split()
            case.fragments.append(CaseFragment(words[0], words[1] if len(words) > 1 and words[1] not in ("base", "nonewline") else "",
                                               "base" in words[1:], newline="nonewline" not in words[1:]))
            continue
        if raw.startswith("%"):
            key, _, value = raw[1:].partition(" ")
            case.directives.setdefault(key, []).append(value.strip())
            continue
        if not case.fragments:
            continue
        frag = case.fragments[-1]
        m = _ANNOTATION.search(raw)
        text = raw[: m.start()] if m else raw
        for a in _ANNOTATION.finditer(raw):
            regex = a.group(2).replace('\\"', '"') if a.group(2) is not None else None
            frag.expected.append((len(frag.lines) + 1, a.group(1), regex))
        frag.lines.append(text)
    for case in cases:  # trailing blank lines of a fragment belong to the case file, not the text
        for frag in case.fragments:
            while frag.lines and frag.lines[-1] == "":
                frag.lines.pop()
    return cases
