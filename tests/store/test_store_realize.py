"""Realization: building graphs, early cutoff, failures, keep-going, dry runs, events, -j,
fixed-output derivations."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

import pytest

from skiffeval.builders import register_builder, realize
from skiffeval.derivation import Derivation, FixedOutput, input_of
from skiffeval.diagnostics import SkiffError
from skiffeval.store import LocalStore
from skiffeval.store.build import BuildContext
from skiffeval.store.realize import RealizeError, RealizePlan
from tests.store.store_helpers import layered, sh_drv, text_drv

RUNS: list[str] = []


@register_builder("test-record")
def record(ctx: BuildContext) -> None:
    """write-text that records each run (to count builds)."""
    RUNS.append(ctx.drv.name)
    ctx.out.write_text(ctx.env["text"])


@register_builder("test-fail")
def fail(ctx: BuildContext) -> None:
    os.mkdir(ctx.out)
    (ctx.out / "half").write_text("partial output")
    for i in range(40):
        ctx.log.write(f"step {i}\n")
    raise RuntimeError("the builder gave up")


@register_builder("test-deep")
def deep(ctx: BuildContext) -> None:
    """Walks a made-up tree one call per level, deeper than the recursion limit allows."""
    def down(level: int) -> int:
        return level if level > sys.getrecursionlimit() else down(level + 1)

    down(0)


MEETING = threading.Barrier(4, timeout=60)


@register_builder("test-meet")
def meet(ctx: BuildContext) -> None:
    """Returns only when four builds are in it at once (a broken barrier fails the build)."""
    RUNS.append(f"start {ctx.drv.name}")
    MEETING.wait()
    ctx.out.write_text(ctx.drv.name)
    RUNS.append(f"end {ctx.drv.name}")


@register_builder("test-fetch")
def fake_fetch(ctx: BuildContext) -> None:
    RUNS.append(ctx.env["url"])
    ctx.out.write_bytes(ctx.env["content"].encode())


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    RUNS.clear()
    s = LocalStore(tmp_path / "store")
    yield s
    s.close()


def rec(name: str, text: str, **inputs: Derivation) -> Derivation:
    body = text + "".join(f" ${{inputs.{s}.out}}" for s in sorted(inputs))
    return Derivation(name=name, builder="builtin:test-record", env={"out": "${outputs.out}", "text": body},
                      input_drvs={s: input_of(d) for s, d in inputs.items()})


def test_build_chain_then_noop(store: LocalStore) -> None:
    drvs = layered(30)
    events = []
    r = realize(store, drvs, graph=drvs, on_event=events.append)
    assert len(r.built) == 30 and not r.valid
    last = store.real_path(r.of(drvs[-1])).read_text()
    assert last.startswith("layer 29\n") and str(store.real_path(r.of(drvs[-2]))) in last
    assert store.references(r.of(drvs[-1])) == sorted(r.of(d) for d in drvs[-4:-1])
    assert [e.kind for e in events].count("built") == 30 and events[0].kind == "plan"
    again = realize(store, drvs, graph=drvs)
    assert again.built == () and len(again.valid) == 30 and again.outputs == r.outputs
    # from the store alone (no graph given): the .drv files were written
    fresh = LocalStore(store.root)
    assert realize(fresh, [drvs[-1]]).of(drvs[-1]) == r.of(drvs[-1])


def test_early_cutoff(store: LocalStore) -> None:
    # upstream: a fragment with a comment; midstream strips comments; downstream uses the result
    frag1 = text_drv("frag", "# a comment\nA=1")
    frag2 = text_drv("frag", "# another comment\nA=1")
    strip = lambda frag: sh_drv("merged", "grep -v '^#' ${inputs.frag.out} > $out", frag=frag)  # noqa: E731
    use = lambda merged: rec("image", "image of", merged=merged)  # noqa: E731
    m1, m2 = strip(frag1), strip(frag2)
    i1, i2 = use(m1), use(m2)
    assert i1.key != i2.key  # the keys cascade ...
    r1 = realize(store, [i1], graph=[frag1, m1, i1], runner=None, sandbox=False)
    assert RUNS == ["image"]
    plan = realize(store, [i2], graph=[frag2, m2, i2], dry_run=True, sandbox=False)
    assert isinstance(plan, RealizePlan)
    assert [n for _k, n in plan.build] == ["frag"] and [n for _k, n in plan.may_cutoff] == ["merged", "image"]
    r2 = realize(store, [i2], graph=[frag2, m2, i2], sandbox=False)
    assert r2.of(m2) == r1.of(m1)  # ... but the merged output is identical
    assert RUNS == ["image"]  # so the image was not built again
    assert i2.key in r2.cutoff and m2.key in r2.built
    assert store.realisation(i2.key).resolved == store.realisation(i1.key).resolved
    plan2 = realize(store, [i2], graph=[frag2, m2, i2], dry_run=True)
    assert [n for _k, n in plan2.valid] == ["image"]


def test_failing_builder_registers_nothing(store: LocalStore) -> None:
    ok = rec("ok", "fine")
    bad = Derivation(name="bad", builder="builtin:test-fail", env={"out": "${outputs.out}"},
                     input_drvs={"ok": input_of(ok)})
    after = rec("after", "never", bad=bad)
    before = set(os.listdir(store.root))
    with pytest.raises(RealizeError) as e:
        realize(store, [after], graph=[ok, bad, after])
    err = e.value
    assert err.code.code == "E112"
    assert "'bad'" in err.message and bad.key in err.message and "gave up" in err.message
    log = store.log_path(bad.key, bad.name)
    assert any(str(log) in h for h in err.help)
    assert [n.message for n in err.notes][-1] == "log: step 39" and len(err.notes) == 10  # the last 10 lines
    assert err.result.failed[0].log_tail[-1] == "step 39"
    assert after.key in err.result.skipped or after.key not in err.result.outputs
    new = set(os.listdir(store.root)) - before
    # only the good output and the .drv files appeared; no scratch, nothing of 'bad'
    assert {n for n in new if not n.endswith(".drv")} == {err.result.outputs[ok.key]["out"].basename}
    assert store.realisation(bad.key) is None
    assert store.verify(check_contents=True).ok and not store.verify().garbage


def test_a_builder_out_of_recursion_says_the_tree_is_too_deep(store: LocalStore) -> None:
    drv = Derivation(name="deep", builder="builtin:test-deep", env={"out": "${outputs.out}"})
    with pytest.raises(RealizeError) as e:
        realize(store, [drv], graph=[drv])
    assert e.value.code.code == "E112"
    assert "failed: a tree it works on is nested too deeply (more than about" in e.value.message
    assert "RecursionError" not in e.value.message and store.realisation(drv.key) is None


def test_keep_going(store: LocalStore) -> None:
    bad = Derivation(name="bad", builder="builtin:test-fail", env={"out": "${outputs.out}"})
    down = rec("down", "x", bad=bad)
    independent = [rec(f"ind{i}", str(i)) for i in range(4)]
    with pytest.raises(RealizeError) as e:
        realize(store, [down, *independent], graph=[bad, down, *independent], keep_going=True, jobs=2)
    res = e.value.result
    assert {RUNS.count(f"ind{i}") for i in range(4)} == {1}
    assert res.skipped == (down.key,) and [f.name for f in res.failed] == ["bad"]
    assert all(d.key in res.outputs for d in independent)


def test_parallel_jobs_overlap(store: LocalStore) -> None:
    MEETING.reset()
    drvs = [Derivation(name=f"s{i}", builder="builtin:test-meet", env={"out": "${outputs.out}"}) for i in range(4)]
    res = realize(store, drvs, graph=drvs, jobs=4)
    assert all(d.key in res.outputs for d in drvs)
    starts = [i for i, e in enumerate(RUNS) if e.startswith("start")]
    first_end = min(i for i, e in enumerate(RUNS) if e.startswith("end"))
    assert len(starts) == 4 and max(starts) < first_end  # all four ran at once


def test_event_callback_is_serialized(store: LocalStore) -> None:
    drvs = [rec(f"e{i}", str(i)) for i in range(12)]
    inside = threading.Lock()
    seen = []

    def on_event(ev) -> None:  # type: ignore[no-untyped-def]
        assert inside.acquire(blocking=False), "two callbacks at once"
        try:
            seen.append(ev.kind)
        finally:
            inside.release()

    realize(store, drvs, graph=drvs, jobs=4, on_event=on_event)
    assert seen.count("start") == 12 and seen.count("built") == 12


def test_unknown_builtin_and_missing_output(store: LocalStore) -> None:
    d = Derivation(name="x", builder="builtin:write-txt", env={"out": "${outputs.out}", "text": "t"})
    with pytest.raises(SkiffError) as e:
        realize(store, [d])
    assert e.value.code.code == "E119" and "did you mean 'write-text'?" in e.value.help
    nothing = sh_drv("nothing", "true")
    with pytest.raises(SkiffError) as e2:
        realize(store, [nothing], sandbox=False)
    assert "did not create output 'out'" in e2.value.message


def fod(url: str, content: str, declared: str | None = None, mode: str = "flat") -> Derivation:
    sha = declared or hashlib.sha256(content.encode()).hexdigest()
    return Derivation(name="src.tar", builder="builtin:test-fetch",
                      env={"out": "${outputs.out}", "url": url, "content": content}, fixed=FixedOutput(sha, mode))


def test_fixed_output_hash_checked_before_registration(store: LocalStore) -> None:
    good = fod("https://one/src.tar", "tarball")
    r = realize(store, [good])
    assert store.real_path(r.of(good)).read_text() == "tarball"
    bad = fod("https://two/src.tar", "evil", declared=hashlib.sha256(b"tarball2").hexdigest())
    before = set(os.listdir(store.root))
    with pytest.raises(RealizeError) as e:
        realize(store, [bad])
    msg = e.value.message
    assert e.value.code.code == "E113" and "hash mismatch" in msg and "'src.tar'" in msg
    assert hashlib.sha256(b"tarball2").hexdigest() in msg and hashlib.sha256(b"evil").hexdigest() in msg
    assert {n for n in set(os.listdir(store.root)) - before if not n.endswith(".drv")} == set()


def test_mirror_change_does_not_cascade(store: LocalStore) -> None:
    a = fod("https://one/src.tar", "tarball")
    b = fod("https://mirror/src.tar", "tarball")
    ua, ub = rec("user", "uses", src=a), rec("user", "uses", src=b)
    assert ua.key == ub.key and a.key != b.key
    realize(store, [ua], graph=[a, ua])
    assert RUNS == ["https://one/src.tar", "user"]
    r = realize(store, [ub], graph=[b, ub])  # the same content is known: nothing fetched or built
    assert RUNS == ["https://one/src.tar", "user"] and r.valid == (ub.key,)
    # a downstream that is new still finds the FOD's content by identity, without fetching
    uc = rec("user2", "uses", src=b)
    realize(store, [uc], graph=[b, uc])
    assert RUNS == ["https://one/src.tar", "user", "user2"]
    # and the mirror's FOD itself, as a target, is realized by the known content
    rb = realize(store, [b])
    assert RUNS == ["https://one/src.tar", "user", "user2"] and rb.cutoff == (b.key,)
    assert rb.of(b) == store.realisation(a.key).outputs["out"]


def test_recursive_fod(store: LocalStore, tmp_path: Path) -> None:
    from skiffeval.store.tree import hash_tree

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "f").write_text("x")
    os.symlink("f", tmp_path / "t" / "l")
    sha = hash_tree(tmp_path / "t").sha256
    src = store.add_path(tmp_path / "t")
    d = Derivation(name="copy", builder="builtin:copy", env={"out": "${outputs.out}", "src": "${sources.t}"},
                   input_srcs={"t": src}, fixed=FixedOutput(sha, "recursive"))
    r = realize(store, [d])
    assert store.path_info(r.of(d)).sha256 == sha


def test_multiple_outputs_and_self_reference(store: LocalStore) -> None:
    d = Derivation(name="multi", builder="/bin/sh",
                   args=["-c", "echo $dev > $out; mkdir $dev; echo $dev/x > $dev/self"],
                   env={"out": "${outputs.out}", "dev": "${outputs.dev}"}, outputs=["out", "dev"])
    with pytest.raises(SkiffError) as e:  # out refers to dev: not content-addressable
        realize(store, [d], sandbox=False)
    assert "another output" in e.value.message
    ok = Derivation(name="multi", builder="/bin/sh",
                    args=["-c", "echo out > $out; mkdir $dev; echo $dev/x > $dev/self"],
                    env={"out": "${outputs.out}", "dev": "${outputs.dev}"}, outputs=["out", "dev"])
    r = realize(store, [ok], sandbox=False)
    dev = r.outputs[ok.key]["dev"]
    assert dev.name == "multi-dev"
    assert (store.real_path(dev) / "self").read_text() == f"{store.real_path(dev)}/x\n"
    assert store.references(dev) == [dev]
    assert store.verify(check_contents=True).ok


def test_copy_and_symlink_join_builtins(store: LocalStore, tmp_path: Path) -> None:
    for name, files in (("one", {"etc/motd": "one", "etc/a": "a"}), ("two", {"etc/motd": "two", "bin/x": "x"})):
        for rel, text in files.items():
            (tmp_path / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / rel).write_text(text)
    os.symlink("a", tmp_path / "one" / "etc" / "link-to-a")
    s1, s2 = store.add_path(tmp_path / "one"), store.add_path(tmp_path / "two")
    c1 = Derivation(name="c1", builder="builtin:copy", env={"out": "${outputs.out}", "src": "${sources.s}"}, input_srcs={"s": s1})
    c2 = Derivation(name="c2", builder="builtin:copy", env={"out": "${outputs.out}", "src": "${sources.s}"}, input_srcs={"s": s2})
    join = Derivation(name="joined", builder="builtin:symlink-join",
                      env={"out": "${outputs.out}", "paths": "${inputs.a.out} ${inputs.b.out}"},
                      input_drvs={"a": input_of(c1), "b": input_of(c2)})
    r = realize(store, [join], graph=[c1, c2, join])
    out = store.real_path(r.of(join))
    assert (out / "etc" / "motd").read_text() == "two"  # the later path wins
    assert (out / "etc" / "a").read_text() == "a" and (out / "bin" / "x").read_text() == "x"
    assert os.readlink(out / "etc" / "a") == str(store.real_path(r.of(c1)) / "etc" / "a")
    assert os.readlink(store.real_path(r.of(c1)) / "etc" / "link-to-a") == "a"  # copied as a link
    assert store.references(r.of(join)) == sorted([r.of(c1), r.of(c2)])
    assert "collision: etc/motd" in store.log_path(join.key, join.name).read_text()
    assert store.path_info(r.of(c1)).sha256 == store.path_info(s1).sha256  # same tree, another name


def test_every_builtin_builder_is_found_through_its_module() -> None:
    """``MODULES`` names, for every builtin builder, the module that registers it, and nothing
    else: a builder's module is imported only when a derivation needs it."""
    import importlib

    from skiffeval.builders import registry

    for module in sorted(set(registry.MODULES.values())):
        before = set(registry._REGISTRY)
        importlib.import_module(module)
        registered = {name for name, fn in registry._REGISTRY.items() if fn.__module__ == module}
        assert registered == {n for n, m in registry.MODULES.items() if m == module}, module
        assert before <= set(registry._REGISTRY)
    names = registry.builder_names()
    assert {n for n in names if registry._REGISTRY[n].__module__.startswith("skiffeval.")} == set(registry.MODULES)
