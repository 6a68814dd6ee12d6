"""The Kconfig view of a Buildroot tree (``kconfig_view_files``): what ``resolved`` takes of a
local tree (docs/kconfig.md, "The Kconfig view")."""

from __future__ import annotations

import os
from pathlib import Path

from skiffeval.kconfig.buildroot import kconfig_view_files


def _write(root: Path, files: list[str]) -> Path:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel + "\n")
    return root


def test_the_view_is_config_files_makefile_and_configs(tmp_path: Path) -> None:
    root = _write(tmp_path / "br", [
        "Config.in", "Config.in.legacy", "Makefile", "Makefile.legacy",
        "arch/Config.in.arm", "package/foo/Config.in", "package/foo/Config.in.host", "package/foo/foo.mk",
        "package/php/Config.ext", "configs/a_defconfig", "configs/readme.txt",
        "board/acme/acme_defconfig", "board/acme/Makefile", "support/kconfig/Makefile",
        ".git/Config.in", "sub/.git/Config.in",
    ])
    os.symlink("Config.in", root / "package/foo/Config.alias")
    assert kconfig_view_files(str(root)) == [
        "Config.in", "Config.in.legacy", "Makefile", "arch/Config.in.arm", "configs/a_defconfig",
        "configs/readme.txt", "package/foo/Config.alias", "package/foo/Config.in", "package/foo/Config.in.host",
        "package/php/Config.ext", "sub/.git/Config.in",
    ]


def test_extra_files_join_the_view_when_they_are_files_in_the_tree(tmp_path: Path) -> None:
    root = _write(tmp_path / "br", ["Config.in", "board/acme/acme_defconfig", "outside"])
    (root / "board/dir").mkdir()
    view = kconfig_view_files(str(root / ""), extra=("board/acme/acme_defconfig", "board/./acme/acme_defconfig",
                                                     "board/dir", "board/missing", "../br/outside", "/etc/passwd"))
    assert view == ["Config.in", "board/acme/acme_defconfig"]
