"""Cross-references inside a scenario: every name a section uses must be defined elsewhere."""

from __future__ import annotations

from collections.abc import Iterable

from scsim.errors import ScenarioError
from scsim.scenario.schema import Scenario


def check_references(s: Scenario, label: str) -> None:
    events, classes = set(s.behaviour.events), set(s.population.classes)
    tiers, lists = set(s.rulebook.tiers), set(s.rulebook.lists)
    for name, event in s.behaviour.events.items():
        _known(label, f"behaviour.events.{name}.by_class", event.by_class, classes, "class")
    for name, sensor in s.surveillance.sensors.items():
        _known(label, f"surveillance.sensors.{name}.events", sensor.events, events, "event type")
    _known(label, "rulebook.rules", s.rulebook.rules, events, "event type")
    for name, rule in s.rulebook.rules.items():
        at = f"rulebook.rules.{name}"
        if rule.set_tier is not None:
            _known(label, f"{at}.set_tier", [rule.set_tier], tiers, "tier")
        if rule.enter_list is not None:
            _known(label, f"{at}.enter_list", [rule.enter_list], lists, "list")
    for name, service in s.rulebook.services.items():
        at = f"rulebook.services.{name}"
        _known(label, f"{at}.blocked_lists", service.blocked_lists, lists, "list")
        _known(label, f"{at}.blocked_tiers", service.blocked_tiers, tiers, "tier")
        _known(label, f"{at}.reward_tiers", service.reward_tiers, tiers, "tier")


def _known(label: str, path: str, used: Iterable[str], defined: set[str], what: str) -> None:
    for name in used:
        if name not in defined:
            choices = ", ".join(sorted(defined)) or "none defined"
            raise ScenarioError(label, path, f"unknown {what} {name!r}; expected one of: {choices}")
