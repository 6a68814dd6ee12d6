"""The evaluator's only window on the world: an injected I/O interface.

The evaluator never opens a file itself.  Every read goes through an ``EvalIO``, which records it
as a hashed input (so a later run can tell what the evaluation depended on), and every path that
is interpolated into a string is handed to ``path_to_string``, which the host answers with a
store path and a context element (the session copies the path into the store).

``FileSystemIO`` reads the real file system and records XXH3 digests of what it read; it has no
store, so ``path_to_string`` yields the path itself with a "source" context element naming it.
``MemoryIO`` serves a dict of files, for tests.
"""

from __future__ import annotations

import os
import stat
from typing import Protocol

import xxhash

__all__ = ["EvalIO", "FileSystemIO", "MemoryIO", "NotARegularFile", "SourceRef"]


class SourceRef(tuple):
    """A context element for a path copied as a source: ``("source", path)``."""

    __slots__ = ()

    def __new__(cls, path: str) -> SourceRef:
        return super().__new__(cls, ("source", path))


class NotARegularFile(OSError):
    """A read of something that is not a regular file or directory: a FIFO, a socket, a device
    (``kind`` says which)."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path} is {kind}")
        self.filename = path
        self.kind = kind


_SPECIAL_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class EvalIO(Protocol):
    """What the evaluator may ask of the world; errors are plain ``OSError`` subclasses."""

    def read_file(self, path: str) -> bytes:
        """The bytes of a regular file (following symlinks); records the read."""

    def file_type(self, path: str) -> str | None:
        """``regular``, ``directory``, ``symlink`` or ``unknown``; None when nothing is there.
        Does not follow a final symlink."""

    def read_dir(self, path: str) -> dict[str, str]:
        """Entry name -> file type (as ``file_type``) for a directory; records the listing."""

    def path_to_string(self, path: str) -> tuple[str, object]:
        """The string a path becomes when interpolated, and its context element."""

    def trace(self, message: str, where: str) -> None:
        """Show a ``builtins.trace`` message (the evaluator itself never prints)."""


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unknown"


class FileSystemIO:
    """Reads the real file system and records every read: ``inputs`` maps path -> digest."""

    def __init__(self) -> None:
        self.inputs: dict[str, str] = {}
        self.traces: list[tuple[str, str]] = []

    def read_file(self, path: str) -> bytes:
        # opened without blocking and checked before reading: a FIFO would wait for a writer
        # and a device such as /dev/zero never ends; neither is a file the language may read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb", closefd=True) as f:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                if stat.S_ISDIR(mode):
                    raise IsADirectoryError(21, "Is a directory", path)
                raise NotARegularFile(path, _SPECIAL_KINDS.get(stat.S_IFMT(mode), "not a regular file"))
            data = f.read()
        self.inputs[path] = xxhash.xxh3_128_hexdigest(data)
        return data

    def file_type(self, path: str) -> str | None:
        try:
            return _kind(os.lstat(path).st_mode)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None

    def read_dir(self, path: str) -> dict[str, str]:
        entries: dict[str, str] = {}
        with os.scandir(path) as it:
            for entry in it:
                entries[entry.name] = _kind(entry.stat(follow_symlinks=False).st_mode)
        listing = "\n".join(f"{k}\t{entries[k]}" for k in sorted(entries))
        self.inputs[path + "/"] = xxhash.xxh3_128_hexdigest(listing.encode())
        return entries

    def path_to_string(self, path: str) -> tuple[str, object]:
        if self.file_type(path) is None:
            raise FileNotFoundError(path)
        return path, SourceRef(path)

    def trace(self, message: str, where: str) -> None:
        self.traces.append((message, where))


class MemoryIO:
    """Serves files from a dict (path -> bytes or str); directories are implied by the paths."""

    def __init__(self, files: dict[str, bytes | str]) -> None:
        self.files = {k: (v.encode() if isinstance(v, str) else v) for k, v in files.items()}
        self.inputs: dict[str, str] = {}
        self.traces: list[tuple[str, str]] = []

    def read_file(self, path: str) -> bytes:
        if path in self.files:
            data = self.files[path]
            self.inputs[path] = xxhash.xxh3_128_hexdigest(data)
            return data
        if self.file_type(path) == "directory":
            raise IsADirectoryError(path)
        raise FileNotFoundError(path)

    def file_type(self, path: str) -> str | None:
        if path in self.files:
            return "regular"
        prefix = path.rstrip("/") + "/"
        if path == "/" or any(k.startswith(prefix) for k in self.files):
            return "directory"
        return None

    def read_dir(self, path: str) -> dict[str, str]:
        if self.file_type(path) != "directory":
            raise NotADirectoryError(path)
        prefix = path.rstrip("/") + "/"
        out: dict[str, str] = {}
        for k in self.files:
            if k.startswith(prefix):
                rest = k[len(prefix) :]
                name, _, tail = rest.partition("/")
                out[name] = "directory" if tail else "regular"
        return out

    def path_to_string(self, path: str) -> tuple[str, object]:
        if self.file_type(path) is None:
            raise FileNotFoundError(path)
        return path, SourceRef(path)

    def trace(self, message: str, where: str) -> None:
        self.traces.append((message, where))
