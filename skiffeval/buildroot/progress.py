"""Progress of a Buildroot build, read from its ``>>>`` lines.

The model
---------
Buildroot announces every step of every package with the ``MESSAGE`` macro of
``support/misc/utils.mk``::

    echo "$(TERM_BOLD)>>> $($(PKG)_NAME) $($(PKG)_VERSION) $(call qstrip,$(1))$(TERM_RESET)"

so a line is ``>>> <name> <version> <text>``, single spaces, where

* ``name`` is the package name (``busybox``, ``host-ncurses``);
* ``version`` is the *sanitized* version (``/``, ``:`` and spaces become ``_``) and may be
  empty, giving two spaces (``>>> host-skeleton  Extracting``);
* outside a package (``PKG`` unset: target finalization, filesystem images) both are empty:
  ``>>>   Finalizing target directory``, ``>>>   Generating filesystem image rootfs.ext2``;
* ``TERM_BOLD``/``TERM_RESET`` come from ``tput smso``/``rmso``: empty without ``TERM`` (the
  driver does not pass it), but stripped here anyway, as are other ANSI sequences and ``\\r``.

The step texts of ``package/pkg-generic.mk`` map to the step names of its stamp files and
instrumentation hooks (``STEP_TEXTS``); other texts (``Patching libtool``, ``Autoreconfiguring``,
``Building kernel module(s)``, ...) belong to the step in progress and keep their own text as
``message``.

``ProgressTracker`` consumes every output line (``feed``): it attributes each line to the package
of the last ``>>>`` line (Buildroot's top-level make is serial unless per-package directories
and ``-j`` are used, which the driver does not do), keeps the last 30 lines per package, and
counts a package *done* when, after one of its install steps began, a ``>>>`` line of anything
else arrives or make ends successfully (``finish``).  Packages complete before the build began
(their ``.stamp_installed`` exists) are passed in as ``already_done``.  ``total`` comes from
``make show-info``.  The tracker never raises on any input line.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable

import attrs

__all__ = [
    "StepLine",
    "ProgressEvent",
    "ProgressTracker",
    "parse_step_line",
    "strip_ansi",
    "STEP_TEXTS",
    "TAIL_LINES",
]

TAIL_LINES = 30

# MESSAGE texts of pkg-generic.mk → the step name used by its stamps and hooks.
STEP_TEXTS: dict[str, str] = {
    "Downloading": "download",
    "Extracting": "extract",
    "Patching": "patch",
    "Configuring": "configure",
    "Building": "build",
    "Installing to host directory": "install-host",
    "Installing to staging directory": "install-staging",
    "Installing to target": "install-target",
    "Installing to images directory": "install-image",
}
_INSTALL_STEPS = frozenset({"install-host", "install-staging", "install-target", "install-image"})

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


def strip_ansi(line: str) -> str:
    """``line`` without terminal escape sequences, ``\\r`` and the trailing newline."""
    return _ANSI_RE.sub("", line).replace("\r", "").rstrip("\n")


@attrs.frozen
class StepLine:
    """A parsed ``>>>`` line: ``package`` and ``version`` ('' outside a package), the ``step``
    name (``build``; for a text not in ``STEP_TEXTS``: '' ) and the ``message`` as printed."""

    package: str
    version: str
    step: str
    message: str

    @property
    def is_package(self) -> bool:
        return bool(self.package)


def _step_of(message: str) -> str:
    if message in STEP_TEXTS:
        return STEP_TEXTS[message]
    if message.startswith("Syncing from source dir"):
        return "rsync"
    return ""


def parse_step_line(line: str) -> StepLine | None:
    """The ``StepLine`` of one output line, or None when it is not a ``>>>`` line."""
    text = strip_ansi(line)
    if not text.startswith(">>> "):
        return None
    parts = text[4:].split(" ", 2)
    if len(parts) < 3:
        return None
    package, version, message = parts
    message = message.strip()
    if not message:
        return None
    return StepLine(package, version, _step_of(message), message)


@attrs.frozen
class ProgressEvent:
    """What a progress display shows after a ``>>>`` line: the package and step now running,
    ``done`` of ``total`` packages (``total`` None when unknown) and seconds ``elapsed``."""

    package: str
    version: str
    step: str
    message: str
    done: int
    total: int | None
    elapsed: float
    line_number: int


class ProgressTracker:
    """Turns make's output lines into ``ProgressEvent``s and remembers where a failure happened.

    ``feed`` every line; each ``>>>`` line returns (and passes to ``on_event``) an event.
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        already_done: Iterable[str] = (),
        on_event: Callable[[ProgressEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        tail_lines: int = TAIL_LINES,
    ) -> None:
        self.total = total
        self.on_event = on_event
        self._clock = clock
        self._start = clock()
        self._tail_size = tail_lines
        self.done: set[str] = set(already_done)
        self.order: list[str] = []  # packages in the order their first >>> line appeared
        self.last: StepLine | None = None
        self.last_package_step: StepLine | None = None
        self._installing: str | None = None  # package whose install step is the latest line
        self._tails: dict[str, deque[str]] = {}
        self._all_tail: deque[str] = deque(maxlen=max(tail_lines, 1))
        self.lines = 0

    # -- feeding

    def feed(self, line: str) -> ProgressEvent | None:
        """Consume one output line; returns an event for ``>>>`` lines.  Never raises."""
        self.lines += 1
        text = strip_ansi(line)
        step = parse_step_line(text)
        if step is None:
            self._all_tail.append(text)
            key = self.last.package if self.last is not None else ""
            self._tail(key).append(text)
            return None
        if self._installing is not None and self._installing != step.package:
            self._finish_package(self._installing)
        self._installing = step.package if step.step in _INSTALL_STEPS and step.package else None
        if step.package and step.package not in self._tails:
            self.order.append(step.package)
        self.last = step
        if step.package:
            self.last_package_step = step
        self._all_tail.append(text)
        self._tail(step.package).append(text)
        event = ProgressEvent(
            step.package,
            step.version,
            step.step,
            step.message,
            len(self.done),
            self.total,
            self.elapsed,
            self.lines,
        )
        if self.on_event is not None:
            self.on_event(event)
        return event

    def finish(self, success: bool) -> None:
        """Make has ended: on success the package being installed is done too."""
        if success and self._installing is not None:
            self._finish_package(self._installing)
            self._installing = None

    # -- queries

    @property
    def elapsed(self) -> float:
        return max(self._clock() - self._start, 0.0)

    @property
    def done_count(self) -> int:
        return len(self.done)

    def package_tail(self, package: str) -> tuple[str, ...]:
        """The last lines (at most 30) printed while ``package`` was the current package."""
        return tuple(self._tails.get(package, ()))

    def tail(self) -> tuple[str, ...]:
        """The last lines of the whole output."""
        return tuple(self._all_tail)

    # -- internals

    def _tail(self, key: str) -> deque[str]:
        buf = self._tails.get(key)
        if buf is None:
            buf = self._tails[key] = deque(maxlen=max(self._tail_size, 1))
        return buf

    def _finish_package(self, package: str) -> None:
        self.done.add(package)
