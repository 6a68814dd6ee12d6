"""File locks (``fcntl.flock``) that coordinate processes sharing one store.

* The *GC lock* (``.skiffeval/gc.lock``): every operation that creates or registers store
  objects holds it shared; ``gc``, ``rebuild_db`` and the start-up cleaning of leftovers hold it
  exclusive.  So a running build is a GC root by exclusion (docs/store.md, "Locks").
* *Key locks* (``.skiffeval/locks/<key>.lock``): held while a resolved derivation is built, so
  two processes build it once; and while an output path is renamed into place and registered.

Why flock and not ``fcntl.lockf``: POSIX record locks belong to the process, so two threads of
one scheduler would not exclude each other, and closing any descriptor of the file drops them.
flock locks belong to the open file description, which is what a thread pool needs.
"""

from __future__ import annotations

import fcntl
import os
from types import TracebackType

__all__ = ["FileLock"]


class FileLock:
    """An flock on ``path`` (created if needed); a context manager; not reentrant."""

    def __init__(self, path: str | os.PathLike[str], *, shared: bool = False) -> None:
        self.path = os.fspath(path)
        self.shared = shared
        self.fd: int | None = None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock; with ``blocking=False`` return False instead of waiting."""
        assert self.fd is None, "lock already held"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        flags = (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)  # closing the only descriptor releases the flock

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
