"""Invoking Buildroot's ``make``: exact command lines, a controlled environment, streamed output.

The model
---------
An ``Invocation`` says *which* Buildroot runs *where*: the source tree (``make -C``), the output
directory (``O=``), the BR2_EXTERNAL trees in order, the defconfig file, the download and ccache
directories, the job count and extra make variables.  ``command(*targets)`` gives the argv::

    make -C <source> O=<output> [BR2_EXTERNAL=<a>:<b>] [BR2_DEFCONFIG=<file>] [BR2_JLEVEL=<n>]
         [NAME=value ...] <targets>

* ``BR2_EXTERNAL`` and ``BR2_DEFCONFIG`` are make variables, as Buildroot documents them.
  After ``defconfig`` Buildroot remembers the external trees in ``<O>/.br2-external.mk``; they are
  passed on every call anyway, so each command line says everything.
* ``BR2_JLEVEL`` is passed on the command line, not in the environment: it is a ``.config``
  symbol, and an assignment in an included ``.config`` overrides an environment variable but
  not a command-line one.  ``make`` itself gets no ``-j`` (Buildroot's top level is serial
  unless per-package directories are enabled; parallelism is inside packages).
* ``savedefconfig`` writes to ``BR2_DEFCONFIG``; the driver always names the file, so it never
  writes back into a (read-only) input defconfig.

The environment is built from nothing (``environment``):

* passed through: ``PATH`` (or the ``path`` given), and the names listed in ``passthrough``;
* set: ``LC_ALL=C``; ``BR2_DL_DIR`` and ``BR2_CCACHE_DIR`` when given (Buildroot reads both
  from the environment before it includes ``.config``, so they win over the configuration);
  ``SOURCE_DATE_EPOCH`` when given (Buildroot's own default is its release date);
  the declared ``env`` pairs last.
* everything else is dropped: in particular ``MAKEFLAGS``/``MAKELEVEL`` of a surrounding make,
  ``TERM`` (so ``tput`` prints no bold codes into ``>>>`` lines), ``LD_LIBRARY_PATH``, ``CC``,
  ``PERL_MM_OPT`` and the like, which Buildroot's sanity checks refuse or packages pick up.

``run`` starts make, sends each output line (stdout and stderr merged, in order) to a callback
and to a log file, and returns a ``MakeResult``.  It raises only when make cannot be started.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from skiffeval.buildroot import codes
from skiffeval.diagnostics import SkiffError

__all__ = [
    "Invocation",
    "MakeResult",
    "run",
    "DEFCONFIG",
    "OLDDEFCONFIG",
    "SHOW_INFO",
    "ALL",
    "CLEAN",
    "dirclean_target",
    "check_package_name",
]

DEFCONFIG = "defconfig"
OLDDEFCONFIG = "olddefconfig"
SAVEDEFCONFIG = "savedefconfig"
SHOW_INFO = "show-info"
ALL = "all"
CLEAN = "clean"

_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9._+-]*\Z")


def _invocation_error(message: str) -> SkiffError:
    return SkiffError(codes.BAD_INVOCATION, message)


def check_package_name(name: str) -> str:
    """``name`` if it can be a Buildroot package name (``host-ncurses``, ``python-requests``),
    else E310: a name with spaces or ``/`` would make ``<name>-dirclean`` mean something else."""
    if not _PACKAGE_RE.match(name):
        raise _invocation_error(f"'{name}' is not a Buildroot package name")
    return name


def dirclean_target(package: str) -> str:
    """The make target that removes a package's build directory: ``<package>-dirclean``."""
    return f"{check_package_name(package)}-dirclean"


def _absolute(path: str, what: str) -> str:
    if not path:
        raise _invocation_error(f"the {what} path is empty")
    if any(c in path for c in "\n\0"):
        raise _invocation_error(f"the {what} path '{path!r}' contains a newline or NUL")
    return os.path.abspath(path)


def _externals(paths: Iterable[str]) -> tuple[str, ...]:
    out = []
    for p in paths:
        ap = _absolute(p, "BR2_EXTERNAL")
        if ":" in ap or " " in ap:
            raise _invocation_error(
                f"the BR2_EXTERNAL path '{ap}' contains ':' or a space, which Buildroot uses as separators"
            )
        out.append(ap)
    return tuple(out)


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    for name, val in items:
        if not _VAR_RE.match(name):
            raise _invocation_error(f"'{name}' is not a variable name")
        out.append((name, str(val)))
    return tuple(out)


@attrs.frozen
class Invocation:
    """Which Buildroot runs where, and with what; see the module docstring."""

    source: str = attrs.field(converter=lambda p: _absolute(p, "Buildroot source"))
    output: str = attrs.field(converter=lambda p: _absolute(p, "output (O=)"))
    externals: tuple[str, ...] = attrs.field(default=(), converter=_externals)
    defconfig: str | None = attrs.field(
        default=None, converter=lambda p: None if p is None else _absolute(p, "defconfig")
    )
    dl_dir: str | None = attrs.field(
        default=None, converter=lambda p: None if p is None else _absolute(p, "download")
    )
    ccache_dir: str | None = attrs.field(
        default=None, converter=lambda p: None if p is None else _absolute(p, "ccache")
    )
    jobs: int | None = attrs.field(default=None)
    source_date_epoch: int | None = None
    make_vars: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    env: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    passthrough: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    path: str | None = None
    make: str = "make"

    @jobs.validator
    def _check_jobs(self, _attr, value) -> None:
        if value is not None and (not isinstance(value, int) or value < 0):
            raise _invocation_error(f"the job count must be a whole number >= 0, not {value!r}")

    def command(self, *targets: str, defconfig: str | None = None) -> list[str]:
        """The argv of ``make`` for ``targets`` (none: ``make`` alone, i.e. ``all``)."""
        argv = [self.make, "-C", self.source, f"O={self.output}"]
        if self.externals:
            argv.append("BR2_EXTERNAL=" + ":".join(self.externals))
        chosen = defconfig if defconfig is not None else self.defconfig
        if chosen is not None:
            argv.append(f"BR2_DEFCONFIG={chosen}")
        if self.jobs is not None:
            argv.append(f"BR2_JLEVEL={self.jobs}")
        argv.extend(f"{k}={v}" for k, v in self.make_vars)
        argv.extend(targets)
        return argv

    def defconfig_command(self) -> list[str]:
        """``make O=… BR2_EXTERNAL=… BR2_DEFCONFIG=<file> defconfig``."""
        if self.defconfig is None:
            raise _invocation_error("'defconfig' needs a defconfig file (BR2_DEFCONFIG)")
        return self.command(DEFCONFIG)

    def savedefconfig_command(self, dest: str | None = None) -> list[str]:
        """``make … BR2_DEFCONFIG=<dest> savedefconfig``; ``dest`` defaults to ``<O>/defconfig``."""
        target = _absolute(dest, "savedefconfig") if dest else os.path.join(self.output, "defconfig")
        return self.command(SAVEDEFCONFIG, defconfig=target)

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment make runs with; ``base`` (default ``os.environ``) is only read for
        ``PATH`` (when ``path`` is None) and the ``passthrough`` names."""
        src = os.environ if base is None else base
        env: dict[str, str] = {}
        path = self.path if self.path is not None else src.get("PATH", os.defpath)
        env["PATH"] = path
        for name in self.passthrough:
            if name in src:
                env[name] = src[name]
        env["LC_ALL"] = "C"
        if self.dl_dir is not None:
            env["BR2_DL_DIR"] = self.dl_dir
        if self.ccache_dir is not None:
            env["BR2_CCACHE_DIR"] = self.ccache_dir
        if self.source_date_epoch is not None:
            env["SOURCE_DATE_EPOCH"] = str(int(self.source_date_epoch))
        env.update(self.env)
        return env


@attrs.frozen
class MakeResult:
    """How one ``make`` ended: its argv, exit status, wall time in seconds and the log path."""

    argv: tuple[str, ...]
    returncode: int
    duration: float
    log_path: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def run(
    invocation: Invocation,
    argv: Sequence[str],
    *,
    log_path: str,
    on_line: Callable[[str], None] | None = None,
    base_env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> MakeResult:
    """Run ``argv`` (from ``invocation.command``) in ``invocation``'s environment.

    Each line of output (stdout and stderr merged, decoded as UTF-8 with replacement, without
    its newline) goes to ``on_line`` and, as received, to ``log_path`` (created, with parent
    directories; appended to when it exists, so one log can hold several make calls).
    Raises E312 when make cannot be started; a failing make is a result, not an exception.
    """
    env = invocation.environment(base_env)
    os.makedirs(os.path.dirname(os.path.abspath(log_path)) or ".", exist_ok=True)
    started = clock()
    with open(log_path, "ab") as log:
        log.write(("$ " + " ".join(argv) + "\n").encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=invocation.source if os.path.isdir(invocation.source) else None,
                start_new_session=True,
            )
        except OSError as exc:
            raise SkiffError(
                codes.MAKE_NOT_RUNNABLE,
                f"cannot run '{argv[0]}': {exc.strerror or exc}",
                help=["install GNU make, or give the path of a make program"],
            ) from None
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                log.write(raw)
                if on_line is not None:
                    on_line(raw.decode("utf-8", "replace").rstrip("\n"))
        except BaseException:
            # A callback failed or we were interrupted: stop make and everything it started.
            _kill_group(proc)
            raise
        finally:
            proc.stdout.close()
        returncode = proc.wait()
    return MakeResult(tuple(argv), returncode, clock() - started, os.path.abspath(log_path))
