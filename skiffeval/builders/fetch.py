"""Fixed-output fetchers: ``builtin:fetchurl`` (one file) and ``builtin:fetchgit`` (a tree).

Both are fixed-output derivations: the store checks the SHA-256 of what they produce against
the pin before anything enters the store (docs/store.md).  They are the only builders that use
the network.  Offline, they fail with an error that names the URL and says how to supply the
input (``--override-input NAME=PATH``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request

from skiffeval.builders.registry import register_builder
from skiffeval.diagnostics import SkiffError
from skiffeval.store.build import BuildContext
from skiffeval.store.codes import BUILD_FAILED

__all__: list[str] = []


def _offline_help(ctx: BuildContext) -> list[str]:
    what = "checkout" if ctx.builtin_name == "fetchgit" else "file"
    return [
        f"supply it yourself with --override-input NAME=/path/to/{what}, NAME being the input this fetch is "
        f"(e.g. --override-input buildroot=... for a system's Buildroot source)",
        "(the path is hashed and used as the input; a warning says so when it differs from the pin)",
    ]


@register_builder("fetchurl")
def fetchurl(ctx: BuildContext) -> None:
    url = ctx.env.get("url", "")
    ctx.log.write(f"downloading {url}\n")
    try:
        if url.startswith("file://") or url.startswith("/"):
            shutil.copyfile(url[7:] if url.startswith("file://") else url, ctx.out)
            return
        with urllib.request.urlopen(url, timeout=30) as response, open(ctx.out, "wb") as f:  # noqa: S310
            shutil.copyfileobj(response, f, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SkiffError(BUILD_FAILED, f"cannot download '{url}': {getattr(exc, 'reason', exc)}", help=_offline_help(ctx)) from None


@register_builder("fetchgit")
def fetchgit(ctx: BuildContext) -> None:
    url, rev = ctx.env.get("url", ""), ctx.env.get("rev", "")
    work = os.path.join(ctx.make_tmpdir(), "checkout")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_TERMINAL_PROMPT": "0", "HOME": str(ctx.tmpdir)}
    ctx.log.write(f"fetching {url} at {rev}\n")

    def git(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, env=env)
        ctx.log.write(proc.stdout + proc.stderr)
        return proc

    def fail(proc: subprocess.CompletedProcess) -> SkiffError:
        lines = proc.stderr.strip().splitlines() or ["git failed"]
        # git says what went wrong on its 'fatal:' line; later lines are advice
        last = next((x for x in lines if x.startswith(("fatal:", "error:"))), lines[0])
        return SkiffError(BUILD_FAILED, f"cannot fetch '{url}' at '{rev}': {last}", help=_offline_help(ctx))

    proc = git("init", "-q", work)
    if proc.returncode != 0:
        raise fail(proc)
    target = "FETCH_HEAD"
    proc = git("-C", work, "fetch", "-q", "--depth", "1", url, rev)
    if proc.returncode != 0:  # servers may refuse a commit by id: fetch everything instead
        proc = git("-C", work, "fetch", "-q", url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
        if proc.returncode != 0:
            raise fail(proc)
        target = rev
    proc = git("-C", work, "checkout", "-q", target)
    if proc.returncode != 0:
        raise fail(proc)
    shutil.rmtree(os.path.join(work, ".git"))
    shutil.copytree(work, ctx.out, symlinks=True)
