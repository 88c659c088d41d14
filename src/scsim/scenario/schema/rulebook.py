"""The rulebook section: rules, the scale and its tiers, lists, services and dated changes."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from scsim.scenario.schema import schedule
from scsim.scenario.schema.fields import MAX_LISTS, Date, Days, Name, Probability, Rate, Strict

if TYPE_CHECKING:
    from scsim.scenario.schema.corporate import CompanyGrade


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
    uncorrected_days: Days = Field(
        0,
        description="how long after a record of the event the offence stays uncorrected: "
        "points earned meanwhile are recorded but cannot raise the grade (Wendeng [P]; how "
        "long correcting an offence takes is not published: [U]); 0: no such hold",
    )
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
    lock_days: Days = Field(
        0,
        description="how long a person whose points bring them down into this grade keeps it, "
        "whatever their points do meanwhile (004: B and C fixed for 2 years, D for 5); 0: the "
        "grade follows the points, and only a rule's set_tier locks",
    )


class DeductionWindow(Strict):
    """How long a deduction of a given size counts (Wendeng [P]: 40 points or fewer, 1 year;
    more, 2 years)."""

    up_to: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="the largest deduction (in points, without its sign) this window applies "
        "to; absent: any larger one",
    )
    days: Days = Field(description="days after which a deduction of this size is reversed")


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
    # The reforms after 2019 (docs/validation.md, "After 2018"), each off by default and
    # switched on from its date by a dated change of the rulebook (`rulebook.changes`).
    credit_repair_per_year: Rate = Field(
        0.0,
        description="credit repair: hazard, per listed person-year, that a listed person who has "
        "corrected the conduct applies and is removed before the term ends (State Council "
        "guidance 2020; SPC 2021), except in especially serious cases (`serious_share`)",
    )
    serious_share: Probability = Field(
        0.0,
        description="share of the list's debtors whose case is especially serious: they get no "
        "credit repair, and they alone are refused by services that grade punishments "
        "(`services.<v>.serious_only`); a trait of the person, drawn once",
    )
    unable_share: Probability = Field(
        0.0,
        description="share of the list's debtors who are unable to perform (no property found "
        "to enforce against), not unwilling; a trait of the person, drawn once [U]",
    )
    spare_unable: bool = Field(
        False,
        description="the unable (`unable_share`) are not listed, and those on the list are "
        "removed (SPC opinion of January 2020; the separation of 2024)",
    )
    exempt_share: Probability = Field(
        0.0,
        description="share of listing records the list no longer reaches (a company's legal "
        "representative for the company's debt, students in campus-loan disputes: SPC opinion "
        "Fa Fa [2019] No. 35, January 2020): they list nobody",
    )
    grace_performs: Probability = Field(
        0.0,
        description="grace before listing: chance that a debtor given a period of grace "
        "performs within it and is not listed (SPC 2020, 2025)",
    )
    order_share: Probability = Field(
        0.0,
        description="this list holds consumption-restriction orders: chance that a court "
        "restricts the debtor of an unperformed enforcement case (a true event of "
        "`order_events`), whether or not the debtor is put on a dishonest list (SPC "
        "provisions on restricting high consumption, 2010, revised 2015)",
    )
    order_events: list[Name] = Field(
        default_factory=list,
        description="the events (unperformed cases, by listing ground) that bring "
        "consumption-restriction orders onto this list",
    )

    @model_validator(mode="after")
    def _orders_need_events(self) -> ListRule:
        if self.order_share > 0 and not self.order_events:
            raise ValueError(
                "order_share: consumption-restriction orders need order_events, the events "
                "(unperformed cases) that bring them"
            )
        return self

    publish_consequences: dict[Name, Probability] = Field(
        default_factory=dict,
        description="what being named costs beyond the list, each with its chance per person "
        "named (names published online and on public screens, 004; a state employee's "
        "employer is told [P]): e.g. employer_told, friends_keep_away, job_lost, each [U] "
        "unless sourced; counted as burdens (sanctions felt), wrongful where the listing was; "
        "needs publish = true",
    )

    @model_validator(mode="after")
    def _consequences_need_publishing(self) -> ListRule:
        if self.publish_consequences and not self.publish:
            raise ValueError("publish_consequences needs publish = true: nobody is named")
        return self


class GradeAppeals(Strict):
    """Appeals against a locked grade (set by a rule or an official, or locked on being reached
    by points), as lists have theirs: who appeals (a chance for the rightly and one for the
    wrongly graded), when it is decided, and whether it succeeds; a success releases the lock
    and the grade follows the score again. Every value [U]: no source gives the chances or the
    delays."""

    share_rightly: Probability = Field(
        0.0, description="chance a person graded on true records appeals"
    )
    share_wrongly: Probability = Field(
        0.0, description="chance a person graded on a false record or a wrong appeals"
    )
    mean_days: float = Field(
        60.0, ge=1.0, le=3650.0, description="mean days from the grade to the decision"
    )
    success_rightly: Probability = Field(
        0.0, description="chance an appeal of the rightly graded succeeds"
    )
    success_wrongly: Probability = Field(
        0.0, description="chance an appeal of the wrongly graded succeeds (lock released)"
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
    reward_lists: list[Name] = Field(
        default_factory=list,
        description="lists whose members are rewarded when the request is granted: a redlist's "
        "green channel (003: the trusted get green-channel benefits; Rongcheng's green channels "
        "for the trustworthy [P]), counted as a reward like a rewarded grade's",
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
    reaches_children: bool = Field(
        False,
        description="a refusal reaches the children of the refused person's household "
        "(children kept out of better and private schools, 000, 001, 002): they are counted "
        "(`<service>_children_reached`); none where no region has a children_share",
    )
    lifted: Probability = Field(
        0.0,
        description="chance that this single measure has been lifted for a listed person, who "
        "is then granted the service while the other measures stay (SPC, March 2025); a trait "
        "of the person, counted as `<service>_lifted`",
    )
    serious_only: bool = Field(
        False,
        description="graded punishment (SPC, March 2025): the measure refuses only the "
        "especially serious cases of the lists that block it (their `serious_share`); the "
        "others are granted, counted as `<service>_spared_graded`",
    )


class Dated(Strict):
    """A change that applies from a day, or from a date (counted from run.start)."""

    day: Days | None = Field(None, description="the day the change applies, from the run's start")
    date: Date | None = Field(None, description="or the date it applies (needs run.start)")

    @model_validator(mode="after")
    def _day_or_date(self) -> Dated:
        if (self.day is None) == (self.date is None):
            raise ValueError("a change needs exactly one of day and date")
        return self

    def day_of(self, start: dt.date | None) -> int | None:
        """The change's day from the run's start; None for a date with no start to count from."""
        if self.date is None:
            return self.day
        return None if start is None else (self.date - start).days


class RulebookChange(Dated):
    """Overrides of the rulebook from a day (or a date) on, in the rulebook's own shape: a
    rule's points, a new rule, a list's term, a service's blocked lists. Grades, scale and the
    set of lists and services stay as they are for the whole run (people hold grades and list
    flags). A change may also override fields of existing event types (`events`: a caseload
    that grows) and sensors (`sensors`: an agency that starts reporting)."""

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


def check_base(base: int, scale: Scale) -> None:
    """Everyone starts on the scale: a base outside it is refused."""
    if not scale.min <= base <= scale.max:
        raise ValueError(f"base {base} lies outside the scale {scale.min}..{scale.max}")


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
    deduction_windows: list[DeductionWindow] = Field(
        default_factory=list,
        max_length=8,
        description="how long a deduction counts by its size, smallest first, for every rule "
        "without its own expires_after_days, and for the deductions that guilt by association "
        "charges, each by its own size (Wendeng [P]: up to 40 points 1 year, more 2 years); "
        "empty: deductions count forever unless their rule says otherwise",
    )
    adults_only: bool = Field(
        False,
        description="only adults are scored (Rongcheng: adults resident a year or more [P]): "
        "records of children (population.regions.<r>.children_share) are kept out of the "
        "score, counted as `records_of_children_unscored`",
    )
    grade_appeals: GradeAppeals | None = Field(
        None,
        description="appeals against a locked grade, with their own chances and delays (off "
        "without it: no appeal against a grade)",
    )

    @field_validator("deduction_windows")
    @classmethod
    def _windows_by_size(cls, windows: list[DeductionWindow]) -> list[DeductionWindow]:
        sizes = [w.up_to for w in windows]
        bounded = [size for size in sizes if size is not None]
        if None in sizes[:-1] or bounded != sorted(set(bounded)):
            raise ValueError(
                "deduction_windows: expected windows smallest first (strictly increasing up_to), "
                "only the last one without up_to"
            )
        return windows

    @field_validator("tiers")
    @classmethod
    def _tiers_tile_the_scale(cls, tiers: dict[str, Tier], info: ValidationInfo) -> dict[str, Tier]:
        check_tiling(tiers, info.data.get("scale"), "tier")
        return tiers

    @model_validator(mode="after")
    def _base_on_the_scale(self) -> Rulebook:
        check_base(self.base, self.scale)
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
        return schedule.change_days(self, start)

    def versions(self, start: dt.date | None = None) -> list[tuple[int, Rulebook]]:
        """The rulebook in force from each change day on, the changes merged in day order (the
        first entry is day 0's own rulebook); one entry per distinct day."""
        return schedule.rulebook_versions(self, start)
