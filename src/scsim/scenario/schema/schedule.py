"""The schedule of dated changes: which rulebook, event rates and sensors are in force on each
day of a run (the rulebook's changes merged in day order, a sensor's adoption curve in steps).

The sections' own `versions` methods call these functions; the engine and the audit read a run
through them, so a change means the same thing to both.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from scsim.scenario.merge import merge_tables
from scsim.scenario.schema.behaviour import EventType
from scsim.scenario.schema.fields import Strict, located
from scsim.scenario.schema.surveillance import Adoption, Sensor, Surveillance

if TYPE_CHECKING:
    from scsim.scenario.schema.rulebook import Rulebook
    from scsim.scenario.schema.scenario import Scenario


def change_days(rulebook: Rulebook, start: dt.date | None = None) -> list[int]:
    """The day of each change, in the order given, dates counted from `start`."""
    days = []
    for i, change in enumerate(rulebook.changes):
        day = change.day_of(start)
        if day is None:
            raise ValueError(
                f"rulebook.changes[{i}].date: a change on a date needs run.start, the date of day 0"
            )
        if day < 0:
            raise ValueError(
                f"rulebook.changes[{i}].date: {change.date} is before run.start ({start})"
            )
        days.append(day)
    return days


def rulebook_versions(
    rulebook: Rulebook, start: dt.date | None = None
) -> list[tuple[int, Rulebook]]:
    """The rulebook in force from each change day on, the changes merged in day order (the
    first entry is day 0's own rulebook); one entry per distinct day."""
    raw = rulebook.model_dump(exclude={"changes"}, exclude_none=True)
    versions: list[tuple[int, Rulebook]] = [(0, rulebook.model_copy(update={"changes": []}))]
    days = change_days(rulebook, start)
    order = sorted(range(len(rulebook.changes)), key=lambda i: days[i])
    for i in order:
        change, day = rulebook.changes[i], days[i]
        for table in ("lists", "services"):
            added = set(getattr(change, table)) - set(raw[table])
            if added:
                name = sorted(added)[0]
                raise ValueError(
                    f"rulebook.changes[{i}].{table}.{name}: a change cannot add to {table} "
                    f"(they are fixed for the run); expected one of: {', '.join(raw[table])}"
                )
        raw = merge_tables(raw, change.model_dump(include={"rules", "lists", "services"}))
        try:
            version = type(rulebook).model_validate(raw)
        except ValidationError as exc:
            raise ValueError(located(f"rulebook.changes[{i}]", exc)) from None
        if versions[-1][0] == day:
            versions.pop()
        versions.append((day, version))
    return versions


def scenario_versions(scenario: Scenario) -> list[tuple[int, Scenario]]:
    """The scenario in force from each day on where anything changes: a rulebook change, a
    change of event rates or sensors, a step of a sensor's adoption; the first is day 0."""
    start = scenario.run.start
    books = scenario.rulebook.versions(start)
    days_of_change = scenario.rulebook.change_days(start)
    adopting = {n: x.adoption for n, x in scenario.surveillance.sensors.items() if x.adoption}
    steps = {day for a in adopting.values() for day in range(0, scenario.run.days, a.step_days)}
    from scsim.scenario.schema.places import place_days  # places imports the rulebook

    steps |= place_days(scenario)  # a place starts or changes its rules (`places`)
    if not (
        len(books) > 1 or steps or any(c.events or c.sensors for c in scenario.rulebook.changes)
    ):
        return [(0, scenario)]
    midpoints = {
        n: _day_number(a.midpoint, start, f"surveillance.sensors.{n}.adoption.midpoint")
        for n, a in adopting.items()
    }
    order = sorted(range(len(days_of_change)), key=lambda i: days_of_change[i])
    events = scenario.behaviour.model_dump()["events"]
    sensors = scenario.surveillance.model_dump()["sensors"]
    applied, versions = 0, []
    for day in sorted({0, *days_of_change, *steps}):
        while applied < len(order) and days_of_change[order[applied]] <= day:
            i = order[applied]
            change = scenario.rulebook.changes[i]
            events = _merged(events, change.events, f"rulebook.changes[{i}].events", EventType)
            sensors = _merged(sensors, change.sensors, f"rulebook.changes[{i}].sensors", Sensor)
            applied += 1
        book = [b for d, b in books if d <= day][-1]
        watchers = {}
        for name, raw in sensors.items():
            sensor = Sensor.model_validate(raw)
            if name in adopting:
                share = _adopted(adopting[name], midpoints[name], day)
                sensor = sensor.model_copy(update={"detection": sensor.detection * share})
            watchers[name] = sensor
        version = scenario.model_copy(
            update={
                "rulebook": book,
                "behaviour": scenario.behaviour.model_copy(
                    update={"events": {n: EventType.model_validate(e) for n, e in events.items()}}
                ),
                "surveillance": Surveillance(sensors=watchers),
            }
        )
        versions.append((day, version))
    return versions


def _day_number(value: int | dt.date, start: dt.date | None, where: str) -> int:
    if not isinstance(value, dt.date):
        return value
    if start is None:
        raise ValueError(f"{where}: a date needs run.start, the date of day 0")
    return (value - start).days


def _adopted(adoption: Adoption, midpoint: int, day: int) -> float:
    """The share of full detection on `day` (held from the start of the step)."""
    logistic = 1.0 / (1.0 + math.exp(-(day - midpoint) / adoption.width_days))
    return adoption.floor + (1.0 - adoption.floor) * logistic


def _merged(
    table: dict[str, Any], overrides: dict[str, dict[str, Any]], where: str, model: type[Strict]
) -> dict[str, Any]:
    """Entries of `table` with `overrides` merged in, each checked; no entry may be added."""
    if not overrides:
        return table
    merged = dict(table)
    for name, fields in overrides.items():
        if name not in table:
            raise ValueError(
                f"{where}.{name}: a change cannot add entries (they are fixed for the run); "
                f"expected one of: {', '.join(table)}"
            )
        merged[name] = merge_tables(table[name], fields)
        try:
            model.model_validate(merged[name])
        except ValidationError as exc:
            raise ValueError(located(f"{where}.{name}", exc)) from None
    return merged
