"""The user's cache folder: ``$XDG_CACHE_HOME/skiffeval`` (``~/.cache/skiffeval``).

It holds what is derived from skiffeval's own inputs alone and costs time to make again — the
compiled grammar tables, the parsed files (``syntax.astcache``), the "did you mean" answers for a
Kconfig tree's symbol names — each
file named by a digest of everything it depends on, so a stale file is never read.  Deleting
the folder loses nothing but time.  When it cannot be written, the system's temporary folder
is used instead.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["user_cache_dir"]


def user_cache_dir(*parts: str) -> str:
    """The folder ``<cache>/skiffeval/<parts...>``, created if missing (a writable temporary
    folder when the cache folder cannot be written)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "skiffeval", *parts)
    try:
        os.makedirs(directory, exist_ok=True)
        probe = os.path.join(directory, f".probe-{os.getpid()}")
        with open(probe, "w"):
            pass
        os.unlink(probe)
    except OSError:
        directory = os.path.join(tempfile.gettempdir(), f"skiffeval-cache-{os.getuid()}", *parts)
        os.makedirs(directory, exist_ok=True)
    return directory
