"""One population as K Ray actors, each owning whole regions; the files of a single process.

Nothing a person does reaches beyond their region: households and friends are inside it, a
misidentification charges someone of the same region, companies and their partners are a
region's own, and every random number is keyed by (stream, day, block, counter) where a block
is a stratum (scsim.rng, scsim.sampling) or a region (a list-only service's requests and the
count of everyone else's: scsim.pipeline.demand), or else the counter names the draw by its
region and its rank among the region's (a refusal's retry, a ticket evasion, a listing's
cases, an informant, a suspension, a burden's day: `scsim.sampling.region_counters`). So a
shard that owns regions a..b can draw exactly the single process's events in its strata and
nothing else (its expected counts are zero elsewhere, it counts only its regions' people,
`Model.region_people`, and passes over only them, `Model.people_range`), step the whole
pipeline on them, and come out with the very rows of the single process that concern its
regions. Each day the driver gathers the shards' metric rows (counts, summed; the mean score
from the summed score) and their ledger rows, which it concatenates in region order: the
writer puts every day's ledger in region order too (`scsim.simulation`, stable, so a single
process writes the same bytes), and people.parquet is assembled from the shards' slices of
the state at the end. The shards exchange only that: the day's aggregates
and the rows to write.

What still couples regions is refused before anything starts (`couplings`): a sensor's daily
search capacity, a cap on the records kept nationwide, and the companies, whose draws are not
yet restricted to a shard's regions; a shard cannot make those alone. A shard's state arrays
have the whole population's length but memory only for its own people (`own_part`); while it
is built, the model's fresh arrays hold everyone's for a moment.

    >>> summary = simulate_sharded(scenario, Path("runs/nation"), shards=4)
    >>> summary = simulate_sharded(scenario, out, shards=16, ray_address="ray://head:10001")
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from scsim.distributed.cluster import connect, unwrap
from scsim.errors import UserError
from scsim.ledger import COLUMNS
from scsim.mechanisms import Mechanisms
from scsim.model import Model
from scsim.output.arrow import people_ids
from scsim.plan import compile_plan
from scsim.population import Population
from scsim.scenario.schema import Scenario
from scsim.simulation import OnDay, in_region_order, preflight, simulate_model
from scsim.state import People

SUMMED_BY_DRIVER = ("score_mean",)  # a mean: the driver divides the shards' summed scores
# optional mechanisms a shard runs exactly: the gray market, whose candidates it restricts to
# its strata (`RegionModel`); the chill, drawn by event and seen by friends, in the region; the
# service rules, which draw nothing and stay in a household; informants and suspensions, drawn
# by a record's rank in its region (`region_counters`); burdens, planned for a shard's own people
# (`Model.people_range`) (tests/test_shards.py, each)
SHARDABLE = ("gray_market", "chill", "services", "informants", "suspension", "burdens")


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
    if getattr(scenario, "companies", None) is not None:
        found.append("companies: their draws are not yet restricted to a shard's regions")
    return found


def assign(pop: Population, shards: int) -> list[tuple[int, int]]:
    """Whole regions per shard, contiguous and about equal in people: [(first, stop), ...]."""
    regions = len(pop.region_names)
    if not 1 <= shards <= regions:
        raise ShardingError(
            f"--shards takes 1 to {regions} (the scenario's regions; a shard owns whole "
            f"regions), not {shards}"
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
        first, stop = regions
        self.owned = (pop.stratum_region >= first) & (pop.stratum_region < stop)
        self.ids = (int(pop.region_start[first]), int(pop.region_start[stop]))
        super().__init__(scenario, pop, compile_plan(scenario, pop), backend)
        people = self.ids[1] - self.ids[0]
        self.tier_counts = self.tier_counts * people // pop.size  # everyone starts in one grade
        self.score_sum = self.host_plan.base * people
        self.people = People(**{k: own_part(v, *self.ids) for k, v in vars(self.people).items()})
        region = np.arange(len(pop.region_names))
        self.region_people = np.where((region >= first) & (region < stop), self.region_people, 0)
        market = self.mechanisms.gray_market
        if market is not None:  # its candidates: per (stratum, income band) range
            bands = market.expected.shape[0] // pop.n_strata
            mask = np.repeat(self.owned, bands)[:, None]
            market = dataclasses.replace(market, expected=market.expected * mask)
            self.mechanisms = dataclasses.replace(self.mechanisms, gray_market=market)

    @property
    def people_range(self) -> tuple[int, int]:
        return self.ids

    def _follow_rulebook(self, day: int) -> None:
        version = self.version
        super()._follow_rulebook(day)
        if self.version != version:  # expected counts: zero in the strata of other shards
            mask = self.owned[:, None]
            self.expected_events = self.expected_events * mask
            self.expected_false = self.expected_false * mask
            self.expected_demand = self.expected_demand * mask


def own_part(column: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """`column` with only [lo, hi) written: np.zeros takes fresh pages from the system, which
    hold memory only once written, so a shard's state costs its own people's share (the
    others' entries, never read, stay zero and unbacked)."""
    part = np.zeros(column.shape, column.dtype)
    part[lo:hi] = column[lo:hi]
    return part


class Shard:
    """A Ray actor: one RegionModel, stepped day by day by the driver."""

    def __init__(self, scenario: Scenario, regions: tuple[int, int], backend: str) -> None:
        pop = Population.generate(scenario.population, seed=scenario.run.seed)
        self.model = RegionModel(scenario, pop, regions, backend)

    def step(self, day: int) -> tuple[dict[str, Any], dict[str, np.ndarray], int]:
        """The day's metrics row, ledger rows (in region order) and sum of scores."""
        row = self.model.step(day)
        ledger = in_region_order(self.model.ledger.drain(), self.model.host_pop)
        return row, ledger, self.model.score_sum

    def people(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The final state of these people (all of them this shard's)."""
        return {name: np.asarray(column[ids]) for name, column in vars(self.model.people).items()}


class MergedLedger:
    """The shards' ledger rows of one day, concatenated in region order, for the writer."""

    def __init__(self) -> None:
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
        self.ledger = MergedLedger()  # type: ignore[assignment]
        self.people = People(**{k: own_part(v, 0, 0) for k, v in vars(self.people).items()})

    def step(self, day: int) -> dict[str, int | float]:
        parts = self._get([actor.step.remote(day) for actor in self.actors])
        self.score_sum = sum(score for _, _, score in parts)
        self.ledger.put([ledger for _, ledger, _ in parts])
        if day == self.plan.days - 1:
            self.gather_people()
        return merge_rows([row for row, _, _ in parts], self.score_sum / self.host_pop.size)

    def gather_people(self) -> None:
        """The final state of the people that people.parquet holds, from the shards that own
        them (all, none or a sample: `run.people`); the rest stay zero and cost nothing."""
        wanted = list(people_ids(self.host_pop.size, self.scenario.run.people))
        ids = np.concatenate([np.zeros(0, np.int64), *wanted])
        mine = [ids[(ids >= lo) & (ids < hi)] for lo, hi in self.ranges]
        parts = self._get([a.people.remote(m) for a, m in zip(self.actors, mine, strict=True)])
        for own, part in zip(mine, parts, strict=True):
            for name, column in vars(self.people).items():
                column[own] = part[name]

    def _get(self, refs: list[Any]) -> list[Any]:
        try:
            return self.ray.get(refs)
        except Exception as exc:
            raise unwrap(exc) from None


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
) -> dict[str, Any]:
    """Run `scenario` into `out` as `shards` Ray actors; the files are a single process's."""
    preflight(scenario, Path(out), force=force)
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
        actors = [actor.remote(scenario, r, "numpy") for r in regions]
        model = ShardedModel(scenario, pop, list(zip(actors, regions, strict=True)), ray)
        return simulate_model(model, out, force=force, on_day=on_day)
