"""GC roots: named roots (revisions) and indirect roots (out-links such as ``./result``).

Roots are files, not rows, so ``rebuild_db`` cannot lose them: ``.skiffeval/roots/named/<name>``
is a symlink to the rooted store path, ``.skiffeval/roots/links/<hash of the link's path>`` a
symlink to the out-link, which roots whatever it points to while it points into the store.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from skiffeval.derivation import StorePath
from skiffeval.diagnostics import SkiffError
from skiffeval.store.codes import BAD_ROOT, NOT_IN_STORE
from skiffeval.store.protocol import Root

if TYPE_CHECKING:
    from skiffeval.store.local import LocalStore

__all__ = ["add_root", "remove_root", "add_indirect_root", "list_roots"]


def add_root(store: LocalStore, name: str, target: StorePath) -> None:
    """A named root (a revision): keeps ``target`` and its closure alive."""
    if not name or "/" in name or name.startswith(".") or "\0" in name:
        raise SkiffError(BAD_ROOT, f"invalid root name {name!r}")
    if not store.is_valid(target):
        raise SkiffError(NOT_IN_STORE, f"cannot root '{target}': not a valid path in the store")
    _replace_symlink(str(store.real_path(target)), store.meta / "roots" / "named" / name)


def remove_root(store: LocalStore, name: str) -> bool:
    try:
        (store.meta / "roots" / "named" / name).unlink()
        return True
    except FileNotFoundError:
        return False


def add_indirect_root(store: LocalStore, link: str | os.PathLike[str], target: StorePath) -> Path:
    """Point the symlink ``link`` (e.g. ``./result``) at ``target`` and record it as a root:
    the target stays alive for as long as the link points at it."""
    if not store.is_valid(target):
        raise SkiffError(NOT_IN_STORE, f"cannot root '{target}': not a valid path in the store")
    link_abs = Path(os.path.abspath(link))
    if link_abs.exists() and not link_abs.is_symlink():
        raise SkiffError(BAD_ROOT, f"'{link_abs}' exists and is not a symlink; refusing to replace it")
    _replace_symlink(str(store.real_path(target)), link_abs)
    record = store.meta / "roots" / "links" / hashlib.sha256(str(link_abs).encode()).hexdigest()[:32]
    _replace_symlink(str(link_abs), record)
    return link_abs


def list_roots(store: LocalStore) -> list[Root]:
    """Every root; a link root whose link is gone or points elsewhere has ``target=None``."""
    out: list[Root] = []
    named = store.meta / "roots" / "named"
    for entry in sorted(named.iterdir()):
        out.append(Root("named", entry.name, _target_of(store, os.readlink(entry))))
    for entry in sorted((store.meta / "roots" / "links").iterdir()):
        link = os.readlink(entry)
        try:
            target = _target_of(store, os.readlink(link)) if os.path.islink(link) else None
        except OSError:
            target = None
        out.append(Root("link", entry.name, target, link))
    return out


def _target_of(store: LocalStore, text: str) -> StorePath | None:
    try:
        return store.parse_path(text)
    except SkiffError:
        return None


def _replace_symlink(target: str, link: Path) -> None:
    tmp = link.with_name(f".{link.name}.tmp-{secrets.token_hex(4)}")
    os.symlink(target, tmp)
    os.replace(tmp, link)
