"""Derivation records: validation, keys (stable across processes, sensitive to every field),
the .drv codec (round trip), fixed-output identity and resolution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skiffeval.canonical import canonical_json, nixbase32, pretty_json
from skiffeval.derivation import (
    Derivation,
    FixedOutput,
    InputDrv,
    SortedMap,
    StorePath,
    decode_drv,
    encode_drv,
    fod_identity,
    input_of,
    parse_sha256,
    resolve,
    substitute_outputs,
)
from skiffeval.derivation.keys import fast_nixbase32
from skiffeval.diagnostics import SkiffError

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------------
# strategies

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _ident(first: str, rest: str, size: int) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(first), st.text(rest, max_size=size))


names = _ident(ALNUM + "+_?=-", ALNUM + "+._?=-", 30)
slots = _ident(ALNUM + "_", ALNUM + "_+-", 8)
out_names = _ident(ALNUM[:52] + "_", ALNUM + "_-", 6)
env_names = _ident(ALNUM[:52] + "_", ALNUM + "_", 8)
texts = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=30)
digests = st.binary(min_size=16, max_size=16).map(nixbase32)
store_paths = st.builds(StorePath, digests, names)
sha256s = st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def derivations(draw):  # type: ignore[no-untyped-def]
    outputs = tuple(sorted(draw(st.sets(out_names, min_size=1, max_size=3))))
    fixed = draw(st.none() | st.builds(FixedOutput, sha256s, st.sampled_from(["flat", "recursive"])))
    if fixed is not None:
        outputs = ("out",)
    input_drvs = draw(st.dictionaries(slots, st.builds(
        InputDrv, digests, st.sets(out_names, min_size=1, max_size=2).map(lambda s: tuple(sorted(s))), st.just(False)
    ) | st.builds(InputDrv, digests, st.just(("out",)), st.just(True)), max_size=3))
    input_srcs = draw(st.dictionaries(slots, store_paths, max_size=3))
    placeholders = [f"${{outputs.{o}}}" for o in outputs]
    placeholders += [f"${{inputs.{s}.{o}}}" for s, i in input_drvs.items() for o in i.outputs]
    placeholders += [f"${{sources.{s}}}" for s in input_srcs]
    piece = texts | st.sampled_from(placeholders)
    text = st.lists(piece, max_size=4).map("".join)
    return Derivation(
        name=draw(names),
        builder=draw(st.sampled_from(["builtin:write-text", "/bin/sh"]) | text.filter(bool)),
        args=draw(st.lists(text, max_size=3)),
        env=draw(st.dictionaries(env_names, text, max_size=4)),
        fixed=fixed,
        input_drvs=input_drvs,
        input_srcs=input_srcs,
        outputs=outputs,
    )


# ---------------------------------------------------------------------------------------------
# store paths and hashes


def test_store_path_validation() -> None:
    good = StorePath.parse("0" * 26 + "-hello-1.0.tar.gz")
    assert (good.digest, good.name, str(good)) == ("0" * 26, "hello-1.0.tar.gz", "0" * 26 + "-hello-1.0.tar.gz")
    for bad in ["short-x", "e" * 26 + "-x", "8" + "0" * 25 + "-x", "0" * 26 + "-.hidden", "0" * 26 + "-a/b",
                "0" * 26 + "-" + "x" * 212, "0" * 26 + "-sp ace", "0" * 26 + "x"]:
        with pytest.raises(SkiffError) as e:
            StorePath.parse(bad)
        assert e.value.code.code == "E100"


@given(st.binary(min_size=16, max_size=16))
def test_fast_nixbase32_equals_canonical(data: bytes) -> None:
    text = fast_nixbase32(data)
    assert text == nixbase32(data)
    StorePath(text, "x")  # every 128-bit digest is a valid store path digest


def test_parse_sha256_forms() -> None:
    hexd = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    raw = bytes.fromhex(hexd)
    import base64

    assert parse_sha256(hexd.upper()) == hexd
    assert parse_sha256("sha256:" + hexd) == hexd
    assert parse_sha256(nixbase32(raw)) == hexd
    assert parse_sha256("sha256-" + base64.b64encode(raw).decode()) == hexd
    with pytest.raises(SkiffError) as e:
        parse_sha256("md5-abc")
    assert e.value.code.code == "E104"


# ---------------------------------------------------------------------------------------------
# records


def test_invalid_records_are_refused() -> None:
    a = Derivation(name="a", builder="builtin:write-text", env={"out": "${outputs.out}", "text": "x"})
    cases = [
        (dict(name=".a", builder="/bin/sh"), "E100"),
        (dict(name="a", builder=""), "E101"),
        (dict(name="a", builder="builtin:Bad"), "E101"),
        (dict(name="a", builder="/bin/sh", args=["a\0b"]), "E101"),
        (dict(name="a", builder="/bin/sh", env={"A=B": "x"}), "E101"),
        (dict(name="a", builder="/bin/sh", outputs=["out", "out"]), "E101"),
        (dict(name="a", builder="/bin/sh", outputs=[]), "E101"),
        (dict(name="a", builder="/bin/sh", outputs=["out", "dev"], fixed=FixedOutput("0" * 64)), "E101"),
        (dict(name="a", builder="/bin/sh", input_drvs={"bad.slot": input_of(a)}), "E101"),
        (dict(name="a", builder="/bin/sh", args=["${inputs.a.out}"]), "E103"),
        (dict(name="a", builder="/bin/sh", args=["${inputs.a.dev}"], input_drvs={"a": input_of(a)}), "E103"),
        (dict(name="a", builder="/bin/sh", env={"x": "${sources.s}"}), "E103"),
        (dict(name="a", builder="${outputs.dev}"), "E103"),
        # the fast checks over joined texts must still find each of these
        (dict(name="a", builder="a\0b"), "E101"),
        (dict(name="a", builder="/bin/sh", args=["ok", 1]), "E101"),
        (dict(name="a", builder="/bin/sh", env={"": "x"}), "E101"),
        (dict(name="a", builder="/bin/sh", env={"a": "x\0"}), "E101"),
        (dict(name="a", builder="/bin/sh", env={"a": 1}), "E101"),
        (dict(name="a", builder="/bin/sh", input_drvs={"a\nb": input_of(a)}), "E101"),
        (dict(name="a", builder="/bin/sh", input_drvs={"a": "not an input"}), "E101"),
        (dict(name="a", builder="/bin/sh", input_srcs={"a b": StorePath("0" * 26, "src")}), "E101"),
        (dict(name="a", builder="/bin/sh", args=["${inputs.x", "${inputs.bad.out}"]), "E103"),
        # a slot name seen valid before is still a str (the remembered slots are not a bypass)
        (dict(name="a", builder="/bin/sh", input_drvs={_Text("a"): input_of(a)}), "E101"),
    ]
    # twice: the second time every valid slot and builder above has been seen (and remembered)
    for kwargs, code in cases + cases:
        with pytest.raises(SkiffError) as e:
            Derivation(**kwargs)
        assert e.value.code.code == code, (kwargs, e.value)
        # the evaluator's constructor validates alike (its fast path included)
        with pytest.raises(SkiffError) as e:
            Derivation.of_canonical(
                kwargs["name"], kwargs["builder"], tuple(kwargs.get("args", ())),
                SortedMap.of_sorted(dict(sorted(kwargs.get("env", {}).items(), key=lambda kv: str(kv[0])))),
                SortedMap.of_sorted(dict(sorted(kwargs.get("input_drvs", {}).items()))),
                SortedMap.of_sorted(dict(sorted(kwargs.get("input_srcs", {}).items()))),
                tuple(kwargs.get("outputs", ("out",))), kwargs.get("fixed"),
            )
        assert e.value.code.code == code, (kwargs, e.value)


class _Text(str):
    """A str subclass (as the language's strings with context are)."""


def test_made_fields_are_neither_given_nor_compared() -> None:
    d = Derivation(name="a", builder="/bin/sh")
    assert "key" not in repr(d) and d.ref == d.key
    with pytest.raises(TypeError):
        Derivation(name="a", builder="/bin/sh", key="0" * 26)  # type: ignore[call-arg]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        d.key = "0" * 26  # type: ignore[misc]
    changed = attrs.evolve(d, name="b")
    assert changed.key != d.key and changed.drv_path == StorePath(changed.key, "b.drv")
    assert d.drv_path is d.drv_path and d.as_input is d.as_input and d.as_input == input_of(d)
    fod = Derivation(name="src", builder="builtin:fetchurl", fixed=FixedOutput("1" * 64))
    assert fod.ref == fod_identity("src", "1" * 64, "flat") != fod.key


def test_an_adopted_map_is_in_order_whenever_an_order_is_seen() -> None:
    import pickle

    items = {"b": 1, "\U00010000": 2, "a": 3, "\uffff": 4, "é": 5}
    ordered = dict(sorted(items.items()))
    for ask in ("iter", "keys", "values", "items", "hash", "repr", "as_dict", "pickle", "copy"):
        m = SortedMap.adopt(dict(items))
        assert m == ordered and len(m) == 5 and m["a"] == 3 and "é" in m  # (no order needed)
        if ask == "iter":
            assert list(m) == list(ordered)
        elif ask == "keys":
            assert list(m.keys()) == list(ordered)
        elif ask == "values":
            assert list(m.values()) == list(ordered.values())
        elif ask == "items":
            assert list(m.items()) == list(ordered.items())
        elif ask == "hash":
            assert hash(m) == hash(SortedMap(ordered))
        elif ask == "repr":
            assert repr(m) == repr(SortedMap(ordered))
        elif ask == "as_dict":
            assert list(m.as_dict()) == list(ordered)
        elif ask == "pickle":
            assert list(pickle.loads(pickle.dumps(m))) == list(ordered)
        else:
            assert list(SortedMap(m)) == list(ordered)


def test_a_record_of_maps_not_yet_in_order_has_the_canonical_key() -> None:
    # evaluation hands the record maps in the order it made them (``SortedMap.adopt``); the
    # key's pre-image sorts them as the canonical encoder does (code points, not UTF-16 units)
    env = {"z": "1", "\U00010000": "2", "\uffff": "3", "out": "${outputs.out}", "A": "${inputs.b.out} ${inputs.a.out}"}
    ins = {"b": input_of(GOLDEN), "a": InputDrv("1" * 26)}
    lazy = Derivation.of_canonical("x", "/bin/sh", (), SortedMap.adopt(dict(env)), SortedMap.adopt(dict(ins)), SortedMap())
    eager = Derivation(name="x", builder="/bin/sh", env=env, input_drvs=ins)
    assert lazy.canonical_bytes() == eager.canonical_bytes() == canonical_json(eager.to_doc())
    assert lazy.key == eager.key and lazy == eager and hash(lazy) == hash(eager)
    assert encode_drv(lazy) == encode_drv(eager)


def test_records_pickle_and_copy_with_their_made_fields_made_again() -> None:
    import copy
    import pickle

    fod = Derivation(name="src", builder="builtin:fetchurl", fixed=FixedOutput("1" * 64))
    for drv in (GOLDEN, fod):
        for asked in (False, True):
            if asked:
                drv.drv_path, drv.as_input  # noqa: B018 - filled in when first asked for
            for back in (pickle.loads(pickle.dumps(drv)), copy.copy(drv), copy.deepcopy(drv)):
                assert back == drv and back.key == drv.key and back.ref == drv.ref
                assert back.drv_path == drv.drv_path and back.as_input == drv.as_input


def test_shell_variables_are_not_placeholders() -> None:
    d = Derivation(name="a", builder="/bin/sh", args=["-c", "echo ${HOME} ${out} ${inputs} > $out"])
    assert d.args[1].startswith("echo ${HOME}")
    # a placeholder's halves in two texts are no placeholder (the texts are checked joined)
    Derivation(name="a", builder="/bin/sh", args=["${outputs.dev", "}"])


def test_maps_are_sorted_and_order_free() -> None:
    a = Derivation(name="a", builder="/bin/sh", env={"b": "1", "a": "2"}, outputs=["out", "dev"])
    b = Derivation(name="a", builder="/bin/sh", env={"a": "2", "b": "1"}, outputs=["dev", "out"])
    assert a == b and hash(a) == hash(b) and a.key == b.key
    assert list(a.env) == ["a", "b"] and a.outputs == ("dev", "out")
    assert SortedMap({"b": 1, "a": 2}) == {"a": 2, "b": 1}


GOLDEN = Derivation(
    name="hello",
    builder="/bin/sh",
    args=["-c", "echo ${inputs.dep.out} > ${outputs.out}"],
    env={"out": "${outputs.out}", "greeting": "hi"},
    input_drvs={"dep": InputDrv("0" * 26, ("out",))},
)


def test_golden_key() -> None:
    """Pins the encoding: if this changes, every store key changes — bump FORMAT_VERSION and
    docs/store.md with it."""
    assert GOLDEN.key == _golden_key_from_spec()
    assert GOLDEN.key == "6nlgqv0bl15rvfsyfxy5sbxxqf"


def _golden_key_from_spec() -> str:
    """docs/store.md, "Derivation keys", re-implemented from the text with hashlib-free xxhash."""
    import xxhash

    doc = {
        "args": ["-c", "echo ${inputs.dep.out} > ${outputs.out}"],
        "builder": "/bin/sh",
        "env": {"greeting": "hi", "out": "${outputs.out}"},
        "fixed": None,
        "format": 1,
        "input_drvs": {"dep": {"fixed": False, "key": "0" * 26, "outputs": ["out"]}},
        "input_srcs": {},
        "name": "hello",
        "outputs": ["out"],
    }
    pre = b"skiffeval:drv:v1\0" + json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return nixbase32(xxhash.xxh3_128(pre).digest())


KEY_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from tests.store.test_store_derivation import GOLDEN
from tests.store.store_helpers import layered
drvs = layered(50)
print(json.dumps([GOLDEN.key, GOLDEN.ref] + [d.key for d in drvs] + [d.drv_path.basename for d in drvs]))
"""


def test_keys_are_the_same_in_every_process() -> None:
    outs = []
    for seed in ("0", "1", "12345", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", KEY_SCRIPT.format(root=str(ROOT))], env=env,
                              capture_output=True, text=True, cwd=ROOT, check=True)
        outs.append(json.loads(proc.stdout))
    assert all(o == outs[0] for o in outs)
    assert outs[0][0] == GOLDEN.key


FIELDS = ["name", "builder", "args", "env", "fixed", "input_drvs", "input_srcs", "outputs"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(derivations(), st.data())
def test_any_change_to_any_field_changes_the_key(drv: Derivation, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(FIELDS))
    other = data.draw(derivations())
    try:
        changed = attrs.evolve(drv, **{field: getattr(other, field)})
    except SkiffError:
        assume(False)  # the mixed record is invalid (a placeholder without its slot)
        return
    assume(getattr(changed, field) != getattr(drv, field))
    assert changed != drv
    assert changed.key != drv.key


@given(derivations())
def test_equal_records_have_equal_keys(drv: Derivation) -> None:
    copy = Derivation(**{f: getattr(drv, f) for f in FIELDS})
    assert copy == drv and copy.key == drv.key


@given(derivations())
def test_drv_round_trip(drv: Derivation) -> None:
    text = encode_drv(drv)
    assert text == pretty_json(drv.to_doc())  # the fast encoders are the canonical ones
    assert drv.canonical_bytes() == canonical_json(drv.to_doc())
    back = decode_drv(text, expected_key=drv.key)
    assert back == drv
    assert encode_drv(back) == text


def test_the_pre_image_writer_escapes_every_character_as_the_canonical_encoder_does() -> None:
    # ``Derivation.canonical_bytes`` writes with orjson, ``canonical_json`` with the json module:
    # one text holding every code point (surrogates have no UTF-8 form), then each control
    # character and the escaped ones alone, in a record's environment
    every = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000)
    drv = Derivation(name="x", builder="/bin/sh", args=[every], env={"A": every, "\u00e9\u4e2d\U0001f600": '"\\'})
    assert drv.canonical_bytes() == canonical_json(drv.to_doc())
    for c in [*range(1, 0x20), 0x22, 0x5C, 0x7F, 0x2028, 0x2029, 0xFFFF]:
        one = Derivation(name="x", builder="/bin/sh", env={"A": chr(c)})
        assert one.canonical_bytes() == canonical_json(one.to_doc()), hex(c)


def test_a_lone_surrogate_is_refused_with_the_derivation_named() -> None:
    with pytest.raises(SkiffError, match="'x'.*not valid Unicode"):
        Derivation(name="x", builder="/bin/sh", env={"A": "\ud800"})


def test_an_input_made_from_a_record_equals_the_checked_one() -> None:
    fod = Derivation(name="src", builder="builtin:fetchurl", env={"url": "https://example.org/x"},
                     fixed=FixedOutput("0" * 64, "recursive"))
    two = Derivation(name="lib", builder="/bin/sh", outputs=["out", "dev"])
    for drv in (GOLDEN, fod, two):
        made = input_of(drv)
        checked = InputDrv(drv.ref, drv.outputs, drv.fixed is not None)
        assert made == checked and hash(made) == hash(checked) and made.to_doc() == checked.to_doc()


def test_decode_refuses_non_canonical_and_malformed() -> None:
    text = encode_drv(GOLDEN)
    doc = json.loads(text)
    bad_docs = [
        {**doc, "outputs": ["out", "out"]},
        {**doc, "extra": 1},
        {**doc, "format": 2},
        {**doc, "args": [1]},
        {k: v for k, v in doc.items() if k != "env"},
        {**doc, "input_drvs": {"dep": {"fixed": "no", "key": "0" * 26, "outputs": ["out"]}}},
    ]
    for bad in bad_docs:
        with pytest.raises(SkiffError) as e:
            decode_drv(json.dumps(bad))
        assert e.value.code.code == "E102"
    with pytest.raises(SkiffError):
        decode_drv("{not json")
    with pytest.raises(SkiffError):
        decode_drv(text, expected_key="1" * 26)


# ---------------------------------------------------------------------------------------------
# fixed outputs and resolution


def fetch(url: str, sha: str = "a" * 64) -> Derivation:
    return Derivation(name="src.tar", builder="builtin:fetchurl", env={"url": url, "out": "${outputs.out}"},
                      fixed=FixedOutput(sha, "flat"))


def test_fod_inputs_enter_by_content_identity() -> None:
    a, b = fetch("https://one.example/src.tar"), fetch("https://mirror.example/src.tar")
    assert a.key != b.key  # the FODs themselves differ
    assert a.ref == b.ref == fod_identity("src.tar", "a" * 64, "flat")
    user_a = Derivation(name="u", builder="/bin/sh", args=["${inputs.src.out}"], input_drvs={"src": input_of(a)})
    user_b = Derivation(name="u", builder="/bin/sh", args=["${inputs.src.out}"], input_drvs={"src": input_of(b)})
    assert user_a.key == user_b.key  # a mirror change does not cascade
    user_c = Derivation(name="u", builder="/bin/sh", args=["${inputs.src.out}"], input_drvs={"src": input_of(fetch("x", "b" * 64))})
    assert user_c.key != user_a.key  # a content change does


def test_only_the_inputs_map_differs_when_an_input_changes() -> None:
    up1 = Derivation(name="frag", builder="builtin:write-text", env={"out": "${outputs.out}", "text": "A=1\n"})
    up2 = Derivation(name="frag", builder="builtin:write-text", env={"out": "${outputs.out}", "text": "A=2\n"})
    d1 = Derivation(name="cfg", builder="/bin/sh", args=["cat ${inputs.frag.out}"], input_drvs={"frag": input_of(up1)})
    d2 = Derivation(name="cfg", builder="/bin/sh", args=["cat ${inputs.frag.out}"], input_drvs={"frag": input_of(up2)})
    doc1, doc2 = d1.to_doc(), d2.to_doc()
    assert d1.key != d2.key
    assert {k for k in doc1 if doc1[k] != doc2[k]} == {"input_drvs"}


def test_resolve_and_substitute() -> None:
    src = StorePath("1" * 26, "src")
    dep_out = StorePath("2" * 26, "dep")
    dep = Derivation(name="dep", builder="/bin/sh")
    d = Derivation(name="d", builder="${inputs.dep.out}/bin/sh", args=["${sources.s}", "${outputs.out}"],
                   env={"x": "${inputs.dep.out}:${sources.s}"}, input_drvs={"dep": input_of(dep)}, input_srcs={"s": src})
    r = resolve(d, "/store/", {"dep": {"out": dep_out}})
    assert r.builder == f"/store/{dep_out}/bin/sh"
    assert r.args == (f"/store/{src}", "${outputs.out}")
    assert r.env["x"] == f"/store/{dep_out}:/store/{src}"
    assert r.inputs == tuple(sorted([src, dep_out], key=str))
    assert substitute_outputs(r.args[1], {"out": "/tmp/x"}) == "/tmp/x"
    # the resolved key depends on what the builder sees, not on the input's key
    other_dep = Derivation(name="dep", builder="/bin/sh", args=["changed"])
    d2 = attrs.evolve(d, input_drvs={"dep": input_of(other_dep)})
    assert d2.key != d.key
    assert resolve(d2, "/store", {"dep": {"out": dep_out}}).key == r.key
    assert resolve(d2, "/store", {"dep": {"out": StorePath("3" * 26, "dep")}}).key != r.key
    with pytest.raises(SkiffError):
        resolve(d, "/store", {})


@given(derivations())
def test_of_canonical_makes_the_same_record(drv: Derivation) -> None:
    """The evaluator's way to make a record (``Derivation.of_canonical``: fields already of
    their canonical types, converters skipped) gives the record the constructor gives: the same
    fields, pre-image and key — on its fast path (a single ``out`` output) and its fallback."""
    made = Derivation.of_canonical(
        drv.name, drv.builder, tuple(drv.args), SortedMap.of_sorted(dict(sorted(drv.env.items()))),
        SortedMap.of_sorted(dict(sorted(drv.input_drvs.items()))),
        SortedMap.of_sorted(dict(sorted(drv.input_srcs.items()))), drv.outputs, drv.fixed,
    )
    assert made == drv
    assert made.canonical_bytes() == drv.canonical_bytes()
    assert made.key == drv.key and made.ref == drv.ref
    assert encode_drv(made) == encode_drv(drv)
