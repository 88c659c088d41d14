"""Counter-based randomness: every draw is a pure function of (seed, stream, day, block, counter).

There is no generator state to carry: the same draw comes out wherever, whenever and on whichever
backend or shard it is asked for (docs/architecture.md). A stream names the purpose of a draw; a
block is whatever unit the caller keys on (a stratum, a sensor, a service); the counter indexes
draws inside it. Bits come from the SplitMix64 finaliser, which passes BigCrush on sequential
counters (Steele, Lea & Flood 2014).

    >>> streams = Streams(seed=7)
    >>> key = streams.key("behave", day=3, block=12)
    >>> u = uniform(key, np.arange(4))   # four uniforms in [0, 1), the same on every machine
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import array_module

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_TWO_53 = float(1 << 53)
# the same constants as NumPy scalars, made once: converting a Python int costs about a
# microsecond a call, and the day's draws call these a few hundred times
_U_GOLDEN, _U_M1, _U_M2 = np.uint64(GOLDEN), np.uint64(_M1), np.uint64(_M2)
_U11, _U27, _U30, _U31, _U32 = (np.uint64(n) for n in (11, 27, 30, 31, 32))
_U_LIFT = np.uint64(1 << 33)
CHUNK = 1 << 15  # counters hashed at once on the host (`in_chunks`): 256 KiB a uint64 column


def mix(x: int) -> int:
    """SplitMix64's finaliser on one Python integer."""
    x = ((x ^ (x >> 30)) * _M1) & MASK
    x = ((x ^ (x >> 27)) * _M2) & MASK
    return x ^ (x >> 31)


def mix_array(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (wrapping multiplication is the point)."""
    return _mix_in_place(x ^ (x >> _U30), first=False)


def _mix_in_place(x: np.ndarray, first: bool = True) -> np.ndarray:
    """`mix_array` written over `x` itself (a fresh array of the caller's), one temporary less."""
    if first:
        x ^= x >> _U30
    x *= _U_M1
    x ^= x >> _U27
    x *= _U_M2
    x ^= x >> _U31
    return x


def stream_id(name: str) -> int:
    """A stable 64-bit constant per stream name, so names can be added without renumbering."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """The seed, and keys derived from it for each (stream, day, block)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed & MASK
        self._ids: dict[str, int] = {}  # per stream: mix(seed ^ its id)
        self.counts = Counts(self)
        self.draws: dict[str, object] = {}  # per stream: draws made ahead (scsim.engine.sampling)
        self._block_keys: dict[tuple[str, int], tuple[int, np.ndarray]] = {}  # `block_keys`

    def key(self, stream: str, day: int, block: int = 0) -> int:
        return mix((self._day_base(stream, day) + (block & MASK) * GOLDEN) & MASK)

    def keys(self, stream: str, day: int, blocks: np.ndarray) -> np.ndarray:
        """`key` for many blocks at once, as a uint64 array."""
        base = np.uint64(self._day_base(stream, day))
        xp = array_module(blocks)
        x = xp.asarray(blocks, dtype=np.uint64) * _U_GOLDEN
        x += base
        return _mix_in_place(x)

    def block_keys(self, stream: str, day: int, blocks: int) -> np.ndarray:
        """`keys(stream, day, arange(blocks))` on the host, from a table of COUNT_DAYS days made
        at once: for streams keyed by sensor or service, the same few blocks every day."""
        first, table = self._block_keys.get((stream, blocks), (-1, None))
        if table is None or not first <= day < first + COUNT_DAYS:
            days = range(day, day + COUNT_DAYS)
            first, table = day, self.day_keys(stream, days, np.arange(blocks))
            self._block_keys[stream, blocks] = (first, table)
        return table[day - first]

    def day_keys(self, stream: str, days: range, blocks: np.ndarray) -> np.ndarray:
        """`key` for every (day, block), shape (len(days), len(blocks)), on the host."""
        base = np.array([self._day_base(stream, d) for d in days], dtype=np.uint64)
        return _mix_in_place(base[:, None] + blocks.astype(np.uint64)[None, :] * _U_GOLDEN)

    def _day_base(self, stream: str, day: int) -> int:
        base = self._ids.get(stream)  # mix(seed ^ stream id), once per stream
        if base is None:
            base = self._ids[stream] = mix(self.seed ^ stream_id(stream))
        return mix((base + (day & MASK) * GOLDEN) & MASK)


COUNT_DAYS = 32  # days of counts drawn at once, at least: one vectorised call instead of 32
# ... and more days while they hold at most COUNT_MEANS means, up to COUNT_DAYS_MAX: a stream
# of a few blocks (a town's strata) then draws its counts a few times a year, not twelve
COUNT_MEANS, COUNT_DAYS_MAX = 1 << 13, 128


def count_days(blocks: int) -> int:
    """How many days of counts `Counts` draws at once for a stream of `blocks` blocks."""
    return max(COUNT_DAYS, min(COUNT_DAYS_MAX, COUNT_MEANS // max(blocks, 1)))


class Counts:
    """How many draws each block brings on each day, drawn ahead for `count_days` days at a time.

    Counts depend only on (seed, stream, day, block) and the expected count, never on the state,
    so drawing them ahead changes nothing but the speed: the same numbers come out as when
    drawn one day at a time (`poisson_many` equals `poisson` draw for draw). A new expected
    count (a rule change) discards what was drawn ahead. The blocks' keys of the stream itself
    (`Streams.keys(stream, day, blocks)`, which key the draws' values) come ahead with them.
    """

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self._ahead: dict[str, tuple[int, np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(self, stream: str, day: int, lam: np.ndarray) -> np.ndarray:
        return self.get_with_keys(stream, day, lam)[0]

    def get_with_keys(
        self, stream: str, day: int, lam: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The day's counts per block, and the blocks' keys of `stream` that day (host)."""
        first, counts, keys = self.ahead(stream, day, lam)
        return counts[day - first], keys[day - first]

    def ahead(self, stream: str, day: int, lam: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """The days drawn ahead that hold `day`: the first of them, and per day and block the
        counts and the keys of `stream` (host, [days, blocks])."""
        held = self._ahead.get(stream)
        if (
            held is None
            or not held[0] <= day < held[0] + len(held[2])
            or not np.array_equal(held[1], lam)
        ):
            n = count_days(lam.size)
            days, blocks = range(day, day + n), np.arange(lam.size)
            count_keys = self.streams.day_keys(stream + ":count", days, blocks)
            counts = poisson_many(count_keys.ravel(), np.tile(lam, n)).reshape(n, -1)
            keys = self.streams.day_keys(stream, days, blocks)
            held = self._ahead[stream] = (day, lam.copy(), counts, keys)
        first, _, counts, keys = held
        return first, counts, keys


def in_chunks(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """`f(key, counters, *args)`, elementwise in `counters`, computed CHUNK counters at a time
    on the host when there are more (`key` and `args` sliced alike where they are arrays of
    the counters' shape): the same numbers, but each of its passes reads and writes a block
    that stays in cache instead of the whole day's arrays in memory (a nation's 12 million
    requests: about four times faster). Other backends compute it whole. With the compiled
    kernels on (`--backend numba`), `f`'s kernel computes it in one pass where it can."""

    @functools.wraps(f)
    def chunked(key: int | np.ndarray, counters: np.ndarray, *args: object) -> np.ndarray:
        if kernels.active() and type(counters) is np.ndarray:
            compiled = kernels.elementwise(f.__name__, key, counters, *args)
            if compiled is not None:
                return compiled
        if type(counters) is not np.ndarray or counters.ndim != 1 or counters.size <= CHUNK:
            return f(key, counters, *args)
        shape = counters.shape
        alike = [type(a) is np.ndarray and a.shape == shape for a in (key, *args)]
        out: np.ndarray | None = None
        for lo in range(0, counters.size, CHUNK):
            part = slice(lo, lo + CHUNK)
            cut = [
                a[part] if same and isinstance(a, np.ndarray) else a  # `same`: an ndarray
                for a, same in zip((key, *args), alike, strict=True)
            ]
            value = f(cut[0], counters[part], *cut[1:])
            if out is None:
                out = np.empty(shape, dtype=value.dtype)
            out[part] = value
        assert out is not None  # more than CHUNK counters: at least one chunk
        return out

    return chunked


@in_chunks
def bits(key: int | np.ndarray, counters: np.ndarray) -> np.ndarray:
    """64 random bits per counter; `key` may be one key or one per counter."""
    xp = array_module(counters)
    x = xp.asarray(counters, dtype=np.uint64) * _U_GOLDEN
    x += np.uint64(key) if isinstance(key, int) else xp.asarray(key, dtype=np.uint64)
    return _mix_in_place(x)


@in_chunks
def uniform(key: int | np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1) with 53 random bits, exact in float64 on every backend."""
    return (bits(key, counters) >> _U11).astype(np.float64) / _TWO_53


@in_chunks
def integers(key: int | np.ndarray, counters: np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """Uniform integers in [0, n); the bias is below n / 2**53."""
    xp = array_module(counters)
    return (uniform(key, counters) * xp.asarray(n, dtype=np.float64)).astype(np.int64)


def poisson_thresholds(mean: np.ndarray, most: int) -> np.ndarray:
    """Thresholds of a Poisson(mean) count on 32 random bits (uint64 [..., most]): a draw's
    count is how many of them it reaches (`searchsorted(..., side="right")`), capped at
    most - 1 (the last is 1: every draw stops there). One table per mean, computed on the
    host's libm, so that a count drawn for one person is the same on every backend."""
    k = np.arange(most)
    chance = libm(  # on the host's libm, whatever SIMD the CPU has (see `libm`)
        lambda m, n: math.exp(n * math.log(max(m, 1e-300)) - m - math.lgamma(n + 1)),
        mean[..., None],
        k,
    )
    cdf = np.cumsum(chance, axis=-1)
    cdf[..., -1] = 1.0
    return threshold(np.where(mean[..., None] > 0, cdf, 1.0))


def threshold(p: float | np.ndarray) -> np.ndarray:
    """Probabilities as uint64 thresholds on 32 random bits, computed once on the host, so that
    acceptance on any backend is an integer comparison (docs/architecture.md)."""
    scaled = np.round(np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0) * 4294967296.0)
    return scaled.astype(np.uint64)


@in_chunks
def accept(key: int | np.ndarray, counters: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """True where the top 32 bits fall below the threshold (see `threshold`)."""
    return (bits(key, counters) >> _U32) < thresholds


def waiting_days(key: int | np.ndarray, counters: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Days until an event whose daily chances are given as a cumulative threshold table.

    `cdf[t]` is the threshold of P(wait <= t + 1); draws past the table return len(cdf) + 1,
    meaning "not within the horizon". A table lookup keeps transcendental functions off the
    per-person path, where backends could round differently.
    """
    xp = array_module(counters)
    return xp.searchsorted(cdf, bits(key, counters) >> _U32, side="right") + 1


def stack_cdfs(cdfs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Threshold tables (see `waiting_days`) one after another in one sorted array, table i
    lifted by i * 2**33 (past any threshold, at most 2**32), and where each table begins: then
    `waiting_days_stacked` finds the waits of draws from many tables with one search."""
    lift = np.uint64(1 << 33)
    stacked = [cdf.astype(np.uint64) + np.uint64(i) * lift for i, cdf in enumerate(cdfs)]
    start = np.cumsum([0] + [len(cdf) for cdf in cdfs]).astype(np.int64)
    return np.concatenate([np.zeros(0, np.uint64), *stacked]), start


def waiting_days_stacked(
    key: int | np.ndarray,
    counters: np.ndarray,
    stacked: np.ndarray,
    start: np.ndarray,
    table: np.ndarray,
) -> np.ndarray:
    """`waiting_days(key, counters, cdfs[table])` for draws each from its own table (int64
    `table`), equal draw for draw, the tables stacked by `stack_cdfs`."""
    xp = array_module(counters)
    lifted = (bits(key, counters) >> _U32) + table.astype(np.uint64) * _U_LIFT
    return xp.searchsorted(stacked, lifted, side="right") - start[table] + 1


def geometric_cdf(daily: float, horizon: int) -> np.ndarray:
    """Threshold table for a wait with a constant daily chance, over `horizon` days: read-only
    and made once per (chance, horizon) in a process, since a rulebook that changes step by
    step (court-list-history's adoption curve: 73 versions) asks for the same tables at every
    step, and `libm` makes them one element at a time."""
    return _geometric_cdf(float(daily), int(horizon))


@functools.lru_cache(maxsize=1024)
def _geometric_cdf(daily: float, horizon: int) -> np.ndarray:
    table = threshold(geometric_chances(daily, horizon))
    table.flags.writeable = False
    return table


def geometric_chances(daily: float, horizon: int) -> np.ndarray:
    """P(wait <= t) for t = 1 .. horizon days, on the host's libm (see `libm`)."""
    log_stay = math.log1p(-min(daily, 1.0 - 1e-16))
    return libm(lambda t: -math.expm1(t * log_stay), np.arange(1, horizon + 1, dtype=np.float64))


def libm(function: Callable[..., float], *values: Any) -> np.ndarray:
    """`function` (of `math`) of each element (arguments broadcast), on the host's libm as the
    scalar draws are (`poisson`). NumPy's own exp, log, expm1, log1p and power take SIMD paths
    chosen by the CPU (AVX-512 or not) that round apart in the last bit for a few percent of
    inputs, so a threshold table made with them could differ between two machines, or between
    two nodes of one Ray cluster. Tables are small and made once a run."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    flat = zip(*(a.ravel().tolist() for a in arrays), strict=True)
    return np.array([function(*x) for x in flat], dtype=np.float64).reshape(arrays[0].shape)


def scalar_uniform(key: int, counter: int) -> float:
    return (mix((key + counter * GOLDEN) & MASK) >> 11) / _TWO_53


def poisson(key: int, lam: float) -> int:
    """One Poisson draw from the stream `key`: inversion below 10, PTRS above.

    PTRS is Hörmann's transformed rejection (1993), as in NumPy's `random_poisson_ptrs`. The
    count of events a stratum brings in a day is drawn here, on the host, for every backend.
    """
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        return _poisson_inversion(key, lam)
    return _poisson_ptrs(key, lam)


SCALAR_DRAWS = 8  # `poisson_many` draws this many or fewer one by one, in Python


def poisson_many(keys: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """`poisson(keys[i], lam[i])` for every i, equal draw for draw; the small means, which are
    most of them, by one vectorised inversion."""
    lam = np.asarray(lam, dtype=np.float64)
    if lam.size <= SCALAR_DRAWS:  # a few means (a day's regions): NumPy's per-call cost dominates
        pairs = zip(np.asarray(keys, dtype=np.uint64).tolist(), lam.tolist(), strict=True)
        return np.array([poisson(k, x) if x > 0.0 else 0 for k, x in pairs], dtype=np.int64)
    compiled = kernels.poisson_many(np.asarray(keys, dtype=np.uint64), lam)
    if compiled is not None:
        return compiled
    out = np.zeros(lam.size, dtype=np.int64)
    small = np.flatnonzero((lam > 0.0) & (lam < 10.0))
    if small.size:
        out[small] = _inversion_many(np.asarray(keys, dtype=np.uint64)[small], lam[small])
    large = np.flatnonzero(lam >= 10.0)
    if large.size:
        out[large] = _ptrs_many(np.asarray(keys, dtype=np.uint64)[large], lam[large])
    return out


def _ptrs_many(keys: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """PTRS for all at once, round after round on the draws still rejected. Its quick acceptance
    and its cheap rejections need only arithmetic, which rounds the same in NumPy as in Python;
    the draws that reach the test of logarithms take it one by one on the host's libm
    (`_ptrs_logs_accept`, as `_poisson_ptrs` does), so every draw equals the scalar one."""
    b = 0.931 + 2.53 * np.sqrt(lam)
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2)
    out = np.zeros(keys.size, dtype=np.int64)
    todo = np.arange(keys.size)
    counter = 0
    while todo.size:
        key, lam_t, a_t, b_t = keys[todo], lam[todo], a[todo], b[todo]
        u = uniform(key, np.full(todo.size, counter, dtype=np.uint64)) - 0.5
        v = uniform(key, np.full(todo.size, counter + 1, dtype=np.uint64))
        counter += 2
        us = 0.5 - np.abs(u)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.floor((2 * a_t / us + b_t) * u + lam_t + 0.43)
        done = (us >= 0.07) & (v <= vr[todo])
        # us = 0 (u = -0.5 exactly) is rejected as in `_poisson_ptrs`
        rejected = (us == 0.0) | (k < 0) | ((us < 0.013) & (v > us))
        tested = np.flatnonzero(~done & ~rejected)
        if tested.size:  # a third of the draws: each column read out once, not element by element
            done[tested] = list(
                map(
                    _ptrs_logs_accept,
                    v[tested].tolist(),
                    us[tested].tolist(),
                    k[tested].astype(np.int64).tolist(),
                    lam_t[tested].tolist(),
                    a_t[tested].tolist(),
                    b_t[tested].tolist(),
                )
            )
        out[todo[done]] = k[done].astype(np.int64)
        todo = todo[~done]
    return out


def _inversion_many(keys: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Inversion for all at once: step j adds P(X = j) to every draw's running sum, and a draw's
    count is the number of steps its uniform stayed above the sum. The sums grow, so once a
    draw's uniform falls at or below its sum it stays there: every element takes the very
    products and sums of `_poisson_inversion`, without picking out the draws still going."""
    u = uniform(keys, np.zeros(keys.size, dtype=np.uint64))
    unique, inverse = np.unique(lam, return_inverse=True)  # lam repeats: days ahead, strata
    p = np.array([math.exp(-x) for x in unique.tolist()])[inverse]  # the host's libm, as scalar
    cdf = p.copy()
    k = np.zeros(lam.size, dtype=np.int64)
    above = u > cdf
    step = 0
    while step < 1000 and above.any():
        step += 1
        k += above
        p *= lam / step  # lam / k of the draws still going, as `_poisson_inversion` divides
        cdf += p
        np.greater(u, cdf, out=above)
    return k


def _poisson_inversion(key: int, lam: float) -> int:
    u = scalar_uniform(key, 0)
    k, p = 0, math.exp(-lam)
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


def _poisson_ptrs(key: int, lam: float) -> int:
    b = 0.931 + 2.53 * math.sqrt(lam)
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2)
    counter = 0
    while True:
        u = scalar_uniform(key, counter) - 0.5
        v = scalar_uniform(key, counter + 1)
        counter += 2
        us = 0.5 - abs(u)
        if us == 0.0:  # u = -0.5 exactly: NumPy's C code gets k = -inf here and rejects
            continue
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if _ptrs_logs_accept(v, us, k, lam, a, b):
            return k


def _ptrs_logs_accept(v: float, us: float, k: int, lam: float, a: float, b: float) -> bool:
    """PTRS's last test of a round, on the host's libm (NumPy's logarithms may round apart)."""
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    return v == 0.0 or math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= (
        -lam + k * math.log(lam) - math.lgamma(k + 1)
    )


def hypergeometric(key: int, good: int, bad: int, sample: int) -> int:
    """How many of `sample` items drawn without replacement from `good` + `bad` are good: one
    draw from the stream `key`, on the host, the same anywhere (a national cap split over the
    regions by their counts alone: `scsim.engine.components.searches`). Fewer than 10 draws (or
    fewer than 10 left behind) empty the urn one by one; otherwise Stadlober's ratio-of-uniforms
    (HRUA, 1989), as in NumPy's `random_hypergeometric`, in expected constant time."""
    if sample <= 0 or good <= 0:
        return 0
    if bad <= 0:
        return sample
    if sample >= good + bad:
        return good
    if min(sample, good + bad - sample) < 10:
        return _hypergeometric_urn(key, good, bad, sample)
    return _hypergeometric_hrua(key, good, bad, sample)


def _hypergeometric_urn(key: int, good: int, bad: int, sample: int) -> int:
    """Draw the smaller of the sample and the rest one item at a time (counter by counter)."""
    total = good + bad
    drawn = min(sample, total - sample)
    left, good_left = total, good
    for counter in range(drawn):
        if int(scalar_uniform(key, counter) * left) < good_left:
            good_left -= 1
        left -= 1
    taken = good - good_left  # good items among the `drawn`
    return taken if drawn == sample else good - taken


_HRUA_D1, _HRUA_D2 = 1.7155277699214135, 0.8989161620588988  # 2 sqrt(2/e), 3 - 2 sqrt(3/e)


def _hypergeometric_hrua(key: int, good: int, bad: int, sample: int) -> int:
    """Stadlober's HRUA on the smaller colour and the smaller of sample and rest, mapped back
    (NumPy's `hypergeometric_hrua`, the uniforms drawn counter by counter from `key`)."""
    total = good + bad
    n = min(sample, total - sample)
    small, large = min(good, bad), max(good, bad)
    p, q = small / total, large / total
    a = n * p + 0.5
    c = math.sqrt((total - n) * n * p * q / (total - 1) + 0.5)
    h = _HRUA_D1 * c + _HRUA_D2
    mode = math.floor((n + 1) * (small + 1) / (total + 2))
    g = _log_urn(mode, small, large, n)
    bound = min(min(n, small) + 1, math.floor(a + 16 * c))  # 16 sds past the mean
    counter = 0
    while True:
        u = scalar_uniform(key, counter)
        v = scalar_uniform(key, counter + 1)
        counter += 2
        if u == 0.0:  # x would be infinite: NumPy's C code rejects it as out of bounds
            continue
        x = a + h * (v - 0.5) / u
        if x < 0.0 or x >= bound:
            continue
        k = math.floor(x)
        t = g - _log_urn(k, small, large, n)
        if u * (4.0 - u) - 3.0 <= t:  # quick acceptance
            break
        if u * (u - t) >= 1.0:  # quick rejection
            continue
        if 2.0 * math.log(u) <= t:
            break
    if good > bad:
        k = n - k
    return k if n == sample else good - k


def _log_urn(k: int, small: int, large: int, n: int) -> float:
    """The log-factorials of HRUA's table mountain at k (the pmf up to a constant)."""
    return (
        math.lgamma(k + 1)
        + math.lgamma(small - k + 1)
        + math.lgamma(n - k + 1)
        + math.lgamma(large - n + k + 1)
    )
