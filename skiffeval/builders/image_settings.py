"""Where Buildroot image builds download, cache and build, and whom they tell of progress.

A leaf of the builders package: the session sets these before realizing (``configure_images``)
without importing the image builder itself, which is imported only when a derivation needs it.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

__all__ = ["ImageSettings", "SETTINGS"]


@attrs.define
class ImageSettings:
    """Where Buildroot builds and caches (none of it is hashed), and whom to tell about progress."""

    builds_dir: str | None = None  # default: <store>/.skiffeval/builds
    dl_dir: str | None = None  # default: <store>/.skiffeval/dl
    ccache_dir: str | None = None
    jobs: int | None = None  # make's BR2_JLEVEL; None: the configuration's (0 = as many as CPUs)
    pure: bool = False
    on_progress: Callable[[str, object], None] | None = None  # (derivation name, ProgressEvent)
    on_line: Callable[[str, str], None] | None = None  # (derivation name, output line)


SETTINGS = ImageSettings()
