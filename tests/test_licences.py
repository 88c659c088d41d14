"""Licence points (issue 24, item 6: pets): a dog owner's 12 points, lost to records of the
dog's behaviour, the licence revoked at zero until a test is passed, points back at the year's
turn; on hand-built records whose ledger rows say exactly what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import assert_resumes_to_the_same_bytes, run_days, scenario
from hand_records import ledger_rows, with_records

from scsim.audit.dossier import dossier
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario
from scsim.simulation.run import simulate

EVENTS = {"dog_unleashed": {"per_year": 0.0}, "dog_nuisance": {"per_year": 0.0}}
SENSORS = {"police": {"events": ["dog_unleashed", "dog_nuisance"], "detection": 1.0}}
DOG = {
    "holders_share": 1.0,
    "points": 12,
    "deductions": {"dog_unleashed": 3, "dog_nuisance": 6},
    "refuses": "pet_licence",
    "revoked_days": 10,
    "test_pass": 1.0,
    "restore_days": 365,
}


def _scenario(size: int = 100, **dog: Any) -> Scenario:
    return scenario(
        population={"size": size},
        behaviour={"events": EVENTS},
        surveillance={"sensors": SENSORS},
        rulebook={"services": {"pet_licence": {"per_year": 0.0}}},
        licences={"dog": DOG | dog},
    )


def _records(day: int, person: int, *events: str, origin: str = "detected") -> dict:
    return {day: [(person, e, "police", origin) for e in events]}


def _model(records: dict, days: int, **dog: Any) -> tuple[Model, list[dict[str, Any]]]:
    model = with_records(Model.build(_scenario(**dog)), records)
    return model, run_days(model, days)


def test_an_owner_who_loses_twelve_points_has_the_licence_revoked_that_day() -> None:
    records = _records(2, 7, "dog_unleashed") | _records(5, 7, "dog_nuisance", "dog_unleashed")
    model, rows = _model(records, 8)
    assert ledger_rows(model, 7) == [
        (2, "licence", "dog_unleashed", -3, "dog", "detected", True),
        (5, "licence", "dog_nuisance", -6, "dog", "detected", True),
        (5, "licence", "dog_unleashed", -3, "dog", "detected", True),
        (5, "blocked", "pet_licence", 0, "dog", "licence", True),
    ]
    assert [r["dog_revoked"] for r in rows] == [0, 0, 0, 0, 0, 1, 0, 0]
    assert rows[5]["dog_points_deducted"] == 9 and rows[7]["dog_revoked_now"] == 1


def test_a_revoked_owner_loses_no_points_and_gets_the_licence_back_only_on_the_test_day() -> None:
    twelve = ("dog_nuisance", "dog_nuisance")
    records = _records(1, 3, *twelve) | _records(4, 3, "dog_unleashed")
    model, rows = _model(records, 14)
    assert ledger_rows(model, 3)[2:] == [
        (1, "blocked", "pet_licence", 0, "dog", "licence", True),
        (11, "licence", "dog", 12, "dog", "licence_reinstated", True),
    ]
    assert [r["dog_revoked_now"] for r in rows[:12]] == [0] + [1] * 10 + [0]


def test_an_owner_who_fails_the_test_sits_it_again_after_the_wait() -> None:
    model, rows = _model(_records(0, 3, "dog_nuisance", "dog_nuisance"), 30, test_pass=0.0)
    assert [r for r in ledger_rows(model, 3) if r[5] == "licence_reinstated"] == []
    assert all(r["dog_revoked_now"] == 1 for r in rows)
    assert rows[10]["dog_reinstated"] == 0


def test_lost_points_come_back_at_the_year_s_turn() -> None:
    model, rows = _model(_records(100, 9, "dog_nuisance", origin="misidentified"), 366)
    assert ledger_rows(model, 9) == [
        (100, "licence", "dog_nuisance", -6, "dog", "misidentified", False),
        (365, "licence", "dog", 6, "dog", "licence_restored", False),
    ]
    assert rows[365]["dog_restored"] == 1 and rows[100]["dog_deductions_wrongful"] == 1


def test_a_revocation_on_a_false_record_is_wrongful() -> None:
    records = _records(2, 5, "dog_nuisance") | _records(3, 5, "dog_nuisance", origin="false_match")
    model, rows = _model(records, 4)
    assert ledger_rows(model, 5)[-1] == (3, "blocked", "pet_licence", 0, "dog", "licence", False)
    assert rows[3]["dog_revoked_wrongful"] == 1


def test_only_holders_lose_points() -> None:
    people = np.arange(2_000)
    records = {0: [(int(p), "dog_unleashed", "police", "detected") for p in people]}
    model = with_records(Model.build(_scenario(size=2_000, holders_share=0.1)), records)
    rows = run_days(model, 1)
    # binomial(2000, 0.1): mean 200, sd 13.4; five sd either side
    assert abs(rows[0]["dog_deductions"] - 200) < 5 * 13.4


def test_the_licence_runs_and_writes_its_columns_only_where_a_scenario_names_one() -> None:
    licensed = Model.build(_scenario())
    assert "license" in licensed.day.names()
    assert "dog_revoked_now" in run_days(licensed, 1)[0]
    model = Model.build(scenario(behaviour={"events": EVENTS}, surveillance={"sensors": SENSORS}))
    assert not [c for c in run_days(model, 1)[0] if c.startswith("dog_")]
    assert "license" not in model.day.names()


@pytest.mark.parametrize(
    ("dog", "field", "expected"),
    [
        ({"deductions": {"cat_on_sofa": 3}}, "licences.dog.deductions", "unknown event type"),
        ({"refuses": "dog_walking"}, "licences.dog.refuses", "unknown service"),
    ],
)
def test_a_licence_naming_what_the_scenario_lacks_is_refused(
    dog: dict, field: str, expected: str
) -> None:
    with pytest.raises(ScenarioError, match=f"{field}: {expected}"):
        load_scenario(_scenario(**dog))


def test_a_run_with_licences_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _scenario(size=5_000, holders_share=0.3).model_dump(mode="json")
    raw["behaviour"]["events"]["dog_unleashed"]["per_year"] = 20.0
    raw["run"] |= {"days": 60, "report": False}
    raw["licences"]["dog"] |= {"restore_days": 30, "revoked_days": 7, "test_pass": 0.5}
    s = Scenario.model_validate(raw)
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=40, every=9)


def test_the_dossier_tells_a_licence_s_points_revocation_and_return(tmp_path: Path) -> None:
    raw = _scenario(size=2_000).model_dump(mode="json")
    raw["behaviour"]["events"]["dog_nuisance"]["per_year"] = 40.0
    raw["run"] |= {"days": 40, "report": False}
    simulate(load_scenario(Scenario.model_validate(raw)), tmp_path / "run")
    ledger = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    back = ledger[ledger.origin == "licence_reinstated"].entity
    assert len(back) > 0
    what = list(dossier(tmp_path / "run", int(back.iloc[0])).what)
    assert "dog_nuisance recorded by a sensor: true, -6 points on the dog licence" in what
    assert "refused pet_licence: the dog licence's points ran out: revoked" in what
    assert "dog licence given back with 12 points: the test was passed" in what
