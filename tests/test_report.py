"""`scsim report`: a self-contained HTML page, drawn whole by a headless browser, offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import TinyRun, cli

import scsim
from scsim.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
# Offline and quiet: no network of its own, no first-run work, console messages on stderr.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def report(tiny_run: TinyRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`scsim report` on a copy of the tiny run (the shared run directory stays as it was)."""
    run = tmp_path_factory.mktemp("report") / "tiny"
    shutil.copytree(tiny_run.path, run)
    outcome = cli("report", str(run))
    assert outcome.exit_code == 0, outcome.text
    assert str(run / "report.html") in outcome.stdout.replace("\n", "")
    return run / "report.html"


def figures_in(page: str) -> int:
    return int(re.search(r'<body data-figures="(\d+)"', page).group(1))


def test_report_is_self_contained(report: Path) -> None:
    page = report.read_text()
    assert "<script src" not in page and "<link" not in page  # plotly.js is inside the page
    assert page.count("<script") >= figures_in(page)
    assert figures_in(page) == page.count('class="plotly-graph-div"') == 6


def test_report_has_every_section(report: Path) -> None:
    page = report.read_text()
    for heading in ("Summary", "Grades", "Lists", "Sanctions", "Fairness", "Not in this report"):
        assert f"<h2>{heading}</h2>" in page
    for title in (
        "People per grade, end of day",
        "Final scores",
        "Grade changes: from the old grade to the new",
        "People on each list, end of day",
        "Requests refused, by service",
        "Wrongful sanctions by mechanism, cumulative",
    ):
        assert title in page
    assert "Calibration for scenarios without published figures" in page
    assert "<h2>Against the published figures</h2>" not in page  # rongcheng has no targets
    assert page.count('class="flag"') >= 1  # the reckless class draws four-fifths flags


def test_report_of_a_run_without_people_or_wrongful_sanctions(tmp_path: Path) -> None:
    result = scsim.run(
        "rongcheng", tmp_path / "quiet", population=5_000, days=10, overrides={"run.people": "none"}
    )
    page = write_report(result).read_text()
    assert "No final scores: this run wrote no people.parquet." in page
    assert "No sanction in this run rests on a false record." in page
    assert figures_in(page) == page.count('class="plotly-graph-div"')


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")
def test_every_figure_is_drawn_in_headless_chromium_without_console_errors(
    report: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    dom = done.stdout
    expected = figures_in(report.read_text())
    assert dom.count('class="plot-container plotly"') == expected
    assert f'data-figures-drawn="{expected}"' in dom  # every newPlot promise resolved
    assert dom.count('class="main-svg"') >= expected


def test_a_run_too_large_to_report_in_memory_skips_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scsim
    import scsim.report.html as html

    monkeypatch.setattr(html, "MAX_LEDGER_ROWS", 0)
    result = scsim.run("rongcheng", tmp_path / "big", population=5_000, days=20)
    assert result.manifest["ledger_rows"] > 0
    assert not (result.path / "report.html").exists()
    assert (result.path / "ledger.parquet").exists()


def test_a_run_with_published_targets_reports_them_beside_its_series(tmp_path: Path) -> None:
    result = scsim.run(
        "court-list-history", tmp_path / "court", population=20_000, overrides={"run.days": 500}
    )
    page = write_report(result).read_text()
    assert "<h2>Against the published figures</h2>" in page
    assert "<h2>Appeals</h2>" in page and "won by the wrongly listed" in page
    for series in ("listing_entries", "flight_purchases_blocked", "rail_purchases_blocked"):
        assert f"{series}: " in page  # a figure per series with its published points
    assert "87,079" in page  # the first published figure, in the table
    assert figures_in(page) == page.count('class="plotly-graph-div"')
