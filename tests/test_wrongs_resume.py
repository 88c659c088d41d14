"""Issue 24's mechanisms together (judgments for speech, officials' discretion, appeals against a
grade, what being named costs, ethnic groups watched apart, age, foreign firms under pressure
and credit repair): a run killed midway resumes to the same bytes (their state lives in the
calendar, the locks and the companies' arrays, which checkpoints hold), and the GPU backend
writes the same files as NumPy (skipped where there is no GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import assert_resumes_to_the_same_bytes
from test_mechanisms_resume import FILES, everything

import scsim
from scsim.engine.backend import gpu_available
from scsim.engine.model import Model
from scsim.scenario.schema import Scenario

COLUMNS = (
    "speech_judgments",
    "discretionary_records",
    "grade_appeals_filed",
    "grade_appeals_won",
    "shamed_employer_told",
    "records_unwatched_majority",
    "records_of_children_unscored",
    "school_children_reached",
    "company_pressure_records",
    "company_repairs",
)


def all_of_issue_24(days: int = 30) -> Scenario:
    raw = everything(days).model_dump(mode="json")
    for region in raw["population"]["regions"].values():
        region |= {"minority_share": 0.2, "children_share": 0.18}
    raw["behaviour"]["events"] |= {
        "defamation": {"per_year": 1.0},
        "vanish": {"per_year": 0.0, "offence": False},
    }
    raw["surveillance"]["sensors"]["cameras"]["coverage_by_group"] = {"majority": 0.6}
    raw["surveillance"]["sensors"] |= {
        "court": {"events": ["defamation"], "detection": 0.8, "judges_speech": True},
        "officials": {
            "events": ["vanish"],
            "detection": 0.0,
            "false_records_per_year": 0.5,
            "discretion": True,
        },
    }
    book = raw["rulebook"]
    book["rules"] |= {
        "defamation": {"points": -50, "enter_list": "black"},
        "vanish": {"points": 0, "set_tier": "bad", "lock_days": 60},
    }
    book["lists"]["black"] |= {
        "publish": True,
        "publish_consequences": {"employer_told": 0.5, "job_lost": 0.1},
    }
    book["services"]["school"]["reaches_children"] = True
    book["adults_only"] = True
    book["grade_appeals"] = {
        "share_rightly": 0.5,
        "share_wrongly": 0.9,
        "mean_days": 4.0,
        "success_rightly": 0.2,
        "success_wrongly": 0.8,
    }
    raw["companies"] = {
        "base": 100,
        "scale": {"min": 0, "max": 100},
        "grades": {"A": {"min": 90, "max": 100}, "D": {"min": 0, "max": 89}},
        "foreign_share": 0.2,
        "repair_per_year": 20.0,
        "repair_grades": ["D"],
        "events": {
            "map": {"per_year": 6.0, "points": -30, "foreign_only": True, "yield_to_pressure": 0.5},
            "fraud": {"per_year": 0.5, "points": 0, "set_grade": "D", "lock_days": 30},
        },
    }
    return Scenario.model_validate(raw)


def test_every_mechanism_of_issue_24_acts_in_one_run() -> None:
    model = Model.build(all_of_issue_24())
    rows = [model.step(day) for day in range(24)]
    for column in COLUMNS:
        assert sum(row[column] for row in rows) > 0, column


def test_a_run_with_issue_24s_mechanisms_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = all_of_issue_24(days=24)
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=17, every=5)


@pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU with CuPy here")
def test_gpu_and_numpy_write_identical_files_with_issue_24s_mechanisms(tmp_path: Path) -> None:
    s = all_of_issue_24(days=40)
    cpu = scsim.run(s, tmp_path / "cpu")
    gpu = scsim.run(s, tmp_path / "gpu", backend="gpu")
    for name in FILES:
        assert (cpu.path / name).read_bytes() == (gpu.path / name).read_bytes(), name
