"""Wrong treatment beyond misidentification (docs/sources.md): a listing that follows a court's
judgment for speech (source 001's journalist), a grade set at an official's discretion outside
the point table (000, 004), and appeals against a locked grade with their own chances and
delays. Each is off by default; switched on, its ledger rows say what happened, and the audit
counts each wrong as a mechanism of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import run_days, scenario
from hand_records import ledger_rows, with_records

from scsim.audit import dossier, wrongful_by_mechanism, wrongful_sanctions
from scsim.engine.model import Model
from scsim.scenario import load_scenario
from scsim.scenario.schema import Scenario
from scsim.simulation.run import simulate

SPEECH = {"events": ["defamation"], "detection": 1.0, "judges_speech": True}
OFFICIALS = {"events": ["vanish"], "detection": 1.0, "discretion": True}


def _scenario(
    *,
    size: int = 1_000,
    defamation: float = 0.0,
    vanish: float = 0.0,
    speech: bool = True,
    discretion: bool = True,
    **rulebook: object,
) -> Scenario:
    return scenario(
        population={"size": size},
        behaviour={"events": {"defamation": {"per_year": defamation}, "vanish": {"per_year": 0}}},
        surveillance={
            "sensors": {
                "court": SPEECH | {"judges_speech": speech},
                "officials": OFFICIALS
                | {"false_records_per_year": vanish, "discretion": discretion},
            }
        },
        rulebook={
            "rules": {
                "defamation": {"points": 0, "enter_list": "court_list"},
                "vanish": {"points": 0, "set_tier": "bad", "lock_days": 100},
            },
            "lists": {"court_list": {"term_days": 60}},
            "services": {"flights": {"per_year": 3650.0, "blocked_lists": ["court_list"]}},
            **rulebook,
        },
    )


def test_a_judgment_for_speech_lists_its_person_and_each_refusal_is_a_wrong() -> None:
    model = with_records(Model.build(_scenario()), {0: [(3, "defamation", "court", "detected")]})
    rows = run_days(model, 3)
    mine = ledger_rows(model, 3)
    assert mine[:2] == [
        (0, "record", "defamation", 0, "court", "speech_judgment", False),
        (0, "list_entry", "court_list", 0, "", "record", False),
    ]
    refusals = [row for row in mine[2:] if row[1] == "blocked"]
    assert len(refusals) == len(mine) - 2 > 0
    assert all(row[2:] == ("flights", 0, "court_list", "list", False) for row in refusals)
    assert [row["speech_judgments"] for row in rows] == [1, 0, 0]
    assert rows[0]["court_list_entries_wrongful"] == 1


def test_a_court_that_does_not_judge_speech_lists_rightly() -> None:
    s = _scenario(speech=False, discretion=False)
    model = with_records(Model.build(s), {0: [(3, "defamation", "court", "detected")]})
    run_days(model, 2)
    assert ledger_rows(model, 3)[0] == (0, "record", "defamation", 0, "court", "detected", True)
    assert "misjudge" not in model.day.names()


def test_an_officials_record_sets_a_locked_grade_outside_the_point_table() -> None:
    model = with_records(Model.build(_scenario()), {0: [(5, "vanish", "officials", "false_match")]})
    rows = run_days(model, 2)
    assert ledger_rows(model, 5) == [
        (0, "record", "vanish", 0, "officials", "discretion", False),
        (0, "tier", "bad", 1, "", "direct_grade", False),
    ]
    assert rows[0]["discretionary_records"] == 1 and rows[1]["tier_bad"] == 1
    assert model.state.locks.wrongful_of(model.state.locks.ids).tolist() == [True]


def test_a_won_appeal_releases_a_wrongful_lock_and_a_lost_one_keeps_it() -> None:
    appeals = {"share_rightly": 1.0, "share_wrongly": 1.0, "mean_days": 1.0}
    appeals |= {"success_rightly": 0.0, "success_wrongly": 1.0}
    model = with_records(
        Model.build(_scenario(grade_appeals=appeals)),
        {0: [(5, "vanish", "officials", "false_match"), (7, "vanish", "officials", "detected")]},
    )
    rows = run_days(model, 3)
    assert ledger_rows(model, 5)[1:] == [
        (0, "tier", "bad", 1, "", "direct_grade", False),
        (1, "tier", "good", -1, "", "appeal_won", True),
    ]
    # person 7's record came from the same officials: also a wrong, also won
    assert (
        rows[0]["grade_appeals_filed"] == 2 and rows[0]["grade_appeals_filed_wrongly_graded"] == 2
    )
    assert (
        rows[1]["grade_appeals_decided"] == 2 and rows[1]["grade_appeals_won_wrongly_graded"] == 2
    )
    assert len(model.state.locks) == 0 and rows[2]["tier_bad"] == 0


def test_a_rightly_locked_grade_stays_locked_when_its_appeal_fails() -> None:
    appeals = {"share_rightly": 1.0, "share_wrongly": 1.0, "mean_days": 1.0}
    appeals |= {"success_rightly": 0.0, "success_wrongly": 1.0}
    s = _scenario(grade_appeals=appeals, discretion=False)
    model = with_records(Model.build(s), {0: [(7, "vanish", "officials", "detected")]})
    rows = run_days(model, 3)
    assert ledger_rows(model, 7) == [
        (0, "record", "vanish", 0, "officials", "detected", True),
        (0, "tier", "bad", 1, "", "direct_grade", True),
    ]
    assert rows[1]["grade_appeals_decided"] == 1 and rows[1]["grade_appeals_won"] == 0
    assert model.state.locks.ids.tolist() == [7]


def test_without_grade_appeals_there_is_no_appeal_stage() -> None:
    assert "appeal" not in Model.build(_scenario()).day.names()


def test_a_sensor_is_one_kind_of_observer() -> None:
    with pytest.raises(ValueError, match="one kind of observer"):
        scenario(surveillance={"sensors": {"x": SPEECH | {"discretion": True}}})


def test_the_audit_counts_speech_and_discretion_as_mechanisms_of_their_own(
    tmp_path: Path,
) -> None:
    loans = {"loans": {"per_year": 365.0, "blocked_tiers": ["bad"]}}
    flights = {"flights": {"per_year": 3650.0, "blocked_lists": ["court_list"]}}
    s = _scenario(size=5_000, defamation=0.5, vanish=0.5, services=flights | loans)
    s = load_scenario(s, overrides={"run.report": False, "run.days": 40})
    simulate(s, tmp_path / "run")
    sanctions = wrongful_sanctions(tmp_path / "run")
    assert set(sanctions.service) == {"flights", "loans"}
    assert set(sanctions.mechanism) == {"speech_judgment", "discretion"}
    wrong = {"defamation": "speech_judgment", "vanish": "discretion"}  # the first wrong's rule
    assert (sanctions.mechanism == sanctions.false_record_rule.map(wrong)).all()
    daily = wrongful_by_mechanism(tmp_path / "run")
    assert {"speech_judgment", "discretion"} <= set(daily.mechanism)
    person = int(sanctions.person[sanctions.mechanism == "discretion"].iloc[0])
    lines = "\n".join(dossier(tmp_path / "run", person).what)
    assert "at an official's discretion, outside the point table" in lines


def test_the_no_system_counterfactual_appeals_names_and_reaches_no_one() -> None:
    from scsim.experiments.compare import no_system

    plain = no_system(load_scenario("national-score", overrides={"population.size": 20_000}))
    names = Model.build(plain).day.names()
    assert not {"appeal", "shame", "reach"} & set(names)
    corporate = no_system(load_scenario("corporate", overrides={"population.size": 20_000}))
    assert corporate.companies is not None and not corporate.companies.list_companies
    assert corporate.companies.repair_per_year == 0.0
