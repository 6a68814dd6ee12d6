"""Derivation records, store path names, keys, resolution and the ``.drv`` codec.

The model and its encoding are specified in ``docs/store.md``.  This package imports only
``skiffeval.diagnostics`` and ``skiffeval.canonical``: it knows nothing of stores, builders or
the language.

Public API
* ``StorePath(digest, name)`` / ``StorePath.parse(basename)`` — validated store path identity.
* ``Derivation(name, builder, args, env, fixed, input_drvs, input_srcs, outputs)`` with
  ``.key``, ``.ref``, ``.drv_path``; ``InputDrv(key, outputs, fixed)``; ``FixedOutput(sha256, mode)``;
  ``input_of(drv, outputs=None)``; ``SortedMap``; ``input_placeholder(slot, output)``,
  ``source_placeholder(slot)``, ``output_placeholder(name)``.
* ``fod_identity(name, sha256, mode)``, ``parse_sha256(text)``.
* ``resolve(drv, root, input_outputs) -> ResolvedDerivation``; ``substitute_outputs(text, paths)``.
* ``encode_drv(drv) -> str``, ``decode_drv(text, where, expected_key) -> Derivation``.
"""

from skiffeval.derivation.codec import decode_drv, drv_from_doc, encode_drv
from skiffeval.derivation.keys import fod_identity
from skiffeval.derivation.record import (
    PLACEHOLDER_RE,
    Derivation,
    FixedOutput,
    InputDrv,
    SortedMap,
    input_of,
    input_placeholder,
    output_placeholder,
    source_placeholder,
)
from skiffeval.derivation.resolve import ResolvedDerivation, resolve, substitute_outputs
from skiffeval.derivation.storepath import StorePath, parse_sha256

__all__ = [
    "StorePath",
    "parse_sha256",
    "Derivation",
    "InputDrv",
    "FixedOutput",
    "SortedMap",
    "input_of",
    "input_placeholder",
    "source_placeholder",
    "output_placeholder",
    "fod_identity",
    "PLACEHOLDER_RE",
    "ResolvedDerivation",
    "resolve",
    "substitute_outputs",
    "encode_drv",
    "decode_drv",
    "drv_from_doc",
]
