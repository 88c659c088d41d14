"""Companies: their ratings, compiled from a scenario's [companies] section, and their state.

The companies are the population's employers (`Population.employer`), numbered region by
region, so "a company of region r" is an integer in a range, as a person of a stratum is. Their
state is one small array per attribute, sized by the number of companies (far fewer than
people: about 14 bytes a company, one a person at 12 employees a company):

    score         int32  the rating score
    own_score     int32  the score its own records alone would give it (without its employees'
                         and partners' shares), so a sanction's cause can be judged
    grade         uint8  current grade, 0 the best
    fair_grade    uint8  the grade it would hold on its own records alone (the audit's yardstick)
    locked_until  int32  the day a directly set grade is released (-1: not locked)

A company's partners are a circulant graph over the companies of its region, as friendship is
over people: the partners of c are c +- o_k, zero bytes per edge.

    >>> plan = CompanyPlan.of(scenario, pop)          # None without a [companies] section
    >>> state = CompanyState.fresh(plan, xp)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from types import ModuleType
from typing import ClassVar

import numpy as np

from scsim.engine.backend import array_module, to_host
from scsim.engine.plan import DAYS_PER_YEAR, _tier_mask, grade_of
from scsim.engine.population import Population, friend_offsets
from scsim.engine.rng import threshold
from scsim.scenario.schema import CompanyEvent, Scenario


@dataclass(frozen=True)
class CompanyPlan:
    events: tuple[str, ...]
    grades: tuple[str, ...]
    measures: tuple[str, ...]
    size: int  # companies
    start: np.ndarray  # int64 [R]: first company of each region
    count: np.ndarray  # int64 [R]: companies per region
    base: int
    base_grade: int
    scale_min: int
    scale_max: int
    grade_min: np.ndarray  # int64 [G], best first
    assess_every: int
    reset: bool
    # events
    expected_events: np.ndarray  # float64 [R, E], host: companies x daily rate
    detect: np.ndarray  # uint64 [E, G]: detection thresholds by the company's grade
    points: np.ndarray  # int64 [E]
    set_grade: np.ndarray  # int64 [E], -1 for none
    lock_days: np.ndarray  # int64 [E]
    employee_points: np.ndarray  # int64 [people's event types]: charged to the employer
    # joint punishment
    expected_occasions: np.ndarray  # float64 [R, M], host
    sanctioned: np.ndarray  # bool [M, G]
    rewarded: np.ndarray  # bool [M, G]
    # partners and representatives
    partner_offsets: np.ndarray  # int64 [R, partners / 2]
    partner_points: np.ndarray  # int64 [G]
    representative_grade: np.ndarray  # bool [G]
    representative_list: int  # index into the rulebook's lists, -1 for none
    responsible: int  # people restricted per company: the legal representative and more
    list_companies: bool = False  # a company in those grades is an entry of its own there

    @classmethod
    def of(cls, s: Scenario, pop: Population) -> CompanyPlan | None:
        spec = s.companies
        if spec is None:
            return None
        grades, events, measures = tuple(spec.grades), tuple(spec.events), tuple(spec.measures)
        count = np.diff(pop.company_offset)
        grade_min = np.array([g.min for g in spec.grades.values()], dtype=np.int64)
        event_specs, measure_specs = list(spec.events.values()), list(spec.measures.values())
        return cls(
            events=events,
            grades=grades,
            measures=measures,
            size=pop.n_companies,
            start=pop.company_offset[:-1].copy(),
            count=count,
            base=spec.base,
            base_grade=int(grade_of(grade_min, np.array([spec.base]))[0]),
            scale_min=spec.scale.min,
            scale_max=spec.scale.max,
            grade_min=grade_min,
            assess_every=spec.assess_every_days,
            reset=spec.reset_on_assessment,
            expected_events=_expected(count, [e.per_year for e in event_specs]),
            detect=threshold(_by_grade(event_specs, grades)),
            points=np.array([e.points for e in event_specs], dtype=np.int64),
            set_grade=np.array(
                [-1 if e.set_grade is None else grades.index(e.set_grade) for e in event_specs],
                dtype=np.int64,
            ),
            lock_days=np.array([e.lock_days for e in event_specs], dtype=np.int64),
            employee_points=np.array(
                [spec.employee_points.get(e, 0) for e in s.behaviour.events], dtype=np.int64
            ),
            expected_occasions=_expected(count, [m.per_year for m in measure_specs]),
            sanctioned=_tier_mask(grades, [m.sanctioned_grades for m in measure_specs]),
            rewarded=_tier_mask(grades, [m.reward_grades for m in measure_specs]),
            partner_offsets=np.stack(
                [friend_offsets(max(int(n), 1), spec.partners) for n in count]
            ).reshape(len(count), spec.partners // 2),
            partner_points=np.array(
                [spec.partner_points.get(g, 0) for g in grades], dtype=np.int64
            ),
            representative_grade=_tier_mask(grades, [spec.representative_grades])[0],
            representative_list=(
                -1
                if spec.representative_list is None
                else list(s.rulebook.lists).index(spec.representative_list)
            ),
            responsible=spec.responsible_persons,
            list_companies=spec.list_companies,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """What company ledger rows name in their `rule` column (the ledger's vocabulary)."""
        return self.events + self.grades + self.measures

    def grade_of(self, score: np.ndarray) -> np.ndarray:
        return grade_of(self.grade_min, score)

    def assessing(self, day: int) -> bool:
        """Whether `day` ends an assessment period (every day when grades follow the score)."""
        return (day + 1) % self.assess_every == 0

    def resetting(self, day: int) -> bool:
        """Whether `day` ends a period whose scores then start again from base."""
        return self.reset and self.assess_every > 1 and self.assessing(day)

    def partners(self, companies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The partners of each company and which input each belongs to (never itself)."""
        xp = array_module(companies)
        half = self.partner_offsets.shape[1]
        if half == 0 or companies.size == 0:
            return xp.empty(0, dtype=np.int64), xp.empty(0, dtype=np.int64)
        r = xp.searchsorted(self.start, companies, side="right") - 1
        n = xp.maximum(self.count[r], 1)[:, None]
        local = (companies - self.start[r])[:, None]
        offsets = self.partner_offsets[r]
        both = xp.concatenate([local + offsets, local - offsets], axis=1)
        partner = (self.start[r][:, None] + xp.mod(both, n)).ravel()
        owner = xp.repeat(xp.arange(companies.size, dtype=np.int64), 2 * half)
        keep = partner != companies[owner]
        return partner[keep], owner[keep]


COMPANY_STATE_BYTES = 14  # per company: score, own_score, locked_until int32; two grades uint8


@dataclass
class CompanyState:
    score: np.ndarray
    own_score: np.ndarray
    grade: np.ndarray
    fair_grade: np.ndarray
    locked_until: np.ndarray
    grade_counts: np.ndarray  # int64 [G], host: companies per grade
    pending: np.ndarray  # companies whose score moved after today's grading (partners' shares)

    # a checkpoint's must match these; `pending` is the one whose length varies
    FIXED: ClassVar[tuple[str, ...]] = (
        "score",
        "own_score",
        "grade",
        "fair_grade",
        "locked_until",
        "grade_counts",
    )

    @classmethod
    def fresh(cls, plan: CompanyPlan, xp: ModuleType = np) -> CompanyState:
        counts = np.zeros(len(plan.grades), dtype=np.int64)
        counts[plan.base_grade] = plan.size
        return cls(
            score=xp.full(plan.size, plan.base, dtype=np.int32),
            own_score=xp.full(plan.size, plan.base, dtype=np.int32),
            grade=xp.full(plan.size, plan.base_grade, dtype=np.uint8),
            fair_grade=xp.full(plan.size, plan.base_grade, dtype=np.uint8),
            locked_until=xp.full(plan.size, -1, dtype=np.int32),
            grade_counts=counts,
            pending=xp.empty(0, dtype=np.int64),
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every attribute as a host array (for a checkpoint)."""
        return {f.name: to_host(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], xp: ModuleType = np) -> CompanyState:
        return cls(
            **{
                f.name: np.array(arrays[f.name])
                if f.name == "grade_counts"
                else xp.asarray(arrays[f.name])
                for f in fields(cls)
            }
        )


def _by_grade(events: list[CompanyEvent], grades: tuple[str, ...]) -> np.ndarray:
    """Detection per event type and grade: the grade's own chance, else the event's."""
    chance = [[e.detection_by_grade.get(g, e.detection) for g in grades] for e in events]
    return np.array(chance, dtype=np.float64).reshape(len(events), len(grades))


def _expected(count: np.ndarray, per_year: list[float]) -> np.ndarray:
    rate = np.array(per_year, dtype=np.float64) / DAYS_PER_YEAR
    return count[:, None].astype(np.float64) * rate[None, :]
