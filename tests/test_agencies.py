"""Agencies as data sources (docs/sources.md, People and what is recorded: linked agency databases):
which of them feed the ledger, from isolated sector lists to one linked record. A scenario links an
agency by listing it among `surveillance.sensors` with the events it reports (`events`); a record of
an event takes that event's rule, whichever agency made it, so the rulebook decides whether an
agency's records feed only its own sector's list (points 0, `enter_list`) or one shared score. An
agency left out records nothing; linked, its records arrive at events x coverage x detection
(Poisson, bounds from its variance, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from bounds import within_poisson
from builders import run_days, scenario

from scsim.engine.ledger import KIND
from scsim.engine.model import Model

SIZE, PER_YEAR, DAYS = 20_000, 18.25, 5
AGENCIES = {
    "court": {"events": ["default"], "coverage_urban": 0.5, "detection": 0.8},
    "transit": {"events": ["fare_evasion"], "detection": 0.6},
}
CHANCE = {"court": 0.5 * 0.8, "transit": 0.6}
EVENT_OF = {"court": "default", "transit": "fare_evasion"}
LIST_OF = {"default": "court_list", "fare_evasion": "transit_list"}


def _model(sensors: dict, points: int = 0) -> Model:
    """Two sectors, each with its own event and its own list; `points` links them into one
    score too (0: isolated lists)."""
    return Model.build(
        scenario(
            population={"size": SIZE},
            behaviour={"events": {e: {"per_year": PER_YEAR} for e in LIST_OF}},
            surveillance={"sensors": sensors},
            rulebook={
                "rules": {e: {"points": points, "enter_list": n} for e, n in LIST_OF.items()},
                "lists": {n: {"term_days": 1000} for n in LIST_OF.values()},
            },
        )
    )


def _of(model: Model, kind: str, rule: str) -> dict[str, np.ndarray]:
    code = model.params.codes.vocabulary.code(rule)
    keep = (model.rows["kind"] == KIND[kind]) & (model.rows["rule"] == code)
    return {k: v[keep] for k, v in model.rows.items()}


@pytest.mark.parametrize("linked", [(), ("court",), ("court", "transit")])
def test_only_linked_agencies_feed_the_ledger_each_at_coverage_x_detection(
    linked: tuple[str, ...],
) -> None:
    model = _model({name: AGENCIES[name] for name in linked})
    rows = run_days(model, DAYS)
    events = SIZE * PER_YEAR / 365 * DAYS
    for agency, event in EVENT_OF.items():
        records = _of(model, "record", event)
        entries = _of(model, "list_entry", LIST_OF[event])
        if agency not in linked:
            assert records["entity"].size == 0 and entries["entity"].size == 0
            continue
        within_poisson(records["entity"].size, events * CHANCE[agency])
        assert (records["source"] == model.params.codes.vocabulary.code(agency)).all()
        # its sector's list takes exactly the people it recorded, and no other list does
        assert np.array_equal(np.sort(entries["entity"]), np.unique(records["entity"]))
    assert sum(r["records"] for r in rows) == (model.rows["kind"] == KIND["record"]).sum()


def test_isolated_sector_lists_move_no_score_and_linked_ones_share_one() -> None:
    # The same records (same seed, same agencies) under two rulebooks: isolated, each record
    # only lists its person on its sector's list; linked, it also takes points on one score,
    # so a person recorded by both agencies loses the points of both.
    isolated, linked = _model(AGENCIES), _model(AGENCIES, points=-50)
    run_days(isolated, DAYS), run_days(linked, DAYS)
    for event in LIST_OF:
        a, b = _of(isolated, "record", event), _of(linked, "record", event)
        assert np.array_equal(a["entity"], b["entity"]) and (a["delta"] == 0).all()
    assert (isolated.state.people.score == 1000).all()
    recorded = _of(linked, "record", "default")["entity"], _of(linked, "record", "fare_evasion")
    both = np.intersect1d(recorded[0], recorded[1]["entity"])
    assert both.size > 10
    owed = np.bincount(np.concatenate([recorded[0], recorded[1]["entity"]]), minlength=SIZE) * -50
    assert np.array_equal(linked.state.people.score.astype(np.int64) - 1000, owed)


def test_two_agencies_reporting_one_event_make_one_record_of_it() -> None:
    # A bank reports defaults too, after the court: an event is recorded by the first agency
    # that detects it, so the court records a share 0.4 of the defaults and the bank 0.9 of
    # the rest (0.6 x 0.9 = 0.54), never the same default twice: 0.94 of them, not 1.3.
    bank = {"events": ["default"], "detection": 0.9}
    model = _model({"court": AGENCIES["court"], "bank": bank})
    run_days(model, DAYS)
    records = _of(model, "record", "default")
    events = SIZE * PER_YEAR / 365 * DAYS
    for agency, share in (("court", 0.4), ("bank", 0.6 * 0.9)):
        mine = records["source"] == model.params.codes.vocabulary.code(agency)
        within_poisson(int(mine.sum()), events * share)
