"""Naming and shaming with consequences (docs/sources.md: names published online and on public
screens, 004; a state employee's employer is told [P]): a published listing costs something
beyond the list, counted as a burden (a sanction felt), wrongful where the listing was.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from bounds import within_variance
from builders import run_days, scenario
from hand_records import ledger_rows, with_records

from scsim.audit import dossier, fairness
from scsim.engine.model import Model
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario
from scsim.simulation.run import simulate

CONSEQUENCES = {"employer_told": 1.0, "friends_keep_away": 0.0, "job_lost": 0.3}


def _scenario(size: int = 1_000, publish: bool = True, debt: float = 0.0) -> Scenario:
    court_list = {"publish": publish, "term_days": 60}
    if publish:
        court_list["publish_consequences"] = CONSEQUENCES
    return scenario(
        population={"size": size},
        behaviour={
            "events": {"debt": {"per_year": debt}},
            "feedback": True,
            "deterrence": {"per_sanction": 0.1},  # so that wariness is counted
        },
        surveillance={"sensors": {"court": {"events": ["debt"], "detection": 1.0}}},
        rulebook={
            "rules": {"debt": {"points": 0, "enter_list": "court_list"}},
            "lists": {"court_list": court_list},
        },
    )


def test_a_named_debtor_suffers_the_consequences_wrongfully_where_the_listing_was() -> None:
    records = [(2, "debt", "court", "detected"), (4, "debt", "court", "misidentified")]
    model = with_records(Model.build(_scenario()), {0: records})
    rows = run_days(model, 2)
    told = (0, "burden", "employer_told", 0, "court_list", "list")
    assert ledger_rows(model, 2)[1:3] == [
        (0, "list_entry", "court_list", 0, "", "record", True),
        (*told, True),
    ]
    assert (*told, False) in ledger_rows(model, 4)
    assert rows[0]["shamed_employer_told"] == 2 and rows[0]["shamed_employer_told_wrongful"] == 1
    assert rows[0]["shamed_friends_keep_away"] == 0 and rows[1]["shamed_employer_told"] == 0
    suffered = [sum(r[1] == "burden" for r in ledger_rows(model, p)) for p in (2, 4)]
    assert model.state.people.wariness[[2, 4]].tolist() == suffered  # felt, as a refusal


def test_consequences_come_at_their_chance_per_person_named(tmp_path: Path) -> None:
    s = load_scenario(_scenario(size=20_000, debt=0.5), overrides={"run.report": False})
    simulate(s, tmp_path / "run")
    metrics = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    named = int(metrics.court_list_entries.sum())
    assert named > 500 and int(metrics.shamed_employer_told.sum()) == named
    within_variance(int(metrics.shamed_job_lost.sum()), named * 0.3, named * 0.3 * 0.7)
    table = fairness(tmp_path / "run").query("dimension == 'all'")
    assert int(table.burdens.sum()) == named + int(metrics.shamed_job_lost.sum())
    ledger = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    person = int(ledger.query("kind == 'burden'").entity.iloc[0])
    what = dossier(tmp_path / "run", person).what
    assert any("consequence of being named on court_list" in w for w in what)


def test_consequences_need_a_list_that_publishes() -> None:
    with pytest.raises(ValueError, match="publish_consequences needs publish"):
        scenario(rulebook={"lists": {"l": {"publish_consequences": {"job_lost": 0.1}}}})
    assert "shame" not in Model.build(_scenario(publish=False)).day.names()
