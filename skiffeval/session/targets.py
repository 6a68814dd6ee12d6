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

__all__ = ["Target", "resolve_target", "split_target"]


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


def _store_target(session: Session, text: str) -> list[Target] | None:
    store = session.store
    path = os.path.abspath(os.path.join(session.options.cwd, text))
    if os.path.islink(path) and not path.startswith(str(store.root) + "/"):
        path = os.path.realpath(path)
    root = str(store.root) + "/"
    if not path.startswith(root) and not (("/" not in text) and text.endswith(".drv")):
        return None
    sp = store.parse_path(path if path.startswith(root) else text)
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


def resolve_target(session: Session, text: str, args: dict[str, ArgValue] | None = None) -> list[Target]:
    """The derivations/outputs a TARGET names (see the module docstring)."""
    hit = _store_target(session, text)
    if hit is not None:
        return hit
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
