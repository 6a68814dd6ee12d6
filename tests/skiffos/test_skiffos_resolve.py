"""SKIFF_CONFIG resolution on the fixture trees: SkiffOS's order, and every diagnostic."""

from __future__ import annotations

import pytest

from skiffeval.diagnostics import render_text
from skiffeval.skiffos.codes import SkiffosError
from skiffeval.skiffos.discovery import discover
from skiffeval.skiffos.resolve import resolve

from skiffos_helpers import codes_of, only


@pytest.fixture(scope="module")
def disc():
    from skiffos_helpers import TREE

    return discover(TREE)


@pytest.fixture(scope="module")
def bdisc():
    from skiffos_helpers import BROKEN

    return discover(BROKEN)


def fails(config, discovery):
    with pytest.raises(SkiffosError) as info:
        resolve(config, discovery)
    return info.value


def test_dependencies_land_just_before_the_first_package_needing_them(disc):
    r = resolve("board/alpha", disc)
    assert r.skiff_config == "base/core,board/common,util/extra,board/alpha"
    assert r.passes == 3
    assert [s.required_by for s in r.selected] == ["board/common", "board/alpha", "board/alpha", None]
    assert r.warnings == ()


def test_a_dependency_the_user_listed_later_stays_later_and_warns(disc):
    r = resolve("board/alpha,board/common", disc)
    # not a topological sort: base/core is inserted for board/common in the first pass, so it
    # lands after util/extra, whose own need of base/core is looked at only in the second pass
    assert r.names == ("util/extra", "board/alpha", "base/core", "board/common")
    inserted, w = r.warnings
    assert inserted.code.code == "W250"
    assert inserted.message == (
        "'base/core' is applied after 'util/extra', which depends on it, so it overrides 'util/extra'"
    )
    assert inserted.span.file.endswith("configs/board/common/metadata/dependencies")
    assert inserted.help == (
        "'base/core' was inserted for 'board/common'; list it in SKIFF_CONFIG before 'util/extra' to apply it first",
    )
    assert w.code.code == "W250"
    assert (w.span.file, w.span.line, w.span.col, w.span.end_col) == ("SKIFF_CONFIG", 1, 13, 24)
    assert w.message == "'board/common' is applied after 'board/alpha', which depends on it, so it overrides 'board/alpha'"
    assert [n.message for n in w.related] == [
        "'board/alpha' selected here",
        "'board/alpha' depends on 'board/common' here",
    ]
    assert (w.related[1].span.line, w.related[1].span.col) == (1, 1)


def test_transitive_dependencies_take_one_pass_each(disc):
    r = resolve("apps/top", disc)
    assert r.names == ("apps/low", "apps/mid", "apps/top")
    assert r.passes == 3


def test_build_target_is_the_first_found_in_pass_order(disc):
    assert resolve("util/loner,apps/top", disc).build_target == "loner-image"
    assert resolve("apps/top,util/loner", disc).build_target == "top-image"
    assert resolve("base/core", disc).build_target is None


def test_cycles_terminate_and_warn(disc):
    r = resolve("cyc/a", disc)
    assert r.names == ("cyc/b", "cyc/a")
    (w,) = r.warnings
    assert w.code.code == "W251"
    assert w.span.file.endswith("configs/cyc/b/metadata/dependencies")
    assert "'cyc/b' and 'cyc/a' depend on each other" in w.message


def test_separators_and_duplicates(disc):
    r = resolve(" base/core ,, base/core\tutil/loner\n", disc)
    assert r.skiff_config == "base/core,util/loner"


def test_unknown_package_names_close_matches_and_where(disc):
    err = fails("base/core,board/alhpa", disc)
    assert codes_of(err) == ["E261"]
    assert (err.span.file, err.span.line, err.span.col, err.span.end_col) == ("SKIFF_CONFIG", 1, 11, 21)
    assert err.message == "unknown package 'board/alhpa'"
    assert err.help == ["did you mean 'board/alpha'?"]
    assert "^^^^^^^^^^^" in render_text(err)


def test_unknown_dependency_points_into_the_dependencies_file(bdisc):
    err = fails("bad/unknowndep", bdisc)
    assert codes_of(err) == ["E261"]
    assert err.span.file.endswith("configs/bad/unknowndep/metadata/dependencies")
    assert (err.span.line, err.span.col) == (1, 8)
    assert err.related[0].message == "required by 'bad/unknowndep'"


@pytest.mark.parametrize(
    ("config", "col", "message"),
    [
        ("base/x,my_cat/pkg", 8, "invalid package name 'my_cat/pkg': the category must be 1 to 100 letters or digits"),
        ("pi", 1, "invalid package name 'pi': expected 'category/name'"),
        ("base/x bad/my-pkg", 8, "invalid package name 'bad/my-pkg': a name may only contain letters, digits, '_' and '/'"),
    ],
)
def test_invalid_names_are_errors(bdisc, config, col, message):
    err = fails(config, bdisc)
    assert codes_of(err) == ["E260"]
    assert (err.span.file, err.span.col) == ("SKIFF_CONFIG", col)
    assert err.message == message


def test_a_dashed_name_mentions_the_ignored_folder(bdisc):
    err = fails("bad/my-pkg", bdisc)
    assert any("configs/bad/my-pkg' exists" in h for h in err.help)


def test_all_errors_are_reported_together(disc):
    err = fails("my_cat/x,board/alhpa,nope/nope", disc)
    assert codes_of(err) == ["E260", "E261", "E261"]
    assert err.code.code == "E260"


def test_empty_config(disc):
    err = fails(" , ", disc)
    assert codes_of(err) == ["E264"]


def test_same_folder_twice_by_case_is_an_error(disc):
    err = fails("BASE/CORE,base/core", disc)
    assert codes_of(err) == ["W252", "E263"]
    assert (err.span.col, err.message) == (11, "'base/core' selects the folder of 'BASE/CORE' a second time")
    assert err.related[0].span.col == 1


def test_non_canonical_spelling_warns(disc):
    r = resolve("Util/Loner", disc)
    assert r.names == ("Util/Loner",)
    assert r.selected[0].package.name == "util/loner"
    (w,) = r.warnings
    assert (w.code.code, w.span.col) == ("W252", 1)


def test_key_lookup_reads_slashes_as_underscores(disc):
    r = resolve("util/with/under", disc)
    assert r.selected[0].package.name == "util/with_under"
    assert codes_of(r.warnings) == ["W252"]


@pytest.mark.parametrize(
    ("package", "line", "col", "found"),
    [
        ("bad/multiline", 2, 1, "found a second line"),
        ("bad/badchar", 1, 7, "found ';'"),
        ("bad/crlf", 1, 7, "found a carriage return (CRLF line ending)"),
    ],
)
def test_malformed_dependency_files(bdisc, package, line, col, found):
    err = fails(package, bdisc)
    assert codes_of(err) == ["E262"]
    assert err.span.file.endswith(f"configs/{package}/metadata/dependencies")
    assert (err.span.line, err.span.col) == (line, col)
    assert err.message.endswith(found)
    assert err.help == [f"SkiffOS silently drops '{package}' from the chain when this file is malformed"]


def test_invalid_dependency_entries(bdisc):
    err = fails("bad/invdep", bdisc)
    assert codes_of(err) == ["E262"]
    assert (err.span.line, err.span.col, err.span.end_col) == (1, 9, 13)
    assert "invalid dependency 'x_y/z' of 'bad/invdep'" in err.message
    err = fails("bad/slashdep", bdisc)
    assert codes_of(err) == ["E262"]
    assert "invalid dependency 'base/x\\y'" in err.message


def test_override_to_a_missing_folder(tree, tmp_path):
    d = discover(tree, (), {"BASE_CORE": str(tmp_path / "gone")})
    err = fails("base/core", d)
    assert codes_of(err) == ["E253"]
    assert err.span.file == "SKIFF_CONFIG_PATH_BASE_CORE"
    assert err.message == f"package 'base/core' has no folder: '{tmp_path}/gone' does not exist"


def test_only_the_warnings_of_this_step(disc):
    r = resolve("board/alpha,board/common,cyc/a", disc)
    assert codes_of(r.warnings) == ["W250", "W250", "W251"]
    assert only(r.warnings, "W251")[0].related[0].message == "'cyc/a' selected here"
