"""Calibration's runs in worker processes: the same fit with any number of workers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scsim.audit.published import calibration_table
from scsim.audit.series import days_read, target_days
from scsim.engine.model import Model
from scsim.engine.population import Population
from scsim.experiments.calibration import runs as runs_module
from scsim.experiments.calibration.fit import _ask, evaluate, refine
from scsim.experiments.calibration.runs import run_metrics
from scsim.experiments.calibration.workers import Runs
from scsim.interfaces.cli import app
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario

EARLY = {"population.size": 20_000, "run.days": 340}  # to August 2014: enough listed to fit


def _few_free(count: int) -> Scenario:
    """court-list-history early on, too few listed, with only its first `count` free rates (a
    search short enough for a test, which still keeps some moves and refuses others)."""
    s = load_scenario(
        "court-list-history", overrides=EARLY | {"surveillance.sensors.courts.detection": 0.1}
    )
    assert s.calibration is not None
    calibration = s.calibration.model_copy(update={"free": s.calibration.free[:count]})
    return s.model_copy(update={"calibration": calibration})


def test_a_refinement_is_the_same_with_any_number_of_workers() -> None:
    """Candidates run ahead in other processes while one is scored; a kept move drops them.
    The fit, every loss of its history and what `on_trial` is told must not depend on it."""
    s = _few_free(3)
    told: dict[int, list[tuple[int, float, float]]] = {}
    fits = {}
    for workers in (1, 3):
        told[workers] = []
        with Runs(workers) as runs:
            fits[workers] = refine(
                s,
                rounds=2,
                seeds=1,
                runs=runs,
                on_trial=lambda n, v, b, w=workers: told[w].append((n, v, b)),
            )
    one, three = fits[1], fits[3]
    kept = (one.history["value"].cummin().diff() < 0).sum()
    assert kept >= 1 and len(one.history) - 1 > kept  # moves kept and moves refused
    assert one.values == three.values
    assert (one.start_loss, one.best_loss, one.trials) == (
        three.start_loss,
        three.best_loss,
        three.trials,
    )
    pd.testing.assert_frame_equal(one.history, three.history)
    assert told[1] == told[3]
    # the table `calibrate` shows is the fit's own, not a run of the fitted scenario again
    table, value = evaluate(one.scenario, 1)
    pd.testing.assert_frame_equal(one.table, table, check_exact=True)
    pd.testing.assert_frame_equal(three.table, table, check_exact=True)
    assert one.best_loss == value


def test_a_run_no_longer_wanted_is_stopped_where_it_is(tmp_path: Path) -> None:
    """A fit that keeps a move drops the candidates run ahead; one already running is told to
    stop (a file), and its worker is free for the next within days, not at its run's end."""
    import threading
    import time

    from scsim.experiments.calibration.workers import _run_away

    long = {"population.size": 300_000, "run.days": 4000}  # a run of minutes, not seconds
    s = load_scenario("court-list-history", overrides=long)
    stop = tmp_path / "stop"
    told = threading.Timer(3, stop.touch)  # three seconds into the run
    told.start()
    started = time.perf_counter()
    assert _run_away(str(stop), s, "numpy", None, None) is None
    assert 3 <= time.perf_counter() - started < 30
    with Runs(2) as runs:  # `cancel` tells a running run's worker, which takes the next run
        pending = runs.submit(s)
        time.sleep(1)
        assert not pending.cancel()  # in the pool's hands: only the file stops it now
        assert pending.future.result(timeout=60) is None  # type: ignore[attr-defined]
        short = load_scenario(s, overrides={"run.days": 5, "population.size": 2_000})
        assert len(runs.submit(short).result()) == 5


def test_seeds_run_by_workers_give_the_table_of_seeds_run_here() -> None:
    s = _few_free(1)
    here, here_loss = evaluate(s, 3)
    with Runs(2) as runs:
        there, there_loss = evaluate(s, 3, runs)
    pd.testing.assert_frame_equal(here, there)
    assert here_loss == there_loss


def test_a_calibration_run_stops_at_the_last_day_a_target_reads() -> None:
    """court-list-history's targets end in July 2019 (day 2107); its run goes on to 2025. The
    fit's runs stop after the last target, and what they give it is the whole run's."""
    s = load_scenario("court-list-history", overrides={"population.size": 2_000})
    pending = _ask(s, 1, Runs())
    assert days_read(s) == 2108 < s.run.days
    assert len(pending[0].result()) == 2108


def test_a_run_stopped_early_is_the_whole_runs_first_days_byte_for_byte() -> None:
    """The table of a fit reads only the stopped run; it must be the whole run's. Open-ended
    terms size their draws by run.days: stopping the steps must not change the scenario."""
    s = load_scenario("court-list-history", overrides={"population.size": 5_000, "run.days": 800})
    whole = run_metrics(s)
    stopped = run_metrics(s, days=500)
    pd.testing.assert_frame_equal(stopped, whole.iloc[:500], check_exact=True)
    assert s.calibration is not None
    targets = [t for t in s.calibration.targets if target_days(s, t)[0] < 500]
    early = s.model_copy(
        update={"calibration": s.calibration.model_copy(update={"targets": targets})}
    )
    assert days_read(early) < 500
    here, _ = evaluate(early, 1)
    pd.testing.assert_frame_equal(here, calibration_table(early, [whole]), check_exact=True)


def test_a_fits_candidates_share_one_population_and_run_as_if_built_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Candidates change rates, not people: a process generates the population once per
    (population, seed), and a run on it is the run of a model built from nothing."""
    s = load_scenario("court-list-history", overrides={"population.size": 5_000, "run.days": 300})
    other = load_scenario(s, overrides={"rulebook.services.flight.per_year": 2.0})
    reseeded = load_scenario(s, overrides={"run.seed": 7})
    alone = {}
    for x in (s, other, reseeded):
        model = Model.build(x)
        alone[x.run.seed, x.rulebook.services["flight"].per_year] = pd.DataFrame(
            [row for _, row in model.run(0, x.run.days)]
        )
    made: list[int] = []
    generate = Population.generate.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Population], spec: object, seed: int) -> Population:
        made.append(seed)
        return generate(cls, spec, seed)  # type: ignore[no-any-return]

    monkeypatch.setattr(runs_module, "_populations", {})
    monkeypatch.setattr(Population, "generate", classmethod(counted))
    for x in (s, other, reseeded, s):
        shared = run_metrics(x)
        key = (x.run.seed, x.rulebook.services["flight"].per_year)
        pd.testing.assert_frame_equal(shared, alone[key], check_exact=True)
    assert made == [s.run.seed, 7]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--workers", "0"], "--workers takes 1 or more, not 0"),
        (["--backend", "gpu"], "--backend gpu: calibration runs on numpy or numba"),
    ],
)
def test_calibrate_refuses_no_workers_and_a_backend_it_cannot_use(
    options: list[str], words: str
) -> None:
    result = CliRunner().invoke(app, ["calibrate", "court-list-history", *options])
    assert result.exit_code == 2, result.output
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_interrupted_calibration_ends_its_workers_at_once() -> None:
    """Ctrl-C or a kill must not wait for the candidates run ahead: the workers are ended."""
    import time

    long = {"population.size": 300_000, "run.days": 4000}  # a run of minutes, not seconds
    s = load_scenario("court-list-history", overrides=long)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt), Runs(2) as runs:
        pending = [runs.submit(s), runs.submit(s)]
        time.sleep(3)  # the workers started, each on a run of minutes
        raise KeyboardInterrupt
    assert time.perf_counter() - started < 30
    assert not any(p.cancel() for p in pending)  # both were running, not waiting


@pytest.mark.parametrize(("backend", "loaded"), [("numba", True), ("numpy", False)])
def test_compiled_runs_import_numba_once_for_all_their_runs(backend: str, loaded: bool) -> None:
    """A process that runs many runs compiled imports Numba when it starts, so that a day's
    few-element chains (its Poisson counts, its rosters) go compiled from the first run; the
    reference never imports it. A fresh process, so no test's import counts."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from scsim.experiments.calibration.workers import Runs\n"
        f"with Runs(workers=1, backend={backend!r}):\n"
        "    print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == str(loaded)
