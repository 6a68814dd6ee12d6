"""Derivations made by evaluation: the ``derivation`` builtin and the table of what was made.

``DrvTable.make`` turns strings with context into a ``Derivation`` record: every output and
source the strings mention becomes an input slot (named after the input, in order of first
appearance, see ``refs.slot_name``) and its text becomes the slot placeholder.  The value the
language sees is Nix's: the attributes given, plus ``type = "derivation"``, ``drvPath``,
``outPath``, ``outputName``, one attribute per output and ``all``.

Every derivation made is kept in the table by key and by ref, so the session can later write,
realize and query exactly what the evaluation produced.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from skiffeval.derivation import (
    Derivation,
    FixedOutput,
    InputDrv,
    SortedMap,
    StorePath,
    input_placeholder,
    output_placeholder,
    source_placeholder,
)
from skiffeval.diagnostics import SkiffError, Span
from skiffeval.eval.builtins.registry import Registry, builtin
from skiffeval.eval.runtime import coerce_to_string, expect_attrs, expect_list, expect_plain_string
from skiffeval.eval.values import Attrs, CStr, Thunk, force, make_string
from skiffeval.session.codes import BAD_DERIVATION, UNKNOWN_INPUT
from skiffeval.session.refs import DrvFileRef, OutputRef, SourceRef, placeholder, slot_base, slot_name, unique_slot

__all__ = ["DrvTable", "derivation_builtins", "Text"]

_NONE: frozenset = frozenset()
_new_str = str.__new__
_EMPTY_MAP: SortedMap = SortedMap()
_OUT = ("out",)
# texts every derivation has, made once (the evaluation keeps every derivation it makes)
_DECIMAL = {n: str(n) for n in range(10)}
_OUTPUT_PLACEHOLDER = {o: output_placeholder(o) for o in ("out", "dev", "lib", "bin", "doc", "man")}


def _load_revisions() -> dict[str, int]:
    from skiffeval.builders.revisions import REVISIONS

    return REVISIONS


_REVISIONS = _load_revisions()

Text = tuple[str, frozenset]
"""A string's text and its context."""


def _rewrite(value: CStr, replacements: dict[str, str]) -> str:
    """The text of ``value`` with each element of its context replaced by its placeholder, in
    any order: for a context whose element texts are none a prefix of another (the ``out``
    outputs of different derivations, as ``DrvTable._slots`` binds them)."""
    text = value
    for el in value.context:
        t = el.text
        text = text.replace(t, replacements[t])
    return text if type(text) is str else str(text)  # (a replacement makes a str)


def _rewrite_longest_first(value: CStr, replacements: dict[str, str]) -> str:
    """``_rewrite`` for any context: the longest texts are replaced first, so that the text of
    an output ``out`` does not eat into that of an output ``out2`` of the same derivation (one
    text can begin another; it cannot appear inside one elsewhere: names hold no ``/``)."""
    text = value
    for t in sorted([el.text for el in value.context], key=len, reverse=True):
        text = text.replace(t, replacements[t])
    return text if type(text) is str else str(text)


def _string(text: Text) -> str:
    """The string value of a ``Text`` (``CStr`` when it has a context)."""
    return CStr(text[0], text[1]) if text[1] else text[0]

_SPECIAL = {"name", "builder", "args", "outputs", "outputHash", "outputHashAlgo", "outputHashMode"}


class DrvTable:
    """The derivations one evaluation made, by key and by ref."""

    def __init__(self, store_root: str) -> None:
        self.store_root = store_root.rstrip("/")
        self.by_key: dict[str, Derivation] = {}
        self.by_ref: dict[str, Derivation] = {}
        # one InputDrv per input and outputs used, keyed by the ref alone for the usual use (the
        # "out" output: no key tuple made, hashed and kept for each dependent), else by
        # (ref, outputs)
        self._inputs: dict[str | tuple[str, tuple[str, ...]], InputDrv] = {}
        self.spans: dict[str, Span] = {}  # key -> where the derivation was made
        root = self.store_root

        def drv_path(drv: Derivation) -> CStr:
            """A value's ``drvPath``: the ``.drv`` file's path, with a context that says so (the
            code of the thunk ``value`` puts there; the record is its environment)."""
            text = f"{root}/{drv.key}-{drv.name}.drv"
            return CStr(text, frozenset((DrvFileRef(drv.key, drv.name, text),)))

        self._drv_path = drv_path

    def add(self, drv: Derivation) -> Derivation:
        self.by_key[drv.key] = drv
        self.by_ref[drv.ref] = drv
        return drv

    # -- making records --------------------------------------------------------------------

    def make(
        self,
        name: str,
        builder: Text,
        args: Iterable[Text] = (),
        env: Mapping[str, Text] | None = None,
        *,
        outputs: tuple[str, ...] = ("out",),
        fixed: FixedOutput | None = None,
        span: Span | None = None,
    ) -> Derivation:
        """A derivation from texts with context; references become slots and placeholders."""
        return self.make_strings(
            name,
            _string(builder),
            tuple(map(_string, args)),
            {k: _string(t) for k, t in env.items()} if env else {},
            outputs=outputs,
            fixed=fixed,
            span=span,
        )

    def make_strings(
        self,
        name: str,
        builder: str,
        args: tuple[str, ...],
        env: dict[str, str],
        *,
        outputs: tuple[str, ...] = _OUT,
        fixed: FixedOutput | None = None,
        span: Span | None = None,
    ) -> Derivation:
        """``make`` for string values of the language (``str``, or ``CStr`` with a context); the
        caller gives ``env`` up (entries are added to it)."""
        if builder.startswith("builtin:"):
            revision = _REVISIONS.get(builder[8:])
            if revision is not None and "builderRevision" not in env:
                env["builderRevision"] = _DECIMAL.get(revision) or str(revision)
        for o in outputs:
            if o not in env:
                env[o] = _OUTPUT_PLACEHOLDER.get(o) or output_placeholder(o)
        # (the environment is put in order when first iterated, not here: ``SortedMap.adopt``)
        with_context = [v for v in env.values() if type(v) is CStr]
        input_drvs: dict[str, InputDrv] = {}
        input_srcs: dict[str, StorePath] = {}
        if type(builder) is CStr or args:
            head = [v for v in (builder, *args) if type(v) is CStr]
            if head:
                with_context[:0] = head
        if with_context:
            # the text each context element appears as -> the placeholder that replaces it
            replacements = self._slots(with_context, input_drvs)
            rewrite = _rewrite
            if replacements is None:
                # slots are named in order of first appearance: builder, args, then the
                # environment by name
                in_order = [v for v in (builder, *args, *map(env.__getitem__, sorted(env))) if type(v) is CStr]
                replacements = self._slots_in_order(name, in_order, input_drvs, input_srcs, span)
                rewrite = _rewrite_longest_first
            if type(builder) is CStr:
                builder = rewrite(builder, replacements)
            if args:
                args = tuple([rewrite(a, replacements) if type(a) is CStr else a for a in args])
            # a new dict of plain strings: the garbage collector does not track it (one that
            # held a ``CStr`` would stay tracked)
            env = {k: rewrite(v, replacements) if type(v) is CStr else v for k, v in env.items()}
        try:
            drv = Derivation.of_canonical(
                name,
                builder,
                args,
                SortedMap.adopt(env),
                SortedMap.adopt(input_drvs) if input_drvs else _EMPTY_MAP,
                SortedMap.adopt(input_srcs) if input_srcs else _EMPTY_MAP,
                outputs,
                fixed,
            )
        except SkiffError as exc:
            if exc.span is None:
                exc.span = span
            raise
        key = drv.key
        if span is not None and key not in self.spans:
            self.spans[key] = span
        self.by_key[key] = drv
        self.by_ref[drv.ref] = drv
        return drv

    def _slots(self, texts: list[CStr], input_drvs: dict[str, InputDrv]) -> dict[str, str] | None:
        """Bind what ``texts`` refer to to input slots (filling ``input_drvs``); the placeholder
        that replaces each context element, by the element's text (which stands for it one to
        one, and is cheaper to hash than the element).  None (``input_drvs`` left empty) when
        the context is not the usual case; ``_slots_in_order`` binds any.

        Slots are named after the inputs, in order of first appearance (``refs.slot_name``).
        The order only decides which of two inputs of the same name gets the ``-2``: the usual
        case (the ``out`` output of inputs with different names) is bound without sorting, in
        any order of ``texts``.
        """
        replacements: dict[str, str] = {}
        elements = texts[0].context if len(texts) == 1 else frozenset().union(*[t.context for t in texts])
        taken: set[str] = set()
        inputs = self._inputs
        by_ref = self.by_ref
        for el in elements:
            if type(el) is not OutputRef or el.output != "out":
                break
            ref = el.ref
            slot = slot_base(el.name)
            if slot in taken or ref not in by_ref:
                break
            taken.add(slot)
            replacements[el.text] = f"${{inputs.{slot}.out}}"  # ``input_placeholder(slot)``, in line
            inp = inputs.get(ref)
            if inp is None:
                dep = by_ref[ref]
                # (the record of the output an ``OutputRef`` names: valid as it stands)
                inp = inputs[ref] = InputDrv.of_record(dep.ref, _OUT, dep.fixed is not None)
            input_drvs[slot] = inp
        else:
            return replacements
        input_drvs.clear()
        return None

    def _slots_in_order(self, name: str, texts: list[CStr], input_drvs: dict[str, InputDrv],
                        input_srcs: dict[str, StorePath], span: Span | None) -> dict[str, str]:
        """``_slots`` for any context: elements taken by first appearance."""
        replacements: dict[str, str] = {}
        slots_of_refs: dict[str, str] = {}
        outputs_of_refs: dict[str, set[str]] = {}
        taken: set[str] = set()
        by_ref = self.by_ref
        for text in texts:
            context = text.context
            if len(context) > 1:
                # by first appearance (absent: find's -1 wraps to the end), then by text
                find, wrap = text.find, len(text) + 2
                elements = sorted(context, key=lambda el: (find(el.text) % wrap, el.text))
            else:
                elements = context
            for el in elements:
                t = el.text
                if t in replacements:
                    continue
                if type(el) is OutputRef:
                    ref = el.ref
                    if ref not in by_ref:
                        raise SkiffError(
                            UNKNOWN_INPUT,
                            f"derivation '{name}' refers to output '{el.output}' of '{el.name}', which this evaluation did not make",
                            span,
                        )
                    slot = slots_of_refs.get(ref)
                    if slot is None:
                        slot = slots_of_refs[ref] = unique_slot(slot_base(el.name), taken)
                        outputs_of_refs[ref] = {el.output}
                    else:
                        outputs_of_refs[ref].add(el.output)
                    replacements[t] = input_placeholder(slot, el.output)
                elif type(el) is SourceRef:
                    slot = slot_name(el.path.name, taken)
                    input_srcs[slot] = el.path
                    replacements[t] = source_placeholder(slot)
                elif type(el) is DrvFileRef:
                    raise SkiffError(
                        BAD_DERIVATION,
                        f"derivation '{name}' refers to the .drv file of '{el.name}'; refer to its outputs instead",
                        span,
                    )
                else:  # a path the evaluator's own I/O produced without a store
                    raise SkiffError(BAD_DERIVATION, f"derivation '{name}' refers to {el!r}, which is not in the store", span)
        for ref, slot in slots_of_refs.items():
            used = outputs_of_refs[ref]
            outs = _OUT if len(used) == 1 and "out" in used else tuple(sorted(used))
            use = ref if outs is _OUT else (ref, outs)
            inp = self._inputs.get(use)
            if inp is None:
                dep = self.by_ref[ref]
                inp = self._inputs[use] = InputDrv(dep.ref, outs, dep.fixed is not None)
            input_drvs[slot] = inp
        return replacements

    # -- the value the language sees -------------------------------------------------------

    def value(self, drv: Derivation, attrs: dict[str, Any] | None = None, spans: Mapping[str, Span] | None = None) -> Attrs:
        """The attribute set that stands for ``drv`` (Nix's shape), with extra ``attrs`` (a dict
        the caller gives up)."""
        # drvPath: made when first used (few values are asked for it; every one is made)
        drv_path = Thunk(self._drv_path, drv)
        if drv.outputs == ("out",):
            values: dict[str, Any] = attrs if attrs is not None else {}
            values["type"] = "derivation"
            values["name"] = drv.name
            values["drvPath"] = drv_path
            ref = OutputRef(drv.ref, drv.name, "out")
            out_path = _new_str(CStr, ref.text)
            out_path.context = frozenset((ref,))  # (``CStr(text, context)`` without its Python frame)
            values["outPath"] = out_path
            values["outputName"] = "out"
            # spans are shared, never changed in place (values.Attrs); the names added here have none
            single = Attrs(values, spans if spans is not None else {})
            values["out"] = single
            values["all"] = (single,)
            return single
        base: dict[str, Any] = dict(attrs or {})
        base["type"] = "derivation"
        base["name"] = drv.name
        base["drvPath"] = drv_path
        per_output: dict[str, Attrs] = {}
        for o in drv.outputs:
            ref = OutputRef(drv.ref, drv.name, o)
            values = dict(base)
            values["outPath"] = CStr(placeholder(drv.ref, drv.name, o), frozenset((ref,)))
            values["outputName"] = o
            per_output[o] = Attrs(values, dict(spans or {}))
        everything = tuple(per_output[o] for o in drv.outputs)
        for attrset in per_output.values():
            attrset.values.update(per_output)
            attrset.values["all"] = everything
        first = "out" if "out" in per_output else drv.outputs[0]
        return per_output[first]

    def derivation_of(self, value: Any) -> tuple[Derivation, str] | None:
        """The derivation (and output) a value stands for, if it is one this table made."""
        value = force(value)
        if type(value) is not Attrs or "outPath" not in value.values:
            return None
        out_path = force(value.values["outPath"])
        if type(out_path) is not CStr:
            return None
        for el in out_path.context:
            if type(el) is OutputRef and el.ref in self.by_ref:
                return self.by_ref[el.ref], el.output
        return None


# ---------------------------------------------------------------------------------------------
# the builtin


def derivation_builtins(table: DrvTable) -> Registry:
    """The ``derivation`` builtin, bound to ``table``."""
    registry = Registry()

    @builtin("derivation", "attrs", is_global=True, registry=registry)
    def derivation(ev, span, attrs):
        """A derivation, as Nix's: ``name`` and ``builder`` are required; ``args`` and
        ``outputs`` are lists; ``outputHash`` (+ ``outputHashMode`` flat/recursive) makes it
        fixed-output; every other attribute becomes an environment variable."""
        if type(attrs) is not Attrs:
            expect_attrs(attrs, span, "the argument of 'derivation'")
        values = attrs.values
        for required in ("name", "builder"):
            if required not in values:
                raise SkiffError(BAD_DERIVATION, f"'derivation' needs the attribute '{required}'", span)
        # (type tests first throughout: the checks below are for the unusual values)
        name = values["name"]
        if type(name) is Thunk:
            name = name.force()
        if type(name) is not str:
            expect_plain_string(name, attrs.span_of("name") or span, "the derivation name")
        builder = values["builder"]
        if type(builder) is Thunk:
            builder = builder.force()
        if type(builder) is not str and type(builder) is not CStr:
            builder = _string(coerce_to_string(ev, builder, attrs.span_of("builder") or span, what="the builder of a derivation"))
        args: tuple[str, ...] = ()
        if "args" in values:
            args = tuple(
                _string(coerce_to_string(ev, a, attrs.span_of("args") or span, what="an element of 'args'"))
                for a in expect_list(force(values["args"]), attrs.span_of("args") or span, "'args' of a derivation")
            )
        outputs: tuple[str, ...] = ("out",)
        if "outputs" in values:
            outputs = tuple(
                expect_plain_string(force(o), attrs.span_of("outputs") or span, "an output name")
                for o in expect_list(force(values["outputs"]), attrs.span_of("outputs") or span, "'outputs' of a derivation")
            )
        fixed = None
        if "outputHash" in values:
            algo = force(values.get("outputHashAlgo", "sha256"))
            if algo not in ("sha256", None):
                raise SkiffError(BAD_DERIVATION, f"unsupported outputHashAlgo '{algo}' (only sha256)", attrs.span_of("outputHashAlgo") or span)
            mode = force(values.get("outputHashMode", "flat"))
            try:
                fixed = FixedOutput(expect_plain_string(force(values["outputHash"]), span, "'outputHash'"), mode)
            except SkiffError as exc:
                exc.span = exc.span or attrs.span_of("outputHash") or span
                raise
        env: dict[str, str] = {"name": name, "builder": builder}
        given: dict[str, Any] = {}  # the attributes, as the value returned has them (see below)
        for key, v in values.items():
            if type(v) is Thunk:
                if key in _SPECIAL:
                    # (forced above, if used at all)
                    given[key] = v if v.code is not None else v.value
                    continue
                v = v.force()
            given[key] = v
            if key in _SPECIAL:
                continue
            # the usual values (strings, with or without context) without the general coercion
            if type(v) is not str and type(v) is not CStr:
                v = _string(coerce_to_string(ev, v, attrs.span_of(key) or span, coerce_more=True, what=f"attribute '{key}' of a derivation"))
            env[key] = v
        drv = table.make_strings(name, builder, args, env, outputs=outputs, fixed=fixed, span=span)
        # The value returned holds the attributes given by value, not through the thunks that
        # computed them (all forced by now, but for unused special ones): a thunk less each
        # for the garbage collector to walk while the evaluation lasts.
        return table.value(drv, given, attrs.spans)

    return registry


_ = make_string
