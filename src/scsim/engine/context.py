"""What every component of a day is given: parameters, rules in force, one state frame, services.

A component reads `ctx.params` (compiled once from the scenario: the population, ledger
codes, the optional mechanisms, the companies' plan), `ctx.rules` (the rulebook in force
today, recompiled when a dated change falls), writes `ctx.state` (everything that changes from
day to day, saved and restored whole by a checkpoint) and uses the services `ctx.xp` (the array
module), `ctx.streams` (counter-based randomness) and `ctx.ledger` (the day's audit trail).

Host or device is decided here, once: `params.pop`, `rules.plan`, `rules.tables` and the
companies' plan live where the backend computes (per-person work reads them), and their
`host_` twins are the NumPy originals, for control flow and shapes (the same objects on NumPy).

    >>> ctx = Context.build(scenario, pop, compile_plan(scenario, pop))
    >>> ctx.follow_rulebook(day)        # the rules in force today
    >>> ctx.state.people.score[ids]      # a person's points
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields, replace
from types import ModuleType
from typing import Any, ClassVar, Self

import numpy as np

from scsim.engine.backend import load as load_backend
from scsim.engine.backend import to_device, to_host
from scsim.engine.companies import CompanyPlan, CompanyState
from scsim.engine.components.behave import expected_events
from scsim.engine.components.demand import list_pairs, listed_services, request_thresholds
from scsim.engine.components.licences import Balances
from scsim.engine.components.observe import expected_false_matches
from scsim.engine.components.ratings import CompanyCodes
from scsim.engine.components.sanction import expected_demand
from scsim.engine.ledger import Ledger
from scsim.engine.mechanisms import Mechanisms
from scsim.engine.members import Members, rostered_grades
from scsim.engine.places import base_grades
from scsim.engine.plan import Plan, compile_plan
from scsim.engine.population import Population
from scsim.engine.rng import Streams
from scsim.engine.state import Calendar, People, Roster
from scsim.engine.tables import Codes, Tables
from scsim.scenario.schema import Scenario


@dataclass
class Params:
    """Compiled once from the scenario; components only read them. A shard's differ from the
    whole run's only in what it owns (`people_range`, `company_range`, its companies' plan)."""

    scenario: Scenario
    backend: str
    host_pop: Population
    pop: Population  # on the device
    region_people: np.ndarray  # people per region whose requests are counted (host)
    people_range: tuple[int, int]  # the ids stepped here: [lo, hi)
    mechanisms: Mechanisms
    codes: Codes  # on the device
    host_company_plan: CompanyPlan | None
    company_plan: CompanyPlan | None  # on the device
    company_codes: CompanyCodes | None  # on the device
    company_range: tuple[int, int]  # the companies rated here: [lo, hi)
    # host bool [T]: the grades that keep a roster of their holders (`scsim.engine.members`)
    rostered: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class Rules:
    """The rulebook in force, and what follows from it: recompiled on each dated change."""

    host_plan: Plan
    plan: Plan  # on the device
    tables: Tables  # on the device
    expected_events: np.ndarray  # host [S, E]: true events a day per stratum and event
    expected_false: np.ndarray  # host: false matches a day per stratum and sensor
    expected_demand: np.ndarray  # host: requests a day per stratum and service
    listed_services: np.ndarray  # host: services whose requests are drawn from lists, grades
    list_pairs: tuple[tuple[int, int], ...]  # (service, list): requests drawn from its members
    request_counts: np.ndarray  # host uint64 [V, MOST_A_DAY]: a person's requests a day

    @classmethod
    def of(cls, plan: Plan, pop: Population, xp: ModuleType, rostered: np.ndarray) -> Rules:
        """`rostered`: the grades with rosters, from which a service acting only on them (and
        on lists) draws its requests (`scsim.engine.components.demand`)."""
        listed = listed_services(plan, rostered)
        return cls(
            host_plan=plan,
            plan=to_device(xp, plan),
            tables=to_device(xp, Tables.of(plan)),
            expected_events=expected_events(plan, pop),
            expected_false=expected_false_matches(plan, pop),
            expected_demand=expected_demand(plan, pop, rostered),
            listed_services=listed,
            list_pairs=list_pairs(plan, listed),
            request_counts=request_thresholds(plan),
        )

    def owned(self, mask: np.ndarray) -> Rules:
        """The same rules with expected counts only in the strata of `mask` (a shard's)."""
        return replace(
            self,
            expected_events=self.expected_events * mask,
            expected_false=self.expected_false * mask,
            expected_demand=self.expected_demand * mask,
        )


@dataclass
class State:
    """Everything that changes from day to day, in one frame: a checkpoint saves each field and
    restores it (`capture`, `restore`), whatever the field, so a component that adds state adds
    a field here and nothing in the checkpoint. Per person: 7 bytes (`People`); the rest grows
    with lists, locks and pending expiries, not with the population."""

    people: People  # score, false points, grade, flags, wariness: one array each
    locks: Roster  # people whose grade is locked, until when
    holds: Roster  # people whose grade cannot rise (an offence uncorrected), until when
    rosters: list[Roster]  # per list: who is on it, since and until when, and why
    calendar: Calendar  # expiries by day: reversals, unsuspensions, burdens, ...
    tier_counts: np.ndarray  # int64 [T] host: people per grade, kept by deltas
    members: Members  # the holders of each grade that acts on them, by id
    kept_entries: np.ndarray  # int64 [2, L] host: today's restrictions kept (all, wrongful)
    score_sum: int  # the sum of scores, kept by deltas (the mean score)
    tainted: int  # people with a false record in their history
    companies: CompanyState | None
    rises_held: int = 0  # grade rises withheld for an uncorrected offence, so far
    locked_by_points: int = 0  # grades locked on being reached by points, so far
    licences: list[Balances] = field(default_factory=list)  # per licence (`licences.<l>`)

    SCALARS: ClassVar[tuple[str, ...]] = ("score_sum", "tainted", "rises_held", "locked_by_points")

    def capture(self) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """Every field as host arrays named `FIELD.COLUMN` (a list's parts `FIELDi.COLUMN`), and
        the scalars as Python integers."""
        arrays: dict[str, np.ndarray] = {}
        for name, value in self._parts():
            if isinstance(value, np.ndarray):
                arrays[name] = to_host(value)
            else:
                arrays |= {f"{name}.{k}": v for k, v in value.to_arrays().items()}
        return arrays, {name: int(getattr(self, name)) for name in self.SCALARS}

    def restore(self, arrays: dict[str, np.ndarray], scalars: dict[str, int], xp: Any) -> None:
        """Put back what `capture` took from a state built from the same scenario; a part
        whose fixed columns have another shape or dtype is refused (ValueError)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self.SCALARS:
                setattr(self, f.name, int(scalars[f.name]))
            elif isinstance(value, list):
                parts = enumerate(value)
                setattr(self, f.name, [_restored(f"{f.name}{i}", p, arrays, xp) for i, p in parts])
            elif value is not None:
                setattr(self, f.name, _restored(f.name, value, arrays, xp))

    def _parts(self) -> list[tuple[str, Any]]:
        parts: list[tuple[str, Any]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self.SCALARS or value is None:
                continue
            if isinstance(value, list):
                parts += [(f"{f.name}{i}", part) for i, part in enumerate(value)]
            else:
                parts.append((f.name, value))
        return parts


def _restored(name: str, value: Any, arrays: dict[str, np.ndarray], xp: Any) -> Any:
    """A part of the state as `capture` saved it under `name`: an array copied in place, else
    the part rebuilt from its columns (its fixed columns checked against the fresh part's)."""
    if isinstance(value, np.ndarray):
        value[...] = _like(arrays[name], value, name)
        return value
    saved = {k.removeprefix(f"{name}."): v for k, v in arrays.items() if k.startswith(f"{name}.")}
    fresh = value.to_arrays()
    for column in getattr(type(value), "FIXED", ()):
        _like(saved[column], fresh[column], f"{name}.{column}")
    return type(value).from_arrays(saved, xp)


@dataclass(frozen=True)
class Firms:
    """The companies of a scenario that has them, as their components read them: the plan
    (host and device), ledger codes, the range rated here and their state; never None."""

    host_plan: CompanyPlan
    plan: CompanyPlan  # on the device
    codes: CompanyCodes  # on the device
    range: tuple[int, int]  # the companies rated here: [lo, hi)
    state: CompanyState


def _like(source: np.ndarray, target: Any, name: str) -> np.ndarray:
    if source.shape != target.shape or source.dtype != target.dtype:
        raise ValueError(f"{name} is {source.dtype}{list(source.shape)}, not {target.dtype}")
    return source


class Context:
    """One run's parameters, rules in force, state and services (see the module docstring)."""

    def __init__(
        self, scenario: Scenario, pop: Population, plan: Plan, backend: str = "numpy"
    ) -> None:
        self.xp: ModuleType = load_backend(backend)
        self.streams = Streams(plan.seed)
        self.ledger = Ledger()
        self.params = self._params(scenario, pop, plan, backend)
        # the rulebook in force from each change day on (dated changes), each compiled once
        self.plans: list[tuple[int, Plan]] = [
            (day, plan if version is scenario else compile_plan(version, pop, day=day))
            for day, version in scenario.versions()
        ]
        self.starts = [day for day, _ in self.plans]  # listed once: asked every day
        self.params.rostered = rostered_grades(
            [p for _, p in self.plans], self.params.mechanisms, _starting_grades(scenario, plan)
        )
        self.version = -1
        self.follow_rulebook(0)
        self.state = self._fresh_state(plan)
        # each person's columns in the fresh state (within `people_range`)
        self.people_at_start = People.at_start(plan.base, _base_grade(plan))

    @classmethod
    def build(cls, scenario: Scenario, backend: str = "numpy") -> Self:
        pop = Population.generate(scenario.population, seed=scenario.run.seed)
        return cls(scenario, pop, compile_plan(scenario, pop), backend)

    @property
    def firms(self) -> Firms:
        """The companies, for the components that run only where there are some (`Rate`)."""
        p, state = self.params, self.state.companies
        if p.host_company_plan is None or p.company_plan is None or p.company_codes is None:
            raise RuntimeError("this scenario has no companies")
        assert state is not None
        return Firms(p.host_company_plan, p.company_plan, p.company_codes, p.company_range, state)

    def own_rules(self, rules: Rules) -> Rules:
        """The rules as this context applies them (a shard's: only in its own strata)."""
        return rules

    def follow_rulebook(self, day: int) -> None:
        """Put in force the rules of the rulebook that holds on `day` (the population and the
        state are untouched; drawn-ahead counts are redrawn where expected counts change)."""
        version = max(bisect.bisect_right(self.starts, day) - 1, 0)
        if version == self.version:
            return
        self.version = version
        plan, pop = self.plans[version][1], self.params.host_pop
        self.rules = self.own_rules(Rules.of(plan, pop, self.xp, self.params.rostered))

    def _params(self, scenario: Scenario, pop: Population, plan: Plan, backend: str) -> Params:
        xp = self.xp
        mechanisms = Mechanisms.of(scenario, pop, xp)
        company_plan = CompanyPlan.of(scenario, pop)
        names = company_plan.names if company_plan is not None else ()
        codes = Codes.of(plan, mechanisms.names + names)
        if plan.book_key is not None:  # places: a score row's rule is book * E + event
            codes = replace(codes, events=np.tile(codes.events, len(plan.book_key)))
        company_codes = None
        if company_plan is not None:
            vocabulary = codes.vocabulary
            company_codes = CompanyCodes(
                vocabulary.codes(company_plan.events),
                vocabulary.codes(company_plan.grades),
                vocabulary.codes(company_plan.measures),
            )
        return Params(
            scenario=scenario,
            backend=backend,
            host_pop=pop,
            pop=to_device(xp, pop),
            region_people=np.diff(pop.region_start),
            people_range=(0, pop.size),
            mechanisms=mechanisms,
            codes=to_device(xp, codes),
            host_company_plan=company_plan,
            company_plan=to_device(xp, company_plan) if company_plan is not None else None,
            company_codes=to_device(xp, company_codes) if company_codes is not None else None,
            company_range=(0, company_plan.size) if company_plan is not None else (0, 0),
        )

    def _fresh_state(self, plan: Plan) -> State:
        xp, params = self.xp, self.params
        base_tier = _base_grade(plan)
        lo, hi = params.people_range
        company_plan = params.host_company_plan
        tier_counts = np.zeros(len(plan.tiers), dtype=np.int64)
        tier_counts[base_tier] = hi - lo
        return State(
            people=People.fresh(params.host_pop.size, plan.base, base_tier, xp, within=(lo, hi)),
            locks=Roster(xp),
            holds=Roster(xp),
            rosters=[Roster(xp) for _ in plan.lists],
            calendar=Calendar(),
            tier_counts=tier_counts,
            members=Members.fresh(params.rostered, xp),
            kept_entries=np.zeros((2, len(plan.lists)), dtype=np.int64),
            score_sum=plan.base * (hi - lo),
            tainted=0,
            companies=CompanyState.fresh(company_plan, xp) if company_plan is not None else None,
            licences=[Balances(xp) for _ in params.scenario.licences],
        )


def _starting_grades(scenario: Scenario, plan: Plan) -> set[int]:
    """The grades people start in: the base score's, and with places each rulebook's (a
    place's people move to its base when it begins; consent moves people back to it)."""
    grades = {_base_grade(plan)}
    if plan.book_key is not None:
        grades |= {int(g) for g in base_grades(scenario, plan)[:, 1]}
    return grades


def _base_grade(plan: Plan) -> int:
    """The grade of the base score (with places, in the national rulebook's block)."""
    key = 0 if plan.book_key is None else int(plan.book_key[0])
    return int(plan.tier_of(np.array([plan.base + key]))[0])
