"""The switchable mechanisms of issue 3: appeals on lists, scheduled rulebook changes, and
sensors that report late. Each is off by default; switched off it leaves no trace, switched
on it acts at the configured rate, within bounds derived from the binomial variance."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from bounds import within_binomial
from builders import assert_resumes_to_the_same_bytes, run_days, scenario

from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario

# ---------------------------------------------------------------- helpers

# one court with half its records charged to the wrong person: listed rightly and wrongly alike
COURT = {
    "behaviour": {"events": {"defied": {"per_year": 0.5}}},
    "surveillance": {
        "sensors": {"court": {"events": ["defied"], "detection": 1.0, "misattribution": 0.5}}
    },
    "population": {"size": 20_000},
}
APPEALS = {
    "appeal_share_rightly": 0.3,
    "appeal_share_wrongly": 0.8,
    "appeal_mean_days": 3.0,
    "appeal_success_rightly": 0.1,
    "appeal_success_wrongly": 0.9,
}


def _court_list(**list_fields: float) -> Model:
    rulebook = {
        "rules": {"defied": {"points": -50, "enter_list": "court"}},
        "lists": {"court": {"term_days": 1000, **list_fields}},
    }
    return Model.build(scenario(**COURT, rulebook=rulebook, run={"days": 60, "seed": 5}))


def _rows(model: Model, kind: str) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    return {k: v[keep] for k, v in model.rows.items()}


def _within(hits: int, n: int, p: float, sds: float = 4.0) -> None:
    """`hits` of `n` is a Binomial(n, p) draw: within `sds` standard deviations of n p."""
    assert n > 100, f"too few trials ({n}) for a statistical check"
    sd = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) <= sds * sd + 1, f"{hits} of {n}, expected {n * p:.1f} +- {sd:.1f}"


def _total(rows: list[dict], column: str) -> int:
    return sum(int(row[column]) for row in rows)


# ---------------------------------------------------------------- appeals


def test_without_appeals_no_one_appeals_and_no_one_leaves_by_appeal() -> None:
    model = _court_list()
    rows = run_days(model, 40)
    assert _total(rows, "court_entries_wrongful") > 100
    for flow in ("filed", "filed_wrongly_listed", "decided", "won", "won_wrongly_listed"):
        assert _total(rows, f"court_appeals_{flow}") == 0
    assert not (_rows(model, "list_exit")["origin"] == ORIGIN["appeal_won"]).any()


def test_appeals_are_filed_and_won_at_the_configured_rates_rightly_and_wrongly() -> None:
    model = _court_list(**APPEALS)
    rows = run_days(model, 60)
    entries, exits = _rows(model, "list_entry"), _rows(model, "list_exit")
    won = exits["origin"] == ORIGIN["appeal_won"]
    # entries of the first 30 days: a 3-day mean wait is decided within the run (P ~ 5e-6)
    early = entries["day"] < 30
    for wrongly, share, success in ((True, 0.8, 0.9), (False, 0.3, 0.1)):
        mine = early & (entries["truth"] != wrongly)
        person, day = entries["entity"][mine], entries["day"][mine]
        won_after = [
            bool(((exits["entity"] == p) & won & (exits["day"] > d)).any())
            for p, d in zip(person.tolist(), day.tolist(), strict=True)
        ]
        _within(sum(won_after), person.size, share * success)
    # filed: a Binomial(entries, share) per side, over the whole run
    _within(
        _total(rows, "court_appeals_filed_wrongly_listed"),
        _total(rows, "court_entries_wrongful"),
        0.8,
    )
    rightly_entries = _total(rows, "court_entries") - _total(rows, "court_entries_wrongful")
    rightly_filed = _total(rows, "court_appeals_filed") - _total(
        rows, "court_appeals_filed_wrongly_listed"
    )
    _within(rightly_filed, rightly_entries, 0.3)
    # every win is an exit with its own origin, and counted as decided
    assert _total(rows, "court_appeals_won") == int(won.sum())
    assert _total(rows, "court_appeals_won_wrongly_listed") == int((won & ~exits["truth"]).sum())
    assert _total(rows, "court_appeals_decided") >= _total(rows, "court_appeals_won")
    assert _total(rows, "court_appeals_decided") <= _total(rows, "court_appeals_filed")


def test_an_appeal_decided_after_the_term_ends_changes_nothing() -> None:
    slow = {**APPEALS, "appeal_mean_days": 3000.0, "appeal_share_wrongly": 1.0}
    model = _court_list(**slow, term_days=5)
    rows = run_days(model, 30)
    assert _total(rows, "court_appeals_filed") > 100
    assert _total(rows, "court_appeals_won") < 5  # a wait under 5 days has chance ~0.2%


# ---------------------------------------------------------------- scheduled rulebook changes

POSTS = {
    "behaviour": {"events": {"post": {"per_year": 2.0}}},
    "surveillance": {"sensors": {"net": {"events": ["post"], "detection": 1.0}}},
}


def test_a_change_of_points_on_day_n_changes_every_delta_from_day_n_on() -> None:
    rulebook = {
        "rules": {"post": {"points": -10}},
        "changes": [{"day": 10, "rules": {"post": {"points": -30}}}],
    }
    model = Model.build(scenario(**POSTS, rulebook=rulebook))
    run_days(model, 20)
    records = _rows(model, "record")
    before = records["day"] < 10
    assert before.sum() > 100 and (~before).sum() > 100
    assert (records["delta"][before] == -10).all()
    assert (records["delta"][~before] == -30).all()


def test_without_changes_the_points_stay() -> None:
    model = Model.build(scenario(**POSTS, rulebook={"rules": {"post": {"points": -10}}}))
    run_days(model, 20)
    assert (_rows(model, "record")["delta"] == -10).all()
    assert len(model.plans) == 1


def test_a_change_can_add_a_rule_and_restrict_a_service_from_its_day() -> None:
    rulebook = {
        "lists": {"court": {"term_days": 1000}},
        "services": {"flight": {"per_year": 365.0}},
        "changes": [
            {
                "day": 8,
                "rules": {"post": {"points": 0, "enter_list": "court"}},
                "services": {"flight": {"blocked_lists": ["court"]}},
            }
        ],
    }
    model = Model.build(scenario(**POSTS, rulebook=rulebook))
    rows = run_days(model, 16)
    assert all(row["court_entries"] == 0 and row["flight_blocked"] == 0 for row in rows[:8])
    assert all(row["court_entries"] > 0 for row in rows[8:])
    assert sum(row["flight_blocked"] for row in rows[8:]) > 0


def test_a_model_stepped_from_a_later_day_uses_the_rulebook_of_that_day() -> None:
    rulebook = {
        "rules": {"post": {"points": -10}},
        "changes": [
            {"day": 12, "rules": {"post": {"points": -30}}},
            {"day": 5, "rules": {"post": {"points": -20}}},
        ],
    }
    model = Model.build(scenario(**POSTS, rulebook=rulebook))
    assert [day for day, _ in model.plans] == [0, 5, 12]
    for day, points in ((7, -20), (3, -10), (20, -30)):
        model.step(day)
        assert int(model.rules.host_plan.points[0]) == points


def test_changes_load_from_toml_array_of_tables(tmp_path: Path) -> None:
    path = tmp_path / "changed.toml"
    path.write_text(
        'extends = "rongcheng"\nname = "changed"\n'
        "[[rulebook.changes]]\nday = 100\n"
        "[rulebook.changes.rules.bank_arrears]\npoints = -20\n"
    )
    s = load_scenario(path)
    versions = s.rulebook.versions()
    assert [day for day, _ in versions] == [0, 100]
    assert versions[1][1].rules["bank_arrears"].points == -20
    assert versions[1][1].rules["bank_arrears"].uncorrected_days == 90  # merged


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            {"day": 3, "rules": {"traffic_violation": {"points": 99_999}}},
            ["rulebook.changes[0].rules.traffic_violation.points", "less than or equal"],
        ),
        (
            {"day": 3, "rules": {"traffic_violation": {"set_tier": "Z"}}},
            ["rulebook.changes[0].rules.traffic_violation.set_tier", "unknown tier 'Z'"],
        ),
        (
            {"day": 3, "lists": {"new_list": {"term_days": 5}}},
            ["rulebook.changes[0].lists.new_list", "cannot add"],
        ),
        ({"day": 3, "tiers": {}}, ["rulebook.changes.0.tiers", "unknown field"]),
    ],
)
def test_a_bad_change_is_refused_naming_the_change(change: dict, fragments: list[str]) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario("rongcheng", overrides={"rulebook.changes": [change]})
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


# ---------------------------------------------------------------- late reporting


def _posts_with_delay(delay: int) -> Model:
    sensors = {"net": {"events": ["post"], "detection": 1.0, "delay_days": delay}}
    return Model.build(
        scenario(
            behaviour=POSTS["behaviour"],
            surveillance={"sensors": sensors},
            rulebook={"rules": {"post": {"points": -10}}},
        )
    )


def test_records_of_a_late_sensor_take_effect_delay_days_after_the_event() -> None:
    delay = 4
    prompt, late = _posts_with_delay(0), _posts_with_delay(delay)
    prompt_rows, late_rows = run_days(prompt, 20), run_days(late, 20)
    assert all(row["records"] == 0 for row in late_rows[:delay])
    assert [row["records"] for row in late_rows[delay:]] == [
        row["records"] for row in prompt_rows[: 20 - delay]
    ]
    a, b = _rows(prompt, "record"), _rows(late, "record")
    shown = a["day"] < 20 - delay
    assert np.array_equal(a["entity"][shown], b["entity"])
    assert np.array_equal(a["day"][shown] + delay, b["day"])
    assert late.state.calendar.pending() > 0  # the last days' records are still on their way


def test_a_prompt_sensor_records_on_the_day_of_the_event() -> None:
    rows = run_days(_posts_with_delay(0), 3)
    assert rows[0]["records"] > 0
    assert rows[0]["records"] == rows[0]["true_events"]


# ---------------------------------------------------------------- checkpoints


def test_a_run_with_every_mechanism_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scenario(
        **COURT,
        rulebook={
            "rules": {"defied": {"points": -50, "enter_list": "court"}},
            "lists": {"court": {"term_days": 1000, **APPEALS, "appeal_mean_days": 20.0}},
            "changes": [{"day": 9, "rules": {"defied": {"points": -80}}}],
        },
        run={"days": 24, "seed": 3},
    )
    s = load_scenario(s, overrides={"surveillance.sensors.court.delay_days": 6})
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=13, every=5)


# ---------------------------------------------------------------- lists: pressure, publication


def _blocked_list(**list_fields: object) -> Model:
    """A court list entered on every record (no other exit for 1000 days) and a flight it
    blocks, asked for by a tenth of the listed each day."""
    return Model.build(
        scenario(
            population={"size": 20_000},
            behaviour={"events": {"defied": {"per_year": 1.0}}},
            surveillance={"sensors": {"court": {"events": ["defied"], "detection": 1.0}}},
            rulebook={
                "rules": {"defied": {"points": 0, "enter_list": "court"}},
                "lists": {"court": {"term_days": 1000, **list_fields}},
                "services": {"flight": {"per_year": 36.5, "blocked_lists": ["court"]}},
            },
            run={"days": 20, "seed": 7},
        )
    )


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_a_blocked_listed_person_complies_at_the_comply_on_block_chance(share: float) -> None:
    # Each day, each distinct person the list refused decides once to comply: the day's
    # compliers are Binomial(distinct people blocked by the list, share); they leave the list
    # that day with reason "complied" (no other exit comes within the 1000-day term).
    model = _blocked_list(comply_on_block=share)
    rows = run_days(model, 20)
    blocked, exits = _rows(model, "blocked"), _rows(model, "list_exit")
    assert (blocked["origin"] == ORIGIN["list"]).all()
    pressed = sum(np.unique(blocked["entity"][blocked["day"] == d]).size for d in range(20))
    complied = _total(rows, "court_complied_on_block")
    assert complied == _total(rows, "court_complied") == exits["entity"].size
    assert (exits["origin"] == ORIGIN["complied"]).all()
    if share == 0.0:
        assert complied == 0 and pressed > 100
        return
    refused_that_day = set(zip(blocked["entity"].tolist(), blocked["day"].tolist(), strict=True))
    assert all(
        (p, d) in refused_that_day
        for p, d in zip(exits["entity"].tolist(), exits["day"].tolist(), strict=True)
    )
    within_binomial(complied, pressed, share)


@pytest.mark.parametrize("publish", [False, True])
def test_a_published_list_names_every_entry_and_publication_changes_nothing_else(
    publish: bool,
) -> None:
    # Publication is a flag: every entry of a published list is named and shamed (counted,
    # `<list>_published`), none of an unpublished one. It draws nothing and acts on no one:
    # the ledger is the same either way.
    model, plain = _blocked_list(publish=publish), _blocked_list()
    rows, plain_rows = run_days(model, 20), run_days(plain, 20)
    entries = _rows(model, "list_entry")["entity"].size
    assert entries == _total(rows, "court_entries") > 100
    published = [r["court_published"] for r in rows]
    assert published == ([r["court_entries"] for r in rows] if publish else [0] * 20)
    assert [{**r, "court_published": 0} for r in rows] == plain_rows
    for column in model.rows:
        assert np.array_equal(model.rows[column], plain.rows[column])
