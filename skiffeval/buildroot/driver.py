"""The driver: one Buildroot tree, one output directory, the make calls a build needs.

The model
---------
``Buildroot(invocation, log_dir=…)`` runs the make targets skiffeval uses, each a method:
``defconfig``, ``olddefconfig``, ``savedefconfig``, ``show_info``, ``dirclean``, ``clean``,
``apply`` (an incremental ``Plan``) and ``build`` (plain ``make``).  Every call appends its
output to a log file in ``log_dir`` (``<target>.log``; the build's is ``build.log``) and streams
each line to ``on_line``; ``build`` also feeds a ``ProgressTracker`` whose events go to
``on_progress``.  A failing call raises ``BuildrootError`` (a ``SkiffError`` with a stable
code) carrying the classified ``Failure`` and the ``MakeResult``; nothing is printed.

The caller owns the paths: the Buildroot source (read only — Buildroot writes only into ``O=``
when the download directory is given), the output directory (kept between builds for
incremental rebuilds), the download directory and ccache (caches outside any hash).
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Sequence

import attrs

from skiffeval.buildroot import make as mk
from skiffeval.buildroot.failures import BuildrootError, classify
from skiffeval.buildroot.incremental import Plan
from skiffeval.buildroot.progress import ProgressEvent, ProgressTracker
from skiffeval.buildroot.showinfo import ShowInfo, parse_show_info

__all__ = ["Buildroot", "BuildResult", "INSTALL_TREES", "installed_files"]

# Buildroot's per-package lists of installed files (pkg-generic.mk's pkg_size_after), by the
# tree of the output directory they describe: build/<pkg>-<version>/<list>, lines <pkg>,./<path>
INSTALL_TREES = (("target", ".files-list.txt"), ("staging", ".files-list-staging.txt"), ("host", ".files-list-host.txt"))


def installed_files(output: str, tree: str = "target") -> dict[str, list[str]]:
    """``path`` (relative to ``<O>/<tree>``) → the packages whose installation created or changed
    it, from Buildroot's per-package lists.  Empty when no package has been installed."""
    list_name = dict(INSTALL_TREES)[tree]
    owners: dict[str, list[str]] = {}
    build = os.path.join(output, "build")
    try:
        entries = sorted(os.listdir(build))
    except OSError:
        return owners
    for entry in entries:
        try:
            with open(os.path.join(build, entry, list_name), encoding="utf-8", errors="surrogateescape") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            pkg, sep, path = line.partition(",")
            if sep and path:
                owners.setdefault(os.path.normpath(path.removeprefix("./")), []).append(pkg)
    return owners

_CONTEXT_LINES = 400  # lines kept in memory for classifying a failure


@attrs.frozen
class BuildResult:
    """A successful ``make``: its ``MakeResult``, packages ``done`` of ``total`` and the
    ``images`` directory (``<O>/images``)."""

    result: mk.MakeResult
    done: int
    total: int | None
    images: str


class Buildroot:
    """Drives one Buildroot source tree in one output directory (see the module docstring)."""

    def __init__(
        self,
        invocation: mk.Invocation,
        *,
        log_dir: str,
        on_line: Callable[[str], None] | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> None:
        self.invocation = invocation
        self.log_dir = os.path.abspath(log_dir)
        self.on_line = on_line
        self.on_progress = on_progress

    # -- paths

    @property
    def output(self) -> str:
        return self.invocation.output

    @property
    def config_path(self) -> str:
        return os.path.join(self.output, ".config")

    def read_config(self) -> str:
        """The text of ``<O>/.config``."""
        with open(self.config_path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()

    def log_path(self, name: str) -> str:
        return os.path.join(self.log_dir, f"{name}.log")

    # -- make calls

    def _run(
        self,
        argv: Sequence[str],
        log_name: str,
        what: str,
        *,
        tracker: ProgressTracker | None = None,
        show_info: ShowInfo | None = None,
        capture: Callable[[str], bool] | None = None,
    ) -> mk.MakeResult:
        context: deque[str] = deque(maxlen=_CONTEXT_LINES)

        def line(text: str) -> None:
            if capture is not None and capture(text):
                return
            context.append(text)
            if tracker is not None:
                tracker.feed(text)
            if self.on_line is not None:
                self.on_line(text)

        os.makedirs(self.output, exist_ok=True)
        result = mk.run(self.invocation, argv, log_path=self.log_path(log_name), on_line=line)
        if tracker is not None:
            tracker.finish(result.ok)
        if not result.ok:
            failure = classify(
                list(context),
                tracker=tracker,
                show_info=show_info,
                output_dir=self.output,
                dl_dir=self.invocation.dl_dir,
                log_path=result.log_path,
                what=what,
            )
            raise BuildrootError(failure, result)
        return result

    def defconfig(self) -> mk.MakeResult:
        """``make … BR2_DEFCONFIG=<file> defconfig``: writes ``<O>/.config``."""
        return self._run(self.invocation.defconfig_command(), "defconfig", "make defconfig")

    def olddefconfig(self) -> mk.MakeResult:
        """``make olddefconfig``: completes an existing ``<O>/.config``."""
        return self._run(self.invocation.command(mk.OLDDEFCONFIG), "olddefconfig", "make olddefconfig")

    def savedefconfig(self, dest: str | None = None) -> str:
        """``make savedefconfig`` into ``dest`` (default ``<O>/defconfig``); returns the path."""
        argv = self.invocation.savedefconfig_command(dest)
        self._run(argv, "savedefconfig", "make savedefconfig")
        return next(a for a in argv if a.startswith("BR2_DEFCONFIG=")).split("=", 1)[1]

    def show_info_text(self) -> str:
        """The JSON line ``make show-info`` printed for ``<O>/.config``, as Buildroot wrote it."""
        captured: list[str] = []

        def capture(text: str) -> bool:
            if text.startswith("{"):
                captured.append(text)
                return True
            return False

        self._run(self.invocation.command(mk.SHOW_INFO), "show-info", "make show-info", capture=capture)
        return captured[-1] if captured else ""

    def show_info(self) -> ShowInfo:
        """``make show-info`` for the configuration in ``<O>/.config``, parsed."""
        return parse_show_info(self.show_info_text())

    def dirclean(self, packages: Iterable[str]) -> mk.MakeResult | None:
        """``make <pkg>-dirclean …`` for each package, in one make call (None if none)."""
        targets = [mk.dirclean_target(p) for p in packages]
        if not targets:
            return None
        return self._run(self.invocation.command(*targets), "dirclean", "make " + " ".join(targets))

    def clean(self) -> mk.MakeResult:
        """``make clean``: removes everything built; ``.config`` is kept."""
        return self._run(self.invocation.command(mk.CLEAN), "clean", "make clean")

    def apply(self, plan: Plan, show_info: ShowInfo | None = None) -> list[mk.MakeResult]:
        """Carry out an incremental plan: ``clean``; or the removals from ``target/``, then the
        dircleans, each preceded by deleting what the package had installed (in ``target/``,
        ``staging/`` and ``host/``; a path another package also installed is left alone):
        Buildroot's ``dirclean`` keeps it, so a package that now installs fewer files would
        otherwise leave the old ones in the image.

        ``show_info`` (of the build being cleaned) lets a dirclean be what Buildroot's
        ``<pkg>-dirclean`` rule is — ``rm -Rf`` of the package's directory (``stamp_dir``) and,
        with per-package directories, of ``per-package/<pkg>`` — without a make call, which
        reads all of Buildroot's ``.mk`` files first (~9 s on a real tree).  Packages it does not
        describe go through ``make <pkg>-dirclean``."""
        if plan.full_clean:
            return [self.clean()]
        for path in plan.removals:
            if not path.endswith("/"):
                self._unlink("target", path)
        cleaned = set(plan.packages)
        installed_in_target: set[str] = set()
        for tree, _list in INSTALL_TREES:
            for path, owners in installed_files(self.output, tree).items():
                if cleaned.issuperset(owners):
                    self._unlink(tree, path)
                elif tree == "target":
                    installed_in_target.add(path)
        for path in plan.removals:
            if path.endswith("/"):
                self._rmdir_overlay_dir(path.rstrip("/"), installed_in_target)
        by_make = []
        per_package = self._config_has("BR2_PER_PACKAGE_DIRECTORIES")
        os.makedirs(self.log_dir, exist_ok=True)
        with open(self.log_path("dirclean"), "a", encoding="utf-8") as log:
            for pkg in plan.packages:
                info = show_info.get(pkg) if show_info is not None and pkg in show_info.names else None
                stamp_dir = os.path.normpath(info.stamp_dir) if info is not None and info.stamp_dir else None
                if stamp_dir is None or not stamp_dir.startswith("build" + os.sep) or os.sep in stamp_dir[6:]:
                    by_make.append(pkg)
                    continue
                doomed = [os.path.join(self.output, stamp_dir)]
                if per_package:
                    doomed.append(os.path.join(self.output, "per-package", pkg))
                for d in doomed:
                    log.write(f"rm -Rf {d}\n")
                    if self.on_line is not None:
                        self.on_line(f"rm -Rf {d}")
                    shutil.rmtree(d, ignore_errors=True)
        result = self.dirclean(by_make)
        return [result] if result is not None else []

    def _config_has(self, symbol: str) -> bool:
        try:
            with open(self.config_path, encoding="utf-8", errors="surrogateescape") as f:
                return f"\n{symbol}=y\n" in "\n" + f.read()
        except OSError:
            return False

    def _rmdir_overlay_dir(self, path: str, installed: set[str]) -> None:
        """Delete the directory ``target/<path>`` an overlay alone had made, if it is empty now
        and neither Buildroot's skeleton nor a package (still built) has anything there — a
        ``--pure`` build would not have it.  (A package that makes an empty directory and
        installs nothing into it is not in its file list: that one case stays unseen.)"""
        root = os.path.join(self.output, "target")
        full = os.path.normpath(os.path.join(root, path))
        if not full.startswith(root + os.sep) or os.path.islink(full) or not os.path.isdir(full):
            return
        if os.path.isdir(os.path.join(self.invocation.source, "system", "skeleton", path)):
            return
        prefix = path + "/"
        if any(p.startswith(prefix) for p in installed):
            return
        try:
            os.rmdir(full)
        except OSError:  # not empty: something else put a file there
            pass

    def _unlink(self, tree: str, path: str) -> None:
        """Delete ``<O>/<tree>/<path>`` if it is a file or a symlink inside that tree."""
        root = os.path.join(self.output, tree)
        full = os.path.normpath(os.path.join(root, path))
        if full.startswith(root + os.sep) and (os.path.islink(full) or os.path.isfile(full)):
            os.unlink(full)

    def build(self, show_info: ShowInfo | None = None, targets: Sequence[str] = ()) -> BuildResult:
        """``make`` (or ``targets``): progress to ``on_progress``, done of total from
        ``show_info`` (packages already complete in ``<O>`` count as done)."""
        tracker = ProgressTracker(
            show_info.total if show_info is not None else None,
            already_done=show_info.complete_in(self.output) if show_info is not None else (),
            on_event=self.on_progress,
        )
        argv = self.invocation.command(*targets)
        result = self._run(argv, "build", "make", tracker=tracker, show_info=show_info)
        return BuildResult(result, tracker.done_count, tracker.total, os.path.join(self.output, "images"))
