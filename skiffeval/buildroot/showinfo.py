"""``make show-info``: Buildroot's JSON description of a configuration, as frozen records.

The model
---------
``make show-info`` (offline, about 10 s on a real tree) prints one JSON object on one line, built
by ``package/pkg-utils.mk`` (``json-info``): a key per package and filesystem that the
configuration builds — the enabled packages, everything they depend on, recursively, and the
``rootfs-*`` filesystems.  A key is the Buildroot *package name*: the lower-case name of the
package directory, ``host-`` first for host packages (``host-gcc-final``), exactly what
``make <name>-dirclean`` accepts.

Each entry has ``type`` (``target``, ``host`` or ``rootfs``).  Packages carry ``name`` (the raw
name, without ``host-``), ``virtual``, ``package_dir`` (relative to the Buildroot tree, absolute
for BR2_EXTERNAL packages), ``stamp_dir``/``source_dir``/``build_dir`` (relative to ``O=``),
``dependencies`` and ``reverse_dependencies`` (sorted), ``cpe-id``, ``ignore_cves``; non-virtual
packages add ``version`` (the *download* version, unsanitized), ``licenses`` (one string as the
package wrote it), ``license_files``, ``redistributable``, ``dl_dir``, ``downloads`` (``source``
and ``uris`` as ``<backend>[|urlencode]+<url>``), ``hashes``, ``patches`` and ``provides``;
target packages add ``install_target``/``install_staging``/``install_images``.  Filesystems carry
``image_name`` and ``dependencies``.

``PackageInfo`` keeps every one of those fields (``None`` where Buildroot printed none), so
``ShowInfo.to_json`` gives back Buildroot's own structure; ``canonical_bytes`` is the stable
form for storing (sorted keys, compact; independent of Python's hash seed).

A package is *complete* in a build directory when ``<O>/<stamp_dir>/.stamp_installed`` exists
(``pkg-generic.mk`` touches it after every install step); ``complete_in`` gives the packages a
progress display can count as done before ``make`` prints anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from skiffeval.buildroot import codes
from skiffeval.canonical import canonical_json
from skiffeval.diagnostics import SkiffError

__all__ = [
    "Download",
    "PackageInfo",
    "ShowInfo",
    "parse_show_info",
    "sanitize_version",
    "package_symbol",
]


def sanitize_version(version: str) -> str:
    """The version as Buildroot uses it in directory names and ``>>>`` lines (``sanitize`` in
    ``support/misc/utils.mk``: spaces, ``:`` and ``/`` become ``_``)."""
    return version.strip().replace("/", "_").replace(":", "_").replace(" ", "_")


def package_symbol(name: str) -> str:
    """The Kconfig symbol of a package name: ``host-foo-bar`` → ``BR2_PACKAGE_HOST_FOO_BAR``
    (Buildroot's ``UPPERCASE``: letters upper-cased, ``-`` and ``.`` become ``_``)."""
    return "BR2_PACKAGE_" + name.upper().replace("-", "_").replace(".", "_")


def _strs(value: Any, field: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"field '{field}' of '{key}' is not a list of strings")
    return tuple(value)


def _opt(value: Any, kind: type, field: str, key: str) -> Any:
    if value is None or isinstance(value, kind):
        return value
    raise _bad(f"field '{field}' of '{key}' is not a {kind.__name__}")


def _bad(message: str) -> SkiffError:
    return SkiffError(codes.BAD_SHOW_INFO, f"make show-info: {message}")


@attrs.frozen
class Download:
    """One file a package downloads: its ``source`` file name and the URIs tried, in order."""

    source: str
    uris: tuple[str, ...]

    @staticmethod
    def url_of(uri: str) -> str:
        """The plain URL of a show-info URI (``https|urlencode+https://x`` → ``https://x``)."""
        return uri.split("+", 1)[1] if "+" in uri.split("://", 1)[0] else uri


@attrs.frozen
class PackageInfo:
    """One entry of ``make show-info``; see the module docstring for the fields."""

    key: str
    type: str
    name: str | None = None
    virtual: bool | None = None
    version: str | None = None
    licenses: str | None = None
    license_files: tuple[str, ...] = ()
    redistributable: bool | None = None
    dl_dir: str | None = None
    downloads: tuple[Download, ...] = ()
    hashes: tuple[str, ...] = ()
    patches: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    package_dir: str | None = None
    stamp_dir: str | None = None
    source_dir: str | None = None
    build_dir: str | None = None
    install_target: bool | None = None
    install_staging: bool | None = None
    install_images: bool | None = None
    dependencies: tuple[str, ...] = ()
    reverse_dependencies: tuple[str, ...] = ()
    cpe_id: str | None = None
    ignore_cves: tuple[str, ...] = ()
    image_name: str | None = None

    @property
    def is_package(self) -> bool:
        """True for packages (target or host), false for filesystems."""
        return self.type in ("target", "host")

    @property
    def symbol(self) -> str:
        """The package's Kconfig symbol (``BR2_PACKAGE_HOST_FOO`` for ``host-foo``)."""
        return package_symbol(self.key)

    @classmethod
    def from_json(cls, key: str, data: Mapping[str, Any]) -> PackageInfo:
        """Read one show-info entry; raises E320 when a field has the wrong type."""
        if not isinstance(data, Mapping):
            raise _bad(f"entry '{key}' is not an object")
        kind = data.get("type")
        if not isinstance(kind, str):
            raise _bad(f"entry '{key}' has no 'type'")
        downloads = []
        for dl in data.get("downloads") or []:
            if not isinstance(dl, Mapping) or not isinstance(dl.get("source"), str):
                raise _bad(f"a download of '{key}' has no 'source'")
            downloads.append(Download(dl["source"], _strs(dl.get("uris"), "uris", key)))
        return cls(
            key=key,
            type=kind,
            name=_opt(data.get("name"), str, "name", key),
            virtual=_opt(data.get("virtual"), bool, "virtual", key),
            version=_opt(data.get("version"), str, "version", key),
            licenses=_opt(data.get("licenses"), str, "licenses", key),
            license_files=_strs(data.get("license_files"), "license_files", key),
            redistributable=_opt(data.get("redistributable"), bool, "redistributable", key),
            dl_dir=_opt(data.get("dl_dir"), str, "dl_dir", key),
            downloads=tuple(downloads),
            hashes=_strs(data.get("hashes"), "hashes", key),
            patches=_strs(data.get("patches"), "patches", key),
            provides=_strs(data.get("provides"), "provides", key),
            package_dir=_opt(data.get("package_dir"), str, "package_dir", key),
            stamp_dir=_opt(data.get("stamp_dir"), str, "stamp_dir", key),
            source_dir=_opt(data.get("source_dir"), str, "source_dir", key),
            build_dir=_opt(data.get("build_dir"), str, "build_dir", key),
            install_target=_opt(data.get("install_target"), bool, "install_target", key),
            install_staging=_opt(data.get("install_staging"), bool, "install_staging", key),
            install_images=_opt(data.get("install_images"), bool, "install_images", key),
            dependencies=_strs(data.get("dependencies"), "dependencies", key),
            reverse_dependencies=_strs(data.get("reverse_dependencies"), "reverse_dependencies", key),
            cpe_id=_opt(data.get("cpe-id"), str, "cpe-id", key),
            ignore_cves=_strs(data.get("ignore_cves"), "ignore_cves", key),
            image_name=_opt(data.get("image_name"), str, "image_name", key),
        )

    def to_json(self) -> dict[str, Any]:
        """The entry in Buildroot's own field names; fields Buildroot did not print are left out."""
        out: dict[str, Any] = {"type": self.type}
        scalars = [
            ("name", self.name), ("virtual", self.virtual), ("version", self.version),
            ("licenses", self.licenses), ("redistributable", self.redistributable),
            ("dl_dir", self.dl_dir), ("package_dir", self.package_dir),
            ("stamp_dir", self.stamp_dir), ("source_dir", self.source_dir),
            ("build_dir", self.build_dir), ("install_target", self.install_target),
            ("install_staging", self.install_staging), ("install_images", self.install_images),
            ("cpe-id", self.cpe_id),
        ]
        for field, value in scalars:
            if value is not None:
                out[field] = value
        if self.type == "rootfs":
            out["image_name"] = self.image_name
        # Non-virtual packages always carry these (possibly empty); the rest only when set.
        details = self.is_package and self.virtual is False
        for field, value in [
            ("license_files", self.license_files), ("hashes", self.hashes), ("patches", self.patches),
        ]:
            if value or details:
                out[field] = list(value)
        if self.downloads or details:
            out["downloads"] = [{"source": d.source, "uris": list(d.uris)} for d in self.downloads]
        for field, value in [("provides", self.provides), ("ignore_cves", self.ignore_cves)]:
            if value:
                out[field] = list(value)
        out["dependencies"] = list(self.dependencies)
        if self.is_package:
            out["reverse_dependencies"] = list(self.reverse_dependencies)
        return out


@attrs.frozen
class ShowInfo:
    """The parsed output of ``make show-info``: entries sorted by key."""

    entries: tuple[PackageInfo, ...]
    _index: dict[str, PackageInfo] = attrs.field(init=False, eq=False, repr=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        self._index.update((p.key, p) for p in self.entries)

    @classmethod
    def from_entries(cls, entries: Iterable[PackageInfo]) -> ShowInfo:
        return cls(tuple(sorted(entries, key=lambda p: p.key)))

    def get(self, key: str) -> PackageInfo | None:
        return self._index.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    @property
    def packages(self) -> tuple[PackageInfo, ...]:
        """The packages (target and host, virtual ones included): what ``make`` steps through."""
        return tuple(p for p in self.entries if p.is_package)

    @property
    def names(self) -> frozenset[str]:
        """The keys of all packages (not filesystems)."""
        return frozenset(p.key for p in self.packages)

    @property
    def total(self) -> int:
        """How many packages a build from scratch goes through: the "of total" of progress."""
        return len(self.packages)

    def complete_in(self, output_dir: str) -> frozenset[str]:
        """The packages whose ``.stamp_installed`` exists under ``output_dir`` (``O=``)."""
        done = set()
        for p in self.packages:
            if p.stamp_dir and os.path.exists(os.path.join(output_dir, p.stamp_dir, ".stamp_installed")):
                done.add(p.key)
        return frozenset(done)

    def stamp_dirs(self) -> dict[str, str]:
        """``basename(stamp_dir)`` → package key (``host-m4-1.4.21`` → ``host-m4``)."""
        return {os.path.basename(p.stamp_dir.rstrip("/")): p.key for p in self.packages if p.stamp_dir}

    def to_json(self) -> dict[str, Any]:
        """Buildroot's structure: ``{key: entry}``."""
        return {p.key: p.to_json() for p in self.entries}

    def canonical_bytes(self) -> bytes:
        """The stable stored form: canonical JSON (sorted keys, compact, UTF-8)."""
        return canonical_json(self.to_json())


def parse_show_info(text: str) -> ShowInfo:
    """Parse what ``make show-info`` printed.  Buildroot prints the object on one line; lines
    before it (make's own chatter, if any) are skipped.  Raises E320 when no JSON object is found
    or an entry is malformed."""
    start = text.find("{")
    if start < 0:
        raise _bad("no JSON object in its output")
    try:
        data, _end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise _bad(f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise _bad("the JSON is not an object")
    return ShowInfo.from_entries(PackageInfo.from_json(k, v) for k, v in data.items())
