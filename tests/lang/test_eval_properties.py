"""Properties of the evaluator: it fails only with skiffeval errors, it is deterministic
across processes, and deep programs evaluate without hitting Python's recursion limit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from skiffeval.diagnostics import SkiffError
from skiffeval.eval.evaluator import Evaluator, run_deep
from skiffeval.eval.io import FileSystemIO, MemoryIO
from skiffeval.eval.printer import print_value
from skiffeval.eval.values import force

ATOMS = ["1", "0", "-3", "true", "false", "null", '"s"', '"${"x"}"', "[ ]", "{ }", "[ 1 2 ]", "{ a = 1; }",
         "x", "y", "builtins", "map", "toString", "(x: x)", "({ a ? 1 }: a)", "./p", "''\n  i\n''"]
BINOPS = ["+", "-", "*", "/", "==", "!=", "<", "&&", "||", "->", "//", "++"]


def _expr(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return st.sampled_from(ATOMS)
    sub = _expr(depth - 1)
    return st.one_of(
        st.sampled_from(ATOMS),
        st.tuples(sub, st.sampled_from(BINOPS), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, sub).map(lambda t: f"({t[0]} {t[1]})"),
        st.tuples(sub, sub, sub).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        st.tuples(sub, sub).map(lambda t: f"(let x = {t[0]}; y = x; in {t[1]})"),
        st.tuples(sub, st.sampled_from(["a", "b", "length", "x"])).map(lambda t: f"({t[0]}).{t[1]}"),
        st.tuples(sub, sub).map(lambda t: f"(with {t[0]}; {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"(assert {t[0]}; {t[1]})"),
        st.tuples(st.sampled_from(["head", "tail", "length", "attrNames", "toJSON", "typeOf", "tryEval", "sort builtins.lessThan"]), sub).map(
            lambda t: f"(builtins.{t[0]} {t[1]})"
        ),
        st.lists(sub, max_size=3).map(lambda xs: f"[ {' '.join(xs)} ]"),
        st.tuples(sub, sub).map(lambda t: f"{{ a = {t[0]}; b = {t[1]}; }}"),
        st.tuples(sub, sub).map(lambda t: f"rec {{ x = {t[0]}; y = {t[1]}; }}"),
    )


@settings(max_examples=300)
@given(_expr(3))
def test_random_programs_fail_only_with_skiff_errors(program: str) -> None:
    ev = Evaluator(MemoryIO({"/p": "1"}))
    try:
        run_deep(lambda: print_value(ev, ev.force_deep(ev.eval_text(program, "gen.sk", "/"))))
    except SkiffError as exc:
        assert exc.code.code.startswith("E") and exc.code.code != "E000"


PROGRAM = """
let
  names = [ "zeta" "alpha" "mu" "beta" "omega" "k1" "k2" "k10" ];
  sets = builtins.listToAttrs (map (n: { name = n; value = builtins.stringLength n; }) names);
in {
  inherit sets;
  names = builtins.attrNames sets;
  json = builtins.toJSON sets;
  grouped = builtins.groupBy (n: builtins.substring 0 1 n) names;
  merged = sets // { extra = builtins.hashString "sha256" (builtins.toJSON sets); };
}
"""


def test_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    (tmp_path / "p.sk").write_text(PROGRAM)
    outputs = set()
    for seed in ("0", "1", "12345", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-m", "skiffeval", "eval", "--strict", "p.sk"],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def test_ten_thousand_deep_import_chain(tmp_path: Path) -> None:
    depth = 10_000
    for i in range(depth):
        body = f"import ./f{i + 1}.sk + 1" if i + 1 < depth else "0"
        (tmp_path / f"f{i}.sk").write_text(body + "\n")
    ev = Evaluator(FileSystemIO())
    assert run_deep(lambda: ev.eval_file(str(tmp_path / "f0.sk"))) == depth - 1


def test_ten_thousand_deep_function_calls() -> None:
    ev = Evaluator(MemoryIO({}))
    program = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10000"
    assert run_deep(lambda: ev.eval_text(program, "deep.sk", "/")) == 10000


def test_ten_thousand_deep_thunk_chain() -> None:
    bindings = " ".join(f"x{i + 1} = x{i} + 1;" for i in range(10_000))
    ev = Evaluator(MemoryIO({}))
    assert run_deep(lambda: ev.eval_text(f"let x0 = 0; {bindings} in x10000", "chain.sk", "/")) == 10000


def test_imports_are_memoized_and_recorded(tmp_path: Path) -> None:
    (tmp_path / "lib.sk").write_text("{ value = builtins.trace \"loaded\" 1; }\n")
    (tmp_path / "main.sk").write_text("[ (import ./lib.sk).value (import ./lib.sk).value ]\n")
    io = FileSystemIO()
    ev = Evaluator(io)
    value = run_deep(lambda: ev.force_deep(ev.eval_file(str(tmp_path / "main.sk"))))
    assert [force(x) for x in value] == [1, 1]
    assert [m for m, _ in io.traces] == ["loaded"]
    assert set(io.inputs) == {str(tmp_path / "main.sk"), str(tmp_path / "lib.sk")}


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    """A FIFO (which would wait for a writer) and a device (``/dev/zero`` never ends) are
    refused at once with E043 naming what they are; a symlink to a device too; nothing is
    recorded as an input."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "ok.sk").write_text("1\n")
    cases = {
        "import ./pipe": "'pipe' is a named pipe (FIFO), not a file",
        "builtins.readFile ./pipe": "'pipe' is a named pipe (FIFO), not a file",
        "import ./zero": "'zero' is a character device, not a file",
        "builtins.readFile /dev/zero": "'/dev/zero' is a character device, not a file",
    }
    for program, message in cases.items():
        io = FileSystemIO()
        ev = Evaluator(io, display_root=str(tmp_path))
        try:
            run_deep(lambda: ev.force_deep(ev.eval_text(program, "main.sk", str(tmp_path))))
        except SkiffError as e:
            assert e.code.code == "E043" and e.message == message, (program, e.message)
            assert e.span is not None and e.span.file == "main.sk"
        else:
            raise AssertionError(f"{program} was read")
        assert io.inputs == {}
    ev = Evaluator(FileSystemIO(), display_root=str(tmp_path))
    assert run_deep(lambda: ev.eval_text("import ./ok.sk", "main.sk", str(tmp_path))) == 1
