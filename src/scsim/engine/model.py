"""The model: population, plan, state, and the day's pipeline, in the one place that runs it.

>>> model = Model.build(load_scenario("rongcheng", overrides={"population.size": 10_000}))
>>> row = model.step(day=0)          # one day; the ledger rows wait in model.ledger
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from scsim.engine.backend import load as load_backend
from scsim.engine.backend import to_device
from scsim.engine.companies import CompanyPlan
from scsim.engine.components.behave import behave, expected_events
from scsim.engine.components.burdens import suffer
from scsim.engine.components.chill import speak
from scsim.engine.components.collect import collect
from scsim.engine.components.demand import listed_services
from scsim.engine.components.gaming import game
from scsim.engine.components.gray_market import trade_points
from scsim.engine.components.informants import inform
from scsim.engine.components.observe import expected_false_matches, observe
from scsim.engine.components.online import silence, suspend
from scsim.engine.components.ratings import attach as attach_companies
from scsim.engine.components.ratings import company_columns, rate_companies
from scsim.engine.components.respond import respond
from scsim.engine.components.sanction import expected_demand, sanction
from scsim.engine.components.score import score
from scsim.engine.components.searches import search
from scsim.engine.components.services import tally
from scsim.engine.ledger import Ledger, Vocabulary
from scsim.engine.mechanisms import Mechanisms
from scsim.engine.plan import Plan, compile_plan
from scsim.engine.population import Population
from scsim.engine.rng import Streams, geometric_cdf, libm, stack_cdfs, threshold
from scsim.engine.state import Calendar, People, Roster, list_bit
from scsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Tables:
    """Probabilities as integer thresholds and waits as threshold tables, computed once on the
    host so that every per-person decision is an integer comparison on any backend."""

    detect: np.ndarray  # [K, S]
    misattribute: np.ndarray  # [K]
    deterred_keep: np.ndarray  # [256]: chance an offence survives w sanctions
    comply_cdf: tuple[np.ndarray, ...]  # per list
    comply_on_block: np.ndarray  # [L]
    kept: np.ndarray  # [L]: chance a leaver stays restricted (`listing.keep_restrictions`)
    cases_cdf: tuple[np.ndarray, ...]  # per list: cases a listing record brings (1, 2, ...)
    retry: np.ndarray  # [V]
    evasion: np.ndarray  # [V]
    demand_keep: np.ndarray  # [V, 256]: chance a new request survives w refusals suffered
    retry_cdf: tuple[np.ndarray, ...]  # per service
    retry_stacked: tuple[np.ndarray, np.ndarray]  # retry_cdf by `stack_cdfs`: one search a day
    appeal: np.ndarray  # [L, 2]: chance of appealing, [rightly, wrongly] listed
    appeal_win: np.ndarray  # [L, 2]: chance the appeal succeeds
    appeal_cdf: tuple[np.ndarray, ...]  # per list: days to the decision
    watched_twice: bool  # some event is watched by more than one sensor (see `observe`)
    grades_or_lists: np.ndarray  # bool [E]: a record of the event sets a grade or enters a list
    scoring: np.ndarray  # bool [E]: ... or moves points (`score`)

    @classmethod
    def of(cls, plan: Plan) -> Tables:
        wary = np.minimum(np.arange(256), plan.deter_max)
        horizon = [int(t) if t > 0 else max(plan.days, 1) for t in plan.list_term]
        retry = tuple(geometric_cdf(1.0 / m, 3650) for m in plan.service_retry_mean)
        return cls(
            detect=threshold(plan.sensor_coverage * plan.sensor_detection[:, None]),
            misattribute=threshold(plan.sensor_misattribution),
            deterred_keep=threshold(libm(math.pow, 1.0 - plan.deter_per_sanction, wary)),
            comply_cdf=tuple(
                geometric_cdf(p, h) for p, h in zip(plan.list_comply_daily, horizon, strict=True)
            ),
            comply_on_block=threshold(plan.list_comply_on_block),
            kept=threshold(plan.list_kept),
            cases_cdf=tuple(geometric_cdf(1.0 / m, 100) for m in plan.list_cases_mean),
            retry=threshold(plan.service_retry),
            evasion=threshold(plan.service_evasion),
            demand_keep=threshold(
                libm(math.pow, 1.0 - plan.service_give_up[:, None], np.arange(256))
            ),
            retry_cdf=retry,
            retry_stacked=stack_cdfs(retry),
            appeal=threshold(plan.list_appeal),
            appeal_win=threshold(plan.list_appeal_win),
            appeal_cdf=tuple(geometric_cdf(1.0 / m, 3650) for m in plan.list_appeal_mean),
            watched_twice=bool((plan.sensor_events.sum(axis=0) > 1).any()),
            grades_or_lists=(plan.set_tier >= 0) | (plan.enter_list >= 0),
            scoring=(plan.points != 0) | (plan.set_tier >= 0) | (plan.enter_list >= 0),
        )


@dataclass(frozen=True)
class Codes:
    """Ledger codes of each event, sensor, tier, list and service (see `Vocabulary`)."""

    vocabulary: Vocabulary
    events: np.ndarray
    sensors: np.ndarray
    tiers: np.ndarray
    lists: np.ndarray
    services: np.ndarray
    # the code of the first list (in the scenario's order) whose flag bit is set in a flag
    # byte, 0 where none is: a refusal's `source` names the list that refused
    first_list: np.ndarray

    @classmethod
    def of(cls, plan: Plan, mechanisms: tuple[str, ...] = ()) -> Codes:
        v = Vocabulary.of(
            plan.events, plan.sensors, plan.tiers, plan.lists, plan.services, mechanisms
        )
        return cls(
            v,
            v.codes(plan.events),
            v.codes(plan.sensors),
            v.codes(plan.tiers),
            v.codes(plan.lists),
            v.codes(plan.services),
            _first_list(v.codes(plan.lists)),
        )


def _first_list(list_codes: np.ndarray) -> np.ndarray:
    flags = np.arange(256)
    first = np.zeros(256, dtype=np.int16)
    for index in reversed(range(len(list_codes))):  # the first list written last
        first[(flags & list_bit(index)) != 0] = list_codes[index]
    return first


class Model:
    """Everything a run holds. `plan`, `pop`, `tables` and `people` live on the backend's
    device; `host_plan` and `host_pop` are their NumPy originals, for work done on the host."""

    def __init__(
        self, scenario: Scenario, pop: Population, plan: Plan, backend: str = "numpy"
    ) -> None:
        self.scenario, self.backend = scenario, backend
        self.xp = xp = load_backend(backend)
        self.host_pop, self.pop = pop, to_device(xp, pop)
        # people per region whose requests this model counts (host; a shard's: its regions')
        self.region_people = np.diff(pop.region_start)
        # the rulebook in force from each change day on (scheduled changes), each compiled once
        versions = scenario.versions()
        self.plans = [
            (day, plan if version is scenario else compile_plan(version, pop))
            for day, version in versions
        ]
        self.version = -1
        self._follow_rulebook(0)
        self.streams = Streams(plan.seed)
        self.mechanisms = Mechanisms.of(scenario, pop, xp)
        company_plan = CompanyPlan.of(scenario, pop)
        company_names = company_plan.names if company_plan is not None else ()
        self.codes = to_device(xp, Codes.of(plan, self.mechanisms.names + company_names))
        attach_companies(self, company_plan)
        base_tier = int(plan.tier_of(np.array([plan.base]))[0])
        lo, hi = self.people_range
        self.people = People.fresh(pop.size, plan.base, base_tier, xp, within=(lo, hi))
        self.locks = Roster(xp)
        self.rosters = [Roster(xp) for _ in plan.lists]
        self.kept_entries = np.zeros((2, len(plan.lists)), dtype=np.int64)  # today's, wrongful
        self.calendar = Calendar()
        self.ledger = Ledger()
        self.tier_counts = np.zeros(len(plan.tiers), dtype=np.int64)
        self.tier_counts[base_tier] = hi - lo
        self.score_sum = plan.base * (hi - lo)
        self.tainted = 0

    @property
    def people_range(self) -> tuple[int, int]:
        """The ids [lo, hi) of the people this model steps (a shard's: its regions'). Read
        while the model is built: a subclass's must not need more than `host_pop`."""
        return 0, self.host_pop.size

    @classmethod
    def build(cls, scenario: Scenario, backend: str = "numpy") -> Model:
        pop = Population.generate(scenario.population, seed=scenario.run.seed)
        return cls(scenario, pop, compile_plan(scenario, pop), backend)

    def step(self, day: int) -> dict[str, int | float]:
        """One day, in this order:

        0. the rulebook changes, if one of its scheduled changes falls today;
        1. behave   - people act: true events, fewer offences where deterrence bites;
        2. observe  - sensors record some events, miss most, charge some to the wrong person,
                      and invent a few;
        3. score    - records become points (and association spill-over), expired deductions
                      are reversed, grades move or are locked, lists take people in and let
                      them go;
        4. sanction - services are requested; the listed and low-graded are refused,
                      the high-graded rewarded;
        5. respond  - the refused and demoted grow wary; some listed people pay up;
        6. collect  - the day's metrics row.

        The optional mechanisms (`scsim.engine.mechanisms`) run inside this order:

        1b. speak   - people who feel watched or see friends punished hold back offences and
                      criticism (`chill`); suspended accounts post nothing (`online`);
        2b. search  - a sensor with a daily capacity keeps that many of the day's records;
            inform  - informants' false reports are relabelled, their rewards added;
            suspend - the day's records suspend accounts;
        3b. trade   - the gray market sells points and fines some buyers, so today's purchases
                      count for today's requests;
            game    - people pressed for points perform acts for them (`gaming`), which
                      count for today's requests too;
        3c. rate    - companies are rated after score too (`scsim.engine.components.ratings`), so a
                      legal representative restricted today is refused today;
        4b. suffer  - people in burdened grades suffer their officer visits and searches,
                      sanctions felt: they grow wary as the refused do;
                      (within score and sanction: lists entered by grade follow each move of
                      grade, households of the listed are refused, some grades pay premiums).
        """
        self._follow_rulebook(day)
        spoken = speak(self, day, behave(self, day))
        silenced = silence(self, day, spoken.value)
        events = silenced.value
        searched = search(self, day, observe(self, day, events))
        reports = inform(self, day, searched.value)
        records = reports.value
        suspended = suspend(self, day, records)
        changes = score(self, day, records)
        trade = trade_points(self, day)
        gamed = game(self, day)
        rate_companies(self, day, records)
        sanctions = sanction(self, day)
        burdened = suffer(self, day)
        felt = [changes.demoted, trade.demoted, gamed.value, burdened.value]
        responses = respond(self, day, sanctions, self.xp.concatenate(felt))
        return collect(
            self,
            day,
            events,
            records,
            changes,
            sanctions,
            responses,
            spoken.metrics,
            silenced.metrics,
            searched.metrics,
            reports.metrics,
            suspended,
            trade.metrics,
            gamed.metrics,
            burdened.metrics,
            tally(self),
            company_columns(self),
        )

    def _follow_rulebook(self, day: int) -> None:
        """Put in force the plan of the rulebook that holds on `day` (the population and the
        state are untouched; drawn-ahead counts are redrawn where expected counts change)."""
        version = bisect.bisect_right([start for start, _ in self.plans], day) - 1
        version = max(version, 0)
        if version == self.version:
            return
        self.version, plan = version, self.plans[version][1]
        self.host_plan, self.plan = plan, to_device(self.xp, plan)
        self.tables = to_device(self.xp, Tables.of(plan))
        self.expected_events = expected_events(plan, self.host_pop)
        self.expected_false = expected_false_matches(plan, self.host_pop)
        self.expected_demand = expected_demand(plan, self.host_pop)
        self.listed_services = listed_services(plan)
