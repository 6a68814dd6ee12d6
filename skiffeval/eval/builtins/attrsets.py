"""Attribute-set builtins.  Names are listed sorted by code point, as Nix lists them."""

from __future__ import annotations

from skiffeval.eval.builtins.lists import lazy_apply, lazy_apply2
from skiffeval.eval.builtins.registry import builtin
from skiffeval.eval.runtime import (
    expect_attrs,
    expect_function,
    expect_list,
    expect_plain_string,
    missing_attribute,
)
from skiffeval.eval.values import Attrs, force


@builtin("attrNames", "set")
def _attr_names(ev, span, s):
    """The names of a set's attributes, sorted."""
    return tuple(expect_attrs(s, span, "the argument of 'attrNames'").names())


@builtin("attrValues", "set")
def _attr_values(ev, span, s):
    """The values of a set's attributes, in the order of their sorted names."""
    s = expect_attrs(s, span, "the argument of 'attrValues'")
    return tuple(s.values[n] for n in s.names())


@builtin("hasAttr", "name", "set")
def _has_attr(ev, span, name, s):
    """Whether ``set`` has attribute ``name``."""
    name = expect_plain_string(name, span, "the first argument of 'hasAttr'")
    return name in expect_attrs(s, span, "the second argument of 'hasAttr'").values


@builtin("getAttr", "name", "set")
def _get_attr(ev, span, name, s):
    """Attribute ``name`` of ``set``."""
    name = expect_plain_string(name, span, "the first argument of 'getAttr'")
    s = expect_attrs(s, span, "the second argument of 'getAttr'")
    if name not in s.values:
        raise missing_attribute(s, name, span)
    return force(s.values[name])


@builtin("mapAttrs", "f", "set")
def _map_attrs(ev, span, f, s):
    """``{ name = f name value; ... }``, lazily."""
    expect_function(f, span, "the first argument of 'mapAttrs'")
    s = expect_attrs(s, span, "the second argument of 'mapAttrs'")
    return Attrs({k: lazy_apply2(ev, f, k, v, span) for k, v in s.values.items()}, s.spans)


@builtin("intersectAttrs", "e1", "e2")
def _intersect_attrs(ev, span, a, b):
    """The attributes of ``e2`` whose names are also in ``e1``."""
    a = expect_attrs(a, span, "the first argument of 'intersectAttrs'")
    b = expect_attrs(b, span, "the second argument of 'intersectAttrs'")
    return Attrs({k: v for k, v in b.values.items() if k in a.values}, b.spans)


@builtin("zipAttrsWith", "f", "sets")
def _zip_attrs_with(ev, span, f, sets):
    """``{ name = f name [ values of name in each set ]; ... }``, lazily."""
    expect_function(f, span, "the first argument of 'zipAttrsWith'")
    grouped: dict[str, list] = {}
    for item in expect_list(sets, span, "the second argument of 'zipAttrsWith'"):
        item = expect_attrs(force(item), span, "an element of the second argument of 'zipAttrsWith'")
        for k, v in item.values.items():
            grouped.setdefault(k, []).append(v)
    return Attrs({k: lazy_apply2(ev, f, k, tuple(v), span) for k, v in grouped.items()})


__all__ = ["lazy_apply"]
