"""Untrusted input stays in bounds and stays text (issue 29, items 1 and 8): every number of
the schema has limits that fit the dtype the engine keeps it in, a value of another type is
refused rather than converted, control characters are shown escaped, a file that is not a
scenario is refused without its contents, an `extends` chain has a length limit, and a sweep's
name is one path component."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import annotated_types as at
import pytest
from conftest import assert_one_line_refusal, cli
from pydantic import BaseModel

from scsim.errors import ScenarioError, UserError, printable
from scsim.experiments.sweepfile import load_sweep
from scsim.scenario import load_scenario
from scsim.scenario.loader import MAX_EXTENDS
from scsim.scenario.schema import Scenario

INT32 = 2**31 - 1
"""The engine's points and deltas are int64, the ledger's delta int32: a bound of 10,000 a
record and 30,000 on a scale keeps every sum of a day inside both."""


def numbers(annotation: Any, metadata: tuple[Any, ...] = ()) -> Any:
    """(type, lower bound, upper bound) of every int and float an annotation holds (dict and
    list values and union members included), and the models it holds, to walk into."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        unpacked = [m for x in extra for m in (getattr(x, "metadata", None) or [x])]
        yield from numbers(base, (*metadata, *unpacked))
    elif origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            yield from numbers(member, metadata)
    elif origin in (dict, list, tuple):
        yield from numbers(typing.get_args(annotation)[-1])
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    elif annotation in (int, float):
        low = next((m.ge if isinstance(m, at.Ge) else m.gt for m in metadata if _low(m)), None)
        high = next((m.le if isinstance(m, at.Le) else m.lt for m in metadata if _high(m)), None)
        yield (annotation, low, high)


def _low(m: Any) -> bool:
    return isinstance(m, at.Ge | at.Gt)


def _high(m: Any) -> bool:
    return isinstance(m, at.Le | at.Lt)


def schema_numbers(model: type[BaseModel], path: str, seen: set[type]) -> Any:
    """(dotted path, type, low, high) of every number field under `model`."""
    for name, field in model.model_fields.items():
        for found in numbers(field.annotation, tuple(field.metadata)):
            if isinstance(found, tuple):
                yield (f"{path}.{name}", *found)
            elif found not in seen:
                seen.add(found)
                yield from schema_numbers(found, f"{path}.{name}", seen)


def test_every_number_in_the_schema_has_both_bounds() -> None:
    found = list(schema_numbers(Scenario, "scenario", set()))
    assert len(found) > 90  # the walk reaches every section, dict values included
    unbounded = [path for path, _, low, high in found if low is None or high is None]
    assert unbounded == []


def test_every_integer_of_the_schema_fits_the_ledger_or_the_seed() -> None:
    """Points, days and counts fit int32 (the ledger's delta, the day); only the seed and the
    population, kept as uint64 and uint32-addressed, go beyond it."""
    wide = {"scenario.run.seed", "scenario.population.size", "scenario.run.people"}
    wide.add("scenario.calibration.population")
    too_wide = [
        path
        for path, kind, low, high in schema_numbers(Scenario, "scenario", set())
        if kind is int and path not in wide and max(abs(low), abs(high)) > INT32
    ]
    assert too_wide == []


def _child(tmp_path: Path, body: str, parent: str = "corporate", name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{parent}"\n{body}')
    return path


def test_a_partner_penalty_beyond_int32_is_refused_not_wrapped_into_a_bonus(
    tmp_path: Path,
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_child(tmp_path, "[companies.partner_points]\nC = -3000000000\n"))
    assert caught.value.path == "companies.partner_points.C"
    assert "-10000" in caught.value.expected


def test_a_calibration_range_beyond_any_float_it_can_search_is_refused(tmp_path: Path) -> None:
    body = '[[calibration.free]]\npath = "rulebook.base"\nlow = -1e300\nhigh = 1.0\n'
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_child(tmp_path, body, parent="court-list-history"))
    assert caught.value.path.endswith("low")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[population]\nsize = true\n", "population.size"),
        ("[run]\nreport = 1\n", "run.report"),
        ('[run]\ndays = "90"\n', "run.days"),
        ("[run]\nstart = 20131001\n", "run.start"),
        ("[rulebook.rules.traffic_violation]\npoints = false\n", "points"),
    ],
)
def test_a_value_of_another_type_is_refused_not_converted(
    tmp_path: Path, body: str, field: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_child(tmp_path, body, parent="rongcheng"))
    assert field in caught.value.path


def test_a_resolved_scenario_read_back_from_json_keeps_its_dates() -> None:
    scenario = load_scenario("court-list-history")
    again = Scenario.model_validate(scenario.model_dump(mode="json", exclude_none=True))
    assert again == scenario


# ---------------------------------------------------------------- text stays text (item 8)


def test_control_characters_in_a_key_are_shown_escaped(tmp_path: Path) -> None:
    path = _child(tmp_path, '[rulebook.rules."a\\u001b[31mred\\u0007"]\npoints = 1\n', "rongcheng")
    line = assert_one_line_refusal(cli("validate", str(path)))
    assert "\x1b" not in line and "\x07" not in line
    assert "a\\x1b[31mred\\x07" in line


def test_control_characters_in_a_file_name_are_shown_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short name: a long path is shortened in the line
    line = assert_one_line_refusal(cli("validate", "bell\x07.toml"))
    assert "\x07" not in line and "bell\\x07" in line


def test_the_python_api_error_carries_the_escaped_text_too(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_child(tmp_path, '[rulebook.rules."x\\u001b"]\npoints = 1\n', "rongcheng"))
    assert "\x1b" not in str(caught.value)
    assert printable("a\x1bb\rc é") == "a\\x1bb\\rc é"


def test_extends_of_a_file_that_is_not_a_scenario_does_not_echo_it(tmp_path: Path) -> None:
    secret = tmp_path / "credentials.toml"
    secret.write_text('password = "hunter2"\n[database]\nuser = "admin"\n')
    line = assert_one_line_refusal(cli("validate", str(_child(tmp_path, "", str(secret)))))
    assert "not a scenario file" in line
    assert "hunter2" not in line and "password" not in line and "admin" not in line


def test_extends_of_a_sweep_file_is_refused_as_not_a_scenario(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('scenario = "rongcheng"\n[grid]\n"run.seed" = [1, 2]\n')
    line = assert_one_line_refusal(cli("validate", str(_child(tmp_path, "", str(sweep)))))
    assert "not a scenario file" in line


def test_a_long_extends_chain_ends_in_its_own_message(tmp_path: Path) -> None:
    parent = "rongcheng"
    for i in range(MAX_EXTENDS + 5):
        _child(tmp_path, "", parent, name=f"s{i}.toml")
        parent = str(tmp_path / f"s{i}.toml")
    line = assert_one_line_refusal(cli("validate", parent))
    assert f"an extends chain longer than {MAX_EXTENDS} files" in line


def test_a_chain_within_the_limit_still_loads(tmp_path: Path) -> None:
    parent = "rongcheng"
    for i in range(MAX_EXTENDS - 1):
        _child(tmp_path, "", parent, name=f"s{i}.toml")
        parent = str(tmp_path / f"s{i}.toml")
    assert load_scenario(parent).name == "rongcheng"


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b"])
def test_a_sweep_name_that_is_not_one_folder_name_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(f'scenario = "rongcheng"\nname = "{name}"\n[grid]\n"run.seed" = [1]\n')
    with pytest.raises(UserError):
        load_sweep(path)


def test_a_sweep_file_named_dot_dot_writes_into_a_folder_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "...toml"
    path.write_text('scenario = "rongcheng"\n[grid]\n"run.seed" = [1]\n')
    assert load_sweep(path).name not in ("", ".", "..")


def test_a_run_folder_named_with_control_characters_is_printed_escaped(tmp_path: Path) -> None:
    """The other instance: the console's own lines (rich keeps an ESC) name the folder too."""
    out = tmp_path / "r\x1b[31mx\x07"
    outcome = cli("run", "rongcheng", "--population", "2000", "--days", "3", "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert "\x1b" not in outcome.stdout and "r\\x1b[31mx\\x07" in outcome.stdout
    report = cli("report", str(out))
    assert report.exit_code == 0 and "\x1b" not in report.stdout
