"""Sparse draws of "who, today": made ahead for several days, they are the day-by-day draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scsim.engine.backend as backend
import scsim.engine.rng as rng
import scsim.engine.sampling as sampling
from scsim.engine.population import Population
from scsim.engine.rng import Streams
from scsim.engine.sampling import Draw, people_in_strata
from scsim.scenario import load_scenario

DAYS = 70  # past two of Counts' 32-day blocks


def _pop() -> Population:
    spec = load_scenario("rongcheng", overrides={"population.size": 50_000}).population
    return Population.generate(spec, seed=3)


def _columns(draw: Draw) -> list[list[int]]:
    return [c.tolist() for c in (draw.stratum, draw.column, draw.person, draw.serial)]


def _days(pop: Population, lam_of_day, limit: int, monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sampling, "DRAWS_AHEAD", limit)
    monkeypatch.setattr(rng, "COUNT_MEANS", 0)  # Counts' windows of 32 days, however few blocks
    streams = Streams(17)
    return [_columns(people_in_strata(pop, streams, "s", d, lam_of_day(d))) for d in range(DAYS)]


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.05])  # none, a few and many draws a day
def test_draws_made_ahead_equal_the_draws_of_each_day_alone(
    rate: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    pop = _pop()
    low = pop.stratum_size[:, None] * np.array([[rate, rate / 3, 0.0]])
    high = low * 2.0  # a rule change on day 40: new expected counts start afresh

    def lam(day: int) -> np.ndarray:
        return low if day < 40 else high

    one_day = _days(pop, lam, 1, monkeypatch)  # every day made alone
    ahead = _days(pop, lam, 1 << 15, monkeypatch)
    assert ahead == one_day
    total = sum(len(day[2]) for day in ahead)
    assert (total == 0) == (rate == 0.0)
    for day in ahead:  # each day's draws are those of a Poisson count per block, in order
        assert day[3] == sorted(day[3])


def test_draws_computed_in_chunks_equal_draws_computed_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pop = _pop()
    lam = pop.stratum_size[:, None] * np.array([[0.05, 0.01, 0.0]])
    monkeypatch.setattr(sampling, "CHUNK", 97)
    chunked = _days(pop, lambda day: lam, 1 << 15, monkeypatch)
    monkeypatch.setattr(sampling, "CHUNK", 1 << 40)
    whole = _days(pop, lambda day: lam, 1 << 15, monkeypatch)
    assert chunked == whole
    assert sum(len(day[2]) for day in whole) > 97


def test_a_days_draws_are_read_only_views() -> None:
    pop = _pop()
    draw = people_in_strata(pop, Streams(5), "s", 0, pop.stratum_size[:, None] * 0.01)
    assert len(draw) > 0
    with pytest.raises(ValueError):
        draw.person[0] = 1


@pytest.mark.parametrize("high", [3, 1_000])
@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_the_days_sorts_and_repeats_equal_numpys_own(n: int, high: int) -> None:
    """The day's small arrays are made unique and repeated by sorts and repeats of
    `scsim.engine.backend` (cheaper than NumPy's general functions): the same arrays, dtypes too."""
    values = np.random.default_rng(n + high).integers(0, high, n)
    pairs = [
        (backend.unique(np, values), np.unique(values)),
        (*backend.unique_inverse(np, values), *np.unique(values, return_inverse=True)),
        (backend.repeat_index(np, values), np.repeat(np.arange(n), values)),
    ]
    for got, expected in ((p[: len(p) // 2], p[len(p) // 2 :]) for p in pairs):
        for g, e in zip(got, expected, strict=True):
            assert g.dtype == e.dtype
            assert g.tolist() == e.ravel().tolist()
    counts = values[: n // 5]
    block, counter = sampling._blocks_and_counters(np, counts)
    assert block.tolist() == np.repeat(np.arange(counts.size), counts).tolist()
    assert counter.tolist() == [c for k in counts.tolist() for c in range(k)]


def test_a_flat_lookup_is_the_tables_own_indexing() -> None:
    """`backend.lookup` reads table[row, column] from the flat table, rows of any integer
    dtype (grades and wariness are uint8): the same values as NumPy's indexing."""
    rng = np.random.default_rng(5)
    table = rng.integers(0, 1 << 40, (6, 256)).astype(np.uint64)
    row, column = rng.integers(0, 6, 900).astype(np.uint8), rng.integers(0, 256, 900)
    for r, c in (
        (row, column.astype(np.uint8)),
        (row.astype(np.int64), column),
        (row[:0], row[:0]),
    ):
        got = backend.lookup(np, table, r, c)
        assert got.dtype == table.dtype
        assert got.tolist() == table[r, c].tolist()


class _Regions:
    """The two things `region_counters` asks of a population: where regions start, and whose."""

    def __init__(self, sizes: list[int]) -> None:
        self.region_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def region_of(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.region_start, ids, side="right") - 1


@given(
    sizes=st.integers(2, 600).flatmap(
        lambda n: st.lists(st.integers(1, 5), min_size=n, max_size=n)
    ),
    picks=st.lists(st.integers(0, 2**31), max_size=2000),
)
def test_region_counters_are_each_draws_region_and_rank_among_its_regions(
    sizes: list[int], picks: list[int]
) -> None:
    """region << 40 | how many earlier draws share the region: the definition, counted by hand
    (up to 600 regions, so both the 1- and the 2-byte sort keys are exercised)."""
    pop = _Regions(sizes)
    person = np.array([p % sum(sizes) for p in picks], dtype=np.int64)
    region = pop.region_of(person)
    seen: dict[int, int] = {}
    expected = []
    for r in region.tolist():
        expected.append((r << 40) | seen.get(r, 0))
        seen[r] = seen.get(r, 0) + 1
    assert sampling.region_counters(pop, person).tolist() == expected  # type: ignore[arg-type]
