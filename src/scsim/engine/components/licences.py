"""Licence points: a second point balance that only a licence's holders have (`licences.<name>`).

Jinan's dog-owner licence (2017) starts every holder at 12 points; walking a dog unleashed or
letting it disturb others costs points; at zero the licence is revoked and the dog taken until
the owner passes a test on the rules; points come back with the yearly renewal (docs/sources.md).
A driving licence's 12 points work the same way. Each day, after the score:

1. on a restoration day (every `restore_days` from day 0) every holder's lost points are given
   back, a "licence" row each (origin `licence_restored`), unless the licence is revoked then;
2. revoked holders whose test day has come sit the test: those who pass get the licence back
   with full points (origin `licence_reinstated`), the others sit it again `retest_days` later;
3. today's records of the licence's behaviours cost holders points, one "licence" row a record
   (rule the behaviour, source the licence, origin the record's: wrongful where it was false);
4. a holder whose points reach zero loses the licence: one refusal of the service it names
   (kind "blocked", source the licence, origin `licence`), wrongful if a false record took
   any of the points; they cannot lose points again before the licence is given back.

Who holds a licence is a static trait of the id (a draw keyed by the licence alone), so it
costs no bytes. Only holders who lost points since the last restoration, and revoked holders,
are stored, sparsely: 13 bytes each (id, points lost, wrongful) and 18 each revoked (a roster
row), about 0.001 bytes a person in national-score's year (88 holders lost points in a year
at 1,000,000 people).

    >>> licences = Licences.of(scenario, xp)        # None while the scenario has none
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import stable_argsort, to_host
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import FALSE_ORIGIN_MASK, ORIGIN
from scsim.engine.rng import accept, threshold
from scsim.engine.state import Roster
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context

_COLUMNS: dict[str, type[np.generic]] = {"ids": np.int64, "lost": np.int32, "wrongful": np.bool_}


@dataclass(frozen=True)
class Licence:
    """One licence, compiled: its holders' draw, points, costs per event and service lost."""

    name: str
    holders: np.ndarray  # uint64: threshold of the holders' draw
    points: int
    cost: np.ndarray  # int32 [E]: points a record of each event costs (0: none)
    refuses: int  # the service lost at zero (index into the rulebook's services)
    revoked_days: int
    test_pass: np.ndarray  # uint64: threshold of passing the test at a sitting
    retest_days: int
    restore_days: int


@dataclass(frozen=True)
class Licences:
    items: tuple[Licence, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(x.name for x in self.items)

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Licences | None:
        if not s.licences:
            return None
        events, services = list(s.behaviour.events), list(s.rulebook.services)
        items = []
        for name, x in s.licences.items():
            cost = np.zeros(len(events), dtype=np.int32)
            for event, points in x.deductions.items():
                cost[events.index(event)] = points
            items.append(
                Licence(
                    name=name,
                    holders=threshold(x.holders_share),
                    points=x.points,
                    cost=xp.asarray(cost),
                    refuses=services.index(x.refuses),
                    revoked_days=x.revoked_days,
                    test_pass=threshold(x.test_pass),
                    retest_days=x.retest_days,
                    restore_days=x.restore_days,
                )
            )
        return cls(tuple(items))


class Balances:
    """One licence's state: holders who lost points (sorted by id) and the revoked roster."""

    def __init__(self, xp: ModuleType = np) -> None:
        self.xp = xp
        self.columns = {name: xp.empty(0, dtype) for name, dtype in _COLUMNS.items()}
        self.revoked = Roster(xp)

    def lose(self, ids: np.ndarray, lost: np.ndarray, wrongful: np.ndarray) -> np.ndarray:
        """Add today's losses (unique ids) to the balances; the points lost so far of each."""
        xp, old = self.xp, self.columns
        at = xp.searchsorted(old["ids"], ids)
        known = at < len(old["ids"])
        known[known] = old["ids"][at[known]] == ids[known]
        old["lost"][at[known]] += lost[known].astype(np.int32)
        old["wrongful"][at[known]] |= wrongful[known]
        fresh = ~known
        merged = {
            "ids": xp.concatenate([old["ids"], ids[fresh]]),
            "lost": xp.concatenate([old["lost"], lost[fresh].astype(np.int32)]),
            "wrongful": xp.concatenate([old["wrongful"], wrongful[fresh]]),
        }
        order = stable_argsort(xp, merged["ids"])
        self.columns = {name: column[order] for name, column in merged.items()}
        return self.columns["lost"][xp.searchsorted(self.columns["ids"], ids)]

    def take(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        gone = {name: column[mask] for name, column in self.columns.items()}
        self.columns = {name: column[~mask] for name, column in self.columns.items()}
        return gone

    def to_arrays(self) -> dict[str, np.ndarray]:
        revoked = {f"revoked.{k}": v for k, v in self.revoked.to_arrays().items()}
        return {name: to_host(column) for name, column in self.columns.items()} | revoked

    @classmethod
    def from_arrays(cls, columns: dict[str, np.ndarray], xp: ModuleType = np) -> Balances:
        balances = cls(xp)
        balances.columns = {
            name: xp.asarray(columns[name], dtype=dtype) for name, dtype in _COLUMNS.items()
        }
        revoked = {k.removeprefix("revoked."): v for k, v in columns.items() if "." in k}
        balances.revoked = Roster.from_arrays(revoked, xp)
        return balances


def restore(ctx: Context, day: int, x: Licence, book: Balances, code: int) -> int:
    """Every holder's lost points given back (the revoked keep theirs until their test)."""
    if day == 0 or day % x.restore_days:
        return 0
    back = book.take(ctx.xp.ones(len(book.columns["ids"]), dtype=bool))
    origin, truth = ORIGIN["licence_restored"], ~back["wrongful"]
    ctx.ledger.add(day, "licence", back["ids"], code, back["lost"], code, origin, truth)
    return len(back["ids"])


def sit_tests(ctx: Context, day: int, index: int, x: Licence, book: Balances, code: int) -> int:
    """Revoked holders whose day has come sit the test; those who pass get the licence back."""
    due = book.revoked.take_due(day)
    ids = due["ids"]
    if len(ids) == 0:
        return 0
    passed = accept(ctx.streams.key("licence_test", day, index), ids, x.test_pass)
    ok = ids[passed]
    ctx.ledger.add(
        day,
        "licence",
        ok,
        code,
        x.points,
        code,
        ORIGIN["licence_reinstated"],
        ~due["wrongful"][passed],
    )
    failed = ~passed
    again = ctx.xp.full(int(failed.sum()), day + max(x.retest_days, 1), dtype=np.int32)
    book.revoked.extend(ids[failed], day, again, due["wrongful"][failed])
    return len(ok)


def deduct(
    ctx: Context, day: int, index: int, x: Licence, book: Balances, code: int, flow: Flow
) -> dict[str, int]:
    """Today's records cost holders points; a holder at zero loses the licence."""
    xp, records = ctx.xp, flow.records
    assert records is not None
    cost = x.cost[records.event]
    mine = cost > 0
    holder_key = ctx.streams.key(f"licence_holder/{x.name}", 0)
    mine[mine] = accept(holder_key, records.person[mine], x.holders)
    mine[mine] = ~book.revoked.contains(records.person[mine])
    person, cost = records.person[mine], cost[mine]
    false = FALSE_ORIGIN_MASK[to_host(records.origin[mine])]
    false = xp.asarray(false)
    events = ctx.params.codes.events[records.event[mine]]
    ctx.ledger.add(day, "licence", person, events, -cost, code, records.origin[mine], ~false)
    ids, inverse = np.unique(to_host(person), return_inverse=True)
    lost = np.zeros(len(ids), dtype=np.int64)
    np.add.at(lost, inverse, to_host(cost))
    wrong = np.zeros(len(ids), dtype=bool)
    np.logical_or.at(wrong, inverse, to_host(false))
    total = book.lose(xp.asarray(ids), xp.asarray(lost), xp.asarray(wrong))
    gone = book.take(xp.isin(book.columns["ids"], xp.asarray(ids)[total >= x.points]))
    until = xp.full(len(gone["ids"]), day + max(x.revoked_days, 1), dtype=np.int32)
    book.revoked.extend(gone["ids"], day, until, gone["wrongful"])
    service = ctx.params.codes.services[x.refuses]
    origin, truth = ORIGIN["licence"], ~gone["wrongful"]
    ctx.ledger.add(day, "blocked", gone["ids"], service, 0, code, origin, truth)
    flow.felt.append(gone["ids"])
    return {
        f"{x.name}_deductions": len(person),
        f"{x.name}_points_deducted": int(to_host(cost).sum()),
        f"{x.name}_deductions_wrongful": int(false.sum()),
        f"{x.name}_revoked": len(gone["ids"]),
        f"{x.name}_revoked_wrongful": int(gone["wrongful"].sum()),
    }


class Licensing(Component):
    """Licence points: deductions from records, revocation at zero, the test, restoration."""

    name, stage = "license", "score"
    reads = (
        "licences.<l>.holders_share",
        "licences.<l>.points",
        "licences.<l>.deductions",
        "licences.<l>.refuses",
        "licences.<l>.revoked_days",
        "licences.<l>.test_pass",
        "licences.<l>.retest_days",
        "licences.<l>.restore_days",
    )
    owns = ("licences: holders who lost points (int64 id, int32 lost, bool), revoked roster",)
    writes = (
        "<licence>_deductions",
        "<licence>_deductions_wrongful",
        "<licence>_points_deducted",
        "<licence>_revoked",
        "<licence>_revoked_wrongful",
        "<licence>_reinstated",
        "<licence>_restored",
        "<licence>_revoked_now",
    )
    ledger = (
        "licence/<origin of the record>",
        "blocked/licence",
        "licence/licence_reinstated",
        "licence/licence_restored",
    )

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        licences = ctx.params.mechanisms.licences
        assert licences is not None
        vocabulary = ctx.params.codes.vocabulary
        for index, (x, book) in enumerate(zip(licences.items, ctx.state.licences, strict=True)):
            code = vocabulary.code(x.name)
            restored = restore(ctx, day, x, book, code)
            reinstated = sit_tests(ctx, day, index, x, book, code)
            flow.columns.update(deduct(ctx, day, index, x, book, code, flow))
            flow.columns[f"{x.name}_reinstated"] = reinstated
            flow.columns[f"{x.name}_restored"] = restored
            flow.columns[f"{x.name}_revoked_now"] = len(book.revoked)
