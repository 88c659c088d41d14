"""The consequences the sources list (issue 24, item 6), as services in the built-ins that
cite them: the court list's other five spending restrictions in `court-blacklist`, the
trusted's green-channel benefits and the discredited's lost benefits and pets in
`national-score`, and dating-site matches read from the private score in `sesame`. Each is
checked on its own: its requests made frequent and the people it acts on made common, so that
its ledger rows show whom it refuses or rewards, and in whose name."""

from __future__ import annotations

import pytest
from builders import run_days

from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.scenario import load_scenario

SIZE = 20_000
COURT_LISTS = {"court_list_until_performed", "court_list"}
DEFIED = {f"behaviour.events.{e}.per_year": 2.0 for e in ("able_but_refuses", "evades_enforcement")}
REDLISTED = {"behaviour.events.organ_donation.per_year": 5.0}  # +100: AAA and the redlist
DISCREDITED = {"behaviour.events.intentional_crime.per_year": 5.0}  # a direct D
EXCELLENT = {"behaviour.events.identity_verified.per_year": 100.0}  # +20 each, never expiring


@pytest.mark.parametrize(
    ("name", "service", "kind", "causes", "making"),
    [
        ("court-blacklist", "property_purchase", "blocked", COURT_LISTS, DEFIED),
        ("court-blacklist", "office_rental", "blocked", COURT_LISTS, DEFIED),
        ("court-blacklist", "car_purchase", "blocked", COURT_LISTS, DEFIED),
        ("court-blacklist", "holiday", "blocked", COURT_LISTS, DEFIED),
        ("court-blacklist", "high_premium_insurance", "blocked", COURT_LISTS, DEFIED),
        ("national-score", "public_housing", "reward", {"redlist"}, REDLISTED),
        ("national-score", "promotion", "reward", {"redlist"}, REDLISTED),
        ("national-score", "elite_university", "reward", {"redlist"}, REDLISTED),
        ("national-score", "tax_break", "reward", {"redlist"}, REDLISTED),
        ("national-score", "social_benefits", "reward", {"redlist"}, REDLISTED),
        ("national-score", "social_benefits", "blocked", {"D"}, DISCREDITED),
        ("national-score", "pet_licence", "reward", {"redlist"}, REDLISTED),
        ("national-score", "pet_licence", "blocked", {"D"}, DISCREDITED),
        (
            "sesame",
            "dating_match",
            "reward",
            {"excellent_750", "excellent", "very_good"},
            EXCELLENT,
        ),
    ],
)
def test_a_sourced_consequence_acts_on_whom_its_source_names(
    name: str, service: str, kind: str, causes: set[str], making: dict[str, float]
) -> None:
    s = load_scenario(
        name,
        overrides={
            "population.size": SIZE,
            "run.days": 30,
            f"rulebook.services.{service}.per_year": 36.5,
            **making,
        },
    )
    model = Model.build(s)
    rows = run_days(model, 30)
    vocabulary = model.params.codes.vocabulary
    ours = (model.rows["kind"] == KIND[kind]) & (model.rows["rule"] == vocabulary.code(service))
    column = "rewards" if kind == "reward" else "blocked"
    assert ours.sum() == sum(r[f"{service}_{column}"] for r in rows) > 50
    named = {vocabulary.names[c] for c in model.rows["source"][ours]}
    assert named <= causes
    origin = ORIGIN["list"] if named <= set(s.rulebook.lists) else ORIGIN["tier"]
    assert (model.rows["origin"][ours] == origin).all()
