"""The audit's metrics on hand-built ledgers with answers known by hand, and on a real run,
where the rebuilt stocks must equal the engine's own daily metrics."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from audit_ledgers import DAYS, RAW, STORY, blocks, write_run
from conftest import TinyRun

import scsim
from scsim.audit import (
    daily_by_group,
    disparate_impact,
    fairness,
    gini,
    list_sizes,
    refusal_gini,
    refusals_by_cause,
    rewards,
    sanctions,
    tier_flows,
    tier_shares,
    wrongful_by_mechanism,
    wrongful_sanctions,
    wrongly_listed,
)
from scsim.audit.fairness import too_small
from scsim.audit.inequality import gini_of_histogram
from scsim.audit.run import GroupError, NotARunError, open_run


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    return write_run(tmp_path / "hand", STORY)


# ---------------------------------------------------------------- grades and lists


def test_tier_shares_move_people_from_the_old_grade_to_the_new(hand: Path) -> None:
    everyone = tier_shares(hand).pivot(index="day", columns="tier", values="people")
    assert everyone["bad"].tolist() == [1, 2, 3, 3, 2]
    assert everyone["good"].tolist() == [99, 98, 97, 97, 98]
    by_class = tier_shares(hand, by="class").query("day == 2 and tier == 'bad'")
    assert dict(zip(by_class.group, by_class.people, strict=True)) == {"careful": 2, "reckless": 1}
    assert by_class.share.tolist() == [2 / 50, 1 / 50]


def test_tier_flows_count_moves_from_old_to_new_grade(hand: Path) -> None:
    flows = tier_flows(hand)
    assert flows.to_dict("records") == [
        {"old": "good", "new": "bad", "moves": 3},
        {"old": "bad", "new": "good", "moves": 1},
    ]


def test_list_sizes_add_entries_and_take_away_exits(hand: Path) -> None:
    assert list_sizes(hand)["size"].tolist() == [1, 2, 3, 2, 1]
    by_area = list_sizes(hand, by="area").pivot(index="day", columns="group", values="size")
    assert by_area["urban"].tolist() == [1, 1, 1, 0, 0]
    assert by_area["rural"].tolist() == [0, 1, 2, 2, 1]


# ---------------------------------------------------------------- sanctions and rewards


def test_sanctions_count_every_refusal_per_day_group_and_service(hand: Path) -> None:
    daily = sanctions(hand)
    assert set(daily.service) == {"train", "loan"}  # bonus only rewards: it refuses nobody
    totals = daily.groupby("service")[["blocked", "wrongful"]].sum()
    assert totals.loc["train"].tolist() == [4, 3]
    assert totals.loc["loan"].tolist() == [1, 1]
    assert len(daily) == DAYS * 2
    by_class = sanctions(hand, by="class").groupby("group").blocked.sum()
    assert by_class.to_dict() == {"careful": 4, "reckless": 1}


def test_refusals_by_cause_count_each_list_and_grade(hand: Path) -> None:
    causes = refusals_by_cause(hand).fillna({"refused_by": ""})
    assert causes.values.tolist() == [
        ["loan", "tier", "bad", 1, 1],
        ["train", "list", "blacklist", 2, 2],
        ["train", "list", "", 2, 1],  # the hand-built rows of 3 and 80 name no list
    ]


def test_refusals_by_cause_add_up_to_the_engines_counts(tiny_run: TinyRun) -> None:
    metrics = pd.read_parquet(tiny_run.path / "metrics.parquet")
    causes = refusals_by_cause(tiny_run.path)
    assert causes.refused_by.notna().all()  # the engine names every cause
    totals = causes.groupby("service")[["blocked", "wrongful"]].sum()
    for service, row in totals.iterrows():
        assert row.blocked == metrics[f"{service}_blocked"].sum()
        assert row.wrongful == metrics[f"{service}_blocked_wrongful"].sum()


def test_daily_by_group_counts_sanctions_listings_and_the_listed_per_day(hand: Path) -> None:
    daily = daily_by_group(hand, by="area").set_index(["group", "day"])
    rural, urban = daily.loc["rural"], daily.loc["urban"]
    assert rural.sanctions.tolist() == [0, 0, 2, 2, 0]
    assert rural.wrongful_sanctions.tolist() == [0, 0, 2, 2, 0]
    assert rural.listings.tolist() == rural.wrongful_listings.tolist() == [0, 1, 1, 0, 0]
    assert rural.listed.tolist() == [0, 1, 2, 2, 1]  # 80 leaves on day 4
    assert urban.sanctions.tolist() == [0, 0, 1, 0, 0] and urban.wrongful_sanctions.sum() == 0
    assert urban.listings.tolist() == [1, 0, 0, 0, 0] and urban.wrongful_listings.sum() == 0
    assert urban.listed.tolist() == [1, 1, 1, 0, 0]  # 3 complies on day 3
    assert set(daily.people) == {50}
    everyone = daily_by_group(hand)
    assert everyone.group.unique().tolist() == ["all"] and everyone.people.unique().tolist() == [
        100
    ]
    assert everyone.listed.tolist() == list_sizes(hand)["size"].tolist()


def test_rewards_come_from_the_daily_metrics_only(hand: Path) -> None:
    assert rewards(hand).to_dict("list") == {
        "day": list(range(DAYS)),
        "service": ["bonus"] * DAYS,
        "rewards": [0, 2, 4, 6, 8],
    }


# ---------------------------------------------------------------- wrongful sanctions


def test_wrongful_sanctions_are_traced_to_the_first_harmful_false_record(hand: Path) -> None:
    rows = wrongful_sanctions(hand)
    assert rows[["day", "person", "service", "mechanism"]].values.tolist() == [
        [2, 60, "train", "misidentified"],
        [2, 60, "loan", "misidentified"],
        [3, 60, "train", "misidentified"],
        # person 80's first false record (a false match) gave points: it marked no one
        [3, 80, "train", "association"],
    ]
    assert rows.false_record_day.tolist() == [1, 1, 1, 1]
    assert rows.reason.tolist() == ["list", "tier", "list", "list"]
    assert rows.refused_by.fillna("").tolist() == [
        "blacklist",
        "bad",
        "blacklist",
        "",
    ]  # 80: unnamed
    # 60 was listed on the misidentified theft; 80 on a theft of their own
    assert rows.listed_on_false_record.tolist() == [True, pd.NA, True, False]


def test_wrongful_by_mechanism_fills_every_day_group_and_mechanism(hand: Path) -> None:
    daily = wrongful_by_mechanism(hand)
    assert len(daily) == DAYS * 3
    assert daily.groupby("mechanism").sanctions.sum().to_dict() == {
        "association": 1,
        "false_match": 0,
        "misidentified": 3,
    }
    by_class = wrongful_by_mechanism(hand, by="class").query("sanctions > 0")
    assert by_class[["day", "group", "mechanism", "sanctions"]].values.tolist() == [
        [2, "careful", "misidentified", 2],
        [3, "careful", "misidentified", 1],
        [3, "reckless", "association", 1],
    ]


def test_a_wrongful_row_without_a_false_record_is_called_unknown(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [(0, 5, "blocked", "train", 0, "", "list", False)])
    assert wrongful_sanctions(run).mechanism.tolist() == ["unknown"]
    assert "unknown" in set(wrongful_by_mechanism(run).mechanism)


def test_days_wrongly_listed_run_to_the_exit_or_to_the_end(hand: Path) -> None:
    spells = wrongly_listed(hand)
    assert spells[["person", "entered", "exit", "days"]].values.tolist() == [
        [60, 1, "still listed", DAYS - 1],
        [80, 2, "term_ended", 2],
    ]
    assert pd.isna(spells["left"].iloc[0]) and spells["left"].iloc[1] == 4


def test_the_kth_exit_closes_the_kth_entry(tmp_path: Path) -> None:
    rows = [
        (0, 7, "list_entry", "blacklist", 0, "", "record", False),
        (1, 7, "list_exit", "blacklist", 0, "", "complied", False),
        (1, 7, "list_entry", "blacklist", 0, "", "record", False),  # back the same day
        (3, 7, "list_exit", "blacklist", 0, "", "term_ended", False),
    ]
    spells = wrongly_listed(write_run(tmp_path / "run", rows))
    assert spells[["entered", "left", "days"]].values.tolist() == [[0, 1, 1], [1, 3, 2]]


# ---------------------------------------------------------------- fairness and inequality


def test_disparate_impact_divides_each_rate_by_the_lowest(hand: Path) -> None:
    table = disparate_impact(hand, by="area", min_expected=0).set_index("group")
    assert table.sanctions.to_dict() == {"urban": 1, "rural": 4}
    assert table.sanction_rate.to_dict() == {"urban": 1 / 50, "rural": 4 / 50}
    assert table.ratio_to_lowest.to_dict() == {"urban": 1.0, "rural": 4.0}
    assert table.four_fifths.to_dict() == {"urban": False, "rural": True}
    assert table.sanctioned.to_dict() == {"urban": 1, "rural": 2}


@pytest.mark.parametrize(("urban", "rural", "flagged"), [(8, 10, False), (7, 10, True)])
def test_four_fifths_is_exact_at_the_boundary(
    tmp_path: Path, urban: int, rural: int, flagged: bool
) -> None:
    # 8/50 over 10/50 is 0.8 exactly, though 0.16 / 0.2 is a hair below 0.8 in floats
    table = disparate_impact(
        write_run(tmp_path / "run", blocks({"urban": urban, "rural": rural})),
        by="area",
        min_expected=0,
    )
    assert table.four_fifths.tolist() == [False, flagged]


def test_a_group_never_sanctioned_makes_every_other_group_infinitely_worse(tmp_path: Path) -> None:
    """Where the group never sanctioned is large enough to be the reference (no minimum)."""
    run = write_run(tmp_path / "run", blocks({"rural": 3}))
    table = disparate_impact(run, by="area", min_expected=0)
    assert table.ratio_to_lowest.tolist() == [1.0, math.inf]
    assert table.four_fifths.tolist() == [False, True]


def test_a_group_too_small_to_expect_anyone_refused_is_not_the_reference(tmp_path: Path) -> None:
    """Three refused in 50 rural people, none in 50 urban: at the overall share (3 in 100),
    each group expects 1.5 people refused, too few for a zero to mean anything. Every group
    is too small; none is the reference, so no ratio is infinite and nothing is flagged."""
    table = disparate_impact(write_run(tmp_path / "run", blocks({"rural": 3})), by="area")
    assert table.too_small.all() and not table.reference.any()
    assert table.ratio_to_lowest.isna().all() and not table.four_fifths.any()
    assert too_small(table) == math.ceil(10 * 100 / 3)


def test_the_reference_is_the_lowest_rate_among_the_groups_large_enough(tmp_path: Path) -> None:
    """With a minimum of 1 person refused expected, both areas qualify (1.5 each) and the
    unsanctioned urban area is the reference. 3 against 0 could be chance: the interval's
    upper end is infinite and its lower end below 1, so the flag is not clear."""
    run = write_run(tmp_path / "run", blocks({"rural": 3}))
    table = disparate_impact(run, by="area", min_expected=1).set_index("group")
    assert table.reference.to_dict() == {"urban": True, "rural": False}
    assert table.ratio_to_lowest["rural"] == math.inf
    low = 0.025 ** (1 / 3)  # Clopper-Pearson: the 2.5% quantile of Beta(3, 1)
    assert table.ratio_high["rural"] == math.inf
    assert table.ratio_low["rural"] == pytest.approx(low / (1 - low)) and low / (1 - low) < 1
    assert table.four_fifths["rural"] and not table.four_fifths_clear["rural"]
    assert math.isnan(table.ratio_low["urban"])


def test_a_rate_ratio_interval_is_the_exact_conditional_binomial_one(tmp_path: Path) -> None:
    """7 refusals against 3 in equal groups, each person refused once: given 10, the first
    group's count is binomial; Clopper-Pearson bounds on p map to p / (1 - p)."""
    from scipy.stats import beta

    run = write_run(tmp_path / "run", blocks({"urban": 3, "rural": 7}))
    row = disparate_impact(run, by="area", min_expected=0).set_index("group").loc["rural"]
    low, high = beta.ppf(0.025, 7, 4), beta.ppf(0.975, 8, 3)
    assert row.ratio_low == pytest.approx(low / (1 - low))
    assert row.ratio_high == pytest.approx(high / (1 - high))
    assert row.four_fifths and not row.four_fifths_clear  # 7 against 3 could be chance


def test_nobody_sanctioned_is_no_violation(tmp_path: Path) -> None:
    table = disparate_impact(write_run(tmp_path / "run", []), by="class")
    assert table.ratio_to_lowest.tolist() == [1.0, 1.0]
    assert not table.four_fifths.any()


def test_gini_of_known_distributions() -> None:
    assert gini(np.array([5, 5, 5])) == 0.0
    assert gini(np.array([1]), zeros=3) == pytest.approx(3 / 4)  # one has it all: (n-1)/n
    assert gini(np.array([1, 2, 3])) == pytest.approx(2 / 9)
    assert math.isnan(gini(np.array([]), zeros=10))


def test_gini_with_implicit_zeros_equals_the_mean_absolute_difference() -> None:
    values = np.array([1, 3, 1, 7])
    everyone = np.concatenate([values, np.zeros(96)])
    pairs = np.abs(everyone[:, None] - everyone[None, :]).sum()
    assert gini(values, zeros=96) == pytest.approx(pairs / (2 * everyone.size**2 * everyone.mean()))


@pytest.mark.parametrize("values", [[1, 3, 1, 7], [2], [5, 5, 5, 1, 1, 9, 2, 2]])
def test_gini_of_a_histogram_is_the_gini_of_its_people(values: list[int]) -> None:
    counts, people = np.unique(values, return_counts=True)
    for zeros in (0, 3, 1000):
        expected = gini(np.array(values), zeros=zeros)
        assert gini_of_histogram(counts, people, len(values) + zeros) == pytest.approx(expected)


def test_refusal_gini_counts_everyone_in_the_group(hand: Path) -> None:
    table = refusal_gini(hand, by="area").set_index("group")
    assert table.people.to_dict() == {"urban": 50, "rural": 50}
    assert table.refusals.to_dict() == {"urban": 1, "rural": 4}
    assert table.gini["urban"] == pytest.approx(49 / 50)
    assert table.gini["rural"] == pytest.approx(gini(np.array([3, 1]), zeros=48))


def test_fairness_table_has_every_dimension_and_the_wrongful_columns(hand: Path) -> None:
    table = fairness(hand, min_expected=0).set_index(["dimension", "group"])
    assert list(table.index) == [
        ("all", "all"),
        ("region", "North"),
        ("region", "South"),
        ("area", "urban"),
        ("area", "rural"),
        ("class", "careful"),
        ("class", "reckless"),
    ]
    assert table.loc[("all", "all"), "wrongful_sanctions"] == 4
    assert table.loc[("all", "all"), "days_wrongly_listed"] == DAYS - 1 + 2
    assert table.loc[("class", "careful"), "wrongful_sanctions"] == 3
    assert table.loc[("class", "reckless"), "days_wrongly_listed"] == 2
    assert table.loc[("region", "South"), "wrongful_listings"] == 2
    assert bool(table.loc[("region", "South"), "four_fifths"])


# ---------------------------------------------------------------- refusals at the edge


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotARunError, match="not a run directory"):
        fairness(tmp_path)


def test_an_unknown_grouping_is_refused(hand: Path) -> None:
    with pytest.raises(GroupError, match="age"):
        sanctions(hand, by="age")


def test_grouping_by_income_without_income_bands_says_so_instead_of_answering_all(
    hand: Path,
) -> None:
    """by="income" in a scenario without bands returned one group, "all", as if it had
    grouped; every audit function that groups now refuses it in one line."""
    for grouped in (daily_by_group, sanctions, tier_shares, list_sizes, wrongful_by_mechanism):
        with pytest.raises(GroupError, match=r"by='income': scenario \S+ has no income bands"):
            grouped(hand, by="income")
    with pytest.raises(GroupError, match="group by one of region, area, class"):
        disparate_impact(hand, by="income")
    assert "income" not in set(fairness(hand).dimension)


# ---------------------------------------------------------------- a real run


def test_rebuilt_stocks_equal_the_engines_daily_metrics(tiny_run: TinyRun) -> None:
    metrics = pd.read_parquet(tiny_run.path / "metrics.parquet")
    tiers = tier_shares(tiny_run.path).pivot(index="day", columns="tier", values="people")
    for tier in tiers:
        assert tiers[tier].tolist() == metrics[f"tier_{tier}"].tolist(), tier
    sizes = list_sizes(tiny_run.path).pivot(index="day", columns="list", values="size")
    assert sizes["court_blacklist"].tolist() == metrics.court_blacklist_size.tolist()
    by_class = tier_shares(tiny_run.path, by="class").groupby(["day", "tier"]).people.sum()
    assert by_class.unstack()[tiers.columns].values.tolist() == tiers.values.tolist()


def test_sanctions_and_wrongful_ones_equal_the_engines_counts(tiny_run: TinyRun) -> None:
    metrics = pd.read_parquet(tiny_run.path / "metrics.parquet")
    daily = sanctions(scsim.Result(tiny_run.path), by="area")
    for service, rows in daily.groupby("service"):
        per_day = rows.groupby("day")[["blocked", "wrongful"]].sum()
        assert per_day.blocked.tolist() == metrics[f"{service}_blocked"].tolist()
        assert per_day.wrongful.tolist() == metrics[f"{service}_blocked_wrongful"].tolist()


def test_daily_figures_per_group_add_up_to_the_engines_daily_metrics(tiny_run: TinyRun) -> None:
    metrics = pd.read_parquet(tiny_run.path / "metrics.parquet")
    audit = open_run(tiny_run.path)
    services, lists = audit.restricted_services, audit.lists
    for by in ("region", "class"):
        daily = daily_by_group(tiny_run.path, by=by).groupby("day").sum(numeric_only=True)
        assert (
            daily.sanctions.tolist()
            == metrics[[f"{s}_blocked" for s in services]].sum(axis=1).tolist()
        )
        assert daily.wrongful_sanctions.tolist() == metrics.sanctions_wrongful.tolist()
        assert daily.listed.tolist() == metrics[[f"{n}_size" for n in lists]].sum(axis=1).tolist()
        assert (
            daily.listings.tolist() == metrics[[f"{n}_entries" for n in lists]].sum(axis=1).tolist()
        )
        assert daily.people.unique().tolist() == [audit.size]


def test_every_wrongful_sanction_of_a_real_run_has_a_mechanism(tiny_run: TinyRun) -> None:
    rows = wrongful_sanctions(tiny_run.path)
    metrics = pd.read_parquet(tiny_run.path / "metrics.parquet")
    assert len(rows) == metrics.sanctions_wrongful.sum() > 0
    assert set(rows.mechanism) <= {"misidentified", "false_match", "association"}
    assert (rows.false_record_day <= rows.day).all()
    by_list = rows[rows.reason == "list"]
    assert by_list.listed_on_false_record.notna().all()
    assert rows[rows.reason == "tier"].listed_on_false_record.isna().all()


def test_groups_cover_the_population_in_the_scenarios_order(tiny_run: TinyRun) -> None:
    audit = open_run(tiny_run.path)
    assert audit.groups("class").group.tolist() == list(audit.scenario.population.classes)
    for by in ("region", "area", "class"):
        assert audit.groups(by).people.sum() == audit.size


def test_hand_built_strata_are_the_ones_the_tests_assume(hand: Path) -> None:
    strata = open_run(hand).strata.query("people > 0")
    assert strata[["lo", "hi", "region", "area", "class"]].values.tolist() == [
        [0, 25, "North", "urban", "careful"],
        [25, 50, "North", "urban", "reckless"],
        [50, 75, "South", "rural", "careful"],
        [75, 100, "South", "rural", "reckless"],
    ]


def test_a_rulebook_without_lists_has_no_list_sizes_and_refusals_by_grade(tmp_path: Path) -> None:
    raw = copy.deepcopy(RAW)
    raw["rulebook"]["rules"]["theft"].pop("enter_list")
    raw["rulebook"]["lists"] = {}
    raw["rulebook"]["services"] = {"loan": {"per_year": 1.0, "blocked_tiers": ["bad"]}}
    rows = [
        (0, 60, "record", "theft", -200, "cameras", "misidentified", False),
        (0, 60, "tier", "bad", 1, "", "score", False),
        (1, 60, "blocked", "loan", 0, "", "tier", False),
    ]
    run = write_run(tmp_path / "run", rows, raw)
    assert list_sizes(run).empty
    wrongful = wrongful_sanctions(run)
    assert wrongful.mechanism.tolist() == ["misidentified"]
    assert wrongful.listed_on_false_record.isna().all()
    assert tier_shares(run).query("tier == 'bad'").people.tolist() == [1] * DAYS
