"""Resolution: a derivation whose inputs are realized becomes a *resolved* derivation.

The model (docs/store.md, "Resolved derivations and early cutoff")
* ``resolve(drv, root, input_outputs)`` replaces every ``${inputs.<slot>.<output>}`` and
  ``${sources.<slot>}`` placeholder by the absolute path of that store object under ``root``.
  ``${outputs.<name>}`` placeholders stay: outputs are content-addressed, so their paths are
  known only after the build (the builder sees scratch paths, ``substitute_outputs``).
* A ``ResolvedDerivation`` has no slots: ``inputs`` is the sorted set of store paths it reads.
  Its key (salt ``resolved``) depends on what the builder will actually see, not on how the
  inputs were made — so when an upstream edit yields byte-identical outputs, the downstream
  resolved key is unchanged and its earlier realisation is reused (early cutoff).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from skiffeval.derivation.codes import BAD_PLACEHOLDER
from skiffeval.derivation.keys import RESOLVED_SALT_KIND, doc_key
from skiffeval.derivation.record import FORMAT, Derivation, FixedOutput, SortedMap
from skiffeval.derivation.storepath import StorePath
from skiffeval.diagnostics import SkiffError

__all__ = ["ResolvedDerivation", "resolve", "substitute_outputs"]

_INPUT_RE = re.compile(r"\$\{(inputs|sources)\.([^}]*)\}")
_OUTPUT_RE = re.compile(r"\$\{outputs\.([^}]*)\}")


def _sorted_paths(value: Iterable[StorePath]) -> tuple[StorePath, ...]:
    return tuple(sorted(set(value), key=str))


@attrs.frozen(slots=True)
class ResolvedDerivation:
    """A derivation with its inputs replaced by absolute store paths (``docs/store.md``)."""

    name: str
    builder: str
    args: tuple[str, ...]
    env: SortedMap[str, str]
    fixed: FixedOutput | None
    inputs: tuple[StorePath, ...] = attrs.field(converter=_sorted_paths)
    outputs: tuple[str, ...]

    def to_doc(self) -> dict[str, Any]:
        return {
            "args": list(self.args),
            "builder": self.builder,
            "env": self.env.as_dict(),
            "fixed": None if self.fixed is None else self.fixed.to_doc(),
            "format": FORMAT,
            "inputs": [p.basename for p in self.inputs],
            "name": self.name,
            "outputs": list(self.outputs),
        }

    @functools.cached_property
    def key(self) -> str:
        """The resolved key: ``doc_key("resolved", to_doc())``."""
        return doc_key(RESOLVED_SALT_KIND, self.to_doc())

    def output_name(self, output: str) -> str:
        return self.name if output == "out" else f"{self.name}-{output}"

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ResolvedDerivation:
        """The record of a ``to_doc`` document (as stored in a store's metadata)."""
        fixed = doc["fixed"]
        return cls(
            name=doc["name"],
            builder=doc["builder"],
            args=tuple(doc["args"]),
            env=SortedMap(doc["env"]),
            fixed=None if fixed is None else FixedOutput(**fixed),
            inputs=tuple(StorePath.parse(p) for p in doc["inputs"]),
            outputs=tuple(doc["outputs"]),
        )


def resolve(
    drv: Derivation,
    root: str,
    input_outputs: Mapping[str, Mapping[str, StorePath]],
) -> ResolvedDerivation:
    """Resolve ``drv`` against realized inputs.

    ``root`` is the store's absolute directory; ``input_outputs`` maps each input slot to the
    store paths of the outputs it uses.  Raises E103 if an input slot or output is not bound.
    """
    root = root.rstrip("/")
    inputs: list[StorePath] = list(drv.input_srcs.values())
    for slot, inp in drv.input_drvs.items():
        bound = input_outputs.get(slot)
        for out in inp.outputs:
            if bound is None or out not in bound:
                raise SkiffError(BAD_PLACEHOLDER, f"input '{slot}' output '{out}' of '{drv.name}' is not realized")
            inputs.append(bound[out])

    def replace(m: re.Match[str]) -> str:
        if m.group(1) == "sources":
            return f"{root}/{drv.input_srcs[m.group(2)].basename}"
        slot, _, out = m.group(2).partition(".")
        return f"{root}/{input_outputs[slot][out].basename}"

    def sub(text: str) -> str:
        return _INPUT_RE.sub(replace, text) if "${" in text else text

    return ResolvedDerivation(
        name=drv.name,
        builder=sub(drv.builder),
        args=tuple(sub(a) for a in drv.args),
        env=SortedMap((k, sub(v)) for k, v in drv.env.items()),
        fixed=drv.fixed,
        inputs=inputs,
        outputs=drv.outputs,
    )


def substitute_outputs(text: str, outputs: Mapping[str, str]) -> str:
    """``text`` with each ``${outputs.<name>}`` replaced by ``outputs[name]`` (build time)."""
    if "${" not in text:
        return text
    return _OUTPUT_RE.sub(lambda m: outputs[m.group(1)], text)
