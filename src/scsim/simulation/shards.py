"""One population as K Ray actors, each owning whole regions; the files of a single process.

Nothing a person does reaches beyond their region: households and friends are inside it, a
misidentification charges someone of the same region, companies and their partners are a
region's own (numbered region by region, their events and agencies' occasions drawn per
region), and every random number is keyed by (stream, day, block, counter) where a block is a
stratum (scsim.engine.rng, scsim.engine.sampling) or a region (a list-only service's requests
and the count of everyone else's: scsim.engine.components.demand; a company's events), or else
the counter names the draw by its region and its rank among the region's (a refusal's retry, a
ticket evasion, a listing's cases, an informant, a suspension, a burden's day, a record kept
under a search capacity: `scsim.engine.sampling.region_counters`). So a shard that owns regions
a..b can draw exactly the single process's events in its strata and nothing else (its expected
counts are zero elsewhere, it counts only its regions' people, `params.region_people`, passes
over only them, `params.people_range`, and rates only its regions' companies, `company_range`),
step the whole pipeline on them, and come out with the very rows of the single process that
concern its regions. Each day the driver gathers the shards' metric rows (counts, summed; the
mean score from the summed score) and their ledger rows, which it concatenates in region order:
the writer puts every day's ledger in region order too (`scsim.simulation.run`, stable, so a
single process writes the same bytes), and people.parquet is assembled from the shards' slices
of the state at the end.

One draw needs every region: a sensor's daily search capacity, a cap on the records kept
nationwide, a barrier of the day (`scsim.engine.day.Barrier`, `...components.searches.Search`):
the cap is dealt over the regions by a keyed draw from their counts alone, and each region keeps
its share by rank. So a day with a capped sensor has a second exchange, halfway (`settle`):
each shard runs its day up to the barrier (`Day.steps`, a generator that pauses there) and
hands over its regions' counts (`Ask`), the driver sums them and deals the caps as one process
does, and the shards go on with the split. The shards exchange only that: the day's aggregates
and the rows to write.

A mechanism that couples regions otherwise is refused before anything starts (`couplings`;
none does now). A shard's state arrays have the whole population's length (and companies')
but memory only for its own people (`People.fresh` writes only theirs) and companies
(`own_part`); the driver's people arrays hold only the people.parquet sample it gathers.

    >>> summary = simulate_sharded(scenario, Path("runs/nation"), shards=4)
    >>> summary = simulate_sharded(scenario, out, shards=16, ray_address="ray://head:10001")
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np

from scsim.engine.backend import to_device
from scsim.engine.components.searches import Capacity
from scsim.engine.context import Params, Rules, State
from scsim.engine.day import Ask as Paused
from scsim.engine.day import Row
from scsim.engine.ledger import COLUMNS, Ledger
from scsim.engine.mechanisms import Mechanisms
from scsim.engine.model import Model
from scsim.engine.plan import Plan, compile_plan
from scsim.engine.population import Population
from scsim.engine.rng import Streams
from scsim.errors import UserError
from scsim.scenario.schema import Scenario
from scsim.simulation.arrow import people_ids
from scsim.simulation.cluster import connect, unwrap
from scsim.simulation.provenance import engine_sha256, other_code
from scsim.simulation.run import OnDay, in_region_order, preflight, simulate_model
from scsim.simulation.rundir import Finish

SUMMED_BY_DRIVER = ("score_mean",)  # a mean: the driver divides the shards' summed scores
# optional mechanisms a shard runs exactly: the gray market, whose candidates it restricts to
# its strata (`RegionModel`); the chill, drawn by event and seen by friends, in the region; the
# service rules, which draw nothing and stay in a household; informants and suspensions, drawn
# by a record's rank in its region (`region_counters`); burdens, planned for a shard's own people
# (`params.people_range`); the search capacity, a barrier, split over regions by the driver
# from every region's counts and kept by rank in each region (`scsim.engine.components.searches`);
# gaming, drawn in a model's own strata; the wrongs, which draw nothing; appeals against a grade,
# what being named costs and age, drawn by person id; intensity by group, by a record's rank in
# its region; foreign firms' pressure and credit repair, drawn region by region as the
# companies' events are (tests/test_shards.py, each)
SHARDABLE = (
    "gray_market",
    "gaming",
    "chill",
    "services",
    "informants",
    "suspension",
    "burdens",
    "capacity",
    "wrongs",
    "grade_appeals",
    "shaming",
    "watching",
    "ages",
    "pressure",
    "repair",
    "reforms",  # keyed by person id, or by an order's region and rank (`components.reforms`)
    "licences",  # holders, tests and points keyed by person id (`components.licences`)
)


class ShardingError(UserError):
    """A scenario that a sharded run could not reproduce byte for byte, refused up front."""


def couplings(scenario: Scenario, pop: Population) -> list[str]:
    """What in this scenario couples regions, so that a sharded run would not write the single
    process's bytes; empty when a sharded run is exact. Each is a draw keyed by a position or a
    count over the whole population rather than by a region's own block."""
    found: list[str] = []
    mechanisms = Mechanisms.of(scenario, pop, np)
    for field in dataclasses.fields(mechanisms):
        if field.name not in SHARDABLE and getattr(mechanisms, field.name) is not None:
            found.append(
                f"the {field.name} mechanism draws across regions; a sharded run needs it off"
            )
    return found


def assign(pop: Population, shards: int) -> list[tuple[int, int]]:
    """Whole regions per shard, contiguous and about equal in people: [(first, stop), ...]."""
    regions = len(pop.region_names)
    if not 1 <= shards <= regions:
        allowed = "1" if regions == 1 else f"1 to {regions}"
        raise ShardingError(
            f"--shards takes {allowed}, not {shards}: a shard owns whole regions, and the "
            f"scenario has {regions} region{'s' if regions > 1 else ''}"
        )
    ends, bounds = pop.region_start[1:], [0]
    for j in range(1, shards):  # the first region boundary past j/K of the people
        cut = int(np.searchsorted(ends, pop.size * j / shards, side="left")) + 1
        bounds.append(min(max(cut, bounds[-1] + 1), regions - (shards - j)))
    bounds.append(regions)
    return list(itertools.pairwise(bounds))


class RegionModel(Model):
    """The model of one shard: the whole population's layout, the events of its regions only."""

    def __init__(
        self, scenario: Scenario, pop: Population, regions: tuple[int, int], backend: str
    ) -> None:
        first, stop = self.regions = regions
        self.owned = (pop.stratum_region >= first) & (pop.stratum_region < stop)
        super().__init__(scenario, pop, compile_plan(scenario, pop), backend)

    def _params(self, scenario: Scenario, pop: Population, plan: Plan, backend: str) -> Params:
        """Its own people (`people_range`), regions' requests, gray market candidates (per
        stratum and income band) and companies; everything else as the whole run's."""
        params = super()._params(scenario, pop, plan, backend)
        first, stop = self.regions
        region = np.arange(len(pop.region_names))
        mine = (region >= first) & (region < stop)
        mechanisms, market = params.mechanisms, params.mechanisms.gray_market
        if market is not None:
            bands = market.expected.shape[0] // pop.n_strata
            mask = np.repeat(self.owned, bands)[:, None]
            market = dataclasses.replace(market, expected=market.expected * mask)
            mechanisms = dataclasses.replace(mechanisms, gray_market=market)
        params = dataclasses.replace(
            params,
            people_range=(int(pop.region_start[first]), int(pop.region_start[stop])),
            region_people=np.where(mine, params.region_people, 0),
            mechanisms=mechanisms,
        )
        return self._own_companies(params) if params.host_company_plan is not None else params

    def _own_companies(self, params: Params) -> Params:
        """Its regions' companies only: their events and agencies' occasions (drawn per region)
        expected nowhere else, their grades counted and assessed among them (`company_range`)."""
        first, stop = self.regions
        pop, plan = params.host_pop, params.host_company_plan
        assert plan is not None
        region = np.arange(len(pop.region_names))
        mine = ((region >= first) & (region < stop))[:, None]
        plan = dataclasses.replace(
            plan,
            expected_events=plan.expected_events * mine,
            expected_occasions=plan.expected_occasions * mine,
        )
        lo, hi = (int(x) for x in pop.company_offset[[first, stop]])
        return dataclasses.replace(
            params,
            host_company_plan=plan,
            company_plan=to_device(self.xp, plan),
            company_range=(lo, hi),
        )

    def _fresh_state(self, plan: Plan) -> State:
        """Its companies' state held for them alone (`own_part`)."""
        state = super()._fresh_state(plan)
        firms, company_plan = state.companies, self.params.host_company_plan
        if firms is None or company_plan is None:
            return state
        lo, hi = self.params.company_range
        counts = np.zeros_like(firms.grade_counts)
        counts[company_plan.base_grade] = hi - lo
        arrays = ("score", "own_score", "grade", "fair_grade", "locked_until")
        state.companies = dataclasses.replace(
            firms,
            grade_counts=counts,
            **{name: own_part(getattr(firms, name), lo, hi) for name in arrays},
        )
        return state

    def own_rules(self, rules: Rules) -> Rules:
        """Expected counts: zero in the strata of other shards."""
        return rules.owned(self.owned[:, None])


def own_part(column: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """`column` with only [lo, hi) written: np.zeros takes fresh pages from the system, which
    hold memory only once written, so a shard's state costs its own people's share (the
    others' entries, never read, stay zero and unbacked)."""
    part = np.zeros(column.shape, column.dtype)
    part[lo:hi] = column[lo:hi]
    return part


@dataclasses.dataclass(frozen=True)
class Ask:
    """A shard's day stopped at a barrier (the search capacity): its regions' counts of the
    day's records of each capped sensor per region, for the driver to split the caps."""

    counts: np.ndarray


Done = tuple[dict[str, Any], dict[str, np.ndarray], int]
"""A shard's finished day: its metrics row, ledger rows (in region order) and sum of scores."""
Reply = Ask | Done


class Shard:
    """A Ray actor: one RegionModel, stepped day by day by the driver (`settle`). A day with a
    barrier is two calls, `step` and `answer`: the day (`Day.steps`, a generator) waits at the
    barrier between them, without a thread."""

    def __init__(self, scenario: Scenario, regions: tuple[int, int], backend: str) -> None:
        pop = Population.generate(scenario.population, seed=scenario.run.seed)
        self.model = RegionModel(scenario, pop, regions, backend)
        self._day: Generator[Paused, np.ndarray, Row] | None = None  # paused at a barrier

    def step(self, day: int) -> Reply:
        """The day's metrics row, ledger rows (in region order) and sum of scores; or an `Ask`
        at a barrier, which `answer` takes up."""
        self._day = self.model.day.steps(self.model, day)
        return self._go(None)

    def answer(self, shares: np.ndarray) -> Reply:
        return self._go(shares)

    def _go(self, answer: np.ndarray | None) -> Reply:
        if self._day is None:
            raise ShardingError("the shards' days went out of step")
        try:
            ask = next(self._day) if answer is None else self._day.send(answer)
        except StopIteration as done:
            self._day = None
            model = self.model
            ledger = in_region_order(model.ledger.drain(), model.params.host_pop)
            return done.value, ledger, model.state.score_sum
        except BaseException:
            self._day = None  # a failed day: the next call starts another
            raise
        return Ask(ask.totals)

    def engine(self) -> str:
        """The digest of the scsim code this actor runs (`scsim.simulation.provenance`)."""
        return engine_sha256()

    def people(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The final state of these people (all of them this shard's)."""
        people = self.model.state.people
        return {name: np.asarray(column[ids]) for name, column in vars(people).items()}


def settle(
    replies: list[Reply],
    answer: Callable[[np.ndarray], list[Reply]],
    capacity: Capacity | None,
    streams: Streams,
    day: int,
) -> list[Done]:
    """The shards' replies of a day once each has finished it: while they ask (all at once: they
    run the same pipeline), the caps are split from their summed counts, as one process splits
    them from its own, and `answer` hands every shard the split."""
    while any(isinstance(reply, Ask) for reply in replies):
        asks = [reply for reply in replies if isinstance(reply, Ask)]
        if capacity is None or len(asks) < len(replies):
            raise ShardingError("the shards' days went out of step")
        counts = functools.reduce(operator.add, [ask.counts for ask in asks])  # as `sum` adds
        replies = answer(capacity.shares(streams, day, counts))
    return [reply for reply in replies if not isinstance(reply, Ask)]  # none asks now


class MergedLedger(Ledger):
    """The shards' ledger rows of one day, concatenated in region order, for the writer (who
    drains it as the single process's `Ledger`; the driver adds no rows of its own)."""

    def __init__(self) -> None:
        super().__init__()
        self._day: dict[str, np.ndarray] = {}

    def put(self, parts: list[dict[str, np.ndarray]]) -> None:
        self._day = {name: np.concatenate([part[name] for part in parts]) for name in COLUMNS}

    def drain(self) -> dict[str, np.ndarray]:
        day, self._day = self._day, {}
        return day


class ShardedModel(Model):
    """The driver's model: it steps no one itself; each day its shards do, and it merges their
    rows into the single process's. `people` is filled from the shards after the last day."""

    def __init__(
        self,
        scenario: Scenario,
        pop: Population,
        shards: list[tuple[Any, tuple[int, int]]],
        ray: Any,
    ) -> None:
        super().__init__(scenario, pop, compile_plan(scenario, pop), "numpy")
        self.actors, self.ray = [actor for actor, _ in shards], ray
        self.ranges = [tuple(int(x) for x in pop.region_start[list(r)]) for _, r in shards]
        self.merged = self.ledger = MergedLedger()
        same_engine(self._get([actor.engine.remote() for actor in self.actors]))

    def _params(self, scenario: Scenario, pop: Population, plan: Plan, backend: str) -> Params:
        """Nobody's people: the shards step everyone, and `people` holds only what
        `gather_people` brings (its other entries stay zero and cost nothing)."""
        return dataclasses.replace(
            super()._params(scenario, pop, plan, backend), people_range=(0, 0)
        )

    def step(self, day: int) -> dict[str, int | float]:
        parts = settle(
            self._get([actor.step.remote(day) for actor in self.actors]),
            lambda shares: self._get([actor.answer.remote(shares) for actor in self.actors]),
            self.params.mechanisms.capacity,
            self.streams,
            day,
        )
        self.state.score_sum = sum(score for _, _, score in parts)
        self.merged.put([ledger for _, ledger, _ in parts])
        if day == self.params.scenario.run.days - 1:
            self.gather_people()
        return merge_rows(
            [row for row, _, _ in parts], self.state.score_sum / self.params.host_pop.size
        )

    def gather_people(self) -> None:
        """The final state of the people that people.parquet holds, from the shards that own
        them (all, none or a sample: `run.people`); the rest stay zero and cost nothing."""
        wanted = list(people_ids(self.params.host_pop.size, self.params.scenario.run.people))
        ids = np.concatenate([np.zeros(0, np.int64), *wanted])
        mine = [ids[(ids >= lo) & (ids < hi)] for lo, hi in self.ranges]
        parts = self._get([a.people.remote(m) for a, m in zip(self.actors, mine, strict=True)])
        for own, part in zip(mine, parts, strict=True):
            for name, column in vars(self.state.people).items():
                column[own] = part[name]

    def _get(self, refs: list[Any]) -> list[Any]:
        try:
            return self.ray.get(refs)
        except Exception as exc:
            raise unwrap(exc) from None


def same_engine(engines: list[str]) -> None:
    """Refuse shards that run other scsim code than the driver (a cluster's nodes each install
    their own): their days would not be the single process's, and nothing else would tell."""
    for index, engine in enumerate(engines):
        why = other_code(engine)
        if why is not None:
            raise ShardingError(
                f"shard {index} runs other scsim code than this process ({why}): "
                "install the same scsim on every node"
            )


def merge_rows(rows: list[dict[str, Any]], score_mean: float) -> dict[str, Any]:
    """One metrics row from the shards': counts summed, the day as it is, the mean recomputed."""
    merged: dict[str, Any] = {}
    for name, value in rows[0].items():
        if name == "day":
            merged[name] = value
        elif name in SUMMED_BY_DRIVER:
            merged[name] = score_mean
        elif isinstance(value, float):
            raise ShardingError(f"metric {name} is a float that shards cannot merge exactly")
        else:
            merged[name] = type(value)(sum(row[name] for row in rows))
    return merged


def simulate_sharded(
    scenario: Scenario,
    out: Path,
    *,
    shards: int,
    force: bool = False,
    ray_address: str | None = None,
    on_day: OnDay | None = None,
    finish: Finish | None = None,
    backend: str = "numpy",
) -> dict[str, Any]:
    """Run `scenario` into `out` as `shards` Ray actors; the files are a single process's. Each
    actor steps its regions on `backend` (numpy or numba: the same bytes; a numba actor loads
    the kernels cached on disk by its first large call); the driver only sums."""
    preflight(scenario, Path(out), force=force, backend=backend)
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    regions = assign(pop, shards)
    found = couplings(scenario, pop) if shards > 1 else []
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ShardingError(f"--shards: {found[0]}{more}")
    with connect(ray_address, workers=None if ray_address else shards) as ray:
        # a CPU each where the cluster has them; else they share (a test's 2 CPUs, 3 shards)
        cpus = min(1.0, ray.cluster_resources().get("CPU", 1.0) / shards)
        actor = ray.remote(num_cpus=cpus)(Shard)
        actors = [actor.remote(scenario, r, backend) for r in regions]
        model = ShardedModel(scenario, pop, list(zip(actors, regions, strict=True)), ray)
        return simulate_model(model, out, force=force, on_day=on_day, finish=finish)
