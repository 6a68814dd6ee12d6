"""List builtins.  Results that Nix computes lazily (``map``, ``genList`` ...) stay lazy: their
elements are thunks, so ``length (map f xs)`` never calls ``f``."""

from __future__ import annotations

import functools
from typing import Any

from skiffeval.diagnostics import SkiffError
from skiffeval.eval import codes
from skiffeval.eval.builtins.registry import builtin
from skiffeval.eval.runtime import (
    call,
    equal,
    expect_attrs,
    expect_bool,
    expect_function,
    expect_int,
    expect_list,
    expect_plain_string,
    less_than,
)
from skiffeval.eval.values import Attrs, Thunk, force


def _apply_code(payload):
    ev, f, x, span = payload
    result = call(ev, f, x, span)
    return result.force() if type(result) is Thunk else result


def _apply2_code(payload):
    ev, f, x, y, span = payload
    return force(call(ev, force(call(ev, f, x, span)), y, span))


def lazy_apply(ev, f, x, span) -> Thunk:
    """A thunk of ``f x``."""
    return Thunk(_apply_code, (ev, f, x, span))


def lazy_apply2(ev, f, x, y, span) -> Thunk:
    """A thunk of ``f x y``."""
    return Thunk(_apply2_code, (ev, f, x, y, span))


def apply_bool(ev, f, x, span, what: str) -> bool:
    return expect_bool(force(call(ev, f, x, span)), span, what)


@builtin("map", "f", "list", is_global=True)
def _map(ev, span, f, lst):
    """``[ (f x0) (f x1) ... ]``, lazily."""
    expect_function(f, span, "the first argument of 'map'")
    lst = expect_list(lst, span, "the second argument of 'map'")
    return tuple([Thunk(_apply_code, (ev, f, x, span)) for x in lst])


@builtin("filter", "f", "list")
def _filter(ev, span, f, lst):
    """The elements ``x`` of ``list`` for which ``f x`` is true."""
    expect_function(f, span, "the first argument of 'filter'")
    lst = expect_list(lst, span, "the second argument of 'filter'")
    return tuple([x for x in lst if apply_bool(ev, f, x, span, "the result of the function given to 'filter'")])


@builtin("foldl'", "op", "nul", "list")
def _foldl(ev, span, op, nul, lst):
    """``op (... (op (op nul x0) x1) ...) xn``, forcing the accumulator at each step."""
    expect_function(op, span, "the first argument of 'foldl''")
    lst = expect_list(lst, span, "the third argument of 'foldl''")
    acc = nul
    for x in lst:
        f = call(ev, op, acc, span)
        if type(f) is Thunk:
            f = f.force()
        acc = call(ev, f, x, span)
        if type(acc) is Thunk:
            acc = acc.force()
    return force(acc)


@builtin("length", "list")
def _length(ev, span, lst):
    """The number of elements of a list."""
    return len(expect_list(lst, span, "the argument of 'length'"))


@builtin("elem", "x", "list")
def _elem(ev, span, x, lst):
    """Whether ``x`` is equal to an element of ``list``."""
    return any(equal(ev, x, y, span) for y in expect_list(lst, span, "the second argument of 'elem'"))


@builtin("elemAt", "list", "n")
def _elem_at(ev, span, lst, n):
    """Element ``n`` (from 0) of ``list``."""
    lst = expect_list(lst, span, "the first argument of 'elemAt'")
    n = expect_int(n, span, "the second argument of 'elemAt'")
    if n < 0 or n >= len(lst):
        raise SkiffError(codes.INDEX, f"list index {n} is out of bounds (the list has {len(lst)} elements)", span)
    return force(lst[n])


@builtin("head", "list")
def _head(ev, span, lst):
    """The first element of a list."""
    lst = expect_list(lst, span, "the argument of 'head'")
    if not lst:
        raise SkiffError(codes.INDEX, "'head' called on an empty list", span)
    return force(lst[0])


@builtin("tail", "list")
def _tail(ev, span, lst):
    """The list without its first element."""
    lst = expect_list(lst, span, "the argument of 'tail'")
    if not lst:
        raise SkiffError(codes.INDEX, "'tail' called on an empty list", span)
    return lst[1:]


@builtin("concatLists", "lists")
def _concat_lists(ev, span, lists):
    """The concatenation of a list of lists."""
    out: list = []
    for x in expect_list(lists, span, "the argument of 'concatLists'"):
        out.extend(expect_list(force(x), span, "an element of the argument of 'concatLists'"))
    return tuple(out)


@builtin("concatMap", "f", "list")
def _concat_map(ev, span, f, lst):
    """``concatLists (map f list)``."""
    expect_function(f, span, "the first argument of 'concatMap'")
    out: list = []
    for x in expect_list(lst, span, "the second argument of 'concatMap'"):
        out.extend(expect_list(force(call(ev, f, x, span)), span, "the result of the function given to 'concatMap'"))
    return tuple(out)


@builtin("genList", "f", "n")
def _gen_list(ev, span, f, n):
    """``[ (f 0) (f 1) ... (f (n - 1)) ]``, lazily."""
    expect_function(f, span, "the first argument of 'genList'")
    n = expect_int(n, span, "the second argument of 'genList'")
    if n < 0:
        raise SkiffError(codes.BAD_VALUE, f"cannot create a list of size {n}", span)
    return tuple([Thunk(_apply_code, (ev, f, i, span)) for i in range(n)])


@builtin("sort", "comparator", "list")
def _sort(ev, span, comparator, lst):
    """``list`` sorted by ``comparator a b`` (true when ``a`` comes first); stable."""
    expect_function(comparator, span, "the first argument of 'sort'")
    lst = expect_list(lst, span, "the second argument of 'sort'")

    def cmp(a, b) -> int:
        if force(call(ev, force(call(ev, comparator, a, span)), b, span)) is True:
            return -1
        if force(call(ev, force(call(ev, comparator, b, span)), a, span)) is True:
            return 1
        return 0

    return tuple(sorted(lst, key=functools.cmp_to_key(cmp)))


@builtin("any", "pred", "list")
def _any(ev, span, pred, lst):
    """Whether ``pred`` holds for some element."""
    expect_function(pred, span, "the first argument of 'any'")
    return any(apply_bool(ev, pred, x, span, "the result of the function given to 'any'") for x in expect_list(lst, span, "the second argument of 'any'"))


@builtin("all", "pred", "list")
def _all(ev, span, pred, lst):
    """Whether ``pred`` holds for every element."""
    expect_function(pred, span, "the first argument of 'all'")
    return all(apply_bool(ev, pred, x, span, "the result of the function given to 'all'") for x in expect_list(lst, span, "the second argument of 'all'"))


@builtin("partition", "pred", "list")
def _partition(ev, span, pred, lst):
    """``{ right = elements where pred holds; wrong = the others; }``."""
    expect_function(pred, span, "the first argument of 'partition'")
    right, wrong = [], []
    for x in expect_list(lst, span, "the second argument of 'partition'"):
        (right if apply_bool(ev, pred, x, span, "the result of the function given to 'partition'") else wrong).append(x)
    return Attrs({"right": tuple(right), "wrong": tuple(wrong)})


@builtin("groupBy", "f", "list")
def _group_by(ev, span, f, lst):
    """Elements grouped by the string ``f x``: name -> list."""
    expect_function(f, span, "the first argument of 'groupBy'")
    groups: dict[str, list] = {}
    for x in expect_list(lst, span, "the second argument of 'groupBy'"):
        key = expect_plain_string(force(call(ev, f, x, span)), span, "the result of the function given to 'groupBy'")
        groups.setdefault(key, []).append(x)
    return Attrs({k: tuple(v) for k, v in groups.items()})


@builtin("listToAttrs", "list")
def _list_to_attrs(ev, span, lst):
    """A set from a list of ``{ name; value; }``; the first of a repeated name wins."""
    values: dict[str, Any] = {}
    for item in expect_list(lst, span, "the argument of 'listToAttrs'"):
        item = expect_attrs(force(item), span, "an element of the argument of 'listToAttrs'")
        if "name" not in item.values:
            raise SkiffError(codes.MISSING_ATTRIBUTE, "an element of the list given to 'listToAttrs' has no attribute 'name'", span)
        if "value" not in item.values:
            raise SkiffError(codes.MISSING_ATTRIBUTE, "an element of the list given to 'listToAttrs' has no attribute 'value'", span)
        name = expect_plain_string(force(item.values["name"]), span, "the 'name' of a 'listToAttrs' element")
        if name not in values:
            values[name] = item.values["value"]
    return Attrs(values)


@builtin("catAttrs", "name", "list")
def _cat_attrs(ev, span, name, lst):
    """The values of attribute ``name`` in the sets of ``list`` that have it."""
    name = expect_plain_string(name, span, "the first argument of 'catAttrs'")
    out = []
    for item in expect_list(lst, span, "the second argument of 'catAttrs'"):
        item = expect_attrs(force(item), span, "an element of the second argument of 'catAttrs'")
        if name in item.values:
            out.append(item.values[name])
    return tuple(out)


@builtin("genericClosure", "args")
def _generic_closure(ev, span, args):
    """The closure of ``startSet`` under ``operator``, deduplicated by each element's ``key``."""
    args = expect_attrs(args, span, "the argument of 'genericClosure'")
    if "startSet" not in args.values or "operator" not in args.values:
        raise SkiffError(codes.MISSING_ATTRIBUTE, "'genericClosure' needs the attributes 'startSet' and 'operator'", span)
    work = list(expect_list(force(args.values["startSet"]), span, "'startSet' of 'genericClosure'"))
    operator = force(args.values["operator"])
    done: list = []
    seen_simple: set = set()  # keys that hash (integers, strings, ...): O(1) membership
    seen_other: list = []  # other keys, compared with '=='
    i = 0
    while i < len(work):
        item = expect_attrs(force(work[i]), span, "an element of 'genericClosure'")
        i += 1
        if "key" not in item.values:
            raise SkiffError(codes.MISSING_ATTRIBUTE, "an element of 'genericClosure' has no attribute 'key'", span)
        key = force(item.values["key"])
        if type(key) in (int, str, bool) or key is None:
            marker = (type(key).__name__, str(key))
            if marker in seen_simple:
                continue
            seen_simple.add(marker)
        else:
            if any(equal(ev, key, k, span) for k in seen_other):
                continue
            seen_other.append(key)
        done.append(item)
        work.extend(expect_list(force(call(ev, operator, item, span)), span, "the result of 'operator'"))
    return tuple(done)


@builtin("lessThan", "e1", "e2")
def _less_than(ev, span, a, b):
    """``e1 < e2``."""
    return less_than(ev, a, b, span)
