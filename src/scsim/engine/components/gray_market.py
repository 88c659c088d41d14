"""Side effect: a gray market in points (docs/sources.md, Side effects: "people with bad credit buy
points online, sold by people in rural areas", source 000).

People in the buyer grades buy points at a rate that rises with their income band (those who
can afford it buy more). Where the buyer grades keep rosters of their holders
(`scsim.engine.members`: grades that are nobody's starting grade), each holder's purchases
are a Poisson(their band's daily rate) count drawn from their own id, so the work is the
holders' and a person buys alike in two scenarios that agree on them. Where a buyer grade
is a starting grade, candidates are drawn per stratum and income band among everyone at the
band's rate (sparsely, sampling.py) and kept if their grade is a buyer grade today: the
candidates' work, never the population's. A purchase adds points the person
did not earn (ledger origin "purchased", truth false, so the audit's fair grade leaves them
out); the platform detects some purchases at once and charges a penalty (origin "detected").
Grades move with both the same day, after the day's records.

    >>> market = GrayMarket.of(scenario, pop, xp)      # None while the market is off
    >>> trade = trade_points(ctx, day)               # after score, before sanction
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import repeat_index, to_host
from scsim.engine.components.grades import regrade
from scsim.engine.components.score import _apply_points
from scsim.engine.day import Component, Flow
from scsim.engine.income import EVERYONE, band_names, band_starts
from scsim.engine.ledger import ORIGIN
from scsim.engine.plan import DAYS_PER_YEAR
from scsim.engine.population import Population
from scsim.engine.rng import accept, bits, poisson_thresholds, threshold
from scsim.engine.sampling import people_in_ranges
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


RULE = "gray_market"  # the ledger's rule name for purchases and their penalties
MOST_A_DAY = 16  # a holder's purchases in a day, at most (rates are a few a year)


@dataclass(frozen=True)
class GrayMarket:
    """The market compiled for a run: id ranges (stratum x income band) and their rates, on
    the backend's device except `expected`, which the host's count draws read."""

    start: np.ndarray  # int64 [S * B]: first id of each (stratum, band) range
    size: np.ndarray  # int64 [S * B]
    band: np.ndarray  # int64 [S * B]: the range's band
    expected: np.ndarray  # float64 [S * B, 1], on the host: candidates per day
    buyer: np.ndarray  # bool [T]: grades whose holders buy
    buyers: tuple[int, ...]  # the same grades' indices (host)
    counts: np.ndarray  # uint64 [S * B, MOST_A_DAY]: thresholds of a holder's purchases a day
    detect: np.uint64  # threshold of detection (see rng.threshold)
    points: int
    penalty: int
    bands: tuple[str, ...]

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> GrayMarket | None:
        spec = s.behaviour.gray_market
        if spec.per_year == 0 or not spec.buyer_tiers:
            return None
        bands = band_names(s.population)
        starts = band_starts(s.population, pop)
        size = np.diff(starts, axis=1)
        rate = np.array([spec.by_income.get(b, 1.0) for b in bands]) * spec.per_year
        return cls(
            start=xp.asarray(starts[:, :-1].ravel()),
            size=xp.asarray(size.ravel()),
            band=xp.asarray(np.tile(np.arange(len(bands)), pop.n_strata)),
            expected=(size * rate[None, :] / DAYS_PER_YEAR).reshape(-1, 1),
            buyer=xp.asarray([t in spec.buyer_tiers for t in s.rulebook.tiers], dtype=bool),
            buyers=tuple(i for i, t in enumerate(s.rulebook.tiers) if t in spec.buyer_tiers),
            counts=xp.asarray(
                np.tile(poisson_thresholds(rate / DAYS_PER_YEAR, MOST_A_DAY), (pop.n_strata, 1))
            ),
            detect=np.uint64(threshold(spec.detection)),
            points=spec.points,
            penalty=spec.penalty,
            bands=bands,
        )


@dataclass(frozen=True)
class Trade:
    demoted: np.ndarray  # people whose grade a penalty worsened today
    metrics: dict[str, int]


def trade_points(ctx: Context, day: int) -> Trade:
    """Today's purchases and the penalties of those detected: ledger rows, points, grades."""
    xp, market = ctx.xp, ctx.params.mechanisms.gray_market
    if market is None:
        return Trade(demoted=xp.empty(0, dtype=np.int64), metrics={})
    if ctx.params.rostered[list(market.buyers)].all():
        person, serial, ranges = _from_holders(ctx, day, market)
    else:
        draw = people_in_ranges(
            market.start, market.size, ctx.streams, "gray-market", day, market.expected
        )
        buys = _buyers(ctx, market.buyer, draw.person)
        person, serial, ranges = draw.person[buys], draw.serial[buys], draw.stratum[buys]
    caught = accept(ctx.streams.key("gray-market:detect", day), serial, market.detect)
    code = ctx.params.codes.vocabulary.code(RULE)
    fined = person[caught]
    who = xp.concatenate([person, fined])
    delta = xp.concatenate(
        [xp.full(person.size, market.points), xp.full(fined.size, market.penalty)]
    ).astype(np.int64)
    truth = xp.concatenate([xp.zeros(person.size, bool), xp.ones(fined.size, bool)])
    origin = xp.where(truth, ORIGIN["detected"], ORIGIN["purchased"]).astype(np.uint8)
    source = xp.where(truth, code, 0)  # the market's own checks detected the penalised ones
    ctx.ledger.add(day, "record", who, code, delta, source, origin, truth)
    touched = _apply_points(ctx, who, delta, truth)
    empty = xp.empty(0, dtype=np.int64)
    demoted = regrade(ctx, day, touched, empty, empty, xp.empty(0, dtype=bool))
    return Trade(demoted=demoted, metrics=_metrics(market, ranges, caught, xp))


def _from_holders(
    ctx: Context, day: int, market: GrayMarket
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's purchases of the buyer grades' holders: each holder's count Poisson(their
    range's daily rate: stratum x income band), drawn from their own id, so a person buys the
    same whatever else differs between two scenarios. Each purchase's person, serial (person
    << 6 | its rank among the person's purchases) and range."""
    xp = ctx.xp
    holders = [ctx.state.members.of(t, ctx.state.people.tier) for t in market.buyers]
    who = xp.concatenate([xp.empty(0, np.int64), *holders])
    if who.size == 0:  # nobody holds a buying grade (a run's first weeks)
        return who, who.astype(np.uint64), who
    ranges = xp.concatenate([xp.empty(0, np.int64), *(_ranges(xp, market, h) for h in holders)])
    draw = bits(ctx.streams.key("gray-market:person", day), who) >> np.uint64(32)
    # most holders buy nothing today (a draw below their range's first threshold): only the
    # others are counted, the same counts and ranks as counting everyone's draws
    buying = xp.flatnonzero(draw >= market.counts[ranges, 0])
    draw, ranges = draw[buying], ranges[buying]
    count = xp.ones(buying.size, dtype=np.int64)
    for k in range(1, MOST_A_DAY - 1):  # how many of the range's thresholds the draw reaches
        count += draw >= market.counts[ranges, k]
    at = repeat_index(xp, count)
    rank = xp.arange(at.size, dtype=np.int64) - (xp.cumsum(count) - count)[at]
    person = who[buying[at]]
    serial = (person.astype(np.uint64) << np.uint64(6)) | rank.astype(np.uint64)
    return person, serial, ranges[at]


def _ranges(xp: ModuleType, market: GrayMarket, ids: np.ndarray) -> np.ndarray:
    """The range (stratum x income band) of each of a roster's ids, sorted as a roster is:
    where each range begins among them, once per range, instead of a search of the ranges
    for each holder (a nation's holders of the buying grades, every day)."""
    begins = xp.searchsorted(ids, market.start, side="left")
    counts = xp.diff(xp.concatenate([begins, xp.asarray([ids.size])]))
    return repeat_index(xp, counts)


def _buyers(ctx: Context, buyer: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Which candidates hold a buying grade today: one read of each one's grade (the market's
    candidates are a share of everyone, so this is its largest work at a nation's size)."""
    if kernels.active() and ctx.xp is np:
        compiled = kernels.by_grade(buyer, ctx.state.people.tier, person)
        if compiled is not None:
            return compiled
    return buyer[ctx.state.people.tier[person]]


def _metrics(
    market: GrayMarket, ranges: np.ndarray, caught: np.ndarray, xp: ModuleType
) -> dict[str, int]:
    row = {
        "gray_market_purchases": int(ranges.size),
        "gray_market_points_bought": int(ranges.size) * market.points,
        "gray_market_detected": int(caught.sum()),
    }
    if market.bands != EVERYONE:
        by_band = to_host(xp.bincount(market.band[ranges], minlength=len(market.bands)))
        for b, name in enumerate(market.bands):
            row[f"gray_market_purchases_{name}"] = int(by_band[b])
    return row


class Market(Component):
    """The gray market sells points and fines some buyers, before today's requests."""

    name, stage = "trade", "score"
    reads = ("behaviour.gray_market", "population.income")
    writes = ("gray_market_purchases[_<band>]", "gray_market_points_bought", "gray_market_detected")
    ledger = ("record/purchased",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        trade = trade_points(ctx, day)
        flow.felt.append(trade.demoted)
        flow.columns.update(trade.metrics)
