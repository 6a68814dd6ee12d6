"""merge_last_wins: hand-written cases, and a differential test against merge_config.sh -m."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiffeval.kconfig import codes
from skiffeval.kconfig.fragment import Fragment
from skiffeval.kconfig.merge import merge_last_wins

# (name, fragments, merged text, overrides as (symbol, removed "file:line", by "file:line"))
CASES = [
    (
        "a later fragment moves the symbol to its own position",
        ["CONFIG_A=y\nCONFIG_B=y\n", "CONFIG_A=n\n"],
        "CONFIG_B=y\nCONFIG_A=n\n",
        [("A", "f0:1", "f1:1")],
    ),
    (
        "symbols set only earlier keep their place",
        ["CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=y\n", "CONFIG_B=m\n", "CONFIG_D=y\n"],
        "CONFIG_A=y\nCONFIG_C=y\nCONFIG_B=m\nCONFIG_D=y\n",
        [("B", "f0:2", "f1:1")],
    ),
    (
        "an unset overrides an assignment and the other way round",
        ["CONFIG_A=y\n# CONFIG_B is not set\n", "# CONFIG_A is not set\nCONFIG_B=y\n"],
        "# CONFIG_A is not set\nCONFIG_B=y\n",
        [("A", "f0:1", "f1:1"), ("B", "f0:2", "f1:2")],
    ),
    (
        "twice inside one fragment: both lines stay",
        ["CONFIG_A=y\n", "CONFIG_A=m\nCONFIG_A=n\n"],
        "CONFIG_A=m\nCONFIG_A=n\n",
        [("A", "f0:1", "f1:2")],
    ),
    (
        "the base is not deduplicated",
        ["CONFIG_A=y\nCONFIG_A=n\n", "CONFIG_B=y\n"],
        "CONFIG_A=y\nCONFIG_A=n\nCONFIG_B=y\n",
        [],
    ),
    (
        "comments travel with their fragment; comments naming an overridden symbol go",
        ["# base\nCONFIG_A=y # keep\n# CONFIG_A explained\n", "# second\nCONFIG_A=n\n"],
        "# base\n# second\nCONFIG_A=n\n",
        [("A", "f0:2", "f1:2")],
    ),
    (
        "a name that is only a prefix of another is not removed",
        ["CONFIG_FOO_BAR=y\nCONFIG_FOO=y\n", "CONFIG_FOO=n\n"],
        "CONFIG_FOO_BAR=y\nCONFIG_FOO=n\n",
        [("FOO", "f0:2", "f1:1")],
    ),
    (
        "without a word match elsewhere, an embedding line survives",
        ["CONFIG_IKCONFIG_PROC=y\n", "CONFIG_PROC=y\n"],
        "CONFIG_IKCONFIG_PROC=y\nCONFIG_PROC=y\n",
        [],
    ),
    (
        "with a word match elsewhere, the unanchored sed also removes an embedding line",
        ["CONFIG_IKCONFIG_PROC=y\nCONFIG_PROC=n\n", "CONFIG_PROC=y\n"],
        "CONFIG_PROC=y\n",
        [("IKCONFIG_PROC", "f0:1", "f1:1"), ("PROC", "f0:2", "f1:1")],
    ),
    (
        "a fragment without a final newline is not glued to the next",
        ["CONFIG_A=y", "CONFIG_B=y"],
        "CONFIG_A=y\nCONFIG_B=y\n",
        [],
    ),
    (
        "an unset with trailing text is not recognised by the shell's sed",
        ["CONFIG_A=y\n", "# CONFIG_A is not set, really\n"],
        "CONFIG_A=y\n# CONFIG_A is not set, really\n",
        [],
    ),
]


def _frags(texts):
    return [Fragment(t, f"f{i}", f"layer{i}") for i, t in enumerate(texts)]


@pytest.mark.parametrize("name,texts,merged,overrides", CASES, ids=[c[0] for c in CASES])
def test_merge_case(name, texts, merged, overrides):
    result = merge_last_wins(_frags(texts))
    assert result.text == merged
    got = [(o.symbol, f"{o.removed.span.file}:{o.removed.span.line}", f"{o.by.span.file}:{o.by.span.line}")
           for o in result.overrides]
    assert sorted(got) == sorted(overrides)
    assert [line.text for line in result.lines] == merged.splitlines()


def test_lost_other_symbol_is_a_warning():
    result = merge_last_wins(_frags(["CONFIG_IKCONFIG_PROC=y\nCONFIG_PROC=n\n", "CONFIG_PROC=y\n"]))
    (diag,) = result.diagnostics
    assert diag.code is codes.MERGE_REMOVED_OTHER
    assert (diag.span.file, diag.span.line) == ("f0", 1)
    assert "'CONFIG_IKCONFIG_PROC' is lost" in diag.message


def test_surviving_assignments_keep_provenance():
    result = merge_last_wins(_frags(["CONFIG_A=y\nCONFIG_B=y\n", "CONFIG_A=n\n"]))
    assert [(a.symbol, a.value, a.span.file, a.span.line) for a in result.assignments] == [
        ("B", "y", "f0", 2),
        ("A", "n", "f1", 1),
    ]


def test_parse_diagnostics_are_kept():
    result = merge_last_wins(_frags(["CONFIG_A=y\n", "CONFIG_B y\n"]))
    assert [d.code.code for d in result.diagnostics] == ["E200"]


def test_buildroot_prefix():
    result = merge_last_wins(_frags(["BR2_A=y\nBR2_B=y\n", "BR2_A=n\n"]), prefix="BR2_")
    assert result.text == "BR2_B=y\nBR2_A=n\n"


# ---------------------------------------------------------------------------------------------
# differential: Buildroot's copy of the kernel's merge_config.sh (same merging as SkiffOS's)

BUILDROOT = os.environ.get("SKIFFEVAL_TEST_BUILDROOT")
SCRIPT = os.path.join(BUILDROOT, "support/kconfig/merge_config.sh") if BUILDROOT else None

symbol = st.sampled_from(["A", "B", "FOO", "FOO_BAR", "PROC", "IKCONFIG_PROC", "X1"])
line = st.one_of(
    st.builds(lambda s, v: f"CONFIG_{s}={v}", symbol, st.sampled_from(["y", "m", "n", '"x y"', "3", "CONFIG_A"])),
    st.builds(lambda s: f"# CONFIG_{s} is not set", symbol),
    st.builds(lambda s: f"# note about CONFIG_{s} here", symbol),
    st.sampled_from(["", "# plain comment", "junk line"]),
)
fragment_texts = st.lists(st.lists(line, max_size=6).map(lambda ls: "".join(l + "\n" for l in ls)),
                          min_size=1, max_size=4)


@pytest.mark.skipif(SCRIPT is None or not os.path.exists(SCRIPT), reason="SKIFFEVAL_TEST_BUILDROOT is not set")
@settings(max_examples=40)
@given(fragment_texts)
def test_matches_merge_config_sh(texts):
    with tempfile.TemporaryDirectory() as d:
        names = []
        for i, text in enumerate(texts):
            path = os.path.join(d, f"f{i}")
            with open(path, "w") as f:
                f.write(text)
            names.append(path)
        out = os.path.join(d, "out")
        subprocess.run(["sh", SCRIPT, "-m", *names], cwd=d, check=True, capture_output=True,
                       env={"PATH": os.environ["PATH"], "KCONFIG_CONFIG": out, "LC_ALL": "C"})
        with open(out) as f:
            expected = f.read()
    assert merge_last_wins(_frags(texts)).text == expected
