"""The grade regime beyond a rule's direct grade (issue 24, item 2): a grade reached by points
that locks (004: B and C fixed for 2 years, D for 5), points earned while an offence is
uncorrected that cannot raise the grade (Wendeng), and deduction windows by size (Wendeng: 40
points or fewer count 1 year, more 2 years), on hand-built scenarios whose ledgers say exactly
what must have happened."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from builders import run_days, scenario

from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario

GOOD, BAD = 0, 1
EVENTS = {"offence": {"per_year": 20.0}, "merit": {"per_year": 60.0}}
SENSORS = {"police": {"events": ["offence", "merit"], "detection": 1.0}}


def _model(days: int = 40, **rulebook: Any) -> tuple[Model, list[dict[str, Any]]]:
    model = Model.build(
        scenario(
            population={"size": 3_000},
            behaviour={"events": EVENTS},
            surveillance={"sensors": SENSORS},
            rulebook={
                "rules": {"offence": {"points": -150}, "merit": {"points": 200}},
                **rulebook,
            },
        )
    )
    return model, run_days(model, days)


def _rows(model: Model, kind: str) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    return {k: v[keep] for k, v in model.rows.items()}


def _moves(model: Model) -> dict[int, list[tuple[int, int, int]]]:
    """Each person's grade moves in day order: (day, grade after, origin)."""
    tiers, moves = _rows(model, "tier"), defaultdict(list)
    after = {name: i for i, name in enumerate(model.rules.host_plan.tiers)}
    words = model.params.codes.vocabulary.names
    for person, day, rule, origin in zip(
        tiers["entity"], tiers["day"], tiers["rule"], tiers["origin"], strict=True
    ):
        moves[int(person)].append((int(day), after[words[int(rule)]], int(origin)))
    return moves


def test_a_grade_reached_by_points_stays_for_its_lock_days_then_follows_the_points() -> None:
    lock = 7
    model, rows = _model(tiers={"bad": {"min": 0, "max": 899, "lock_days": lock}})
    fell = 0
    for moves in _moves(model).values():
        for (day, grade, origin), later in zip(moves, [*moves[1:], None], strict=True):
            if grade != BAD:
                continue
            assert origin == ORIGIN["score"]
            fell += 1
            if later is not None:  # out of bad only when the lock ends, and not before
                assert later[0] >= day + lock
                assert later[2] == ORIGIN["lock_ended"] if later[0] == day + lock else True
    assert fell > 100
    assert sum(row["grades_locked_by_points"] for row in rows) == fell
    assert model.state.rises_held == 0


def test_without_lock_days_a_grade_reached_by_points_follows_the_points_at_once() -> None:
    model, rows = _model()
    quick = [
        later[0] - day
        for moves in _moves(model).values()
        for (day, grade, _), later in pairwise(moves)
        if grade == BAD
    ]
    assert min(quick) < 7  # the same people leave bad sooner without the lock
    assert "grades_locked_by_points" not in rows[0]  # the regime off: no column


def test_a_lock_by_points_is_wrongful_when_only_false_records_brought_the_person_down() -> None:
    model = Model.build(
        scenario(
            population={"size": 3_000},
            behaviour={"events": {"offence": {"per_year": 0.0}}},
            surveillance={
                "sensors": {
                    "cam": {"events": ["offence"], "detection": 1.0, "false_records_per_year": 5}
                }
            },
            rulebook={
                "rules": {"offence": {"points": -150}},
                "tiers": {"bad": {"min": 0, "max": 899, "lock_days": 100}},
            },
        )
    )
    rows = run_days(model, 20)
    assert sum(row["grades_locked_by_points"] for row in rows) == len(model.state.locks) > 20
    assert model.state.locks.wrongful.all()  # every lock rests on false records alone


def test_points_earned_while_an_offence_is_uncorrected_do_not_raise_the_grade() -> None:
    hold = 6
    model, rows = _model(
        rules={
            "offence": {"points": -150, "uncorrected_days": hold},
            "merit": {"points": 200},
        }
    )
    records = _rows(model, "record")
    offences = defaultdict(list)
    word = model.params.codes.vocabulary.names
    for person, day, rule in zip(records["entity"], records["day"], records["rule"], strict=True):
        if word[int(rule)] == "offence":
            offences[int(person)].append(int(day))
    rises = 0
    for person, moves in _moves(model).items():
        for day, grade, _ in moves:
            if grade == GOOD:  # a rise: no offence of theirs within the hold before it
                rises += 1
                assert not any(d <= day < d + hold for d in offences[person]), (person, day)
    assert rises > 100
    assert sum(row["grade_rises_held"] for row in rows) > 50  # merits came while held


def test_a_deduction_counts_for_the_window_of_its_size_its_shares_too() -> None:
    windows = [{"up_to": 40, "days": 3}, {"days": 8}]
    model = Model.build(
        scenario(
            population={"size": 3_000},
            behaviour={"events": {"small": {"per_year": 10.0}, "big": {"per_year": 10.0}}},
            surveillance={"sensors": {"police": {"events": ["small", "big"], "detection": 1.0}}},
            rulebook={
                "deduction_windows": windows,
                "rules": {
                    "small": {"points": -30},
                    # its household share of 50 x 0.5 = 25 points counts 3 days, by its size
                    "big": {"points": -50, "spillover": {"household": 0.5}},
                },
            },
        )
    )
    run_days(model, 30)
    records = _rows(model, "record")
    expired = records["origin"] == ORIGIN["expiry"]
    made = {}
    for person, day, delta, origin in zip(
        records["entity"], records["day"], records["delta"], records["origin"], strict=True
    ):
        if origin != ORIGIN["expiry"]:
            made.setdefault((int(person), -int(delta)), []).append(int(day))
    assert expired.sum() > 100
    sizes = set()
    for person, day, delta in zip(
        records["entity"][expired], records["day"][expired], records["delta"][expired], strict=True
    ):
        window = 3 if delta <= 40 else 8
        assert day - window in made[(int(person), int(delta))]
        sizes.add(int(delta))
    assert sizes == {25, 30, 50}


def test_deduction_windows_must_run_smallest_first() -> None:
    with pytest.raises(ScenarioError, match="deduction_windows: expected windows smallest first"):
        load_scenario(
            "rongcheng",
            overrides={"rulebook.deduction_windows": [{"days": 730}, {"up_to": 40, "days": 365}]},
        )
