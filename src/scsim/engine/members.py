"""Who is in each grade that acts on people, kept as grades change: sorted ids per grade.

A grade that refuses or rewards a service, whose holders buy points or that carries a burden
acts on its members only. Finding them by a pass over a nation's grade column costs 1.4 GB of
reads; keeping them as grades move costs what the moves cost. So the grades that act and are
nobody's starting grade (everyone starts in a base grade, which is never rostered: its roster
would be the population) each keep their members' ids here, sorted, so that a region's or an
id range's members are one slice (`scsim.engine.components.demand`, the gray market's buyers,
the weekly burdens).

Writers only say whose grade may have moved (`touch`); the rosters are brought up to date when
read (`of`), from the grades then held: one merge per read however many moves came between,
and a person who moved twice in a day is where the grade column says.

    >>> members = Members.fresh(rostered, xp)  # every rostered grade empty: all at base
    >>> members.touch(who)                     # after writing people.tier[who]
    >>> members.of(t, people.tier)             # the ids in grade t, ascending
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import find_sorted, to_host, unique

if TYPE_CHECKING:
    from scsim.engine.mechanisms import Mechanisms
    from scsim.engine.plan import Plan


def acting_grades(plan: Plan) -> np.ndarray:
    """The grades each service's grades act on (host bool [V, T]): refused or rewarded, for the
    services whose other rules reach past grades and lists (household lists, premiums) none,
    since their requests are drawn from everyone anyway."""
    acting = plan.service_blocked_tiers | plan.service_reward_tiers
    return acting & ~plan.service_beyond_lists[:, None]


def rostered_grades(plans: Iterable[Plan], mechanisms: Mechanisms, bases: set[int]) -> np.ndarray:
    """Which grades keep a roster (host bool [T]): those a service of any rulebook in force
    during the run acts on, whose holders buy points or that carry a burden, less every
    starting grade (`bases`)."""
    plans = list(plans)
    acting = np.zeros(len(plans[0].tiers), dtype=bool)
    for plan in plans:
        acting |= acting_grades(plan).any(axis=0)
    if mechanisms.gray_market is not None:
        acting |= to_host(mechanisms.gray_market.buyer).astype(bool)
    if mechanisms.burdens is not None:
        acting |= mechanisms.burdens.carried_on_host.any(axis=1)
    acting[sorted(bases)] = False
    return acting


class Members:
    """The ids of each rostered grade's holders, sorted; brought up to date on reading."""

    def __init__(self, rosters: dict[int, np.ndarray], xp: ModuleType = np) -> None:
        self.xp = xp
        self.rosters = rosters
        self._touched: list[np.ndarray] = []
        self._rostered = xp.zeros(max(rosters, default=-1) + 1, dtype=bool)
        self._rostered[list(rosters)] = True

    @classmethod
    def fresh(cls, rostered: np.ndarray, xp: ModuleType = np) -> Members:
        """Every rostered grade empty: everyone starts in a base grade, never rostered."""
        grades = np.flatnonzero(rostered).tolist()
        return cls({t: xp.empty(0, dtype=np.int64) for t in grades}, xp)

    @property
    def grades(self) -> list[int]:
        return list(self.rosters)

    def touch(
        self, ids: np.ndarray, before: np.ndarray | None = None, after: np.ndarray | None = None
    ) -> None:
        """`ids`' grades may have changed (any order, repeats allowed); with the grades
        `before` and `after`, only those who left or entered a rostered grade are kept (most of
        a day's moves are between grades without rosters: a nation's 1.4 million a day)."""
        if not self.rosters or len(ids) == 0:
            return
        if before is not None and after is not None:
            ids = ids[self._in_roster(before) | self._in_roster(after)]
        if len(ids):
            self._touched.append(ids.astype(np.int64, copy=False))

    def _in_roster(self, grade: np.ndarray) -> np.ndarray:
        top = self._rostered.size - 1  # grades above every rostered one are not rostered
        return self._rostered[self.xp.minimum(grade, top)] & (grade <= top)

    def clear(self, lo: int, hi: int) -> None:
        """Everyone in [lo, hi) moved to a starting grade (a place's rulebook began)."""
        xp = self.xp
        for t, ids in self.rosters.items():
            a, b = (int(x) for x in to_host(xp.searchsorted(ids, xp.asarray([lo, hi]))))
            if b > a:
                self.rosters[t] = xp.concatenate([ids[:a], ids[b:]])

    def of(self, grade: int, tier: np.ndarray) -> np.ndarray:
        """The ids in `grade` (a rostered one), ascending, as `tier` says now."""
        self._sync(tier)
        return self.rosters[grade]

    def _sync(self, tier: np.ndarray) -> None:
        """Each touched id leaves every roster and joins the one of the grade it holds now."""
        if not self._touched:
            return
        xp = self.xp
        moved = unique(xp, xp.concatenate(self._touched))
        self._touched = []
        held = tier[moved]
        for t, ids in self.rosters.items():
            compiled = kernels.resorted(ids, moved, held == t)
            if compiled is not None:
                self.rosters[t] = compiled
                continue
            self.rosters[t] = _merged(xp, _without(xp, ids, moved), moved[held == t])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Each roster as a host array `grade<t>` and the ids touched since the last reading
        as `touched` (for a checkpoint)."""
        xp = self.xp
        touched = xp.concatenate(self._touched) if self._touched else xp.empty(0, np.int64)
        rosters = {f"grade{t}": to_host(ids) for t, ids in self.rosters.items()}
        return rosters | {"touched": to_host(touched)}

    @classmethod
    def from_arrays(cls, columns: dict[str, np.ndarray], xp: ModuleType = np) -> Members:
        grades = sorted(int(n.removeprefix("grade")) for n in columns if n.startswith("grade"))
        members = cls({t: xp.asarray(columns[f"grade{t}"], dtype=np.int64) for t in grades}, xp)
        members.touch(xp.asarray(columns.get("touched", np.empty(0, np.int64))))
        return members


def _without(xp: ModuleType, ids: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """`ids` (sorted) less those in `moved` (sorted, unique)."""
    if ids.size == 0:
        return ids
    at, found = find_sorted(xp, moved, ids)
    hit = at[found]
    if hit.size == 0:
        return ids
    keep = xp.ones(ids.size, dtype=bool)
    keep[hit] = False
    return ids[keep]


def _merged(xp: ModuleType, ids: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Two sorted arrays of distinct ids as one, in one pass over the longer (a nation's grade
    may hold millions; a day adds thousands)."""
    if new.size == 0:
        return ids
    if ids.size == 0:
        return new.copy()
    place = xp.searchsorted(ids, new) + xp.arange(new.size)  # each new id's place in the result
    out = xp.empty(ids.size + new.size, dtype=np.int64)
    old = xp.ones(out.size, dtype=bool)
    old[place] = False
    out[place] = new
    out[old] = ids
    return out
