"""The scenario schema: what a scenario file may say, and the limits of every value.

Validation lives here and only here (docs/architecture.md): once a `Scenario` exists, the engine
trusts it. Every table is keyed by name (regions, classes, sensors, tiers, rules, lists, services)
so that a scenario that `extends` another can override one field of one entry.

    >>> from scsim.scenario import load_scenario
    >>> scenario = load_scenario("rongcheng")
    >>> scenario.rulebook.base
    1000
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
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
MAX_DAYS = 36_500  # a century: a longer run is a typo
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*$")]

# a person's list flags are bits of one byte, five of them lists (`scsim.engine.state.LIST_BITS`)
MAX_LISTS = 5
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
    """A behaviour class: people who share how often they do each thing (a stratum of
    docs/architecture.md)."""

    share: Share = Field(
        description="fraction of every region's urban and of its rural people in this class"
    )
    offending: Rate = Field(
        1.0, description="multiplies the rate of every event that costs points (offences)"
    )
    description: str = Field("", description="who the class stands for, in words")


class IncomeBand(Strict):
    """An income band: its share of the urban and of the rural people of every region (each
    stratum is cut into bands, poorest first, as contiguous id ranges: no bytes per person)."""

    urban: Probability = Field(description="fraction of urban people in this band")
    rural: Probability = Field(description="fraction of rural people in this band")


class Population(Strict):
    size: int = Field(ge=1, le=MAX_POPULATION, description="people simulated")
    regions: dict[Name, Region] = Field(
        min_length=1,
        description="the regions by name, each with its share of the people (shares sum to 1)",
    )
    classes: dict[Name, BehaviourClass] = Field(
        min_length=1,
        description="behaviour classes by name: how often people offend (shares sum to 1)",
    )
    employment_rate: Probability = Field(
        0.55, description="fraction of people employed by a company (procedural, per region)"
    )
    company_mean_size: float = Field(
        12.0, ge=1.0, le=10_000.0, description="mean people employed by a company"
    )
    friends: int = Field(
        6, ge=0, le=16, description="friends per person in the procedural circulant graph (even)"
    )
    income: dict[Name, IncomeBand] = Field(
        default_factory=dict,
        max_length=16,
        description="income bands, poorest first (empty: no income bands, everyone in one); "
        "the gray market buys by band and the audit groups by it",
    )

    @model_validator(mode="after")
    def _income_shares_sum_to_one(self) -> Population:
        for area in ("urban", "rural"):
            total = sum(getattr(band, area) for band in self.income.values())
            if self.income and abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"the {area} shares of population.income must sum to 1, not {total:g}"
                )
        return self

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Population:
        for label, table in (("regions", self.regions), ("classes", self.classes)):
            total = sum(entry.share for entry in table.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"the shares of population.{label} must sum to 1, not {total:g}")
        if self.friends % 2:
            raise ValueError("population.friends must be even (friendship is symmetric)")
        return self


class Adoption(Strict):
    """An agency adopting a practice (courts using the new list, a city installing cameras):
    the sensor's detection is `detection` x (floor + (1 - floor) x logistic((day - midpoint) /
    width_days)), held in steps of `step_days` (each step is a scheduled change of the plan)."""

    midpoint: Days | dt.date = Field(description="the day (or date) of half adoption")
    width_days: float = Field(ge=1.0, le=36_500.0, description="days per logistic unit")
    floor: Probability = Field(0.0, description="share of full detection before adoption")
    step_days: int = Field(30, ge=1, le=3650, description="how often detection is updated")


class Sensor(Strict):
    """A statistical model of an observer (camera network, court, agency): never a recogniser."""

    events: list[Name] = Field(min_length=1, description="event types this sensor can record")
    coverage_urban: Probability = Field(
        1.0, description="chance an urban person's event is within the sensor's reach"
    )
    coverage_rural: Probability = Field(
        1.0, description="chance a rural person's event is within the sensor's reach"
    )
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
    adoption: Adoption | None = Field(
        None,
        description="the agency takes the sensor up over time: its detection rises along a "
        "logistic curve instead of holding from day 0",
    )
    informants: bool = Field(
        False,
        description="the sensor is people reporting each other (004): each record is a report "
        "made by a friend of the person reported (the procedural friendship graph), and its "
        "false records are false reports (ledger origin false_report)",
    )
    reward_event: Name | None = Field(
        None,
        description="for informants: the event credited to the reporter for each report, true "
        "or false (reporting illegal behaviour earns points, 004); its rule gives the points",
    )

    suspension: Probability = Field(
        0.0,
        description="chance a record of this sensor suspends the person's account (online "
        "monitoring, 001, 000, 004): while suspended they post nothing of this sensor's events",
    )
    suspension_days: int = Field(30, ge=1, le=36_500, description="how long a suspension lasts")
    coverage_by_region: dict[Name, Rate] = Field(
        default_factory=dict,
        description="multiplies the urban and rural coverage in these regions (capped at 1): "
        "coverage varies by place, Xinjiang the densest (004)",
    )
    daily_capacity: int | None = Field(
        None,
        ge=0,
        le=10**12,
        description="at most this many records a day; the rest of the day's detections are "
        "missed (a search can look for at most about a thousand people and the system cannot "
        "run continuously, 004)",
    )

    @model_validator(mode="after")
    def _reward_needs_informants(self) -> Sensor:
        if self.reward_event is not None and not self.informants:
            raise ValueError("reward_event needs informants = true")
        return self


class Surveillance(Strict):
    sensors: dict[Name, Sensor] = Field(
        default_factory=dict,
        description="the observers by name; an event is offered to those that watch its type, "
        "in this order, and the first that covers and detects it records it",
    )


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
    friends: Probability = Field(
        0.0,
        description="offences fall by this fraction per sanction seen among friends (the "
        "sanctions and demotions the person's friends have suffered, counted to max_sanctions)",
    )
    max_sanctions: int = Field(
        8,
        ge=0,
        le=255,
        description="sanctions counted at most: deterrence stops growing beyond this many",
    )


class SelfCensorship(Strict):
    """Self-censorship of criticism (docs/sources.md, Side effects: self-censorship and fear, 004).

    Each critical post drawn is held back with a chance that grows with perceived surveillance
    (the chance of being recorded) and with the sanctions seen among friends; the posts held
    back are counted (`speech_self_censored`), draw for draw. This comes on top of
    `deterrence`, which lowers every punished offence (criticism too, where a rule punishes
    it): `scsim compare --against-none` sets the whole chill beside the same people's speech
    with no system (headline "critical speech"). Off while `events` is empty.
    """

    events: list[Name] = Field(
        default_factory=list, description="critical speech: the events people censor"
    )
    surveillance: Probability = Field(
        0.0, description="speech falls by this fraction of the chance of being recorded"
    )
    friends: Probability = Field(
        0.0, description="speech falls by this fraction per sanction seen among friends"
    )


class GrayMarket(Strict):
    """Points bought online by people with bad credit (docs/sources.md, Side effects, source 000).

    Off while `per_year` is 0. People in `buyer_tiers` buy at `per_year`, times their income
    band's multiplier (those who can afford it buy more); each purchase adds `points`, which
    the ledger keeps apart as not earned (origin "purchased"); the platform detects a purchase
    with chance `detection` and then charges `penalty` (origin "detected").
    """

    per_year: Rate = Field(0.0, description="purchases per buyer-year (0: no gray market)")
    by_income: dict[Name, Rate] = Field(
        default_factory=dict, description="rate multiplier per income band (default 1)"
    )
    buyer_tiers: list[Name] = Field(
        default_factory=list, description="grades whose holders buy points (bad credit)"
    )
    points: int = Field(0, ge=0, le=10_000, description="points one purchase adds")
    detection: Probability = Field(0.0, description="chance a purchase is detected")
    penalty: int = Field(0, ge=-10_000, le=0, description="points a detected purchase costs")


class Gaming(Strict):
    """Gaming: acts done for the points, not for their own sake (docs/sources.md, Apps, 000: a study
    app's points are visible to employers and schools, which sanction those with too few; a
    youth app adds points for reading leaders' speeches; volunteering and blood donation earn
    points, 003).

    Off while `per_year` is 0. Everyone performs point-earning acts (study-app sessions,
    performative volunteering) at `per_year`, and more under pressure: times `pressed` while
    their grade is one of `pressed_tiers` (too few points), and times 1 + `per_sanction` x w
    for the w refusals and demotions they have suffered (their wariness, counted to
    `deterrence.max_sanctions`). At most `daily_cap` acts a day earn points, as the apps cap
    daily points, and nobody performs one that earns nothing. Each act adds `points`, as a
    record of its own (rule "gaming", origin "gamed", true: the act was done), so the audit
    counts gamed points apart from genuine pro-social events; with `expires_after_days` they
    fade as the app's study points do. `feedback = false` leaves only the base rate.
    """

    per_year: Rate = Field(0.0, description="acts per person-year under no pressure (0: off)")
    points: int = Field(1, ge=1, le=10_000, description="points one act earns")
    daily_cap: int = Field(
        1, ge=1, le=100, description="acts a day that earn points (the apps cap daily points)"
    )
    pressed_tiers: list[Name] = Field(
        default_factory=list,
        description="grades whose holders feel pressed for points (employers and schools "
        "sanction those with too few, 000)",
    )
    pressed: float = Field(
        1.0, ge=0.0, le=100.0, description="rate multiplier in the pressed grades"
    )
    per_sanction: float = Field(
        0.0,
        ge=0.0,
        le=10.0,
        description="the rate rises by this fraction per refusal or demotion suffered",
    )
    expires_after_days: Days | None = Field(
        None, description="gamed points are reversed after this many days (None: never)"
    )


class Behaviour(Strict):
    events: dict[Name, EventType] = Field(
        min_length=1,
        description="what people do, by name: each event type's rate and whether it is an offence",
    )
    deterrence: Deterrence = Field(
        default_factory=Deterrence, description="how being watched and punished lowers offending"
    )
    gray_market: GrayMarket = Field(
        default_factory=GrayMarket, description="points bought online (off by default)"
    )
    gaming: Gaming = Field(
        default_factory=Gaming, description="acts done for the points (off by default)"
    )
    self_censorship: SelfCensorship = Field(
        default_factory=SelfCensorship, description="critical speech held back (off by default)"
    )
    feedback: bool = Field(True, description="False freezes behaviour: no deterrence at all")


class Spillover(Strict):
    household: Probability = Field(0.0, description="fraction of the delta charged to each member")
    friends: Probability = Field(0.0, description="fraction of the delta charged to each friend")
    employer: Probability = Field(
        0.0,
        description="fraction of the delta charged to the rating of the person's employer "
        "(employees' conduct enters the firm's assessment; needs a [companies] section)",
    )
    depth: int = Field(
        1,
        ge=1,
        le=3,
        description="steps the household and friends shares travel: at depth k a relative k "
        "steps away (a friend's friend) is charged the fraction to the power k, once",
    )


class Rule(Strict):
    points: int = Field(
        ge=-10_000,
        le=10_000,
        description="points a record of the event adds to the score (negative: a deduction)",
    )
    expires_after_days: Days | None = Field(
        None, description="the points are reversed after this many days (Wendeng: 1 or 2 years)"
    )
    set_tier: Name | None = Field(None, description="a direct grade, at least this bad")
    lock_days: Days = Field(0, description="how long a direct grade stays fixed")
    enter_list: Name | None = Field(
        None, description="the list a record of the event puts the person on"
    )
    spillover: Spillover = Field(
        default_factory=Spillover,
        description="guilt by association: shares of the points charged to others",
    )

    @model_validator(mode="after")
    def _lock_needs_tier(self) -> Rule:
        if self.lock_days and self.set_tier is None:
            raise ValueError("lock_days needs set_tier")
        return self


class Scale(Strict):
    min: int = Field(ge=-30_000, le=30_000, description="the lowest score")
    max: int = Field(ge=-30_000, le=30_000, description="the highest score")

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"scale.min ({self.min}) must be below scale.max ({self.max})")
        return self


class Tier(Strict):
    min: int = Field(ge=-30_000, le=30_000, description="the grade's lowest score")
    max: int = Field(ge=-30_000, le=30_000, description="the grade's highest score")
    description: str = Field("", description="what holding the grade means, in words")
    burdens: dict[Name, Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)]] = Field(
        default_factory=dict,
        description="burdens the grade's holders suffer, per person-year (tier B: regular "
        "officer visits; C: harassment and searches, 004), counted as events in the ledger",
    )


class ListRule(Strict):
    """A blacklist or redlist: who enters, for how long, and how people leave it.

    Appeals are off by default: the journalist's reading (docs/sources.md, source 001: many are
    listed wrongly and cannot get off). The official reading (wrongful entries revoked within
    3 working days [P]) is a high `appeal_success_wrongly` and an `appeal_mean_days` of about
    4, as the `court-blacklist` built-in sets them.
    """

    kind: Literal["black", "red"] = Field(
        "black", description="black: a list of the restricted; red: a list of the trusted"
    )
    term_days: Days = Field(730, description="listing term; 0 means until the person complies")
    comply_per_year: Rate = Field(
        0.0, description="hazard of complying (paying up) while listed, per person per year"
    )
    comply_on_block: Probability = Field(
        0.0, description="chance a blocked attempt makes a listed person comply"
    )
    publish: bool = Field(False, description="entries are named and shamed (counted)")
    cases_mean: float = Field(
        1.0,
        ge=1.0,
        le=100.0,
        description="listing entries (cases) a listing record brings, on average: a debtor with "
        "several creditors is listed in each case at once (geometric, at least 1)",
    )
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
    enter_tiers: list[Name] = Field(
        default_factory=list,
        description="grades whose holders enter the list when their grade moves into one of them "
        "and leave it when it moves out (a redlist of the trusted, 003; a blacklist of grade D)",
    )
    restriction_kept: Probability = Field(
        0.0,
        description="chance that a person leaving the list stays restricted: the spending "
        "restriction is not always lifted when the listing ends (docs/sources.md [S]); they are "
        "put on `restriction_kept_on`, whose term and services then apply",
    )
    restriction_kept_on: Name | None = Field(
        None, description="the list that holds those whose restriction outlives this listing"
    )


class Service(Strict):
    """A service people ask for every day; restrictions block it, rewards sweeten it."""

    per_year: Rate = Field(description="requests per person per year")
    blocked_lists: list[Name] = Field(
        default_factory=list, description="lists whose members are refused"
    )
    blocked_tiers: list[Name] = Field(
        default_factory=list, description="grades whose holders are refused"
    )
    reward_tiers: list[Name] = Field(
        default_factory=list,
        description="grades whose holders are rewarded when the request is granted",
    )
    retry: Probability = Field(0.0, description="chance a blocked person tries again")
    retry_mean_days: float = Field(
        7.0, ge=1.0, le=3650.0, description="mean days before a refused person tries again"
    )
    evasion: Probability = Field(
        0.0,
        description="chance a listed person's request gets through anyway (booking with another "
        "document, the loophole closed when passports were bound to ID numbers in December "
        "2016); counted as evaded, not blocked",
    )
    give_up: Probability = Field(
        0.0,
        description="chance, for each refusal or demotion a person has suffered (their "
        "wariness), that they no longer ask for this service: a person's new requests are "
        "kept with probability (1 - give_up) ** wariness (people who learn the list blocks "
        "them stop booking); retries of a refusal are not thinned",
    )
    household_lists: list[Name] = Field(
        default_factory=list,
        description="lists whose members' households are refused too (children of the listed "
        "kept out of better and private schools, 000, 001, 002)",
    )
    premium_tiers: list[Name] = Field(
        default_factory=list,
        description="grades granted the service only at a premium (loans dearer, 001, 002), "
        "counted as a burden",
    )
    premium_bp: int = Field(
        0, ge=0, le=100_000, description="the premium, in basis points (1/100 of a percent)"
    )


class RulebookChange(Strict):
    """Overrides of the rulebook from a day (or a date) on, in the rulebook's own shape: a
    rule's points, a new rule, a list's term, a service's blocked lists. Grades, scale and the
    set of lists and services stay as they are for the whole run (people hold grades and list
    flags). A change may also override fields of existing event types (`events`: a caseload
    that grows) and sensors (`sensors`: an agency that starts reporting)."""

    day: Days | None = Field(None, description="the day the change applies, from its start")
    date: dt.date | None = Field(None, description="or the date it applies (needs run.start)")
    rules: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="fields of rules that change on the day, by rule name"
    )
    lists: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="fields of lists that change on the day, by list name"
    )
    services: dict[Name, dict[str, Any]] = Field(
        default_factory=dict,
        description="fields of services that change on the day, by service name",
    )
    events: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="overrides of behaviour.events entries"
    )
    sensors: dict[Name, dict[str, Any]] = Field(
        default_factory=dict, description="overrides of surveillance.sensors entries"
    )

    @model_validator(mode="after")
    def _day_or_date(self) -> RulebookChange:
        if (self.day is None) == (self.date is None):
            raise ValueError("a change needs exactly one of day and date")
        return self

    def day_of(self, start: dt.date | None) -> int | None:
        """The change's day from the run's start; None for a date with no start to count from."""
        if self.date is None:
            return self.day
        return None if start is None else (self.date - start).days


def check_tiling(
    tiers: dict[str, Tier] | dict[str, CompanyGrade], scale: Scale | None, noun: str
) -> None:
    """Grades (`noun`: tier, grade) tile the scale without gap or overlap, listed best first."""
    spans = sorted((t.min, t.max, name) for name, t in tiers.items())
    for lo, hi, name in spans:
        if lo > hi:
            raise ValueError(f"{noun} {name}: min {lo} is above max {hi}")
    for (lo1, hi1, n1), (lo2, _, n2) in itertools.pairwise(spans):
        if lo2 <= hi1:
            raise ValueError(f"{noun}s {n1} ({lo1}..{hi1}) and {n2} overlap at {lo2}")
        if lo2 != hi1 + 1:
            raise ValueError(f"{noun}s {n1} and {n2} leave a gap between {hi1} and {lo2}")
    if scale is not None and (spans[0][0] > scale.min or spans[-1][1] < scale.max):
        raise ValueError(
            f"{noun}s cover {spans[0][0]}..{spans[-1][1]} but the scale is {scale.min}..{scale.max}"
        )
    order = [name for _, _, name in sorted(spans, reverse=True)]
    if order != list(tiers):
        raise ValueError(f"{noun}s must be listed best first: {', '.join(order)}")


class Rulebook(Strict):
    scale: Scale = Field(description="the lowest and the highest score")
    base: int = Field(ge=-30_000, le=30_000, description="everyone's score at the start")
    tiers: dict[Name, Tier] = Field(min_length=1, description="best first")
    rules: dict[Name, Rule] = Field(
        default_factory=dict, description="what a record of each event type does, by event name"
    )
    lists: dict[Name, ListRule] = Field(
        default_factory=dict, max_length=MAX_LISTS, description="blacklists and redlists by name"
    )
    services: dict[Name, Service] = Field(
        default_factory=dict,
        description="what people ask for every day, by name, and whom it refuses or rewards",
    )
    changes: list[RulebookChange] = Field(
        default_factory=list, max_length=64, description="scheduled changes, applied in day order"
    )

    @field_validator("tiers")
    @classmethod
    def _tiers_tile_the_scale(cls, tiers: dict[str, Tier], info: ValidationInfo) -> dict[str, Tier]:
        check_tiling(tiers, info.data.get("scale"), "tier")
        return tiers

    @model_validator(mode="after")
    def _base_on_the_scale(self) -> Rulebook:
        if not self.scale.min <= self.base <= self.scale.max:
            raise ValueError(
                f"base {self.base} lies outside the scale {self.scale.min}..{self.scale.max}"
            )
        return self

    @model_validator(mode="after")
    def _restrictions_kept_on_lists(self) -> Rulebook:
        for name, rule in self.lists.items():
            on = rule.restriction_kept_on
            if on is not None and (on not in self.lists or on == name):
                others = ", ".join(n for n in self.lists if n != name) or "none"
                raise ValueError(
                    f"lists.{name}.restriction_kept_on: {on!r} is not another list of the "
                    f"rulebook; expected one of: {others}"
                )
            if rule.restriction_kept > 0 and on is None:
                raise ValueError(
                    f"lists.{name}.restriction_kept: a kept restriction needs "
                    "restriction_kept_on, the list that holds it"
                )
        return self

    @model_validator(mode="after")
    def _changes_make_valid_rulebooks(self) -> Rulebook:
        if all(change.date is None for change in self.changes):  # else when run.start is known
            self.versions()
        return self

    def change_days(self, start: dt.date | None = None) -> list[int]:
        """The day of each change, in the order given, dates counted from `start`."""
        days = []
        for i, change in enumerate(self.changes):
            day = change.day_of(start)
            if day is None:
                raise ValueError(
                    f"rulebook.changes[{i}].date: a change on a date needs run.start, the date "
                    "of day 0"
                )
            if day < 0:
                raise ValueError(
                    f"rulebook.changes[{i}].date: {change.date} is before run.start ({start})"
                )
            days.append(day)
        return days

    def versions(self, start: dt.date | None = None) -> list[tuple[int, Rulebook]]:
        """The rulebook in force from each change day on, the changes merged in day order (the
        first entry is day 0's own rulebook); one entry per distinct day."""
        raw = self.model_dump(exclude={"changes"}, exclude_none=True)
        versions: list[tuple[int, Rulebook]] = [(0, self.model_copy(update={"changes": []}))]
        days = self.change_days(start)
        order = sorted(range(len(self.changes)), key=lambda i: days[i])
        for i in order:
            change, day = self.changes[i], days[i]
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
                rulebook = Rulebook.model_validate(raw)
            except ValidationError as exc:
                raise ValueError(_located(f"rulebook.changes[{i}]", exc)) from None
            if versions[-1][0] == day:
                versions.pop()
            versions.append((day, rulebook))
        return versions


class CompanyGrade(Strict):
    """A company grade: a range of the rating score (the tax rating's A is 90 and above)."""

    min: int = Field(ge=-30_000, le=30_000, description="the grade's lowest rating")
    max: int = Field(ge=-30_000, le=30_000, description="the grade's highest rating")
    description: str = Field("", description="what holding the grade means, in words")


class CompanyEvent(Strict):
    """Something a company does that its ratings count (tax arrears, a pollution fine, a failed
    product check, a labour violation, a political statement a regulator objects to)."""

    per_year: Rate = Field(description="base rate per company per year")
    detection: Probability = Field(1.0, description="chance an agency records it")
    detection_by_grade: dict[Name, Probability] = Field(
        default_factory=dict,
        description="the chance for a company in this grade instead (low-graded firms face more "
        "and unannounced inspections, 000, 004, so more of what they do is found)",
    )
    points: int = Field(ge=-10_000, le=10_000, description="points on the company's rating score")
    set_grade: Name | None = Field(
        None, description="a direct grade, at least this bad (the tax rating's direct D)"
    )
    lock_days: Days = Field(0, description="how long a direct grade stays fixed")
    description: str = Field("", description="what the event is, in words")

    @model_validator(mode="after")
    def _lock_needs_grade(self) -> CompanyEvent:
        if self.lock_days and self.set_grade is None:
            raise ValueError("lock_days needs set_grade")
        return self


class Measure(Strict):
    """A measure of joint punishment or reward by one agency: the occasions on which it deals
    with a company (a tender, a licence application, a loan, a share issue, an inspection
    round) and the grades it then refuses, charges more, inspects again or excludes, or
    rewards (easier credit, procurement priority, tax incentives)."""

    per_year: Rate = Field(description="occasions per company per year")
    sanctioned_grades: list[Name] = Field(
        default_factory=list, description="grades the agency sanctions on such an occasion"
    )
    reward_grades: list[Name] = Field(
        default_factory=list, description="grades the agency rewards on such an occasion"
    )
    description: str = Field("", description="what the measure is, in words")


class Companies(Strict):
    """Company ratings and joint punishment (the corporate system, docs/sources.md "Companies").

    The companies are the population's employers (`population.employment_rate`,
    `company_mean_size`). Each has a rating score on `scale`, moved by its own recorded events,
    a share of its employees' deductions (`rulebook.rules.*.spillover.employer`) and its
    partners' grades; its grade follows the score every day (`assess_every_days = 1`) or at
    yearly assessments (365, the tax rating), or is set directly and locked by an event.
    Agencies act on grades through `measures`; the legal representative (the company's first
    employee) of a company in a `representative_grades` grade is put on a person list.
    """

    scale: Scale = Field(description="the rating score's range (the tax rating: 0 to 100)")
    base: int = Field(ge=-30_000, le=30_000, description="every company's starting score")
    grades: dict[Name, CompanyGrade] = Field(
        min_length=1, description="best first, tiling the scale"
    )
    assess_every_days: int = Field(
        1,
        ge=1,
        le=3650,
        description="grades follow the score every day (1) or only at assessments every so "
        "many days (365: the yearly tax rating); a direct grade applies at once either way",
    )
    reset_on_assessment: bool = Field(
        False, description="each assessment starts the next period's score from base again"
    )
    events: dict[Name, CompanyEvent] = Field(
        default_factory=dict,
        description="what companies do, by name: rates, detection and the rating points",
    )
    employee_points: dict[Name, Annotated[int, Field(ge=-10_000, le=10_000)]] = Field(
        default_factory=dict,
        description="points charged to the employer's rating for each recorded event of this "
        "type (behaviour.events) of one of its employees, for readings where people have no "
        "points to share (`spillover.employer` shares a fraction of them where they do)",
    )
    measures: dict[Name, Measure] = Field(
        default_factory=dict,
        description="agencies' measures by name: which grades they sanction or reward, and "
        "how often",
    )
    partners: int = Field(
        0,
        ge=0,
        le=16,
        description="suppliers and partners per company, in a procedural circulant graph of "
        "the companies of its region (even)",
    )
    partner_points: dict[Name, int] = Field(
        default_factory=dict,
        description="points each partner of a company in this grade carries (charged when the "
        "company enters the grade, given back when it leaves)",
    )
    representative_grades: list[Name] = Field(
        default_factory=list,
        description="grades whose company's legal representative is restricted personally",
    )
    representative_list: Name | None = Field(
        None, description="the person list (rulebook.lists) such a representative is put on"
    )
    responsible_persons: int = Field(
        1,
        ge=1,
        le=4,
        description="people restricted with such a company: its first employees, the legal "
        "representative first, then its principal, responsible persons and actual controller",
    )

    @field_validator("grades")
    @classmethod
    def _grades_tile_the_scale(
        cls, grades: dict[str, CompanyGrade], info: ValidationInfo
    ) -> dict[str, CompanyGrade]:
        check_tiling(grades, info.data.get("scale"), "grade")
        return grades

    @model_validator(mode="after")
    def _consistent(self) -> Companies:
        if not self.scale.min <= self.base <= self.scale.max:
            raise ValueError(
                f"companies.base: {self.base} lies outside the scale "
                f"{self.scale.min}..{self.scale.max}"
            )
        if self.partners % 2:
            raise ValueError("companies.partners: must be even (partnership is symmetric)")
        if bool(self.representative_grades) != (self.representative_list is not None):
            raise ValueError(
                "companies.representative_list: representative_grades and representative_list "
                "go together"
            )
        used = [
            *((f"events.{n}.set_grade", e.set_grade) for n, e in self.events.items()),
            *(
                (f"events.{n}.detection_by_grade", g)
                for n, e in self.events.items()
                for g in e.detection_by_grade
            ),
            *(
                (f"measures.{n}.sanctioned_grades", g)
                for n, m in self.measures.items()
                for g in m.sanctioned_grades
            ),
            *(
                (f"measures.{n}.reward_grades", g)
                for n, m in self.measures.items()
                for g in m.reward_grades
            ),
            *(("partner_points", g) for g in self.partner_points),
            *(("representative_grades", g) for g in self.representative_grades),
        ]
        for where, grade in used:
            if grade is not None and grade not in self.grades:
                raise ValueError(
                    f"companies.{where}: unknown grade {grade!r}; expected one of: "
                    f"{', '.join(self.grades)}"
                )
        return self


class Run(Strict):
    days: int = Field(365, ge=1, le=MAX_DAYS, description="days simulated")
    start: dt.date | None = Field(
        None,
        description="the calendar date of day 0: changes and calibration targets may then be "
        "given as dates, and the metrics carry a date column",
    )
    seed: int = Field(
        1, ge=0, le=2**63 - 1, description="the seed every random number of the run is drawn from"
    )
    people: Literal["all", "none"] | Annotated[int, Field(ge=1, le=MAX_POPULATION)] = Field(
        "all",
        description="people.parquet: everyone, nobody, or an evenly spaced sample of N people "
        "(a national run has 1.4 billion rows otherwise)",
    )
    report: bool = Field(True, description="write report.html, the run's plots, with the files")


class Series(Strict):
    """A figure counted as its published source counts it, from the run's daily metrics."""

    columns: list[str] = Field(min_length=1, description="metrics columns, summed")
    measure: Literal["cumulative", "stock"] = Field(
        "cumulative",
        description="cumulative: the daily flows summed from day 0 through the day (blocked "
        "purchases, listing entries); stock: the value at the end of the day (people listed now)",
    )
    description: str = Field("", description="what the series counts, in words")


class Target(Strict):
    """A published figure: a series' value at a date (or its increase since an earlier date)."""

    series: Name = Field(description="the series (calibration.series) the figure is set against")
    date: dt.date | None = Field(None, description="end of the period (needs run.start)")
    day: Days | None = Field(None, description="or the day, from the run's start")
    since: dt.date | None = Field(
        None, description="the figure is the series' increase after this date (a year's flow)"
    )
    value: float = Field(gt=0.0, le=1e12, allow_inf_nan=False, description="the published figure")
    per: Name | None = Field(
        None, description="the figure is a share: series / this series (not scaled)"
    )
    tolerance: float = Field(0.25, gt=0.0, le=10.0, description="accepted |model/published - 1|")
    weight: float = Field(1.0, ge=0.0, le=1000.0, description="weight in the calibration loss")
    source: str = Field("", description="where the figure was published")
    note: str = Field("", description="how the figure is read, in words")

    @model_validator(mode="after")
    def _day_or_date(self) -> Target:
        if (self.day is None) == (self.date is None):
            raise ValueError("a target needs exactly one of day and date")
        if self.since is not None and self.date is not None and self.since >= self.date:
            raise ValueError(f"since ({self.since}) must be before date ({self.date})")
        return self


class FreeParameter(Strict):
    """A scenario value the calibration may move (a dotted path, as `--set` takes)."""

    path: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="a dotted scenario path, as overrides take it",
    )
    paths: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=16, description="or several paths set to one value"
    )
    low: float = Field(allow_inf_nan=False, description="the lowest value searched")
    high: float = Field(allow_inf_nan=False, description="the highest value searched")
    log: bool = Field(False, description="search on a log scale (rates)")
    integer: bool = Field(False, description="search whole numbers only")
    note: str = Field("", description="why the value is free, in words")

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if (self.path is None) == (not self.paths):
            raise ValueError("a free parameter needs exactly one of path and paths")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale parameter needs low > 0")
        return self

    @property
    def targets(self) -> list[str]:
        """The dotted paths this parameter sets."""
        return [self.path] if self.path is not None else list(self.paths)

    @property
    def label(self) -> str:
        return self.targets[0] + (f" (+{len(self.targets) - 1})" if len(self.targets) > 1 else "")


class Calibration(Strict):
    """Published figures to compare a run with, and the rates free to fit them."""

    population: int | None = Field(
        None,
        ge=1,
        le=MAX_POPULATION,
        description="the population the published figures count (a run's counts are scaled "
        "from population.size to it); default: population.size",
    )
    series: dict[Name, Series] = Field(
        default_factory=dict, description="figures counted from the daily metrics, by name"
    )
    targets: list[Target] = Field(
        default_factory=list,
        max_length=1000,
        description="published figures, each set against a series",
    )
    free: list[FreeParameter] = Field(
        default_factory=list, max_length=64, description="the scenario values a fit may move"
    )


class Scenario(Strict):
    name: Name = Field(description="the scenario's name, as `scsim run NAME` and run.json give it")
    description: str = Field(
        "", description="the reading of the record the scenario runs, in a sentence"
    )
    sources: list[str] = Field(
        default_factory=list, description="where the scenario's values come from"
    )
    population: Population = Field(description="who lives where, in which classes and households")
    surveillance: Surveillance = Field(
        default_factory=Surveillance, description="what records what people do"
    )
    behaviour: Behaviour = Field(description="what people do, and how the system changes it")
    rulebook: Rulebook = Field(description="points, grades, lists and services")
    run: Run = Field(
        default_factory=Run, description="days, seed, start date and what a run writes"
    )
    calibration: Calibration | None = Field(
        None, description="published figures to set a run beside, and the values free to fit them"
    )
    companies: Companies | None = Field(
        None, description="company ratings and joint punishment; absent: no company is rated"
    )

    @model_validator(mode="after")
    def _dates_need_a_start(self) -> Scenario:
        self.versions()
        if self.calibration is not None:
            _check_calibration(self.calibration, self.run.start)
        return self

    def day_of(self, date: dt.date) -> int:
        """The day number of a calendar date (run.start is day 0)."""
        if self.run.start is None:
            raise ValueError("a date needs run.start, the date of day 0")
        return (date - self.run.start).days

    def versions(self) -> list[tuple[int, Scenario]]:
        """The scenario in force from each day on where anything changes: a rulebook change, a
        change of event rates or sensors, a step of a sensor's adoption; the first is day 0."""
        start = self.run.start
        books = self.rulebook.versions(start)
        change_days = self.rulebook.change_days(start)
        adopting = {n: x.adoption for n, x in self.surveillance.sensors.items() if x.adoption}
        steps = {
            day
            for a in adopting.values()
            for day in range(0, self.run.days, a.step_days)  # type: ignore[union-attr]
        }
        if not (
            len(books) > 1 or steps or any(c.events or c.sensors for c in self.rulebook.changes)
        ):
            return [(0, self)]
        midpoints = {
            n: _day_number(a.midpoint, start, f"surveillance.sensors.{n}.adoption.midpoint")
            for n, a in adopting.items()
        }
        order = sorted(range(len(change_days)), key=lambda i: change_days[i])
        events = self.behaviour.model_dump()["events"]
        sensors = self.surveillance.model_dump()["sensors"]
        applied, versions = 0, []
        for day in sorted({0, *change_days, *steps}):
            while applied < len(order) and change_days[order[applied]] <= day:
                i = order[applied]
                change = self.rulebook.changes[i]
                events = _merged(events, change.events, f"rulebook.changes[{i}].events", EventType)
                sensors = _merged(sensors, change.sensors, f"rulebook.changes[{i}].sensors", Sensor)
                applied += 1
            book = [b for d, b in books if d <= day][-1]
            watchers = {}
            for name, raw in sensors.items():
                sensor = Sensor.model_validate(raw)
                if name in adopting:
                    share = _adopted(adopting[name], midpoints[name], day)  # type: ignore[arg-type]
                    sensor = sensor.model_copy(update={"detection": sensor.detection * share})
                watchers[name] = sensor
            version = self.model_copy(
                update={
                    "rulebook": book,
                    "behaviour": self.behaviour.model_copy(
                        update={
                            "events": {n: EventType.model_validate(e) for n, e in events.items()}
                        }
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
            raise ValueError(_located(f"{where}.{name}", exc)) from None
    return merged


def _located(prefix: str, exc: ValidationError) -> str:
    """The first error of a nested validation, as "prefix.field.path: message", the form the
    error reporter turns into the field path of the one-line message."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{prefix}.{where}: {first['msg'].removeprefix('Value error, ')}"


def _check_calibration(c: Calibration, start: dt.date | None) -> None:
    for i, target in enumerate(c.targets):
        for field in ("series", "per"):
            name = getattr(target, field)
            if name is not None and name not in c.series:
                known = ", ".join(c.series) or "none defined"
                raise ValueError(
                    f"calibration.targets[{i}].{field}: unknown series {name!r}; expected one "
                    f"of: {known}"
                )
        if (target.date is not None or target.since is not None) and start is None:
            raise ValueError(f"calibration.targets[{i}].date: a date needs run.start")
