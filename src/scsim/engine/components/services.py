"""What services do beyond refusing and rewarding (docs/sources.md, Consequences and Lists):

- Restrictions reach the household: a service may refuse every member of a listed person's
  household (`household_lists`: children of the listed kept out of better and private schools,
  000, 001, 002). Such a refusal has origin "household"; it is wrongful when every household
  member whose listing refuses it was listed on false records.
- A premium instead of a refusal: a grade may be granted a service only at a premium
  (`premium_tiers`, `premium_bp`: loans refused or dearer, 001, 002). Each premium is a burden
  row (rule the service, delta the premium in basis points, origin "tier"), wrongful when the
  grade without false records would not pay it.
- Lists entered by grade: a list with `enter_tiers` takes people in when their grade moves
  into one of those grades and lets them go when it moves out (a redlist of the trusted, 003;
  origins "grade" and "grade_left"), wrongful when the grade without false records would not.

    >>> rules = ServiceRules.of(scenario, xp)          # None while none of these is used
    >>> by_household, wrongful, list_code = household_refusals(ctx, person, service)  # sanction
    >>> charge_premiums(ctx, day, person, service, tier, granted)           # in sanction
    >>> rules.follow_grades(ctx, day, who, tier)                            # in regrade
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import lookup, to_host
from scsim.engine.components.grades import fair_tier
from scsim.engine.components.listing import NEVER, remove
from scsim.engine.ledger import ORIGIN
from scsim.engine.state import list_bit, list_mask
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


class ServiceRules:
    """The three rules compiled for a run, and the day's counts of what they did."""

    def __init__(self, s: Scenario, xp: ModuleType) -> None:
        book = s.rulebook
        lists, tiers, services = list(book.lists), list(book.tiers), list(book.services)
        self.xp = xp
        self.lists, self.services = tuple(lists), tuple(services)
        household = [
            list_mask(lists.index(n) for n in v.household_lists) for v in book.services.values()
        ]
        self.household = xp.asarray(household, dtype=np.uint8)  # [V]: bit mask over lists
        self.any_household = any(household)
        premium = [[t in v.premium_tiers for t in tiers] for v in book.services.values()]
        self.premium = xp.asarray(np.array(premium, dtype=bool).reshape(len(services), len(tiers)))
        self.premium_bp = xp.asarray([v.premium_bp for v in book.services.values()], dtype=np.int64)
        self.any_premium = any(v.premium_tiers for v in book.services.values())
        enter = [[t in x.enter_tiers for t in tiers] for x in book.lists.values()]
        self.enter = xp.asarray(np.array(enter, dtype=bool).reshape(len(lists), len(tiers)))
        self.graded = [i for i, x in enumerate(book.lists.values()) if x.enter_tiers]
        self.term = [x.term_days for x in book.lists.values()]
        self.tally: dict[str, int] = {}
        self.columns = (
            *(f"{services[v]}_household_blocked" for v in range(len(services)) if household[v]),
            *(
                f"{services[v]}_{column}"
                for v, row in enumerate(premium)
                if any(row)
                for column in ("premiums", "premiums_wrongful")
            ),
            *(f"{lists[i]}_{flow}_by_grade" for i in self.graded for flow in ("entries", "exits")),
        )

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> ServiceRules | None:
        book = s.rulebook
        used = any(v.household_lists or v.premium_tiers for v in book.services.values()) or any(
            x.enter_tiers for x in book.lists.values()
        )
        return cls(s, xp) if used else None

    def take_tally(self) -> dict[str, int]:
        """The day's counts, every column present, and a fresh tally for the next day."""
        row = dict.fromkeys(self.columns, 0) | self.tally
        self.tally = {}
        return row

    def count(self, column: str, n: int) -> None:
        self.tally[column] = self.tally.get(column, 0) + n

    def follow_grades(self, ctx: Context, day: int, who: np.ndarray, tier: np.ndarray) -> None:
        """People whose grade moved today enter or leave the lists entered by grade."""
        xp, flags = self.xp, ctx.state.people.flags
        for index in self.graded:
            bit = list_bit(index)
            on = (flags[who] & bit) != 0
            qualifies = self.enter[index, tier]
            entering, leaving = who[qualifies & ~on], who[~qualifies & on]
            if entering.size == 0 and leaving.size == 0:  # most days: no rows, counts of 0
                continue
            gone = ctx.state.rosters[index].take_ids(leaving)
            gone["reason"][:] = ORIGIN["grade_left"]
            remove(ctx, day, index, gone)
            wrongful = ~self.enter[index, fair_tier(ctx, entering)]
            term = self.term[index]
            until = xp.full(entering.size, day + term if term > 0 else NEVER, dtype=np.int64)
            reason = xp.full(entering.size, ORIGIN["term_ended"], dtype=np.uint8)
            ctx.state.rosters[index].add(entering, day, until, reason, wrongful)
            flags[entering] |= bit
            code = ctx.params.codes.lists[index]
            ctx.ledger.add(day, "list_entry", entering, code, 0, 0, ORIGIN["grade"], ~wrongful)
            self.count(f"{self.lists[index]}_entries_by_grade", int(entering.size))
            self.count(f"{self.lists[index]}_exits_by_grade", int(leaving.size))


def household_refusals(
    ctx: Context, person: np.ndarray, service: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each request: refused because a household member is on one of the service's
    household lists; whether that rests only on false records (True where not refused); and
    the ledger code of the list that refused (the first in the scenario's order, 0 where none)."""
    xp, rules = ctx.xp, ctx.params.mechanisms.services
    refused = xp.zeros(person.size, dtype=bool)
    rightly = xp.zeros(person.size, dtype=bool)
    which = xp.zeros(person.size, dtype=np.int16)
    if rules is None or not rules.any_household or person.size == 0:
        return refused, ~rightly, which
    asks = xp.flatnonzero(rules.household[service] != 0)
    members, owner = ctx.params.pop.household_members(person[asks])
    on = ctx.state.people.flags[members] & rules.household[service[asks]][owner]
    listed = xp.flatnonzero(on != 0)  # the few household members on a list that counts
    members, owner, on = members[listed], owner[listed], on[listed]
    refused[asks[owner]] = True
    for index in reversed(range(len(ctx.state.rosters))):  # the first list written last
        by_this = xp.flatnonzero((on & list_bit(index)) != 0)
        truly = by_this[~ctx.state.rosters[index].wrongful_of(members[by_this])]
        rightly[asks[owner[truly]]] = True
        which[asks[owner[by_this]]] = ctx.params.codes.lists[index]
    blocked = to_host(xp.bincount(service[refused], minlength=len(rules.services)))
    for v, name in enumerate(rules.services):
        if blocked[v]:
            rules.count(f"{name}_household_blocked", int(blocked[v]))
    return refused, ~rightly, which


def charge_premiums(
    ctx: Context,
    day: int,
    person: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
    granted: np.ndarray,
) -> None:
    """Requests granted to a grade that pays a premium (`tier`: the requester's grade, which
    sanction has read already): a burden row each, counted."""
    xp, rules = ctx.xp, ctx.params.mechanisms.services
    if rules is None or not rules.any_premium:
        return
    pays = granted & lookup(xp, rules.premium, service, tier)
    who, what = person[pays], service[pays]
    truth = rules.premium[what, fair_tier(ctx, who)]
    code = ctx.params.codes.services[what]
    ctx.ledger.add(day, "burden", who, code, rules.premium_bp[what], 0, ORIGIN["tier"], truth)
    n = len(rules.services)
    counts = to_host(xp.bincount(what, minlength=n))
    wrongful = to_host(xp.bincount(what[~truth], minlength=n))
    for v, name in enumerate(rules.services):
        if counts[v]:
            rules.count(f"{name}_premiums", int(counts[v]))
            rules.count(f"{name}_premiums_wrongful", int(wrongful[v]))


def tally(ctx: Context) -> dict[str, int]:
    """The day's metrics columns of these rules (none while they are off)."""
    rules = ctx.params.mechanisms.services
    return {} if rules is None else rules.take_tally()
