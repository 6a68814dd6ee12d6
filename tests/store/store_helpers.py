"""Helpers for the store tests: small derivation graphs and a test-only builtin builder."""

from __future__ import annotations

import os
import time

from skiffeval.builders import register_builder
from skiffeval.derivation import Derivation, input_of
from skiffeval.store.build import BuildContext


def text_drv(name: str, text: str, **inputs: Derivation) -> Derivation:
    """A ``builtin:write-text`` derivation whose text may mention its inputs' outputs."""
    body = text + "".join(f"\n${{inputs.{slot}.out}}" for slot in sorted(inputs))
    return Derivation(
        name=name,
        builder="builtin:write-text",
        env={"out": "${outputs.out}", "text": body},
        input_drvs={slot: input_of(d) for slot, d in inputs.items()},
    )


def sh_drv(name: str, script: str, *, env: dict[str, str] | None = None, **inputs: Derivation) -> Derivation:
    """An external ``/bin/sh -c script`` derivation (PATH declared so coreutils work)."""
    full_env = {"out": "${outputs.out}", "PATH": "/usr/bin:/bin"}
    full_env.update(env or {})
    return Derivation(
        name=name,
        builder="/bin/sh",
        args=["-c", script],
        env=full_env,
        input_drvs={slot: input_of(d) for slot, d in inputs.items()},
    )


def layered(n: int, *, builder: str = "builtin:write-text", extra_env: dict[str, str] | None = None,
            salt: str = "") -> list[Derivation]:
    """``n`` derivations, each depending on the previous three (the benchmark's shape)."""
    drvs: list[Derivation] = []
    for i in range(n):
        prev = drvs[-3:]
        ins = {f"p{j}": input_of(p) for j, p in enumerate(prev)}
        text = f"layer {i}{salt}\n" + "".join(f"${{inputs.p{j}.out}}\n" for j in range(len(prev)))
        env = {"out": "${outputs.out}", "text": text}
        env.update(extra_env or {})
        drvs.append(Derivation(name=f"layer-{i}", builder=builder, env=env, input_drvs=ins))
    return drvs


@register_builder("test-counted")
def counted(ctx: BuildContext) -> None:
    """write-text that appends its name to ``$SKIFFEVAL_TEST_COUNTER`` (a file outside the store)
    and sleeps ``env.delay`` seconds in small steps while writing a few files — a window for
    concurrent processes and for ``kill -9``."""
    counter = os.environ.get("SKIFFEVAL_TEST_COUNTER")
    if counter:
        with open(counter, "a") as f:
            f.write(ctx.drv.name + "\n")
    delay = float(ctx.env.get("delay", "0"))
    os.mkdir(ctx.out)
    steps = 4
    for i in range(steps):
        with open(os.path.join(ctx.out, f"part{i}"), "w") as f:
            f.write(ctx.env.get("text", "") + f"\n{i}\n")
        time.sleep(delay / steps)
