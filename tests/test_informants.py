"""Informants (docs/sources.md: reporting illegal behaviour earns points, 004): people report their
friends, some reports are false, and each report earns the reporter points. Off by default:
switched off it leaves no trace; switched on, reports, false reports and rewards come at the
configured rates, within bounds derived from the binomial and Poisson variances (fixed seeds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bounds import within_variance
from builders import run_days, scenario

from scsim.audit import wrongful_by_mechanism, wrongful_sanctions
from scsim.engine.components.behave import behave
from scsim.engine.components.informants import inform
from scsim.engine.components.observe import observe
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SIZE, DAYS = 20_000, 20
THEFT_PER_YEAR, DETECTION, FALSE_PER_YEAR = 2.0, 0.3, 0.5


def _scenario(informants: bool = True, **sensor: object):  # type: ignore[no-untyped-def]
    neighbours = {
        "events": ["theft"],
        "detection": DETECTION,
        "false_records_per_year": FALSE_PER_YEAR,
        "informants": informants,
        **({"reward_event": "reporting"} if informants else {}),
        **sensor,
    }
    return scenario(
        population={"size": SIZE},
        behaviour={
            "events": {
                "theft": {"per_year": THEFT_PER_YEAR},
                "reporting": {"per_year": 0.0, "offence": False},
            }
        },
        surveillance={"sensors": {"neighbours": neighbours}},
        rulebook={
            "rules": {"theft": {"points": -50, "enter_list": "watch"}, "reporting": {"points": 10}},
            "lists": {"watch": {"term_days": 1000}},
            "services": {"train": {"per_year": 50.0, "blocked_lists": ["watch"]}},
        },
        run={"days": DAYS, "seed": 4},
    )


def _records(model: Model, origin: str, delta: int) -> dict[str, np.ndarray]:
    rows = model.rows
    keep = (
        (rows["kind"] == KIND["record"])
        & (rows["origin"] == ORIGIN[origin])
        & (rows["delta"] == delta)
    )
    return {k: v[keep] for k, v in rows.items()}


def test_without_informants_there_are_no_reports_rewards_or_false_reports() -> None:
    model = Model.build(_scenario(informants=False))
    rows = run_days(model, DAYS)
    assert not (model.rows["origin"] == ORIGIN["false_report"]).any()
    assert _records(model, "detected", 10)["entity"].size == 0  # nobody is rewarded
    assert not any(key.startswith("informant") for key in rows[0])
    assert sum(row["records_false_match"] for row in rows) > 100  # false records stay matches


def test_reports_false_reports_and_rewards_come_at_the_configured_rates() -> None:
    model = Model.build(_scenario())
    rows = run_days(model, DAYS)
    thefts = sum(row["true_events"] for row in rows)
    true_reports = _records(model, "detected", -50)["entity"].size
    false_reports = _records(model, "false_report", -50)["entity"].size
    rewards = _records(model, "detected", 10)["entity"].size
    within_variance(true_reports, thefts * DETECTION, thefts * DETECTION * (1 - DETECTION))
    expected_false = SIZE * FALSE_PER_YEAR * DAYS / 365
    within_variance(false_reports, expected_false, expected_false)
    assert rewards == true_reports + false_reports
    assert sum(row["informant_reports"] for row in rows) == rewards
    assert sum(row["informant_reports_false"] for row in rows) == false_reports
    assert sum(row["informant_rewards"] for row in rows) == rewards
    assert sum(row["records_false_match"] for row in rows) == 0


def test_the_reporter_is_a_friend_of_the_person_reported() -> None:
    model = Model.build(_scenario())
    records = observe(model, 0, behave(model, 0))
    reports = inform(model, 0, records)
    n = len(records)
    reporters = reports.value.person[n:]
    assert reporters.size == n > 50
    friends = model.params.pop.friends(records.person)
    assert (friends == reporters[:, None]).any(axis=1).all()
    assert (reports.value.event[n:] == 1).all()  # the reward event, "reporting"


def test_a_false_report_marks_its_victim_and_the_audit_traces_it(tmp_path: Path) -> None:
    s = load_scenario(_scenario(detection=0.0), overrides={"run.report": False})
    simulate(s, tmp_path / "run")
    rows = wrongful_sanctions(tmp_path / "run")
    assert len(rows) > 100 and set(rows.mechanism) == {"false_report"}
    assert rows.listed_on_false_record.all()
    daily = wrongful_by_mechanism(tmp_path / "run")
    assert set(daily.mechanism) == {"misidentified", "false_match", "association", "false_report"}


def test_a_reward_event_needs_informants_and_a_known_event() -> None:
    with pytest.raises(ValueError, match="reward_event needs informants"):
        _scenario(informants=False, reward_event="reporting")
    with pytest.raises(ScenarioError, match="unknown event type 'tattling'"):
        load_scenario(
            "national-score",
            overrides={"surveillance.sensors.informants.reward_event": "tattling"},
        )
