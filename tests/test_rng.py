"""Counter-based draws: a pure function of their key and counter, with the right distributions.

Statistical checks allow Z = 5 standard errors, each derived from the variance of the statistic
(never a guessed tolerance), so a correct generator fails one of them about once in 3.5 million.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

import scsim.engine.rng as rng
from scsim.engine.rng import (
    MASK,
    SCALAR_DRAWS,
    Streams,
    accept,
    bits,
    count_days,
    geometric_cdf,
    hypergeometric,
    integers,
    poisson,
    poisson_many,
    stack_cdfs,
    threshold,
    uniform,
    waiting_days,
    waiting_days_stacked,
)

Z = 5.0
DRAWS = 200_000
COUNTERS = np.arange(DRAWS, dtype=np.uint64)


def _key(stream: str = "test", day: int = 0, block: int = 0, seed: int = 2024) -> int:
    return Streams(seed).key(stream, day, block)


def _assert_mean_and_variance(x: np.ndarray, mean: float, var: float, mu4: float) -> None:
    """Sample mean within Z SE of `mean` (SE^2 = var/n) and sample variance within Z SE of `var`
    (SE^2 = (mu4 - var^2 (n-3)/(n-1))/n, mu4 the fourth central moment)."""
    n = x.size
    se_var = math.sqrt((mu4 - var * var * (n - 3) / (n - 1)) / n)
    assert abs(x.mean() - mean) <= Z * math.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var(ddof=1) - var) <= Z * se_var, (x.var(ddof=1), var)


# ---------------------------------------------------------------- determinism
def test_same_key_and_counter_give_the_same_bits() -> None:
    key = _key()
    assert np.array_equal(bits(key, COUNTERS[:1000]), bits(key, COUNTERS[:1000]))
    assert np.array_equal(bits(key, COUNTERS[500:600]), bits(key, COUNTERS[:1000])[500:600])


def test_a_fresh_streams_object_derives_the_same_keys() -> None:
    assert Streams(7).key("behave", day=3, block=12) == Streams(7).key("behave", day=3, block=12)


def test_keys_equal_key_elementwise() -> None:
    streams = Streams(seed=99)
    blocks = np.array([0, 1, 2, 17, 4096, 2**31, 2**40 + 5, 2**63 - 1], dtype=np.uint64)
    many = streams.keys("observe", 12, blocks)
    assert many.dtype == np.uint64
    assert [int(k) for k in many] == [streams.key("observe", 12, int(b)) for b in blocks]


def test_a_per_counter_key_array_matches_one_key() -> None:
    key = _key()
    counters = COUNTERS[:100]
    assert np.array_equal(bits(key, counters), bits(np.full(100, key, dtype=np.uint64), counters))


@pytest.mark.parametrize(
    "other",
    [
        {"seed": 2025},
        {"stream": "other"},
        {"day": 1},
        {"block": 1},
    ],
)
def test_changing_seed_stream_day_or_block_changes_the_key(other: dict[str, object]) -> None:
    assert _key(**other) != _key()  # type: ignore[arg-type]


def test_keys_are_64_bit() -> None:
    keys = Streams(3).keys("x", 0, np.arange(1000))
    assert keys.dtype == np.uint64
    assert len(set(keys.tolist())) == 1000
    assert all(0 <= _key(block=b) <= MASK for b in range(100))


# ---------------------------------------------------------------- uniform and integers
def test_uniform_lies_in_the_unit_interval_with_the_uniform_moments() -> None:
    u = uniform(_key(), COUNTERS)
    assert u.dtype == np.float64
    assert u.min() >= 0.0 and u.max() < 1.0
    _assert_mean_and_variance(u, mean=0.5, var=1 / 12, mu4=1 / 80)


def test_uniform_has_53_bits_and_nothing_beyond() -> None:
    u = uniform(_key(), COUNTERS[:10_000])
    scaled = u * 2.0**53
    assert np.array_equal(scaled, np.floor(scaled))


def test_uniform_deciles_are_equally_filled() -> None:
    counts = np.bincount((uniform(_key(), COUNTERS) * 10).astype(np.int64), minlength=10)
    p = 0.1
    assert np.all(np.abs(counts - DRAWS * p) <= Z * math.sqrt(DRAWS * p * (1 - p))), counts


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 2**40])
def test_integers_lie_in_zero_to_n_with_the_discrete_uniform_moments(n: int) -> None:
    k = integers(_key(), COUNTERS, n)
    assert k.dtype == np.int64
    assert k.min() >= 0 and k.max() < n
    var = (n * n - 1) / 12
    mu4 = (n * n - 1) * (3 * n * n - 7) / 240  # fourth central moment of uniform {0..n-1}
    _assert_mean_and_variance(k.astype(np.float64), mean=(n - 1) / 2, var=var, mu4=mu4)


def test_integers_take_one_bound_per_counter() -> None:
    n = np.array([1, 2, 3, 10, 10**9] * 2000)
    k = integers(_key(), COUNTERS[: n.size], n)
    assert np.all((k >= 0) & (k < n))
    assert np.all(k[n == 1] == 0)


# ---------------------------------------------------------------- accept and threshold
@pytest.mark.parametrize("p", [0.001, 0.05, 0.3, 0.5, 0.9, 0.999])
def test_accept_rate_matches_the_probability(p: float) -> None:
    hits = int(accept(_key(), COUNTERS, threshold(p)).sum())
    assert abs(hits - DRAWS * p) <= Z * math.sqrt(DRAWS * p * (1 - p)), (hits, DRAWS * p)


def test_accept_never_at_zero_and_always_at_one() -> None:
    assert not accept(_key(), COUNTERS, threshold(0.0)).any()
    assert accept(_key(), COUNTERS, threshold(1.0)).all()


def test_accept_takes_one_threshold_per_counter() -> None:
    p = np.where(np.arange(DRAWS) % 2 == 0, 0.2, 0.7)
    hit = accept(_key(), COUNTERS, threshold(p))
    for value in (0.2, 0.7):
        picked = hit[p == value]
        bound = Z * math.sqrt(picked.size * value * (1 - value))
        assert abs(int(picked.sum()) - picked.size * value) <= bound


def test_threshold_of_the_ends_of_the_unit_interval() -> None:
    assert int(threshold(0.0)) == 0
    assert int(threshold(1.0)) == 2**32
    assert int(threshold(0.5)) == 2**31
    assert threshold(np.array([-1.0, 2.0])).tolist() == [0, 2**32]  # clipped


@settings(max_examples=200, deadline=None)
@given(p=st.floats(min_value=0.0, max_value=1.0))
def test_threshold_maps_the_unit_interval_into_0_to_2_pow_32(p: float) -> None:
    t = threshold(p)
    assert t.dtype == np.uint64
    assert 0 <= int(t) <= 2**32
    assert abs(int(t) - p * 2**32) <= 0.5


@settings(max_examples=100, deadline=None)
@given(ps=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=20))
def test_threshold_keeps_the_order_of_probabilities(ps: list[float]) -> None:
    t = threshold(np.sort(np.array(ps)))
    assert np.all(np.diff(t.astype(np.int64)) >= 0)


# ---------------------------------------------------------------- waiting days
@pytest.mark.parametrize("daily", [0.5, 0.1, 0.01])
def test_geometric_waiting_days_have_mean_one_over_p(daily: float) -> None:
    horizon = math.ceil(40 / daily)  # P(wait > horizon) = (1 - p)**horizon < e**-40
    days = waiting_days(_key(), COUNTERS, geometric_cdf(daily, horizon))
    assert days.min() >= 1 and days.max() <= horizon
    var = (1 - daily) / daily**2
    mu4 = (1 - daily) * (daily**2 - 9 * daily + 9) / daily**4  # geometric on {1, 2, ...}
    _assert_mean_and_variance(days.astype(np.float64), mean=1 / daily, var=var, mu4=mu4)


def test_waiting_days_past_the_horizon_are_horizon_plus_one() -> None:
    daily, horizon = 0.1, 10
    days = waiting_days(_key(), COUNTERS, geometric_cdf(daily, horizon))
    assert days.min() >= 1 and days.max() == horizon + 1
    p_late = (1 - daily) ** horizon
    late = int((days == horizon + 1).sum())
    assert abs(late - DRAWS * p_late) <= Z * math.sqrt(DRAWS * p_late * (1 - p_late))


def test_first_day_chance_is_the_daily_chance() -> None:
    days = waiting_days(_key(), COUNTERS, geometric_cdf(0.3, 50))
    first = int((days == 1).sum())
    assert abs(first - DRAWS * 0.3) <= Z * math.sqrt(DRAWS * 0.3 * 0.7)


def test_geometric_cdf_is_a_nondecreasing_threshold_table() -> None:
    cdf = geometric_cdf(0.05, 365)
    assert cdf.shape == (365,)
    assert cdf.dtype == np.uint64
    assert np.all(np.diff(cdf.astype(np.int64)) >= 0)
    assert int(cdf[-1]) <= 2**32
    assert int(geometric_cdf(1.0, 3)[0]) == 2**32  # a certain event happens on day 1


def test_geometric_cdf_is_made_once_and_cannot_be_changed_in_place() -> None:
    """Every rulebook version asks for its tables again; a shared table must stay the same."""
    cdf = geometric_cdf(0.05, 365)
    assert geometric_cdf(0.05, 365.0) is cdf  # one table per (chance, horizon)
    assert not cdf.flags.writeable
    assert geometric_cdf(0.06, 365) is not cdf


# ---------------------------------------------------------------- poisson
POISSON_DRAWS = 20_000


def _poisson_sample(lam: float) -> np.ndarray:
    keys = Streams(11).keys("poisson", 0, np.arange(POISSON_DRAWS))
    return np.array([poisson(int(k), lam) for k in keys], dtype=np.float64)


@pytest.mark.parametrize("lam", [0.5, 3.0, 9.9, 10.0, 30.0, 1000.0])
def test_poisson_mean_and_variance_equal_lambda(lam: float) -> None:
    # Poisson cumulants are all lam, so the fourth central moment is lam + 3 lam^2.
    _assert_mean_and_variance(_poisson_sample(lam), mean=lam, var=lam, mu4=lam + 3 * lam * lam)


@pytest.mark.parametrize("lam", [3.0, 30.0])
def test_poisson_probabilities_near_the_mode(lam: float) -> None:
    x = _poisson_sample(lam)
    mode = int(lam)
    for k in range(max(0, mode - 3), mode + 4):
        p = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
        seen = int((x == k).sum())
        assert abs(seen - POISSON_DRAWS * p) <= Z * math.sqrt(POISSON_DRAWS * p * (1 - p)), k


@pytest.mark.parametrize("lam", [0.0, -1.0, -1e9])
def test_poisson_of_no_rate_is_zero(lam: float) -> None:
    assert poisson(_key(), lam) == 0


def test_poisson_is_a_function_of_key_and_rate() -> None:
    key = _key()
    assert [poisson(key, lam) for lam in (2.0, 50.0)] == [poisson(key, lam) for lam in (2.0, 50.0)]


def test_poisson_survives_a_key_whose_first_uniform_is_zero() -> None:
    # mix(0) == 0, so key 0 draws u = 0 first; the rejection sampler must reject it, not divide
    # by zero (NumPy's C original gets k = -inf there and rejects).
    assert rng.scalar_uniform(0, 0) == 0.0
    assert poisson(0, 30.0) >= 0


def test_poisson_accepts_a_zero_v_instead_of_taking_its_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # u - 0.5 = 0.45 puts us = 0.05 past the quick acceptance, so v = 0 reaches the log test,
    # which log(0) = -inf passes in the C original.
    monkeypatch.setattr(rng, "scalar_uniform", lambda key, counter: 0.95 if counter == 0 else 0.0)
    assert poisson(1, 30.0) >= 0


@settings(max_examples=300, deadline=None)
@given(key=st.integers(min_value=0, max_value=MASK), lam=st.floats(min_value=0.0, max_value=1e5))
def test_poisson_is_never_negative(key: int, lam: float) -> None:
    k = poisson(key, lam)
    assert isinstance(k, int)
    assert k >= 0


def test_vectorised_poisson_equals_the_scalar_draw_for_draw() -> None:
    streams = Streams(5)
    lam = np.concatenate([np.linspace(0.0, 12.0, 2001), [1e-9, 9.999, 10.0, 50.0, 1e4]])
    keys = streams.keys("counts", 3, np.arange(lam.size))
    scalar = [poisson(int(k), float(x)) for k, x in zip(keys, lam, strict=True)]
    assert poisson_many(keys, lam).tolist() == scalar


def test_vectorised_ptrs_rounds_equal_the_scalar_draw_for_draw() -> None:
    """Means of 10 and more go round after round together (`_ptrs_many`): thousands of draws,
    so that many are rejected, some several times, and many reach the test of logarithms."""
    lam = np.concatenate([np.linspace(10.0, 11.0, 1500), np.geomspace(11.0, 1e7, 3000)])
    keys = Streams(8).keys("counts", 2, np.arange(lam.size))
    scalar = [poisson(int(k), float(x)) for k, x in zip(keys, lam, strict=True)]
    assert poisson_many(keys, lam).tolist() == scalar


def test_draws_made_in_chunks_equal_draws_made_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 3 * rng.CHUNK + 17
    counters = np.arange(n, dtype=np.int64) * 7
    keys = Streams(3).day_keys("chunks", [0], np.arange(n))[0]
    bound = np.arange(1, n + 1, dtype=np.int64)
    chance = np.arange(n, dtype=np.uint64) * np.uint64(4_000)

    def draws() -> list[np.ndarray]:
        return [
            bits(keys, counters),
            uniform(11, counters),
            integers(keys, counters, bound),
            integers(11, counters, 1_000),
            accept(keys, counters, chance),
        ]

    chunked = draws()
    monkeypatch.setattr(rng, "CHUNK", 2 * n)
    whole = draws()
    for a, b in zip(chunked, whole, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_waits_from_stacked_tables_equal_each_tables_own() -> None:
    """`waiting_days_stacked` finds each draw's wait in its own table, as `waiting_days` with
    that table and key would, the draws past a table's end too (its length + 1)."""
    cdfs = (geometric_cdf(1 / 7, 3650), geometric_cdf(0.9, 3650), geometric_cdf(0.3, 10))
    cdfs += (geometric_cdf(1.0, 5), geometric_cdf(1e-6, 3650))
    stacked, start = stack_cdfs(cdfs)
    table = np.tile(np.arange(len(cdfs)), 4000)
    counters = np.arange(table.size, dtype=np.int64)
    keys = Streams(3).keys("retry:wait", 1, table)
    got = waiting_days_stacked(keys, counters, stacked, start, table)
    for i, cdf in enumerate(cdfs):
        mine = table == i
        assert got[mine].tolist() == waiting_days(int(keys[i]), counters[mine], cdf).tolist()
    assert got[table == 2].max() == 11  # past the 10-day table
    assert got.dtype == np.int64


def test_a_few_means_drawn_one_by_one_equal_the_vectorised_draws() -> None:
    """`poisson_many` draws up to SCALAR_DRAWS means in Python: the same numbers as its
    vectorised inversion and PTRS give for them among many."""
    lam = np.array([0.0, 1e-9, 0.7, 3.0, 9.999, 10.0, 57.3, 8e4, 1.4e9 * 0.003])
    keys = Streams(9).keys("counts", 11, np.arange(lam.size))
    many = poisson_many(np.tile(keys, 3), np.tile(lam, 3))[: lam.size]  # > SCALAR_DRAWS
    few = np.concatenate([poisson_many(keys[i : i + 3], lam[i : i + 3]) for i in range(0, 9, 3)])
    assert lam.size * 3 > SCALAR_DRAWS >= 3
    assert few.tolist() == many.tolist()
    assert few.dtype == many.dtype == np.int64


# ---------------------------------------------------------------- hypergeometric
HYPERGEOMETRIC_DRAWS = 20_000
# (good, bad, sample): the urn (fewer than 10 drawn or left), HRUA, either colour the smaller,
# a sample past half the items, and a national cap's size among millions of records
URNS = [(5, 7, 4), (3, 1000, 500), (30, 70, 50), (700, 300, 900), (1000, 3, 500)]
URNS += [(100_000, 5_000_000, 100_000)]


def _hypergeometric_sample(good: int, bad: int, sample: int) -> np.ndarray:
    keys = Streams(13).keys("hypergeometric", 0, np.arange(HYPERGEOMETRIC_DRAWS))
    return np.array([hypergeometric(int(k), good, bad, sample) for k in keys], dtype=np.float64)


@pytest.mark.parametrize(("good", "bad", "sample"), URNS)
def test_hypergeometric_mean_and_variance_are_the_urns(good: int, bad: int, sample: int) -> None:
    law = scipy_stats.hypergeom(good + bad, good, sample)
    mean, var, kurtosis = (float(x) for x in law.stats(moments="mvk"))
    x = _hypergeometric_sample(good, bad, sample)
    _assert_mean_and_variance(x, mean=mean, var=var, mu4=(kurtosis + 3.0) * var * var)


@pytest.mark.parametrize(("good", "bad", "sample"), [(30, 70, 50), (700, 300, 900)])
def test_hypergeometric_probabilities_near_the_mode(good: int, bad: int, sample: int) -> None:
    law = scipy_stats.hypergeom(good + bad, good, sample)
    x = _hypergeometric_sample(good, bad, sample)
    mode = int(law.mean())
    for k in range(mode - 3, mode + 4):
        p, seen = float(law.pmf(k)), int((x == k).sum())
        n = HYPERGEOMETRIC_DRAWS
        assert abs(seen - n * p) <= Z * math.sqrt(n * p * (1 - p)), k


@pytest.mark.parametrize(
    ("good", "bad", "sample", "expected"),
    [(0, 10, 5, 0), (10, 0, 5, 5), (4, 6, 0, 0), (4, 6, 10, 4), (4, 6, 12, 4)],
)
def test_hypergeometric_of_a_one_coloured_or_whole_draw_is_certain(
    good: int, bad: int, sample: int, expected: int
) -> None:
    assert hypergeometric(_key(), good, bad, sample) == expected


@settings(max_examples=300, deadline=None)
@given(
    key=st.integers(min_value=0, max_value=MASK),
    good=st.integers(min_value=0, max_value=10**7),
    bad=st.integers(min_value=0, max_value=10**7),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_hypergeometric_stays_in_its_support(
    key: int, good: int, bad: int, fraction: float
) -> None:
    sample = int(fraction * (good + bad))
    k = hypergeometric(key, good, bad, sample)
    assert isinstance(k, int)
    assert max(0, sample - bad) <= k <= min(sample, good)


def test_block_keys_made_ahead_are_each_days_keys() -> None:
    """`Streams.block_keys` reads a table made for COUNT_DAYS days: the keys `keys` gives for
    blocks 0..n-1 on each day, past the table's end too."""
    streams, fresh = Streams(4), Streams(4)
    for day in range(0, 80, 3):
        expected = fresh.keys("observe", day, np.arange(6))
        assert streams.block_keys("observe", day, 6).tolist() == expected.tolist()
    assert (
        streams.block_keys("observe", 5, 2).tolist()
        == fresh.keys("observe", 5, np.arange(2)).tolist()
    )


@pytest.mark.parametrize("blocks", [3, 100, 5_000])  # 128, 81 and 32 days drawn at once
def test_counts_drawn_ahead_are_each_days_own(blocks: int) -> None:
    """`Counts` draws `count_days(blocks)` days at once: the counts and keys of each day are
    those of a window that starts that day, across windows and a change of expected counts."""
    lam = np.linspace(0.0, 40.0, blocks)
    streams = Streams(6)
    for day in range(0, 300, 7):
        expected = lam if day < 150 else lam * 1.5
        fresh = Streams(6).counts.get_with_keys("s", day, expected)
        got = streams.counts.get_with_keys("s", day, expected)
        assert got[0].tolist() == fresh[0].tolist()
        assert got[1].tolist() == fresh[1].tolist()
    assert [count_days(b) for b in (3, 100, 5_000)] == [128, 81, 32]


# ---------------------------------------------------------------- tables on the host's libm


@pytest.mark.parametrize("daily", [0.5, 0.1, 1 / 1.4, 1 / 365, 0.193477 / 365, 1e-6])
def test_wait_tables_are_made_on_libm_not_on_numpys_cpu_dependent_paths(daily: float) -> None:
    """NumPy's expm1 and log1p take SIMD paths chosen by the CPU (on this machine they round
    apart from libm for some inputs: printed below), so the tables use `math`, which the
    scalar draws use too: the same bits on every machine."""
    t = np.arange(1, 3651, dtype=np.float64)
    by_libm = [-math.expm1(x * math.log1p(-daily)) for x in t.tolist()]
    assert rng.geometric_chances(daily, 3650).tolist() == by_libm
    apart = (-np.expm1(t * np.log1p(-daily)) != np.array(by_libm)).sum()
    print(f"daily {daily:.3g}: NumPy's SIMD path rounds apart from libm in {apart} of 3650")


def test_libm_broadcasts_its_arguments_as_numpy_would() -> None:
    table = rng.libm(math.pow, np.array([[0.9], [0.5]]), range(4))
    assert table.shape == (2, 4)
    assert table.tolist() == [[0.9**k for k in range(4)], [0.5**k for k in range(4)]]
