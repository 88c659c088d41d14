"""Lists entered by grade take people in when their grade moves into the list's grades, so a list
whose grades hold the grade everyone starts in would miss the whole population on day 0; listing
them all would make its roster as large as the population (past the memory budget of
docs/architecture.md at national scale), so such a scenario is refused at load time with a clear
message."""

from __future__ import annotations

import pytest

from scsim.errors import ScenarioError
from scsim.scenario import load_scenario


@pytest.mark.parametrize(
    ("name", "listed", "start"),
    [("rongcheng", "green_channel", "A"), ("national-score", "redlist", "A")],
)
def test_a_list_entered_by_the_grade_everyone_starts_in_is_refused(name, listed, start) -> None:
    where = f"rulebook.lists.{listed}.enter_tiers"
    with pytest.raises(ScenarioError, match=f"holds '{start}', the grade everyone starts in"):
        load_scenario(name, overrides={where: ["AAA", start]})
    with pytest.raises(ScenarioError) as refused:
        load_scenario(name, overrides={where: [start]})
    assert where in str(refused.value) and "blocked_tiers or reward_tiers" in str(refused.value)


def test_a_list_entered_by_grades_nobody_starts_in_still_loads() -> None:
    aa = {"rulebook.lists.green_channel.enter_tiers": ["AA"]}
    assert load_scenario("rongcheng", overrides=aa).rulebook.lists["green_channel"].enter_tiers
    rich = {"rulebook.base": 1060}  # everyone starts in AAA: its green channel would hold all
    with pytest.raises(ScenarioError, match=r"holds 'AAA'.*base 1060"):
        load_scenario("rongcheng", overrides=rich)
    assert load_scenario("rongcheng", overrides=rich | aa).rulebook.base == 1060
