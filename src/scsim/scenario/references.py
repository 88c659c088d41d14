"""Cross-references inside a scenario: every name a section uses must be defined elsewhere."""

from __future__ import annotations

from collections.abc import Iterable

from scsim.errors import ScenarioError
from scsim.scenario.schema import Rulebook, Scenario


def check_references(s: Scenario, label: str) -> None:
    events, classes = set(s.behaviour.events), set(s.population.classes)
    for name, event in s.behaviour.events.items():
        _known(label, f"behaviour.events.{name}.by_class", event.by_class, classes, "class")
    for name, sensor in s.surveillance.sensors.items():
        _known(label, f"surveillance.sensors.{name}.events", sensor.events, events, "event type")
    _check_rulebook(s.rulebook, events, label, "rulebook")
    versions = dict(s.rulebook.versions(s.run.start))
    for i, day in enumerate(s.rulebook.change_days(s.run.start)):
        # each change is checked in the rulebook it makes (the rules it adds must be known)
        _check_rulebook(versions[day], events, label, f"rulebook.changes[{i}]")
    _check_mechanisms(s, label)
    _check_companies(s, label)
    _check_places(s, label)


def _check_places(s: Scenario, label: str) -> None:
    """A place's rules name event types, its rewards and refusals national services; the
    mechanisms that read grades by the national rulebook's names do not yet run with places."""
    events, services = set(s.behaviour.events), set(s.rulebook.services)
    for name, place in s.places.items():
        at = f"places.{name}.rulebook"
        _known(label, f"{at}.rules", place.rulebook.rules, events, "event type")
        for i, change in enumerate(place.rulebook.changes):
            _known(label, f"{at}.changes[{i}].rules", change.rules, events, "event type")
        _known(label, f"{at}.rewards", place.rulebook.rewards, services, "service")
        _known(label, f"{at}.refusals", place.rulebook.refusals, services, "service")
    if not s.places:
        return
    graded = {
        "behaviour.gray_market": s.behaviour.gray_market.per_year > 0,
        "behaviour.gaming": s.behaviour.gaming.per_year > 0,
        "rulebook.tiers.<grade>.burdens": any(t.burdens for t in s.rulebook.tiers.values()),
        "rulebook.services.<service>.premium_tiers": any(
            v.premium_tiers for v in s.rulebook.services.values()
        ),
        "rulebook.lists.<list>.enter_tiers": any(x.enter_tiers for x in s.rulebook.lists.values()),
    }
    for field, on in graded.items():
        if on:
            raise ScenarioError(
                label,
                "places",
                f"places do not run with {field} yet (it reads the national rulebook's grades "
                "only); expected a scenario without it",
            )


def _check_companies(s: Scenario, label: str) -> None:
    """A representative's list is a person list; an employer's share needs rated companies."""
    if s.companies is not None:
        events = set(s.behaviour.events)
        _known(
            label, "companies.employee_points", s.companies.employee_points, events, "event type"
        )
        if s.companies.representative_list is not None:
            used = [s.companies.representative_list]
            _known(label, "companies.representative_list", used, set(s.rulebook.lists), "list")
    for name, rule in s.rulebook.rules.items():
        if rule.spillover.employer and s.companies is None:
            raise ScenarioError(
                label,
                f"rulebook.rules.{name}.spillover.employer",
                "a share charged to the employer needs a [companies] section (none is rated)",
            )


def _check_mechanisms(s: Scenario, label: str) -> None:
    """The names the optional mechanisms (issue 3) use: grades and income bands."""
    tiers, bands = set(s.rulebook.tiers), set(s.population.income)
    market = s.behaviour.gray_market
    _known(label, "behaviour.gray_market.buyer_tiers", market.buyer_tiers, tiers, "tier")
    _known(label, "behaviour.gray_market.by_income", market.by_income, bands, "income band")
    pressed = s.behaviour.gaming.pressed_tiers
    _known(label, "behaviour.gaming.pressed_tiers", pressed, tiers, "tier")
    events = set(s.behaviour.events)
    for name, sensor in s.surveillance.sensors.items():
        if sensor.reward_event is not None:
            where = f"surveillance.sensors.{name}.reward_event"
            _known(label, where, [sensor.reward_event], events, "event type")
        where = f"surveillance.sensors.{name}.coverage_by_region"
        _known(label, where, sensor.coverage_by_region, set(s.population.regions), "region")
        minority = any(r.minority_share > 0 for r in s.population.regions.values())
        if sensor.coverage_by_group and not minority:
            raise ScenarioError(
                label,
                f"surveillance.sensors.{name}.coverage_by_group",
                "intensity by group needs a region with a minority_share above 0",
            )
    lists = set(s.rulebook.lists)
    for name, service in s.rulebook.services.items():
        where = f"rulebook.services.{name}"
        _known(label, f"{where}.household_lists", service.household_lists, lists, "list")
        _known(label, f"{where}.premium_tiers", service.premium_tiers, tiers, "tier")
    for name, listed in s.rulebook.lists.items():
        _known(label, f"rulebook.lists.{name}.enter_tiers", listed.enter_tiers, tiers, "tier")
    for name, licence in s.licences.items():
        where = f"licences.{name}"
        _known(label, f"{where}.deductions", licence.deductions, events, "event type")
        _known(label, f"{where}.refuses", [licence.refuses], set(s.rulebook.services), "service")
    _check_nobody_starts_listed(s, label)
    _check_fixed_for_the_run(s, label)


def _check_nobody_starts_listed(s: Scenario, label: str) -> None:
    """A list entered by grade takes people in when their grade moves into its grades, so it
    would miss everyone who starts there: the whole population, who all start in the base's
    grade. Listing them would make the roster (18 bytes a member) as large as the population,
    past docs/architecture.md's 8 bytes a person at national scale, so such a list is refused."""
    book = s.rulebook
    start = next(name for name, t in book.tiers.items() if t.min <= book.base <= t.max)
    for name, listed in book.lists.items():
        if start in listed.enter_tiers:
            raise ScenarioError(
                label,
                f"rulebook.lists.{name}.enter_tiers",
                f"holds {start!r}, the grade everyone starts in (base {book.base}): the list "
                "would hold the whole population, a roster row each, past the memory budget "
                "of 8 bytes a person; expected grades nobody starts in (restrict or reward "
                "the start grade with a service's blocked_tiers or reward_tiers instead)",
            )


# Fields the mechanisms compile once per run: a scheduled change may not alter them.
FIXED_FOR_THE_RUN = {
    "sensors": {
        "informants",
        "reward_event",
        "suspension",
        "suspension_days",
        "daily_capacity_per_million",
    },
    "services": {"household_lists", "premium_tiers", "premium_bp"},
    "lists": {"enter_tiers"},
}


def _check_fixed_for_the_run(s: Scenario, label: str) -> None:
    for i, change in enumerate(s.rulebook.changes):
        for table, fixed in FIXED_FOR_THE_RUN.items():
            for name, fields in getattr(change, table).items():
                for field in sorted(set(fields) & fixed):
                    raise ScenarioError(
                        label,
                        f"rulebook.changes[{i}].{table}.{name}.{field}",
                        "fixed for the whole run: a scheduled change cannot alter it",
                    )


def _check_rulebook(rulebook: Rulebook, events: set[str], label: str, at: str) -> None:
    tiers, lists = set(rulebook.tiers), set(rulebook.lists)
    _known(label, f"{at}.rules", rulebook.rules, events, "event type")
    for name, rule in rulebook.rules.items():
        where = f"{at}.rules.{name}"
        if rule.set_tier is not None:
            _known(label, f"{where}.set_tier", [rule.set_tier], tiers, "tier")
        if rule.enter_list is not None:
            _known(label, f"{where}.enter_list", [rule.enter_list], lists, "list")
    for name, service in rulebook.services.items():
        where = f"{at}.services.{name}"
        _known(label, f"{where}.blocked_lists", service.blocked_lists, lists, "list")
        _known(label, f"{where}.blocked_tiers", service.blocked_tiers, tiers, "tier")
        _known(label, f"{where}.reward_tiers", service.reward_tiers, tiers, "tier")
        _known(label, f"{where}.reward_lists", service.reward_lists, lists, "list")
    for name, book_list in rulebook.lists.items():
        where = f"{at}.lists.{name}.order_events"
        _known(label, where, book_list.order_events, events, "event type")


def _known(label: str, path: str, used: Iterable[str], defined: set[str], what: str) -> None:
    for name in used:
        if name not in defined:
            choices = ", ".join(sorted(defined)) or "none defined"
            raise ScenarioError(label, path, f"unknown {what} {name!r}; expected one of: {choices}")
