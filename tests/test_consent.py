"""Consent to be scored (Rongcheng after its reform): a place asks, and scores only who agrees.

Two cities of `test_places`' towns: Alpha asks for consent, Beta does not. A person who has not
consented keeps their records (delta 0) but holds the national grade ("unscored"), and no
refusal by Alpha's grades reaches them; a person who consents is scored exactly as without the
reform; the share who consent matches `consent_share` within binomial error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import assert_resumes_to_the_same_bytes, run_days
from test_places import Inject, towns

import scsim
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.scenario.schema.places import grade_names
from scsim.simulation.run import simulate


def _model(share: float | None, **changes: Any) -> Model:
    if share is not None:
        changes["places__Alpha__rulebook__consent_share"] = share
    return Model.build(towns(**changes))


def _alpha(model: Model) -> np.ndarray:
    pop = model.params.host_pop
    r = pop.region_names.index("Alpha")
    return np.arange(int(pop.region_start[r]), int(pop.region_start[r + 1]), dtype=np.int64)


def test_unconsented_persons_offence_is_a_ledger_row_with_no_score_change_and_no_refusal() -> None:
    model = _model(0.5, rulebook__services__loan__per_year=300.0, run__days=12)
    alpha = _alpha(model)
    unscored = model.rules.plan.unscored(alpha)
    yes, no = int(alpha[~unscored][0]), int(alpha[unscored][0])
    components = list(model.day.components)  # two offences each: 1,000 - 200 is Alpha's C
    components.insert(model.day.names().index("score"), Inject(1, [yes, yes, no, no]))
    model.day.components = tuple(components)
    run_days(model, 12)
    people, grades, rows = model.state.people, grade_names(model.params.scenario), model.rows
    assert (int(people.score[yes]), grades[people.tier[yes]]) == (800, "Alpha/C")
    assert (int(people.score[no]), grades[people.tier[no]]) == (0, "unscored")
    mine = rows["entity"] == no
    records = mine & (rows["kind"] == KIND["record"])
    assert rows["delta"][records].tolist() == [0, 0]  # kept, without a score
    assert not (mine & (rows["kind"] == KIND["blocked"])).any()
    theirs = (rows["entity"] == yes) & (rows["kind"] == KIND["blocked"])
    assert theirs.any()  # the consenting one is refused the loan by grade C
    moved = mine & (rows["kind"] == KIND["tier"])
    assert rows["origin"][moved].tolist() == [ORIGIN["unconsented"]]
    assert rows["day"][moved].tolist() == [0]


def _rows_of(model: Model, people: np.ndarray) -> dict[str, np.ndarray]:
    keep = np.isin(model.rows["entity"], people) & (model.rows["kind"] != KIND["tier"])
    return {k: v[keep] for k, v in model.rows.items()}


def test_consenting_people_are_scored_and_refused_exactly_as_without_the_reform() -> None:
    lively = {"behaviour__events__litter__per_year": 30.0, "run__days": 30}
    asked, before = _model(0.5, **lively), _model(None, **lively)
    alpha = _alpha(asked)
    consenting = alpha[~asked.rules.plan.unscored(alpha)]
    run_days(asked, 30)
    run_days(before, 30)
    a, b = _rows_of(asked, consenting), _rows_of(before, consenting)
    assert len(a["entity"]) > 1000  # records, grades and refusals enough to compare
    assert (a["kind"] == KIND["blocked"]).sum() > 50
    for column in a:
        assert np.array_equal(a[column], b[column]), column
    moved = asked.state.people.score[consenting]
    assert np.array_equal(moved, before.state.people.score[consenting])


def test_share_of_consenters_matches_consent_share_within_binomial_error() -> None:
    share = 0.3
    model = _model(share)
    rows = run_days(model, 2)
    scored, unscored = rows[-1]["consent_scored_Alpha"], rows[-1]["consent_unscored_Alpha"]
    n = scored + unscored
    assert n == len(_alpha(model))
    sd = math.sqrt(share * (1 - share) / n)  # each person consents alone: binomial
    assert abs(scored / n - share) < 4 * sd
    assert rows[-1]["tier_unscored"] >= unscored  # they hold the national grade


def test_consent_asked_from_a_dated_change_and_a_larger_share_keeps_every_consenter() -> None:
    changes = [{"day": 2, "consent_share": 0.3}, {"day": 4, "consent_share": 0.6}]
    model = _model(None, places__Alpha__rulebook__changes=changes, run__days=6)
    alpha = _alpha(model)
    rows = run_days(model, 6)
    unscored = [row["consent_unscored_Alpha"] for row in rows]
    assert unscored[:2] == [0, 0] and unscored[2] == unscored[3] > unscored[4] == unscored[5] > 0
    tiers = model.rows["kind"] == KIND["tier"]
    went = model.rows["entity"][tiers & (model.rows["origin"] == ORIGIN["unconsented"])]
    came = model.rows["entity"][tiers & (model.rows["origin"] == ORIGIN["consented"])]
    assert len(went) == unscored[2] and len(came) == unscored[3] - unscored[4]
    assert set(came.tolist()) <= set(went.tolist())  # nobody who consented at 0.3 drops out
    still = model.rules.plan.unscored(alpha)
    assert int(still.sum()) == unscored[5]
    people = model.state.people
    assert set(people.score[alpha[still]].tolist()) == {0}  # the national base
    assert int(people.score[came[0]]) == 1000  # back to Alpha's base


def test_records_of_the_unscored_are_counted_as_kept_without_a_score() -> None:
    model = _model(0.5, behaviour__events__litter__per_year=30.0, run__days=10)
    rows = run_days(model, 10)
    alpha = _alpha(model)
    unscored = alpha[model.rules.plan.unscored(alpha)]
    ledger = model.rows
    kept = (ledger["kind"] == KIND["record"]) & np.isin(ledger["entity"], unscored)
    assert sum(row["records_unscored_Alpha"] for row in rows) == int(kept.sum()) > 0
    assert set(ledger["delta"][kept].tolist()) == {0}


def test_a_place_that_asks_for_consent_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = [{"day": 3, "consent_share": 0.4}, {"day": 6, "consent_share": 0.7}]
    s = towns(
        behaviour__events__litter__per_year=30.0,
        places__Alpha__rulebook__changes=changes,
        run__days=9,
    )
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=5, every=2)


def test_audit_counts_records_kept_without_a_score_per_place_from_the_ledger(
    tmp_path: Path,
) -> None:
    s = towns(
        behaviour__events__litter__per_year=30.0,
        places__Alpha__rulebook__consent_share=0.5,
        run__days=10,
    )
    simulate(s, tmp_path / "run")
    table = scsim.audit.places(tmp_path / "run").set_index("place")
    metrics = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    people = table.loc["Alpha", "people"]
    kept = metrics["records_unscored_Alpha"].sum()
    assert kept > 0 and metrics["records_unscored"].sum() == kept
    assert table.loc["Alpha", "records_unscored"] == pytest.approx(kept * 1000 / people)
    unscored = metrics["consent_unscored_Alpha"].iloc[-1]
    assert table.loc["Alpha", "unscored"] == pytest.approx(unscored * 1000 / people)
    assert table.loc["Beta", "records_unscored"] == table.loc["Beta", "unscored"] == 0


def test_a_place_that_asks_for_consent_runs_sharded_to_the_single_process_bytes() -> None:
    """Who consents is keyed by the person's id, so a shard that owns the place draws the same
    people; its moves and counts are its own."""
    from test_shards import assert_shards_make_the_single_process

    changes = [{"day": 2, "consent_share": 0.4}, {"day": 5, "consent_share": 0.7}]
    s = towns(
        behaviour__events__litter__per_year=30.0,
        places__Alpha__rulebook__changes=changes,
        run__days=8,
    )
    totals = assert_shards_make_the_single_process(s, 3)
    assert totals["records_unscored_Alpha"] > 0


def test_people_sent_back_unscored_leave_the_roster_of_the_grade_they_held() -> None:
    """Consent asked on day 2 of people graded C on day 1 (a refused grade, so it keeps a
    roster of its holders: `scsim.engine.members`): those who refuse go back to the national
    grade and out of the roster, the others stay in it."""
    changes = [{"day": 2, "consent_share": 0.5}]
    model = _model(
        None,
        places__Alpha__rulebook__changes=changes,
        rulebook__services__loan__per_year=300.0,
        run__days=4,
    )
    graded = _alpha(model)[:400]
    components = list(model.day.components)  # two offences each: 1,000 - 200 is Alpha's C
    components.insert(model.day.names().index("score"), Inject(1, list(np.repeat(graded, 2))))
    model.day.components = tuple(components)
    c = grade_names(model.params.scenario).index("Alpha/C")
    assert model.params.rostered[c]
    for day in range(2):
        model.step(day)
    assert np.array_equal(model.state.members.of(c, model.state.people.tier), graded)
    for day in range(2, 4):
        model.step(day)
    still = graded[model.state.people.tier[graded] == c]
    assert 0 < still.size < graded.size  # some refused consent
    assert np.array_equal(model.state.members.of(c, model.state.people.tier), still)
