"""Kconfig: fragments, merging, and resolving Buildroot configurations with provenance.

The model
---------
* ``fragment`` — fragment text (``BR2_FOO=y``, ``# CONFIG_BAR is not set``) ⇄ ``Assignment``
  records with spans, read exactly as kconfig reads them; inline values rendered as lines.
* ``merge`` — kernel/U-Boot/BusyBox fragments merged "last fragment wins, earlier assignment
  removed", line for line as ``merge_config.sh -m`` does, with what overrode what.
* ``engine`` — parsing a Kconfig tree with kconfiglib once per process per identity, with
  ``$(NAME)`` kept literal and a controlled environment.
* ``apply``, ``writer``, ``resolve`` — applying assignments as ``conf`` accepts them and
  writing ``.config`` and the minimal defconfig byte for byte as ``conf`` does.
* ``buildroot``, ``br2external`` — Buildroot's ``make defconfig`` reproduced in-process,
  BR2_EXTERNAL trees included.
* ``explain``, ``report`` — the provenance report: who set each symbol, who won, and why a
  value did not take effect, as diagnostics at the fragment line responsible.

Errors are ``skiffeval.diagnostics`` diagnostics with codes E200–E249/W200–W249 (``codes``).
This package imports only ``skiffeval.diagnostics`` and third-party libraries; it never prints.
"""

from __future__ import annotations

from skiffeval.kconfig import codes
from skiffeval.kconfig.br2external import ExternalTree, br2_external_files, read_external
from skiffeval.kconfig.buildroot import (
    BuildrootSource,
    HostInfo,
    detect_host,
    find_defconfig,
    read_buildroot_source,
    resolve_buildroot,
)
from skiffeval.kconfig.engine import TreeSpec, clear_cache, parse_tree
from skiffeval.kconfig.fragment import (
    Assignment,
    Fragment,
    ParsedFragment,
    inline_fragment,
    parse_fragment,
    render_assignment,
    render_fragment_value,
)
from skiffeval.kconfig.merge import MergeResult, Override, merge_last_wins
from skiffeval.kconfig.report import Report, Setting, SymbolReport
from skiffeval.kconfig.resolve import Resolution, resolve

__all__ = [
    "codes",
    "Assignment",
    "Fragment",
    "ParsedFragment",
    "parse_fragment",
    "render_assignment",
    "render_fragment_value",
    "inline_fragment",
    "MergeResult",
    "Override",
    "merge_last_wins",
    "TreeSpec",
    "parse_tree",
    "clear_cache",
    "Resolution",
    "resolve",
    "Report",
    "Setting",
    "SymbolReport",
    "ExternalTree",
    "read_external",
    "br2_external_files",
    "BuildrootSource",
    "HostInfo",
    "detect_host",
    "find_defconfig",
    "read_buildroot_source",
    "resolve_buildroot",
]
