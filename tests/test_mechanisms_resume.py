"""Every mechanism of issue 3 at once: a run killed midway resumes to the same bytes (their
state lives in the flags, the calendar and the rosters, which checkpoints hold), and the GPU
backend writes the same files as NumPy (skipped where there is no GPU)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from builders import BASE, assert_resumes_to_the_same_bytes

import scsim
from scsim.engine.backend import gpu_available
from scsim.engine.model import Model
from scsim.scenario.schema import Scenario

FILES = ("ledger.parquet", "metrics.parquet", "people.parquet")


def everything(days: int = 30) -> Scenario:
    raw = copy.deepcopy(BASE)
    raw["population"] = {
        "size": 20_000,
        "regions": {
            "North": {"share": 0.5, "urban_share": 0.7},
            "South": {"share": 0.5, "urban_share": 0.3},
        },
        "classes": {"everyone": {"share": 1.0}},
        "income": {"poor": {"urban": 0.3, "rural": 0.6}, "rich": {"urban": 0.7, "rural": 0.4}},
    }
    raw["behaviour"] = {
        "events": {
            "theft": {"per_year": 2.0},
            "post": {"per_year": 6.0},
            "reporting": {"per_year": 0.0, "offence": False},
        },
        "deterrence": {"per_sanction": 0.1, "friends": 0.05},
        "self_censorship": {"events": ["post"], "surveillance": 0.5, "friends": 0.1},
        "gray_market": {
            "per_year": 12.0,
            "by_income": {"rich": 3.0},
            "buyer_tiers": ["bad"],
            "points": 30,
            "detection": 0.2,
            "penalty": -50,
        },
    }
    raw["surveillance"] = {
        "sensors": {
            "cameras": {
                "events": ["theft"],
                "detection": 0.6,
                "misattribution": 0.1,
                "coverage_by_region": {"North": 1.5},
                "daily_capacity_per_million": 3_000,  # 60 a day
            },
            "net": {
                "events": ["post"],
                "detection": 0.5,
                "suspension": 0.3,
                "suspension_days": 7,
                "delay_days": 2,
            },
            "neighbours": {
                "events": ["theft", "post"],
                "detection": 0.1,
                "false_records_per_year": 0.2,
                "informants": True,
                "reward_event": "reporting",
            },
        }
    }
    raw["rulebook"]["tiers"] = {
        "top": {"min": 1010, "max": 30000},
        "good": {"min": 900, "max": 1009},
        "bad": {
            "min": 0,
            "max": 899,
            "burdens": {"officer_visit": 24.0, "search": 6.0},
            "lock_days": 6,
        },
    }
    raw["rulebook"]["rules"] = {
        "theft": {
            "points": -150,
            "enter_list": "black",
            "expires_after_days": 10,
            "uncorrected_days": 8,
        },
        "post": {"points": -30, "spillover": {"friends": 0.2}},
        "reporting": {"points": 10},
    }
    raw["rulebook"]["deduction_windows"] = [{"up_to": 10, "days": 5}, {"days": 9}]
    raw["rulebook"]["lists"] = {
        "black": {"term_days": 20},
        "red": {"kind": "red", "term_days": 0, "enter_tiers": ["top"]},
    }
    raw["rulebook"]["services"] = {
        "school": {"per_year": 4.0, "blocked_lists": ["black"], "household_lists": ["black"]},
        "loan": {"per_year": 4.0, "premium_tiers": ["bad"], "premium_bp": 150},
        "train": {"per_year": 8.0, "blocked_lists": ["black"], "blocked_tiers": ["bad"]},
    }
    raw["run"] = {"days": days, "seed": 9, "report": False}
    return Scenario.model_validate(raw)


def test_every_mechanism_acts_in_one_run() -> None:
    model = Model.build(everything())
    rows = [model.step(day) for day in range(20)]
    for column in (
        "gray_market_purchases",
        "informant_reports_false",
        "speech_self_censored",
        "accounts_suspended",
        "cameras_over_capacity",
        "burden_officer_visit",
        "school_household_blocked",
        "loan_premiums",
        "grades_locked_by_points",
        "grade_rises_held",
    ):
        assert sum(row[column] for row in rows) > 0, column


def test_a_run_with_every_mechanism_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = everything(days=24)
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=17, every=5)


@pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU with CuPy here")
def test_gpu_and_numpy_write_identical_files_with_every_mechanism(tmp_path: Path) -> None:
    s = everything(days=40)
    cpu = scsim.run(s, tmp_path / "cpu")
    gpu = scsim.run(s, tmp_path / "gpu", backend="gpu")
    for name in FILES:
        assert (cpu.path / name).read_bytes() == (gpu.path / name).read_bytes(), name
