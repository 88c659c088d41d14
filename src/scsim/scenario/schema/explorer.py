"""The explorer section: which of a scenario's values `scsim explore` offers as controls.

A scenario names its main levers by dotted field path (the same paths as overrides and
`scsim explain`): a number or a yes/no field of the scenario (a rule's points, a sensor's
misattribution, a grade's cut-off), or a whole list or service, which the explorer offers as a
switch. What kind of control each lever is, and its bounds, come from the schema itself; its
source or [U] from the file's comments. Population, days and seeds are always levers.

    [explorer]
    levers = [
      { field = "rulebook.rules.negative_post.points", label = "a negative post" },
      { field = "rulebook.lists.court_blacklist" },   # a switch: the list on or off
    ]
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from scsim.errors import ScenarioError
from scsim.scenario.schema.fields import Strict

MAX_LEVERS = 40  # a page of controls; more is a file to edit, not a page to read
SWITCHED = ("rulebook.lists", "rulebook.services")  # a whole entry of these is a switch
PATH = r"^[A-Za-z][A-Za-z0-9_+\-]*(\.[A-Za-z0-9][A-Za-z0-9_+\-]*)+$"


class Lever(Strict):
    field: str = Field(
        max_length=200,
        pattern=PATH,
        description="the dotted path of a number or yes/no field of this scenario "
        "(rulebook.rules.negative_post.points, surveillance.sensors.cameras.misattribution, "
        "rulebook.tiers.B.min), or of a list or service (rulebook.lists.court_blacklist), "
        "which the explorer switches on or off",
    )
    label: str = Field(
        "", max_length=80, description="the control's name on the page; the field path if empty"
    )


class Explorer(Strict):
    levers: list[Lever] = Field(
        default_factory=list,
        max_length=MAX_LEVERS,
        description="the scenario's main levers, in the order the explorer shows them "
        "(population, days and seeds are always shown)",
    )


def lever_kind(scenario: BaseModel, dotted: str) -> str | None:
    """What control a path gets: "switch" (a list or service), "bool", "int" or "float"; None
    where the path names no such field of the scenario."""
    parent, _, name = dotted.rpartition(".")
    try:
        if parent in SWITCHED:
            return "switch" if name in value_at(scenario, parent) else None
        value = value_at(scenario, dotted)
    except KeyError:
        return None
    for kind in (bool, int, float):  # bool first: a bool is an int in Python
        if isinstance(value, kind):
            return kind.__name__
    return None


def value_at(node: Any, dotted: str) -> Any:
    """The value at a dotted path of a scenario (models by attribute, tables by key); KeyError
    where there is none."""
    for part in dotted.split("."):
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(dotted)
    return node


def check_levers(scenario: Any, label: str) -> None:
    """Every lever of a file names a field the explorer can show: a number, a yes/no, a list or
    a service of its scenario. The loader checks a file as written, not after overrides: a lever
    only shows a value, so an override that replaces a table a lever reads runs all the same."""
    explorer = scenario.explorer
    for i, lever in enumerate(explorer.levers if explorer is not None else ()):
        if lever_kind(scenario, lever.field) is None:
            raise ScenarioError(
                label,
                f"explorer.levers[{i}].field",
                f"{lever.field!r} is not a number, yes/no field, list or service of this scenario",
            )
