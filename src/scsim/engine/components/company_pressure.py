"""Foreign-owned companies, political pressure, and a company's way back to a better rating.

- Foreign ownership (`companies.foreign_share` [U]): the last ids of each region's companies
  are foreign-owned, so the flag costs no bytes.
- Political pressure (004: foreign firms threatened with lower ratings over maps of Taiwan and a
  sports executive's post): an event with `foreign_only` happens to foreign-owned companies
  only (its draws on domestic companies are dropped, so `per_year` is per foreign company);
  with `yield_to_pressure` a company yields before the record is made (it withdraws the map,
  apologises for the post) and no record is made: counted (`company_pressure_yielded`) beside
  the records made (`company_pressure_records`).
- Credit repair (since 2020, after correction [P]): a company in one of `repair_grades` repairs
  at `repair_per_year`: drawn as company events are (uniform companies at that rate, kept where
  the grade qualifies), its score goes back up to base (a `company_record` row, rule
  `credit_repair`, origin complied), its lock ends and its grade follows the score at once,
  even between yearly assessments (a `company_grade` row, origin complied;
  `company_repairs`).

Every draw is keyed by region and a counter within it, as the companies' own events are, so a
shard draws the same.

    >>> pressure = Pressure.of(scenario, pop, xp)   # None without foreign-only events
    >>> repair = Repair.of(scenario, pop, xp)       # None without repair_per_year
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import array_module
from scsim.engine.ledger import ORIGIN
from scsim.engine.plan import DAYS_PER_YEAR
from scsim.engine.population import Population
from scsim.engine.rng import accept, threshold
from scsim.engine.sampling import people_in_ranges
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context

REPAIR = "credit_repair"  # the rule of a repair's row


def foreign_starts(s: Scenario, pop: Population) -> np.ndarray:
    """First foreign-owned company of each region: int64 [R] (the region's end for none)."""
    share = 0.0 if s.companies is None else s.companies.foreign_share
    count = np.diff(pop.company_offset)
    return pop.company_offset[1:] - np.round(count * share).astype(np.int64)


@dataclass(frozen=True)
class Pressure:
    foreign_only: np.ndarray  # bool [company events]
    yields: np.ndarray  # uint64 [company events]: threshold of yielding
    foreign_start: np.ndarray  # int64 [R]
    company_start: np.ndarray  # int64 [R + 1]

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> Pressure | None:
        if s.companies is None or not any(e.foreign_only for e in s.companies.events.values()):
            return None
        events = list(s.companies.events.values())
        return cls(
            foreign_only=xp.asarray([e.foreign_only for e in events], dtype=bool),
            yields=xp.asarray(threshold(np.array([e.yield_to_pressure for e in events]))),
            foreign_start=xp.asarray(foreign_starts(s, pop)),
            company_start=xp.asarray(pop.company_offset),
        )

    def foreign(self, company: np.ndarray) -> np.ndarray:
        xp = array_module(company)
        region = xp.searchsorted(self.company_start, company, side="right") - 1
        return company >= self.foreign_start[region]

    def keep(
        self, ctx: Context, day: int, company: np.ndarray, event: np.ndarray, serial: np.ndarray
    ) -> tuple[np.ndarray, dict[str, int]]:
        """Which of the day's recorded company events stand: not a foreign-only event of a
        domestic company, nor one its foreign company yielded on."""
        pressed = self.foreign_only[event]
        drawn = pressed & self.foreign(company)
        key = ctx.streams.key("company-yield", day)
        yielded = drawn & accept(key, serial, self.yields[event])
        keep = ~pressed | (drawn & ~yielded)
        made = int((drawn & ~yielded).sum())
        counts = {"company_pressure_records": made, "company_pressure_yielded": int(yielded.sum())}
        return keep, counts


@dataclass(frozen=True)
class Repair:
    expected: np.ndarray  # float64 [R, 1], host: companies x daily rate
    grades: np.ndarray  # bool [G]: grades a company can repair its way out of

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> Repair | None:
        spec = s.companies
        if spec is None or spec.repair_per_year == 0:
            return None
        count = np.diff(pop.company_offset).astype(np.float64)
        return cls(
            expected=(count * spec.repair_per_year / DAYS_PER_YEAR)[:, None],
            grades=xp.asarray([g in spec.repair_grades for g in spec.grades], dtype=bool),
        )

    def rows(self, ctx: Context, day: int) -> tuple[dict[str, np.ndarray], int]:
        """Today's repairs as company record rows (score back to base), their locks ended."""
        xp, plan, host, state = ctx.xp, ctx.firms.plan, ctx.firms.host_plan, ctx.firms.state
        draw = people_in_ranges(
            plan.start, plan.count, ctx.streams, "company-repair", day, self.expected
        )
        company = xp.unique(draw.person[self.grades[state.grade[draw.person]]])
        state.locked_until[company] = -1
        delta = xp.maximum(host.base - state.score[company].astype(np.int64), 0)
        n = int(company.size)
        code = ctx.params.codes.vocabulary.code(REPAIR)
        return {
            "entity": company,
            "event": xp.full(n, -1, dtype=np.int64),
            "rule": xp.full(n, code, dtype=np.int16),
            "delta": delta,
            "source": xp.zeros(n, dtype=np.int16),
            "origin": xp.full(n, ORIGIN["complied"], dtype=np.uint8),
            "truth": xp.ones(n, dtype=bool),
        }, n
