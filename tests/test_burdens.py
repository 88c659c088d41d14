"""Burdens of a grade (docs/sources.md: tier B, regular visits by officers; tier C, harassment and
searches, 004), counted as events suffered. Off by default: switched off they leave no trace;
switched on they come at the configured rate per person-year, within bounds derived from the
Poisson variance (fixed seeds), and are wrongful where only false records put the person there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from bounds import within_poisson
from builders import run_days, scenario

from scsim.audit import fairness
from scsim.engine.components import burdens
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.report import write_report
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SIZE = 20_000


def _model(good: dict | None = None, bad: dict | None = None, **camera: object) -> Model:
    tiers = {"good": {"burdens": good or {}}, "bad": {"burdens": bad or {}}}
    return Model.build(
        scenario(
            population={"size": SIZE},
            behaviour={"events": {"theft": {"per_year": 1.0 if camera else 0.0}}},
            surveillance={"sensors": {"cam": {"events": ["theft"], "detection": 1.0, **camera}}},
            rulebook={"rules": {"theft": {"points": -200}}, "tiers": tiers},
        )
    )


def _burdens(model: Model) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND["burden"]
    return {k: v[keep] for k, v in model.rows.items()}


def test_without_burdens_nobody_suffers_one() -> None:
    plain, idle = _model(), _model(good={}, bad={})
    rows, idle_rows = run_days(plain, 14), run_days(idle, 14)
    assert rows == idle_rows
    assert not any(key.startswith("burden_") for key in rows[0])
    assert _burdens(plain)["entity"].size == 0


def test_a_grades_burdens_come_at_their_rate_on_every_day_of_the_week() -> None:
    days, visits, searches = 28, 26.0, 4.0
    model = _model(good={"officer_visit": visits, "search": searches})
    rows = run_days(model, days)
    burdens = _burdens(model)
    code = {name: model.params.codes.vocabulary.code(name) for name in ("officer_visit", "search")}
    for name, rate in (("officer_visit", visits), ("search", searches)):
        count = int((burdens["rule"] == code[name]).sum())
        mean = SIZE * rate * days / 365
        within_poisson(count, mean)
        assert sum(row[f"burden_{name}"] for row in rows) == count
    assert all(row["burden_officer_visit"] > 0 for row in rows)  # spread over the week
    assert burdens["truth"].all() and (burdens["origin"] == ORIGIN["tier"]).all()
    assert (burdens["source"] == model.params.codes.tiers[0]).all()


def test_only_holders_of_a_burdened_grade_suffer_and_false_records_make_it_wrongful() -> None:
    model = _model(bad={"officer_visit": 52.0}, misattribution=1.0)
    rows = run_days(model, 21)
    burdens = _burdens(model)
    assert burdens["entity"].size > 100
    assert (burdens["source"] == model.params.codes.tiers[1]).all()
    charged = model.rows["entity"][model.rows["kind"] == KIND["record"]]
    assert np.isin(burdens["entity"], charged).all()
    # every theft was charged to someone else: every burden rests on a false record
    assert not burdens["truth"].any()
    assert sum(row["burden_officer_visit_wrongful"] for row in rows) == burdens["entity"].size


def test_the_fairness_table_counts_burdens_per_group(tmp_path: Path) -> None:
    s = load_scenario(
        _model(bad={"officer_visit": 52.0}, misattribution=0.5).params.scenario,
        overrides={"run.days": 14, "run.report": False},
    )
    simulate(s, tmp_path / "run")
    table = fairness(tmp_path / "run").set_index(["dimension", "group"])
    ledger = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    burdens = ledger[ledger.kind == "burden"]
    assert table.loc[("all", "all"), "burdens"] == len(burdens) > 100
    assert table.loc[("all", "all"), "wrongful_burdens"] == int((~burdens.truth).sum()) > 0
    page = write_report(tmp_path / "run")
    assert "burdens per 1,000" in page.read_text() and "wrongful burdens" in page.read_text()


def test_a_burden_is_a_sanction_felt_and_makes_its_person_wary() -> None:
    """Each officer visit or search raises its person's wariness by one, as a refusal does
    (`respond`), wherever deterrence reads it; with behaviour frozen nobody grows wary."""
    s = _model(good={"officer_visit": 26.0, "search": 4.0}).params.scenario
    for feedback, per_sanction in ((True, 0.15), (False, 0.15), (True, 0.0)):
        raw = s.model_dump()
        raw["behaviour"]["feedback"] = feedback
        raw["behaviour"]["deterrence"]["per_sanction"] = per_sanction
        model = Model.build(type(s).model_validate(raw))
        run_days(model, 14)
        burdens = _burdens(model)
        assert burdens["entity"].size > 100
        suffered = np.bincount(burdens["entity"], minlength=SIZE)
        expected = suffered if feedback and per_sanction > 0 else np.zeros(SIZE, np.int64)
        assert np.array_equal(model.state.people.wariness.astype(np.int64), expected)


def test_the_weekly_pass_finds_each_burdened_grades_holders_in_id_order_across_chunks(
    monkeypatch,
) -> None:
    monkeypatch.setattr(burdens, "SCAN_CHUNK", 1000)
    tier = np.random.default_rng(5).integers(0, 6, 25_500).astype(np.uint8)
    found = burdens._members(np, tier, 700, 24_900, [1, 4])
    for t in (1, 4):
        expected = 700 + np.flatnonzero(tier[700:24_900] == t)
        assert found[t].dtype == expected.dtype
        np.testing.assert_array_equal(found[t], expected)
