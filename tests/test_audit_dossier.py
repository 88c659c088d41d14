"""`scsim dossier`: everything recorded about one person, and why; refusals with exit code 2."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from audit_ledgers import STORY, write_run
from conftest import TinyRun, cli, console_script

import scsim
from scsim.audit import PersonError, dossier, person_record, worst_person


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    return write_run(tmp_path / "hand", STORY)


def test_dossier_lists_the_persons_rows_in_day_order_and_says_why(hand: Path) -> None:
    rows = dossier(hand, 60)
    assert rows[["day", "kind", "rule"]].values.tolist() == [
        [1, "record", "theft"],
        [1, "tier", "bad"],
        [1, "list_entry", "blacklist"],
        [2, "blocked", "train"],
        [2, "blocked", "loan"],
        [3, "blocked", "train"],
    ]
    what = rows.what.tolist()
    assert what[0] == (
        "theft recorded by cameras but done by someone else (misidentified): false, -200 points"
    )
    assert what[1].startswith("grade good -> bad: the score crossed a cut-off")
    assert what[3] == "refused train: on blacklist [the person has a false record]"
    assert what[4] == "refused loan: grade bad excludes it [the person has a false record]"


def test_a_refusal_that_names_no_cause_is_told_without_it(hand: Path) -> None:
    """Runs written before refusals named their list or grade (`source` empty) still read."""
    assert "refused train: listed" in dossier(hand, 3).what.tolist()


def test_a_person_nobody_recorded_has_an_empty_dossier(hand: Path) -> None:
    assert dossier(hand, 42).empty
    said = " ".join(cli("dossier", str(hand), "42").stdout.split())
    assert "ledger: nothing recorded" in said  # not an empty table left to puzzle over
    assert "nothing recorded" not in " ".join(cli("dossier", str(hand), "3").stdout.split())


def test_without_people_parquet_the_final_state_is_replayed_from_the_ledger(hand: Path) -> None:
    record = person_record(hand, 80)
    assert record["source"].startswith("ledger")
    assert (record["region"], record["area"], record["class"]) == ("South", "rural", "reckless")
    assert record["score"] == 1000 + 10 - 40 - 200
    assert record["tier"] == "bad"
    assert record["on_blacklist"] is False  # the term ended on day 4
    assert record["false_record"] is True  # the association deduction, not the false +10


def test_worst_person_has_the_most_wrongful_sanctions(hand: Path) -> None:
    assert worst_person(hand) == 60


def test_worst_person_ties_go_to_the_lowest_id(tmp_path: Path) -> None:
    rows = [(0, pid, "blocked", "train", 0, "", "list", False) for pid in (9, 4, 9, 4, 7)]
    assert worst_person(write_run(tmp_path / "run", rows)) == 4


def test_replayed_final_state_equals_people_parquet(tiny_run: TinyRun, tmp_path: Path) -> None:
    copy = tmp_path / "no-people"
    shutil.copytree(tiny_run.path, copy)
    (copy / "people.parquet").unlink()
    ledger = pd.read_parquet(tiny_run.path / "ledger.parquet")
    listed = ledger[ledger.kind == "list_exit"].entity.unique()[:10]  # in and out of a list
    wronged = ledger[~ledger.truth].entity.unique()[:10]
    others = ledger.entity.drop_duplicates().sort_values().iloc[::50]
    people = sorted({*listed, *wronged, *others})
    fields = ("region", "area", "class", "household", "employer", "score", "tier", "false_record")
    for person in people:
        written, replayed = person_record(tiny_run.path, person), person_record(copy, person)
        assert written["source"] == "people.parquet"
        assert {f: written[f] for f in fields} == {f: replayed[f] for f in fields}, person
        assert written["on_court_blacklist"] == replayed["on_court_blacklist"], person


# ---------------------------------------------------------------- the command


def test_dossier_command_prints_the_person_and_the_ledger(tiny_run: TinyRun) -> None:
    person = worst_person(tiny_run.path)
    outcome = cli("dossier", str(tiny_run.path), str(person))
    assert outcome.exit_code == 0, outcome.text
    assert f"person {person}" in outcome.stdout
    assert "people.parquet" in outcome.stdout
    words = " ".join(outcome.stdout.replace("│", " ").split())  # the table's lines wrap
    assert "[the person has a false record]" in words
    assert words.count("refused") >= 2
    assert "on court_blacklist" in words  # the refusals name the list that refused


def test_dossier_worst_picks_the_most_wrongfully_sanctioned(tiny_run: TinyRun) -> None:
    ledger = pd.read_parquet(tiny_run.path / "ledger.parquet")
    wrongful = ledger[(ledger.kind == "blocked") & ~ledger.truth].entity.value_counts()
    expected = min(wrongful.index[wrongful == wrongful.max()])
    outcome = cli("dossier", str(tiny_run.path), "--worst")
    assert outcome.exit_code == 0, outcome.text
    assert f"person {expected}" in outcome.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("20000",), "person 20000 is not in"),
        ((), "name a person, or pass --worst"),
        (("5", "--worst"), "name a person, or pass --worst"),
    ],
)
def test_dossier_refuses_with_one_line_and_exit_code_2(
    tiny_run: TinyRun, args: tuple[str, ...], message: str
) -> None:
    outcome = cli("dossier", str(tiny_run.path), *args)
    assert outcome.exit_code == 2
    assert message in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_dossier_of_a_folder_that_is_not_a_run_exits_2(tmp_path: Path) -> None:
    outcome = console_script("dossier", str(tmp_path), "3")
    assert outcome.exit_code == 2
    assert outcome.stderr.strip() == (
        f"error: {tmp_path} is not a run directory (no run.json, ledger.parquet, metrics.parquet)"
    )


def test_worst_in_a_run_without_wrongful_sanctions_exits_2(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", STORY[:4])
    outcome = cli("dossier", str(run), "--worst")
    assert outcome.exit_code == 2
    assert "no wrongful sanctions" in outcome.stderr
    with pytest.raises(PersonError):
        worst_person(run)


def test_a_dated_runs_dossier_carries_each_rows_date(tmp_path: Path) -> None:
    """court-list-history starts on 2013-10-01: its rows say when, as its metrics do."""
    result = scsim.run(
        "court-list-history", tmp_path / "dated", population=20_000, days=400, progress=False
    )
    person = int(
        pd.read_parquet(result.path / "ledger.parquet").query("kind == 'record'").entity.iloc[0]
    )
    rows = dossier(result, person)
    assert list(rows.columns[:2]) == ["day", "date"]
    assert not rows.what.str.contains("points").any()  # lists only: no "+0 points" on records
    assert all(
        str(d) == str(dt.date(2013, 10, 1) + dt.timedelta(days=int(n)))
        for n, d in zip(rows.day, rows.date, strict=True)
    )
    shown = cli("dossier", str(result.path), str(person))
    assert shown.exit_code == 0 and str(rows.date.iloc[0]) in shown.stdout
    assert "date" not in dossier(write_run(tmp_path / "hand", STORY), 1).columns  # no start
