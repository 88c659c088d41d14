"""The rosters of the acting grades hold exactly the people the grade column puts there."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scsim.engine.members import Members
from scsim.engine.model import Model
from scsim.scenario import load_scenario

GRADES = 4  # grade 0 is the starting grade; 1-3 keep rosters


def _assert_rosters_match(members: Members, tier: np.ndarray, lo: int, hi: int) -> None:
    for t in members.grades:
        expected = lo + np.flatnonzero(tier[lo:hi] == t)
        assert np.array_equal(members.of(t, tier), expected), f"grade {t}"


moves = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.lists(st.integers(0, 199), max_size=40), st.integers(0, 3)),
        st.tuples(st.just("told"), st.lists(st.integers(0, 199), max_size=40), st.integers(0, 5)),
        st.tuples(st.just("clear"), st.integers(0, 199), st.integers(0, 60)),
        st.tuples(st.just("read"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(moves)
def test_rosters_follow_any_sequence_of_grade_moves_and_clears(steps: list) -> None:
    """Moves touched in any order and with repeats (with the grades before and after, or not;
    grades 4 and 5 have no roster), read now and then, and ranges sent back to the starting
    grade: every read gives each grade's holders, ascending."""
    tier = np.zeros(200, dtype=np.uint8)
    members = Members.fresh(np.array([False, True, True, True, False, False]))
    for kind, a, b in steps:
        if kind in ("move", "told"):
            who = np.array(a, dtype=np.int64)
            before = tier[who].copy()
            tier[who] = b
            if kind == "move":
                members.touch(who)
            else:
                members.touch(who, before, np.full(who.size, b, dtype=np.uint8))
        elif kind == "clear":
            tier[a : a + b] = 0
            members.clear(a, a + b)
        else:
            _assert_rosters_match(members, tier, 0, tier.size)
    _assert_rosters_match(members, tier, 0, tier.size)


def test_a_checkpoint_keeps_the_moves_not_yet_read() -> None:
    tier = np.zeros(50, dtype=np.uint8)
    members = Members.fresh(np.array([False, True, True]))
    tier[[3, 9, 20]] = [1, 2, 1]
    members.touch(np.array([3, 9, 20]))
    members.of(1, tier)
    tier[[9, 30]] = [1, 2]
    members.touch(np.array([9, 30]))  # not read before the checkpoint
    restored = Members.from_arrays(members.to_arrays())
    assert restored.grades == [1, 2]
    _assert_rosters_match(restored, tier, 0, tier.size)


PILOTS = ["Rongcheng/AAA", "Rongcheng/AA", "Wendeng/AAA", "Wendeng/D", "Weihai/AAA"]
PILOTS += ["Weihai/AA", "Suining/D", "Xiamen/rewarded", "Fuzhou/rewarded"]  # not Suining/A: a base


@pytest.mark.parametrize(
    ("name", "rostered", "days"),
    [
        ("national-score", ["AAA", "AA", "B", "C", "D"], 120),
        ("rongcheng", ["AAA", "AA", "D"], 120),
        ("sesame", ["excellent_750", "excellent", "very_good", "medium", "poor"], 120),
        ("western-credit", ["exceptional", "fair", "poor"], 120),
        ("pilots", PILOTS, 731),  # places begin (their people sent to base), consent asked
    ],
)
def test_builtin_rosters_hold_the_holders_of_their_acting_grades_day_after_day(
    name: str, rostered: list[str], days: int
) -> None:
    """The grades that refuse, reward, sell points to or burden their holders, less the
    starting grades, keep rosters; after every day they match a pass over the grades."""
    model = Model.build(load_scenario(name, overrides={"population.size": 20_000}))
    tiers = list(model.rules.host_plan.tiers)
    assert [tiers[t] for t in np.flatnonzero(model.params.rostered)] == rostered
    held = 0
    for day in range(days):
        model.step(day)
        model.ledger.discard()
        if day % (days // 17) == 3:
            _assert_rosters_match(model.state.members, model.state.people.tier, 0, 20_000)
            held = max(
                held, sum(len(model.state.members.rosters[t]) for t in model.state.members.grades)
            )
    assert held > 0  # someone moved into an acting grade: the check saw rosters at work
