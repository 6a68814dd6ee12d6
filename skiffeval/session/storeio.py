"""The evaluator's I/O in a session: the file system for reading, the store for sources.

Reading is ``FileSystemIO``'s (every read recorded with its digest).  A path interpolated into
a string (``"${./overlay}"``) is imported into the store — content-addressed, through the store's
stat cache, so an unchanged tree costs one ``lstat`` per file — and the string is the store
path, with a ``SourceRef`` in its context that later makes it a derivation's input source.
"""

from __future__ import annotations

import os
import re

from skiffeval.eval.io import FileSystemIO
from skiffeval.session.evalcache import InputLog
from skiffeval.session.refs import SourceRef

__all__ = ["StoreIO", "store_name"]

_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9+._?=-]+")


def store_name(path: str) -> str:
    """A store path name for a file: its base name with characters stores do not allow replaced."""
    base = os.path.basename(path.rstrip("/")) or "root"
    name = _BAD_NAME_CHARS.sub("_", base).lstrip(".") or "source"
    return name[:200]


class StoreIO(FileSystemIO):
    """``FileSystemIO`` whose interpolated paths are imported into ``store``, and which logs
    every input for the evaluation cache (``log``)."""

    def __init__(self, store, log: InputLog | None = None) -> None:  # store: a LocalStore
        super().__init__()
        self.store = store
        self.log = log if log is not None else InputLog()
        self._imported: dict[str, tuple[str, SourceRef]] = {}

    def imported(self) -> dict[str, str]:
        """The paths imported so far, by the store path text they became (text -> path)."""
        return {text: path for path, (text, _ref) in self._imported.items()}

    def read_file(self, path: str) -> bytes:
        try:
            data = super().read_file(path)
        except OSError:
            self.log.kind(path, self.file_type(path))
            raise
        self.log.file(path, data)
        return data

    def file_type(self, path: str) -> str | None:
        kind = super().file_type(path)
        self.log.kind(path, kind)
        return kind

    def read_dir(self, path: str) -> dict[str, str]:
        entries = super().read_dir(path)
        self.log.listing(path, list(entries))
        for name, kind in entries.items():
            self.log.kind(os.path.join(path, name), kind)
        return entries

    def import_path(self, path: str):
        """Import a file or tree into the store (logged as an input); its store path."""
        self.log.tree(path)  # before the import reads it
        sp = self.store.add_path(path, store_name(path))
        self.inputs[path] = sp.digest
        return sp

    def path_to_string(self, path: str) -> tuple[str, object]:
        cached = self._imported.get(path)
        if cached is not None:
            return cached
        if self.file_type(path) is None:
            raise FileNotFoundError(path)
        sp = self.import_path(path)
        text = str(self.store.real_path(sp))
        result = (text, SourceRef(sp, text))
        self._imported[path] = result
        return result
