"""A fit's candidate resumes the days it shares with its base: the metrics of a whole run."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from scsim.experiments.calibration import prefixes
from scsim.experiments.calibration.fit import current_value, refine, with_values
from scsim.experiments.calibration.prefixes import Prefix, Prefixes
from scsim.experiments.calibration.runs import run_metrics
from scsim.experiments.calibration.workers import Runs
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario

# court-list-history to 2017: its free changes of 2015-01-01, 2016-01-20 and 2017-01-01 (days
# 457, 841 and 1188) fall inside the run
SMALL = {"population.size": 20_000, "run.days": 1300}
C5 = "rulebook.changes.5.lists.court_list_until_performed.comply_on_block"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Prefixes]:
    """A fresh store of kept states, and a record of the day each run resumed on."""
    store = Prefixes()
    monkeypatch.setattr(prefixes, "HELD", store)
    yield store


def _base() -> tuple[Scenario, dict[str, float]]:
    s = load_scenario("court-list-history", overrides=SMALL)
    assert s.calibration is not None
    values = {p.label: current_value(s, p) for p in s.calibration.free}
    return with_values(s, s.calibration.free, values), values


def _moved(base: Scenario, values: dict[str, float], path: str, factor: float) -> Scenario:
    assert base.calibration is not None
    free = base.calibration.free
    p = next(p for p in free if p.targets[0] == path)
    return with_values(base, free, {**values, p.label: values[p.label] * factor})


def _resumed_on(store: Prefixes, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    days: list[int] = []
    find = store.find

    def spied(keys: list[tuple[int, str]]) -> Prefix | None:
        found = find(keys)
        days.append(found.day if found is not None else 0)
        return found

    monkeypatch.setattr(store, "find", spied)
    return days


@pytest.mark.parametrize(
    ("path", "factor", "day"),
    [
        ("rulebook.changes.2.services.flight.retry", 0.9, 457),
        ("rulebook.changes.3.lists.court_list_until_performed.comply_on_block", 3.0, 841),
        (C5, 0.2, 1188),
        ("surveillance.sensors.courts.detection", 0.8, 0),
    ],
)
def test_a_candidate_resumed_from_its_bases_days_is_its_whole_run_byte_for_byte(
    held: Prefixes, monkeypatch: pytest.MonkeyPatch, path: str, factor: float, day: int
) -> None:
    base, values = _base()
    assert prefixes.marks(base, 1300) == [457, 841, 1188]
    first = run_metrics(base, base=base)
    assert len(held) == 3  # the base's state before each of its free changes
    candidate = _moved(base, values, path, factor)
    resumed_on = _resumed_on(held, monkeypatch)
    resumed = run_metrics(candidate, base=base)
    assert resumed_on == [day]  # from the latest state it shares with the base, if any
    whole = run_metrics(candidate)
    pd.testing.assert_frame_equal(resumed, whole, check_exact=True)
    assert not resumed.equals(first)  # the move moved something
    pd.testing.assert_frame_equal(resumed.iloc[:day], first.iloc[:day], check_exact=True)
    again = run_metrics(base, base=base)  # the kept states were not written by the candidate
    pd.testing.assert_frame_equal(again, first, check_exact=True)


def test_a_resumed_run_whose_columns_differ_from_the_kept_rows_is_run_from_day_0(
    held: Prefixes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later change may add a metrics column from day 0 (the reforms', the grades' regime):
    rows kept from a base without it cannot be the candidate's."""
    base, values = _base()
    run_metrics(base, base=base)
    for k, prefix in list(held._held.items()):
        rows = [{**row, "a column the candidate has": 0} for row in prefix.rows]
        held._held[k] = dataclasses.replace(prefix, rows=rows)
    candidate = _moved(base, values, C5, 0.2)
    resumed_on = _resumed_on(held, monkeypatch)
    resumed = run_metrics(candidate, base=base)
    assert resumed_on[0] == 1188 and resumed_on[1:] == [0]  # found, refused, run again alone
    pd.testing.assert_frame_equal(resumed, run_metrics(candidate), check_exact=True)


def test_the_key_of_a_days_prefix_names_the_rules_in_force_before_it() -> None:
    base, values = _base()
    later = _moved(base, values, C5, 0.2)
    moved = _moved(
        base, values, "rulebook.changes.3.lists.court_list_until_performed.comply_on_block", 3.0
    )
    sign = "components"

    def key(s: Scenario, day: int, backend: str = "numpy", signature: str = sign) -> str:
        return prefixes.key(s, day, backend, signature)

    assert key(later, 1188) == key(base, 1188)  # the change begins on day 1188
    assert key(later, 1189) != key(base, 1189)
    assert key(moved, 841) == key(base, 841)  # the change begins on day 841
    assert key(moved, 842) != key(base, 842)
    assert key(moved, 1188) != key(base, 1188)
    reseeded = load_scenario(base, overrides={"run.seed": 7})
    longer = load_scenario(base, overrides={"run.days": 1400})  # open-ended terms read it
    assert key(reseeded, 457) != key(base, 457)
    assert key(longer, 457) != key(base, 457)
    assert key(base, 457, backend="numba") != key(base, 457)
    assert key(base, 457, signature="other") != key(base, 457)


def test_a_state_kept_by_one_worker_is_found_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fit's workers share a folder: a candidate resumes from a state whichever worker kept."""
    base, values = _base()
    one, other = Prefixes(folder=tmp_path), Prefixes(folder=tmp_path)
    monkeypatch.setattr(prefixes, "HELD", one)
    first = run_metrics(base, base=base)
    assert len(one) == 3 and len(list(tmp_path.glob("*.pickle"))) == 3
    assert not list(tmp_path.glob("*.part"))  # each written whole, then renamed
    monkeypatch.setattr(prefixes, "HELD", other)
    resumed_on = _resumed_on(other, monkeypatch)
    candidate = _moved(base, values, C5, 0.2)
    resumed = run_metrics(candidate, base=base)
    assert resumed_on == [1188]
    pd.testing.assert_frame_equal(resumed, run_metrics(candidate), check_exact=True)
    pd.testing.assert_frame_equal(resumed.iloc[:1188], first.iloc[:1188], check_exact=True)


def _refining() -> Scenario:
    """court-list-history to 2016 with its detection and the retry chances of 2015 free."""
    s = load_scenario(
        "court-list-history",
        overrides={
            "population.size": 20_000,
            "run.days": 850,  # to the target of 2016-01-01: day 821
            "surveillance.sensors.courts.detection": 0.1,  # too few listed: moves are kept
        },
    )
    assert s.calibration is not None
    free = [
        p for p in s.calibration.free if p.targets[0].split(".")[:3] == ["rulebook", "changes", "2"]
    ]
    free.insert(0, s.calibration.free[0])
    return s.model_copy(update={"calibration": s.calibration.model_copy(update={"free": free})})


def test_a_refinement_is_the_same_whether_its_candidates_resume_or_not(
    held: Prefixes, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _refining()
    resumed_on = _resumed_on(held, monkeypatch)
    resuming = refine(s, rounds=1, seeds=1)
    assert 457 in resumed_on
    monkeypatch.setattr(prefixes, "marks", lambda s, stop: [])
    alone = refine(s, rounds=1, seeds=1)
    assert resuming.values == alone.values and resuming.best_loss == alone.best_loss
    pd.testing.assert_frame_equal(resuming.history, alone.history, check_exact=True)


def test_a_refinement_by_workers_sharing_their_states_is_the_fit_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = _refining()
    with Runs(2) as runs:
        folder = Path(runs.folder.name) if runs.folder is not None else None
        shared = refine(s, rounds=1, seeds=1, runs=runs)
        assert folder is not None and list(folder.glob("*.pickle"))  # the base's, kept
    assert not folder.exists()  # removed with the workers
    monkeypatch.setattr(prefixes, "marks", lambda s, stop: [])
    alone = refine(s, rounds=1, seeds=1)
    assert shared.values == alone.values and shared.best_loss == alone.best_loss
    pd.testing.assert_frame_equal(shared.history, alone.history, check_exact=True)
