"""What a TARGET names on the command line: ``FILE[#ATTR]``, a store path, a ``.drv`` path, or
an out-link (a symlink into the store).

``resolve_target`` answers with ``Target`` records: the derivation (when known), the output, and
the store path when the output is already there.  Files are evaluated; store paths are looked
up in the store's metadata (their deriver), so queries work without re-evaluating anything.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import attrs

from skiffeval.derivation import Derivation, StorePath
from skiffeval.diagnostics import SkiffError
from skiffeval.session.codes import NOT_BUILDABLE

if TYPE_CHECKING:  # pragma: no cover
    from skiffeval.session.core import ArgValue, Session

__all__ = ["Target", "resolve_target", "store_target", "file_target", "split_target", "targets_record", "targets_of_record"]


@attrs.frozen
class Target:
    label: str
    drv: Derivation | None
    output: str
    path: StorePath | None


def split_target(text: str) -> tuple[str, str]:
    """``FILE#ATTR`` -> (FILE, ATTR); a missing ``#ATTR`` gives ''."""
    if "#" in text:
        file, _, attr = text.partition("#")
        return file, attr
    return text, ""


def _in_store(session: Session, text: str) -> str | None:
    """What ``text`` names in the store — the path (an out-link followed), or a bare ``.drv``
    basename as given — or None for a file to evaluate."""
    root = str(session.store.root) + "/"
    path = os.path.abspath(os.path.join(session.options.cwd, text))
    if os.path.islink(path) and not path.startswith(root):
        path = os.path.realpath(path)
    if path.startswith(root):
        return path
    return text if "/" not in text and text.endswith(".drv") else None


def store_target(session: Session, text: str) -> list[Target] | None:
    """What ``text`` names in the store (a path, a ``.drv`` or an out-link into it), read from
    the store alone; None when it names a file to evaluate (``file_target``)."""
    store = session.store
    named = _in_store(session, text)
    if named is None:
        return None
    sp = store.parse_path(named)
    if sp.name.endswith(".drv"):
        drv = store.read_derivation(sp.digest)
        if drv is None:
            raise SkiffError(NOT_BUILDABLE, f"'{text}' is not a derivation known to the store '{store.root}'")
        realised = store.realisation(drv.key)
        out = realised.outputs.get(drv.outputs[0]) if realised is not None else None
        return [Target(drv.name, drv, drv.outputs[0], out)]
    if not store.is_valid(sp):
        raise SkiffError(NOT_BUILDABLE, f"'{text}' is not a valid path in the store '{store.root}'")
    deriver = store.deriver(sp)
    drv = store.read_derivation(deriver) if deriver else None
    output = "out"
    if drv is not None:
        realised = store.realisation(drv.key)
        if realised is not None:
            for name, p in realised.outputs.items():
                if p == sp:
                    output = name
    return [Target(sp.name, drv, output, sp)]


def targets_record(session: Session, targets: list[Target]) -> dict | None:
    """What the evaluation cache keeps of a file's ``targets`` (``targets_of_record`` makes them
    again without evaluating): each one's label, ``.drv`` basename and output, and the display
    path of every file label the evaluation made (``queries.display_file``).  None when a
    target's ``.drv`` is not in the store (nothing built it yet): then there is nothing to read
    it back from."""
    store = session.store
    if not targets or any(t.drv is None for t in targets):
        return None
    drvs = [t.drv.drv_path for t in targets]  # type: ignore[union-attr]
    if not all(store.is_valid(p) for p in drvs):
        return None
    host = session._system_host
    labels = {label: session.evaluator.display_name(path) for label, path in host.labels.items()} if host is not None else {}
    return {"targets": [{"path": p.basename, "label": t.label, "output": t.output} for p, t in zip(drvs, targets)],
            "labels": labels}


def targets_of_record(session: Session, record: dict) -> list[Target] | None:
    """The targets a ``targets_record`` keeps, read from the store (None if one is not there
    any more); their outputs are looked up now, as ``resolve_target`` does.  The file labels'
    display paths go to the session (``Session.display_labels``)."""
    store = session.store
    out: list[Target] = []
    for t in record["targets"]:
        drv = store.read_derivation(t["path"][:26])
        if drv is None or drv.drv_path.basename != t["path"]:
            return None
        realised = store.realisation(drv.key)
        path = realised.outputs.get(t["output"]) if realised is not None else None
        out.append(Target(t["label"], drv, t["output"], path))
    session.display_labels.update(record.get("labels", {}))
    return out


def resolve_target(session: Session, text: str, args: dict[str, ArgValue] | None = None) -> list[Target]:
    """The derivations/outputs a TARGET names (see the module docstring)."""
    hit = store_target(session, text)
    return hit if hit is not None else file_target(session, text, args)


def file_target(session: Session, text: str, args: dict[str, ArgValue] | None = None) -> list[Target]:
    """The derivations/outputs of ``FILE[#ATTR]``, evaluated (``text`` names no store path)."""
    file, attr = split_target(text)
    from skiffeval.session.core import BuildRequest

    try:
        found = session.instantiate(BuildRequest(file, (attr,) if attr else (), args or {}))
    except SkiffError as exc:
        if exc.code.domain == "syntax" and not file.endswith(".sk"):
            # "path-info /etc/passwd": a file the user meant as a store path, not a board
            exc.help.append(f"'{file}' is read as a board file because it is not in the store '{session.store.root}'")
        raise
    store = session.store
    out: list[Target] = []
    for label, drv, output in found:
        realised = store.realisation(drv.key)
        path = realised.outputs.get(output) if realised is not None else None
        out.append(Target(label or drv.name, drv, output, path))
    return out
