"""Sharded runs: K Ray actors, each owning whole regions, write the files of one process."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_refusal, cli
from ray_local import local_ray

from scsim.engine import kernels
from scsim.engine.day import Component
from scsim.engine.ledger import COLUMNS
from scsim.engine.model import Model
from scsim.engine.plan import compile_plan
from scsim.engine.population import Population
from scsim.engine.rng import Streams
from scsim.scenario import load_scenario
from scsim.simulation import shards as sharding
from scsim.simulation.provenance import engine_sha256
from scsim.simulation.run import in_region_order
from scsim.simulation.shards import (
    Ask,
    Shard,
    ShardingError,
    assign,
    couplings,
    merge_rows,
    same_engine,
    settle,
)

THREE_TOWNS = Path(__file__).parent.parent / "examples" / "three-towns.toml"


@pytest.fixture(scope="module")
def three_towns() -> Path:
    return THREE_TOWNS


@pytest.fixture(scope="module")
def ray_cluster():
    yield from local_ray()


def checksums(run_dir: Path) -> dict[str, str]:
    files = json.loads((run_dir / "run.json").read_text())["files"]
    return {name: entry["sha256"] for name, entry in files.items()}


# the towns with income bands and a busy gray market (as national-score's, 10 times the trade)
GRAY_MARKET = """\
[population.income]
lowest = { urban = 0.10, rural = 0.38 }
low = { urban = 0.15, rural = 0.27 }
middle = { urban = 0.20, rural = 0.20 }
high = { urban = 0.25, rural = 0.10 }
highest = { urban = 0.30, rural = 0.05 }
[behaviour.gray_market]
per_year = 20.0
by_income = { lowest = 0.25, low = 0.5, middle = 1.0, high = 2.0, highest = 4.0 }
buyer_tiers = ["C", "D"]
"""


# household refusals and premiums (scsim.engine.components.services): no draws, households in a town
SERVICE_RULES = """\
[rulebook.services.train]
household_lists = ["court_blacklist"]
[rulebook.services.service_hall]
premium_tiers = ["B", "C", "D"]
premium_bp = 150
"""
# friends deterred by a friend's sanctions (scsim.engine.components.chill): drawn by event,
# in the town
CHILL = """\
[behaviour.deterrence]
friends = 0.3
"""
# informants (a friend reports, drawn by the report's rank in its town) and suspended accounts
# (drawn by the record's rank in its town): scsim.engine.sampling.region_counters
INFORMANTS = """\
[behaviour.events.reporting_offence]
per_year = 0.0
offence = false
[surveillance.sensors.informants]
events = ["traffic_violation", "negative_post"]
coverage_urban = 0.3
coverage_rural = 0.3
detection = 0.3
false_records_per_year = 0.01
informants = true
reward_event = "reporting_offence"
[rulebook.rules.reporting_offence]
points = 5
"""
SUSPENSION = """\
[surveillance.sensors.internet]
suspension = 0.5
suspension_days = 10
"""
# burdens of grades, AAA's too: tier 0, which a shard's unowned (zero) entries would match
BURDENS = """\
[rulebook.tiers.AAA]
burdens = { officer_visit = 12.0 }
[rulebook.tiers.A]
burdens = { officer_visit = 2.0, search = 1.0 }
"""
# a national cap on two sensors' records a day, below what they make
# (scsim.engine.components.searches): split over the towns by the driver from every town's count,
# kept by rank within each town
CAPACITY = """\
[surveillance.sensors.civil_affairs]
daily_capacity_per_million = 500  # 15 a day of 30,000 people
[surveillance.sensors.cameras]
daily_capacity_per_million = 50  # 1.5 a day
"""
# gaming under heavy pressure, its points fading (scsim.engine.components.gaming): drawn by stratum
# in a model's own strata, its reversals in the calendar of the person's shard
GAMING = """\
[behaviour.gaming]
per_year = 20.0
points = 5
pressed_tiers = ["B", "C", "D"]
pressed = 4.0
per_sanction = 0.5
expires_after_days = 10
"""
VARIANTS = {
    "plain": ("", "gaming_acts"),  # rongcheng games points (scsim.engine.components.gaming)
    "market": (GRAY_MARKET, "gray_market_purchases"),
    "services": (SERVICE_RULES, "train_household_blocked"),
    "chill": (CHILL, "offences_deterred_by_friends"),
    "informants": (INFORMANTS, "informant_rewards"),
    "suspension": (SUSPENSION, "accounts_suspended"),
    "burdens": (BURDENS, "burden_search"),
    "capacity": (CAPACITY, "civil_affairs_over_capacity"),
    "gaming": (GAMING, "gaming_points_faded"),
}


@pytest.mark.parametrize(
    ("shards", "variant"),
    [
        (2, "plain"),
        (3, "plain"),
        (3, "market"),
        (3, "services"),
        (3, "chill"),
        (3, "informants"),
        (3, "suspension"),
        (2, "burdens"),
        (3, "capacity"),
        (3, "gaming"),
    ],
)
def test_shards_together_make_the_single_process_day_by_day(tmp_path, shards, variant) -> None:
    extra, exercised = VARIANTS[variant]
    file = tmp_path / "towns.toml"
    file.write_text(f'extends = "{THREE_TOWNS}"\n' + extra)
    totals = assert_shards_make_the_single_process(load_scenario(file), shards)
    assert totals[exercised] > 0  # the comparison covered what the variant adds


# built-ins with retries, ticket evasion, list-only services and cases per listing, drawn by
# region (scsim.engine.components.demand, scsim.engine.sampling.region_counters); national-score
# with a camera cap that binds at this size (scsim.engine.components.searches); corporate with
# assessments every 20 days, so that grades, resets, partners and representatives all move
# (companies numbered and drawn region by region: scsim.engine.components.ratings);
# shrunk to run in seconds
BUILTINS = {
    "court-blacklist": (60, {}, ("flight_blocked", "train_blocked")),
    "court-list-history": (  # courts at full use and a wide loophole: every count exercised
        400,
        {
            "surveillance.sensors.courts.adoption.floor": 1.0,
            "rulebook.services.flight.evasion": 0.3,
        },
        ("flight_blocked", "flight_evaded", "court_list_cases"),
    ),
    "national-score": (
        10,
        {"surveillance.sensors.cameras.daily_capacity_per_million": 30},
        ("cameras_over_capacity", "informant_rewards"),
    ),
    "corporate": (
        45,
        {"companies.assess_every_days": 20},
        ("company_graded", "company_records_partner", "representatives_listed"),
    ),
}


@pytest.mark.parametrize(
    ("shards", "name"),
    [
        (2, "court-blacklist"),
        (3, "court-blacklist"),
        (3, "court-list-history"),
        (3, "national-score"),
        (2, "corporate"),
        (3, "corporate"),
    ],
)
def test_builtins_run_sharded_as_the_single_process(shards, name) -> None:
    days, overrides, exercised = BUILTINS[name]
    size = 100_000 if name == "national-score" else 300_000
    scenario = load_scenario(
        name, overrides={"population.size": size, "run.days": days, **overrides}
    )
    totals = assert_shards_make_the_single_process(scenario, shards)
    assert all(totals[metric] > 0 for metric in exercised), totals


def assert_shards_make_the_single_process(
    scenario, shards: int, backend: str = "numpy"
) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Step the single process and `shards` shards side by side, day by day, as the driver
    does (`settle`, a second exchange where the day asks): the merged metrics rows and ledger
    rows must be the single process's. The metrics summed over days. The single process runs
    on NumPy, the shards on `backend` (the process's kernels switched for each side)."""
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    assert not couplings(scenario, pop)
    single = Model(scenario, pop, compile_plan(scenario, pop))
    parts = [Shard(scenario, regions, backend) for regions in assign(pop, shards)]
    capacity, streams = single.params.mechanisms.capacity, Streams(scenario.run.seed)
    totals: dict[str, int] = {}
    for day in range(scenario.run.days):
        kernels.switch(False)
        row = single.step(day)
        kernels.switch(backend == "numba")
        replies = settle(
            [part.step(day) for part in parts],
            lambda shares: [part.answer(shares) for part in parts],
            capacity,
            streams,
            day,
        )
        score = sum(reply[2] for reply in replies)
        assert merge_rows([reply[0] for reply in replies], score / pop.size) == row, day
        expected = in_region_order(single.ledger.drain(), pop)
        for name in COLUMNS:
            merged = np.concatenate([reply[1][name] for reply in replies])
            assert np.array_equal(merged, expected[name]), (day, name)
        for name, value in row.items():
            totals[name] = totals.get(name, 0) + value
    return totals


class Fails(Component):
    """A component that raises: where a day fails, for the tests of a shard's barrier."""

    name = stage = "fails"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def step(self, ctx: object, day: int, flow: object) -> None:
        raise self.error


def test_a_shard_day_that_fails_on_either_side_of_the_barrier_raises_to_its_caller(
    tmp_path: Path,
) -> None:
    # the day waits at the barrier between the driver's two calls (a generator, no thread): a
    # failure after the ask is raised by the answer, one before it by the step, never a hang
    file = tmp_path / "towns.toml"
    file.write_text(f'extends = "{THREE_TOWNS}"\n' + CAPACITY)
    scenario = load_scenario(file)
    shard = Shard(scenario, assign(Population.generate(scenario.population, seed=5), 2)[0], "numpy")
    day = shard.model.day
    components = day.components
    after = day.names().index("search") + 1
    day.components = (
        *components[:after],
        Fails(RuntimeError("after the ask")),
        *components[after:],
    )
    assert isinstance(shard.step(0), Ask)
    with pytest.raises(RuntimeError, match="after the ask"):
        shard.answer(np.zeros((2, 3), dtype=np.int64))
    day.components = (Fails(ZeroDivisionError()), *components)
    with pytest.raises(ZeroDivisionError):
        shard.step(1)
    with pytest.raises(ShardingError, match="out of step"):  # no day waits for an answer
        shard.answer(np.zeros((2, 3), dtype=np.int64))


def run_alone_and_sharded(tmp_path: Path, *args: str, shards: int) -> Path:
    """`scsim run ARGS` in one process and as `shards` shards: the same files, byte for byte.
    Returns the single process's run directory."""
    alone = cli("run", *args, "--out", str(tmp_path / "alone"))
    sharded = cli("run", *args, "--out", str(tmp_path / "sharded"), "--shards", str(shards))
    assert alone.exit_code == 0 and sharded.exit_code == 0, sharded.text
    assert checksums(tmp_path / "sharded") == checksums(tmp_path / "alone")
    return tmp_path / "alone"


def test_a_sharded_run_writes_the_files_of_one_process(tmp_path, three_towns, ray_cluster) -> None:
    alone = run_alone_and_sharded(tmp_path, str(three_towns), shards=3)
    ledger = pd.read_parquet(alone / "ledger.parquet")
    assert ledger["kind"].eq("blocked").any() and (~ledger["truth"]).any()


# built-ins at small sizes: national-score with its cameras' cap binding at this size
CAMERA_CAP = "[surveillance.sensors.cameras]\ndaily_capacity_per_million = 30\n"
SHARDED_BUILTINS = {
    "court-blacklist": ("", 300_000, 60, ("flight_blocked", "train_blocked")),
    "national-score": (CAMERA_CAP, 100_000, 10, ("cameras_over_capacity", "informant_rewards")),
    "corporate": ("", 300_000, 60, ("company_records", "representatives_listed")),
}


@pytest.mark.parametrize("name", list(SHARDED_BUILTINS))
def test_a_sharded_builtin_writes_the_files_of_one_process(tmp_path, name, ray_cluster) -> None:
    extra, size, days, exercised = SHARDED_BUILTINS[name]
    target = name
    if extra:
        target = str(tmp_path / f"{name}.toml")
        Path(target).write_text(f'extends = "{name}"\n{extra}')
    alone = run_alone_and_sharded(
        tmp_path, target, "--population", str(size), "--days", str(days), shards=2
    )
    metrics = pd.read_parquet(alone / "metrics.parquet")
    assert all(metrics[metric].sum() > 0 for metric in exercised)


def test_a_sharded_run_writes_a_sample_of_people_as_one_process(tmp_path, ray_cluster) -> None:
    sample = tmp_path / "sample.toml"
    sample.write_text(f'extends = "{THREE_TOWNS}"\n[run]\ndays = 10\npeople = 1000\n')
    alone = run_alone_and_sharded(tmp_path, str(sample), shards=2)
    assert len(pd.read_parquet(alone / "people.parquet")) == 1000


def test_the_ledger_of_each_day_is_in_region_order(three_towns, tmp_path) -> None:
    cli("run", str(three_towns), "--out", str(tmp_path / "run"), "--days", "10")
    ledger = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    pop = Population.generate(load_scenario(three_towns).population, seed=5)
    region = pop.region_of(ledger["entity"].to_numpy())
    day = ledger["day"].to_numpy()
    same_day = day[1:] == day[:-1]
    assert (region[1:][same_day] >= region[:-1][same_day]).all()
    assert len(np.unique(region)) == 3


def test_a_scenario_whose_draws_couple_regions_is_refused(tmp_path, monkeypatch) -> None:
    # every mechanism shards exactly now; one that did not (here the capacity, as it once was)
    # is refused up front, in one line, and nothing is written
    monkeypatch.setattr(sharding, "SHARDABLE", tuple(set(sharding.SHARDABLE) - {"capacity"}))
    out = tmp_path / "nation"
    outcome = cli(
        "run", "national-score", "--population", "20000", "--shards", "2", "--out", str(out)
    )
    assert_one_line_refusal(outcome, "--shards", "capacity")
    assert not out.exists()


def test_regions_are_dealt_to_shards_whole_contiguous_and_about_even() -> None:
    scenario = load_scenario("national-score", overrides={"population.size": 1_000_000})
    pop = Population.generate(scenario.population, seed=1)
    regions = assign(pop, 4)
    assert regions[0][0] == 0 and regions[-1][1] == 31
    assert all(a < b for a, b in regions)
    assert all(x[1] == y[0] for x, y in itertools.pairwise(regions))
    people = [int(pop.region_start[b] - pop.region_start[a]) for a, b in regions]
    assert max(people) < 0.5 * pop.size
    assert len(assign(pop, 31)) == 31


def test_shards_running_other_scsim_code_are_refused() -> None:
    """A cluster's nodes install scsim each on their own: a shard on other code would write
    days that are not the single process's, so the driver compares every shard's digest."""
    mine = engine_sha256()
    same_engine([mine, mine, mine])
    with pytest.raises(ShardingError, match=r"shard 1 runs other scsim code.*every node"):
        same_engine([mine, "f" * 64, mine])


def test_more_shards_than_regions_is_one_line_and_exit_2(three_towns, tmp_path) -> None:
    outcome = cli("run", str(three_towns), "--shards", "4", "--out", str(tmp_path / "x"))
    assert_one_line_refusal(outcome, "--shards takes 1 to 3, not 4", "3 regions")
    alone = cli("run", "rongcheng", "--shards", "2", "--out", str(tmp_path / "y"))
    assert_one_line_refusal(alone, "--shards takes 1, not 2", "has 1 region")  # not "1 to 1"


def test_a_shard_holds_only_its_own_people(three_towns) -> None:
    """A shard's state arrays span the population, but only its regions' people are written
    (`People.fresh` within `people_range`; the rest stay zero pages, never backed), and its
    grade counts and score sum are theirs."""
    scenario = load_scenario(str(three_towns))
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    single = Model(scenario, pop, compile_plan(scenario, pop))
    for regions in assign(pop, 3):
        shard = sharding.RegionModel(scenario, pop, regions, "numpy")
        lo, hi = shard.params.people_range
        for name, column in vars(shard.state.people).items():
            whole = getattr(single.state.people, name)
            assert np.array_equal(column[lo:hi], whole[lo:hi]), name
            assert not column[:lo].any() and not column[hi:].any(), name
        assert shard.state.tier_counts.sum() == hi - lo
        assert shard.state.score_sum == single.rules.host_plan.base * (hi - lo)


def test_the_court_lists_reforms_and_orders_run_sharded_as_the_single_process() -> None:
    """court-list-history with every reform from day 0 and an orders list beside the list."""
    grounds = ["able_but_refuses", "obstructs_enforcement", "evades_enforcement"]
    reformed = {
        f"rulebook.lists.{part}.{field}": value
        for part in ("court_list_until_performed", "court_list")
        for field, value in (
            ("credit_repair_per_year", 3.0),
            ("serious_share", 0.3),
            ("unable_share", 0.2),
            ("spare_unable", True),
            ("exempt_share", 0.1),
            ("grace_performs", 0.1),
        )
    }
    scenario = load_scenario(
        "court-list-history",
        overrides={
            "population.size": 300_000,
            "run.days": 400,
            "surveillance.sensors.courts.adoption.floor": 1.0,
            "rulebook.lists.orders": {"term_days": 0, "order_share": 0.5, "order_events": grounds},
            "rulebook.services.flight.blocked_lists": ["court_list", "orders"],
            "rulebook.services.star_hotel.serious_only": True,
            "rulebook.services.star_hotel.lifted": 0.2,
            **reformed,
        },
    )
    totals = assert_shards_make_the_single_process(scenario, 3)
    for metric in (
        "court_list_credit_repaired",
        "court_list_spared_unable",
        "court_list_spared_exempt",
        "court_list_grace_performed",
        "orders_orders",
        "star_hotel_lifted",
        "star_hotel_spared_graded",
    ):
        assert totals[metric] > 0, metric


def test_shards_on_the_compiled_path_make_the_single_numpy_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--shards` with `--backend numba`: each shard's kernels (every array through them, however
    small) give the single NumPy process's rows, day by day."""
    pytest.importorskip("numba")

    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)
    days, overrides, exercised = BUILTINS["court-blacklist"]
    scenario = load_scenario(
        "court-blacklist", overrides={"population.size": 300_000, "run.days": days, **overrides}
    )
    try:
        totals = assert_shards_make_the_single_process(scenario, 2, backend="numba")
    finally:
        kernels.switch(False)
    assert all(totals[metric] > 0 for metric in exercised), totals
