"""One build: run a builder into scratch paths, then turn its outputs into store paths.

The model (docs/store.md, "Realizing one derivation")
1. Each output gets a scratch path ``S/<random digest>-<output name>`` (same length as its final
   path), listed in a pending marker; the builder gets a ``BuildContext``.
2. The builder writes the outputs.  Any exception is a build failure (E112) naming the
   derivation and its log; nothing is registered and the scratch paths are deleted.
3. Each output is hashed modulo its scratch digest and scanned for references to the inputs'
   closure (``tree.OutputScan``); self-references are rewritten to the final digest; the tree is
   normalized; a fixed-output derivation's SHA-256 is checked (E113 on mismatch).
4. ``LocalStore.finalize`` renames and registers all outputs and the realisation in one
   transaction.

Builders are injected (``BuildRunner``): this package does not know any builder; see
``skiffeval.builders`` for the registry of ``builtin:<name>`` builders and the sandbox runner.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from skiffeval.derivation import Derivation, ResolvedDerivation, SortedMap, StorePath, substitute_outputs
from skiffeval.diagnostics import Note, SkiffError
from skiffeval.store.codes import BAD_OUTPUT, BUILD_FAILED, HASH_MISMATCH
from skiffeval.store.tree import OutputScan
from skiffeval.store.treeops import normalize, remove_tree, rewrite_self_refs

if TYPE_CHECKING:
    from skiffeval.store.local import LocalStore, PendingMarker

__all__ = ["Candidates", "BuildContext", "BuildRunner", "LogWriter", "build_outputs", "log_tail", "LOG_TAIL_LINES"]

LOG_TAIL_LINES = 25


class LogWriter:
    """A build log, opened on first use (most in-process builders never write one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: IO[bytes] | None = None

    def file(self) -> IO[bytes]:
        if self._f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "wb")
        return self._f

    def write(self, text: str | bytes) -> None:
        f = self.file()
        f.write(text.encode() if isinstance(text, str) else text)
        f.flush()

    def fileno(self) -> int:
        return self.file().fileno()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


class Candidates:
    """The store paths an output may refer to — the inputs' closure — computed only when a
    digest-like string in the output is not one of the direct inputs.

    Why lazy: in a deep graph every closure is large, and computing it for every build makes
    realizing a chain quadratic; most outputs mention only their direct inputs, or nothing.
    """

    def __init__(self, store: LocalStore, inputs: Iterable[StorePath]) -> None:
        self.store = store
        self.inputs = tuple(inputs)
        self.direct = {p.digest.encode(): p for p in self.inputs}
        self._all: dict[bytes, StorePath] | None = None

    def closure(self) -> dict[bytes, StorePath]:
        if self._all is None:
            self._all = {p.digest.encode(): p for p in self.store.requisites(self.inputs)}
        return self._all

    def __contains__(self, digest: object) -> bool:
        return digest in self.direct or digest in self.closure()

    def __getitem__(self, digest: bytes) -> StorePath:
        hit = self.direct.get(digest)
        return hit if hit is not None else self.closure()[digest]


@attrs.frozen
class BuildContext:
    """What a builder sees: the resolved record with output placeholders replaced by scratch
    paths, the input paths, a temporary directory and a log.

    ``closure`` is every store path the builder may read (the inputs and what they refer to);
    a sandbox exposes exactly these.  ``tmpdir`` is a private temporary directory's path; it
    is created on demand (``make_tmpdir``) and deleted after the build.
    """

    drv: Derivation
    resolved: ResolvedDerivation
    builder: str
    args: tuple[str, ...]
    env: SortedMap[str, str]
    outputs: SortedMap[str, Path]
    inputs: tuple[Path, ...]
    store_root: Path
    tmpdir: Path
    log: LogWriter
    candidates: Candidates = attrs.field(repr=False)

    @property
    def out(self) -> Path:
        return self.outputs["out"]

    @property
    def closure(self) -> tuple[Path, ...]:
        root = str(self.store_root)
        return tuple(Path(f"{root}/{p.basename}") for p in sorted(self.candidates.closure().values()))

    def make_tmpdir(self) -> Path:
        self.tmpdir.mkdir(exist_ok=True)
        return self.tmpdir

    @property
    def builtin_name(self) -> str | None:
        return self.builder[len("builtin:") :] if self.builder.startswith("builtin:") else None


BuildRunner = Callable[[BuildContext], None]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a log (empty if there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except FileNotFoundError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


def _failure(drv: Derivation, log: LogWriter, reason: str, cause: SkiffError | None = None) -> SkiffError:
    """The error of a failed build: the builder's own code (E112 for a plain failure), the
    derivation's name and key, the log's path and its last lines."""
    log.close()
    if cause is not None and cause.notes:
        notes = list(cause.notes)  # the builder said what matters (e.g. a package's last lines)
    else:
        # the last lines, each a note: few enough that the rendering does not elide them
        notes = [Note(f"log: {line}") for line in log_tail(log.path)[-10:]]
    help_lines = list(cause.help) if cause is not None else []
    if log.path.exists():
        help_lines.append(f"build log: {log.path}")
    code = cause.code if cause is not None else BUILD_FAILED
    return SkiffError(code, f"builder of derivation '{drv.name}' ({drv.key}) failed: {reason}",
                      cause.span if cause is not None else None, help=help_lines, notes=notes)


def build_outputs(
    store: LocalStore,
    drv: Derivation,
    resolved: ResolvedDerivation,
    runner: BuildRunner,
    marker: PendingMarker | None = None,
) -> dict[str, StorePath]:
    """Build ``resolved`` (the resolution of ``drv``) and register its outputs and realisation.

    The caller holds the resolved key's lock and the store's shared GC lock; ``marker`` is the
    caller's pending marker (one per realization run), or a fresh one.
    """
    if marker is None:
        with store.pending() as own:
            return build_outputs(store, drv, resolved, runner, own)
    candidates = Candidates(store, resolved.inputs)
    scratch = {o: store.scratch_path(resolved.output_name(o)) for o in resolved.outputs}
    log_path = store.log_path(drv.key, drv.name)
    log_path.unlink(missing_ok=True)
    log = LogWriter(log_path)
    marker.add(p.name for _d, p in scratch.values())
    tmp = store.meta / "tmp" / f"build-{scratch[resolved.outputs[0]][0]}"
    try:
        paths = {o: str(p) for o, (_d, p) in scratch.items()}
        ctx = BuildContext(
            drv=drv,
            resolved=resolved,
            builder=substitute_outputs(resolved.builder, paths),
            args=tuple(substitute_outputs(a, paths) for a in resolved.args),
            env=SortedMap((k, substitute_outputs(v, paths)) for k, v in resolved.env.items()),
            outputs=SortedMap((o, p) for o, (_d, p) in scratch.items()),
            inputs=tuple(store.real_path(p) for p in resolved.inputs),
            store_root=store.root,
            tmpdir=tmp,
            log=log,
            candidates=candidates,
        )
        try:
            runner(ctx)
        except SkiffError as e:
            raise _failure(drv, log, e.message, e) from None
        except RecursionError:  # the tree walks recurse once per folder level
            raise _failure(drv, log, f"a tree it works on is nested too deeply (more than about "
                                     f"{sys.getrecursionlimit() - 100} folders inside each other), "
                                     "or the builder called itself without end") from None
        except Exception as e:  # a builtin builder's bug or an OS error: still a failed build
            raise _failure(drv, log, f"{type(e).__name__}: {e}") from None
        log.close()
        items = []
        outputs: dict[str, StorePath] = {}
        for o, (sdigest, spath) in scratch.items():
            if not os.path.lexists(spath):
                raise _failure(drv, log, f"it did not create output '{o}' (${{outputs.{o}}})")
            others = [d.encode() for oo, (d, _p) in scratch.items() if oo != o]
            th = OutputScan(sdigest.encode(), candidates, others).hash(spath)
            name = resolved.output_name(o)
            final = StorePath(th.digest(name), name)
            if th.self_refs:
                rewrite_self_refs(spath, list(th.self_refs), sdigest.encode(), final.digest.encode())
                again = OutputScan(final.digest.encode(), candidates).hash(spath)
                if again.xxh_manifest != th.xxh_manifest:
                    raise SkiffError(BAD_OUTPUT, f"output '{o}' of '{drv.name}' changed while it was hashed")
                th = attrs.evolve(again, self_refs=th.self_refs)
            normalize(spath)
            if resolved.fixed is not None:
                _check_fixed(drv, resolved, th)
            refs = sorted({candidates[r] for r in th.references} | ({final} if th.self_refs else set()), key=str)
            items.append((spath, final, th, "output", drv.key, refs))
            outputs[o] = final

        def register(c) -> None:  # type: ignore[no-untyped-def]
            c.execute("INSERT OR REPLACE INTO resolved VALUES (?,?)",
                      (resolved.key, json.dumps(resolved.to_doc(), sort_keys=True)))
            c.executemany("INSERT OR REPLACE INTO resolved_outputs VALUES (?,?,?)",
                          [(resolved.key, o, p.basename) for o, p in outputs.items()])
            store.register_realisation(drv.key, resolved.key, c)

        store.finalize(items, marker, register)
        store.journal(drv.key, resolved.key, outputs)
        return outputs
    except BaseException as e:
        for _d, p in scratch.values():
            remove_tree(p)
        if isinstance(e, OSError) and e.errno == errno.ENAMETOOLONG:
            raise _failure(drv, log, "its output is nested too deeply: a path in it is longer than the system can "
                                     "name (the store's walks use whole paths)") from None
        raise
    finally:
        log.close()
        remove_tree(tmp)


def _check_fixed(drv: Derivation, resolved: ResolvedDerivation, th) -> None:  # type: ignore[no-untyped-def]
    fixed = resolved.fixed
    assert fixed is not None
    if fixed.mode == "flat":
        if th.kind != "file":
            raise SkiffError(HASH_MISMATCH, f"fixed-output derivation '{drv.name}' (flat) must produce a single regular file, found a {th.kind}")
        actual = th.flat_sha256
    else:
        actual = th.sha256
    if actual != fixed.sha256:
        raise SkiffError(
            HASH_MISMATCH,
            f"hash mismatch in fixed-output derivation '{drv.name}': declared sha256 {fixed.sha256}, got {actual}",
            help=[f"if the new content is expected, declare sha256 = \"{actual}\""],
        )


