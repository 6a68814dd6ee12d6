"""The language's ``derivation`` builtin: Nix's calling convention, string context making inputs,
slots named after their inputs, and realization of external and builtin builders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skiffeval.diagnostics import SkiffError
from skiffeval.session import BuildRequest, Session, SessionOptions


def session_for(tmp_path: Path, text: str) -> Session:
    (tmp_path / "d.sk").write_text(text)
    return Session(SessionOptions(cwd=str(tmp_path), store_dir="store"))


def build(tmp_path: Path, text: str, *attrs: str):
    s = session_for(tmp_path, text)
    outcome = s.build([BuildRequest("d.sk", attrs)], out_link=None)
    return s, outcome


def test_value_shape_and_env(tmp_path: Path) -> None:
    s = session_for(tmp_path, 'derivation { name = "x"; builder = "builtin:write-text"; text = "hi"; n = 3; flag = true; }')
    v = s.evaluate("d.sk")[0]
    names = set(v.values)
    assert {"type", "drvPath", "outPath", "outputName", "out", "all", "name", "builder", "text", "n", "flag"} <= names
    drv = s.table.derivation_of(v)[0]
    assert drv.builder == "builtin:write-text"
    # as Nix: every attribute is an environment variable (integers and booleans as toString)
    assert drv.env["n"] == "3" and drv.env["flag"] == "1" and drv.env["out"] == "${outputs.out}"
    assert str(v.values["outPath"]).startswith("/skiffeval/placeholder/")
    assert str(v.get("drvPath")).endswith(f"{drv.key}-x.drv")  # (made when first asked for)


def test_references_become_slots_named_after_inputs(tmp_path: Path) -> None:
    s = session_for(tmp_path, """
      let a = derivation { name = "frag"; builder = "builtin:write-text"; text = "a"; };
          b = derivation { name = "frag"; builder = "builtin:write-text"; text = "b"; };
      in derivation { name = "user"; builder = "builtin:write-text"; text = "${a}/x ${b} ${./d.sk}"; }
    """)
    drv = s.table.derivation_of(s.evaluate("d.sk")[0])[0]
    assert set(drv.input_drvs) == {"frag", "frag-2"}
    assert drv.env["text"] == "${inputs.frag.out}/x ${inputs.frag-2.out} ${sources.d-sk}"
    assert set(drv.input_srcs) == {"d-sk"}


def test_an_input_change_changes_only_the_inputs_map(tmp_path: Path) -> None:
    template = """
      let dep = derivation {{ name = "dep"; builder = "builtin:write-text"; text = "{v}"; }};
      in derivation {{ name = "top"; builder = "builtin:write-text"; text = "uses ${{dep}}"; }}
    """
    docs = []
    for v in ("one", "two"):
        s = session_for(tmp_path, template.format(v=v))
        drv = s.table.derivation_of(s.evaluate("d.sk")[0])[0]
        docs.append(drv.to_doc())
    a, b = docs
    assert a["env"] == b["env"] and a["name"] == b["name"]
    assert a["input_drvs"] != b["input_drvs"]


def test_external_builder_runs_with_a_cleared_environment(tmp_path: Path) -> None:
    s, outcome = build(tmp_path, """
      derivation {
        name = "shell";
        builder = "/bin/sh";
        args = [ "-c" "echo \\"$greeting\\" > $out; env | sort > $out.env 2>/dev/null || true" ];
        greeting = "hello";
      }
    """)
    (label, drv, output, path) = outcome.targets[0]
    assert (s.store.real_path(path)).read_text() == "hello\n"


def test_builtin_builders_chain_and_realize(tmp_path: Path) -> None:
    s, outcome = build(tmp_path, """
      let a = derivation { name = "a"; builder = "builtin:write-text"; text = "A"; };
      in derivation { name = "b"; builder = "/bin/sh"; args = [ "-c" "cat ${a} ${a} > $out" ]; }
    """)
    path = outcome.targets[0][3]
    assert s.store.real_path(path).read_text() == "AA"


def test_fixed_output_derivation_is_checked(tmp_path: Path) -> None:
    import hashlib

    (tmp_path / "payload").write_text("payload\n")
    good = hashlib.sha256(b"payload\n").hexdigest()
    s, outcome = build(tmp_path, f'fetchurl {{ url = "file://{tmp_path}/payload"; hash = "sha256:{good}"; }}')
    assert s.store.real_path(outcome.targets[0][3]).read_text() == "payload\n"
    with pytest.raises(SkiffError) as info:
        build(tmp_path, f'fetchurl {{ url = "file://{tmp_path}/payload"; hash = "sha256:{"0" * 64}"; name = "other"; }}')
    assert info.value.code.code == "E113"


@pytest.mark.parametrize("text,code", [
    ('derivation { builder = "builtin:write-text"; }', "E150"),
    ('derivation { name = "x"; }', "E150"),
    ('derivation { name = "bad name!"; builder = "x"; }', "E100"),
    ('derivation { name = "x"; builder = "builtin:write-text"; outputHash = "nope"; }', "E104"),
    ('derivation { name = "x"; builder = 1; }', "E047"),
])
def test_bad_derivations_are_located_errors(tmp_path: Path, text: str, code: str) -> None:
    s = session_for(tmp_path, text)
    with pytest.raises(SkiffError) as info:
        s.evaluate("d.sk", deep=True)
    assert info.value.code.code == code
    assert info.value.span is not None and info.value.span.file == "d.sk"


def test_show_derivation_is_canonical_json(tmp_path: Path) -> None:
    from tests.cli.runner import run

    (tmp_path / "d.sk").write_text('derivation { name = "x"; builder = "builtin:write-text"; text = "hi"; }')
    r = run(["show-derivation", "d.sk"], cwd=tmp_path)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    (name, body), = doc.items()
    assert name.endswith("-x.drv") and body["env"]["text"] == "hi" and body["format"] == 1


def test_an_output_ref_is_a_value_named_by_its_ref_name_and_output() -> None:
    from skiffeval.session.refs import OutputRef, placeholder

    a, same, other = OutputRef("0" * 26, "x", "out"), OutputRef("0" * 26, "x", "out"), OutputRef("0" * 26, "x", "dev")
    assert a == same and hash(a) == hash(same) and a != other
    assert a.text == placeholder("0" * 26, "x", "out") and "text" not in repr(a)
    assert len(frozenset((a, same, other))) == 2


def test_an_output_whose_name_begins_another_is_rewritten_whole_in_every_process(tmp_path: Path) -> None:
    # "${d.out}" must not eat into "${d.out2}", whatever order the string's context iterates in
    # (it depends on the process's hash seed: several seeds are tried)
    import subprocess
    import sys

    (tmp_path / "d.sk").write_text(
        'let d = derivation { name = "lib"; builder = "/bin/sh"; outputs = [ "out" "out2" "out22" ]; };\n'
        'in derivation { name = "x"; builder = "/bin/sh"; A = "${d.out22} ${d.out} ${d.out2}"; }\n')
    script = (
        "import sys; from skiffeval.session import Session, SessionOptions;"
        "s = Session(SessionOptions(cwd=sys.argv[1], store_dir='store')); v = s.evaluate('d.sk')[0];"
        "print(s.table.derivation_of(v)[0].env['A'])"
    )
    seen = set()
    for seed in range(8):
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                              env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}, check=True)
        seen.add(done.stdout.strip())
    assert seen == {"${inputs.lib.out22} ${inputs.lib.out} ${inputs.lib.out2}"}


def test_placeholders_of_built_outputs_are_resolved_whole(tmp_path: Path) -> None:
    # what ``skiffeval run`` hands a command: the placeholder of 'out' begins that of 'out2'
    from skiffeval.session.core import resolve_placeholders

    s, outcome = build(tmp_path, """
      derivation { name = "lib"; builder = "/bin/sh"; outputs = [ "out" "out2" ];
                   args = [ "-c" "echo 1 > $out; echo 2 > $out2" ]; }
    """, "out2", "out")
    paths = {output: str(s.store.real_path(path)) for (_, _, output, path) in outcome.targets}
    v = s.evaluate("d.sk")[0]
    text = f"{v.get('out').get('outPath')} {v.get('out2').get('outPath')}"
    assert resolve_placeholders(s, text) == f"{paths['out']} {paths['out2']}"
