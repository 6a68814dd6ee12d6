"""Driving a real Buildroot: make invocations, progress, failures, show-info, incremental rebuilds.

The model
---------
* ``make`` — an ``Invocation`` (source tree, ``O=``, BR2_EXTERNAL trees, defconfig, download
  and ccache directories, jobs, extra variables) gives exact ``make`` command lines and a
  controlled environment; ``run`` streams output lines to a callback and a log file.
* ``progress`` — Buildroot's ``>>> pkg version Step`` lines as ``ProgressEvent``s (package, step,
  done of total, elapsed), and the last 30 lines of each package's output.
* ``failures`` — a failed make classified: download (package, URLs, the offline hint), hash
  mismatch, package step, configuration, missing host tools, or anything else.
* ``showinfo`` — ``make show-info`` JSON as frozen records with a canonical stored form.
* ``incremental`` — the clean-up a kept build directory needs before ``make`` when the
  configuration or a package's inputs changed, with the reason for every action.
* ``driver`` — ``Buildroot``: the make calls of a build, in one object, raising
  ``BuildrootError`` (codes E300–E349 in ``codes``) on failure.

This package imports ``skiffeval.diagnostics``, ``skiffeval.canonical`` and
``skiffeval.kconfig`` (``.config`` parsing) only; it never prints.  ``docs/buildroot.md``
describes how skiffeval drives Buildroot.
"""

from __future__ import annotations

from skiffeval.buildroot import codes
from skiffeval.buildroot.driver import Buildroot, BuildResult
from skiffeval.buildroot.failures import BuildrootError, Failure, classify
from skiffeval.buildroot.incremental import Action, BuildState, Plan, SymbolMap, parse_config, plan
from skiffeval.buildroot.make import Invocation, MakeResult, run
from skiffeval.buildroot.progress import ProgressEvent, ProgressTracker, StepLine, parse_step_line
from skiffeval.buildroot.showinfo import Download, PackageInfo, ShowInfo, parse_show_info

__all__ = [
    "codes",
    "Buildroot",
    "BuildResult",
    "BuildrootError",
    "Failure",
    "classify",
    "Action",
    "BuildState",
    "Plan",
    "SymbolMap",
    "parse_config",
    "plan",
    "Invocation",
    "MakeResult",
    "run",
    "ProgressEvent",
    "ProgressTracker",
    "StepLine",
    "parse_step_line",
    "Download",
    "PackageInfo",
    "ShowInfo",
    "parse_show_info",
]
