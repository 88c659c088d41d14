"""A spending restriction that outlives the listing (docs/sources.md [S]: "not always lifted when
the listing expires"): a share of the people leaving a list are put on another list that services
heed. Off by default and then without a trace; on, every way out of the list can keep it, at the
configured chance (a binomial check), on the records the listing rested on, and the restriction
refuses as any list does. A fifth list uses the flag bit after the other flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bounds import total, within_binomial
from builders import run_days, scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from scsim.audit import dossier
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.engine.state import LOCKED, SUSPENDED, TAINTED, list_bit
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario
from scsim.simulation.run import simulate

SIZE = 20_000
# four lists nobody enters, so that the kept restriction is the fifth (flag bit 7)
IDLE = {name: {"term_days": 30} for name in ("a", "b", "c")}


def _scenario(  # type: ignore[no-untyped-def]
    kept: float,
    misattribution: float = 0.0,
    days: int = 40,
    *,
    size: int = SIZE,
    term: int = 10,
    kept_term: int = 7,
    comply: float = 10.0,
):
    return scenario(
        population={"size": size},
        behaviour={"events": {"debt": {"per_year": 1.0}}},
        surveillance={
            "sensors": {
                "court": {"events": ["debt"], "detection": 1.0, "misattribution": misattribution}
            }
        },
        rulebook={
            "rules": {"debt": {"points": 0, "enter_list": "black"}},
            "lists": {
                "black": {
                    "term_days": term,
                    "comply_per_year": comply,
                    "restriction_kept": kept,
                    "restriction_kept_on": "kept",
                },
                **IDLE,
                "kept": {"term_days": kept_term},
            },
            "services": {"flight": {"per_year": 20.0, "blocked_lists": ["kept"]}},
        },
        run={"days": days},
    )


def _rows(model: Model, kind: str, origin: str | None = None) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    if origin is not None:
        keep &= model.rows["origin"] == ORIGIN[origin]
    return {k: v[keep] for k, v in model.rows.items()}


def test_without_it_no_one_leaving_stays_restricted() -> None:
    model = Model.build(_scenario(kept=0.0))
    rows = run_days(model, 30)
    assert total(rows, "black_expired") + total(rows, "black_complied") > 1000
    assert total(rows, "kept_entries") == 0 and total(rows, "flight_blocked") == 0
    assert _rows(model, "list_entry", "restriction_kept")["entity"].size == 0


def test_a_share_of_every_way_out_stays_restricted_and_is_refused() -> None:
    p = 0.3
    model = Model.build(_scenario(kept=p))
    rows = run_days(model, 40)
    exits = _rows(model, "list_exit")
    left = exits["entity"][exits["rule"] == model.params.codes.lists[0]]
    kept = _rows(model, "list_entry", "restriction_kept")
    assert total(rows, "kept_entries") == kept["entity"].size
    assert (kept["rule"] == model.params.codes.lists[4]).all()
    assert set(kept["entity"].tolist()) <= set(left.tolist())
    # a person still restricted from an earlier exit is not kept again: those are the trials
    within_binomial(kept["entity"].size, left.size, p, sds=5.0)
    reasons = set(exits["origin"][np.isin(exits["entity"], kept["entity"])].tolist())
    assert {ORIGIN["term_ended"], ORIGIN["complied"]} <= reasons
    # the restriction lasts its list's term, then ends (7 days)
    assert total(rows, "kept_expired") > 100
    assert rows[-1]["kept_size"] == int(((model.state.people.flags & list_bit(4)) != 0).sum())
    # the kept list's flag is bit 7: it leaves the lock, false-record and suspension bits alone
    assert (
        list_bit(4) == 1 << 7
        and not (model.state.people.flags & (LOCKED | TAINTED | SUSPENDED)).any()
    )
    # only the kept restriction refuses flights here, and it does
    blocked = _rows(model, "blocked")
    assert total(rows, "flight_blocked") == blocked["entity"].size > 100
    assert np.isin(blocked["entity"], kept["entity"]).all()


def test_a_restriction_kept_from_a_false_listing_rests_on_it() -> None:
    model = Model.build(_scenario(kept=1.0, misattribution=1.0))
    rows = run_days(model, 30)
    kept = _rows(model, "list_entry", "restriction_kept")
    assert kept["entity"].size > 100 and not kept["truth"].any()
    assert total(rows, "kept_entries_wrongful") == total(rows, "kept_entries")
    assert total(rows, "flight_blocked_wrongful") == total(rows, "flight_blocked") > 100


def test_the_dossier_says_the_restriction_was_not_lifted(tmp_path: Path) -> None:
    simulate(_scenario(kept=1.0, days=20), tmp_path / "run")
    person = _first_kept(tmp_path / "run")
    what = dossier(tmp_path / "run", person).what.tolist()
    assert any("kept on kept on leaving a list: the restriction was not lifted" in w for w in what)


def _first_kept(run: Path) -> int:
    ledger = pd.read_parquet(run / "ledger.parquet")
    kept = ledger.entity[(ledger.kind == "list_entry") & (ledger.origin == "restriction_kept")]
    return int(kept.iloc[0])


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ({"court_list": {"restriction_kept_on": "nowhere"}}, "restriction_kept_on: 'nowhere'"),
        ({"court_list": {"restriction_kept_on": "court_list"}}, "is not another list"),
        ({"court_list": {"restriction_kept": 0.5}}, "needs restriction_kept_on"),
        ({"court_list": {"restriction_kept": 1.5}}, "restriction_kept"),
        ({f"extra_{i}": {"term_days": 9} for i in range(2)}, "at most 5 items"),  # 6 lists
    ],
)
def test_a_kept_restriction_names_another_list(lists: dict, message: str) -> None:
    overrides = {f"rulebook.lists.{name}": rule for name, rule in lists.items()}
    with pytest.raises(ScenarioError, match=message):
        load_scenario("court-blacklist", overrides=overrides)


def test_shards_keep_the_restrictions_the_single_process_keeps() -> None:
    from test_shards import assert_shards_make_the_single_process

    book = load_scenario("court-blacklist").rulebook
    overrides = {
        "population.size": 300_000,
        "run.days": 60,
        "rulebook.lists.kept": {"term_days": 20},
        "rulebook.services.flight.blocked_lists": [*book.services["flight"].blocked_lists, "kept"],
    }
    for part in ("court_list_until_performed", "court_list"):
        overrides[f"rulebook.lists.{part}.restriction_kept"] = 0.5
        overrides[f"rulebook.lists.{part}.restriction_kept_on"] = "kept"
    totals = assert_shards_make_the_single_process(
        load_scenario("court-blacklist", overrides=overrides), 3
    )
    assert totals["kept_entries"] > 0 and totals["kept_expired"] > 0, totals


@settings(max_examples=12, deadline=None)
@given(
    kept=st.floats(0.0, 1.0),
    term=st.integers(1, 15),
    kept_term=st.integers(1, 15),
    comply=st.floats(0.0, 30.0),
)
def test_flags_and_rosters_agree_whatever_is_kept(
    kept: float, term: int, kept_term: int, comply: float
) -> None:
    s = _scenario(kept, size=3_000, term=term, kept_term=kept_term, comply=comply)
    model = Model.build(s)
    for day in range(25):
        row = model.step(day)
        for index, roster in enumerate(model.state.rosters):
            on = np.flatnonzero((model.state.people.flags & list_bit(index)) != 0)
            assert np.array_equal(on, roster.ids), (day, index)
        assert row["kept_size"] == len(model.state.rosters[4])
        model.ledger.drain()
