"""The external builder runner: a program run with a cleared environment, sandboxed if possible.

The model (docs/store.md, "External builders and the sandbox")
* Environment: exactly the derivation's env, plus each output name bound to its path (``out``),
  ``TMPDIR``/``TEMPDIR``/``TMP``/``TEMP`` (the build's temporary directory), ``HOME=/homeless``,
  ``SOURCE_DATE_EPOCH`` (315532800, 1980-01-01, zip-safe, unless declared); nothing else.
  ``PATH`` exists only if declared.  The working directory is ``TMPDIR``.
* With bubblewrap (``bwrap`` on PATH and able to create namespaces): new user/pid/ipc/uts/
  cgroup/network namespaces (no network: only a down loopback; fixed-output derivations keep the
  host network and ``/etc/resolv.conf``, ``/etc/hosts``, ``/etc/ssl``, ``/etc/ca-certificates``
  so fetchers work), ``/proc``, a minimal ``/dev``, an empty ``/tmp``, the host's ``/usr``,
  ``/bin``, ``/sbin``, ``/lib*`` read-only (what ``/bin/sh`` and Buildroot's host tools need;
  why not a fully hermetic root: Buildroot builds with the host toolchain by design), the inputs'
  closure read-only at their store paths, and the store root itself as an empty writable
  staging directory, so the outputs are created at their scratch paths and nothing else of the
  store is visible.  The process dies with its parent.
* Without bubblewrap: a plain subprocess in its own session with the same environment and
  working directory (``setpriv --pdeathsig KILL`` where available, so a killed scheduler does
  not leave it running).
* stdout and stderr go to the per-derivation log; a non-zero exit fails the build.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from skiffeval.diagnostics import SkiffError
from skiffeval.store.build import BuildContext
from skiffeval.store.codes import BUILD_FAILED, SANDBOX_FAILED
from skiffeval.store.treeops import remove_tree

__all__ = ["run_external", "sandbox_available", "build_env", "bwrap_command", "SOURCE_DATE_EPOCH"]

SOURCE_DATE_EPOCH = "315532800"
HOST_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates")


@functools.lru_cache(maxsize=None)
def sandbox_available() -> bool:
    """True if ``bwrap`` exists and can create the namespaces we use (probed once)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    try:
        r = subprocess.run([exe, "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=20, env={})
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def build_env(ctx: BuildContext) -> dict[str, str]:
    """The builder's whole environment (see the module docstring)."""
    env = dict(ctx.env)
    for name, path in ctx.outputs.items():
        env[name] = str(path)
    tmp = str(ctx.tmpdir)
    env.update(TMPDIR=tmp, TEMPDIR=tmp, TMP=tmp, TEMP=tmp, HOME="/homeless")
    env.setdefault("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    return env


def bwrap_command(ctx: BuildContext, staging: Path, bwrap: str = "bwrap") -> list[str]:
    """The bubblewrap prefix for ``ctx`` with ``staging`` mounted as the (empty) store root."""
    fixed = ctx.resolved.fixed is not None
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "localhost",
           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    if fixed:
        cmd.append("--share-net")
    for d in HOST_DIRS:
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
    if fixed:
        for f in NETWORK_FILES:
            cmd += ["--ro-bind-try", f, f]
    cmd += ["--bind", str(staging), str(ctx.store_root)]
    for p in ctx.closure:
        cmd += ["--ro-bind", str(p), str(p)]
    cmd += ["--bind", str(ctx.tmpdir), str(ctx.tmpdir), "--chdir", str(ctx.tmpdir), "--"]
    return cmd


def run_external(ctx: BuildContext, *, sandbox: bool | None = None) -> None:
    """Run ``ctx.builder`` with ``ctx.args`` (see the module docstring)."""
    use_bwrap = sandbox_available() if sandbox is None else sandbox
    if use_bwrap and not sandbox_available():
        raise SkiffError(SANDBOX_FAILED, "the sandbox was requested but bubblewrap ('bwrap') cannot run here")
    prog = ctx.builder
    if not os.path.isabs(prog):
        raise SkiffError(BUILD_FAILED, f"builder '{prog}' must be an absolute path or 'builtin:<name>'")
    if not os.path.exists(prog):
        raise SkiffError(BUILD_FAILED, f"builder program '{prog}' not found")
    if not os.access(prog, os.X_OK) or os.path.isdir(prog):
        raise SkiffError(BUILD_FAILED, f"builder program '{prog}' is not executable")
    ctx.make_tmpdir()
    env = build_env(ctx)
    argv = [ctx.builder, *ctx.args]
    staging: Path | None = None
    if use_bwrap:
        staging = ctx.tmpdir.with_name(ctx.tmpdir.name + "-root")
        staging.mkdir()
        argv = bwrap_command(ctx, staging, shutil.which("bwrap") or "bwrap") + argv
    else:
        setpriv = shutil.which("setpriv")
        if setpriv is not None:
            argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
    log = ctx.log
    log.write(f"builder: {ctx.builder} ({'bubblewrap sandbox' if use_bwrap else 'no sandbox'})\n")
    try:
        try:
            proc = subprocess.run(argv, env=env, cwd=ctx.tmpdir, stdin=subprocess.DEVNULL,
                                  stdout=log.fileno(), stderr=subprocess.STDOUT, start_new_session=True)
        except FileNotFoundError:
            raise SkiffError(BUILD_FAILED, f"builder program '{ctx.builder}' not found") from None
        except PermissionError:
            raise SkiffError(BUILD_FAILED, f"builder program '{ctx.builder}' is not executable") from None
        if staging is not None:
            for path in ctx.outputs.values():
                made = staging / path.name
                if os.path.lexists(made):
                    os.rename(made, path)
        if proc.returncode != 0:
            how = f"was killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exited with status {proc.returncode}"
            raise SkiffError(BUILD_FAILED, f"'{ctx.builder}' {how}")
    finally:
        if staging is not None:
            remove_tree(staging)
