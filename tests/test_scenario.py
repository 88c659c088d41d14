"""Scenario files: the built-in validates, `extends` merges field by field, and every bad input
is one ScenarioError that names the file, the dotted field path and what was expected."""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scsim.errors import ScenarioError, UserError
from scsim.interfaces.cli import OPTIONS
from scsim.scenario import Scenario, builtin_names, load_scenario, to_toml
from scsim.scenario.loader import MAX_DEPTH, MAX_FILE_BYTES, builtin_path

RONGCHENG_RAW: dict[str, Any] = tomllib.loads(builtin_path("rongcheng").read_text())


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _child_of_rongcheng(tmp_path: Path, body: str, name: str = "child.toml") -> Path:
    return _write(tmp_path, name, f'extends = "rongcheng"\n{body}')


def _error(source: str | Path, **kwargs: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(source, **kwargs)
    return caught.value


def _assert_names(error: ScenarioError, file: Path | str, path: str, *expected: str) -> None:
    """The message names the file, the field path and each fragment of what was expected."""
    text = str(error)
    assert str(file) in text
    assert error.file == str(file)
    assert error.path == path
    assert text.startswith(f"{file}: {path}: " if path else f"{file}: ")
    for fragment in expected:
        assert fragment in text, (fragment, text)


# ---------------------------------------------------------------- the built-in
def test_rongcheng_is_a_builtin_and_validates() -> None:
    assert "rongcheng" in builtin_names()
    s = load_scenario("rongcheng")
    assert isinstance(s, Scenario)
    assert s.name == "rongcheng"
    assert s.population.size == 1_000_000
    assert list(s.rulebook.tiers) == ["AAA", "AA", "A", "B", "C", "D"]
    assert s.rulebook.rules["drunk_driving"].set_tier == "C"


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_validates_and_round_trips(tmp_path: Path, name: str) -> None:
    s = load_scenario(name)
    assert s.name == name
    assert load_scenario(_write(tmp_path, f"{name}.toml", to_toml(s))) == s


def test_rongcheng_loads_by_path_as_by_name() -> None:
    assert load_scenario(builtin_path("rongcheng")) == load_scenario("rongcheng")


def test_a_loaded_scenario_is_frozen() -> None:
    s = load_scenario("rongcheng")
    with pytest.raises(Exception, match="frozen"):
        s.population.size = 5  # type: ignore[misc]


def test_overrides_set_dotted_fields() -> None:
    s = load_scenario("rongcheng", overrides={"population.size": 1234, "run.seed": 9})
    assert (s.population.size, s.run.seed) == (1234, 9)


def test_an_override_of_a_table_replaces_it() -> None:
    regions = {"A": {"share": 0.25, "urban_share": 0.1}, "B": {"share": 0.75, "urban_share": 0.9}}
    s = load_scenario("rongcheng", overrides={"population.regions": regions})
    assert list(s.population.regions) == ["A", "B"]
    assert s.population.regions["A"].household_mean == 2.62  # the schema's default, not merged


def test_an_override_through_a_value_is_blamed_on_the_override_not_the_file() -> None:
    error = _error("rongcheng", overrides={"population.size.millions": 1})
    _assert_names(error, "an override", "population.size.millions", "not a table")


def test_an_override_out_of_range_names_what_set_it() -> None:
    """The file is fine: the message names the option that set the value, and the field."""
    path = "surveillance.sensors.cameras.detection"
    error = _error("rongcheng", overrides={path: 2.0})
    _assert_names(error, "an override", path, "less than or equal to 1", "2.0")
    error = _error("rongcheng", overrides={"population.size": 0}, names=OPTIONS)
    _assert_names(error, "--population 0", "population.size", "greater than or equal to 1")


def test_a_file_is_refused_as_written_whatever_overrides_would_mend(tmp_path: Path) -> None:
    """`scsim run FILE --population N` runs only a file that `scsim validate` accepts."""
    child = _child_of_rongcheng(tmp_path, "[population]\nsize = -5\n")
    error = _error(child, overrides={"population.size": 1000}, names=OPTIONS)
    _assert_names(error, child, "population.size", "-5")


def test_every_problem_of_a_file_is_named_at_once(tmp_path: Path) -> None:
    body = "[population]\nsize = -5\ncolour = 'red'\n[run]\ndays = 0\n"
    error = _error(_child_of_rongcheng(tmp_path, body))
    assert error.path == "population.size"
    for fragment in ("population.colour: unknown field", "run.days:", "got 0"):
        assert fragment in error.expected


def test_a_field_missing_from_a_parents_table_is_blamed_on_the_parent(tmp_path: Path) -> None:
    """Nobody wrote the missing field: the file that wrote its table is the one to mend."""
    raw = copy.deepcopy(RONGCHENG_RAW)
    del raw["population"]["regions"]["Rongcheng"]["share"]
    parent = _write(tmp_path, "parent.toml", tomli_w.dumps(raw))
    child = _write(tmp_path, "child.toml", 'extends = "parent.toml"\n[run]\ndays = 5\n')
    _assert_names(_error(child), parent, "population.regions.Rongcheng.share", "missing")


def test_a_union_is_one_problem_not_one_per_type_it_may_hold(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[run]\npeople = 'x'\n")
    error = _error(child)
    assert error.path == "run.people"
    assert "constrained-int" not in str(error) and "literal[" not in str(error)
    assert error.expected.count("got 'x'") == 1 and "or a valid integer" in error.expected


def test_a_mistake_in_a_parent_file_is_blamed_on_the_parent(tmp_path: Path) -> None:
    parent = _child_of_rongcheng(tmp_path, "[run]\nseed = 'abc'\n", name="parent.toml")
    child = _write(tmp_path, "child.toml", 'extends = "parent.toml"\n[run]\ndays = 5\n')
    _assert_names(_error(child), parent, "run.seed", "valid integer")
    mended = _write(tmp_path, "mended.toml", 'extends = "parent.toml"\n[run]\nseed = 3\n')
    assert load_scenario(mended).run.seed == 3


def test_mistakes_in_a_child_and_its_parent_are_each_named_against_their_own_file(
    tmp_path: Path,
) -> None:
    parent = _child_of_rongcheng(tmp_path, "[run]\ndays = -3\n", name="parent.toml")
    child = _write(tmp_path, "child.toml", 'extends = "parent.toml"\n[population]\nsize = -5\n')
    error = _error(child)
    assert (error.file, error.path) == (str(child.resolve()), "population.size")
    assert f"; {parent.resolve()}: run.days: " in error.expected  # the parent's, named so


# ---------------------------------------------------------------- extends
def test_extends_overrides_one_field_of_one_rule_and_nothing_else(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[rulebook.rules.traffic_violation]\npoints = -7\n")
    loaded = load_scenario(child).model_dump()
    expected = load_scenario("rongcheng").model_dump()
    expected["rulebook"]["rules"]["traffic_violation"]["points"] = -7
    assert loaded == expected
    assert loaded["rulebook"]["rules"]["bank_arrears"]["uncorrected_days"] == 90


def test_extends_replaces_arrays_whole(tmp_path: Path) -> None:
    child = _child_of_rongcheng(
        tmp_path, '[surveillance.sensors.cameras]\nevents = ["heroic_act"]\n'
    )
    assert load_scenario(child).surveillance.sensors["cameras"].events == ["heroic_act"]


def test_extends_adds_entries_to_named_tables(tmp_path: Path) -> None:
    body = "[behaviour.events.littering]\nper_year = 1.0\n[rulebook.rules.littering]\npoints = -1\n"
    s = load_scenario(_child_of_rongcheng(tmp_path, body))
    assert s.rulebook.rules["littering"].points == -1
    assert "traffic_violation" in s.rulebook.rules


def test_extends_a_file_relative_to_the_child(tmp_path: Path) -> None:
    _child_of_rongcheng(tmp_path, 'name = "parent"\n[run]\ndays = 30\n', name="parent.toml")
    (tmp_path / "sub").mkdir()
    child = _write(tmp_path / "sub", "child.toml", 'extends = "../parent.toml"\n[run]\nseed = 4\n')
    s = load_scenario(child)
    assert (s.name, s.run.days, s.run.seed) == ("parent", 30, 4)


def test_an_extends_cycle_is_named_in_full(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    b = _write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    error = _error(a)
    cycle = f"{a.resolve()} -> {b.resolve()} -> {a.resolve()}"
    _assert_names(error, b.resolve(), "extends", "an extends cycle", cycle)


def test_a_file_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.toml", 'extends = "a.toml"\n')
    _assert_names(_error(a), a.resolve(), "extends", "an extends cycle")


def test_an_unknown_builtin_in_extends_lists_the_builtins(tmp_path: Path) -> None:
    child = _write(tmp_path, "child.toml", 'extends = "shanghai"\n')
    error = _error(child)
    expected = ("no built-in scenario or file named 'shanghai'", "rongcheng")
    _assert_names(error, child.resolve(), "extends", *expected)


@pytest.mark.parametrize("value", ['""', "3", "[]"])
def test_extends_must_name_something(tmp_path: Path, value: str) -> None:
    child = _write(tmp_path, "child.toml", f"extends = {value}\n")
    _assert_names(_error(child), child.resolve(), "extends", "expected the name of a built-in")


def test_an_unknown_scenario_is_a_scenario_error() -> None:
    error = _error("no-such-scenario.toml")
    assert "no-such-scenario.toml" in str(error)
    assert "no built-in scenario or file named" in str(error)


# ---------------------------------------------------------------- bad files
def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.toml", 'name = "x"\n[population\nsize = 3\n')
    _assert_names(_error(bad), bad.resolve(), "(syntax)", "invalid TOML", "line 2")


def test_an_unknown_field_lists_the_valid_keys(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[population]\ncolour = 1\n")
    valid = "size, regions, classes, employment_rate, company_mean_size, friends"
    _assert_names(_error(child), child.resolve(), "population.colour", "unknown field", valid)


def test_an_unknown_field_inside_a_named_entry_lists_that_entrys_keys(tmp_path: Path) -> None:
    child = _child_of_rongcheng(
        tmp_path, "[rulebook.rules.traffic_violation.spillover]\nfoes = 1\n"
    )
    path = "rulebook.rules.traffic_violation.spillover.foes"
    _assert_names(_error(child), child.resolve(), path, "expected one of: household, friends")


def test_an_unknown_top_level_section_lists_the_sections(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[weather]\nrain = 1\n")
    valid = "name, description, sources, population, surveillance, behaviour, rulebook, run"
    _assert_names(_error(child), child.resolve(), "weather", "unknown field", valid)


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        ('[population]\nsize = "big"\n', "population.size", "valid integer"),
        ("[population]\nsize = 2.5\n", "population.size", "integer"),
        ("name = 7\n", "name", "valid string"),
        (
            '[surveillance.sensors.cameras]\nevents = "traffic_violation"\n',
            "surveillance.sensors.cameras.events",
            "valid list",
        ),
        ("[behaviour]\nfeedback = 3\n", "behaviour.feedback", "valid boolean"),
        (
            '[rulebook.lists.court_blacklist]\nkind = "grey"\n',
            "rulebook.lists.court_blacklist.kind",
            "'black' or 'red'",
        ),
    ],
)
def test_a_wrong_type_names_the_field_and_the_type(
    tmp_path: Path, body: str, path: str, expected: str
) -> None:
    child = _child_of_rongcheng(tmp_path, body)
    _assert_names(_error(child), child.resolve(), path, expected)


def test_a_negative_rate_is_refused(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[behaviour.events.traffic_violation]\nper_year = -0.3\n")
    path = "behaviour.events.traffic_violation.per_year"
    _assert_names(_error(child), child.resolve(), path, "greater than or equal to 0", "-0.3")


def test_a_probability_over_one_is_refused(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[surveillance.sensors.cameras]\ndetection = 1.2\n")
    path = "surveillance.sensors.cameras.detection"
    _assert_names(_error(child), child.resolve(), path, "less than or equal to 1", "1.2")


def test_overlapping_tiers_are_refused(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[rulebook.tiers.AA]\nmin = 1020\n")
    _assert_names(
        _error(child), child.resolve(), "rulebook.tiers", "tiers A (960..1029) and AA overlap"
    )


def test_a_gap_between_tiers_is_refused(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[rulebook.tiers.AA]\nmin = 1035\n")
    _assert_names(
        _error(child), child.resolve(), "rulebook.tiers", "leave a gap between 1029 and 1035"
    )


def test_tiers_that_miss_the_scale_are_refused(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[rulebook.tiers.D]\nmin = 10\n")
    _assert_names(_error(child), child.resolve(), "rulebook.tiers", "tiers cover 10..2000")


@pytest.mark.parametrize(
    ("body", "path", "name"),
    [
        (
            '[surveillance.sensors.cameras]\nevents = ["speeding"]\n',
            "surveillance.sensors.cameras.events",
            "speeding",
        ),
        ("[rulebook.rules.speeding]\npoints = -5\n", "rulebook.rules", "speeding"),
    ],
)
def test_an_unknown_event_name_is_refused_with_the_known_ones(
    tmp_path: Path, body: str, path: str, name: str
) -> None:
    child = _child_of_rongcheng(tmp_path, body)
    expected = (f"unknown event type {name!r}", "expected one of:", "traffic_violation")
    _assert_names(_error(child), child.resolve(), path, *expected)


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        (
            '[rulebook.rules.volunteering]\nset_tier = "Z"\n',
            "rulebook.rules.volunteering.set_tier",
            "unknown tier 'Z'",
        ),
        (
            '[rulebook.rules.volunteering]\nenter_list = "redlist"\n',
            "rulebook.rules.volunteering.enter_list",
            "unknown list 'redlist'",
        ),
        (
            '[rulebook.services.flight]\nblocked_tiers = ["E"]\n',
            "rulebook.services.flight.blocked_tiers",
            "unknown tier 'E'",
        ),
        (
            "[behaviour.events.volunteering.by_class]\nsaints = 2.0\n",
            "behaviour.events.volunteering.by_class",
            "unknown class 'saints'",
        ),
    ],
)
def test_other_unknown_names_are_refused(
    tmp_path: Path, body: str, path: str, expected: str
) -> None:
    child = _child_of_rongcheng(tmp_path, body)
    _assert_names(_error(child), child.resolve(), path, expected)


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ("[population.classes.careful]\nshare = 0.5\n", "classes"),
        ("[population.regions.Weihai]\nshare = 0.2\nurban_share = 0.5\n", "regions"),
    ],
)
def test_shares_that_do_not_sum_to_one_are_refused(tmp_path: Path, body: str, label: str) -> None:
    child = _child_of_rongcheng(tmp_path, body)
    _assert_names(_error(child), child.resolve(), "population", f"population.{label} must sum to 1")


def test_an_odd_number_of_friends_is_refused(tmp_path: Path) -> None:
    child = _child_of_rongcheng(tmp_path, "[population]\nfriends = 5\n")
    _assert_names(_error(child), child.resolve(), "population", "friends must be even")


def test_a_binary_file_is_refused_as_binary(tmp_path: Path) -> None:
    junk = _write(tmp_path, "junk.toml", bytes(range(256)) * 4)
    _assert_names(_error(junk), junk.resolve(), "", "expected a UTF-8 TOML file, found binary")


def test_a_file_in_another_encoding_is_named_with_its_line(tmp_path: Path) -> None:
    latin1 = _write(tmp_path, "latin1.toml", 'extends = "rongcheng"\n# caf\xe9\n'.encode("latin-1"))
    _assert_names(_error(latin1), latin1.resolve(), "", "line 2 has byte 0xE9", "save the file")


def test_a_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    marked = _write(tmp_path, "bom.toml", b'\xef\xbb\xbfextends = "rongcheng"\n')
    assert load_scenario(marked) == load_scenario("rongcheng")


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        ("run = 5\n", "run", "expected a table ([run] or {...}), got 5"),
        ("[run]\nstart = 2017-01-01T10:00:00\n", "run.start", "got 2017-01-01T10:00:00"),
    ],
)
def test_a_message_shows_values_as_toml_writes_them_not_pythons_names(
    tmp_path: Path, body: str, path: str, expected: str
) -> None:
    child = _child_of_rongcheng(tmp_path, body)
    error = _error(child)
    _assert_names(error, child.resolve(), path, expected)
    assert "datetime" not in str(error) and "instance of" not in str(error)


def test_a_folder_is_not_a_scenario_file(tmp_path: Path) -> None:
    folder = tmp_path / "city.toml"
    folder.mkdir()
    _assert_names(_error(str(folder)), str(folder), "", "a folder, not a scenario file")


def test_an_empty_file_is_missing_its_required_fields(tmp_path: Path) -> None:
    empty = _write(tmp_path, "empty.toml", "")
    _assert_names(
        _error(empty), empty.resolve(), "name", "required field is missing", "rulebook: required"
    )


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = _write(tmp_path, "big.toml", "# " + "x" * MAX_FILE_BYTES + "\n")
    _assert_names(_error(big), big.resolve(), "", f"under {MAX_FILE_BYTES} bytes")


@pytest.mark.parametrize("value", ["nan", "+inf", "-inf"])
def test_non_finite_numbers_in_a_file_are_refused(tmp_path: Path, value: str) -> None:
    child = _child_of_rongcheng(
        tmp_path, f"[behaviour.events.traffic_violation]\nper_year = {value}\n"
    )
    path = "behaviour.events.traffic_violation.per_year"
    _assert_names(_error(child), child.resolve(), path, "expected a finite number")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    "path",
    [
        "behaviour.events.traffic_violation.per_year",
        "surveillance.sensors.cameras.detection",
        "population.regions.Rongcheng.household_mean",
        "population.company_mean_size",
    ],
)
def test_non_finite_overrides_are_refused(path: str, value: float) -> None:
    _assert_names(_error("rongcheng", overrides={path: value}), "an override", path)


def test_tables_nested_too_deep_are_refused(tmp_path: Path) -> None:
    deep = ".".join(f"t{i}" for i in range(MAX_DEPTH + 5))
    bad = _write(tmp_path, "deep.toml", f"[{deep}]\nx = 1\n")
    error = _error(bad)
    _assert_names(error, bad.resolve(), error.path, f"nested deeper than {MAX_DEPTH} levels")
    assert error.path.startswith("t0.t1.t2")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 2, 5_000])
def test_arrays_nested_too_deep_are_refused(tmp_path: Path, depth: int) -> None:
    bad = _write(tmp_path, "deep.toml", "x = " + "[" * depth + "]" * depth + "\n")
    _assert_names(_error(bad), bad.resolve(), _error(bad).path, "nested deeper than")


def test_scenario_errors_are_user_errors() -> None:
    assert issubclass(ScenarioError, UserError)


# ---------------------------------------------------------------- to_toml
def test_to_toml_round_trips_rongcheng(tmp_path: Path) -> None:
    s = load_scenario("rongcheng")
    written = _write(tmp_path, "out.toml", to_toml(s))
    assert load_scenario(written) == s
    assert "extends" not in written.read_text()


def test_to_toml_round_trips_an_extended_scenario_with_overrides(tmp_path: Path) -> None:
    body = (
        '[rulebook.rules.traffic_violation]\npoints = -7\nset_tier = "B"\nlock_days = 30\n'
        "[population.regions.Rongcheng]\nhousehold_mean = 3\n"
    )
    s = load_scenario(
        _child_of_rongcheng(tmp_path, body),
        overrides={"population.size": 777, "run.seed": 2**63 - 1, "description": 'quote " é'},
    )
    again = load_scenario(_write(tmp_path, "out.toml", to_toml(s)))
    assert again == s
    assert to_toml(again) == to_toml(s)


# ---------------------------------------------------------------- properties
def _leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value that is not a table: scalars, arrays, and the items of arrays."""
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _leaf_paths(value, (*prefix, key))]
    if isinstance(node, list):
        return [prefix] + [
            p for i, item in enumerate(node) for p in _leaf_paths(item, (*prefix, i))
        ]
    return [prefix]


def _replace(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(raw)
    node: Any = mutated
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return mutated


LEAVES = _leaf_paths(RONGCHENG_RAW)
SMALL = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.booleans())
JUNK = st.one_of(
    st.text(max_size=30),
    st.integers(max_value=-1),
    st.floats(max_value=-1e-12, allow_nan=False, allow_infinity=False),
    st.integers(min_value=2**31, max_value=2**80),
    st.sampled_from([1e300, -1e300, 2**63, 2**64, math.nan, math.inf, -math.inf, 0, 0.0]),
    st.booleans(),
    st.lists(SMALL, max_size=4),
    st.dictionaries(st.text(max_size=8), SMALL, max_size=4),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=st.sampled_from(LEAVES), value=JUNK)
def test_a_mutated_rongcheng_loads_or_raises_a_scenario_error(
    tmp_path: Path, path: tuple[Any, ...], value: Any
) -> None:
    mutated = _write(tmp_path, "mutated.toml", tomli_w.dumps(_replace(RONGCHENG_RAW, path, value)))
    try:
        s = load_scenario(mutated)
    except ScenarioError as error:
        assert str(mutated.resolve()) in str(error)
        assert str(error).count("\n") == 0  # one line for the user
    else:
        assert isinstance(s, Scenario)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(LEAVES), value=JUNK)
def test_a_mutated_override_loads_or_raises_a_scenario_error(
    path: tuple[Any, ...], value: Any
) -> None:
    if any(isinstance(part, int) for part in path):
        path = path[: next(i for i, part in enumerate(path) if isinstance(part, int))]
    try:
        load_scenario("rongcheng", overrides={".".join(path): value})
    except ScenarioError as error:  # the file is valid: the override is to blame
        assert str(error).startswith("an override: ")
        assert str(error).count("\n") == 0


def test_an_override_that_makes_the_files_values_clash_is_blamed() -> None:
    """The file is valid as written and the error is on a value no override set
    (rulebook.tiers, checked against the scale): the override nearest it is named, not the
    file (found by the property test above, with rulebook.scale.min = -1)."""
    names = {"population.size": "--population", "rulebook.scale.max": "--scale-max"}
    for overrides, blamed in (
        ({"rulebook.scale.min": -1}, "an override: "),
        ({"rulebook.scale.max": 5000, "population.size": 1000}, "--scale-max 5000: "),
    ):
        with pytest.raises(ScenarioError) as error:
            load_scenario("rongcheng", overrides=overrides, names=names)
        message = str(error.value)
        assert message.startswith(blamed + "rulebook.tiers: "), message
        assert "rongcheng.toml" not in message


def test_an_override_reaches_an_entry_of_an_array_by_its_index() -> None:
    """`rulebook.changes.2.services.flight.retry` sets that field of the third dated change
    (a calibration moves it), and nothing else; a bad index is named with the array's size."""
    path = "rulebook.changes.2.services.flight.retry"
    s = load_scenario("court-list-history", overrides={path: 0.5})
    base = load_scenario("court-list-history")
    assert s.rulebook.changes[2].services["flight"]["retry"] == 0.5
    assert base.rulebook.changes[2].services["flight"]["retry"] != 0.5
    assert s.rulebook.changes[3] == base.rulebook.changes[3]
    n = len(base.rulebook.changes)
    for bad in (f"rulebook.changes.{n}.services.flight.retry", "rulebook.changes.x.day"):
        with pytest.raises(ScenarioError, match=f"index below {n}"):
            load_scenario("court-list-history", overrides={bad: 0.5})
