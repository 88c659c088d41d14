"""Calibration's runs in worker processes: the same fit with any number of workers."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from scsim.experiments.calibration.fit import evaluate, refine
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


def test_seeds_run_by_workers_give_the_table_of_seeds_run_here() -> None:
    s = _few_free(1)
    here, here_loss = evaluate(s, 3)
    with Runs(2) as runs:
        there, there_loss = evaluate(s, 3, runs)
    pd.testing.assert_frame_equal(here, there)
    assert here_loss == there_loss


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
