"""The derivation record: what to build, from what, and how — with no store locations in it.

The model (docs/store.md, "Derivations")
* A ``Derivation`` is a frozen record: ``name``, ``builder`` (``builtin:<name>`` or a program),
  ``args``, ``env`` (sorted), ``input_drvs`` (slot -> ``InputDrv``), ``input_srcs`` (slot ->
  ``StorePath``), ``outputs`` (sorted names) and ``fixed`` (a ``FixedOutput`` or None).
* Inside ``builder``, ``args`` and ``env`` other store objects appear only as *placeholders*:
  ``${inputs.<slot>.<output>}``, ``${sources.<slot>}`` and ``${outputs.<name>}``.  The slot maps
  bind each slot to a key or a store path, so when only an input changes two versions of a
  derivation differ in those maps alone, never in their text.
* An input derivation is referred to by its *ref*: its key, or for a fixed-output derivation its
  content identity (``keys.fod_identity``), so a FOD's URL does not leak into its dependents.
* ``key`` (computed at construction) is ``keys.doc_key("drv", to_doc())``; ``drv_path`` is
  ``<key>-<name>.drv``.

Everything is validated at construction (placeholders included): an invalid record cannot exist.
Maps are ``SortedMap`` — an immutable, hashable mapping with keys in code-point order — so
equality, hashing and encoding never depend on insertion order or ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs
import orjson

from skiffeval.derivation.codes import BAD_PLACEHOLDER, INVALID_DERIVATION
from skiffeval.derivation.keys import drv_key, fod_identity
from skiffeval.derivation.storepath import MAX_NAME_LEN, NAME_RE, StorePath, check_digest, check_name, parse_sha256
from skiffeval.diagnostics import SkiffError

__all__ = [
    "SortedMap",
    "InputDrv",
    "FixedOutput",
    "Derivation",
    "input_of",
    "input_placeholder",
    "source_placeholder",
    "output_placeholder",
    "PLACEHOLDER_RE",
    "SLOT_RE",
    "OUTPUT_RE",
    "FORMAT",
    "MAX_DRV_NAME_LEN",
]

K = TypeVar("K")
V = TypeVar("V")

FORMAT = 1  # the "format" field of every .drv document
SLOT_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+-]*")
OUTPUT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
ENV_NAME_RE = re.compile(r"[^=\0]+")
BUILTIN_RE = re.compile(r"builtin:[a-z0-9][a-z0-9-]*")
PLACEHOLDER_RE = re.compile(r"\$\{(inputs|sources|outputs)\.([^}]*)\}")
MAX_DRV_NAME_LEN = MAX_NAME_LEN - len(".drv")
_NAME_FULLMATCH = NAME_RE.fullmatch
_dumps = orjson.dumps  # the pre-image writer (see ``Derivation.canonical_bytes``)
_JSONEncodeError = orjson.JSONEncodeError
_SORT_KEYS = orjson.OPT_SORT_KEYS
_PLACEHOLDER_FINDALL = re.compile(r"\$\{(?:inputs|sources|outputs)\.[^}]*\}").findall
_SLOT_FULLMATCH = SLOT_RE.fullmatch
_OUT = ("out",)
_set = object.__setattr__  # how a frozen record's fields are set at construction


class SortedMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping with keys in sorted (code-point) order; hashable and comparable.

    Why not ``dict``: a frozen record holding a dict is unhashable and its iteration order is the
    caller's insertion order.  Why not ``frozenset`` of pairs: iteration order varies by process.

    A map made by ``adopt`` puts its keys in order when first asked for an order (iteration,
    ``keys``/``values``/``items``, ``hash``, ``repr``), not before: evaluation makes a map per
    derivation and hashing one needs no order (the key's pre-image is written with sorted keys,
    ``Derivation.canonical_bytes``).  ``_d`` is the dict itself, in order only once ``_pending``
    is False: code in this module that reads it directly needs no order.
    """

    __slots__ = ("_d", "_h", "_pending")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        if type(items) is dict:
            d = items.copy()
            keys = sorted(d)  # type: ignore[type-var]
            # already in order (callers often build maps from sorted names): keep the copy
            self._d: dict[K, V] = d if keys == list(d) else {k: d[k] for k in keys}
        elif isinstance(items, SortedMap):
            self._d = items._ordered()
        else:
            d = dict(items)
            keys = sorted(d)  # type: ignore[type-var]
            self._d = d if keys == list(d) else {k: d[k] for k in keys}
        self._h: int | None = None
        self._pending = False

    @classmethod
    def adopt(cls, d: dict[K, V]) -> SortedMap[K, V]:
        """A map made from ``d`` itself, not a copy: the caller gives ``d`` up (its keys are put
        in order when an order is first asked for)."""
        if type(d) is not dict:
            return cls(d)
        self = cls.__new__(cls)
        self._d = d
        self._h = None
        self._pending = len(d) > 1
        return self

    @classmethod
    def of_sorted(cls, d: dict[K, V]) -> SortedMap[K, V]:
        """``adopt(d)`` for a dict whose keys the caller put in order (not checked: for code
        that made ``d`` from a sorted list of its keys)."""
        self = cls.__new__(cls)
        self._d = d
        self._h = None
        self._pending = False
        return self

    def _ordered(self) -> dict[K, V]:
        """``_d``, its keys put in order first if they are not yet."""
        if self._pending:
            d = self._d
            self._d = {k: d[k] for k in sorted(d)}  # type: ignore[type-var]
            self._pending = False
        return self._d

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._ordered() if self._pending else self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def keys(self):  # type: ignore[override]
        return (self._ordered() if self._pending else self._d).keys()

    def values(self):  # type: ignore[override]
        return (self._ordered() if self._pending else self._d).values()

    def items(self):  # type: ignore[override]
        return (self._ordered() if self._pending else self._d).items()

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        return self._d.get(key, default)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(tuple(self._ordered().items()))
        return self._h

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SortedMap):
            return self._d == other._d  # (dict equality does not depend on order)
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"SortedMap({self._ordered()!r})"

    def as_dict(self) -> dict[K, V]:
        """A fresh dict with the same (sorted) items."""
        return dict(self._ordered())


def _fail(message: str, *help_lines: str) -> SkiffError:
    return SkiffError(INVALID_DERIVATION, message, help=help_lines)


def _to_sorted_names(value: Iterable[str]) -> tuple[str, ...]:
    if value == ("out",):
        return ("out",)
    if isinstance(value, str):
        value = (value,)
    items = tuple(value)
    names = tuple(sorted(set(items)))
    if len(names) != len(items):
        raise _fail(f"output names are listed twice: {sorted(n for n in names if items.count(n) > 1)}")
    return names


def _check_output_names(names: tuple[str, ...], what: str) -> None:
    if not names:
        raise _fail(f"{what}: expected at least one output name")
    for n in names:
        if not isinstance(n, str) or OUTPUT_RE.fullmatch(n) is None:
            raise _fail(f"{what}: invalid output name {n!r}", "output names match [A-Za-z_][A-Za-z0-9_-]*")


@attrs.frozen(slots=True)
class InputDrv:
    """One input derivation: its ref (key, or content identity when ``fixed``) and the outputs used."""

    key: str
    outputs: tuple[str, ...] = attrs.field(default=("out",), converter=_to_sorted_names)
    fixed: bool = False

    def __attrs_post_init__(self) -> None:
        check_digest(self.key, "input derivation key")
        if self.outputs != ("out",):
            _check_output_names(self.outputs, "input derivation")
        if not isinstance(self.fixed, bool):
            raise _fail(f"input derivation 'fixed' must be a bool, found {self.fixed!r}")
        if self.fixed and self.outputs != ("out",):
            raise _fail("a fixed-output input has the single output 'out'")

    @classmethod
    def of_record(cls, ref: str, outputs: tuple[str, ...], fixed: bool) -> InputDrv:
        """``InputDrv(ref, outputs, fixed)`` for the ``ref``, sorted ``outputs`` and ``fixed`` of
        a ``Derivation`` that exists (``input_of`` and evaluation make inputs this way).

        Why not the checks: a record is valid by construction, so its ref is a key (or content
        identity) and its outputs are sorted valid names; checking them again for every
        dependent cost ~2% of making a derivation in evaluation.
        """
        self = object.__new__(cls)
        _set(self, "key", ref)
        _set(self, "outputs", outputs)
        _set(self, "fixed", fixed)
        return self

    def to_doc(self) -> dict[str, Any]:
        return {"fixed": self.fixed, "key": self.key, "outputs": list(self.outputs)}


@attrs.frozen(slots=True)
class FixedOutput:
    """The declared content of a fixed-output derivation: SHA-256 (64 lowercase hex) and mode.

    ``flat``: the output is one regular file and ``sha256`` is its ``sha256sum``.
    ``recursive``: ``sha256`` is the tree hash of the output (docs/store.md, "Tree serialization").
    """

    sha256: str = attrs.field(converter=parse_sha256)
    mode: str = "flat"

    def __attrs_post_init__(self) -> None:
        if self.mode not in ("flat", "recursive"):
            raise _fail(f"fixed-output mode: expected 'flat' or 'recursive', found {self.mode!r}")

    def to_doc(self) -> dict[str, Any]:
        return {"mode": self.mode, "sha256": self.sha256}


_EMPTY: SortedMap = SortedMap()


def _to_map(value: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> SortedMap:
    # (``type() is`` first: ``isinstance`` against an ABC subclass runs Python code)
    if type(value) is SortedMap or isinstance(value, SortedMap):
        return value  # type: ignore[return-value]
    return SortedMap(value) if value else _EMPTY


def _to_args(value: Iterable[str]) -> tuple[str, ...]:
    if type(value) is tuple:
        return value
    if isinstance(value, str):
        raise _fail("args: expected a list of strings, found a string")
    return tuple(value)


def _to_srcs(value: Mapping[str, StorePath | str] | None) -> SortedMap:
    if not value:
        return _EMPTY
    if type(value) is SortedMap and set(map(type, value.values())) == {StorePath}:
        return value
    if isinstance(value, SortedMap) and all(isinstance(v, StorePath) for v in value.values()):
        return value
    return SortedMap((k, v if isinstance(v, StorePath) else StorePath.parse(v)) for k, v in dict(value or {}).items())


def _to_fixed(value: FixedOutput | Mapping[str, str] | None) -> FixedOutput | None:
    if value is None or isinstance(value, FixedOutput):
        return value
    return FixedOutput(**value)


def _check_text(what: str, text: object) -> None:
    if not isinstance(text, str):
        raise _fail(f"{what}: expected a string, found {type(text).__name__}")
    if "\0" in text:
        raise _fail(f"{what}: contains a NUL character")


_SLOT_OUT: dict[str, str] = {}
"""Slot names found valid -> their ``${inputs.<slot>.out}`` (made once: slot names repeat, as
each derivation's inputs are named after them; bounded by ``_SEEN_MAX``)."""
_BUILDERS_SEEN: set[str] = set()
"""Builders found valid (a handful per evaluation; bounded by ``_SEEN_MAX``)."""
_SEEN_MAX = 1 << 16


def _slot_out(slot: object, what: str) -> str:
    """Check a slot name (E101 if invalid); its ``${inputs.<slot>.out}``, remembered."""
    if type(slot) is not str or _SLOT_FULLMATCH(slot) is None:
        raise _fail(f"invalid {what} slot name {slot!r}", "slot names match [A-Za-z0-9_][A-Za-z0-9_+-]*")
    if len(_SLOT_OUT) >= _SEEN_MAX:
        _SLOT_OUT.clear()
    placeholder = _SLOT_OUT[slot] = input_placeholder(slot)
    return placeholder


def _builder_ok(builder: str) -> bool:
    """Whether ``builder`` is a program or a well-formed ``builtin:<name>`` (remembered if so)."""
    if not builder or (builder.startswith("builtin:") and BUILTIN_RE.fullmatch(builder) is None):
        return False
    if len(_BUILDERS_SEEN) >= _SEEN_MAX:
        _BUILDERS_SEEN.clear()
    _BUILDERS_SEEN.add(builder)
    return True


@attrs.frozen(slots=True, eq=True, hash=True)
class Derivation:
    """A derivation record (docs/store.md, "Derivations"); fields in canonical (sorted) order."""

    name: str
    builder: str
    args: tuple[str, ...] = attrs.field(default=(), converter=_to_args)
    env: SortedMap[str, str] = attrs.field(factory=SortedMap, converter=_to_map)
    fixed: FixedOutput | None = attrs.field(default=None, converter=_to_fixed)
    input_drvs: SortedMap[str, InputDrv] = attrs.field(factory=SortedMap, converter=_to_map)
    input_srcs: SortedMap[str, StorePath] = attrs.field(factory=SortedMap, converter=_to_srcs)
    outputs: tuple[str, ...] = attrs.field(default=("out",), converter=_to_sorted_names)
    # Not given but made: ``key`` and ``ref`` at construction, ``drv_path`` and ``as_input``
    # when first asked for.  Why plain slots and not ``functools.cached_property``: attrs gives
    # a slotted class with cached properties a ``__getattr__``, which makes every attribute
    # read of every record take CPython's slow path (~7% of making a record).
    key: str = attrs.field(init=False, eq=False, hash=False, repr=False)
    """The derivation key (docs/store.md, "Derivation keys")."""
    ref: str = attrs.field(init=False, eq=False, hash=False, repr=False)
    """How dependents refer to this derivation: its key, or its content identity if fixed."""
    _drv_path: StorePath = attrs.field(init=False, eq=False, hash=False, repr=False)
    _as_input: InputDrv = attrs.field(init=False, eq=False, hash=False, repr=False)

    @classmethod
    def of_canonical(
        cls,
        name: str,
        builder: str,
        args: tuple[str, ...],
        env: SortedMap[str, str],
        input_drvs: SortedMap[str, InputDrv],
        input_srcs: SortedMap[str, StorePath],
        outputs: tuple[str, ...] = ("out",),
        fixed: FixedOutput | None = None,
    ) -> Derivation:
        """``Derivation(...)`` for fields already of the types its converters return (a tuple
        of ``args``, ``SortedMap``s of texts, inputs and store paths, a single ``out``, a
        ``FixedOutput`` or None), as evaluation makes them: the converters are skipped, the
        validation is not.  Fields of any other type go through the converters.

        Why: the eight converter calls were a twentieth of making a derivation in evaluation.
        """
        if not (type(args) is tuple and type(env) is SortedMap and type(input_drvs) is SortedMap
                and type(input_srcs) is SortedMap and outputs == ("out",) and (fixed is None or type(fixed) is FixedOutput)):
            return cls(name=name, builder=builder, args=args, env=env, fixed=fixed, input_drvs=input_drvs,
                       input_srcs=input_srcs, outputs=outputs)
        self = object.__new__(cls)
        _set(self, "name", name)
        _set(self, "builder", builder)
        _set(self, "args", args)
        _set(self, "env", env)
        _set(self, "fixed", fixed)
        _set(self, "input_drvs", input_drvs)
        _set(self, "input_srcs", input_srcs)
        _set(self, "outputs", _OUT)
        self.__attrs_post_init__()
        return self

    def __attrs_post_init__(self) -> None:
        # Written for speed (this runs for every derivation of every evaluation): a few C-level
        # tests over joined texts decide that the record is valid; anything they cannot vouch
        # for goes through ``_check_fields``, which finds the culprit and says what is wrong.
        name = self.name
        if not (isinstance(name, str) and len(name) <= MAX_DRV_NAME_LEN and _NAME_FULLMATCH(name)):
            check_name(name, "derivation name")
            raise _fail(f"derivation name '{name[:40]}...' is longer than {MAX_DRV_NAME_LEN} characters")
        builder = self.builder
        args = self.args
        env = self.env._d
        try:
            texts = "\0".join((builder, *args, *env.values()))
            keys = "".join(env)
        except TypeError:  # something is not a string: _check_fields says what
            self._check_fields()
            raise
        if (
            texts.count("\0") != len(args) + len(env)  # a NUL inside a text
            or "=" in keys or "\0" in keys or "" in env
            or (builder not in _BUILDERS_SEEN and not _builder_ok(builder))
        ):
            self._check_fields()
        outputs = self.outputs
        if outputs == _OUT:
            bound = ["${outputs.out}"]
        else:
            _check_output_names(outputs, f"derivation '{name}'")
            if self.fixed is not None:
                raise _fail(f"fixed-output derivation '{name}' must have the single output 'out'")
            bound = [output_placeholder(o) for o in outputs]
        # each input's slot is checked and its placeholders listed in one pass (a slot seen
        # before is valid: ``_SLOT_OUT`` keeps its ``out`` placeholder)
        for slot, inp in self.input_drvs._d.items():
            if type(inp) is not InputDrv:
                raise _fail(f"input '{slot}': expected an InputDrv, found {type(inp).__name__}")
            placeholder = _SLOT_OUT.get(slot)  # type: ignore[call-overload]
            if placeholder is None or type(slot) is not str:
                placeholder = _slot_out(slot, "input")
            if inp.outputs == _OUT:
                bound.append(placeholder)
            else:
                bound += [input_placeholder(slot, o) for o in inp.outputs]
        srcs = self.input_srcs._d
        if srcs:
            for slot in srcs:
                _slot_out(slot, "source")
                bound.append(source_placeholder(slot))
        if "${" in texts:
            # every placeholder found must be one this record binds; if not, say which and where
            found = _PLACEHOLDER_FINDALL(texts)
            if found and not set(bound).issuperset(found):
                self._check_placeholders()
        # The key now rather than on first use: every record made is hashed (its dependents
        # name it by key).
        key = drv_key(self.canonical_bytes())
        _set(self, "key", key)
        fixed = self.fixed
        _set(self, "ref", key if fixed is None else fod_identity(name, fixed.sha256, fixed.mode))

    def _check_fields(self) -> None:
        """Raise the error for the first invalid builder, argument or environment variable."""
        builder = self.builder
        _check_text("builder", builder)
        if not builder:
            raise _fail("builder: expected a program or 'builtin:<name>', found an empty string")
        if builder.startswith("builtin:") and BUILTIN_RE.fullmatch(builder) is None:
            raise _fail(f"invalid builtin builder name {builder!r}", "builtin names match builtin:[a-z0-9-]+")
        for i, a in enumerate(self.args):
            if type(a) is not str or "\0" in a:
                _check_text(f"args[{i}]", a)
        for k, v in self.env.items():
            if type(k) is not str or not k or "=" in k or "\0" in k:
                raise _fail(f"invalid environment variable name {k!r}")
            if type(v) is not str or "\0" in v:
                _check_text(f"env.{k}", v)

    def _check_placeholders(self) -> None:
        """Raise the error for the first placeholder that names no slot or output of this record."""
        texts = [("builder", self.builder)] if "${" in self.builder else []
        texts += [(f"args[{i}]", a) for i, a in enumerate(self.args) if "${" in a]
        texts += [(f"env.{k}", v) for k, v in self.env.items() if "${" in v]
        for where, text in texts:
            for found in _PLACEHOLDER_FINDALL(text):
                kind, _, body = found[2:-1].partition(".")
                if kind == "inputs":
                    slot, _, out = body.partition(".")
                    inp = self.input_drvs.get(slot)
                    ok = inp is not None and out in inp.outputs
                elif kind == "sources":
                    ok = body in self.input_srcs
                else:
                    ok = body in self.outputs
                if not ok:
                    self._explain_placeholder(where, found)

    def _explain_placeholder(self, where: str, text: str) -> None:
        m = PLACEHOLDER_RE.fullmatch(text)
        assert m is not None
        kind, body = m.group(1), m.group(2)
        if kind == "inputs":
            slot, _, out = body.partition(".")
            inp = self.input_drvs.get(slot)
            if inp is None:
                raise self._bad(where, text, f"no input slot '{slot}'", self.input_drvs)
            raise self._bad(where, text, f"input '{slot}' has no output '{out}'", inp.outputs)
        if kind == "sources":
            raise self._bad(where, text, f"no source slot '{body}'", self.input_srcs)
        raise self._bad(where, text, f"no output '{body}'", self.outputs)

    def _bad(self, where: str, text: str, why: str, known: Iterable[str]) -> SkiffError:
        names = ", ".join(f"'{k}'" for k in known) or "none"
        return SkiffError(
            BAD_PLACEHOLDER,
            f"placeholder '{text}' in {where} of derivation '{self.name}': {why}",
            help=[f"known: {names}"],
        )

    # -- identity ------------------------------------------------------------------------------

    def to_doc(self) -> dict[str, Any]:
        """The JSON document of this record: the key's pre-image and the ``.drv`` content."""
        return {
            "args": list(self.args),
            "builder": self.builder,
            "env": self.env.as_dict(),
            "fixed": None if self.fixed is None else self.fixed.to_doc(),
            "format": FORMAT,
            "input_drvs": {s: i.to_doc() for s, i in self.input_drvs.items()},
            "input_srcs": {s: p.basename for s, p in self.input_srcs.items()},
            "name": self.name,
            "outputs": list(self.outputs),
        }

    def canonical_bytes(self) -> bytes:
        """``canonical.canonical_json(self.to_doc())``, written out for this record's known shape.

        Why not ``canonical_json``: the generic encoder walks the document again after ``to_doc``
        built it; this is the hottest line of hashing 10,000 derivations.  orjson writes the
        same bytes: compact UTF-8, the same string escapes (a test holds the two equal over
        every code point) and keys sorted by code point (``OPT_SORT_KEYS`` compares UTF-8
        bytes, which order as code points do), so the maps need not be in order yet
        (``SortedMap.adopt``).  A hypothesis test proves ``canonical_bytes`` equal to the
        generic encoding.
        """
        fixed = self.fixed
        ins = self.input_drvs._d
        srcs = self.input_srcs._d
        try:
            return _dumps({
                "args": self.args,
                "builder": self.builder,
                "env": self.env._d,
                "fixed": None if fixed is None else {"mode": fixed.mode, "sha256": fixed.sha256},
                "format": FORMAT,
                "input_drvs": {s: {"fixed": i.fixed, "key": i.key, "outputs": i.outputs} for s, i in ins.items()} if ins else {},
                "input_srcs": {s: f"{p.digest}-{p.name}" for s, p in srcs.items()} if srcs else {},
                "name": self.name,
                "outputs": self.outputs,
            }, option=_SORT_KEYS)
        except _JSONEncodeError as exc:  # a lone surrogate: the language never makes one
            raise _fail(f"derivation '{self.name}' holds text that is not valid Unicode: {exc}") from None

    def __getstate__(self) -> tuple[Any, ...]:
        """A record pickles (and copies) as its given fields; the made ones are made again."""
        return (self.name, self.builder, self.args, self.env, self.fixed, self.input_drvs, self.input_srcs, self.outputs)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for field, value in zip(_GIVEN_FIELDS, state, strict=True):
            _set(self, field, value)
        self.__attrs_post_init__()

    @property
    def drv_path(self) -> StorePath:
        """``<key>-<name>.drv`` (made once)."""
        try:
            return self._drv_path
        except AttributeError:
            path = StorePath(self.key, self.name + ".drv")
            _set(self, "_drv_path", path)
            return path

    @property
    def as_input(self) -> InputDrv:
        """``input_of(self)``, made once: a derivation used by many dependents is one input."""
        try:
            return self._as_input
        except AttributeError:
            made = InputDrv.of_record(self.ref, self.outputs, self.fixed is not None)
            _set(self, "_as_input", made)
            return made

    def output_name(self, output: str) -> str:
        """The store path name of ``output``: ``name`` for ``out``, ``name-<output>`` otherwise."""
        return self.name if output == "out" else f"{self.name}-{output}"


_GIVEN_FIELDS = tuple(f.name for f in attrs.fields(Derivation) if f.init)


def input_placeholder(slot: str, output: str = "out") -> str:
    """``${inputs.<slot>.<output>}``."""
    return f"${{inputs.{slot}.{output}}}"


def source_placeholder(slot: str) -> str:
    """``${sources.<slot>}``."""
    return f"${{sources.{slot}}}"


def output_placeholder(name: str = "out") -> str:
    """``${outputs.<name>}``."""
    return f"${{outputs.{name}}}"


def input_of(drv: Derivation, outputs: Iterable[str] | None = None) -> InputDrv:
    """The ``InputDrv`` a dependent uses to refer to ``drv`` (by key, or content identity if fixed)."""
    if outputs is None:
        return drv.as_input
    outs = tuple(outputs)
    for o in outs:
        if o not in drv.outputs:
            raise _fail(f"derivation '{drv.name}' has no output '{o}'", f"outputs: {', '.join(drv.outputs)}")
    return InputDrv(drv.ref, outs, drv.fixed is not None)
