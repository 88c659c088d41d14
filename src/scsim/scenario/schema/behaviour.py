"""The behaviour section: what people do, and how surveillance and sanctions change it."""

from __future__ import annotations

from pydantic import Field

from scsim.scenario.schema.fields import Days, Name, Probability, Rate, Strict


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
