"""Places compiled: several scoring rulebooks in one plan, one shared grade space.

With places, a plan holds B rulebooks: the national one (book 0: everyone no local rulebook
scores, and a place's people before it starts) and each place's (book 1 + p). Every rule array
of the plan becomes [B * E], indexed by `rule = book * E + event`; its first E entries are the
national rulebook's, so a component that indexes by event alone (lists, companies) reads the
national rules as before. A person's rulebook is a static function of their stratum
(`Plan.stratum_book`, [S], recompiled on a place's start day): zero bytes a person.

Grades: the national grades, then each place's (named "Place/GRADE"), best first inside each
block. A score is placed in the shared space by adding its rulebook's key (`Plan.book_key`):
the blocks' keys are disjoint and descending, so one `searchsorted` over the concatenated
lower bounds gives the global grade index. Scores are clipped to their own rulebook's scale,
so a key never leaves its block.

    >>> plan = with_places(compile_plan(scenario, pop), scenario, pop, day)
    >>> plan.book_of(ids), plan.tier_of(scores, ids)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from scsim.engine.plan import Plan
from scsim.engine.population import Population
from scsim.engine.rng import threshold
from scsim.scenario.schema import LocalRulebook, Rule, Scenario
from scsim.scenario.schema.places import grade_names, rollout_day, rulebook_on, start_day

KEY_SPAN = 1 << 16  # a rulebook's scores span at most 60,001 values (-30,000 .. 30,000)
KEY_BASE = 1 << 15  # makes every key non-negative


def with_places(plan: Plan, s: Scenario, pop: Population, day: int) -> Plan:
    """`plan` (the national rulebook's) with every place's rulebook in force on `day`."""
    books = [rulebook_on(p, day, s.run.start, n) for n, p in s.places.items()]
    n_books = 1 + len(books)
    offsets = np.cumsum([0, len(plan.tiers), *(len(b.tiers) for b in books)])
    key = (n_books - 1 - np.arange(n_books, dtype=np.int64)) * KEY_SPAN + KEY_BASE

    def rules(
        national: np.ndarray, get: Callable[[Rule, int], object], default: object
    ) -> np.ndarray:
        local = [
            [get(b.rules[e], i) if e in b.rules else default for e in plan.events]
            for i, b in enumerate(books)
        ]
        return np.concatenate([national, np.array(local, dtype=national.dtype).ravel()])

    def grade(rule: Rule, i: int) -> int:
        if rule.set_tier is None:
            return -1
        return int(offsets[1 + i]) + list(books[i].tiers).index(rule.set_tier)

    points = rules(plan.points, lambda r, i: r.points, 0)
    set_tier = rules(plan.set_tier, grade, -1)
    enter_list = np.tile(plan.enter_list, n_books)
    punished = ((points < 0) | (set_tier >= 0) | (enter_list >= 0)).reshape(n_books, -1)
    # a record is kept where a rulebook scores it; the national book (people no place scores)
    # keeps a record of every event some rulebook scores, with its own points (0 in `pilots`)
    recorded = ((points != 0) | (set_tier >= 0) | (enter_list >= 0)).reshape(n_books, -1)
    recorded[0] |= recorded.any(axis=0)
    local_min = [
        np.array([t.min for t in b.tiers.values()]) + key[1 + i] for i, b in enumerate(books)
    ]
    return replace(
        plan,
        tiers=grade_names(s),
        tier_min=np.concatenate([plan.tier_min + key[0], *local_min]).astype(np.int64),
        points=points,
        expires=rules(
            plan.expires,
            lambda r, i: -1 if r.expires_after_days is None else r.expires_after_days,
            -1,
        ),
        set_tier=set_tier,
        lock_days=rules(plan.lock_days, lambda r, i: r.lock_days, 0),
        uncorrected_days=rules(plan.uncorrected_days, lambda r, i: r.uncorrected_days, 0),
        tier_lock_days=np.concatenate(
            [plan.tier_lock_days] + [[t.lock_days for t in b.tiers.values()] for b in books]
        ).astype(np.int64),
        enter_list=enter_list,
        spill_household=rules(plan.spill_household, lambda r, i: r.spillover.household, 0.0),
        spill_friends=rules(plan.spill_friends, lambda r, i: r.spillover.friends, 0.0),
        spill_employer=np.tile(plan.spill_employer, n_books),
        spill_depth=rules(plan.spill_depth, lambda r, i: r.spillover.depth, 1),
        deterred=plan.offence & punished.any(axis=0),
        service_blocked_tiers=_service_grades(plan, books, offsets, "refusals"),
        service_reward_tiers=_service_grades(plan, books, offsets, "rewards"),
        stratum_start=pop.stratum_start.copy(),
        stratum_book=_stratum_books(s, pop, day),
        book_scale=np.array(
            [[plan.scale_min, plan.scale_max]] + [[b.scale.min, b.scale.max] for b in books],
            dtype=np.int64,
        ),
        book_key=key,
        recorded=recorded.ravel(),
        book_consent=_consent_thresholds(books),
    )


def _consent_thresholds(books: list[LocalRulebook]) -> np.ndarray | None:
    """Each rulebook's consent threshold (the national one and a place that asks nobody: all
    consent), or None when no rulebook in force asks for consent."""
    shares = [1.0] + [1.0 if b.consent_share is None else b.consent_share for b in books]
    if all(b.consent_share is None for b in books):
        return None
    return threshold(np.array(shares))


def _service_grades(
    plan: Plan, books: list[LocalRulebook], offsets: np.ndarray, table: str
) -> np.ndarray:
    """A national service's grade mask [V, T] over the shared grades: the national rulebook's
    own, then each place's refusals or rewards by its grades."""
    national = plan.service_blocked_tiers if table == "refusals" else plan.service_reward_tiers
    mask = np.zeros((len(plan.services), int(offsets[-1])), dtype=bool)
    mask[:, : national.shape[1]] = national
    for i, book in enumerate(books):
        for service, grades in getattr(book, table).items():
            v = plan.services.index(service)
            for grade in grades:
                mask[v, offsets[1 + i] + list(book.tiers).index(grade)] = True
    return mask


def _stratum_books(s: Scenario, pop: Population, day: int) -> np.ndarray:
    """The rulebook in force in each stratum on `day`: its place's once started, else 0."""
    book_of_region = np.zeros(len(pop.region_names), dtype=np.int64)
    for i, (name, place) in enumerate(s.places.items()):
        if start_day(place, s.run.start, name) <= day:
            book_of_region[pop.region_names.index(name)] = 1 + i
    return book_of_region[pop.stratum_region]


def starts(s: Scenario, pop: Population) -> list[tuple[int, int, int, int]]:
    """Each place's start: (day, book, first id, end id), in the order of the places."""
    out = []
    for i, (name, place) in enumerate(s.places.items()):
        r = pop.region_names.index(name)
        day = start_day(place, s.run.start, name)
        out.append((day, 1 + i, int(pop.region_start[r]), int(pop.region_start[r + 1])))
    return out


def base_grades(s: Scenario, plan: Plan) -> np.ndarray:
    """Each rulebook's base score and its grade in the shared space: int64 [B, 2]."""
    assert plan.book_key is not None
    bases = np.array([s.rulebook.base] + [p.rulebook.base for p in s.places.values()])
    grades = plan.tier_of(bases + plan.book_key)  # keys: without ids, tier_of searches them
    return np.stack([bases, grades.astype(np.int64)], axis=1)


def with_rollout(plan: Plan, s: Scenario, pop: Population, day: int) -> Plan:
    """`plan` with the regions that have joined the national rulebook by `day` (`rollout`):
    a record of someone elsewhere reaches no score (`score` drops it before its points)."""
    joined = np.array([rollout_day(s, name) <= day for name in pop.region_names], dtype=bool)
    return replace(
        plan, stratum_start=pop.stratum_start.copy(), stratum_scored=joined[pop.stratum_region]
    )
