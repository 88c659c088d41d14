"""The census table shipped with scsim adds up as its note says, and the built-ins agree with it.

The built-in scenarios copy their regions from the table by hand (shares to ten places); this
pins each copy to its row, so a typo in a scenario file or in the table is caught here.
"""

from __future__ import annotations

import csv
from importlib.resources import files

import pytest

from scsim.scenario import load_scenario

PROVINCES_TOTAL = 1_409_778_724  # the 31 rows (the census headline adds 2,000,000 servicemen)
SERVICEMEN = 2_000_000
GROUP_TOTALS = {  # Communique No. 3, by the statistics bureau's four groupings
    "east": 563_717_119,
    "central": 364_694_362,
    "west": 382_852_295,
    "northeast": 98_514_948,
}
ONE_PROVINCE = {"rongcheng": "Shandong", "sesame": "Zhejiang", "youth-app": "Beijing"}
ALL_PROVINCES = ["national-score", "court-blacklist", "court-list-history", "corporate"]


def _rows() -> list[dict[str, str]]:
    table = files("scsim") / "data" / "china-provinces-2020.csv"
    with table.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _by_key() -> dict[str, dict[str, str]]:
    """Rows keyed as scenario files name regions (a key has no spaces)."""
    return {row["name"].replace(" ", "_"): row for row in _rows()}


def test_table_has_the_31_provinces_once_each() -> None:
    rows = _rows()
    assert len(rows) == 31
    assert len({row["code"] for row in rows}) == 31


def test_provinces_sum_to_the_census_total_without_servicemen() -> None:
    assert sum(int(row["population"]) for row in _rows()) == PROVINCES_TOTAL


def test_urban_share_with_servicemen_is_the_published_national_rate() -> None:
    urban = sum(float(row["urban_share"]) * int(row["population"]) for row in _rows())
    national = 100 * (urban + SERVICEMEN) / (PROVINCES_TOTAL + SERVICEMEN)
    assert abs(national - 63.89) <= 0.05


def test_age_shares_of_every_row_sum_to_one() -> None:
    for row in _rows():
        total = float(row["age_0_14"]) + float(row["age_15_59"]) + float(row["age_60_plus"])
        assert abs(total - 1.0) <= 0.002, row["code"]


def test_groupings_sum_to_the_bureaus_totals() -> None:
    totals: dict[str, int] = {}
    for row in _rows():
        totals[row["region"]] = totals.get(row["region"], 0) + int(row["population"])
    assert totals == GROUP_TOTALS


@pytest.mark.parametrize("name", ALL_PROVINCES)
def test_national_builtin_regions_are_the_table_rows(name: str) -> None:
    rows = _by_key()
    regions = load_scenario(name).population.regions
    assert sorted(regions) == sorted(rows)
    for key, region in regions.items():
        row = rows[key]
        assert region.share == pytest.approx(int(row["population"]) / PROVINCES_TOTAL, abs=1e-9)
        assert region.urban_share == float(row["urban_share"]), key
        assert region.household_mean == float(row["avg_household_size"]), key


@pytest.mark.parametrize(("name", "province"), sorted(ONE_PROVINCE.items()))
def test_one_city_builtin_takes_its_province_row(name: str, province: str) -> None:
    row = _by_key()[province]
    (region,) = load_scenario(name).population.regions.values()
    assert region.urban_share == float(row["urban_share"])
    assert region.household_mean == float(row["avg_household_size"])


def test_national_score_runs_every_resident_of_the_table() -> None:
    assert load_scenario("national-score").population.size == PROVINCES_TOTAL
