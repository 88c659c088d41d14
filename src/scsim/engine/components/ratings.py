"""Stage 3c, companies: ratings move, grades follow, agencies act on the grades.

Runs after the people's score (it takes their records of the day) and before their sanctions
(a legal representative restricted today is refused today). Off without a [companies] section.

1. record   - companies' own events happen and some are recorded, more of them in a grade
              that draws more inspections (Poisson counts per region and event type, then
              uniform company ids, as for people); a share of each employee's recorded
              points (`spillover.employer`), or a set number of points per recorded event
              (`companies.employee_points`), is charged to the employer;
2. grade    - points are applied, clipped to the scale; grades follow the score every day
              (touched companies only) or at each assessment (all of them, then the score may
              start again from base); an event may set a grade at once and lock it;
3. spread   - a company entering or leaving a grade that `partner_points` names moves its
              partners' scores (they are regraded the next day, or at the next assessment);
4. restrict - the legal representative of a company entering a restricted grade goes on a
              person list, and leaves it when the company leaves those grades;
5. punish   - agencies deal with companies by grade (`scsim.engine.components.joint_punishment`).

Companies are numbered region by region, their partners and employees are of their region, and
every draw about them is keyed by region (a Poisson count per region and event type or
measure, a counter within it), so a shard rates exactly its regions' companies: its expected
counts are zero elsewhere and it assesses only `ctx.firms.range` (scsim.simulation.shards).

    >>> day = rate_companies(ctx, day, records)     # None when no company is rated
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.components.company_listing import list_companies
from scsim.engine.components.joint_punishment import (
    punish,
    representatives_listed,
    restrict_representatives,
    write_rows,
)
from scsim.engine.components.observe import Records
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept
from scsim.engine.sampling import people_in_ranges

if TYPE_CHECKING:
    from scsim.engine.context import Context


UNLOCK_COLUMNS: dict[str, type[np.generic]] = {"company": np.int64}


@dataclass(frozen=True)
class CompanyDay:
    events: int  # true events of companies
    records: np.ndarray  # int64 [len(ORIGINS)]: company record rows by origin
    graded: int  # changes of grade
    occasions: np.ndarray  # int64 [M]
    sanctions: np.ndarray  # int64 [M]
    sanctions_wrongful: np.ndarray  # int64 [M]: the company's own records would not earn it
    rewards: np.ndarray  # int64 [M]
    representatives_listed: int
    representatives_released: int
    extra: dict[str, int] = field(default_factory=dict)  # pressure and repair (if on)


@dataclass(frozen=True)
class CompanyCodes:
    events: np.ndarray
    grades: np.ndarray
    measures: np.ndarray


def rate_companies(ctx: Context, day: int, records: Records) -> CompanyDay | None:
    if ctx.state.companies is None:
        return None
    xp = ctx.xp
    own, n_events, extra = _own_records(ctx, day)
    rows = _concat(xp, own, _employee_records(ctx, records))
    repair, repaired = ctx.params.mechanisms.repair, None
    if repair is not None:  # credit repair: back up to base, regraded (`company_pressure`)
        repairs, extra["company_repairs"] = repair.rows(ctx, day)
        rows, repaired = _concat(xp, rows, repairs), repairs["entity"]
    touched = _apply(ctx, day, rows)
    direct = own["entity"][ctx.firms.plan.set_grade[own["event"]] >= 0]
    moved, before, after = _regrade(ctx, day, touched, direct, own, repaired)
    rows_partner = _spread(ctx, day, moved, before, after)
    listed, released = restrict_representatives(ctx, day, moved, before, after)
    if ctx.firms.host_plan.list_companies:
        extra |= list_companies(ctx, day, moved, before, after)  # entries of their own
    origins = xp.concatenate([rows["origin"], rows_partner])
    return CompanyDay(
        events=n_events,
        records=to_host(xp.bincount(origins, minlength=len(ORIGIN))),
        graded=int(moved.size),
        representatives_listed=listed,
        representatives_released=released,
        extra=extra,
        **punish(ctx, day),
    )


# ---------------------------------------------------------------- 1. record


def _own_records(ctx: Context, day: int) -> tuple[dict[str, np.ndarray], int, dict[str, int]]:
    plan, host, xp = ctx.firms.plan, ctx.firms.host_plan, ctx.xp
    draw = people_in_ranges(
        plan.start, plan.count, ctx.streams, "company-events", day, host.expected_events
    )
    grade = ctx.firms.state.grade[draw.person]  # yesterday's: today's grading comes later
    seen = accept(
        ctx.streams.key("company-observe", day), draw.serial, plan.detect[draw.column, grade]
    )
    extra: dict[str, int] = {}
    pressure = ctx.params.mechanisms.pressure
    if pressure is not None:  # foreign-only events, yielded to (`company_pressure`)
        keep, extra = pressure.keep(ctx, day, draw.person, draw.column, draw.serial)
        seen &= keep
    event = draw.column[seen]
    n = int(event.size)
    return (
        {
            "entity": draw.person[seen],
            "event": event,
            "rule": ctx.firms.codes.events[event],
            "delta": plan.points[event],
            "source": xp.zeros(n, dtype=np.int16),
            "origin": xp.full(n, ORIGIN["detected"], dtype=np.uint8),
            "truth": xp.ones(n, dtype=bool),
        },
        len(draw),
        extra,
    )


def _employee_records(ctx: Context, records: Records) -> dict[str, np.ndarray]:
    """A share of each employee's recorded points (or the points a [companies] section sets
    per event type), charged to the employer; not earned by the company, so not true (as a
    relative's share is not, for a person)."""
    xp, plan = ctx.xp, ctx.rules.plan
    fraction = plan.spill_employer[records.event]
    fixed = ctx.firms.plan.employee_points[records.event]
    source = xp.flatnonzero((fraction > 0) | (fixed != 0))
    employer = ctx.params.pop.employer(records.person[source])
    event = records.event[source]
    share = xp.trunc(plan.points[event] * fraction[source]).astype(np.int64)
    delta = share + fixed[source]
    keep = xp.flatnonzero((employer >= 0) & (delta != 0))
    return {
        "entity": employer[keep],
        "event": xp.full(keep.size, -1, dtype=np.int64),
        "rule": ctx.params.codes.events[event[keep]],
        "delta": delta[keep],
        "source": ctx.params.codes.sensors[records.sensor[source][keep]],
        "origin": xp.full(keep.size, ORIGIN["employee"], dtype=np.uint8),
        "truth": xp.zeros(keep.size, dtype=bool),
    }


def _apply(ctx: Context, day: int, rows: dict[str, np.ndarray]) -> np.ndarray:
    """Write the rows and add each company's deltas of the day at once, clipped to the scale,
    and its own records' deltas to the score they alone would give it; return the companies
    whose score changed."""
    write_rows(ctx, day, "company_record", rows)
    company, delta = rows["entity"], rows["delta"]
    if company.size == 0:
        return company
    xp, state, host = ctx.xp, ctx.firms.state, ctx.firms.host_plan
    touched, inverse = xp.unique(company, return_inverse=True)
    inverse = inverse.ravel()

    def total(values: np.ndarray) -> np.ndarray:
        weights = values.astype(np.float64)
        return xp.bincount(inverse, weights=weights, minlength=touched.size).astype(np.int64)

    score = state.score[touched].astype(np.int64) + total(delta)
    state.score[touched] = xp.clip(score, host.scale_min, host.scale_max).astype(np.int32)
    own = state.own_score[touched].astype(np.int64) + total(delta * rows["truth"])
    state.own_score[touched] = xp.clip(own, host.scale_min, host.scale_max).astype(np.int32)
    return touched


# ---------------------------------------------------------------- 2. grade


def _regrade(
    ctx: Context,
    day: int,
    touched: np.ndarray,
    direct: np.ndarray,
    own: dict[str, np.ndarray],
    repaired: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move grades (every day for touched companies, or all at an assessment; a repaired
    company at once), set direct grades, write the moves; return the companies that moved,
    their grades before and after."""
    xp, plan, host, state = (
        ctx.xp,
        ctx.firms.plan,
        ctx.firms.host_plan,
        ctx.firms.state,
    )
    released = ctx.state.calendar.due("company-unlock", day, UNLOCK_COLUMNS, xp)["company"]
    if host.assess_every == 1:
        ids = xp.unique(xp.concatenate([touched, state.pending, released, direct]))
    elif host.assessing(day):
        ids = xp.arange(*ctx.firms.range, dtype=np.int64)
    else:  # between assessments only a direct grade moves a company
        ids = xp.unique(direct)
    if repaired is not None:
        ids = xp.unique(xp.concatenate([ids, repaired]))
    state.pending = xp.empty(0, dtype=np.int64)
    before = state.grade[ids].copy()
    if host.assessing(day):
        free = state.locked_until[ids] <= day
        state.grade[ids] = xp.where(free, plan.grade_of(state.score[ids]), before)
        fair = plan.grade_of(state.own_score[ids])
        state.fair_grade[ids] = xp.where(free, fair, xp.maximum(fair, before))
    if repaired is not None:  # their locks ended: the grade follows the score at once
        state.grade[repaired] = plan.grade_of(state.score[repaired])
        state.fair_grade[repaired] = plan.grade_of(state.own_score[repaired])
    _set_direct(ctx, day, own)
    after = state.grade[ids]
    moved = xp.flatnonzero(after != before)
    origin = xp.full(moved.size, ORIGIN["score"], dtype=np.uint8)
    origin[xp.isin(ids[moved], released)] = ORIGIN["lock_ended"]
    if repaired is not None:
        origin[xp.isin(ids[moved], repaired)] = ORIGIN["complied"]
    origin[xp.isin(ids[moved], direct)] = ORIGIN["direct_grade"]
    who, old, new = ids[moved], before[moved], after[moved]
    ctx.ledger.add(
        day,
        "company_grade",
        who,
        ctx.firms.codes.grades[new],
        new.astype(np.int64) - old,
        0,
        origin,
        state.fair_grade[who] >= new,
    )
    grades = len(host.grades)
    state.grade_counts += to_host(
        xp.bincount(new, minlength=grades) - xp.bincount(old, minlength=grades)
    )
    if host.resetting(day):
        _reset(ctx, day)
    return who, old, new


def _set_direct(ctx: Context, day: int, own: dict[str, np.ndarray]) -> None:
    """Each company's grade at least as bad as the worst its events set today, locked until
    the longest of that grade's locks ends (a direct grade rests on the company's own true
    records, so it is fair too)."""
    xp, plan, state = ctx.xp, ctx.firms.plan, ctx.firms.state
    mine = plan.set_grade[own["event"]] >= 0
    if not bool(mine.any()):
        return
    company, event = own["entity"][mine], own["event"][mine]
    key = plan.set_grade[event] * 65_536 + plan.lock_days[event]  # lock_days <= 36,500
    order = xp.lexsort(xp.stack([key, company]))
    company, key = company[order], key[order]
    last = xp.concatenate([company[1:] != company[:-1], xp.ones(1, dtype=bool)])
    company, grade, lock = company[last], key[last] // 65_536, key[last] % 65_536
    state.grade[company] = xp.maximum(state.grade[company], grade.astype(np.uint8))
    state.fair_grade[company] = xp.maximum(state.fair_grade[company], grade.astype(np.uint8))
    locking = lock > 0
    until = (day + lock[locking]).astype(np.int32)
    held = company[locking]
    state.locked_until[held] = xp.maximum(state.locked_until[held], until)
    ctx.state.calendar.schedule("company-unlock", until.astype(np.int64), company=held)


def _reset(ctx: Context, day: int) -> None:
    """A new assessment period: every score back to base (a row for each that moves)."""
    xp, state, host = ctx.xp, ctx.firms.state, ctx.firms.host_plan
    lo, hi = ctx.firms.range
    moved = lo + xp.flatnonzero(state.score[lo:hi] != host.base)
    delta = host.base - state.score[moved].astype(np.int64)
    ctx.ledger.add(
        day,
        "company_record",
        moved,
        0,
        delta,
        0,
        ORIGIN["expiry"],
        state.own_score[moved] == state.score[moved],
    )
    state.score[lo:hi] = host.base
    state.own_score[lo:hi] = host.base


# ---------------------------------------------------------------- 3. spread


def _spread(
    ctx: Context, day: int, moved: np.ndarray, before: np.ndarray, after: np.ndarray
) -> np.ndarray:
    """Partners carry points for a company's grade: its move changes their scores (after a
    reset, every company's grade charges its partners afresh). Returns the origins of the rows
    written."""
    xp, plan, state, host = (
        ctx.xp,
        ctx.firms.plan,
        ctx.firms.state,
        ctx.firms.host_plan,
    )
    if host.resetting(day):
        lo, hi = ctx.firms.range
        moved = xp.arange(lo, hi, dtype=np.int64)
        after = state.grade[lo:hi]
        before = xp.full(hi - lo, host.base_grade, dtype=np.uint8)
    change = plan.partner_points[after] - plan.partner_points[before]
    source = xp.flatnonzero(change != 0)
    partner, owner = plan.partners(moved[source])
    at = source[owner]
    rows = {
        "entity": partner,
        "rule": ctx.firms.codes.grades[after[at]],
        "delta": change[at],
        "source": xp.zeros(partner.size, dtype=np.int16),
        "origin": xp.full(partner.size, ORIGIN["partner"], dtype=np.uint8),
        "truth": xp.zeros(partner.size, dtype=bool),
    }
    touched = _apply(ctx, day, rows)
    state.pending = touched
    return rows["origin"]


# ---------------------------------------------------------------- metrics


def company_columns(ctx: Context, today: CompanyDay | None) -> dict[str, int]:
    """The day's company columns of the metrics row (none without companies): company
    events (true) and records (by origin), changes of grade, companies per grade (a stock),
    per measure its occasions, sanctions (wrongful ones apart) and rewards, and the responsible
    persons (legal representatives first) listed and let go today and on the list now."""
    if today is None:
        return {}
    host, state = ctx.firms.host_plan, ctx.firms.state
    row = {
        "company_events": today.events,
        "company_records": int(today.records.sum()),
        "company_records_employee": int(today.records[ORIGIN["employee"]]),
        "company_records_partner": int(today.records[ORIGIN["partner"]]),
        "company_graded": today.graded,
    }
    for g, name in enumerate(host.grades):
        row[f"company_grade_{name}"] = int(state.grade_counts[g])
    for m, name in enumerate(host.measures):
        row[f"company_{name}_occasions"] = int(today.occasions[m])
        row[f"company_{name}_sanctions"] = int(today.sanctions[m])
        row[f"company_{name}_sanctions_wrongful"] = int(today.sanctions_wrongful[m])
        row[f"company_{name}_rewards"] = int(today.rewards[m])
    row["representatives_listed"] = today.representatives_listed
    row["representatives_released"] = today.representatives_released
    row["representatives_restricted"] = representatives_listed(ctx)
    return row | today.extra


# ---------------------------------------------------------------- helpers


def _concat(xp: ModuleType, *parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: xp.concatenate([p[name] for p in parts]) for name in parts[0]}


class Rate(Component):
    """Companies are rated after people are scored, so a legal representative restricted
    today is refused today."""

    name, stage = "rate", "score"
    reads = ("companies",)
    owns = (
        "companies: score, own_score (int32), grade, fair_grade (uint8), locked_until "
        "(int32) per company",
    )
    writes = (
        "company_events",
        "company_records[_employee, _partner]",
        "company_graded",
        "company_grade_<grade>",
        "company_pressure_records, _yielded (foreign_only events)",
        "company_repairs (repair_per_year)",
        "company_list_entries[_wrongful], _exits, companies_listed (list_companies)",
        "company_<measure>_sanctions, _rewards",
        "representatives_listed",
    )
    ledger = (
        "company_record",
        "company_grade",
        "company_sanction",
        "company_list_entry, company_list_exit (list_companies)",
    )

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        flow.company_day = rate_companies(ctx, day, flow.records)
