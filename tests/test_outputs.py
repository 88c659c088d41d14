"""The run directory: complete, self-describing, readable by any tool, consistent with itself."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import RUN_FILES, TINY_DAYS, TINY_PEOPLE, TinyRun, cli, leftovers

import scsim
from scsim.engine.components.gaming import RULE as GAMING
from scsim.engine.ledger import KINDS, ORIGINS
from scsim.engine.model import Model
from scsim.scenario import Scenario, load_scenario
from scsim.simulation.provenance import engine_sha256

LEDGER_COLUMNS = ["day", "entity", "kind", "rule", "delta", "source", "origin", "truth"]
RECORD_ORIGINS = ("detected", "misidentified", "false_match")


@pytest.fixture(scope="module")
def manifest(tiny_run: TinyRun) -> dict[str, Any]:
    return json.loads((tiny_run.path / "run.json").read_text())


@pytest.fixture(scope="module")
def metrics(tiny_run: TinyRun) -> pd.DataFrame:
    return pd.read_parquet(tiny_run.path / "metrics.parquet")


@pytest.fixture(scope="module")
def ledger(tiny_run: TinyRun) -> pd.DataFrame:
    frame = pd.read_parquet(tiny_run.path / "ledger.parquet")
    return frame.astype({"kind": str, "rule": str, "source": str, "origin": str})


@pytest.fixture(scope="module")
def people(tiny_run: TinyRun) -> pd.DataFrame:
    return pd.read_parquet(tiny_run.path / "people.parquet")


# ---------------------------------------------------------------- the directory and run.json


def test_run_directory_is_complete_and_nothing_is_left_beside_it(tiny_run: TinyRun) -> None:
    assert sorted(p.name for p in tiny_run.path.iterdir()) == sorted(RUN_FILES)
    assert leftovers(tiny_run.path) == []


def test_manifest_records_scenario_seed_version_backend_and_timings(
    manifest: dict[str, Any],
) -> None:
    assert manifest["scenario"]["name"] == "tiny"
    assert manifest["seed"] == 7
    assert manifest["scsim_version"] == scsim.__version__
    assert manifest["engine_sha256"] == engine_sha256()
    assert manifest["backend"] == "numpy"
    timings = manifest["timings_seconds"]
    assert set(timings) >= {"build", "days", "write"}
    assert all(seconds >= 0 for seconds in timings.values())


def test_manifest_scenario_is_the_resolved_scenario(
    manifest: dict[str, Any], tiny_file: Path
) -> None:
    assert "extends" not in manifest["scenario"]
    assert Scenario.model_validate(manifest["scenario"]) == load_scenario(tiny_file)


def test_manifest_checksums_match_the_files(tiny_run: TinyRun, manifest: dict[str, Any]) -> None:
    files = manifest["files"]
    assert sorted(files) == sorted(set(RUN_FILES) - {"run.json"})
    for name, facts in files.items():
        data = (tiny_run.path / name).read_bytes()
        assert facts["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert facts["bytes"] == len(data), name


def test_manifest_counts_the_ledger_rows(manifest: dict[str, Any], ledger: pd.DataFrame) -> None:
    assert manifest["ledger_rows"] == len(ledger) > 0


# ---------------------------------------------------------------- any tool can read the files


@pytest.mark.parametrize("name", ["metrics.parquet", "ledger.parquet", "people.parquet"])
def test_pandas_pyarrow_and_duckdb_read_each_file_alike(tiny_run: TinyRun, name: str) -> None:
    path = tiny_run.path / name
    by_pandas = pd.read_parquet(path)
    by_arrow = pq.read_table(path)
    by_duckdb = duckdb.sql(f"select * from read_parquet('{path}')").df()
    by_polars = pl.read_parquet(path)
    assert len(by_pandas) == by_arrow.num_rows == len(by_duckdb) == by_polars.height > 0
    assert list(by_pandas.columns) == by_arrow.column_names == list(by_duckdb.columns)
    assert by_polars.columns == list(by_pandas.columns)
    for column in by_pandas.columns:  # the same values (codes read as their strings) in order
        expected = by_pandas[column].astype(object).tolist()
        assert by_polars[column].to_list() == expected, column
        assert by_duckdb[column].astype(object).tolist() == expected, column


def test_polars_queries_the_ledger_lazily_as_duckdb_does(tiny_run: TinyRun) -> None:
    """A polars user's first query: refusals per service, scanned without loading the file."""
    path = tiny_run.path / "ledger.parquet"
    by_polars = (
        pl.scan_parquet(path)
        .filter(pl.col("kind") == "blocked")
        .group_by("rule")
        .agg(pl.len().alias("n"), (~pl.col("truth")).sum().alias("wrongful"))
        .sort("rule")
        .collect()
    )
    by_duckdb = duckdb.sql(
        f"select rule, count(*) as n, count(*) filter (where not truth) as wrongful "
        f"from read_parquet('{path}') where kind = 'blocked' group by rule order by rule"
    ).fetchall()
    assert by_polars.height > 0
    assert by_polars.rows() == by_duckdb


def test_ledger_has_the_documented_columns(ledger: pd.DataFrame) -> None:
    assert list(ledger.columns) == LEDGER_COLUMNS


def test_ledger_codes_read_as_strings_in_every_tool(tiny_run: TinyRun) -> None:
    path = tiny_run.path / "ledger.parquet"
    frame = pd.read_parquet(path)
    for column in ("kind", "rule", "origin"):
        assert all(isinstance(value, str) for value in frame[column].unique()), column
    arrow = pq.read_table(path).to_pylist()[0]
    assert isinstance(arrow["kind"], str) and isinstance(arrow["origin"], str)
    kinds = duckdb.sql(f"select distinct kind from read_parquet('{path}')").fetchall()
    assert {kind for (kind,) in kinds} <= set(KINDS)
    origins = duckdb.sql(f"select distinct origin from read_parquet('{path}')").fetchall()
    assert {origin for (origin,) in origins} <= set(ORIGINS)


def test_ledger_rules_name_events_lists_and_services(ledger: pd.DataFrame) -> None:
    scenario = load_scenario("rongcheng")
    by_kind = ledger.groupby("kind")["rule"].unique()
    # records name events, or the gaming mechanism's own rule (rongcheng games points)
    assert set(by_kind["record"]) <= set(scenario.behaviour.events) | {GAMING}
    assert set(by_kind["list_entry"]) == {"court_blacklist"}
    assert set(by_kind["blocked"]) <= set(scenario.rulebook.services)
    assert set(by_kind["tier"]) <= set(scenario.rulebook.tiers)


def test_ledger_is_in_day_order_within_the_run(ledger: pd.DataFrame) -> None:
    assert ledger["day"].is_monotonic_increasing
    assert ledger["day"].between(0, TINY_DAYS - 1).all()
    assert ledger["entity"].between(0, TINY_PEOPLE - 1).all()


def test_metrics_have_one_row_per_day(metrics: pd.DataFrame) -> None:
    assert list(metrics["day"]) == list(range(TINY_DAYS))


def test_cumulative_metrics_are_running_sums_of_their_daily_flows(metrics: pd.DataFrame) -> None:
    cumulative = [c for c in metrics.columns if c.endswith("_cum")]
    assert {
        "flight_blocked_cum",
        "train_blocked_cum",
        "court_blacklist_entries_cum",
        "court_blacklist_complied_cum",
    } <= set(cumulative)
    for column in cumulative:
        daily = metrics[column.removesuffix("_cum")]
        np.testing.assert_array_equal(metrics[column], daily.cumsum(), err_msg=column)


def test_people_file_has_one_row_per_person(people: pd.DataFrame) -> None:
    assert len(people) == TINY_PEOPLE
    np.testing.assert_array_equal(people["person"], np.arange(TINY_PEOPLE))


def test_people_file_agrees_with_the_last_day_of_metrics(
    people: pd.DataFrame, metrics: pd.DataFrame
) -> None:
    last = metrics.iloc[-1]
    assert people["on_court_blacklist"].sum() == last["court_blacklist_size"]
    assert people["false_record"].sum() == last["tainted_people"]
    tiers = people["tier"].astype(str).value_counts()
    for tier in load_scenario("rongcheng").rulebook.tiers:
        assert tiers.get(tier, 0) == last[f"tier_{tier}"], tier


# ---------------------------------------------------------------- the figures agree


def test_summary_figures_are_sums_of_the_metrics(
    manifest: dict[str, Any], metrics: pd.DataFrame
) -> None:
    summary = manifest["summary"]
    assert summary["people"] == TINY_PEOPLE
    assert summary["days"] == len(metrics)
    assert summary["true_events"] == metrics["true_events"].sum()
    assert summary["records"] == metrics["records"].sum()
    assert summary["records_false"] == metrics["records_false"].sum()
    assert summary["association_charges"] == metrics["association_rows"].sum()
    assert summary["listing_entries"]["court_blacklist"] == (
        metrics["court_blacklist_entries"].sum()
    )
    assert summary["listed_now"]["court_blacklist"] == metrics["court_blacklist_size"].iloc[-1]
    for service in ("flight", "train"):
        assert summary["blocked"][service] == metrics[f"{service}_blocked"].sum() > 0
        assert summary["blocked"][service] == metrics[f"{service}_blocked_cum"].iloc[-1]
    assert summary["sanctions_on_people_with_false_record"] == (
        metrics["sanctions_on_false_record_holders"].sum()
    )
    assert summary["wrongful_sanctions"] == metrics["sanctions_wrongful"].sum()


def test_blocked_ledger_rows_equal_blocked_metrics_per_service(
    ledger: pd.DataFrame, metrics: pd.DataFrame
) -> None:
    blocked = ledger[ledger["kind"] == "blocked"].groupby("rule").size()
    for service in load_scenario("rongcheng").rulebook.services:
        assert blocked.get(service, 0) == metrics[f"{service}_blocked"].sum(), service
    wrongful = ledger[(ledger["kind"] == "blocked") & ~ledger["truth"]]
    assert len(wrongful) == metrics["sanctions_wrongful"].sum()


def test_list_rows_equal_listing_metrics(ledger: pd.DataFrame, metrics: pd.DataFrame) -> None:
    entries = ledger[ledger["kind"] == "list_entry"]
    assert len(entries) == metrics["court_blacklist_entries"].sum() > 0
    exits = ledger[ledger["kind"] == "list_exit"].groupby("origin").size()
    assert exits.get("complied", 0) == metrics["court_blacklist_complied"].sum()
    assert exits.get("term_ended", 0) == metrics["court_blacklist_expired"].sum()
    assert len(entries) - exits.sum() == metrics["court_blacklist_size"].iloc[-1]


def test_record_rows_equal_records_by_origin(
    ledger: pd.DataFrame, metrics: pd.DataFrame, tiny_file: Path
) -> None:
    # score._point_rows writes a row only for records whose rule has an effect (points, a
    # grade or a list); in this scenario every observed event has one, so every record does.
    scenario = load_scenario(tiny_file)
    observed = {e for sensor in scenario.surveillance.sensors.values() for e in sensor.events}
    assert all(scenario.rulebook.rules[event].points != 0 for event in observed)
    records = ledger[ledger["kind"] == "record"].groupby("origin").size()
    assert sum(records.get(origin, 0) for origin in RECORD_ORIGINS) == metrics["records"].sum()
    assert records.get("misidentified", 0) == metrics["records_misidentified"].sum()
    assert records.get("false_match", 0) == metrics["records_false_match"].sum()
    assert records.get("detected", 0) == (metrics["records"] - metrics["records_false"]).sum()
    assert records.get("association", 0) == metrics["association_rows"].sum()
    assert records.get("expiry", 0) == metrics["reversed_rows"].sum()


def test_only_detected_and_gamed_records_are_true(ledger: pd.DataFrame) -> None:
    records = ledger[ledger["kind"] == "record"]
    earned = records["origin"].isin(["detected", "gamed"])  # a gamed act was done
    np.testing.assert_array_equal(records["truth"], earned)


def test_final_scores_are_the_base_plus_every_recorded_delta(
    ledger: pd.DataFrame, people: pd.DataFrame
) -> None:
    rulebook = load_scenario("rongcheng").rulebook
    records = ledger[ledger["kind"] == "record"]
    moved = records.groupby("entity")["delta"].sum()
    expected = np.full(TINY_PEOPLE, rulebook.base, dtype=np.int64)
    expected[moved.index.to_numpy()] += moved.to_numpy()
    assert expected.min() > rulebook.scale.min and expected.max() < rulebook.scale.max
    np.testing.assert_array_equal(people["score"].to_numpy(), expected)


# ---------------------------------------------------------------- whole or not at all


@pytest.fixture
def fails_on_day_3(monkeypatch: pytest.MonkeyPatch) -> None:
    real_step = Model.step

    def step(self: Model, day: int) -> dict:
        if day == 3:
            raise RuntimeError("boom on day 3")
        return real_step(self, day)

    monkeypatch.setattr(Model, "step", step)


@pytest.mark.usefixtures("fails_on_day_3")
def test_failure_mid_run_leaves_neither_the_directory_nor_a_partial_one(
    tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom on day 3"):
        scsim.run(tiny_file, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("fails_on_day_3")
def test_failure_mid_run_with_force_keeps_the_previous_run(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    manifest = json.dumps({"scsim_version": "0.1.0", "scenario": {}, "files": {}})
    previous = {"run.json": manifest, "ledger.parquet": "earlier run"}  # what --force replaces
    for name, text in previous.items():
        (out / name).write_text(text)
    with pytest.raises(RuntimeError, match="boom on day 3"):
        cli("run", str(tiny_file), "--out", str(out), "--force")
    assert {p.name: p.read_text() for p in out.iterdir()} == previous
    assert leftovers(out) == []


def test_a_drained_day_casts_each_part_as_filled_and_keeps_the_parts_in_order() -> None:
    """`Ledger.drain` writes each part into its place: scalars (Python, NumPy, 0-d arrays)
    repeated, arrays of any integer dtype cast to the column's, in the order added."""
    from scsim.engine.backend import filled
    from scsim.engine.ledger import COLUMNS, Ledger

    parts = [
        (3, (np.arange(3), np.int64(4), np.array([0, 300, -5]), np.int16(2), np.uint8(1), True)),
        (2, (np.arange(2, dtype=np.int32), np.array(7), -1, 0, np.zeros(2, np.int64), 1)),
        (1, (np.array([9]), 5, np.int32(-10), np.array([3], np.uint64), 2, np.array([0]))),
    ]
    ledger = Ledger()
    for day, (_, (entity, *rest)) in enumerate(parts):
        ledger.add(day, KINDS[day], entity, *rest)
    drained = ledger.drain()
    given = ("entity", "rule", "delta", "source", "origin", "truth")  # a part's columns above
    for c, name in enumerate(given):
        dtype = COLUMNS[name]
        expected = np.concatenate([filled(np, v[c], n, dtype) for n, v in parts])
        assert drained[name].dtype == dtype
        assert drained[name].tolist() == expected.tolist(), name
    assert drained["day"].tolist() == [0, 0, 0, 1, 1, 2]
    assert ledger.drain()["entity"].size == 0


def test_ledger_days_made_together_are_each_days_own_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`LedgerDays` makes the Arrow tables of several days at once (a batch ends at BATCH_DAYS
    days or BATCH_ROWS rows) and hands each day's rows on in order: each equals the table
    of that day alone, empty days included."""
    from scsim.simulation.arrow import LedgerDays, ledger_table

    model = Model.build(load_scenario("rongcheng", overrides={"population.size": 20_000}))
    names = model.params.codes.vocabulary.names
    days = []
    for day in range(40):
        model.step(day)
        days.append(model.ledger.drain())
    days.insert(3, {name: column[:0] for name, column in days[0].items()})
    monkeypatch.setattr(LedgerDays, "BATCH_DAYS", 7)
    monkeypatch.setattr(LedgerDays, "BATCH_ROWS", 150)
    tables: list[Any] = []
    ledger = LedgerDays(names, tables.append)
    for columns in days:
        ledger.append(columns)
    ledger.flush()
    assert len(tables) == len(days)
    for table, columns in zip(tables, days, strict=True):
        assert table.equals(ledger_table(columns, names))


def test_the_python_api_shows_a_bar_of_days_where_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`progress=True` draws the CLI's bar of days (rich, on stderr: a notebook shows it
    under the cell) and still calls the caller's own `on_day` every day."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws as on a terminal (rich >= 14)
    monkeypatch.setenv("FORCE_COLOR", "1")  # (rich 13)
    days: list[int] = []
    scsim.run(
        "rongcheng",
        tmp_path / "run",
        population=2_000,
        days=12,
        overrides={"run.report": False},
        progress=True,
        on_day=lambda day, row: days.append(day),
    )
    assert days == list(range(12))
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", capsys.readouterr().err)  # no colours
    assert "12/12 days" in drawn
    scsim.run("rongcheng", tmp_path / "quiet", population=2_000, days=12)
    assert capsys.readouterr().err == ""  # no bar unless asked


def test_a_run_given_no_out_is_removed_when_python_exits(tmp_path: Path) -> None:
    """A notebook's runs without `out` filled /tmp (5 MB each at 100,000 people)."""
    code = (
        "import scsim, sys; r = scsim.run(sys.argv[1], days=3, population=2000); "
        "print(r.path); assert (r.path / 'run.json').is_file()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "rongcheng"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.name == "rongcheng" and not path.parent.exists()
    forked = (  # a forked child's exit (multiprocessing's fork start) leaves the parent's run
        "import os, sys, scsim; r = scsim.run('rongcheng', days=3, population=2000)\n"
        "pid = os.fork()\n"
        "if pid == 0: sys.exit(0)\n"
        "os.waitpid(pid, 0); assert (r.path / 'run.json').is_file(), 'removed by the child'"
    )
    done = subprocess.run([sys.executable, "-c", forked], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with pytest.raises(ValueError, match="needs out"):
        scsim.run("rongcheng", days=3, population=2000, checkpoint_every=1)
