"""External builders: cleared environment, bubblewrap sandbox (no network, only inputs visible,
read-only inputs) and the plain-subprocess fallback."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from skiffeval.builders import external, realize
from skiffeval.derivation import Derivation, input_of
from skiffeval.diagnostics import SkiffError
from skiffeval.store import LocalStore
from tests.store.store_helpers import text_drv

needs_bwrap = pytest.mark.skipif(not external.sandbox_available(), reason="bubblewrap cannot run here")


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "store")
    yield s
    s.close()


def probe_drv(store: LocalStore, port: int, dep: Derivation, tag: str) -> Derivation:
    script = (
        "exec 2>&1; { /usr/bin/env; echo ---; ls -A \"$storedir\"; echo ---;"
        " if /bin/bash -c 'echo hi > /dev/tcp/127.0.0.1/'$port 2>/dev/null; then echo net:connected; else echo net:blocked; fi;"
        " if [ -w ${inputs.dep.out} ]; then echo input:writable; else echo input:read-only; fi;"
        " cat ${inputs.dep.out}; } > $out"
    )
    return Derivation(name=f"probe-{tag}", builder="/bin/sh", args=["-c", script],
                      env={"out": "${outputs.out}", "storedir": str(store.root), "port": str(port)},
                      input_drvs={"dep": input_of(dep)})


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    """A TCP listener on the host's loopback (what a builder must not reach when sandboxed)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(10)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conn.close()
            except OSError:
                return

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    srv.close()


def sections(text: str) -> tuple[dict[str, str], list[str], list[str]]:
    env_part, ls_part, rest = text.split("---\n", 2)
    env = dict(line.split("=", 1) for line in env_part.splitlines() if "=" in line)
    return env, ls_part.split(), rest.splitlines()


@needs_bwrap
def test_bwrap_sandbox(store: LocalStore, server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIFFEVAL_TEST_SECRET", "leaked")
    dep = text_drv("dep", "input text")
    unrelated = store.add_bytes("unrelated", b"not an input")
    d = probe_drv(store, server, dep, "bwrap")
    r = realize(store, [d], graph=[dep, d], sandbox=True)
    env, listing, rest = sections(store.real_path(r.of(d)).read_text())
    assert "SKIFFEVAL_TEST_SECRET" not in env and "PATH" not in env
    assert env["HOME"] == "/homeless" and env["SOURCE_DATE_EPOCH"] == "315532800"
    assert env["TMPDIR"].startswith(str(store.meta / "tmp"))
    assert env["out"] == str(store.real_path(r.of(d)))  # rewritten from the scratch path
    assert r.of(dep).basename in listing and unrelated.basename not in listing
    assert not any(n.endswith(".drv") for n in listing)
    assert rest[:2] == ["net:blocked", "input:read-only"]
    assert rest[2] == "input text"
    assert "bubblewrap sandbox" in store.log_path(d.key, d.name).read_text()
    assert store.verify(check_contents=True).ok


def test_plain_subprocess_fallback(store: LocalStore, server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIFFEVAL_TEST_SECRET", "leaked")
    dep = text_drv("dep", "input text")
    unrelated = store.add_bytes("unrelated", b"not an input")
    d = probe_drv(store, server, dep, "plain")
    r = realize(store, [d], graph=[dep, d], sandbox=False)
    env, listing, rest = sections(store.real_path(r.of(d)).read_text())
    assert "SKIFFEVAL_TEST_SECRET" not in env and "PATH" not in env
    assert env["HOME"] == "/homeless"
    assert unrelated.basename in listing  # no isolation without the sandbox
    assert rest[0] == "net:connected"
    assert rest[1] == ("input:writable" if os.geteuid() == 0 else "input:read-only")  # root ignores modes
    assert "no sandbox" in store.log_path(d.key, d.name).read_text()


def test_declared_path_and_failure_exit_status(store: LocalStore) -> None:
    d = Derivation(name="p", builder="/bin/sh", args=["-c", "echo $PATH > $out; mkdir -p $TMPDIR/x"],
                   env={"out": "${outputs.out}", "PATH": "/usr/bin:/bin"})
    r = realize(store, [d])
    assert store.real_path(r.of(d)).read_text() == "/usr/bin:/bin\n"
    bad = Derivation(name="bad", builder="/bin/sh", args=["-c", "echo oops; exit 3"], env={"out": "${outputs.out}"})
    with pytest.raises(SkiffError) as e:
        realize(store, [bad])
    assert "exited with status 3" in e.value.message and [n.message for n in e.value.notes][-1] == "log: oops"
    missing = Derivation(name="m", builder="/no/such/program", env={"out": "${outputs.out}"})
    with pytest.raises(SkiffError) as e2:
        realize(store, [missing], sandbox=False)
    assert "not found" in e2.value.message


def test_required_sandbox_that_cannot_run(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(external, "sandbox_available", lambda: False)
    d = Derivation(name="x", builder="/bin/sh", args=["-c", "echo > $out"], env={"out": "${outputs.out}"})
    with pytest.raises(SkiffError) as e:
        realize(store, [d], sandbox=True)
    assert e.value.code.code == "E120"
    r = realize(store, [d])  # sandbox=None: falls back to a plain subprocess
    assert store.is_valid(r.of(d))
