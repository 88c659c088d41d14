"""Each stage of the day on hand-built scenarios: what goes in, what must come out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bounds import within_poisson
from builders import run_days, scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from scsim.engine.components.behave import behave
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.engine.state import LOCKED, TAINTED, Calendar, Roster, list_bit

COURT_LIST = {"court": {"term_days": 1000}}
FLIGHT = {"flight": {"per_year": 365.0, "blocked_lists": ["court"], "retry": 0.0}}


def _rows(model: Model, kind: str) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    return {k: v[keep] for k, v in model.rows.items()}


def test_misidentified_person_is_sanctioned_and_traced() -> None:
    model = Model.build(
        scenario(
            behaviour={"events": {"default": {"per_year": 5.0}}},
            surveillance={
                "sensors": {
                    "court": {"events": ["default"], "detection": 1.0, "misattribution": 1.0}
                }
            },
            rulebook={
                "rules": {"default": {"points": -10, "enter_list": "court"}},
                "lists": COURT_LIST,
                "services": FLIGHT,
            },
        )
    )
    run_days(model, 10)
    records = _rows(model, "record")
    assert records["entity"].size > 0
    assert (records["origin"] == ORIGIN["misidentified"]).all()
    assert not records["truth"].any()
    roster = model.state.rosters[0]
    assert len(roster) > 0 and roster.wrongful.all()
    assert (model.state.people.flags[roster.ids] & TAINTED).all()
    blocked = _rows(model, "blocked")
    assert blocked["entity"].size > 0
    assert not blocked["truth"].any()  # every refusal rests on a false record


def test_household_spillover_charges_each_other_member_a_share() -> None:
    model = Model.build(
        scenario(
            behaviour={"events": {"post": {"per_year": 2.0}}},
            surveillance={"sensors": {"net": {"events": ["post"], "detection": 1.0}}},
            rulebook={"rules": {"post": {"points": -40, "spillover": {"household": 0.5}}}},
        )
    )
    run_days(model, 5)
    records = _rows(model, "record")
    own = records["origin"] == ORIGIN["detected"]
    spilled = records["origin"] == ORIGIN["association"]
    assert (records["delta"][spilled] == -20).all()
    start, size = model.params.pop.household(records["entity"][own])
    members = np.concatenate(
        [
            np.setdiff1d(np.arange(s, s + n), [p])
            for s, n, p in zip(start, size, records["entity"][own], strict=True)
        ]
    )
    assert np.array_equal(np.sort(records["entity"][spilled]), np.sort(members))


def test_deduction_is_reversed_when_its_window_closes() -> None:
    window, days = 7, 20
    model = Model.build(
        scenario(
            behaviour={"events": {"litter": {"per_year": 20.0}}},
            surveillance={"sensors": {"cam": {"events": ["litter"], "detection": 1.0}}},
            rulebook={"rules": {"litter": {"points": -5, "expires_after_days": window}}},
        )
    )
    run_days(model, days)
    records = _rows(model, "record")
    charged = (records["origin"] == ORIGIN["detected"]) & (records["day"] < days - window)
    reversed_ = records["origin"] == ORIGIN["expiry"]
    assert reversed_.sum() == charged.sum()
    assert (records["delta"][reversed_] == 5).all()
    assert np.array_equal(
        np.sort(records["entity"][reversed_]), np.sort(records["entity"][charged])
    )


def test_direct_grade_stays_locked_then_follows_the_score() -> None:
    lock = 6
    model = Model.build(
        scenario(
            behaviour={"events": {"drunk_driving": {"per_year": 3.0}}},
            surveillance={"sensors": {"police": {"events": ["drunk_driving"], "detection": 1.0}}},
            rulebook={
                "rules": {"drunk_driving": {"points": -1, "set_tier": "bad", "lock_days": lock}}
            },
        )
    )
    run_days(model, 20)
    tiers = _rows(model, "tier")
    graded = tiers["origin"] == ORIGIN["direct_grade"]
    released = tiers["origin"] == ORIGIN["lock_ended"]
    assert graded.sum() > 0 and released.sum() > 0
    first_grade = {}
    for person, day in zip(tiers["entity"][graded], tiers["day"][graded], strict=True):
        first_grade.setdefault(int(person), int(day))
    for person, day in zip(tiers["entity"][released], tiers["day"][released], strict=True):
        assert day >= first_grade[int(person)] + lock  # never released early
    locked = np.flatnonzero(model.state.people.flags & LOCKED)
    assert (model.state.people.tier[locked] == 1).all()
    assert len(model.state.locks) == locked.size


def test_listed_person_is_refused_every_time_they_try() -> None:
    model = Model.build(
        scenario(
            behaviour={"events": {"defy": {"per_year": 3.0}}},
            surveillance={"sensors": {"court": {"events": ["defy"], "detection": 1.0}}},
            rulebook={
                "rules": {"defy": {"points": 0, "enter_list": "court"}},
                "lists": COURT_LIST,
                "services": {
                    "flight": {
                        "per_year": 36.5,
                        "blocked_lists": ["court"],
                        "retry": 0.9,
                        "retry_mean_days": 1.0,
                    }
                },
            },
        )
    )
    rows = run_days(model, 30)
    blocked = _rows(model, "blocked")
    entries = _rows(model, "list_entry")
    entered = dict(zip(entries["entity"].tolist(), entries["day"].tolist(), strict=True))
    assert all(entered[p] <= d for p, d in zip(blocked["entity"], blocked["day"], strict=True))
    _, attempts = np.unique(blocked["entity"], return_counts=True)
    assert attempts.max() > 1  # a listed person who keeps trying is refused again
    assert sum(r["flight_blocked"] for r in rows) == blocked["entity"].size


def test_listing_ends_by_compliance_at_the_configured_rate_or_at_term() -> None:
    term, per_year = 15, 36.5  # daily chance 0.1
    model = Model.build(
        scenario(
            population={"size": 50_000},
            behaviour={"events": {"defy": {"per_year": 1.0}}},
            surveillance={"sensors": {"court": {"events": ["defy"], "detection": 1.0}}},
            rulebook={
                "rules": {"defy": {"points": 0, "enter_list": "court"}},
                "lists": {"court": {"term_days": term, "comply_per_year": per_year}},
            },
        )
    )
    run_days(model, 60)
    exits = _rows(model, "list_exit")
    entries = _rows(model, "list_entry")
    done = entries["day"] < 60 - term
    complied = np.isin(exits["origin"], [ORIGIN["complied"]])
    # P(comply before term) = 1 - (1 - 0.1)**(term - 1)
    expected = 1 - 0.9 ** (term - 1)
    n = int(done.sum())
    rate = complied[np.isin(exits["entity"], entries["entity"][done])].sum() / n
    assert abs(rate - expected) < 5 * math.sqrt(expected * (1 - expected) / n)
    listed = np.flatnonzero(model.state.people.flags & list_bit(0))
    assert np.array_equal(listed, model.state.rosters[0].ids)


def test_deterrence_thins_the_offences_of_the_wary() -> None:
    s = scenario(
        population={"size": 100_000},
        behaviour={
            "events": {"litter": {"per_year": 36.5}},
            "feedback": True,
            "deterrence": {"per_sanction": 0.5},
        },
        surveillance={"sensors": {"cam": {"events": ["litter"], "detection": 0.0}}},
        rulebook={"rules": {"litter": {"points": -1}}},
    )
    model = Model.build(s)
    model.state.people.wariness[: model.params.pop.size // 2] = 1
    counts = np.zeros(2)
    for day in range(20):
        events = behave(model, day)
        counts += np.bincount(events.person >= model.params.pop.size // 2, minlength=2)
    ratio = counts[0] / counts[1]
    sd = ratio * math.sqrt(1 / counts[0] + 1 / counts[1])
    assert abs(ratio - 0.5) < 5 * sd


def test_counterfactual_without_deterrence_draws_a_superset_of_events() -> None:
    common = {
        "population": {"size": 20_000},
        "surveillance": {"sensors": {"cam": {"events": ["litter"], "detection": 0.5}}},
        "rulebook": {"rules": {"litter": {"points": -1}}},
    }
    watched = Model.build(
        scenario(
            behaviour={
                "events": {"litter": {"per_year": 20.0}},
                "feedback": True,
                "deterrence": {"per_sanction": 0.9},
            },
            **common,
        )
    )
    free = Model.build(scenario(behaviour={"events": {"litter": {"per_year": 20.0}}}, **common))
    watched.state.people.wariness[::3] = 2
    a, b = behave(watched, 4), behave(free, 4)
    assert len(a) < len(b)
    assert np.isin(a.serial, b.serial).all()


def test_running_totals_agree_with_the_state() -> None:
    model = Model.build(
        scenario(
            behaviour={"events": {"litter": {"per_year": 10.0}, "help": {"per_year": 5.0}}},
            surveillance={
                "sensors": {
                    "cam": {
                        "events": ["litter", "help"],
                        "detection": 0.8,
                        "misattribution": 0.1,
                        "false_records_per_year": 1.0,
                    }
                }
            },
            rulebook={
                "rules": {
                    "litter": {"points": -60, "expires_after_days": 5},
                    "help": {"points": 20},
                }
            },
        )
    )
    rows = run_days(model, 25)
    assert np.array_equal(
        model.state.tier_counts, np.bincount(model.state.people.tier, minlength=2)
    )
    assert model.state.score_sum == int(model.state.people.score.astype(np.int64).sum())
    assert rows[-1]["tainted_people"] == int(np.count_nonzero(model.state.people.flags & TAINTED))


def test_roster_keeps_members_sorted_and_returns_those_due() -> None:
    roster = Roster()
    roster.add(
        np.array([9, 3, 5]),
        0,
        np.array([4, 2, 9]),
        np.zeros(3, np.uint8),
        np.array([False, True, False]),
    )
    roster.add(np.array([1]), 1, np.array([2]), np.zeros(1, np.uint8), np.array([False]))
    assert roster.ids.tolist() == [1, 3, 5, 9]
    due = roster.take_due(2)
    assert sorted(due["ids"].tolist()) == [1, 3]
    assert roster.ids.tolist() == [5, 9] and roster.until.tolist() == [9, 4]


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(
        st.lists(
            st.tuples(st.integers(0, 30), st.integers(1, 12), st.booleans()),
            max_size=8,
            unique_by=lambda member: member[0],
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_roster_extended_day_after_day_holds_what_a_dict_of_members_holds(
    days: list[list[tuple[int, int, bool]]],
) -> None:
    """The locks' roster: `extend` renews a member already here in place (entered today, the
    later exit, wrongful only if both were) and adds the others; `take_due` lets go those
    whose exit has come, however the earliest exit it keeps moved."""
    roster, members = Roster(), {}
    for day, entering in enumerate(days):
        entering = sorted(entering)
        ids = np.array([m[0] for m in entering], dtype=np.int64)
        until = np.array([day + m[1] for m in entering], dtype=np.int64)
        wrongful = np.array([m[2] for m in entering], dtype=bool)
        roster.extend(ids, day, until, wrongful)
        for person, stay, wrong in entering:
            old = members.get(person)
            exit_day = day + stay if old is None else max(day + stay, old[1])
            members[person] = (day, exit_day, wrong and (old is None or old[2]))
        due = roster.take_due(day + 1)
        gone = sorted(p for p, m in members.items() if m[1] <= day + 1)
        assert due["ids"].tolist() == gone
        for person in gone:
            del members[person]
        assert roster.ids.tolist() == sorted(members)
        assert roster.columns["entered"].tolist() == [members[p][0] for p in sorted(members)]
        assert roster.until.tolist() == [members[p][1] for p in sorted(members)]
        assert roster.wrongful.tolist() == [members[p][2] for p in sorted(members)]


roster_ops = st.lists(
    st.tuples(
        st.lists(  # locked today: (id, days, wrongful), unique ids
            st.tuples(st.integers(0, 40), st.integers(1, 9), st.booleans()),
            max_size=8,
            unique_by=lambda member: member[0],
        ),
        st.lists(st.integers(0, 40), max_size=4),  # released today (any, repeats, absent)
        st.lists(st.integers(0, 40), max_size=6),  # asked about today
        st.booleans(),  # whether someone reads the columns themselves today
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=80, deadline=None)
@given(days=roster_ops, compiled=st.booleans())
def test_a_roster_in_two_parts_answers_as_one_sorted_roster(
    days: list[tuple[list[tuple[int, int, bool]], list[int], list[int], bool]], compiled: bool
) -> None:
    """A roster keeps its newest members apart from RECENT_FROM members on (here from one,
    until they are half the rest): what a day asks of it (renewals, exits due, releases,
    membership, wrongfulness, entry days, those entered today) and its columns when read are
    those of one sorted roster, a dictionary of members here, on either path."""
    from scsim.engine import kernels, state

    saved = state.RECENT_FROM, state.RECENT_SHARE, kernels._every
    state.RECENT_FROM, state.RECENT_SHARE = 1, 2  # apart until they are half the rest
    kernels.switch(compiled)
    kernels._every = compiled
    try:
        roster, members = Roster(), {}
        for day, (entering, releasing, asked, read) in enumerate(days):
            entering = sorted(entering)
            ids = np.array([m[0] for m in entering], dtype=np.int64)
            until = np.array([day + m[1] for m in entering], dtype=np.int64)
            roster.extend(ids, day, until, np.array([m[2] for m in entering], dtype=bool))
            for person, stay, wrong in entering:
                old = members.get(person)
                exit_day = day + stay if old is None else max(day + stay, old[1])
                members[person] = (day, exit_day, wrong and (old is None or old[2]))
            ask = np.array(asked, dtype=np.int64)
            assert roster.contains(ask).tolist() == [p in members for p in asked]
            assert roster.wrongful_of(ask).tolist() == [members.get(p, (0, 0, 0))[2] for p in asked]
            assert roster.entered_of(ask).tolist() == [members.get(p, (-1,))[0] for p in asked]
            today = roster.entered_on(day)
            assert today["ids"].tolist() == sorted(p for p, m in members.items() if m[0] == day)
            gone = roster.take_ids(np.array(releasing, dtype=np.int64))
            assert gone["ids"].tolist() == sorted(set(releasing) & set(members))
            assert gone["until"].tolist() == [members[p][1] for p in gone["ids"].tolist()]
            for person in gone["ids"].tolist():
                del members[person]
            due = roster.take_due(day + 1)
            assert due["ids"].tolist() == sorted(p for p, m in members.items() if m[1] <= day + 1)
            assert due["wrongful"].tolist() == [members[p][2] for p in due["ids"].tolist()]
            for person in due["ids"].tolist():
                del members[person]
            assert len(roster) == len(members)
            if read or day == len(days) - 1:
                assert roster.ids.tolist() == sorted(members)
                assert roster.columns["entered"].tolist() == [
                    members[p][0] for p in sorted(members)
                ]
                assert roster.until.tolist() == [members[p][1] for p in sorted(members)]
                assert roster.wrongful.tolist() == [members[p][2] for p in sorted(members)]
                assert len(roster._parts()) == 1  # read: merged into one
    finally:
        state.RECENT_FROM, state.RECENT_SHARE, kernels._every = saved
        kernels.switch(False)


def test_a_large_roster_keeps_its_newest_apart_until_they_are_an_eighth() -> None:
    """The newest members of a roster of RECENT_FROM or more are merged into the rest only once
    they outnumber an eighth of it: a nation's day does not copy its 15 million locks."""
    from scsim.engine.state import RECENT_FROM, RECENT_SHARE

    roster = Roster()
    rest = np.arange(0, 2 * RECENT_FROM, 2, dtype=np.int64)  # RECENT_FROM members, even ids
    none = np.zeros(rest.size, np.uint8)
    roster.add(rest, 0, rest % 7, none, rest % 3 == 0, ordered=True)
    newest = np.arange(1, 2 * (RECENT_FROM // RECENT_SHARE) + 1, 2, dtype=np.int64)  # an eighth
    for day, ids in enumerate(np.array_split(newest, 4), start=1):
        roster.extend(ids, day, ids % 5 + day, ids % 4 == 1)
        assert len(roster._parts()) == 2 and len(roster) == rest.size + len(roster._recent)
    assert len(roster._recent) == newest.size
    assert roster.wrongful_of(newest).tolist() == (newest % 4 == 1).tolist()
    roster.extend(np.array([2 * RECENT_FROM + 1]), 9, np.array([30]), np.array([False]))
    assert len(roster._parts()) == 1  # one past an eighth: merged
    assert roster.ids.tolist() == sorted([*rest.tolist(), *newest.tolist(), 2 * RECENT_FROM + 1])


def test_calendar_returns_work_on_its_day_only_once() -> None:
    calendar = Calendar()
    calendar.schedule("retry", np.array([3, 1, 3]), person=np.array([7, 8, 9]))
    empty = {"person": np.int64}
    assert calendar.due("retry", 2, empty)["person"].size == 0
    assert sorted(calendar.due("retry", 3, empty)["person"].tolist()) == [7, 9]
    assert calendar.due("retry", 3, empty)["person"].size == 0
    assert calendar.pending() == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), max_size=30), min_size=1, max_size=5))
def test_a_calendar_gives_the_same_rows_whether_it_keeps_views_or_copies(
    batches: list[list[int]],
) -> None:
    """Few rows scheduled at once are kept as views of one ordered copy, many as a copy per
    day: the rows each day gets, and their order, must not depend on which, and what `due`
    gives is never a view of what was scheduled (a caller may write to either)."""
    import scsim.engine.state as state

    calendars = {}
    for viewed in (0, 1_000):
        state_viewed, state.VIEWED = state.VIEWED, viewed
        try:
            calendar = Calendar()
            for k, days in enumerate(batches):
                person = np.arange(len(days), dtype=np.int64) + 100 * k
                calendar.schedule("retry", np.array(days, dtype=np.int64), person=person)
            calendars[viewed] = calendar
        finally:
            state.VIEWED = state_viewed
    empty = {"person": np.int64}
    for day in range(10):
        copied, viewed = (calendars[v].due("retry", day, empty)["person"] for v in (0, 1_000))
        assert copied.tolist() == viewed.tolist()
        assert viewed.base is None or viewed.base.size == viewed.size  # its own, not a view


def test_without_household_spillover_only_the_recorded_person_pays() -> None:
    # Spill-over is a share per rule, 0 by default: then no association row, and every score
    # moves by its holder's own records alone; the own records are those of a run that spills
    # (spill-over draws nothing).
    def run(household: float) -> Model:
        model = Model.build(
            scenario(
                behaviour={"events": {"post": {"per_year": 2.0}}},
                surveillance={"sensors": {"net": {"events": ["post"], "detection": 1.0}}},
                rulebook={
                    "rules": {"post": {"points": -40, "spillover": {"household": household}}}
                },
            )
        )
        run_days(model, 5)
        return model

    off, on = run(0.0), run(0.5)
    records = _rows(off, "record")
    assert records["entity"].size > 100
    assert (records["origin"] == ORIGIN["detected"]).all()
    owed = np.bincount(records["entity"], weights=records["delta"], minlength=off.params.pop.size)
    assert np.array_equal(off.state.people.score.astype(np.int64) - 1000, owed.astype(np.int64))
    spilled = _rows(on, "record")
    own = spilled["origin"] == ORIGIN["detected"]
    assert (spilled["origin"] == ORIGIN["association"]).sum() > 0
    assert np.array_equal(spilled["entity"][own], records["entity"])


def test_without_a_direct_grade_the_grade_follows_the_score_every_day() -> None:
    # No set_tier: a deduction (1000 - 120, below good's 900) moves the grade that day, by
    # the score ("score" rows), its reversal moves it back, and nobody is graded directly or
    # locked.
    model = Model.build(
        scenario(
            behaviour={"events": {"drunk_driving": {"per_year": 3.0}}},
            surveillance={"sensors": {"police": {"events": ["drunk_driving"], "detection": 1.0}}},
            rulebook={"rules": {"drunk_driving": {"points": -120, "expires_after_days": 4}}},
        )
    )
    for day in range(15):
        row = model.step(day)
        assert np.array_equal(
            model.state.people.tier, model.rules.host_plan.tier_of(model.state.people.score)
        )
        assert row["locked"] == 0
    tiers = model.ledger.drain()
    grades = tiers["origin"][tiers["kind"] == KIND["tier"]]
    assert grades.size > 100 and (grades == ORIGIN["score"]).all()
    assert not (model.state.people.flags & LOCKED).any()


def test_a_direct_grade_is_locked_for_exactly_lock_days() -> None:
    # A record of drunk driving (1 point) sets grade bad and locks it for `lock` days; its score
    # alone would keep grade good. So a person is locked at the end of day t exactly when they
    # have a record on one of the days t - lock + 1 .. t (a later record extends the lock), and
    # one recorded once is released, back to good, exactly `lock` days after.
    lock, days = 6, 20
    model = Model.build(
        scenario(
            behaviour={"events": {"drunk_driving": {"per_year": 3.0}}},
            surveillance={"sensors": {"police": {"events": ["drunk_driving"], "detection": 1.0}}},
            rulebook={
                "rules": {"drunk_driving": {"points": -1, "set_tier": "bad", "lock_days": lock}}
            },
        )
    )
    rows = run_days(model, days)
    records, tiers = _rows(model, "record"), _rows(model, "tier")
    for t, row in enumerate(rows):
        recent = (records["day"] > t - lock) & (records["day"] <= t)
        assert row["locked"] == np.unique(records["entity"][recent]).size
    once, times = np.unique(records["entity"], return_counts=True)
    once = once[times == 1]
    day_of = dict(zip(records["entity"].tolist(), records["day"].tolist(), strict=True))
    released = tiers["origin"] == ORIGIN["lock_ended"]
    ended = dict(
        zip(tiers["entity"][released].tolist(), tiers["day"][released].tolist(), strict=True)
    )
    due = [p for p in once.tolist() if day_of[p] + lock < days]
    assert len(due) > 100
    assert all(ended[p] == day_of[p] + lock for p in due)
    assert (tiers["delta"][released] == -1).all()  # back to good, the better grade


@pytest.mark.parametrize(
    ("surveillance", "feedback", "factor"), [(0.0, True, 1.0), (0.5, False, 1.0), (0.5, True, 0.65)]
)
def test_perceived_surveillance_thins_punished_offences_by_the_chance_of_a_record(
    surveillance: float, feedback: bool, factor: float
) -> None:
    # behave.expected_events: a punished offence's rate is multiplied by
    # 1 - surveillance x P(recorded), P(recorded) = 1 - prod over the sensors watching it of
    # (1 - coverage x detection). Littering is watched by cameras (0.8 x 0.5) and police
    # (1 x 0.5): P = 1 - 0.6 x 0.5 = 0.7, so at 0.5 it falls to 0.65 of its rate. Helping, a
    # merit no rule punishes, is watched alike and keeps its rate; so does everything without
    # feedback or at 0. Counts of a day are Poisson.
    days, per_year, size = 5, 36.5, 20_000
    model = Model.build(
        scenario(
            population={"size": size},
            behaviour={
                "events": {
                    "litter": {"per_year": per_year},
                    "help": {"per_year": per_year, "offence": False},
                },
                "feedback": feedback,
                "deterrence": {"surveillance": surveillance},
            },
            surveillance={
                "sensors": {
                    "cameras": {
                        "events": ["litter", "help"],
                        "coverage_urban": 0.8,
                        "detection": 0.5,
                    },
                    "police": {"events": ["litter"], "detection": 0.5},
                }
            },
            rulebook={"rules": {"litter": {"points": -5}, "help": {"points": 5}}},
        )
    )
    counts = sum(np.bincount(behave(model, day).column, minlength=2) for day in range(days))
    mean = size * per_year / 365 * days
    within_poisson(int(counts[0]), mean * factor)
    within_poisson(int(counts[1]), mean)
