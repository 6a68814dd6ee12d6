"""The ``.drv`` codec: a derivation record as pretty canonical JSON, and back.

``encode_drv`` writes ``canonical.pretty_json(drv.to_doc())`` — sorted keys, two-space indent,
trailing newline — so two ``.drv`` files diff line by line (docs/store.md, "The .drv file").
``decode_drv`` structures the JSON with cattrs (unknown keys rejected), lets the record's own
validators check every field, then insists that re-encoding gives back the same document: a file
that decodes but is not canonical (a reordered list, a string where a bool belongs) is refused,
because its key would not match its name.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import attrs
import cattrs

from skiffeval.derivation.codes import MALFORMED_DRV
from skiffeval.derivation.record import FORMAT, Derivation, FixedOutput, InputDrv, SortedMap
from skiffeval.derivation.storepath import StorePath
from skiffeval.diagnostics import SkiffError

__all__ = ["encode_drv", "decode_drv", "drv_from_doc"]


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)

    def is_sorted_map(t: Any) -> bool:
        return typing.get_origin(t) is SortedMap or t is SortedMap

    def structure_sorted_map(value: Any, t: Any) -> SortedMap:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, found {type(value).__name__}")
        args = typing.get_args(t)
        vt = args[1] if len(args) == 2 else Any
        return SortedMap((k, conv.structure(v, vt)) for k, v in value.items())

    def structure_str(value: Any, _t: Any) -> str:
        # cattrs would turn 5 into "5"; a .drv is exact or it is malformed.
        if not isinstance(value, str):
            raise TypeError(f"expected a string, found {type(value).__name__}")
        return value

    def structure_bool(value: Any, _t: Any) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected a bool, found {type(value).__name__}")
        return value

    def structure_str_tuple(value: Any, _t: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, found {type(value).__name__}")
        return tuple(structure_str(v, str) for v in value)

    conv.register_structure_hook_func(is_sorted_map, structure_sorted_map)
    conv.register_structure_hook(str, structure_str)
    conv.register_structure_hook(bool, structure_bool)
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], structure_str_tuple)
    conv.register_structure_hook(StorePath, lambda v, _t: StorePath.parse(structure_str(v, str)))
    conv.register_structure_hook(InputDrv, lambda v, _t: _structure_attrs(conv, v, InputDrv))
    conv.register_structure_hook(FixedOutput, lambda v, _t: _structure_attrs(conv, v, FixedOutput))
    return conv


def _structure_attrs(conv: cattrs.Converter, value: Any, cls: type) -> Any:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    fields = {f.name: f.type for f in attrs.fields(cls) if f.init}
    extra = sorted(set(value) - set(fields))
    if extra:
        raise TypeError(f"unknown keys {extra}")
    return cls(**{k: conv.structure(v, fields[k]) for k, v in value.items()})


for _cls in (Derivation, InputDrv, FixedOutput):
    attrs.resolve_types(_cls)
_CONVERTER = _make_converter()
_DRV_FIELDS = {f.name: f.type for f in attrs.fields(Derivation) if f.init}  # (not key, ref: made)


def drv_from_doc(doc: Any, where: str = "derivation") -> Derivation:
    """The record of a decoded ``.drv`` document (E102 if it is not exactly canonical)."""
    if not isinstance(doc, dict):
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: expected a JSON object")
    if doc.get("format") != FORMAT:
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: expected format {FORMAT}, found {doc.get('format')!r}")
    body = {k: v for k, v in doc.items() if k != "format"}
    missing = sorted(set(_DRV_FIELDS) - set(body))
    extra = sorted(set(body) - set(_DRV_FIELDS))
    if missing or extra:
        what = "; ".join(x for x in (f"missing {missing}" if missing else "", f"unknown {extra}" if extra else "") if x)
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: {what}")
    try:
        fields = {k: _CONVERTER.structure(v, _DRV_FIELDS[k]) for k, v in body.items()}
        drv = Derivation(**fields)
    except SkiffError as e:
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: {e.message}", help=e.help) from None
    except (TypeError, ValueError, cattrs.BaseValidationError) as e:
        detail = "; ".join(cattrs.transform_error(e)) if isinstance(e, cattrs.BaseValidationError) else str(e)
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: {detail}") from None
    if drv.to_doc() != doc:
        raise SkiffError(
            MALFORMED_DRV,
            f"malformed {where}: not in canonical form (lists of names must be sorted and unique)",
        )
    return drv


def encode_drv(drv: Derivation) -> str:
    """The ``.drv`` text of ``drv``: exactly ``canonical.pretty_json(drv.to_doc())``.

    Written out field by field for the record's known shape (a test proves it equal to
    ``pretty_json`` on generated records).  Why: ``json.dumps`` with ``indent`` uses the
    pure-Python encoder, and writing 10,000 ``.drv`` files spent most of its time there.
    """
    e = _encode_str
    fixed = drv.fixed
    if drv.input_drvs:
        items = []
        for slot, inp in drv.input_drvs.items():
            items.append(
                f'    {e(slot)}: {{\n      "fixed": {"true" if inp.fixed else "false"},\n      "key": "{inp.key}",\n'
                f'      "outputs": {_str_list(inp.outputs, "      ")}\n    }}'
            )
        inputs = "{\n" + ",\n".join(items) + "\n  }"
    else:
        inputs = "{}"
    return (
        f'{{\n  "args": {_str_list(drv.args, "  ")},\n  "builder": {e(drv.builder)},\n'
        f'  "env": {_str_map(drv.env, "  ")},\n'
        f'  "fixed": {"null" if fixed is None else _str_map(fixed.to_doc(), "  ")},\n  "format": {FORMAT},\n'
        f'  "input_drvs": {inputs},\n'
        f'  "input_srcs": {_str_map({k: v.basename for k, v in drv.input_srcs.items()}, "  ")},\n'
        f'  "name": {e(drv.name)},\n  "outputs": {_str_list(drv.outputs, "  ")}\n}}\n'
    )


def _str_list(items: Any, indent: str) -> str:
    if not items:
        return "[]"
    inner = ",\n" + indent + "  "
    return "[\n" + indent + "  " + inner.join(map(_encode_str, items)) + "\n" + indent + "]"


def _str_map(items: Any, indent: str) -> str:
    if not items:
        return "{}"
    e = _encode_str
    inner = ",\n" + indent + "  "
    return "{\n" + indent + "  " + inner.join(e(k) + ": " + e(v) for k, v in items.items()) + "\n" + indent + "}"


_encode_str = json.encoder.encode_basestring  # the C encoder when available



def decode_drv(text: str | bytes, where: str = "derivation", expected_key: str | None = None) -> Derivation:
    """The record of a ``.drv`` text; with ``expected_key``, E102 unless its key matches."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: not JSON ({e})") from None
    drv = drv_from_doc(doc, where)
    if expected_key is not None and drv.key != expected_key:
        raise SkiffError(MALFORMED_DRV, f"malformed {where}: its key is {drv.key}, its name says {expected_key}")
    return drv
