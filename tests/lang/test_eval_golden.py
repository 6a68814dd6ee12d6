"""Data-driven evaluation tests: ``eval-okay/*.sk`` print their (strict) value, ``eval-fail/*.sk``
fail with the rendered error; both compared with ``.exp`` files (``SKIFFEVAL_ACCEPT=1`` writes
them).  Absolute paths in output are shown relative to the case directory as ``<dir>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skiffeval.diagnostics import SkiffError, render_text
from skiffeval.eval.evaluator import Evaluator, run_deep
from skiffeval.eval.io import FileSystemIO
from skiffeval.eval.printer import print_value
from skiffeval.session import default_layers_dir

from tests.lang.golden import check_golden

HERE = Path(__file__).parent
OKAY = sorted((HERE / "eval-okay").glob("*.sk"))
FAIL = sorted((HERE / "eval-fail").glob("*.sk"))


def _evaluator(case_dir: Path) -> Evaluator:
    return Evaluator(FileSystemIO(), [("layers", default_layers_dir())], display_root=str(case_dir))


def _portable(text: str, case_dir: Path) -> str:
    return text.replace(default_layers_dir(), "<layers>").replace(str(case_dir.parent), "<dir>")


@pytest.mark.parametrize("case", OKAY, ids=[p.stem for p in OKAY])
def test_eval_okay(case: Path) -> None:
    ev = _evaluator(case.parent)
    text = run_deep(lambda: print_value(ev, ev.force_deep(ev.eval_file(str(case)))))
    check_golden(case.with_suffix(".exp"), _portable(text, case.parent) + "\n")


@pytest.mark.parametrize("case", FAIL, ids=[p.stem for p in FAIL])
def test_eval_fail(case: Path) -> None:
    ev = _evaluator(case.parent)
    with pytest.raises(SkiffError) as info:
        run_deep(lambda: ev.force_deep(ev.eval_file(str(case))))
    check_golden(case.with_suffix(".exp"), _portable(render_text(info.value), case.parent) + "\n")
