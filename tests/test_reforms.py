"""The court list's reforms after 2019, each a dated change on a hand-built case: credit repair,
the unable not listed, limits on whom the list reaches, grace before listing, a single measure
lifted, graded punishment, and consumption-restriction orders beside the list. Off, none leaves
a trace (no column, no ledger origin); on from a date, each acts from that date only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from bounds import total, within_binomial
from builders import run_days, scenario

from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.engine.state import list_bit
from scsim.errors import ScenarioError
from scsim.scenario.loader import load_scenario
from scsim.scenario.schema import Scenario

SIZE = 20_000
ON = 10  # the day each reform starts


def _case(
    lists: dict[str, Any] | None = None,
    services: dict[str, Any] | None = None,
    change: dict[str, Any] | None = None,
    days: int = 40,
) -> Scenario:
    """Debts recorded every day and listed until performed (no compliance), two services the
    list blocks, and `change` from day ON."""
    return scenario(
        population={"size": SIZE},
        behaviour={"events": {"debt": {"per_year": 1.0}}},
        surveillance={"sensors": {"court": {"events": ["debt"], "detection": 1.0}}},
        rulebook={
            "rules": {"debt": {"points": 0, "enter_list": "black"}},
            "lists": {"black": {"term_days": 0, **(lists or {})}},
            "services": {
                "flight": {"per_year": 20.0, "blocked_lists": ["black"]},
                "train": {"per_year": 20.0, "blocked_lists": ["black"]},
                **(services or {}),
            },
            "changes": [{"day": ON, **(change or {})}],
        },
        run={"days": days},
    )


def _rows(model: Model, kind: str, origin: str | None = None) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    if origin is not None:
        keep &= model.rows["origin"] == ORIGIN[origin]
    return {k: v[keep] for k, v in model.rows.items()}


def test_without_a_reform_the_run_has_no_trace_of_them() -> None:
    model = Model.build(_case())
    rows = run_days(model, 20)
    assert model.params.mechanisms.reforms is None
    assert not any(c.endswith(("_credit_repaired", "_orders", "_lifted")) for c in rows[0])
    reform_origins = [ORIGIN[o] for o in ("credit_repaired", "unable_removed", "restriction_order")]
    assert not np.isin(model.rows["origin"], reform_origins).any()
    assert "reform" not in model.day.names() and "restrict" not in model.day.names()


def test_repaired_debtor_leaves_list_on_day_of_repair_and_is_counted_once() -> None:
    p = 2.0  # a year's hazard: about 0.55% of the members a day
    model = Model.build(_case(change={"lists": {"black": {"credit_repair_per_year": p}}}))
    rows = run_days(model, 40)
    assert "reform" in model.day.names()
    assert all(r["black_credit_repaired"] == 0 for r in rows[:ON])
    repaired = _rows(model, "list_exit", "credit_repaired")
    assert total(rows, "black_credit_repaired") == repaired["entity"].size > 50
    assert np.unique(repaired["entity"]).size == repaired["entity"].size  # once each
    for day in range(ON, 40):  # each repair's exit row falls on the day it is counted
        assert (repaired["day"] == day).sum() == rows[day]["black_credit_repaired"]
    assert not (model.state.people.flags[repaired["entity"]] & list_bit(0)).any() or (
        # a repaired debtor may be listed again on a later case: then an entry follows the exit
        _later_entries(model, repaired)
    )
    member_days = sum(r["black_size"] for r in rows[ON - 1 : 39])
    within_binomial(repaired["entity"].size, member_days, 1 - np.exp(np.log1p(-p / 365)))


def _later_entries(model: Model, repaired: dict[str, np.ndarray]) -> bool:
    entries = _rows(model, "list_entry")
    listed = model.state.people.flags[repaired["entity"]] & list_bit(0) != 0
    for person, day in zip(repaired["entity"][listed], repaired["day"][listed], strict=True):
        if not ((entries["entity"] == person) & (entries["day"] >= day)).any():
            return False
    return True


def test_especially_serious_cases_get_no_credit_repair() -> None:
    change = {"lists": {"black": {"credit_repair_per_year": 5.0, "serious_share": 1.0}}}
    rows = run_days(Model.build(_case(change=change)), 30)
    assert total(rows, "black_credit_repaired") == 0 and rows[-1]["black_size"] > 1000


def test_unable_debtor_is_not_listed_and_those_listed_are_removed() -> None:
    share = 0.4
    change = {"lists": {"black": {"spare_unable": True}}}
    model = Model.build(_case(lists={"unable_share": share}, change=change))
    rows = run_days(model, 30)
    removed = _rows(model, "list_exit", "unable_removed")
    # on the reform's day every unable member leaves, after it none is left to remove
    assert rows[ON]["black_unable_removed"] == removed["entity"].size > 100
    assert (removed["day"] == ON).all()
    within_binomial(removed["entity"].size, rows[ON - 1]["black_size"], share)
    entries = _rows(model, "list_entry")
    later = entries["entity"][entries["day"] >= ON]
    assert later.size > 100 and not np.isin(later, removed["entity"]).any()
    spared = sum(r["black_spared_unable"] for r in rows[ON:])
    within_binomial(spared, spared + later.size, share)
    assert sum(r["black_spared_unable"] for r in rows[:ON]) == 0


@pytest.mark.parametrize(("field", "column"), [("exempt_share", "exempt"), ("grace_performs", "")])
def test_records_beyond_reach_or_performed_in_grace_list_nobody(field: str, column: str) -> None:
    share = 0.3
    model = Model.build(_case(change={"lists": {"black": {field: share}}}))
    rows = run_days(model, 30)
    name = f"black_spared_{column}" if column else "black_grace_performed"
    spared = sum(r[name] for r in rows)
    cases = sum(r["black_cases"] for r in rows[ON:])
    assert sum(r[name] for r in rows[:ON]) == 0
    within_binomial(spared, spared + cases, share)


def test_a_single_measure_lifted_lets_its_service_through_and_no_other() -> None:
    share = 0.5
    base = run_days(Model.build(_case()), 30)
    change = {"services": {"flight": {"lifted": share}}}
    model = Model.build(_case(change=change))
    rows = run_days(model, 30)
    lifted = sum(r["flight_lifted"] for r in rows)
    assert sum(r["flight_lifted"] for r in rows[:ON]) == 0 and "train_lifted" not in rows[0]
    # a trait of the person, so requests cluster by person: a wider band than one per request
    within_binomial(lifted, lifted + sum(r["flight_blocked"] for r in rows[ON:]), share, sds=8)
    assert total(rows, "train_blocked") == total(base, "train_blocked")
    assert total(rows, "flight_blocked") < total(base, "flight_blocked")


def test_graded_punishment_refuses_only_the_especially_serious() -> None:
    change = {"services": {"flight": {"serious_only": True}}}
    model = Model.build(_case(lists={"serious_share": 0.2}, change=change))
    rows = run_days(model, 30)
    spared = sum(r["flight_spared_graded"] for r in rows[ON:])
    refused = sum(r["flight_blocked"] for r in rows[ON:])
    within_binomial(refused, refused + spared, 0.2, sds=6)  # refusals cluster by person
    blocked = _rows(model, "blocked")
    flights = blocked["rule"] == model.params.codes.services[0]
    late = blocked["entity"][flights & (blocked["day"] >= ON)]
    from scsim.engine.components.listing import serious_cases

    assert serious_cases(model, 0, late).all()


def _orders(share: float, listed: bool = False) -> Scenario:
    return scenario(
        population={"size": SIZE},
        behaviour={"events": {"debt": {"per_year": 1.0}}},
        surveillance={"sensors": {"court": {"events": ["debt"], "detection": 0.0}}},
        rulebook={
            "rules": {"debt": {"points": 0, "enter_list": "black"}},
            "lists": {
                "black": {"term_days": 0},
                "restricted": {
                    "term_days": 0,
                    "order_share": share,
                    "order_events": ["debt"],
                    "comply_per_year": 1.0,
                },
            },
            "services": {"flight": {"per_year": 20.0, "blocked_lists": ["black", "restricted"]}},
        },
        run={"days": 30},
    )


def test_restriction_orders_refuse_debtors_who_are_not_on_the_list() -> None:
    share = 0.5
    model = Model.build(_orders(share))
    rows = run_days(model, 30)
    orders = _rows(model, "list_entry", "restriction_order")
    assert total(rows, "black_entries") == 0  # nobody is listed: detection 0
    within_binomial(total(rows, "restricted_orders"), total(rows, "true_events"), share)
    assert total(rows, "restricted_entries") == orders["entity"].size > 500
    blocked = _rows(model, "blocked")
    assert blocked["entity"].size > 100 and np.isin(blocked["entity"], orders["entity"]).all()
    assert rows[-1]["restricted_size"] == int(((model.state.people.flags & list_bit(1)) != 0).sum())


def test_without_orders_the_unlisted_are_never_refused() -> None:
    rows = run_days(Model.build(_orders(0.0)), 30)
    assert total(rows, "flight_blocked") == 0 and "restricted_orders" not in rows[0]


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ({"order_share": 0.5}, "order_events"),
        ({"order_share": 0.5, "order_events": ["nothing"]}, "unknown event type 'nothing'"),
    ],
)
def test_restriction_orders_name_known_events(
    lists: dict[str, Any], message: str, tmp_path: Any
) -> None:
    text = (
        'extends = "court-blacklist"\n[rulebook.lists.court_list]\n'
        + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in lists.items())
        + "\n"
    )
    path = tmp_path / "s.toml"
    path.write_text(text.replace("True", "true"))
    with pytest.raises(ScenarioError, match=message):
        load_scenario(str(path))


@pytest.mark.parametrize(
    ("case", "origin", "words"),
    [
        (
            lambda: _case(change={"lists": {"black": {"credit_repair_per_year": 5.0}}}, days=20),
            "credit_repaired",
            "left black: credit repaired after correcting the conduct",
        ),
        (
            lambda: _case(
                lists={"unable_share": 0.5},
                change={"lists": {"black": {"spare_unable": True}}},
                days=20,
            ),
            "unable_removed",
            "left black: removed as a debtor unable to perform",
        ),
        (
            lambda: _orders(0.5),
            "restriction_order",
            "entered restricted: a court restricted spending on an unperformed case",
        ),
    ],
)
def test_the_dossier_and_the_ledger_file_name_each_reform(
    case: Any, origin: str, words: str, tmp_path: Any
) -> None:
    import pandas as pd

    from scsim.audit import dossier
    from scsim.simulation.run import simulate

    simulate(case(), tmp_path / "run")
    ledger = pd.read_parquet(tmp_path / "run" / "ledger.parquet")
    person = int(ledger.entity[ledger.origin == origin].iloc[0])
    assert any(words in w for w in dossier(tmp_path / "run", person).what.tolist())


def test_court_list_history_runs_to_2025_with_each_reform_on_its_date() -> None:
    import datetime as dt

    s = load_scenario("court-list-history")
    assert s.run.start is not None
    assert s.run.start + dt.timedelta(days=s.run.days - 1) == dt.date(2025, 12, 31)
    books = s.rulebook.versions(s.run.start)

    def book_on(date: dt.date) -> Any:
        return [b for day, b in books if day <= s.day_of(date)][-1]

    for part in ("court_list_until_performed", "court_list"):
        before, after = book_on(dt.date(2019, 12, 31)), book_on(dt.date(2020, 1, 1))
        assert (
            before.lists[part].credit_repair_per_year
            == 0
            < after.lists[part].credit_repair_per_year
        )
        assert not book_on(dt.date(2023, 12, 31)).lists[part].spare_unable
        assert book_on(dt.date(2024, 1, 1)).lists[part].spare_unable
    assert not book_on(dt.date(2025, 2, 28)).services["star_hotel"].serious_only
    assert book_on(dt.date(2025, 3, 1)).services["star_hotel"].serious_only


def test_compare_counts_the_person_years_a_reform_takes_off_the_list() -> None:
    from scsim.experiments.compare import compare

    repaired = _case(change={"lists": {"black": {"credit_repair_per_year": 10.0}}}, days=30)
    table = compare(repaired, _case(days=30), seeds=2).set_index("figure")
    years = table.loc["person-years listed: black"]
    assert years.difference < 0 and years.high < 0 and years.b > 0
    assert years.b == pytest.approx(
        sum(r["black_size"] for r in run_days(Model.build(_case(days=30)), 30)) / 365, rel=0.2
    )
    assert table.loc["wrongful listing entries: black", "a"] == 0  # no false record here


def test_predict_counts_credit_repairs_beside_the_other_counters() -> None:
    import datetime as dt

    from scsim.experiments.calibration.predict import predict

    s = load_scenario(
        "court-list-history",
        overrides={
            "population.size": 20_000,
            "rulebook.changes.10.lists.court_list.credit_repair_per_year": 50.0,
        },
    )
    before, after = predict(s, [dt.date(2019, 12, 31), dt.date(2020, 3, 31)], seeds=2)
    assert before["credit_repaired"] == 0 < after["credit_repaired"]
    assert after["credit_repaired_lo"] is not None and "listing_entries_hi" in after


def test_predict_counts_restriction_orders_only_where_a_scenario_issues_them() -> None:
    import datetime as dt

    from scsim.experiments.calibration.predict import predict

    at = [dt.date(2014, 12, 31)]
    small = {"population.size": 20_000}
    (plain,) = predict(load_scenario("court-list-history", overrides=small), at)
    assert "restriction_orders" not in plain and "listing_entries" in plain
    orders = {
        "rulebook.lists.court_list.order_share": 0.5,
        "rulebook.lists.court_list.order_events": ["able_but_refuses"],
    }
    (ordered,) = predict(load_scenario("court-list-history", overrides=small | orders), at)
    assert ordered["restriction_orders"] > 0
