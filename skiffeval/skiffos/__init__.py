"""skiffos: reading real SkiffOS trees as data.

A SkiffOS checkout is turned into a neutral, frozen data model, in four steps that mirror
SkiffOS's own scripts (``docs/skiffos.md`` states every rule):

* ``discover`` (discovery.py): which ``category/name`` package folders the tree, the extra
  configs paths and the ``SKIFF_CONFIG_PATH_<KEY>`` overrides define -> ``Discovery``.
* ``resolve`` (resolve.py): ``SKIFF_CONFIG`` into SkiffOS's package order -> ``Resolution``.
* ``build_chain`` (chain.py): pre, packages, overrides, workspace override, post, each read into
  a ``Package`` record (package.py) -> ``Chain``.  ``load`` does the three steps at once.
* ``configure`` (configure.py): the texts ``make configure`` writes, replayed with the pure text
  functions of ``compat.py`` -> ``ConfigureOutput``.

Errors raise ``SkiffosError`` (a ``SkiffError`` carrying every diagnostic of the step); warnings
come back in the results.  Codes E250–E299 and W250–W299 (codes.py).  No merging through
kconfiglib and no store work happens here; the session turns the model into layers and
derivations.
"""

from skiffeval.skiffos.chain import Chain, ChainEntry, Role, build_chain, load, normalize_workspace
from skiffeval.skiffos.codes import Diagnostics, SkiffosError
from skiffeval.skiffos.configure import ConfigureOutput, ConfigureParams, configure
from skiffeval.skiffos.discovery import Discovery, IgnoredFolder, Origin, PackageRef, discover
from skiffeval.skiffos.metadata import Command, Dependency
from skiffeval.skiffos.package import ExternalTree, Package, read_package
from skiffeval.skiffos.resolve import PackageMeta, Resolution, Selected, read_meta, resolve

__all__ = [
    "Chain",
    "ChainEntry",
    "Command",
    "ConfigureOutput",
    "ConfigureParams",
    "Dependency",
    "Diagnostics",
    "Discovery",
    "ExternalTree",
    "IgnoredFolder",
    "Origin",
    "Package",
    "PackageMeta",
    "PackageRef",
    "Resolution",
    "Role",
    "Selected",
    "SkiffosError",
    "build_chain",
    "configure",
    "discover",
    "load",
    "normalize_workspace",
    "read_meta",
    "read_package",
    "resolve",
]
