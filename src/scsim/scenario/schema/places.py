"""Places: cities carved out of regions, and local rulebooks of points and grades.

A place is a region of the population (a province, or a city carved out of one by
`population.cities`) with a scoring rulebook of its own: scale, base, grades and their
cut-offs, the points of each record, deduction windows, direct grades and their locks, and the
grades that national services refuse or reward there. It starts on a day (before it, nobody
there is scored) and may change on dated days of its own. Lists, the services' refusals by
list, joint punishment and company ratings stay the national rulebook's, for everyone.

Everyone shares one grade space: the national rulebook's grades (those of people no local
rulebook scores, "unscored" in `pilots`), then each place's grades named "Place/GRADE".

    >>> names = grade_names(scenario)       # ("unscored", "Rongcheng/AAA", ...)
    >>> days = place_days(scenario)         # starts and dated changes, as days of the run
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from scsim.scenario.merge import merge_tables
from scsim.scenario.schema.fields import Date, Days, Name, Probability, Share, Strict, located
from scsim.scenario.schema.rulebook import Dated, Rule, Scale, Tier, check_base, check_tiling

if TYPE_CHECKING:
    from scsim.scenario.schema.scenario import Scenario

SEPARATOR = "/"  # a place's grade in the shared grade space: "Rongcheng/AAA"
MAX_GRADES = 255  # people.tier is a uint8


class City(Strict):
    """A city carved out of a region: a share of the region's people, with its own urban share
    and household size; the region keeps the rest. It is a region of the run of its own
    (friends and households stay inside it), reported with its region."""

    region: Name = Field(description="the region (province) the city lies in")
    share: Share = Field(description="fraction of the region's people who live in the city")
    urban_share: Probability = Field(description="fraction of the city's people who are urban")
    household_mean: float = Field(
        2.62, ge=1.0, le=8.0, description="mean persons per family household (census)"
    )


class LocalChange(Dated):
    """Overrides of a local rulebook's rules from a day (or a date) on: a rule's points, a new
    rule, a window. Its scale and grades stay as they are for the run."""

    rules: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="fields of the place's rules that change, by rule name"
    )
    consent_share: Probability | None = Field(
        None,
        description="from this change on, scoring needs the person's consent and this share "
        "of the place's people consent (Rongcheng after its reform [P]; the share [U]); left "
        "out, the rulebook's consent stays as it was",
    )


class LocalRulebook(Strict):
    """A place's scoring rulebook: its scale and grades, the points of each record, deduction
    windows and direct grades with their locks, and the grades national services refuse or
    reward. It puts nobody on a list: lists are national."""

    scale: Scale = Field(description="the lowest and the highest score of the place")
    base: int = Field(ge=-30_000, le=30_000, description="everyone's score when the place starts")
    tiers: dict[Name, Tier] = Field(min_length=1, description="the place's grades, best first")
    rules: dict[Name, Rule] = Field(
        default_factory=dict,
        description="what a record of each event type does here, by event name (points, "
        "expires_after_days, set_tier of this place, lock_days, household and friends "
        "spill-over; no enter_list: lists are national)",
    )
    rewards: dict[Name, list[Name]] = Field(
        default_factory=dict,
        description="national services by name, and the place's grades whose holders are "
        "rewarded when a request is granted (green channels, heating discounts)",
    )
    refusals: dict[Name, list[Name]] = Field(
        default_factory=dict,
        description="national services by name, and the place's grades whose holders are "
        "refused (Suining's D: excluded from licences and relief)",
    )
    changes: list[LocalChange] = Field(
        default_factory=list, max_length=64, description="the place's dated changes of rules"
    )
    consent_share: Probability | None = Field(
        None,
        description="scoring needs the person's consent, and this share of the place's people "
        "give it (Rongcheng after its reform [P]; who consents is [U]). A person who has not "
        "consented has their records kept (delta 0) but no score: they hold the national "
        "rulebook's grade (`pilots`: unscored), no refusal or reward by the place's grades "
        "reaches them, and lists reach them as everyone. Who consents is drawn once per "
        "person from the id (a stream of its own): a larger share keeps every earlier "
        "consenter. Counted as `consent_scored_<place>`, `consent_unscored_<place>`, "
        "`records_unscored_<place>`; left out, nobody is asked and everyone is scored",
    )

    @field_validator("tiers")
    @classmethod
    def _tiers_tile_the_scale(cls, tiers: dict[str, Tier], info: ValidationInfo) -> dict[str, Tier]:
        check_tiling(tiers, info.data.get("scale"), "tier")
        return tiers

    @model_validator(mode="after")
    def _consistent(self) -> LocalRulebook:
        check_base(self.base, self.scale)
        for name, rule in self.rules.items():
            if rule.enter_list is not None:
                raise ValueError(f"rules.{name}.enter_list: lists are national, not a place's")
            if rule.spillover.employer:
                raise ValueError(f"rules.{name}.spillover.employer: company ratings are national")
            if rule.set_tier is not None and rule.set_tier not in self.tiers:
                raise ValueError(
                    f"rules.{name}.set_tier: unknown grade {rule.set_tier!r}; expected one of: "
                    + ", ".join(self.tiers)
                )
        for table in ("rewards", "refusals"):
            for service, grades in getattr(self, table).items():
                unknown = [g for g in grades if g not in self.tiers]
                if unknown:
                    raise ValueError(
                        f"{table}.{service}: unknown grade {unknown[0]!r}; expected one of: "
                        + ", ".join(self.tiers)
                    )
        return self

    def base_tier(self) -> str:
        """The grade of the base score: everyone's when the place starts."""
        return next(n for n, t in self.tiers.items() if t.min <= self.base <= t.max)


class Place(Strict):
    """A region or city with a local rulebook, from its start on."""

    description: str = Field("", description="the pilot, in a sentence")
    start: Days | Date = Field(
        0,
        description="the day (or the date, with run.start) the local rulebook starts: before "
        "it, nobody there is scored (the national rulebook's grades); its people then move to "
        "the base grade",
    )
    rulebook: LocalRulebook = Field(description="the place's scoring rulebook")


def place_names_ok(s: Scenario) -> None:
    """Every place is a region or a city of the population, and the grades of all fit a
    person's one byte of grade (ValueError with the field)."""
    if len(grade_names(s)) > MAX_GRADES:
        raise ValueError(
            f"places: {len(grade_names(s))} grades in all (the national rulebook's and every "
            f"place's); expected at most {MAX_GRADES}: a person's grade is one byte"
        )
    known = [*s.population.regions, *s.population.cities]
    for name in s.places:
        if name not in known:
            raise ValueError(
                f"places.{name}: not a region or city of population; expected one of: "
                + ", ".join(known)
            )


def start_day(place: Place, start: dt.date | None, name: str) -> int:
    """The day of the run a place starts (ValueError naming the field when a date has no
    run.start to count from)."""
    if not isinstance(place.start, dt.date):
        return place.start
    if start is None:
        raise ValueError(f"places.{name}.start: a date needs run.start, the date of day 0")
    return max((place.start - start).days, 0)  # a pilot older than the run runs from day 0


def change_day(change: LocalChange, start: dt.date | None, where: str) -> int:
    day = change.day_of(start)
    if day is None:
        raise ValueError(f"{where}.date: a change on a date needs run.start, the date of day 0")
    return max(day, 0)


def rollout_ok(s: Scenario) -> None:
    """Every region of the rollout is a region or city, and its date has a run.start."""
    if s.places:
        raise ValueError(
            "rollout: the national rulebook's rollout and places do not run together; "
            "give each place its start instead"
        )
    known = [*s.population.regions, *s.population.cities]
    for name in s.rollout:
        if name not in known:
            raise ValueError(
                f"rollout.{name}: not a region or city of population; expected one of: "
                + ", ".join(known)
            )
        rollout_day(s, name)


def rollout_day(s: Scenario, region: str) -> int:
    """The day a region joins the national rulebook (0 if the rollout does not name it)."""
    value = s.rollout.get(region, 0)
    if not isinstance(value, dt.date):
        return value
    if s.run.start is None:
        raise ValueError(f"rollout.{region}: a date needs run.start, the date of day 0")
    return max((value - s.run.start).days, 0)


def place_days(s: Scenario) -> set[int]:
    """The days on which some place starts or changes its rules, or a region joins the
    national rulebook (`rollout`): day 0 included if so."""
    days: set[int] = {rollout_day(s, name) for name in s.rollout}
    for name, place in s.places.items():
        days.add(start_day(place, s.run.start, name))
        for i, change in enumerate(place.rulebook.changes):
            days.add(change_day(change, s.run.start, f"places.{name}.rulebook.changes[{i}]"))
    return {d for d in days if d < s.run.days}


def rulebook_on(place: Place, day: int, start: dt.date | None, name: str) -> LocalRulebook:
    """The place's rulebook in force on `day`: its changes up to that day merged in day order."""
    book = place.rulebook
    dated = [
        (change_day(c, start, f"places.{name}.rulebook.changes[{i}]"), i, c)
        for i, c in enumerate(book.changes)
    ]
    due = sorted((d, i, c) for d, i, c in dated if d <= day)
    if not due:
        return book
    raw = book.model_dump(exclude={"changes"}, exclude_none=True)
    for _, i, change in due:
        raw = merge_tables(raw, {"rules": change.rules})
        if change.consent_share is not None:
            raw["consent_share"] = change.consent_share
        try:
            LocalRulebook.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(located(f"places.{name}.rulebook.changes[{i}]", exc)) from None
    return LocalRulebook.model_validate(raw)


def check_changes(s: Scenario) -> None:
    """Every dated change of every place makes a valid rulebook."""
    for name, place in s.places.items():
        start_day(place, s.run.start, name)
        for day in sorted(place_days(s)):
            rulebook_on(place, day, s.run.start, name)


def asks_consent(s: Scenario) -> tuple[str, ...]:
    """The places whose rulebook asks for consent to be scored, from its start or from one of
    its dated changes (each has the consent mechanism's metrics columns for the whole run)."""
    return tuple(
        name
        for name, place in s.places.items()
        if place.rulebook.consent_share is not None
        or any(c.consent_share is not None for c in place.rulebook.changes)
    )


def grade_names(s: Scenario) -> tuple[str, ...]:
    """The shared grade space, best first within each block: the national rulebook's grades
    (no prefix), then each place's as "Place/GRADE". Without places, the rulebook's grades."""
    names = list(s.rulebook.tiers)
    for place, spec in s.places.items():
        names += [f"{place}{SEPARATOR}{t}" for t in spec.rulebook.tiers]
    return tuple(names)


def swapped(s: Scenario, place: str, donor: str) -> Scenario:
    """The scenario with `place`'s rulebook replaced by `donor`'s (its start date kept): the
    paired counterfactual of `scsim compare --swap PLACE=DONOR`."""
    for name in (place, donor):
        if name not in s.places:
            raise ValueError(
                f"--swap {place}={donor}: {name!r} is not a place of {s.name}; expected one of: "
                + ", ".join(s.places)
            )
    places = dict(s.places)
    places[place] = places[place].model_copy(update={"rulebook": s.places[donor].rulebook})
    return s.model_copy(update={"places": places})
