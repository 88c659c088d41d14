"""A scenario's levers as controls, and the controls' values back as a scenario.

The scenario declares its levers (`[explorer]`, `scsim.scenario.schema.explorer`); each control's
kind and bounds come from the schema field it sets, its source or [U] from the file's comments
(as `scsim explain` shows them). Population, days, the seed and the comparison's number of
seeds are always levers. The settings of a page become dotted-path overrides of the scenario,
so a bad value is refused by the scenario's own validation, in its own words.

    >>> controls = lever_controls("rongcheng")
    >>> scenario = scenario_of("rongcheng", {"rulebook.rules.negative_post.points": -5})
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from scsim.errors import ScenarioError
from scsim.scenario import Scenario, load_scenario
from scsim.scenario.annotations import field_notes, note_for
from scsim.scenario.schema.explorer import lever_kind, value_at

MAX_PEOPLE = 1_000_000  # a page waits for its run: a million people take about a minute here
MAX_SEEDS = 20
POPULATION, DAYS, SEED, SEEDS = "population.size", "run.days", "run.seed", "seeds"
EXPLORER = "the explorer"  # who set a value, in a validation message


@dataclass(frozen=True)
class Control:
    """One lever as the page shows it."""

    field: str
    label: str
    kind: str  # "int", "float", "bool" or "switch" (a list or service on or off)
    value: Any
    low: float | None = None
    high: float | None = None
    note: str = ""  # the file's comment on the field: its source, or [U]


def lever_controls(source: str | Path) -> list[Control]:
    """The controls of a scenario: population, days, seed and seeds, then its declared levers."""
    scenario = load_scenario(source)
    notes = field_notes(source)
    size = scenario.population.size
    controls = [
        Control(
            POPULATION,
            "people",
            "int",
            min(size, MAX_PEOPLE),
            1,
            MAX_PEOPLE,
            note_for(notes, POPULATION),
        ),
        Control(
            DAYS, "days", "int", scenario.run.days, *_bounds(scenario, DAYS), note_for(notes, DAYS)
        ),
        Control(
            SEED,
            "seed (the run's; a comparison's first)",
            "int",
            scenario.run.seed,
            *_bounds(scenario, SEED),
            "the same seed gives the same people and the same random draws",
        ),
        Control(
            SEEDS,
            "seeds (the comparison's runs, each a pair)",
            "int",
            1,
            1,
            MAX_SEEDS,
            "each seed is one paired difference; the interval needs two or more",
        ),
    ]
    for lever in scenario.explorer.levers if scenario.explorer is not None else ():
        kind = lever_kind(scenario, lever.field)
        if kind is None:  # a scenario made in Python, not a file: nothing there to move
            continue
        value = True if kind == "switch" else value_at(scenario, lever.field)
        low, high = _bounds(scenario, lever.field) if kind in ("int", "float") else (None, None)
        label = lever.label or lever.field
        note = note_for(notes, lever.field)
        controls.append(Control(lever.field, label, str(kind), value, low, high, note))
    return controls


def _bounds(scenario: Scenario, dotted: str) -> tuple[float | None, float | None]:
    """The schema's lower and upper limits of a number field (ge/gt, le/lt), where it has any."""
    parent, _, name = dotted.rpartition(".")
    model = value_at(scenario, parent)
    if not isinstance(model, BaseModel):
        return None, None
    low = high = None
    for rule in type(model).model_fields[name].metadata:
        low = getattr(rule, "ge", getattr(rule, "gt", low))
        high = getattr(rule, "le", getattr(rule, "lt", high))
    return low, high


def scenario_of(source: str | Path, settings: dict[str, Any]) -> Scenario:
    """The scenario of a page's settings (field path -> value; `seeds` is not a field), validated
    as a file is: a bad value raises the scenario's own `ScenarioError`."""
    base = load_scenario(source)
    people = settings.get(POPULATION)
    if isinstance(people, int) and not isinstance(people, bool) and people > MAX_PEOPLE:
        raise ScenarioError(
            EXPLORER, POPULATION, f"expected at most {MAX_PEOPLE:,} people, got {people:,}"
        )
    changes: dict[str, Any] = {}
    for field, value in settings.items():
        if field != SEEDS:
            changes |= _overrides(base, field, value)
    names = {field: f"{EXPLORER}: {field} =" for field in changes}
    return load_scenario(source, overrides=changes, names=names)


def _overrides(base: Scenario, field: str, value: Any) -> dict[str, Any]:
    """The dotted-path overrides that set one lever (a switch or a cut-off sets several)."""
    kind = lever_kind(base, field)
    if kind == "switch":
        return {} if value is True else _switched_off(base, field)
    parts = field.split(".")
    if parts[:2] == ["rulebook", "tiers"] and parts[-1] == "min" and isinstance(value, int):
        return _cut_off(base, parts[2], value)
    return {field: value}


def _switched_off(base: Scenario, field: str) -> dict[str, Any]:
    """A service switched off gets no requests (so refuses and rewards nobody); a list switched
    off takes nobody in (no rule and no grade enters it), so it blocks nobody."""
    section, name = field.split(".")[1:]
    if section == "services":
        return {f"{field}.per_year": 0.0}
    entered = {
        f"rulebook.rules.{rule}.enter_list": None
        for rule, spec in base.rulebook.rules.items()
        if spec.enter_list == name
    }
    return entered | {f"{field}.enter_tiers": []}


def _cut_off(base: Scenario, tier: str, low: int) -> dict[str, Any]:
    """A grade's lowest score is also the highest of the grade below it, plus one: moving the
    cut-off moves both, as the grades must tile the scale."""
    tiers = base.rulebook.tiers
    changes: dict[str, Any] = {f"rulebook.tiers.{tier}.min": low}
    if tier in tiers:
        below = [name for name, t in tiers.items() if t.max == tiers[tier].min - 1]
        changes |= {f"rulebook.tiers.{name}.max": low - 1 for name in below}
    return changes
