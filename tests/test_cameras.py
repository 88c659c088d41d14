"""Cameras: coverage by region and a daily search capacity (docs/sources.md: coverage varies by
place, Xinjiang the densest; a search can look for at most about a thousand people and cannot
run continuously, 004). Both off by default: switched off they leave no trace; switched on they
act at the configured rate, within bounds derived from the Poisson variance (fixed seeds)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from bounds import within_binomial, within_poisson, within_variance
from builders import run_days, scenario
from conftest import assert_one_line_refusal, cli
from hypothesis import given
from hypothesis import strategies as st

from scsim.engine.components import searches
from scsim.engine.ledger import KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.scenario import load_scenario

SIZE, PER_YEAR, COVERAGE, DETECTION = 40_000, 3.0, 0.4, 0.5


def _model(**camera: object) -> Model:
    return Model.build(
        scenario(
            population={
                "size": SIZE,
                "regions": {
                    "Here": {"share": 0.5, "urban_share": 1.0},
                    "There": {"share": 0.5, "urban_share": 0.0},
                },
            },
            behaviour={"events": {"red_light": {"per_year": PER_YEAR}}},
            surveillance={
                "sensors": {
                    "cameras": {
                        "events": ["red_light"],
                        "coverage_urban": COVERAGE,
                        "coverage_rural": COVERAGE,
                        "detection": DETECTION,
                        **camera,
                    }
                }
            },
            rulebook={"rules": {"red_light": {"points": -5}}},
        )
    )


def _records(model: Model) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND["record"]
    return {k: v[keep] for k, v in model.rows.items()}


def test_without_regional_coverage_or_capacity_the_cameras_are_as_before() -> None:
    plain, neutral = _model(), _model(coverage_by_region={"Here": 1.0, "There": 1.0})
    rows, neutral_rows = run_days(plain, 10), run_days(neutral, 10)
    assert rows == neutral_rows
    for column in plain.rows:
        assert np.array_equal(plain.rows[column], neutral.rows[column])
    assert not any(key.endswith("_over_capacity") for key in rows[0])


@pytest.mark.parametrize(("here", "there"), [(2.0, 0.5), (5.0, 0.0)])
def test_coverage_by_region_scales_each_regions_records(here: float, there: float) -> None:
    days = 20
    model = _model(coverage_by_region={"Here": here, "There": there})
    run_days(model, days)
    region = model.params.host_pop.region_of(_records(model)["entity"])
    for r, factor in enumerate((here, there)):
        people = int(np.diff(model.params.host_pop.region_start)[r])
        mean = people * PER_YEAR / 365 * days * min(COVERAGE * factor, 1.0) * DETECTION
        count = int((region == r).sum())
        if mean == 0:
            assert count == 0
        else:
            within_poisson(count, mean)


def test_a_daily_capacity_keeps_that_many_of_the_days_records_and_misses_the_rest() -> None:
    limit = 50
    free, capped = _model(), _model(daily_capacity_per_million=limit * 1e6 / SIZE)
    free_rows, rows = run_days(free, 8), run_days(capped, 8)
    assert all(row["records"] == limit for row in rows)
    assert [row["cameras_over_capacity"] for row in rows] == [
        row["records"] - limit for row in free_rows
    ]
    a, b = _records(free), _records(capped)
    for day in range(8):
        made = Counter(a["entity"][a["day"] == day].tolist())
        kept = Counter(b["entity"][b["day"] == day].tolist())
        assert not kept - made  # the records kept are some of those the cameras made


def test_a_capacity_keeps_records_uniformly_across_and_within_regions() -> None:
    # Kept records are a uniform draw of `limit` from the day's: given a day's counts, a
    # region keeps a hypergeometric number (mean limit x its share), and of a region's kept
    # records the even ids' number is hypergeometric again. Summed over days, each lies within
    # 4 sds of its mean, the variance summed from the days' hypergeometric variances.
    limit, days, coverage = 40, 12, {"Here": 2.0, "There": 1.0}
    free = _model(coverage_by_region=coverage)
    capped = _model(coverage_by_region=coverage, daily_capacity_per_million=limit * 1e6 / SIZE)
    run_days(free, days), run_days(capped, days)
    made, kept = _by_day_region_and_parity(free, days), _by_day_region_and_parity(capped, days)
    assert (kept.sum(axis=(1, 2)) == limit).all()
    n_day = made.sum(axis=(1, 2))
    for r in range(2):
        n = made[:, r].sum(axis=1)
        share = n / n_day
        mean = float((limit * share).sum())
        var = float((limit * share * (1 - share) * (n_day - limit) / (n_day - 1)).sum())
        within_variance(int(kept[:, r].sum()), mean, var)
    k, n, even = kept.sum(axis=2), made.sum(axis=2), made[:, :, 0]
    share = even / n
    mean = float((k * share).sum())
    var = float((k * share * (1 - share) * (n - k) / np.maximum(n - 1, 1)).sum())
    within_variance(int(kept[:, :, 0].sum()), mean, var)


def test_ranks_tied_at_the_cut_go_to_the_earlier_records(monkeypatch) -> None:
    # equal random bits for every record: each region's share is still kept exactly, the
    # earliest of its records (a tie this wide never happens with 59 random bits; one at the
    # cut, about once in 2**40 days at national scale, is settled the same way)
    monkeypatch.setattr(searches, "bits", lambda key, counters: np.zeros(counters.size, np.uint64))
    region = np.array([1, 0, 1, 1, 0, 2, 1, 0])
    counts, shares = np.array([3, 4, 1]), np.array([1, 2, 1])
    kept = searches.lowest_ranks(np, 7, region, counts, shares)
    assert kept.tolist() == [True, True, True, False, False, True, False, False]


def _by_day_region_and_parity(model: Model, days: int) -> np.ndarray:
    """Records per day, region and parity of the person's id (even first): [days, 2, 2]."""
    records = _records(model)
    region = model.params.host_pop.region_of(records["entity"])
    out = np.zeros((days, 2, 2), dtype=np.int64)
    np.add.at(out, (records["day"], region, records["entity"] % 2), 1)
    return out


def test_coverage_by_region_names_known_regions() -> None:
    with pytest.raises(ScenarioError, match="unknown region 'Atlantis'"):
        load_scenario(
            "national-score",
            overrides={"surveillance.sensors.cameras.coverage_by_region": {"Atlantis": 2.0}},
        )


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_misattribution_charges_that_share_of_records_to_someone_else_of_the_region(
    share: float,
) -> None:
    # Each detection is charged to another person with chance `share`: a uniform draw from the
    # region's people, so one in as many as the region has lands on the person themselves and
    # stays theirs. Misidentified records are then Binomial(records, share x (1 - 1/n)). Only
    # Here is watched: every record, misidentified or not, must name someone of Here.
    days = 20
    model = _model(misattribution=share, coverage_by_region={"There": 0.0})
    rows = run_days(model, days)
    records = _records(model)
    region = model.params.host_pop.region_of(records["entity"])
    assert records["entity"].size > 100 and (region == 0).all()
    wrong = records["origin"] == ORIGIN["misidentified"]
    assert int(wrong.sum()) == sum(row["records_misidentified"] for row in rows)
    assert not records["truth"][wrong].any()
    assert (records["origin"][~wrong] == ORIGIN["detected"]).all()
    if share == 0.0:
        assert not wrong.any()
        return
    n = int(np.diff(model.params.host_pop.region_start)[0])
    within_binomial(int(wrong.sum()), records["entity"].size, share * (1 - 1 / n))


@given(
    per_day=st.floats(min_value=0.0, max_value=1e4, allow_nan=False),
    first=st.integers(0, 10_000),
    days=st.integers(1, 400),
)
def test_a_fractional_cap_keeps_whole_records_that_add_up_to_it(
    per_day: float, first: int, days: int
) -> None:
    kept = [searches.Capacity.on(day, per_day) for day in range(first, first + days)]
    assert all(k >= 0 for k in kept)
    assert abs(sum(kept) - per_day * days) < 1 + 1e-9 * per_day * (first + days)


def test_a_capacity_counted_in_records_is_refused_with_what_replaced_it(tmp_path) -> None:
    path = tmp_path / "cap.toml"
    path.write_text(
        'extends = "national-score"\n[surveillance.sensors.cameras]\ndaily_capacity = 100000\n'
    )
    assert_one_line_refusal(
        cli("validate", str(path)), "cap.toml", "daily_capacity_per_million", "population size"
    )
