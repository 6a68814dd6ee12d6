"""Error codes of the buildroot domain: E300–E349 (errors) and W300–W349 (warnings).

Every code is documented in ``docs/buildroot.md`` (a test checks that each one appears there).
Ranges inside the domain:

* E300–E309: a failed ``make`` (classified by ``skiffeval.buildroot.failures``)
* E310–E319: invoking Buildroot (arguments, the source tree, the ``make`` program)
* E320–E329: reading what Buildroot printed (``show-info`` JSON, ``.config``)
* W300–W309: things a build did that a person should know about
"""

from __future__ import annotations

from skiffeval.diagnostics import define_code

__all__ = [
    "MAKE_FAILED",
    "DOWNLOAD_FAILED",
    "PACKAGE_FAILED",
    "CONFIG_FAILED",
    "HOST_DEPENDENCY",
    "HASH_MISMATCH",
    "HOOK_FAILED",
    "BAD_INVOCATION",
    "NO_BUILDROOT",
    "MAKE_NOT_RUNNABLE",
    "BAD_SHOW_INFO",
    "FULL_REBUILD",
]

_D = "buildroot"

MAKE_FAILED = define_code("E300", "make-failed", _D, "a Buildroot make target failed (unclassified)")
DOWNLOAD_FAILED = define_code(
    "E301", "download-failed", _D, "Buildroot could not download a package's sources"
)
PACKAGE_FAILED = define_code("E302", "package-failed", _D, "a package failed at one of its build steps")
CONFIG_FAILED = define_code(
    "E303", "config-failed", _D, "Buildroot rejected the configuration or an external tree"
)
HOST_DEPENDENCY = define_code(
    "E304", "host-dependency", _D, "the build machine lacks a program Buildroot needs"
)
HASH_MISMATCH = define_code(
    "E305", "hash-mismatch", _D, "a downloaded file does not match Buildroot's recorded hash"
)
BAD_INVOCATION = define_code(
    "E310", "bad-invocation", _D, "arguments that cannot be passed to Buildroot's make"
)
HOOK_FAILED = define_code("E306", "hook-failed", _D, "a layer's post-build or post-image hook failed")
NO_BUILDROOT = define_code("E311", "no-buildroot", _D, "the Buildroot source directory is not usable")
MAKE_NOT_RUNNABLE = define_code("E312", "make-not-runnable", _D, "the make program could not be started")
BAD_SHOW_INFO = define_code("E320", "bad-show-info", _D, "make show-info printed something that is not its JSON")
FULL_REBUILD = define_code(
    "W300", "full-rebuild", _D, "the build directory is cleaned before building (a full rebuild)"
)
