"""The compiled path (`--backend numba`) writes the NumPy path's bytes, at any number of threads.

Each kernel is set against its NumPy reference on the shapes the engine gives it (one key or
one per counter, one threshold or one per counter, signed or unsigned counters), and every
built-in runs at a small size on both paths, the compiled one at 1 and at 2 threads with every
kernel over the threads (its threshold for sharing the work set to 0), and every output file's
columns compared (tests/golden_hashes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from golden_hashes import DATA_FILES, content_sha256
from hypothesis import given, settings
from hypothesis import strategies as st

from scsim.engine import kernels, rng, sampling
from scsim.engine.backend import BackendError, load, lookup
from scsim.engine.model import Model
from scsim.engine.plan import grade_of
from scsim.engine.population import Population
from scsim.scenario import load_scenario
from scsim.scenario.loader import builtin_names
from scsim.simulation.run import simulate

numba = pytest.importorskip("numba")
from scsim.engine.kernels import counters  # noqa: E402  (needs Numba)
from scsim.engine.kernels import grades as grades_kernels  # noqa: E402

PEOPLE, SEED = 5_000, 11
DAYS = {"court-list-history": 900, "corporate": 400}  # others: 200 days
THREADS = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]
SHARED = 64  # elements from which the kernels share the work at 2 threads here
NUMPY_HASHES: dict[str, dict[str, str]] = {}  # per built-in: the reference, run once


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The kernels on for a test, off after it (the reference is the process's default), and
    taking arrays however small."""
    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)
    kernels.switch(True)
    yield
    kernels.switch(False)


@pytest.fixture(params=THREADS, ids=lambda n: f"{n}-threads")
def threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """`numba.set_num_threads(n)`, and with 2 every kernel over the threads from SHARED
    elements on (the engine's own threshold is far above a small run's arrays)."""
    before = numba.get_num_threads()
    numba.set_num_threads(request.param)
    if request.param > 1:
        monkeypatch.setattr(counters, "PARALLEL", SHARED)
    yield request.param
    numba.set_num_threads(before)


def reference(name: str, *args: object) -> np.ndarray:
    kernels.switch(False)
    try:
        return getattr(rng, name)(*args)  # type: ignore[no-any-return]
    finally:
        kernels.switch(True)


SHAPES = {
    "one key, int64 counters": lambda g, n: (int(g.integers(2**63)) * 2 + 1, np.arange(n) * 7),
    "a key per counter": lambda g, n: (
        g.integers(0, 2**63, n).astype(np.uint64) * np.uint64(2),
        g.integers(0, 2**40, n),
    ),
    "uint64 counters": lambda g, n: (12345, g.integers(0, 2**62, n).astype(np.uint64)),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", [1, 300, 40_000])
def test_counter_kernels_equal_numpy_draw_for_draw(
    compiled: None, threads: int, shape: str, n: int
) -> None:
    g = np.random.default_rng(n)
    key, count = SHAPES[shape](g, n)
    per_counter = rng.threshold(g.random(n))
    sizes = g.integers(1, 2**40, n)
    cases = {
        "bits": (),
        "uniform": (),
        "integers": (sizes,),
        "integers, one size": (1_000_003,),
        "accept": (per_counter,),
        "accept, one threshold": (rng.threshold(0.3),),
        "accept, a numpy scalar": (per_counter[0],),
    }
    for case, args in cases.items():
        name = case.split(",")[0]
        got = kernels.elementwise(name, key, count, *args)
        assert got is not None, case
        want = reference(name, key, count, *args)
        assert got.dtype == want.dtype and np.array_equal(got, want), case
        assert np.array_equal(getattr(rng, name)(key, count, *args), want), case


def test_a_shape_the_kernels_do_not_take_falls_back_to_numpy(compiled: None) -> None:
    counters_2d = np.arange(12).reshape(3, 4)
    assert kernels.elementwise("bits", 5, counters_2d) is None
    assert np.array_equal(rng.bits(5, counters_2d), reference("bits", 5, counters_2d))
    float_thresholds = np.full(4, 2.0**31)
    assert kernels.elementwise("accept", 5, np.arange(4), float_thresholds) is None


def test_draws_of_counts_equal_numpy(compiled: None, threads: int) -> None:
    g = np.random.default_rng(3)
    strata, width, days = 40, 3, 5
    counts = g.poisson(20, strata * width * days).astype(np.int64)
    counts[::7] = 0
    keys = g.integers(0, 2**63, (days, strata * width)).astype(np.uint64)
    start = np.cumsum(g.integers(1, 10_000, strata)).astype(np.int64)
    size = g.integers(1, 10_000, strata).astype(np.int64)
    got = sampling._draws_of_counts(np, counts, strata * width, width, keys, start, size)
    kernels.switch(False)
    want = sampling._draws_of_counts(np, counts, strata * width, width, keys, start, size)
    for column in ("stratum", "column", "person", "serial"):
        a, b = getattr(got, column), getattr(want, column)
        assert a.dtype == b.dtype and np.array_equal(a, b), column


def test_region_counters_equal_the_stable_sort(compiled: None) -> None:
    scenario = load_scenario("national-score", overrides={"population.size": 310_000})
    pop = Population.generate(scenario.population, seed=1)
    g = np.random.default_rng(5)
    for person in (np.sort(g.integers(0, 310_000, 5_000)), g.integers(0, 310_000, 5_000)):
        got = sampling.region_counters(pop, person)
        kernels.switch(False)
        want = sampling.region_counters(pop, person)
        kernels.switch(True)
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_friends_seen_equal_the_friends_rows(compiled: None, threads: int) -> None:
    scenario = load_scenario("national-score", overrides={"population.size": 310_000})
    pop = Population.generate(scenario.population, seed=1)
    g = np.random.default_rng(9)
    wariness = g.integers(0, 4, 310_000).astype(np.uint8)
    for person in (np.sort(g.integers(0, 310_000, 3_000)), g.integers(0, 310_000, 3_000)):
        got = kernels.seen_among_friends(
            pop.region_start, pop.friend_offsets, wariness, person, cap=7
        )
        want = np.minimum(wariness[pop.friends(person)].sum(axis=1, dtype=np.int64), 7)
        assert got is not None and got.dtype == want.dtype and np.array_equal(got, want)


def test_wariness_grown_in_one_pass_equals_the_counted_names(compiled: None) -> None:
    """Each name adds one, saturating at 255: repeated names, people near the cap and at it."""
    g = np.random.default_rng(11)
    before = g.integers(0, 256, 5_000).astype(np.uint8)
    before[:50] = 255
    before[50:100] = 253
    person = np.concatenate([g.integers(0, 5_000, 20_000), np.repeat(np.arange(100), 4)])
    grown = before.copy()
    assert kernels.grow_wary(grown, person)
    people, count = np.unique(person, return_counts=True)
    want = before.copy()
    want[people] = np.minimum(want[people].astype(np.int64) + count, 255).astype(np.uint8)
    assert np.array_equal(grown, want)
    assert not kernels.grow_wary(grown.astype(np.int16), person)  # not its dtypes: NumPy's
    kernels.switch(False)
    assert not kernels.grow_wary(grown, person)  # the kernels off: NumPy's


def test_table_lookups_equal_numpy(compiled: None) -> None:
    g = np.random.default_rng(4)
    table = rng.threshold(g.random((5, 7)))
    row = g.integers(0, 5, 1_000)
    for column in (g.integers(0, 7, 1_000), g.integers(0, 7, 1_000).astype(np.uint8), 3):
        got = lookup(np, table, row, column)
        kernels.switch(False)
        want = lookup(np, table, row, column)
        kernels.switch(True)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert kernels.lookup(table, row, g.integers(0, 7, 1_000).astype(np.uint64)) is None


def test_request_kernels_equal_numpy(compiled: None, threads: int) -> None:
    g = np.random.default_rng(6)
    tier = g.integers(0, 5, 10_000).astype(np.uint8)
    flags = g.integers(0, 256, 10_000).astype(np.uint8)
    lists = g.integers(0, 256, 4).astype(np.uint8)
    person, service = g.integers(0, 10_000, 2_000), g.integers(0, 4, 2_000)
    got = kernels.request_gather(tier, flags, lists, person, service)
    assert got is not None
    want = (tier[person], flags[person], flags[person] & lists[service])
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    by_list, by_household = g.random(2_000) < 0.2, g.random(2_000) < 0.1
    refuses, rewards = g.random((4, 5)) < 0.3, g.random((4, 5)) < 0.5
    decided = kernels.request_decide(by_list, by_household, service, got[0], refuses, rewards)
    assert decided is not None
    graded = service * 5 + got[0]
    blocked = by_list | by_household | refuses.ravel()[graded]
    assert np.array_equal(decided[0], blocked)
    assert np.array_equal(decided[1], ~blocked & rewards.ravel()[graded])


def run_hashes(name: str, out: Path, backend: str) -> dict[str, str]:
    days = DAYS.get(name, 200)
    overrides = {"population.size": PEOPLE, "run.seed": SEED, "run.days": days}
    simulate(load_scenario(name, overrides=overrides), out, backend=backend)
    return {file: content_sha256(out / file) for file in DATA_FILES}


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_writes_the_numpy_bytes_on_the_compiled_path(
    name: str, tmp_path: Path, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)  # a small run's arrays through the kernels too
    try:
        compiled = run_hashes(name, tmp_path / "numba", "numba")
        assert kernels.active()
    finally:
        load("numpy")
    assert not kernels.active()
    if name not in NUMPY_HASHES:
        NUMPY_HASHES[name] = run_hashes(name, tmp_path / "numpy", "numpy")
    assert compiled == NUMPY_HASHES[name]


def test_numba_backend_without_numba_is_refused_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kernels, "available", lambda: False)
    with pytest.raises(BackendError, match="needs Numba"):
        load("numba")
    assert not kernels.active()


def test_loading_a_backend_switches_the_kernels_for_the_process() -> None:
    assert load("numba") is np and kernels.active()
    assert load("numpy") is np and not kernels.active()


def _points_and_grades(model: Model, rows: int, seed: int) -> dict[str, object]:
    """A day's worth of point rows (many people twice, some false) applied and graded through
    `score._apply_points` and `grades.regrade` on `model`: what they return and leave."""
    from scsim.engine.components.grades import regrade
    from scsim.engine.components.score import _apply_points

    draw = np.random.default_rng(seed)
    ctx, people = model, model.state.people
    person = draw.integers(0, people.score.size, size=rows)
    delta = draw.integers(-250, 120, size=rows)
    truth = draw.random(rows) < 0.8
    sum_before, locked_before = model.state.score_sum, model.state.locked_by_points
    touched = _apply_points(ctx, person, delta, truth)
    empty = np.empty(0, dtype=np.int64)
    demoted = regrade(ctx, 3, touched, empty, empty, np.empty(0, dtype=bool))
    return {
        "touched": touched.copy(),
        "demoted": demoted.copy(),
        "score": people.score.copy(),
        "false_points": people.false_points.copy(),
        "tier": people.tier.copy(),
        "flags": people.flags.copy(),
        "score_sum": model.state.score_sum - sum_before,
        "locked": model.state.locked_by_points - locked_before,
        "locks": model.state.locks.ids.copy(),
    }


def test_friends_seen_wrap_in_regions_smaller_than_their_offsets(
    compiled: None, threads: int
) -> None:
    """A region of a few people has offsets at or above its size (a friend two away in a region
    of two is the person's own id): the kernel's single wrap must give `xp.mod`'s ids."""
    scenario = load_scenario("national-score", overrides={"population.size": 90})
    pop = Population.generate(scenario.population, seed=1)
    sizes = np.diff(pop.region_start)
    assert (pop.friend_offsets >= np.maximum(sizes, 1)[:, None]).any()  # the case is here
    wariness = np.random.default_rng(4).integers(0, 4, 90).astype(np.uint8)
    person = np.arange(90, dtype=np.int64)
    got = kernels.seen_among_friends(pop.region_start, pop.friend_offsets, wariness, person, 99)
    want = np.minimum(wariness[pop.friends(person)].sum(axis=1, dtype=np.int64), 99)
    assert got is not None and np.array_equal(got, want)


@given(
    bounds=st.lists(st.integers(-40_000, 40_000), min_size=1, max_size=9, unique=True),
    scores=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=50),
)
def test_a_grade_read_from_the_table_is_the_grade_of_its_score(
    bounds: list[int], scores: list[int]
) -> None:
    """The kernels' grade table, clipped at its ends, gives `plan.grade_of` for any score
    (int16 points, or points less false points: below, between and beyond the bounds)."""
    tier_min = np.array(sorted(bounds, reverse=True), dtype=np.int64)
    found = grades_kernels.grade_table(tier_min)
    assert found is not None
    lo, table = found
    score = np.array([*scores, int(tier_min.min()), int(tier_min.max())], dtype=np.int64)
    at = np.clip(score, lo, lo + table.size - 1) - lo
    assert np.array_equal(table[at], grade_of(tier_min, score))


def test_points_and_grades_kernels_equal_numpy(
    compiled: None, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """national-score's scale and grades that lock when points reach them: the compiled points,
    grades and grades without false records leave every column, count and lock where the
    reference does."""
    called = {"points": 0, "grades": 0, "fair": 0}
    points_kernel, grades_kernel = kernels.apply_points, kernels.follow_points
    fair_kernel = kernels.fair_grades

    def count(name: str, kernel: Callable[..., object]) -> Callable[..., object]:
        def counted(*args: object) -> object:
            called[name] += 1
            return kernel(*args)

        return counted

    monkeypatch.setattr(kernels, "apply_points", count("points", points_kernel))
    monkeypatch.setattr(kernels, "follow_points", count("grades", grades_kernel))
    monkeypatch.setattr(kernels, "fair_grades", count("fair", fair_kernel))
    scenario = load_scenario("national-score", overrides={"population.size": 20_000})
    results = []
    for backend in ("numpy", "numba"):  # building loads the backend: kernels off, then on
        results.append(_points_and_grades(Model.build(scenario, backend), rows=30_000, seed=5))
    assert called["points"] == called["grades"] == 1 and called["fair"] >= 1  # compiled: all
    reference, compiled_run = results
    assert int(reference["locked"]) > 0 and np.size(reference["demoted"]) > 0  # type: ignore[call-overload]
    for name, expected in reference.items():
        np.testing.assert_array_equal(compiled_run[name], expected, err_msg=name)


def test_a_table_read_at_each_persons_grade_equals_numpy(compiled: None, threads: int) -> None:
    draw = np.random.default_rng(3)
    tier = draw.integers(0, 8, size=50_000).astype(np.uint8)
    person = draw.integers(0, tier.size, size=20_000)
    for table in (draw.random(8) < 0.3, draw.integers(0, 100, size=8)):
        read = kernels.by_grade(table, tier, person)
        assert read is not None
        np.testing.assert_array_equal(read, table[tier[person]])


@pytest.mark.parametrize("name", ["national-score", "rongcheng"])  # events watched twice, once
def test_detections_kernel_equals_numpy(
    name: str, compiled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sensor's records of a day's events, by the first sensor that detects each: the
    compiled pass gives the reference's sensors, events, people and origins, in its order."""
    from scsim.engine.components.observe import _detections
    from scsim.engine.sampling import Draw

    calls: list[int] = []
    kernel = kernels.detections

    def counted(*args: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        calls.append(1)
        return kernel(*args)

    monkeypatch.setattr(kernels, "detections", counted)

    scenario = load_scenario(name, overrides={"population.size": 20_000})
    draw = np.random.default_rng(8)
    results = []
    for backend in ("numpy", "numba"):  # building loads the backend: kernels off, then on
        model = Model.build(scenario, backend)
        n, kinds = 60_000, model.rules.plan.sensor_events.shape[1]
        events = Draw(
            stratum=draw.integers(0, model.params.pop.n_strata, size=n),
            column=draw.integers(0, kinds, size=n),
            person=draw.integers(0, 20_000, size=n),
            serial=draw.integers(0, 2**40, size=n).astype(np.uint64),
        )
        draw = np.random.default_rng(8)  # the same events for both
        results.append(_detections(model, 4, events))
        assert kernels.active() == (backend == "numba")
    for expected, got in zip(*results, strict=True):
        assert expected.dtype == got.dtype
        np.testing.assert_array_equal(got, expected)
    assert len(results[0][0]) > 1_000  # records enough to have an order to keep
    assert len(calls) == 1  # the compiled run went through the kernel


def test_a_small_run_on_the_compiled_path_never_imports_numba() -> None:
    """Importing Numba and loading its cached kernels cost a second or two, more than a small
    run's whole year: its calls stay below COMPILED_FROM, so the compiled path leaves them to
    NumPy (the same bytes) and never imports it. A fresh process, so no test's import counts."""
    import subprocess
    import sys

    code = (
        "import sys, scsim\n"
        "scsim.run('rongcheng', population=20_000, days=20, backend='numba',"
        " overrides={'run.people': 'none', 'run.report': False})\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False"


def test_a_call_goes_to_its_kernel_from_compiled_from_elements_on(
    compiled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's call goes compiled from COMPILED_FROM elements on; in a process that runs many
    runs (calibration's workers: `kernels.load`), with any."""
    monkeypatch.setattr(kernels, "COMPILED_FROM", 4096)
    monkeypatch.setattr(kernels, "_every", False)
    small, large = np.arange(4095, dtype=np.int64), np.arange(4096, dtype=np.int64)
    assert kernels.elementwise("bits", 12345, small) is None
    compiled = kernels.elementwise("bits", 12345, large)
    assert compiled is not None
    assert np.array_equal(compiled, reference("bits", 12345, large))
    monkeypatch.setattr(kernels, "_every", True)
    compiled = kernels.elementwise("bits", 12345, small[:3])
    assert compiled is not None and np.array_equal(compiled, reference("bits", 12345, small[:3]))


def test_a_few_ids_into_a_nations_columns_go_to_their_kernel(
    compiled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below COMPILED_FROM elements a call still goes compiled where it reads columns of
    COLUMNS_FROM people or more at its ids: each id is a cache miss that one pass waits on once."""
    monkeypatch.setattr(kernels, "COMPILED_FROM", 4096)
    monkeypatch.setattr(kernels, "COLUMNS_FROM", 1000)
    monkeypatch.setattr(kernels, "_every", False)  # a run's, not a fit worker's
    tier = np.arange(1000, dtype=np.int64).astype(np.uint8)
    table = np.arange(256, dtype=np.int32) * 3
    few = np.array([5, 999, 300], dtype=np.int64)
    got = kernels.by_grade(table, tier, few)
    assert got is not None and np.array_equal(got, table[tier[few]])
    assert kernels.by_grade(table, tier[:999], few[:1]) is None  # a smaller population: NumPy
    assert kernels.by_grade(table, tier, few[:0]) is None  # no ids: nothing to compile for


POISSON_EDGES = [0.0, -1.0, float("nan"), 1e-12, 9.999999, 10.0, 10.000001, 1e7]


def test_poisson_kernel_equals_the_scalar_draw_for_draw() -> None:
    """Inversion below 10, PTRS above (many draws reject, some several times, and a third reach
    the test of logarithms, taken on libm through LLVM): each count the scalar draw's, and
    no mean or a mean that is not a number draws none, as in the reference."""
    from scsim.engine.kernels.poisson import poisson_many as compiled

    lam = np.concatenate(
        [np.linspace(0.0, 12.0, 1201), np.geomspace(10.0, 1e7, 2500), POISSON_EDGES]
    )
    keys = rng.Streams(3).keys("counts", 9, np.arange(lam.size))
    scalar = [
        rng.poisson(int(k), float(x)) if x == x else 0 for k, x in zip(keys, lam, strict=True)
    ]
    assert compiled(keys, lam).tolist() == scalar
    assert compiled(keys, lam).tolist() == reference("poisson_many", keys, lam).tolist()


@settings(max_examples=100, deadline=None)
@given(
    key=st.integers(0, 2**64 - 1),
    lam=st.floats(0.0, 1e6, allow_nan=False) | st.sampled_from(POISSON_EDGES),
)
def test_poisson_kernel_equals_the_scalar_draw_anywhere(key: int, lam: float) -> None:
    from scsim.engine.kernels.poisson import poisson_many as compiled

    got = compiled(np.array([key], dtype=np.uint64), np.array([lam]))
    assert got.tolist() == [rng.poisson(key, lam) if lam == lam else 0]


def test_a_days_few_means_go_compiled_in_a_process_of_many_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below COMPILED_FROM a Poisson call goes compiled only in a process that sends every call
    to its kernel (calibration's workers: `kernels.load`); a single run's would cost it more to
    load than they save. Above SCALAR_DRAWS means only: fewer are drawn in Python."""
    calls = []
    monkeypatch.setattr(kernels, "poisson_many", lambda k, x: calls.append(x.size))
    monkeypatch.setattr(kernels, "_every", False)
    keys, lam = np.arange(20, dtype=np.uint64), np.full(20, 3.0)
    kernels.switch(True)
    try:
        assert not kernels.few(20) and kernels.few(kernels.COMPILED_FROM)
        kernels.load()
        assert kernels.few(20)
        rng.poisson_many(keys, lam)
        rng.poisson_many(keys[: rng.SCALAR_DRAWS], lam[: rng.SCALAR_DRAWS])
    finally:
        kernels.switch(False)
    assert calls == [20]
    assert not kernels.few(20)  # the kernels off: NumPy, whatever the process


roster_days = st.lists(
    st.tuples(
        st.lists(st.integers(0, 60), max_size=12, unique=True),  # entering (ids not present)
        st.lists(st.integers(0, 60), max_size=12),  # taken (any, repeats, absent ones)
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=80, deadline=None)
@given(days=roster_days)
def test_roster_kernels_equal_numpy(days: list[tuple[list[int], list[int]]]) -> None:
    """A roster's merge and split, compiled, hold the reference's columns day after day (the
    new members after equal ids, the kept ones in order, the taken ones returned in order),
    the splits after the first compacting the roster's own arrays in place."""
    from scsim.engine.state import Roster

    rosters, taken = {}, {}
    every = kernels._every
    for on in (False, True):
        kernels.switch(on)
        kernels._every = on  # however small, as in calibration's workers
        roster, out = Roster(), []
        try:
            for day, (entering, taking) in enumerate(days):
                ids = np.array([i for i in entering if i not in set(roster.ids.tolist())])
                ids = ids.astype(np.int64)
                until = (ids * 7 + day) % 13
                roster.add(ids, day, until, (ids % 3).astype(np.uint8), ids % 2 == 0)
                gone = roster.take_ids(np.array(taking, dtype=np.int64))
                out.append({name: column.copy() for name, column in gone.items()})
                out.append(roster.take_due(day - 3 + day % 2))
        finally:
            kernels.switch(False)
            kernels._every = every
        rosters[on], taken[on] = roster.columns, out
    for name, column in rosters[False].items():
        assert column.dtype == rosters[True][name].dtype
        np.testing.assert_array_equal(rosters[True][name], column)
    for before, after in zip(taken[False], taken[True], strict=True):
        for name, column in before.items():
            np.testing.assert_array_equal(after[name], column)
    kernels.switch(True)
    kernels._every = True
    try:  # and the compiled path was the one taken
        columns = {name: np.resize(column, 3) for name, column in rosters[False].items()}
        for in_place in (False, True):
            split = kernels.roster_split(columns, np.ones(3, dtype=bool), tuple(columns), in_place)
            assert split is not None
    finally:
        kernels.switch(False)
        kernels._every = every


@settings(max_examples=100, deadline=None)
@given(
    ids=st.sets(st.integers(0, 80), max_size=40),
    moves=st.dictionaries(st.integers(0, 80), st.booleans(), max_size=30),
)
def test_a_grades_roster_resorted_in_one_pass_equals_numpy(
    ids: set[int], moves: dict[int, bool]
) -> None:
    """`Members`' roster of a grade after a day's moves: the moved ids leave it (those here)
    and those now holding the grade join it, sorted, as the reference's two passes give."""
    from scsim.engine.kernels.rosters import resorted
    from scsim.engine.members import _merged, _without

    roster = np.array(sorted(ids), dtype=np.int64)
    moved = np.array(sorted(moves), dtype=np.int64)
    joins = np.array([moves[m] for m in sorted(moves)], dtype=bool)
    expected = _merged(np, _without(np, roster, moved), moved[joins])
    got = resorted(roster, moved, joins)
    assert got.dtype == np.int64
    assert got.tolist() == expected.tolist() == sorted((ids - set(moves)) | set(moved[joins]))


@pytest.mark.parametrize("name", ["court-list-history", "court-blacklist"])
def test_the_list_only_services_requests_compiled_are_the_references(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists act on the same services (court-list-history's two court lists; court-blacklist's
    eleven services on lists after others), so a member of two is drawn from the first only:
    the kernel draws, drops and counts as the NumPy path does, every tenth day of a run whose
    rosters grow from nothing."""
    from scsim.engine.components.demand import listed_requests

    s = load_scenario(name, overrides={"population.size": 300_000})
    model = Model.build(s)
    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)
    taken: list[object] = []
    drawn = 0
    monkeypatch.setattr(kernels, "listed_requests", _spy(kernels.listed_requests, taken))
    for day in range(700):
        model.step(day)
        model.ledger.discard()
        if day % 10:
            continue
        reference = listed_requests(model, day)
        kernels.switch(True)
        try:
            compiled = listed_requests(model, day)
        finally:
            kernels.switch(False)
        for got, want in zip(compiled, reference, strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        drawn += len(compiled[0])
    assert sum(x is not None for x in taken) >= 50  # the kernel's answers were compared
    assert drawn > 5
    assert len(model.state.rosters[0]) and len(model.state.rosters[1])


def _spy(f: Callable[..., object], answers: list[object]) -> Callable[..., object]:
    def spied(*args: object) -> object:
        answers.append(f(*args))
        return answers[-1]

    return spied


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_a_lists_new_members_exits_compiled_are_the_references(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """court-list-history's lists: open-ended terms with appeals (0, 1) and fixed terms without
    (2, 3); the kernel's exits, reasons, appeals counted and appeals scheduled are the
    reference's, for people listed rightly and wrongly, on an early and a late day."""
    from scsim.engine.components.listing import ListChanges, _exits
    from scsim.engine.state import Calendar

    model = Model.build(load_scenario("court-list-history", overrides={"population.size": 50_000}))
    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)
    draw = np.random.default_rng(index)
    for day in (3, 1500):
        person = np.unique(draw.integers(0, 50_000, size=400))
        wrongful = draw.random(person.size) < 0.3
        answers = []
        for on in (False, True):
            model.state.calendar = Calendar()
            changes = ListChanges.zeros(4)
            kernels.switch(on)
            try:
                until, reason = _exits(model, day, index, person, wrongful, changes)
            finally:
                kernels.switch(False)
            answers.append((until, reason, changes, model.state.calendar.to_arrays()))
        (until, reason, changes, calendar), want = answers[1], answers[0]
        assert until.dtype == want[0].dtype and reason.dtype == want[1].dtype
        np.testing.assert_array_equal(until, want[0])
        np.testing.assert_array_equal(reason, want[1])
        for name, column in vars(want[2]).items():
            np.testing.assert_array_equal(getattr(changes, name), column)
        assert calendar.keys() == want[3].keys()
        for name, column in want[3].items():
            np.testing.assert_array_equal(calendar[name], column)
        if index < 2:  # appeals filed and scheduled; some comply, some reach the term's end
            assert want[2].appeals_filed[index] > 0 and any(v.size for v in want[3].values())
            assert len(set(want[1].tolist())) >= 2


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_a_lists_day_of_listing_records_compiled_is_the_references(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """court-list-history's lists, some drawing several cases per record (0, 1) and some one
    (2, 3): the kernel's cases, new members and their wrongfulness are the reference's, for
    people with several records (true and false) and people already on the list."""
    from types import SimpleNamespace

    from scsim.engine.components.listing import _cases, _compiled_entries, _first_per_person
    from scsim.engine.ledger import ORIGIN
    from scsim.engine.state import list_bit

    model = Model.build(load_scenario("court-list-history", overrides={"population.size": 50_000}))
    assert len(model.params.pop.region_start) > 2  # ranks counted per region
    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)
    draw = np.random.default_rng(index)
    drawn = set()
    for day in (3, 1500):
        size = 3_000
        person = draw.integers(0, 5_000, size=size)  # many with several records
        origin = draw.choice([ORIGIN["detected"], ORIGIN["misidentified"]], size=size, p=[0.7, 0.3])
        mine = draw.random(size) < 0.6
        flags = model.state.people.flags
        flags[draw.integers(0, 5_000, size=500)] |= list_bit(index)  # already listed
        records = SimpleNamespace(person=person, origin=origin.astype(np.uint8))
        kernels.switch(True)
        try:
            compiled = _compiled_entries(model, day, index, records, mine)  # type: ignore[arg-type]
        finally:
            kernels.switch(False)
        assert compiled is not None
        cases = _cases(model, day, index, person[mine])
        unique, wrongful = _first_per_person(
            person[mine], records.origin[mine] != ORIGIN["detected"]
        )
        fresh = (flags[unique] & list_bit(index)) == 0
        assert compiled[0] == cases
        np.testing.assert_array_equal(compiled[1], unique[fresh])
        np.testing.assert_array_equal(compiled[2], wrongful[fresh])
        assert compiled[1].dtype == unique.dtype and compiled[2].dtype == wrongful.dtype
        assert 0 < fresh.sum() < fresh.size and 0 < wrongful[fresh].sum() < fresh.sum()
        drawn.add(cases > mine.sum())
    assert drawn == {index < 2}  # lists 0 and 1 draw several cases per record, 2 and 3 not


def test_the_refused_who_try_again_compiled_are_the_references(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """court-list-history's refusals (people in any order, some refused twice, every service):
    the kernel's retries (who, which service, which day) are the reference's, row for row."""
    from scsim.engine.components.sanction import _schedule_retries
    from scsim.engine.state import Calendar

    model = Model.build(load_scenario("court-list-history", overrides={"population.size": 50_000}))
    assert len(model.params.pop.region_start) > 2  # ranks counted per region
    monkeypatch.setattr(kernels, "COMPILED_FROM", 0)
    taken: list[object] = []
    monkeypatch.setattr(kernels, "retries", _spy(kernels.retries, taken))
    draw = np.random.default_rng(7)
    services = len(model.rules.host_plan.services)
    for day in (3, 1500):
        person = draw.integers(0, 50_000, size=2_000)
        service = draw.integers(0, services, size=person.size)
        calendars = []
        for on in (False, True):
            model.state.calendar = Calendar()
            kernels.switch(on)
            try:
                _schedule_retries(model, day, person, service)
            finally:
                kernels.switch(False)
            calendars.append(model.state.calendar.to_arrays())
        want, got = calendars
        assert got.keys() == want.keys() and want["retry.person"].size > 100
        for name, column in want.items():
            assert got[name].dtype == column.dtype
            np.testing.assert_array_equal(got[name], column)
        assert np.unique(want["retry.days"]).size > 10  # waits of many lengths
    assert len(taken) == 2 and all(x is not None for x in taken)  # the kernel's, compared
