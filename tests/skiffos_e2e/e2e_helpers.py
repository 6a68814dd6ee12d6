"""Helpers of the end-to-end SkiffOS tests: fixture paths, the CLI runner, and the path
normalization that makes skiffeval's files comparable with SkiffOS's.

SkiffOS writes checkout paths (``<root>/configs/pi/4``) and workspace paths
(``<root>/workspaces/.config_<ws>/``); skiffeval writes store paths (``<store>/<hash>-4``) and
the configure output's own path.  ``normalize`` turns both kinds into the same tokens:

=============================================  =================================  ===========
SkiffOS                                        skiffeval                          token
=============================================  =================================  ===========
``<folder of chain entry E>`` (any role)       ``<store>/<hash>-<basename>``      ``@E@``
``<root>/workspaces/.config_<ws>/``            ``<store>/<hash>-<name>-configure`` ``@FINAL@``
``<root>/workspaces/<ws>``                     ``$BASE_DIR``                      ``@WORKDIR@``
``<root>/workspaces/.ccache/<ws>``             ``$(HOME)/.buildroot-ccache``      ``@CCACHE@``
=============================================  =================================  ===========

and then collapses the slashes after a token (SkiffOS writes ``.config_<ws>//kernel/config`` and
``overrides/workspaces/<ws>/``: a path's trailing slash is not part of its meaning).  Nothing
else is touched, so every other byte must match.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from collections.abc import Iterable, Mapping

from tests.cli.runner import Result, run

HERE = pathlib.Path(__file__).parent
SKIFFOS_TESTS = HERE.parent / "skiffos"
TREE = str(SKIFFOS_TESTS / "fixtures" / "tree")
BROKEN = str(SKIFFOS_TESTS / "fixtures" / "broken")
GOLDEN = SKIFFOS_TESTS / "golden"
MINI_BUILDROOT = str(HERE.parent / "kconfig" / "fixtures" / "buildroot-mini")

# The files `skiffeval skiffos configure --out` writes that SkiffOS also writes, by their name in
# SkiffOS's final config folder (bind_env.sh, a dump of SkiffOS's environment, is not compared).
CONFIG_FILES = ("skiff_config", "buildroot/config", "kernel/config", "uboot/config", "busybox/config",
                "users", "cflags", "pre_build.sh", "post_build.sh")

_STORE_NAME = re.compile(r"[0-9a-z]{26}-([A-Za-z0-9+._?=-]+)")
_TOKEN_SLASHES = re.compile(r"(@[^@\s\"]+@)/{2,}")
_TOKEN_TRAILING = re.compile(r"(@[^@\s\"]+@)/(?=[\s\"']|$)", re.M)
_ASSIGNMENT = re.compile(r"^(?:(\w+)=(.*)|# (\w+) is not set)$")


def skiffeval(args: list[str], cwd: pathlib.Path | str, store: str = "store") -> Result:
    """``skiffeval ARGS --store STORE`` in ``cwd``, in process."""
    return run([*args, "--store", store], cwd=pathlib.Path(cwd))


def _slashes(text: str) -> str:
    text = _TOKEN_SLASHES.sub(r"\1/", text)
    return _TOKEN_TRAILING.sub(r"\1", text)


def entry_tokens(entries: Iterable[tuple[str, str]], stored: Mapping[str, str] | None = None) -> dict[str, str]:
    """Store path name -> ``@name@`` for chain entries given as (name, path).

    Store paths are named after the folder's basename, so without ``stored`` the basenames must
    be unique.  ``stored`` (folder path -> its store path's basename ``<hash>-<name>``, see
    ``stored_names``) tells apart folders of one basename (``allwinner/r8`` and ``chip/r8``);
    the folders it does not name (absent ones) are told apart by basename.
    """
    out: dict[str, str] = {}
    for name, path in entries:
        base = os.path.basename(path.rstrip("/"))
        if stored is not None and path in stored:
            out[stored[path]] = f"@{name}@"
            continue
        assert base not in out, f"two chain folders are named '{base}': the normalization needs unique names"
        out[base] = f"@{name}@"
    return out


def stored_names(paths: Iterable[str], cwd: pathlib.Path | str, store: str) -> dict[str, str]:
    """Folder path -> the basename of the store path skiffeval imports it as (asked of skiffeval
    itself: a path interpolated into a string is imported)."""
    paths = list(paths)
    expr = "[ " + " ".join(f'"${{{os.path.normpath(p)}}}"' for p in paths) + " ]"
    r = skiffeval(["eval", "--expr", expr, "--json"], cwd, store=store)
    assert r.code == 0, r.err
    return {p: os.path.basename(t) for p, t in zip(paths, json.loads(r.out), strict=True)}


def normalize_skiffos(text: str, root: str, workspace: str, entries: Iterable[tuple[str, str]]) -> str:
    """SkiffOS's text with its checkout and workspace paths as tokens."""
    replacements = {
        f"{root}/workspaces/.config_{workspace}/": "@FINAL@/",
        f"{root}/workspaces/.ccache/{workspace}": "@CCACHE@",
        f"{root}/workspaces/{workspace}": "@WORKDIR@",
    }
    for name, path in entries:
        replacements[path.rstrip("/")] = f"@{name}@"
    for path in sorted(replacements, key=len, reverse=True):
        text = re.sub(re.escape(path) + r"(?=[/\s\"'#:]|$)", lambda _m, t=replacements[path]: t, text, flags=re.M)
    return _slashes(text)


def normalize_skiffeval(text: str, store: str, tokens: Mapping[str, str]) -> str:
    """skiffeval's text with its store paths as tokens (``tokens``: see ``entry_tokens``)."""
    store = os.path.realpath(store)

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.endswith("-configure"):
            return "@FINAL@"
        token = tokens.get(m.group(0)[len(store) + 1 :]) or tokens.get(name)
        if token is None:
            raise AssertionError(f"store path '{m.group(0)}' names no chain folder")
        return token

    text = re.sub(re.escape(store) + "/" + _STORE_NAME.pattern, sub, text)
    text = text.replace("$(HOME)/.buildroot-ccache", "@CCACHE@").replace("$BASE_DIR", "@WORKDIR@")
    return _slashes(text)


def assignments(text: str) -> dict[str, str | None]:
    """``SYMBOL -> value`` of a .config-style text (``None`` for ``# SYMBOL is not set``); the
    last assignment of a symbol wins."""
    out: dict[str, str | None] = {}
    for line in text.splitlines():
        m = _ASSIGNMENT.match(line)
        if m:
            if m.group(1):
                out[m.group(1)] = m.group(2)
            else:
                out[m.group(3)] = None
    return out


def diff_assignments(a: Mapping[str, str | None], b: Mapping[str, str | None]) -> list[str]:
    """Readable differences between two assignment maps (empty when equal)."""
    missing = "<absent>"
    return [f"{k}: {a.get(k, missing)!r} != {b.get(k, missing)!r}"
            for k in sorted(set(a) | set(b)) if a.get(k, missing) != b.get(k, missing)]


def read(path: str | pathlib.Path) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read()


def golden_name(rel: str) -> str:
    """The golden file of an output file (``buildroot/config`` -> ``buildroot_config``)."""
    return rel.replace("/", "_")
