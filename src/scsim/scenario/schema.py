"""The scenario schema: what a scenario file may say, and the limits of every value.

Validation lives here and only here (STYLE.md): once a `Scenario` exists, the engine trusts it.
Every table is keyed by name (regions, classes, sensors, tiers, rules, lists, services) so that
a scenario that `extends` another can override one field of one entry.

    >>> from scsim.scenario import load_scenario
    >>> scenario = load_scenario("rongcheng")
    >>> scenario.rulebook.base
    1000
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scsim.scenario.merge import merge_tables

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=36_500)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*$")]

MAX_POPULATION = 4_000_000_000  # person ids are uint32-addressable within a region


class Strict(BaseModel):
    """A section of a scenario file: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(Strict):
    share: Share = Field(description="fraction of the population living here")
    urban_share: Probability = Field(description="fraction of the region's people who are urban")
    household_mean: float = Field(
        2.62, ge=1.0, le=8.0, description="mean persons per family household (census)"
    )


class BehaviourClass(Strict):
    """A behaviour class: people who share how often they do each thing (DESIGN.md strata)."""

    share: Share
    offending: Rate = Field(
        1.0, description="multiplies the rate of every event that costs points (offences)"
    )
    description: str = ""


class Population(Strict):
    size: int = Field(ge=1, le=MAX_POPULATION)
    regions: dict[Name, Region] = Field(min_length=1)
    classes: dict[Name, BehaviourClass] = Field(min_length=1)
    employment_rate: Probability = Field(
        0.55, description="fraction of people employed by a company (procedural, per region)"
    )
    company_mean_size: float = Field(12.0, ge=1.0, le=10_000.0)
    friends: int = Field(
        6, ge=0, le=16, description="friends per person in the procedural circulant graph (even)"
    )

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Population:
        for label, table in (("regions", self.regions), ("classes", self.classes)):
            total = sum(entry.share for entry in table.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"the shares of population.{label} must sum to 1, not {total:g}")
        if self.friends % 2:
            raise ValueError("population.friends must be even (friendship is symmetric)")
        return self


class Sensor(Strict):
    """A statistical model of an observer (camera network, court, agency): never a recogniser."""

    events: list[Name] = Field(min_length=1, description="event types this sensor can record")
    coverage_urban: Probability = 1.0
    coverage_rural: Probability = 1.0
    detection: Probability = Field(description="chance a covered event is recorded")
    misattribution: Probability = Field(
        0.0, description="chance a record is charged to another person of the same region"
    )
    false_records_per_year: Rate = Field(
        0.0, description="records of events that never happened, per covered person per year"
    )
    delay_days: Days = Field(
        0, description="days between a detection and its record taking effect (late reporting)"
    )


class Surveillance(Strict):
    sensors: dict[Name, Sensor] = Field(default_factory=dict)


class EventType(Strict):
    per_year: Rate = Field(description="base rate per person per year")
    offence: bool = Field(
        True,
        description="an offence (behaviour classes' `offending` applies) or a merit; what people "
        "do, whatever the rulebook makes of it, so a no-system counterfactual keeps it",
    )
    by_class: dict[Name, Rate] = Field(
        default_factory=dict, description="rate multiplier per behaviour class (default 1)"
    )


class Deterrence(Strict):
    """How people who are watched and punished offend less. Applies to events that cost points."""

    surveillance: Probability = Field(
        0.0, description="offences fall by this fraction of the chance of being recorded"
    )
    per_sanction: Probability = Field(
        0.0, description="offences fall by this fraction per sanction a person has suffered"
    )
    max_sanctions: int = Field(8, ge=0, le=255)


class Behaviour(Strict):
    events: dict[Name, EventType] = Field(min_length=1)
    deterrence: Deterrence = Field(default_factory=Deterrence)
    feedback: bool = Field(True, description="False freezes behaviour: no deterrence at all")


class Spillover(Strict):
    household: Probability = Field(0.0, description="fraction of the delta charged to each member")
    friends: Probability = Field(0.0, description="fraction of the delta charged to each friend")


class Rule(Strict):
    points: int = Field(ge=-10_000, le=10_000)
    expires_after_days: Days | None = Field(
        None, description="the points are reversed after this many days (Wendeng: 1 or 2 years)"
    )
    set_tier: Name | None = Field(None, description="a direct grade, at least this bad")
    lock_days: Days = Field(0, description="how long a direct grade stays fixed")
    enter_list: Name | None = None
    spillover: Spillover = Field(default_factory=Spillover)

    @model_validator(mode="after")
    def _lock_needs_tier(self) -> Rule:
        if self.lock_days and self.set_tier is None:
            raise ValueError("lock_days needs set_tier")
        return self


class Scale(Strict):
    min: int = Field(ge=-30_000, le=30_000)
    max: int = Field(ge=-30_000, le=30_000)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"scale.min ({self.min}) must be below scale.max ({self.max})")
        return self


class Tier(Strict):
    min: int = Field(ge=-30_000, le=30_000)
    max: int = Field(ge=-30_000, le=30_000)
    description: str = ""


class ListRule(Strict):
    """A blacklist or redlist: who enters, for how long, and how people leave it.

    Appeals are off by default: the journalist's reading (SYSTEM.md, source 001: many are
    listed wrongly and cannot get off). The official reading (wrongful entries revoked within
    3 working days [P]) is a high `appeal_success_wrongly` and an `appeal_mean_days` of about
    4, as the `court-blacklist` built-in sets them.
    """

    kind: Literal["black", "red"] = "black"
    term_days: Days = Field(730, description="listing term; 0 means until the person complies")
    comply_per_year: Rate = Field(
        0.0, description="hazard of complying (paying up) while listed, per person per year"
    )
    comply_on_block: Probability = Field(
        0.0, description="chance a blocked attempt makes a listed person comply"
    )
    publish: bool = Field(False, description="entries are named and shamed (counted)")
    appeal_share_rightly: Probability = Field(
        0.0, description="chance a person listed on true records appeals"
    )
    appeal_share_wrongly: Probability = Field(
        0.0, description="chance a person listed only on false records appeals"
    )
    appeal_mean_days: float = Field(
        30.0, ge=1.0, le=3650.0, description="mean days from entry to the appeal's decision"
    )
    appeal_success_rightly: Probability = Field(
        0.0, description="chance an appeal of the rightly listed succeeds"
    )
    appeal_success_wrongly: Probability = Field(
        0.0, description="chance an appeal of the wrongly listed succeeds (entry revoked)"
    )


class Service(Strict):
    """A service people ask for every day; restrictions block it, rewards sweeten it."""

    per_year: Rate = Field(description="requests per person per year")
    blocked_lists: list[Name] = Field(default_factory=list)
    blocked_tiers: list[Name] = Field(default_factory=list)
    reward_tiers: list[Name] = Field(default_factory=list)
    retry: Probability = Field(0.0, description="chance a blocked person tries again")
    retry_mean_days: float = Field(7.0, ge=1.0, le=3650.0)


class RulebookChange(Strict):
    """Overrides of the rulebook from a day on, in the rulebook's own shape: a rule's points,
    a new rule, a list's term, a service's blocked lists. Grades, scale and the set of lists
    and services stay as they are for the whole run (people hold grades and list flags)."""

    day: Days = Field(description="the day the change applies, from its start")
    rules: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    lists: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    services: dict[Name, dict[str, Any]] = Field(default_factory=dict)


class Rulebook(Strict):
    scale: Scale
    base: int = Field(ge=-30_000, le=30_000)
    tiers: dict[Name, Tier] = Field(min_length=1, description="best first")
    rules: dict[Name, Rule] = Field(default_factory=dict)
    lists: dict[Name, ListRule] = Field(default_factory=dict, max_length=4)
    services: dict[Name, Service] = Field(default_factory=dict)
    changes: list[RulebookChange] = Field(
        default_factory=list, max_length=64, description="scheduled changes, applied in day order"
    )

    @field_validator("tiers")
    @classmethod
    def _tiers_tile_the_scale(cls, tiers: dict[str, Tier], info: ValidationInfo) -> dict[str, Tier]:
        scale = info.data.get("scale")
        spans = sorted((t.min, t.max, name) for name, t in tiers.items())
        for lo, hi, name in spans:
            if lo > hi:
                raise ValueError(f"tier {name}: min {lo} is above max {hi}")
        for (lo1, hi1, n1), (lo2, _, n2) in itertools.pairwise(spans):
            if lo2 <= hi1:
                raise ValueError(f"tiers {n1} ({lo1}..{hi1}) and {n2} overlap at {lo2}")
            if lo2 != hi1 + 1:
                raise ValueError(f"tiers {n1} and {n2} leave a gap between {hi1} and {lo2}")
        if scale is not None and (spans[0][0] > scale.min or spans[-1][1] < scale.max):
            raise ValueError(
                f"tiers cover {spans[0][0]}..{spans[-1][1]} but the scale is "
                f"{scale.min}..{scale.max}"
            )
        order = [name for _, _, name in sorted(spans, reverse=True)]
        if order != list(tiers):
            raise ValueError(f"tiers must be listed best first: {', '.join(order)}")
        return tiers

    @model_validator(mode="after")
    def _base_on_the_scale(self) -> Rulebook:
        if not self.scale.min <= self.base <= self.scale.max:
            raise ValueError(
                f"base {self.base} lies outside the scale {self.scale.min}..{self.scale.max}"
            )
        return self

    @model_validator(mode="after")
    def _changes_make_valid_rulebooks(self) -> Rulebook:
        self.versions()
        return self

    def versions(self) -> list[tuple[int, Rulebook]]:
        """The rulebook in force from each change day on, the changes merged in day order (the
        first entry is day 0's own rulebook); one entry per distinct day."""
        raw = self.model_dump(exclude={"changes"}, exclude_none=True)
        versions: list[tuple[int, Rulebook]] = [(0, self.model_copy(update={"changes": []}))]
        order = sorted(range(len(self.changes)), key=lambda i: self.changes[i].day)
        for i in order:
            change = self.changes[i]
            for table in ("lists", "services"):
                added = set(getattr(change, table)) - set(raw[table])
                if added:
                    name = sorted(added)[0]
                    raise ValueError(
                        f"rulebook.changes[{i}].{table}.{name}: a change cannot add to {table} "
                        f"(they are fixed for the run); expected one of: {', '.join(raw[table])}"
                    )
            raw = merge_tables(raw, change.model_dump(exclude={"day"}))
            try:
                rulebook = Rulebook.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(part) for part in first["loc"])
                message = first["msg"].removeprefix("Value error, ")
                raise ValueError(f"rulebook.changes[{i}].{where}: {message}") from None
            if versions[-1][0] == change.day:
                versions.pop()
            versions.append((change.day, rulebook))
        return versions


class Run(Strict):
    days: int = Field(365, ge=1, le=36_500)
    seed: int = Field(1, ge=0, le=2**63 - 1)
    people: Literal["all", "none"] | Annotated[int, Field(ge=1, le=MAX_POPULATION)] = Field(
        "all",
        description="people.parquet: everyone, nobody, or an evenly spaced sample of N people "
        "(a national run has 1.4 billion rows otherwise)",
    )
    report: bool = Field(True, description="write report.html, the run's plots, with the files")


class Scenario(Strict):
    name: Name
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    population: Population
    surveillance: Surveillance = Field(default_factory=Surveillance)
    behaviour: Behaviour
    rulebook: Rulebook
    run: Run = Field(default_factory=Run)
