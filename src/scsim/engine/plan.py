"""A validated scenario compiled to the arrays the daily pipeline indexes.

Names become indices here, once: event e, sensor k, tier t (0 is the best), list l, service v.
The engine reads only this plan and the population; it never looks at the scenario again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from scsim.engine.backend import array_module
from scsim.engine.population import Population
from scsim.engine.rng import MASK, accept, stream_id
from scsim.engine.state import list_mask
from scsim.scenario.schema import Rule, Rulebook, Scenario, Sensor

DAYS_PER_YEAR = 365.0
NO_LIMIT = 2**62  # a deduction window without `up_to`: any size
CONSENT_STREAM = "consent"  # who consents to a place's score: one draw per person id


@dataclass(frozen=True)
class Plan:
    days: int
    seed: int
    events: tuple[str, ...]
    sensors: tuple[str, ...]
    tiers: tuple[str, ...]
    lists: tuple[str, ...]
    services: tuple[str, ...]
    # behaviour
    daily_rate: np.ndarray  # float64 [S, E]: base rate per person-day in each stratum
    offence: np.ndarray  # bool [E]: an offence, as behaviour declares it
    deterred: np.ndarray  # bool [E]: an offence the rulebook punishes, so deterrence applies
    detect_chance: np.ndarray  # float64 [S, E]: chance some sensor records the event
    deter_surveillance: float
    deter_per_sanction: float
    deter_max: int
    feedback: bool
    # observation
    sensor_events: np.ndarray  # bool [K, E]
    sensor_coverage: np.ndarray  # float64 [K, S]
    sensor_detection: np.ndarray  # float64 [K]
    sensor_misattribution: np.ndarray  # float64 [K]
    sensor_false_daily: np.ndarray  # float64 [K]: false records per covered person-day
    sensor_delay: np.ndarray  # int64 [K]: days from detection to the record taking effect
    # rulebook
    base: int
    scale_min: int
    scale_max: int
    tier_min: np.ndarray  # int64 [T], best first
    points: np.ndarray  # int64 [E]
    expires: np.ndarray  # int64 [E], -1 for never
    set_tier: np.ndarray  # int64 [E], -1 for none
    lock_days: np.ndarray  # int64 [E]
    enter_list: np.ndarray  # int64 [E], -1 for none
    spill_household: np.ndarray  # float64 [E]
    spill_friends: np.ndarray  # float64 [E]
    spill_employer: np.ndarray  # float64 [E]: share charged to the employer's rating
    spill_depth: np.ndarray  # int64 [E]: steps the household and friends shares travel
    list_term: np.ndarray  # int64 [L], 0 for until compliance
    list_comply_daily: np.ndarray  # float64 [L]
    list_comply_on_block: np.ndarray  # float64 [L]
    list_publish: np.ndarray  # bool [L]
    list_cases_mean: np.ndarray  # float64 [L]: cases per listing record
    list_appeal: np.ndarray  # float64 [L, 2]: chance of appealing, [rightly, wrongly] listed
    list_appeal_mean: np.ndarray  # float64 [L]: mean days to the decision
    list_appeal_win: np.ndarray  # float64 [L, 2]: chance an appeal succeeds, [rightly, wrongly]
    list_kept: np.ndarray  # float64 [L]: chance a leaver stays restricted (`restriction_kept`)
    list_kept_on: np.ndarray  # int64 [L]: the list that then holds them, -1 for none
    service_daily: np.ndarray  # float64 [V]
    service_blocked_lists: np.ndarray  # uint8 [V]: bit mask over lists
    service_blocked_tiers: np.ndarray  # bool [V, T]
    service_reward_tiers: np.ndarray  # bool [V, T]
    service_retry: np.ndarray  # float64 [V]
    service_retry_mean: np.ndarray  # float64 [V]
    service_evasion: np.ndarray  # float64 [V]: chance a listed person's request gets through
    service_give_up: np.ndarray  # float64 [V]: chance per refusal suffered of no longer asking
    service_beyond_lists: np.ndarray  # bool [V]: household lists or premiums act on everyone
    service_reward_lists: np.ndarray  # uint8 [V]: bit mask over the lists whose members it rewards
    # the grade regime beyond direct grades (Wendeng, 004)
    tier_lock_days: np.ndarray  # int64 [T]: a grade reached by points is fixed this long
    uncorrected_days: np.ndarray  # int64 [E]: a record holds the grade from rising this long
    window_up_to: np.ndarray  # int64 [W]: deduction windows by size, their largest deduction
    window_days: np.ndarray  # int64 [W]: ... and how long a deduction of that size counts
    # the reforms after 2019 and consumption-restriction orders (`components.reforms`,
    # `components.orders`): all zero, False or empty while a scenario leaves them off
    list_repair_daily: np.ndarray  # float64 [L]: credit repair hazard per listed person-day
    list_serious: np.ndarray  # float64 [L]: share of especially serious cases
    list_unable: np.ndarray  # float64 [L]: share of debtors unable to perform
    list_spare_unable: np.ndarray  # bool [L]: the unable are not listed, or are removed
    list_exempt: np.ndarray  # float64 [L]: share of listing records the list no longer reaches
    list_grace: np.ndarray  # float64 [L]: chance a debtor performs within the grace period
    list_order_share: np.ndarray  # float64 [L]: chance an unperformed case brings an order
    list_order_events: np.ndarray  # bool [L, E]: the events whose cases bring orders
    service_lifted: np.ndarray  # float64 [V]: chance the single measure is lifted for a person
    service_serious_only: np.ndarray  # bool [V]: refuses only the especially serious
    # places (`scsim.engine.places`): None without them. With B rulebooks (the national one
    # first, then each place's), the rule arrays above (points ... spill_depth, enter_list) are
    # [B * E], indexed by rule = book * E + event, tier_min holds place-offset keys, and:
    stratum_start: np.ndarray | None = None  # int64 [S + 1]: to find a person's stratum
    stratum_book: np.ndarray | None = None  # int64 [S]: the rulebook in force in each stratum
    book_scale: np.ndarray | None = None  # int64 [B, 2]: each rulebook's lowest, highest score
    book_key: np.ndarray | None = None  # int64 [B]: added to a score for the shared grade search
    recorded: np.ndarray | None = None  # bool [B * E]: the rule writes a record (delta 0 or not)
    # rollout (`scsim.engine.places.with_rollout`): None while every region is scored
    stratum_scored: np.ndarray | None = None  # bool [S]: the stratum's region has joined
    # consent (`scsim.engine.places`): None while no place in force asks for it
    book_consent: np.ndarray | None = None  # uint64 [B]: consent threshold (2**32: not asked)

    def window_of(self, delta: np.ndarray) -> np.ndarray:
        """The days a deduction of each size counts by the rulebook's windows (-1: forever, and
        for an addition)."""
        xp = array_module(delta)
        at = xp.searchsorted(self.window_up_to, -delta, side="left")  # first with up_to >= size
        days = xp.concatenate([self.window_days, xp.full(1, -1, dtype=np.int64)])
        return xp.where(delta < 0, days[at], -1)

    def tier_of(self, score: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        """Tier index (0 best) from score, by the tiers' lower bounds; with places, of the
        people `ids` in the shared grade space (each score offset by its rulebook's key)."""
        if self.book_key is None or ids is None:
            return grade_of(self.tier_min, score)
        assert self.book_scale is not None
        xp, book = array_module(ids), self.book_of(ids)
        low, high = self.book_scale[book, 0], self.book_scale[book, 1]
        # clipped to its own scale (a score less its false points may pass the top), so that a
        # key never leaves its rulebook's block
        key = xp.minimum(xp.maximum(score.astype(np.int64), low), high) + self.book_key[book]
        return grade_of(self.tier_min, key)

    def scored(self, ids: np.ndarray) -> np.ndarray:
        """Whether each person's region has joined the national rulebook (`rollout`)."""
        assert self.stratum_start is not None and self.stratum_scored is not None
        xp = array_module(ids)
        return self.stratum_scored[xp.searchsorted(self.stratum_start, ids, side="right") - 1]

    def book_of(self, ids: np.ndarray) -> np.ndarray:
        """The rulebook in force for each person (0, the national one, without places); a
        person who has not consented to a place's score that asks for consent is scored by
        the national rulebook alone, as if they lived in no place."""
        book = self.place_book(ids)
        if self.book_consent is None:
            return book
        return array_module(ids).where(self._consents(ids, book), book, 0)

    def place_book(self, ids: np.ndarray) -> np.ndarray:
        """The rulebook of each person's place, consent aside."""
        assert self.stratum_start is not None and self.stratum_book is not None
        xp = array_module(ids)
        return self.stratum_book[xp.searchsorted(self.stratum_start, ids, side="right") - 1]

    def unscored(self, ids: np.ndarray) -> np.ndarray:
        """Whether each person lives where scoring needs consent and has not given it."""
        if self.book_consent is None:
            return array_module(ids).zeros(len(ids), dtype=bool)
        return ~self._consents(ids, self.place_book(ids))

    def _consents(self, ids: np.ndarray, book: np.ndarray) -> np.ndarray:
        """A person consents when their id's draw falls below their book's threshold: the draw
        is fixed per person, so a larger share keeps every earlier consenter."""
        assert self.book_consent is not None
        key = (stream_id(CONSENT_STREAM) ^ self.seed) & MASK  # a stream of its own, by id
        return accept(key, ids, self.book_consent[book])


def grade_of(lower_bounds: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Grade index (0 best) from score, by the grades' lower bounds (best first)."""
    xp, grades = array_module(lower_bounds), len(lower_bounds)
    reached = xp.searchsorted(lower_bounds[::-1], score, side="right")  # bounds <= score
    return xp.minimum(grades - reached, grades - 1).astype(np.uint8)  # none reached: the worst


def compile_plan(
    s: Scenario, pop: Population, rulebook: Rulebook | None = None, day: int = 0
) -> Plan:
    """The plan of scenario `s` under `rulebook` (by default the rulebook of day 0; see
    `Rulebook.versions` for the ones its scheduled changes make), with the places' rulebooks
    in force on `day`."""
    plan = _national_plan(s, pop, rulebook)
    if not (s.places or s.rollout):
        return plan
    from scsim.engine.places import with_places, with_rollout  # they read this module's Plan

    plan = with_places(plan, s, pop, day) if s.places else plan
    return with_rollout(plan, s, pop, day) if s.rollout else plan


def _national_plan(s: Scenario, pop: Population, rulebook: Rulebook | None) -> Plan:
    book = s.rulebook if rulebook is None else rulebook
    events = tuple(s.behaviour.events)
    sensors = tuple(s.surveillance.sensors)
    tiers, lists, services = (tuple(book.tiers), tuple(book.lists), tuple(book.services))
    rules = book.rules
    points = np.array([rules[e].points if e in rules else 0 for e in events], dtype=np.int64)
    offence = np.array([s.behaviour.events[e].offence for e in events], dtype=bool)
    punished = (points < 0) | np.array(
        [
            e in rules and (rules[e].set_tier is not None or rules[e].enter_list is not None)
            for e in events
        ],
        dtype=bool,
    )
    coverage = np.array([_coverage(x, pop) for x in s.surveillance.sensors.values()]).reshape(
        len(sensors), pop.n_strata
    )
    sensor_events = np.array(
        [[e in x.events for e in events] for x in s.surveillance.sensors.values()], dtype=bool
    ).reshape(len(sensors), len(events))
    detection = np.array([x.detection for x in s.surveillance.sensors.values()], dtype=np.float64)
    miss = np.ones((pop.n_strata, len(events)))
    for k in range(len(sensors)):
        miss *= 1.0 - np.outer(coverage[k] * detection[k], sensor_events[k])
    return Plan(
        days=s.run.days,
        seed=s.run.seed,
        events=events,
        sensors=sensors,
        tiers=tiers,
        lists=lists,
        services=services,
        daily_rate=_daily_rates(s, pop, events, offence),
        offence=offence,
        deterred=offence & punished,
        detect_chance=1.0 - miss,
        deter_surveillance=s.behaviour.deterrence.surveillance,
        deter_per_sanction=s.behaviour.deterrence.per_sanction,
        deter_max=s.behaviour.deterrence.max_sanctions,
        feedback=s.behaviour.feedback,
        sensor_events=sensor_events,
        sensor_coverage=coverage,
        sensor_detection=detection,
        sensor_misattribution=np.array([x.misattribution for x in s.surveillance.sensors.values()]),
        sensor_false_daily=np.array(
            [x.false_records_per_year / DAYS_PER_YEAR for x in s.surveillance.sensors.values()]
        ),
        sensor_delay=np.array(
            [x.delay_days for x in s.surveillance.sensors.values()], dtype=np.int64
        ),
        base=book.base,
        scale_min=book.scale.min,
        scale_max=book.scale.max,
        tier_min=np.array([t.min for t in book.tiers.values()], dtype=np.int64),
        points=points,
        expires=_per_event(
            events,
            rules,
            lambda r: -1 if r.expires_after_days is None else r.expires_after_days,
            -1,
        ),
        set_tier=_per_event(
            events, rules, lambda r: -1 if r.set_tier is None else tiers.index(r.set_tier), -1
        ),
        lock_days=_per_event(events, rules, lambda r: r.lock_days, 0),
        enter_list=_per_event(
            events, rules, lambda r: -1 if r.enter_list is None else lists.index(r.enter_list), -1
        ),
        spill_household=_per_event(events, rules, lambda r: r.spillover.household, 0.0, np.float64),
        spill_friends=_per_event(events, rules, lambda r: r.spillover.friends, 0.0, np.float64),
        spill_employer=_per_event(events, rules, lambda r: r.spillover.employer, 0.0, np.float64),
        spill_depth=_per_event(events, rules, lambda r: r.spillover.depth, 1),
        list_term=np.array([x.term_days for x in book.lists.values()], dtype=np.int64),
        list_comply_daily=np.array(
            [x.comply_per_year / DAYS_PER_YEAR for x in book.lists.values()]
        ),
        list_comply_on_block=np.array([x.comply_on_block for x in book.lists.values()]),
        list_publish=np.array([x.publish for x in book.lists.values()], dtype=bool),
        list_cases_mean=np.array([x.cases_mean for x in book.lists.values()]),
        list_appeal=np.array(
            [[x.appeal_share_rightly, x.appeal_share_wrongly] for x in book.lists.values()]
        ).reshape(len(lists), 2),
        list_appeal_mean=np.array([x.appeal_mean_days for x in book.lists.values()]),
        list_appeal_win=np.array(
            [[x.appeal_success_rightly, x.appeal_success_wrongly] for x in book.lists.values()]
        ).reshape(len(lists), 2),
        list_kept=np.array([x.restriction_kept for x in book.lists.values()]),
        list_kept_on=np.array(
            [
                -1 if x.restriction_kept_on is None else lists.index(x.restriction_kept_on)
                for x in book.lists.values()
            ],
            dtype=np.int64,
        ),
        service_daily=np.array([x.per_year / DAYS_PER_YEAR for x in book.services.values()]),
        service_blocked_lists=np.array(
            [list_mask(lists.index(n) for n in x.blocked_lists) for x in book.services.values()],
            dtype=np.uint8,
        ),
        service_blocked_tiers=_tier_mask(tiers, [x.blocked_tiers for x in book.services.values()]),
        service_reward_tiers=_tier_mask(tiers, [x.reward_tiers for x in book.services.values()]),
        service_retry=np.array([x.retry for x in book.services.values()]),
        service_retry_mean=np.array([x.retry_mean_days for x in book.services.values()]),
        service_evasion=np.array([x.evasion for x in book.services.values()]),
        service_give_up=np.array([x.give_up for x in book.services.values()]),
        service_beyond_lists=np.array(
            [bool(x.household_lists or x.premium_tiers) for x in book.services.values()], dtype=bool
        ),
        service_reward_lists=np.array(
            [list_mask(lists.index(n) for n in x.reward_lists) for x in book.services.values()],
            dtype=np.uint8,
        ),
        tier_lock_days=np.array([t.lock_days for t in book.tiers.values()], dtype=np.int64),
        uncorrected_days=_per_event(events, rules, lambda r: r.uncorrected_days, 0),
        window_up_to=np.array(
            [NO_LIMIT if w.up_to is None else w.up_to for w in book.deduction_windows],
            dtype=np.int64,
        ),
        window_days=np.array([w.days for w in book.deduction_windows], dtype=np.int64),
        **_reforms(book, events),
    )


def _reforms(book: Rulebook, events: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The reforms' and restriction orders' arrays (`Plan.list_repair_daily` and after)."""
    lists, services = book.lists.values(), book.services.values()
    return {
        "list_repair_daily": np.array([x.credit_repair_per_year / DAYS_PER_YEAR for x in lists]),
        "list_serious": np.array([x.serious_share for x in lists], dtype=np.float64),
        "list_unable": np.array([x.unable_share for x in lists], dtype=np.float64),
        "list_spare_unable": np.array([x.spare_unable for x in lists], dtype=bool),
        "list_exempt": np.array([x.exempt_share for x in lists], dtype=np.float64),
        "list_grace": np.array([x.grace_performs for x in lists], dtype=np.float64),
        "list_order_share": np.array([x.order_share for x in lists], dtype=np.float64),
        "list_order_events": np.array(
            [[e in x.order_events for e in events] for x in lists], dtype=bool
        ).reshape(len(book.lists), len(events)),
        "service_lifted": np.array([x.lifted for x in services], dtype=np.float64),
        "service_serious_only": np.array([x.serious_only for x in services], dtype=bool),
    }


def _coverage(sensor: Sensor, pop: Population) -> np.ndarray:
    """A sensor's coverage per stratum: urban or rural, times its region's factor, at most 1."""
    area = np.where(pop.stratum_urban, sensor.coverage_urban, sensor.coverage_rural)
    parent = pop.region_parent or pop.region_names  # a city is covered as its region unless named
    by_region = sensor.coverage_by_region
    factor = np.array(
        [
            by_region.get(r, by_region.get(p, 1.0))
            for r, p in zip(pop.region_names, parent, strict=True)
        ]
    )
    return np.minimum(area * factor[pop.stratum_region], 1.0)


def _daily_rates(
    s: Scenario, pop: Population, events: tuple[str, ...], offence: np.ndarray
) -> np.ndarray:
    classes = list(s.population.classes.values())
    class_names = list(s.population.classes)
    rate = np.zeros((pop.n_strata, len(events)))
    for e, name in enumerate(events):
        spec = s.behaviour.events[name]
        for c, klass in enumerate(classes):
            default = klass.offending if offence[e] else 1.0
            multiplier = spec.by_class.get(class_names[c], default)
            rate[pop.stratum_class == c, e] = spec.per_year * multiplier / DAYS_PER_YEAR
    return rate


def _per_event(
    events: tuple[str, ...],
    rules: Mapping[str, Rule],
    get: Callable[[Rule], float],
    default: float,
    dtype: type[np.generic] = np.int64,
) -> np.ndarray:
    return np.array([get(rules[e]) if e in rules else default for e in events], dtype=dtype)


def _tier_mask(tiers: tuple[str, ...], per_service: list[list[str]]) -> np.ndarray:
    mask = np.zeros((len(per_service), len(tiers)), dtype=bool)
    for v, names in enumerate(per_service):
        for name in names:
            mask[v, tiers.index(name)] = True
    return mask
