"""Compiled kernels (Numba) for the NumPy backend's hottest elementwise work: `--backend numba`.

The NumPy code stays the reference: every kernel here computes, element by element, exactly
what its NumPy counterpart computes (the same integer hash, the same float64 product truncated
the same way), so a run writes the same bytes on either path and at any number of threads
(each element is computed alone; nothing is reduced across threads). A kernel replaces a
chain of whole-array temporaries by one pass, and runs over the machine's cores.

Which path runs is one switch for the process, set when a backend is loaded
(`scsim.engine.backend.load`): `numba` switches the kernels on, `numpy` (the reference) and
`gpu` switch them off. Functions are compiled on first use and cached on disk (`cache=True`),
so only the first run after an install pays for compiling them.

With the kernels on, a call over fewer than `COMPILED_FROM` elements still goes to NumPy (the
same bytes either way) unless it reads a population of `COLUMNS_FROM` people or more at its
elements' ids (a grade, a score, a friend's wariness), and Numba is imported on the first
call that reaches it: a small run never pays the second or so that importing Numba and
loading its cached kernels cost, which is more than its whole year of days. A process that
runs many runs (calibration's workers) sends every call to its kernel, however few its
elements (`load`): a day's small calls are chains of NumPy calls, each costing about a
microsecond whatever its size, where a kernel is one.

    >>> from scsim.engine import kernels
    >>> kernels.switch(True)                      # what `load("numba")` does
    >>> kernels.elementwise("accept", key, counters, thresholds)   # None: not a shape it takes
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

_active = False
_every = False  # every call compiled, however small (`load`)
# elements from which a call goes to its kernel: below, a kernel saves a few microseconds a
# call, and a 100,000-person run's arrays (its requests, a day's records) all stay below, so
# such a run never imports Numba; a population-wide pass of a million people goes compiled
COMPILED_FROM = 1 << 17
# people from which a call that reads or writes their columns at its elements' ids goes to its
# kernel however few its elements: each element is then a cache miss or two in columns far
# larger than the cache, which the kernel's one pass waits on once and NumPy's gathers and
# scatters once per column (at 10**8 people a day's grades, points and friends are 20,000 to
# 160,000 people each), and a run this large imports Numba for its population-wide passes
COLUMNS_FROM = 1 << 22


def worth(elements: int, columns: int = 0) -> bool:
    """Whether a call over `elements` (at ids into `columns` people's columns) goes compiled:
    from COMPILED_FROM elements, or from one where it reads a population of COLUMNS_FROM or
    where this process sends every call to its kernel (`load`)."""
    if elements >= COMPILED_FROM:
        return True
    return elements > 0 and (columns >= COLUMNS_FROM or _every)


def few(elements: int) -> bool:
    """Whether a call over `elements` goes compiled, for the kernels whose callers do not ask
    `active` first."""
    return _active and worth(elements)


def load() -> None:
    """Import Numba now, and from here on send every call to its kernel however few its
    elements: for a process that runs many runs (calibration's workers). Such a process pays
    once for the import and for loading each cached kernel, and then saves on every run the
    microsecond each NumPy call of a chain costs where a kernel is one call (a court-list
    fit's day: its Poisson counts, its rosters, its draws). A single run does not gain: the
    kernels its small calls would load cost a run of a million people more than they save."""
    global _every
    import numba  # noqa: F401

    _every = True


def available() -> bool:
    """Whether Numba is installed here (found, not imported: importing it takes a second)."""
    return importlib.util.find_spec("numba") is not None


def switch(on: bool) -> None:
    """Switch the compiled path on or off for this process (NumPy arrays only); Numba itself is
    imported by the first call with `COMPILED_FROM` elements or more."""
    global _active
    _active = on


def active() -> bool:
    return _active


def elementwise(name: str, key: Any, counters: np.ndarray, *args: Any) -> np.ndarray | None:
    """`scsim.engine.rng`'s `name` (bits, uniform, integers, accept) of NumPy arrays by its
    compiled kernel, or None where the arguments are not a shape the kernel takes (the caller
    then computes it with NumPy)."""
    if not worth(counters.size):
        return None
    from scsim.engine.kernels.counters import elementwise as compiled

    return compiled(name, key, counters, *args)


def poisson_many(keys: np.ndarray, lam: np.ndarray) -> np.ndarray | None:
    """`scsim.engine.rng.poisson_many` by one call, or None (kernels off or not `few`)."""
    if not few(lam.size):
        return None
    from scsim.engine.kernels.poisson import poisson_many as compiled

    return compiled(keys, lam)


def roster_merge(
    columns: dict[str, np.ndarray], new: dict[str, np.ndarray], names: tuple[str, ...]
) -> dict[str, np.ndarray] | None:
    """`scsim.engine.state.Roster.add`'s merge of every column in one pass, or None."""
    ids = columns[names[0]]
    if type(ids) is not np.ndarray or not few(ids.size + new[names[0]].size):
        return None
    from scsim.engine.kernels.rosters import merge

    return merge(columns, new, names)


def roster_split(
    columns: dict[str, np.ndarray], mask: np.ndarray, names: tuple[str, ...], in_place: bool
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    """`scsim.engine.state.Roster.take`'s members kept and taken in one pass (`in_place`: the
    kept compacted in the columns' own arrays), or None."""
    if type(mask) is not np.ndarray or not few(mask.size):
        return None
    from scsim.engine.kernels.rosters import split

    return split(columns, mask, names, in_place)


def resorted(ids: np.ndarray, moved: np.ndarray, joins: np.ndarray) -> np.ndarray | None:
    """`scsim.engine.members.Members`' roster of a grade after its moves, in one pass, or
    None."""
    if type(ids) is not np.ndarray or not few(ids.size + moved.size):
        return None
    from scsim.engine.kernels.rosters import resorted as compiled

    return compiled(ids, moved, joins)


def listed_requests(
    rosters: tuple[np.ndarray, ...],
    flags: np.ndarray,
    region_start: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    daily: np.ndarray,
    keys: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`scsim.engine.components.demand.listed_requests`' draws from the lists' members (each
    pair's roster, service and earlier lists; the count and who keys of each pair and region)
    in one call, or None (see `kernels.demand.listed`)."""
    if type(flags) is not np.ndarray or not few(sum(ids.size for ids in rosters)):
        return None
    from scsim.engine.kernels.demand import listed

    return listed(rosters, flags, region_start, pairs, daily, keys)


def list_exits(
    person: np.ndarray,
    wrongful: np.ndarray,
    day: int,
    term: int,
    keys: np.ndarray,
    comply_cdf: np.ndarray,
    appeal: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    origins: np.ndarray,
) -> tuple[np.ndarray, ...] | None:
    """A list's new members' exits and appeals in one pass, or None (see `kernels.entries`)."""
    if type(person) is not np.ndarray or not few(person.size):
        return None
    from scsim.engine.kernels.entries import exits

    return exits(person, wrongful, day, term, keys, comply_cdf, appeal, origins)


def list_entries(
    person: np.ndarray,
    origin: np.ndarray,
    mine: np.ndarray,
    detected: int,
    flags: np.ndarray,
    bit: int,
    region_start: np.ndarray,
    cases: tuple[int, np.ndarray] | None,
) -> tuple[int, np.ndarray, np.ndarray] | None:
    """A list's day of listing records, its cases and new members in one pass, or None (see
    `kernels.entries.enter`)."""
    if type(person) is not np.ndarray or not few(person.size):
        return None
    if person.dtype != np.int64 or region_start.dtype != np.int64 or flags.dtype != np.uint8:
        return None
    from scsim.engine.kernels.entries import enter

    return enter(person, origin, mine, detected, flags, bit, region_start, cases)


def draws_of_counts(
    counts: np.ndarray,
    blocks: int,
    width: int,
    keys: np.ndarray,
    start: np.ndarray,
    size: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """`draws` of counts[b] draws of each block b, by one kernel, or None (see `draws`)."""
    if not worth(int(counts.sum())):
        return None
    from scsim.engine.kernels.sampling import draws_of_counts as compiled

    return compiled(counts, blocks, width, keys, start, size)


def region_counters(region_start: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """`scsim.engine.sampling.region_counters` by one counting pass, or None (dtypes)."""
    if not worth(person.size):
        return None
    from scsim.engine.kernels.sampling import region_counters as compiled

    return compiled(region_start, person)


def seen_among_friends(
    region_start: np.ndarray,
    offsets: np.ndarray,
    wariness: np.ndarray,
    person: np.ndarray,
    cap: int,
) -> np.ndarray | None:
    """`scsim.engine.components.chill`'s friends' wariness, summed and capped, by one pass."""
    if not worth(person.size, wariness.size):
        return None
    from scsim.engine.kernels.people import seen_among_friends as compiled

    return compiled(region_start, offsets, wariness, person, cap)


def grow_wary(wariness: np.ndarray, person: np.ndarray) -> bool:
    """`scsim.engine.components.respond`'s wariness grown by one pass; False where the NumPy
    reference is to do it (kernels off or not worth it, or not the kernel's arrays)."""
    if type(wariness) is not np.ndarray or type(person) is not np.ndarray:
        return False
    if not (_active and worth(person.size, wariness.size)):
        return False
    from scsim.engine.kernels.people import grow_wary as compiled

    return compiled(wariness, person)


def lookup(table: np.ndarray, row: np.ndarray, column: Any) -> np.ndarray | None:
    """`scsim.engine.backend.lookup` by one pass, or None where the kernel does not take it."""
    if not worth(np.size(row)):
        return None
    from scsim.engine.kernels.people import lookup as compiled

    return compiled(table, row, column)


def request_gather(
    tier: np.ndarray, flags: np.ndarray, lists: np.ndarray, person: np.ndarray, service: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The sanction stage's grade, flags and refusing lists of each request, in one pass."""
    if not worth(person.size, tier.size):
        return None
    from scsim.engine.kernels.requests import gather

    return gather(tier, flags, lists, person, service)


def request_decide(
    by_list: np.ndarray,
    by_household: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
    blocked_tiers: np.ndarray,
    reward_tiers: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The sanction stage's refused and rewarded requests, in one pass."""
    if not worth(service.size):
        return None
    from scsim.engine.kernels.requests import decide

    return decide(by_list, by_household, service, tier, blocked_tiers, reward_tiers)


def retries(
    person: np.ndarray,
    service: np.ndarray,
    region_start: np.ndarray,
    key: int,
    chance: np.ndarray,
    wait_keys: np.ndarray,
    stacked: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The refused who try again, and their waits, in one pass, or None (see
    `kernels.requests.retries`)."""
    if type(person) is not np.ndarray or not few(person.size):
        return None
    if person.dtype != np.int64 or service.dtype != np.int64 or region_start.dtype != np.int64:
        return None
    from scsim.engine.kernels.requests import retries as compiled

    return compiled(person, service, region_start, key, chance, wait_keys, *stacked)


def apply_points(
    order: np.ndarray,
    person: np.ndarray,
    delta: np.ndarray,
    truth: np.ndarray,
    score: np.ndarray,
    false_points: np.ndarray,
    low: int,
    high: int,
) -> tuple[np.ndarray, int] | None:
    """The score stage's points of the rows `order` (sorted by person) applied in one pass:
    (the people touched, the change of the score's sum), or None (see `points.apply_points`)."""
    if not worth(order.size, score.size):
        return None
    from scsim.engine.kernels.points import apply_points as compiled

    return compiled(order, person, delta, truth, score, false_points, low, high)


def follow_points(
    affected: np.ndarray,
    score: np.ndarray,
    tier: np.ndarray,
    flags: np.ndarray,
    tier_min: np.ndarray,
    locked: int,
    lock_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Grades following points in one pass: (grades before, after, fell into a locking
    grade), or None (see `grades.follow_points`)."""
    if not worth(affected.size, score.size):
        return None
    from scsim.engine.kernels.grades import follow_points as compiled

    return compiled(affected, score, tier, flags, tier_min, locked, lock_days)


def fair_grades(
    person: np.ndarray,
    score: np.ndarray,
    false_points: np.ndarray,
    flags: np.ndarray,
    tier_min: np.ndarray,
    locked: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Grades without false records and the locked flag in one pass, or None (see
    `grades.fair_grades`)."""
    if not worth(person.size, score.size):
        return None
    from scsim.engine.kernels.grades import fair_grades as compiled

    return compiled(person, score, false_points, flags, tier_min, locked)


def by_grade(table: np.ndarray, tier: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """`table[tier[person]]` in one pass, or None (see `grades.by_grade`)."""
    if not worth(person.size, tier.size):
        return None
    from scsim.engine.kernels.grades import by_grade as compiled

    return compiled(table, tier, person)


def detections(
    watches: np.ndarray,
    column: np.ndarray,
    serial: np.ndarray,
    stratum: np.ndarray,
    keys: np.ndarray,
    detect: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The observe stage's records (sensor, event index) by the first detecting sensor, in
    one pass, or None (see `observe.detections`)."""
    if not worth(column.size):
        return None
    from scsim.engine.kernels.observe import detections as compiled

    return compiled(watches, column, serial, stratum, keys, detect)
