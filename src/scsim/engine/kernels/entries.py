"""A list's new members' exits, compiled: `listing.exit_plan` and `listing._appeal` in one pass
over the day's entries instead of two dozen NumPy calls per list a day.

Element by element the reference's arithmetic: the wait to complying drawn from the person's
id (`rng.waiting_days`: the first threshold of the table above the draw's top 32 bits), the
exit at the end of the term or on complying first; then whether they appeal (a chance for the
rightly and one for the wrongly listed), the wait to the decision and whether they win
(`rng.accept`), an appeal decided before the exit and won becoming the exit.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels.counters import _S32, hash64, jit, region_counter

NEVER = np.iinfo(np.int32).max  # as `listing.NEVER`: an open-ended term's exit


@numba.njit(cache=True, inline="always")
def _wait(cdf: Any, key: Any, person: Any) -> int:
    """`rng.waiting_days`: how many thresholds the draw reaches, plus 1."""
    return np.searchsorted(cdf, hash64(person, key) >> _S32, "right") + 1


@jit
def _exits(
    person: Any, wrongful: Any, day: int, term: int, keys: Any, comply_cdf: Any,
    appealing: bool, appeal: Any, appeal_win: Any, appeal_cdf: Any, origins: Any,
    until: Any, reason: Any, appeals: Any, decided: Any, decision: Any,
) -> None:  # fmt: skip
    horizon = term if term > 0 else comply_cdf.size
    complied, term_ended, appeal_won = origins[0], origins[1], origins[2]
    for i in range(person.size):
        wait = _wait(comply_cdf, keys[0], person[i])
        complies = wait <= horizon if term == 0 else wait < term
        if complies:
            until[i], reason[i] = day + wait, complied
        else:
            until[i], reason[i] = day + term if term > 0 else NEVER, term_ended
        if not appealing:
            continue
        side = 1 if wrongful[i] else 0
        x = np.uint64(person[i])
        appeals[i] = (hash64(x, keys[1]) >> _S32) < appeal[side]
        wait = _wait(appeal_cdf, keys[2], person[i])
        wins = (hash64(x, keys[3]) >> _S32) < appeal_win[side]
        decided[i] = appeals[i] and wait <= appeal_cdf.size and day + wait < until[i]
        decision[i] = day + wait
        if decided[i] and wins:
            until[i], reason[i] = day + wait, appeal_won


def exits(
    person: np.ndarray,
    wrongful: np.ndarray,
    day: int,
    term: int,
    keys: np.ndarray,
    comply_cdf: np.ndarray,
    appeal: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    origins: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Each new member's exit day and reason, and (with `appeal`: the chances of appealing and
    of winning [rightly, wrongly listed] and the decision's wait table) whether they appeal,
    whether it is decided before their exit, and its day. `keys`: comply, appeal, appeal:wait,
    appeal:won; `origins`: the ledger's complied, term_ended, appeal_won."""
    n = person.size
    until = np.empty(n, dtype=np.int64)
    reason = np.empty(n, dtype=np.uint8)
    appeals, decided = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    decision = np.zeros(n, dtype=np.int64)
    chances, wins, cdf = appeal if appeal is not None else (comply_cdf, comply_cdf, comply_cdf)
    _exits(
        np.ascontiguousarray(person, dtype=np.int64),
        np.ascontiguousarray(wrongful, dtype=np.bool_),
        day,
        term,
        keys,
        comply_cdf,
        appeal is not None,
        chances,
        wins,
        cdf,
        origins,
        until,
        reason,
        appeals,
        decided,
        decision,
    )
    return until, reason, appeals, decided, decision


@jit
def _enter(
    person: Any, origin: Any, mine: Any, detected: int, flags: Any, bit: int,
    region_start: Any, cases_key: Any, cases_cdf: Any, draw_cases: bool,
    out_person: Any, out_wrongful: Any,
) -> tuple[int, int]:  # fmt: skip
    # the cases: one per record, or each record's geometric draw by its region and rank there
    # (`sampling.region_counters`, then `rng.waiting_days`)
    cases = 0
    seen = np.zeros(region_start.size - 1 if draw_cases else 0, dtype=np.int64)
    keys = np.empty(person.size, dtype=np.int64)  # id << 1 | the record is true, of `mine`
    n, r = 0, 0
    for i in range(person.size):
        if not mine[i]:
            continue
        p = person[i]
        keys[n] = (p << 1) | (1 if origin[i] == detected else 0)
        n += 1
        if not draw_cases:
            cases += 1
            continue
        counter, r = region_counter(region_start, seen, r, p)
        cases += np.searchsorted(cases_cdf, hash64(counter, cases_key) >> _S32, "right") + 1
    # each person once, in id order, wrongful only if none of their records was true; those
    # already on the list left out (`listing._first_per_person`, then the fresh ones)
    keys = np.sort(keys[:n])
    fresh, i = 0, 0
    while i < n:
        p, true = keys[i] >> 1, 0
        while i < n and keys[i] >> 1 == p:
            true |= keys[i] & 1
            i += 1
        if (flags[p] & bit) == 0:
            out_person[fresh], out_wrongful[fresh] = p, true == 0
            fresh += 1
    return cases, fresh


def enter(
    person: np.ndarray,
    origin: np.ndarray,
    mine: np.ndarray,
    detected: int,
    flags: np.ndarray,
    bit: int,
    region_start: np.ndarray,
    cases: tuple[int, np.ndarray] | None,
) -> tuple[int, np.ndarray, np.ndarray]:
    """A list's day of listing records (`mine` of the day's records): the cases they bring
    (`cases`: the key and table of a geometric draw per record, or None: one each), and the
    people they put on the list, in id order, with whether every record of theirs was false."""
    size = int(np.count_nonzero(mine))
    out_person = np.empty(size, dtype=np.int64)
    out_wrongful = np.empty(size, dtype=np.bool_)
    key, cdf = cases if cases is not None else (0, np.zeros(1, dtype=np.uint64))
    count, fresh = _enter(
        person, origin, mine, detected, flags, bit, region_start, np.uint64(key), cdf,
        cases is not None, out_person, out_wrongful,
    )  # fmt: skip
    return count, out_person[:fresh], out_wrongful[:fresh]
