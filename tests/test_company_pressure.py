"""Companies under political pressure and their way back (docs/sources.md, Companies: foreign
firms threatened with lower ratings over political positions, 004; credit repair after
correction since 2020 [P]). Hand-built companies with the expected ledger rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import run_days, scenario
from hand_records import ledger_rows

from scsim.audit import company_dossier
from scsim.engine.components.company_pressure import foreign_starts
from scsim.engine.ledger import KINDS, ORIGINS
from scsim.engine.model import Model
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario
from scsim.simulation.run import simulate

SIZE = 20_000
GRADES = {"A": {"min": 90, "max": 100}, "D": {"min": 0, "max": 89}}


def _scenario(**companies: object) -> Scenario:
    return scenario(
        population={"size": SIZE},
        behaviour={"events": {"theft": {"per_year": 0.0}}},
        companies={
            "base": 100,
            "scale": {"min": 0, "max": 100},
            "grades": GRADES,
            "foreign_share": 0.1,
            "events": {
                "map_of_taiwan": {
                    "per_year": 3.0,
                    "points": -30,
                    "foreign_only": True,
                    "yield_to_pressure": 0.5,
                },
                "fraud": {"per_year": 0.0, "points": 0, "set_grade": "D", "lock_days": 700},
            },
            **companies,
        },
    )


def _company_rows(model: Model) -> list[tuple[int, int, str, str, str, int]]:
    rows, names = model.rows, model.params.codes.vocabulary.names
    kinds = [KINDS[k] for k in rows["kind"]]
    return [
        (int(d), int(e), k, names[r], ORIGINS[o], int(x))
        for d, e, k, r, o, x in zip(
            rows["day"],
            rows["entity"],
            kinds,
            rows["rule"],
            rows["origin"],
            rows["delta"],
            strict=True,
        )
        if k.startswith("company")
    ]


def test_only_foreign_firms_are_pressed_and_half_of_them_yield() -> None:
    model = Model.build(_scenario())
    rows = run_days(model, 60)
    firms = model.params.host_pop.n_companies
    first_foreign = foreign_starts(model.params.scenario, model.params.host_pop)
    pressed = [r for r in _company_rows(model) if r[3] == "map_of_taiwan"]
    assert pressed and all(e >= first_foreign[0] for _, e, *_ in pressed)
    assert all(r[2:] == ("company_record", "map_of_taiwan", "detected", -30) for r in pressed)
    made = sum(row["company_pressure_records"] for row in rows)
    yielded = sum(row["company_pressure_yielded"] for row in rows)
    assert made == len(pressed)
    expected = firms * 0.1 * 3.0 * 60 / 365  # Poisson, half of them yielded: sd ~ sqrt
    assert abs(made + yielded - expected) < 4 * np.sqrt(expected)
    assert abs(made - yielded) < 4 * np.sqrt(expected)


def test_a_repaired_company_is_regraded_at_once_and_its_lock_ends() -> None:
    s = _scenario(assess_every_days=365, repair_per_year=365.0, repair_grades=["D"])
    model = Model.build(s)
    state = model.firms.state
    state.score[5], state.own_score[5] = 40, 40
    state.grade[5], state.locked_until[5] = 1, 600  # D, locked
    state.grade_counts[:] = [model.params.host_pop.n_companies - 1, 1]
    rows = run_days(model, 5)
    mine = [r for r in _company_rows(model) if r[1] == 5]
    repair_day = mine[0][0]
    assert mine[:2] == [
        (repair_day, 5, "company_record", "credit_repair", "complied", 60),
        (repair_day, 5, "company_grade", "A", "complied", -1),
    ]
    assert int(state.locked_until[5]) == -1 and int(state.grade[5]) == 0
    assert sum(row["company_repairs"] for row in rows) >= 1


def test_foreign_only_events_need_foreign_firms() -> None:
    with pytest.raises(ValueError, match="no company is foreign-owned"):
        _scenario(foreign_share=0.0)


def test_the_company_dossier_tells_a_repair(tmp_path: Path) -> None:
    raw = _scenario(repair_per_year=50.0, repair_grades=["D"]).model_dump(mode="json")
    raw["companies"]["events"]["fraud"]["per_year"] = 1.0
    s = Scenario.model_validate(raw)
    simulate(load_scenario(s, overrides={"run.days": 60, "run.report": False}), tmp_path / "r")
    ledger = pd.read_parquet(tmp_path / "r" / "ledger.parquet")
    repaired = ledger.query("kind == 'company_grade' and origin == 'complied'")
    assert len(repaired) > 10
    what = company_dossier(tmp_path / "r", int(repaired.entity.iloc[0])).what
    assert any("credit repaired: the lock ended" in w for w in what)
    assert any("credit repaired after correction" in w for w in what)


def test_a_company_set_to_d_is_listed_itself_and_its_representative_through_it() -> None:
    raw = _scenario(
        representative_grades=["D"],
        representative_list="court",
        list_companies=True,
        repair_per_year=20.0,
        repair_grades=["D"],
    ).model_dump(mode="json")
    raw["rulebook"]["lists"] = {"court": {"term_days": 0}}
    raw["companies"]["events"]["fraud"]["per_year"] = 0.2
    model = Model.build(Scenario.model_validate(raw))
    rows = run_days(model, 60)
    company_rows = _company_rows(model)
    entry = next(r for r in company_rows if r[2] == "company_list_entry")
    day, company = entry[0], entry[1]
    mine = [r for r in company_rows if r[1] == company and r[0] == day]
    assert mine == [
        (day, company, "company_record", "fraud", "detected", 0),
        (day, company, "company_grade", "D", "direct_grade", 1),
        (day, company, "company_list_entry", "court", "grade", 0),
    ]
    representative = int(model.params.host_pop.responsible_persons(np.array([company]), 1)[0][0])
    assert (day, "list_entry", "court", 0, "", "representative", True) in ledger_rows(
        model, representative
    )
    # repaired, it leaves the list on the day its grade moves out of D
    exits = [r for r in company_rows if r[1] == company and r[2] == "company_list_exit"]
    graded = [
        r
        for r in company_rows
        if r[1] == company and r[4] == "complied" and r[2] == "company_grade"
    ]
    assert exits and exits[0][0] == graded[0][0] and exits[0][4] == "grade_left"
    entries = sum(row["company_list_entries"] for row in rows)
    left = sum(row["company_list_exits"] for row in rows)
    assert entries > 0 and rows[-1]["companies_listed"] == entries - left
