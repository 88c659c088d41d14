"""Online monitoring and the chilling effect (docs/sources.md: critical posts cost points, accounts
are suspended, 001, 000, 004; self-censorship and fear, 004; deterrence from sanctions seen
among friends). Each is off by default: switched off it leaves no trace; switched on it acts
at the configured rate, within bounds derived from the binomial variance (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
from bounds import total, within_binomial
from builders import run_days, scenario

from scsim.engine.components import chill
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.engine.state import SUSPENDED
from scsim.experiments.compare import compare, no_system
from scsim.scenario import load_scenario

SIZE, POSTS_PER_YEAR, DETECTION = 20_000, 12.0, 0.5


def _model(
    censorship: dict | None = None,
    deterrence: dict | None = None,
    net: dict | None = None,
    size: int = SIZE,
) -> Model:
    behaviour: dict = {
        "events": {"post": {"per_year": POSTS_PER_YEAR}, "theft": {"per_year": 6.0}},
        "feedback": True,
    }
    if censorship is not None:
        behaviour["self_censorship"] = censorship
    if deterrence is not None:
        behaviour["deterrence"] = deterrence
    sensors = {
        "net": {"events": ["post"], "detection": DETECTION, **(net or {})},
        "cam": {"events": ["theft"], "detection": 0.5},
    }
    return Model.build(
        scenario(
            population={"size": size},
            behaviour=behaviour,
            surveillance={"sensors": sensors},
            rulebook={"rules": {"post": {"points": -5}, "theft": {"points": -5}}},
        )
    )


# ---------------------------------------------------------------- self-censorship


def test_without_self_censorship_or_suspension_nothing_is_held_back() -> None:
    plain, idle = _model(), _model(censorship={"events": []}, net={"suspension": 0.0})
    rows, idle_rows = run_days(plain, 10), run_days(idle, 10)
    for column in ("speech", "speech_self_censored", "posts_silenced", "accounts_suspended"):
        assert column not in rows[0]
    assert not (plain.rows["kind"] == KIND["burden"]).any()
    assert not (plain.state.people.flags & SUSPENDED).any()
    for column in plain.rows:
        assert np.array_equal(plain.rows[column], idle.rows[column])
    assert rows == idle_rows


def test_self_censorship_holds_back_speech_at_the_rate_of_perceived_surveillance() -> None:
    share = 0.6
    free, chilled = _model(), _model(censorship={"events": ["post"], "surveillance": share})
    free_rows, rows = run_days(free, 10), run_days(chilled, 10)
    censored, spoken = total(rows, "speech_self_censored"), total(rows, "speech")
    # the same people would have said exactly this much with no system, draw for draw
    posts = [row["true_events"] for row in free_rows]
    thefts = [row["true_events"] - row["speech"] for row in rows]
    assert [p - t for p, t in zip(posts, thefts, strict=True)] == [
        row["speech"] + row["speech_self_censored"] for row in rows
    ]
    within_binomial(censored, censored + spoken, share * DETECTION)


def test_sanctions_seen_among_friends_deter_offences_and_speech() -> None:
    friends, seen = 0.1, 6  # six friends, each with one sanction suffered
    model = _model(
        censorship={"events": ["post"], "friends": 0.2},
        deterrence={"friends": friends, "max_sanctions": 8},
    )
    model.state.people.wariness[:] = 1
    rows = run_days(model, 10)
    deterred = total(rows, "offences_deterred_by_friends")
    thefts = total(rows, "true_events") - total(rows, "speech")
    within_binomial(deterred, deterred + thefts, 1 - (1 - friends) ** seen)
    censored, spoken = total(rows, "speech_self_censored"), total(rows, "speech")
    within_binomial(censored, censored + spoken, 1 - (1 - 0.2) ** seen)


def test_friends_see_sanctions_only_when_wariness_is_counted() -> None:
    model = _model(deterrence={"friends": 0.1})
    assert model.params.mechanisms.counts_sanctions
    assert not _model().params.mechanisms.counts_sanctions


# ---------------------------------------------------------------- suspension


def test_records_suspend_accounts_at_the_configured_chance_and_for_its_days() -> None:
    chance, days = 0.3, 5
    model = _model(net={"suspension": chance, "suspension_days": days})
    rows = run_days(model, 12)
    records = (model.rows["kind"] == KIND["record"]) & (model.rows["delta"] == -5)
    first_day = (
        records & (model.rows["day"] == 0) & (model.rows["source"] == model.params.codes.sensors[0])
    )
    # day 0: every person with k records of the sensor is suspended with 1 - (1 - p)^k
    _, k = np.unique(model.rows["entity"][first_day], return_counts=True)
    p = 1 - (1 - chance) ** k
    mean, sd = p.sum(), math.sqrt((p * (1 - p)).sum())
    assert k.size > 100
    assert abs(rows[0]["accounts_suspended"] - mean) <= 4 * sd + 1
    burdens = model.rows["kind"] == KIND["burden"]
    assert total(rows, "accounts_suspended") == int(burdens.sum())
    # a suspended account posts nothing until the suspension ends
    suspended_on = {}
    for person, day in zip(
        model.rows["entity"][burdens].tolist(), model.rows["day"][burdens].tolist(), strict=True
    ):
        suspended_on.setdefault(person, day)
    posts = records & (model.rows["source"] == model.params.codes.sensors[0])
    for person, day in zip(
        model.rows["entity"][posts].tolist(), model.rows["day"][posts].tolist(), strict=True
    ):
        start = suspended_on.get(person)
        assert start is None or not start < day < start + days
    assert total(rows, "posts_silenced") > 100
    assert all(row["posts_silenced"] == 0 for row in rows[:1])


def test_a_suspension_on_a_false_record_is_wrongful() -> None:
    model = _model(net={"suspension": 1.0, "detection": 0.0, "false_records_per_year": 5.0})
    rows = run_days(model, 5)
    burdens = model.rows["kind"] == KIND["burden"]
    assert burdens.sum() > 100
    assert (model.rows["origin"][burdens] == ORIGIN["false_match"]).all()
    assert not model.rows["truth"][burdens].any()
    assert total(rows, "accounts_suspended_wrongful") == int(burdens.sum())


def test_the_chill_is_measured_against_the_same_people_with_no_system() -> None:
    s = _model(censorship={"events": ["post"], "surveillance": 0.6}, size=5_000).params.scenario
    table = compare(s, against_none=True, days=20).set_index("figure")
    speech = table.loc["critical speech"]
    assert speech.b > speech.a > 0  # people speak less under the system
    assert no_system(s).behaviour.self_censorship.surveillance == 0.0


def test_friends_wariness_looked_up_in_chunks_equals_one_lookup(monkeypatch) -> None:
    model = Model.build(load_scenario("national-score", overrides={"population.size": SIZE}))
    model.state.people.wariness[:] = np.random.default_rng(2).integers(0, 4, SIZE)
    person = np.random.default_rng(3).integers(0, SIZE, 1_001)
    monkeypatch.setattr(chill, "FRIENDS_CHUNK", 64)
    chunked = chill._seen_among_friends(model, person, 8)
    monkeypatch.setattr(chill, "FRIENDS_CHUNK", 1 << 20)
    whole = chill._seen_among_friends(model, person, 8)
    assert chunked.dtype == whole.dtype == np.int64
    np.testing.assert_array_equal(chunked, whole)
    assert 0 < whole.max() <= 8
