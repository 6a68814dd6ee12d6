"""Errors of layers, systems, ``files`` and the fetchers: the chunked cases of
``cases/errors.txt``, each built with the CLI and checked for its code and location first,
then its message, help and notes."""

from __future__ import annotations

import pytest

from tests.layers.helpers import CASES, check_error_case, read_error_cases

ERROR_CASES = read_error_cases(CASES / "errors.txt")


def _param(case):
    marks = []
    if case.one("xfail"):
        marks.append(pytest.mark.xfail(strict=True, reason=case.one("xfail")))
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in ERROR_CASES])
def test_error_case(case, tmp_path):
    check_error_case(case, tmp_path)
