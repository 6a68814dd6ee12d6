"""Basic in-process builders: ``write-text``, ``copy`` and ``symlink-join``.

* ``builtin:write-text`` — env ``text`` becomes the file ``$out`` (mode 0555 if env
  ``executable`` is ``1``).
* ``builtin:copy`` — env ``src`` (an absolute path, usually a placeholder) is copied to ``$out``;
  symlinks are copied as links, never followed.
* ``builtin:symlink-join`` — env ``paths`` (whitespace-separated absolute paths) are merged into
  the directory ``$out``: directories are created, every file or link becomes a symlink to its
  source; when two paths provide the same file the later one wins (as in Nix's ``buildEnv``
  with ``ignoreCollisions``; the collision is logged).
"""

from __future__ import annotations

import os
import shutil

from skiffeval.builders.registry import register_builder
from skiffeval.diagnostics import SkiffError
from skiffeval.store.build import BuildContext
from skiffeval.store.codes import BUILD_FAILED

__all__: list[str] = []


def _env(ctx: BuildContext, name: str) -> str:
    value = ctx.env.get(name)
    if value is None:
        raise SkiffError(BUILD_FAILED, f"builder '{ctx.builder}' needs the environment variable '{name}'")
    return value


@register_builder("write-text")
def write_text(ctx: BuildContext) -> None:
    text = _env(ctx, "text")
    mode = 0o755 if ctx.env.get("executable") == "1" else 0o644
    fd = os.open(ctx.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode())


@register_builder("copy")
def copy(ctx: BuildContext) -> None:
    src = _env(ctx, "src")
    if os.path.islink(src) or not os.path.isdir(src):
        if os.path.islink(src):
            os.symlink(os.readlink(src), ctx.out)
        else:
            shutil.copyfile(src, ctx.out, follow_symlinks=False)
            shutil.copymode(src, ctx.out)
        return
    shutil.copytree(src, ctx.out, symlinks=True)


@register_builder("symlink-join")
def symlink_join(ctx: BuildContext) -> None:
    out = str(ctx.out)
    os.mkdir(out)
    for top in _env(ctx, "paths").split():
        if not os.path.isdir(top):
            raise SkiffError(BUILD_FAILED, f"symlink-join: '{top}' is not a directory")
        for dirpath, dirs, files in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            dest = out if rel == "." else os.path.join(out, rel)
            for d in list(dirs):
                target = os.path.join(dest, d)
                if os.path.islink(os.path.join(dirpath, d)):
                    dirs.remove(d)
                    files.append(d)
                elif os.path.lexists(target) and not os.path.isdir(target):
                    ctx.log.write(f"collision: {os.path.join(rel, d)} (directory replaces file)\n")
                    os.unlink(target)
                    os.mkdir(target)
                elif not os.path.lexists(target):
                    os.mkdir(target)
            for f in files:
                target = os.path.join(dest, f)
                if os.path.lexists(target):
                    ctx.log.write(f"collision: {os.path.join(rel, f)} (later path wins)\n")
                    if os.path.isdir(target) and not os.path.islink(target):
                        shutil.rmtree(target)
                    else:
                        os.unlink(target)
                os.symlink(os.path.join(dirpath, f), target)
