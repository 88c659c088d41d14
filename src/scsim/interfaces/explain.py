"""`scsim explain SCENARIO`: the day a scenario runs, component by component.

Each component in its order, what it does, the scenario fields it compiles with their values and
the file's own note on each (a source, or [U] for an assumption), the state it owns and what it
writes. The list is the one a run steps (`scsim.engine.order`): a mechanism that is off is not
in it. The population is generated small to build the list: which components run does not
depend on the size, and a nation's state need not be allocated to print it.

    >>> for line in explain_lines("rongcheng"): print(line)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scsim.engine.companies import COMPANY_STATE_BYTES
from scsim.engine.day import Barrier, Component
from scsim.engine.model import Model
from scsim.engine.state import PEOPLE_COLUMNS, STATE_BYTES_PER_PERSON
from scsim.scenario import Scenario, load_scenario
from scsim.scenario.annotations import field_notes, note_for

SMALL = 20_000  # people enough for every built-in's regions and classes
MAX_LEAVES = 12  # values shown per field before "... and N more"
WIDTH = 60  # a value's characters before it is cut


def explain_lines(source: str | Path) -> list[str]:
    """The day of the scenario at `source` (a built-in name or a file) as lines of text."""
    scenario = load_scenario(source)
    small = load_scenario(
        scenario, overrides={"population.size": min(scenario.population.size, SMALL)}
    )
    day = Model.build(small).day
    notes = field_notes(source)
    values = scenario.model_dump(mode="json", exclude_none=True)
    lines = [f"{scenario.name}: {len(day.components)} components a day, in this order", ""]
    for number, component in enumerate(day.components):
        lines += _component(number, component, values, notes)
    lines += _places(scenario, notes)
    lines += _state_budget(scenario)
    return lines


def _places(scenario: Scenario, notes: dict[str, str]) -> list[str]:
    """Each place's rulebook: where it is, when it starts, its scale, grades, rules, rewards,
    refusals and dated changes, with the file's note on each (a note once, not on each line
    it covers)."""
    if not scenario.places:
        return []
    national = ", ".join(scenario.rulebook.tiers)
    lines = [
        f"places: {len(scenario.places)} local rulebooks; everyone else holds the national "
        f"grades ({national})",
        "",
    ]
    for name in scenario.places:
        lines += _place(scenario, name, _Notes(notes))
    return lines


class _Notes:
    """The file's notes; a long one (a table's comment block) said once in a row."""

    def __init__(self, notes: dict[str, str]) -> None:
        self.notes, self.said = notes, ""

    def __call__(self, path: str) -> str:
        note = note_for(self.notes, path)
        if not note or (note == self.said and len(note) > 40):
            return ""
        self.said = note
        return f"   # {note}"


def _place(scenario: Scenario, name: str, note: _Notes) -> list[str]:
    place, cities = scenario.places[name], scenario.population.cities
    book, at = place.rulebook, f"places.{name}"
    where = (
        f"a city of {cities[name].region}, {cities[name].share:.2%} of its people"
        if name in cities
        else "a whole region"
    )
    lines = [f"  {name} ({where}), from {place.start}" + note(f"{at}.start")]
    if place.description:
        lines.append(f"    {place.description}")
    lines.append(
        f"    scale {book.scale.min}..{book.scale.max}, base {book.base}"
        + note(f"{at}.rulebook.base")
    )
    grades = ", ".join(f"{g} {t.min}..{t.max}" for g, t in book.tiers.items())
    first = next(iter(book.tiers))
    lines.append(f"    grades: {grades}" + note(f"{at}.rulebook.tiers.{first}.min"))
    for event, rule in book.rules.items():
        said = [f"{rule.points:+d}"]
        if rule.expires_after_days is not None:
            said.append(f"for {rule.expires_after_days} days")
        if rule.set_tier is not None:
            said.append(f"grade {rule.set_tier} for {rule.lock_days} days")
        if rule.spillover.household or rule.spillover.friends:
            said.append(
                f"household {rule.spillover.household:g}, friends {rule.spillover.friends:g}"
            )
        lines.append(
            f"    {event}: {', '.join(said)}" + note(f"{at}.rulebook.rules.{event}.points")
        )
    for table in ("rewards", "refusals"):
        for service, holders in getattr(book, table).items():
            path = f"{at}.rulebook.{table}.{service}"
            lines.append(f"    {table[:-1]} by {service}: {', '.join(holders)}" + note(path))
    if book.consent_share is not None:
        lines.append(
            f"    scored only with consent: {book.consent_share:.0%} consent"
            + note(f"{at}.rulebook.consent_share")
        )
    for change in book.changes:
        when = change.date if change.date is not None else f"day {change.day}"
        said = [_shown(change.rules)] if change.rules else []
        if change.consent_share is not None:
            said.append(f"scored only with consent, {change.consent_share:.0%} consent")
        lines.append(f"    from {when}: {'; '.join(said)}")
    return [*lines, ""]


def _note(notes: dict[str, str], path: str) -> str:
    note = note_for(notes, path)
    return f"   # {note}" if note else ""


def _component(
    number: int, component: Component, values: dict[str, Any], notes: dict[str, str]
) -> list[str]:
    kind = "barrier: waits for every region's totals" if isinstance(component, Barrier) else ""
    lines = [f"{number:>2}. {component.name} ({component.stage}){' - ' + kind if kind else ''}"]
    lines += [f"    {line}" for line in _summary(component)]
    parameters = [line for field in component.reads for line in _parameter(field, values, notes)]
    if parameters:
        lines += ["    parameters:", *parameters]
    for label, entries in (
        ("state", component.owns),
        ("metrics", component.writes),
        ("ledger", component.ledger),
    ):
        if entries:
            lines.append(f"    {label}: " + "; ".join(entries))
    return [*lines, ""]


def _summary(component: Component) -> list[str]:
    """The component's docstring without its stage number, as written."""
    text = " ".join((type(component).__doc__ or "").split())
    return [text.split(" - ", 1)[1] if text[:3].strip(". ").isdigit() else text]


def _parameter(field: str, values: dict[str, Any], notes: dict[str, str]) -> Iterator[str]:
    leaves = list(_leaves(field.split("."), values, []))
    if not leaves:
        yield f"      {field}: not set"
        return
    said = ""
    for path, value in leaves[:MAX_LEAVES]:
        note = note_for(notes, path)
        shown = note if note != said else ""  # a table's note once, not on each of its fields
        said = note or said
        yield f"      {path} = {_shown(value)}" + (f"   # {shown}" if shown else "")
    if len(leaves) > MAX_LEAVES:
        yield f"      ... and {len(leaves) - MAX_LEAVES} more under {field}"


def _leaves(parts: list[str], value: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    """The values under a dotted field; a `<name>` part stands for every key there."""
    if not parts:
        if value in ({}, [], ""):  # an empty table, list or text: nothing set
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from _leaves([], inner, [*path, key])
        else:
            yield ".".join(path), value
        return
    if not isinstance(value, dict):
        return
    head, rest = parts[0], parts[1:]
    keys = list(value) if head.startswith("<") else [head] if head in value else []
    for key in keys:
        yield from _leaves(rest, value[key], [*path, key])


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= WIDTH else text[: WIDTH - 3] + "..."


def _state_budget(scenario: Scenario) -> list[str]:
    columns = ", ".join(f"{name} {dtype.__name__}" for name, dtype in PEOPLE_COLUMNS.items())
    lines = [f"state per person: {STATE_BYTES_PER_PERSON} bytes ({columns})"]
    if scenario.companies is not None:
        lines.append(f"state per company: {COMPANY_STATE_BYTES} bytes")
    lines.append(
        "and, growing with lists, locks and pending expiries rather than with the population: "
        "rosters, locks and the calendar"
    )
    return lines
