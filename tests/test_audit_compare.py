"""`scsim compare`: two scenarios on the same seeds, paired differences with 95% intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from bounds import within_binomial
from builders import scenario
from conftest import cli, leftovers

import scsim
from scsim.audit.comparison import NO_PERCENTAGE, t_interval, t_quantile
from scsim.experiments.compare import no_system
from scsim.scenario import Scenario, load_scenario

DAYS = "30"


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(tiny_file: Path) -> None:
    table = scsim.compare(tiny_file, tiny_file, seeds=2, days=30)
    assert table.attrs["seeds"] == [7, 8]
    assert (table.difference == 0).all()
    assert (table.low == 0).all() and (table.high == 0).all()
    assert (table.a == table.b).all()
    figures = set(table.figure)
    assert {"true events", "listing entries: court_blacklist", "blocked: flight"} <= figures
    assert {"people with a false record", "mean final score"} <= figures
    assert table.set_index("figure").loc["blocked: train", "a"] > 0  # not zero for lack of data


def test_compare_command_prints_the_table_and_writes_json_and_html(
    tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    outcome = cli("compare", str(tiny_file), str(tiny_file), "--days", DAYS, "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    assert "scsim compare: A = tiny, B = tiny, 1 seed" in outcome.stdout
    assert "one seed: the difference only, no interval" in outcome.stdout
    document = json.loads((out / "compare.json").read_text())
    assert document["seeds"] == [7] and document["difference"] == "a - b"
    assert all(row["difference"] == 0 and row["low"] is None for row in document["figures"])
    assert (out / "compare.html").read_text().count("<table>") == 1
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["a-seed-7", "b-seed-7"]
    assert leftovers(out) == []


def test_a_comparison_states_its_conditions_on_the_terminal_in_json_and_html(
    tiny_file: Path, tmp_path: Path
) -> None:
    """Population, days, seeds and which scenario texts ran, wherever the figures appear; a
    row whose B is 0 says why it has no percentage instead of leaving a blank."""
    out = tmp_path / "cmp"
    outcome = cli(
        "compare",
        str(tiny_file),
        "--against-none",
        "--days",
        DAYS,
        "--seeds",
        "2",
        "--out",
        str(out),
    )
    assert outcome.exit_code == 0, outcome.text
    document = json.loads((out / "compare.json").read_text())
    conditions = document["conditions"]
    assert conditions["seeds"] == [7, 8]
    assert conditions["a"]["population"] == conditions["b"]["population"] == 20_000
    assert conditions["a"]["days"] == 30 and conditions["b"]["scenario"] == "tiny-none"
    digest = conditions["a"]["scenario_sha256"]
    assert len(digest) == 64 and digest != conditions["b"]["scenario_sha256"]
    said = "20,000 people for 30 days, 2 seeds, 7 to 8. A is tiny (scenario sha256 " + digest[:12]
    assert said in " ".join(outcome.stdout.split())
    page = (out / "compare.html").read_text()
    assert said in page
    blocked = next(row for row in document["figures"] if row["figure"] == "blocked: flight")
    assert blocked["percent_of_b"] is None and blocked["percent_note"] == NO_PERCENTAGE
    assert NO_PERCENTAGE in page and "Not in the chart, as B is 0" in page
    events = next(row for row in document["figures"] if row["figure"] == "true events")
    assert events["percent_of_b"] == pytest.approx(100 * events["difference"] / events["b"])
    assert events["percent_note"] == ""


def test_against_none_compares_with_a_rulebook_that_does_nothing(tiny_file: Path) -> None:
    table = scsim.compare(tiny_file, against_none=True, seeds=1, days=30).set_index("figure")
    assert table.attrs["b"] == "tiny-none"
    for figure in ("listing entries: court_blacklist", "blocked: flight", "blocked: train"):
        assert table.loc[figure, "b"] == 0
        assert table.loc[figure, "difference"] == table.loc[figure, "a"] > 0
    assert table.loc["people with a false record", "b"] == 0
    assert table.loc["mean final score", "b"] == 1000
    assert math.isnan(table.loc["true events", "low"])


def test_a_list_filled_by_grade_is_compared_with_none_taking_nobody_in() -> None:
    """rongcheng's green channel takes in people who reach AAA; with no system it takes in
    nobody, and the comparison says so (the counterfactual has no such column to sum)."""
    table = scsim.compare("rongcheng", against_none=True, seeds=1, population=20_000)
    row = table.set_index("figure").loc["entries by grade: green_channel"]
    assert row["b"] == 0
    assert row["difference"] == row["a"] > 0


def test_no_system_zeroes_every_rule_and_frees_every_service() -> None:
    none = no_system(load_scenario("rongcheng"))
    assert none.name == "rongcheng-none"
    for rule in none.rulebook.rules.values():
        assert (rule.points, rule.set_tier, rule.lock_days, rule.enter_list) == (0, None, 0, None)
    for service in none.rulebook.services.values():
        assert service.blocked_lists == service.blocked_tiers == service.reward_tiers == []
    assert none.population == load_scenario("rongcheng").population


def test_no_system_undoes_what_a_dated_change_would_switch_on() -> None:
    """court-list-history blocks flights from a change of July 2014; a change may also set a
    rule's points or a grade's refusals: the counterfactual has none of it, from any date."""
    later = {
        "rulebook.changes": [
            {"day": 5, "rules": {"able_but_refuses": {"points": -50, "enter_list": "court_list"}}},
            {"day": 9, "services": {"flight": {"blocked_lists": ["court_list"], "retry": 0.5}}},
        ]
    }
    none = no_system(load_scenario("court-blacklist", overrides=later))
    first, second = none.rulebook.changes
    assert first.rules == {"able_but_refuses": {"points": 0}}
    assert second.services == {"flight": {"blocked_lists": [], "retry": 0.5}}  # demand stays
    changes = no_system(load_scenario("court-list-history")).rulebook.changes
    assert not any(s.get("blocked_lists") for c in changes for s in c.services.values())


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706205), (2, 4.302653), (4, 2.776445), (9, 2.262157), (30, 2.042272)],
)
def test_t_quantile_matches_the_tables(df: int, expected: float) -> None:
    assert t_quantile(0.95, df) == pytest.approx(expected, abs=1e-6)


def test_t_quantile_tends_to_the_normal() -> None:
    assert t_quantile(0.95, 10_000) == pytest.approx(1.960201, abs=1e-5)


def test_t_interval_of_one_pair_has_no_bounds_and_of_several_is_symmetric() -> None:
    mean, low, high = t_interval(np.array([3.0]))
    assert mean == 3.0 and math.isnan(low) and math.isnan(high)
    mean, low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert high - mean == pytest.approx(t_quantile(0.95, 2) * 1.0 / math.sqrt(3))
    assert mean - low == pytest.approx(high - mean)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rongcheng",), "give B, or --against-none"),
        (("rongcheng", "rongcheng", "--against-none"), "not both"),
        (("rongcheng", "rongcheng", "--seeds", "0"), "at least 1"),
        (("rongcheng", "no-such-scenario"), "no-such-scenario"),
        (("rongcheng", "rongcheng", "--population", "0"), "--population 0: population.size"),
        (("rongcheng", "--against-none", "--days", "0"), "--days 0: run.days"),
    ],
)
def test_compare_refuses_with_one_line_and_exit_code_2(args: tuple[str, ...], message: str) -> None:
    outcome = cli("compare", *args)
    assert outcome.exit_code == 2
    assert message in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_compare_will_not_overwrite_without_force(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    outcome = cli("compare", str(tiny_file), "--against-none", "--out", str(out))
    assert outcome.exit_code == 2
    assert "exists" in outcome.stderr
    assert list(out.iterdir()) == []


def test_compare_force_replaces_only_a_comparison(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    outcome = cli("compare", str(tiny_file), "--against-none", "--out", str(out), "--force")
    assert outcome.exit_code == 2
    assert "compare.json" in outcome.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


# ---------------------------------------------------------------- the chilling effect

WATCHED, DETECTION, CHILL_PEOPLE, CHILL_DAYS = 0.6, 0.5, 5_000, 30


def _speaking(watched: float) -> Scenario:
    """Posts (critical speech, unpunished) watched by a sensor; thefts punished and deterred,
    so the two runs of a comparison draw different thefts but, by common random numbers, the
    same posts."""
    return scenario(
        population={"size": CHILL_PEOPLE},
        run={"days": CHILL_DAYS},
        behaviour={
            "events": {"post": {"per_year": 12.0}, "theft": {"per_year": 6.0}},
            "feedback": True,
            "deterrence": {"surveillance": 0.5, "per_sanction": 0.3},
            "self_censorship": {"events": ["post"], "surveillance": watched},
        },
        surveillance={
            "sensors": {
                "net": {"events": ["post"], "detection": DETECTION},
                "cam": {"events": ["theft"], "detection": 0.5},
            }
        },
        rulebook={"rules": {"theft": {"points": -200}}},
    )


def test_self_censorship_chills_speech_against_no_system_within_binomial_bounds(
    tmp_path: Path,
) -> None:
    table = scsim.compare(_speaking(WATCHED), against_none=True, seeds=2, out=tmp_path / "c")
    effect = table.attrs["chilling_effect"]
    assert effect["difference"] < 0 and effect["high"] < 0  # people speak less under the system
    for pair in table.attrs["per_seed"]:
        spoken, free = pair["a"]["critical speech"], pair["b"]["critical speech"]
        within_binomial(free - spoken, free, WATCHED * DETECTION)  # each post held back so
    assert effect["relative"] == pytest.approx(-WATCHED * DETECTION, abs=0.05)
    rate = table.set_index("figure").loc["critical speech per 1,000 people a year"]
    person_years = CHILL_PEOPLE * CHILL_DAYS / 365
    assert rate.b == pytest.approx(
        1000 * table.set_index("figure").loc["critical speech"].b / person_years
    )
    assert json.loads((tmp_path / "c" / "compare.json").read_text())["chilling_effect"] == {
        key: pytest.approx(value) for key, value in effect.items()
    }
    assert "<h2>Chilling effect</h2>" in (tmp_path / "c" / "compare.html").read_text()


def test_without_self_censorship_the_chilling_effect_is_exactly_zero() -> None:
    table = scsim.compare(_speaking(0.0), against_none=True, seeds=2)
    effect = table.attrs["chilling_effect"]
    assert (effect["difference"], effect["low"], effect["high"]) == (0, 0, 0)
    assert effect["relative"] == 0 and effect["rate_a"] > 0
    figures = table.set_index("figure")
    assert figures.loc["true events", "difference"] < 0  # the system deters thefts, not posts


def test_a_comparison_without_critical_speech_has_no_chilling_effect(tiny_file: Path) -> None:
    table = scsim.compare(tiny_file, against_none=True, days=10)
    assert table.attrs["chilling_effect"] is None
    assert "critical speech per 1,000 people a year" not in set(table.figure)
