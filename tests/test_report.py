"""`scsim report`: a self-contained HTML page, drawn whole by a headless browser, offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from audit_ledgers import inflated
from conftest import TinyRun, assert_one_line_refusal, cli

import scsim
from scsim.audit import dossier, fairness, sanctions, tier_flows, worst_person
from scsim.audit.run import MEMORY_ENV, open_run
from scsim.audit.wrongful import wrongful_by_mechanism, wrongly_listed_counts
from scsim.report import write_report
from scsim.report.html import summary

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
    assert figures_in(page) == page.count('class="plotly-graph-div"') == 7


def test_report_has_every_section(report: Path) -> None:
    page = report.read_text()
    headings = ("What happened", "Summary", "Grades", "Lists", "Sanctions", "Mechanisms")
    for heading in (*headings, "Fairness", "Not in this report"):
        assert f"<h2>{heading}</h2>" in page
    for title in (
        "People per grade, end of day",
        "Final scores",
        "Grade changes: from the old grade to the new",
        "People on each list, end of day",
        "Requests refused, by service",
        "Wrongful sanctions by mechanism, cumulative",
        "<th>refused by</th>",
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


# Measures every table once the page has loaded: where its right edge is against the page's.
TABLE_PROBE = """<script>
window.addEventListener("load", function () {
  var width = document.documentElement.clientWidth, widest = 0, over = [];
  document.querySelectorAll("table").forEach(function (table, index) {
    var right = table.getBoundingClientRect().right;
    widest = Math.max(widest, right);
    if (right > width + 1) { over.push(index); }
  });
  document.body.dataset.pageWidth = String(width);
  document.body.dataset.widestTable = String(Math.ceil(widest));
  document.body.dataset.tablesOverflowing = over.join(",") || "none";
});
</script>
"""
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
)


def chromium_dom(page: Path, tmp_path: Path) -> str:
    """The page as headless Chromium (1280 x 900) has drawn it, a table probe added to a copy;
    no console message allowed."""
    probed = tmp_path / f"probed-{page.name}"
    probed.write_text(page.read_text().replace("</body>", TABLE_PROBE + "</body>"))
    done = subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            "--window-size=1280,900",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    return done.stdout


def assert_drawn_and_fitting(dom: str, page: Path) -> None:
    """Every figure drawn, and no table wider than the page."""
    expected = figures_in(page.read_text())
    assert expected > 0
    assert dom.count('class="plot-container plotly"') == expected
    assert f'data-figures-drawn="{expected}"' in dom  # every newPlot promise resolved
    assert dom.count('class="main-svg"') >= expected
    width = int(re.search(r'data-page-width="(\d+)"', dom).group(1))
    widest = int(re.search(r'data-widest-table="(\d+)"', dom).group(1))
    assert 'data-tables-overflowing="none"' in dom, (widest, width)


def first_section(dom: str) -> tuple[str, str]:
    """The first h2's text and the plain text of what follows it up to the next h2."""
    heading = re.search(r"<h2>(.*?)</h2>(.*?)<h2>", dom, flags=re.DOTALL)
    return heading.group(1), re.sub(r"<[^>]+>", " ", heading.group(2))


@needs_chromium
def test_a_report_in_headless_chromium_opens_in_words_draws_every_plot_and_fits(
    report: Path, tmp_path: Path
) -> None:
    dom = chromium_dom(report, tmp_path)
    summary = json.loads((report.parent / "run.json").read_text())["summary"]
    heading, text = first_section(dom)
    assert heading == "What happened"
    said = " ".join(text.split())
    assert f"This run followed {summary['people']:,} synthetic people" in said
    assert f"The system recorded {summary['records']:,} of them" in said
    assert "<p>" in dom[dom.index("<h2>What happened</h2>") :][:200]  # prose, not a table
    assert_drawn_and_fitting(dom, report)


@needs_chromium
def test_a_compare_page_in_headless_chromium_opens_in_words_draws_and_fits(
    tiny_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    outcome = cli(
        "compare",
        str(tiny_file),
        "--against-none",
        "--days",
        "30",
        "--seeds",
        "2",
        "--out",
        str(out),
    )
    assert outcome.exit_code == 0, outcome.text
    page = out / "compare.html"
    dom = chromium_dom(page, tmp_path)
    heading, text = first_section(dom)
    assert heading == "What was compared"
    said = " ".join(text.split())
    assert said.startswith("20,000 people for 30 days, 2 seeds, 7 to 8. A is tiny (")
    assert "Requests refused:" in said and "a run under A" in said
    assert_drawn_and_fitting(dom, page)


def test_a_report_is_written_out_of_core_under_a_memory_limit_the_ledger_exceeds(
    tiny_run: TinyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = 200  # 580,000 ledger rows: more than the limit holds (the list below fails)
    run = inflated(tiny_run.path, tmp_path / "big", copies)
    monkeypatch.setenv(MEMORY_ENV, "32MB")
    audit = open_run(run)
    with pytest.raises(duckdb.OutOfMemoryException):
        audit.sql("select list(l) from ledger l").fetchall()  # the ledger does not fit
    page = write_report(run).read_text()
    assert "<h2>Fairness</h2>" in page and "Wrongful sanctions by mechanism" in page
    small = _audit_tables(run)
    audit.limit_memory("1GB")
    for name, frame in _audit_tables(run).items():
        pd.testing.assert_frame_equal(small[name], frame, obj=name)
    everyone = small["fairness"].set_index("dimension").loc["all"]
    original = fairness(tiny_run.path).set_index("dimension").loc["all"]
    for column in ("sanctions", "sanctioned", "wrongful_sanctions", "days_wrongly_listed"):
        assert everyone[column] == copies * original[column] > 0, column
    assert everyone.refusal_gini == pytest.approx(original.refusal_gini)  # each person k times


def _audit_tables(run: Path) -> dict[str, pd.DataFrame]:
    """The report's queries, each a small frame however long the ledger."""
    worst = worst_person(run)
    return {
        "fairness": fairness(run),
        "wrongful_by_mechanism": wrongful_by_mechanism(run, by="region"),
        "sanctions": sanctions(run, by="class"),
        "tier_flows": tier_flows(run),
        "wrongly_listed": wrongly_listed_counts(run, ("list", "entered", "left")),
        "dossier": dossier(run, worst),
    }


def test_a_memory_limit_that_is_not_a_size_is_refused_in_one_line(
    tiny_run: TinyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "tiny"
    shutil.copytree(tiny_run.path, run)
    monkeypatch.setenv(MEMORY_ENV, "lots")
    outcome = cli("report", str(run))
    assert outcome.exit_code == 2
    assert "memory limit 'lots' not understood" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1
    monkeypatch.setenv(MEMORY_ENV, "1GB")
    outcome = cli("report", str(run), "--memory", "plenty")
    assert outcome.exit_code == 2 and "memory limit 'plenty' not understood" in outcome.stderr
    outcome = cli("report", str(run), "--memory", "0")  # DuckDB wants a unit: was a traceback
    assert outcome.exit_code == 2 and "memory limit '0' not understood" in outcome.stderr
    assert cli("report", str(run), "--memory", "200MB").exit_code == 0


def test_a_memory_limit_too_small_for_the_audit_is_one_line_and_no_page(
    tiny_run: TinyRun, tmp_path: Path
) -> None:
    """DuckDB out of the memory the user allowed is the user's limit, not a bug: one line that
    says how to raise it, not DuckDB's traceback, and no page half-written."""
    run = tmp_path / "tiny"
    shutil.copytree(tiny_run.path, run)
    (run / "report.html").unlink(missing_ok=True)
    outcome = cli("report", str(run), "--memory", "1MB")
    assert_one_line_refusal(outcome, "ran out of memory under its limit", MEMORY_ENV, "--memory")
    assert sorted(p.name for p in run.iterdir() if "report" in p.name) == []


def test_a_run_with_published_targets_reports_them_beside_its_series(tmp_path: Path) -> None:
    busy = {  # courts at full use from the start, and many appeals: every section has rows
        "run.days": 500,
        "surveillance.sensors.courts.adoption.floor": 1.0,
        "rulebook.lists.court_list_until_performed.appeal_share_rightly": 0.5,
    }
    result = scsim.run("court-list-history", tmp_path / "court", population=20_000, overrides=busy)
    page = write_report(result).read_text()
    assert "<h2>Against the published figures</h2>" in page
    assert "<h2>Appeals</h2>" in page and "won by the wrongly listed" in page
    for series in ("listing_entries", "flight_purchases_blocked", "rail_purchases_blocked"):
        assert f"{series}: " in page  # a figure per series with its published points
    assert "87,079" in page  # the first published figure, in the table
    assert figures_in(page) == page.count('class="plotly-graph-div"')
    drawn = scsim.plots.every(result)  # the same figures for a notebook, a series each
    assert len(drawn) == figures_in(page) and "calibration_3" in drawn
    # lists only, one grade, every score 0: a sentence each, not an empty chart
    assert "grades" not in drawn and "scores" not in drawn and "grade_flows" not in drawn
    assert "Everyone is in the one grade" in page and "nobody gained or lost" in page
    # dated: the days are drawn as dates, as the published points are
    assert drawn["list_sizes"].layout.xaxis.title.text == "date"
    assert str(drawn["list_sizes"].data[0].x[0]).startswith("2013-10-01")
    # flights and trains are blocked from dated changes only: counted all the same
    table = summary(open_run(result)).set_index("figure").value
    assert int(table["blocked: flight"].replace(",", "")) == result.summary["blocked"]["flight"] > 0
    assert "blocked: train" in table and "blocked: public_sector_job" in table
    # so a wrongful refusal of a flight is traced to the listing behind it (it was "unknown")
    blocking = open_run(result).service_lists
    assert {"court_list", "court_list_until_performed"} <= set(
        blocking[blocking.service == "flight"].list
    )


# ---------------------------------------------------------------- the plots, for a notebook


def test_the_plots_of_a_run_are_the_reports_figures(report: Path) -> None:
    """`scsim.plots` draws for a notebook what report.html draws: the same figures, in order."""
    drawn = scsim.plots.every(report.parent)
    assert list(drawn) == [
        "grades",
        "scores",
        "grade_flows",
        "list_sizes",
        "sanctions",
        "wrongful",
        "mechanisms",
    ]
    page = report.read_text()
    assert len(drawn) == figures_in(page)
    for index, fig in enumerate(drawn.values()):
        assert fig.data, f"{index}: no traces"
        title = fig.layout.title.text
        at = page.index(f'id="figure-{index}"')
        assert json.dumps(title)[1:-1] in page[at:], title  # the report's figure N has its title


def test_a_plot_with_nothing_to_draw_is_none(tmp_path: Path) -> None:
    """sesame has no lists, rates no company and has no published targets; without
    people.parquet there are no final scores to draw."""
    result = scsim.run(
        "sesame", tmp_path / "quiet", population=2_000, days=5, overrides={"run.people": "none"}
    )
    assert scsim.plots.scores(result) is None and scsim.plots.list_sizes(result) is None
    assert scsim.plots.company_grades(result) is None and scsim.plots.calibration(result) == []
    drawn = scsim.plots.every(result)
    assert "grades" in drawn and not {"scores", "list_sizes", "company_grades"} & set(drawn)
    assert len(drawn) == figures_in(write_report(result).read_text())


def test_a_result_shows_its_summary_in_a_notebook(tiny_run: TinyRun) -> None:
    shown = scsim.Result(tiny_run.path)._repr_html_()
    summary = tiny_run.path / "run.json"
    people = json.loads(summary.read_text())["summary"]["people"]
    assert "<b>scsim run: tiny</b>" in shown and f"<td>{people:,}</td>" in shown
    assert "report.html</a>" in shown and str(tiny_run.path) in shown


def test_a_report_that_cannot_be_written_is_refused_before_the_work(
    tiny_run: TinyRun, tmp_path: Path
) -> None:
    """A folder as --out, or a path through a file: one line, and nothing left behind (a
    refused report left a 5 MB hidden .partial beside its target)."""
    run = Path(shutil.copytree(tiny_run.path, tmp_path / "tiny"))
    folder, file = tmp_path / "pages", tmp_path / "afile"
    folder.mkdir()
    file.write_text("x")
    assert_one_line_refusal(cli("report", str(run), "--out", str(folder)), "is a folder")
    assert_one_line_refusal(cli("report", str(run), "--out", f"{file}/r.html"), "is a file")
    assert list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "pages", "tiny"]
    nested = tmp_path / "new" / "sub" / "r.html"  # folders on the way are made
    assert cli("report", str(run), "--out", str(nested)).exit_code == 0
    assert nested.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("command", ["report", "dossier"])
def test_a_damaged_run_is_named_as_damaged_not_a_traceback(
    command: str, tiny_run: TinyRun, tmp_path: Path
) -> None:
    run = Path(shutil.copytree(tiny_run.path, tmp_path / "tiny"))
    ledger = run / "ledger.parquet"
    data = ledger.read_bytes()
    ledger.write_bytes(data[: len(data) // 2])  # a copy cut short
    args = ["--out", str(tmp_path / "r.html")] if command == "report" else ["--worst"]
    line = assert_one_line_refusal(cli(command, str(run), *args), "ledger.parquet", "bytes")
    assert "changed since the run wrote them" in line


def test_a_sub_row_keeps_its_indent_in_html() -> None:
    """ "  of which false" under "records": HTML drops leading spaces, a padding keeps them."""
    from scsim.report.page import table_html

    page = table_html(pd.DataFrame({"figure": ["records", "  of which false"], "value": [9, 1]}))
    assert "<td>records</td>" in page
    assert '<td style="padding-left:1.5em">of which false</td>' in page


# ---------------------------------------------------------------- issue 26: what the page says


def test_the_refusals_chart_labels_wrongful_as_wrongful_and_holders_apart(
    tiny_run: TinyRun,
) -> None:
    """The red bars hold the wrongful refusals and say so; the refusals of people with a false
    record that it did not cause are a bar of their own, and the three parts add up."""
    fig = scsim.plots.sanctions(tiny_run.path)
    parts = {trace.name: sum(trace.y) for trace in fig.data}
    metrics = pd.read_parquet(tiny_run.path / "metrics.parquet")
    wrongful = int(metrics.sanctions_wrongful.sum())
    holders = int(metrics.sanctions_on_false_record_holders.sum())
    assert parts["wrongful: refused because of a false record"] == wrongful
    assert parts["refused, person has a false record that did not cause it"] == holders - wrongful
    summary = json.loads((tiny_run.path / "run.json").read_text())["summary"]
    assert sum(parts.values()) == sum(summary["blocked"].values())
    assert not any(name == "on people with a false record" for name in parts)


def test_the_report_tells_the_two_false_record_figures_apart(report: Path) -> None:
    metrics = pd.read_parquet(report.parent / "metrics.parquet")
    holders = int(metrics.sanctions_on_false_record_holders.sum())
    wrongful = int(metrics.sanctions_wrongful.sum())
    page = report.read_text()
    assert (
        f"{holders:,} were refused to people with a false record in their history; "
        f"{wrongful:,} of those were wrongful" in page
    )


def test_a_report_opens_with_what_happened_in_words_with_the_runs_figures(report: Path) -> None:
    page = report.read_text()
    summary = json.loads((report.parent / "run.json").read_text())["summary"]
    first = page.index("<h2>", page.index("<body"))
    assert page[first:].startswith("<h2>What happened</h2>")
    opening = page[first : page.index("<h2>Summary</h2>")]
    refused = sum(summary["blocked"].values())
    for said in (
        f"This run followed {summary['people']:,} synthetic people",
        f"for {summary['days']:,} days",
        f"The system recorded {summary['records']:,} of them",
        f"{summary['records_false']:,} of its records were false",
        f"Services refused {refused:,} requests",
        "Harmed wrongly, each time because of a false record:",
        "acts done for the points (gaming)",  # rongcheng's gaming, a mechanism that ran
    ):
        assert said in opening, said
    assert page.index("<h2>What happened</h2>") < page.index('class="plotly-graph-div"')


def test_every_mechanism_that_ran_has_its_line_and_its_plot(tmp_path: Path) -> None:
    """national-score's report left out suspensions, the gray market, informants and burdens
    that its terminal summary showed."""
    result = scsim.run("national-score", tmp_path / "nation", population=20_000, days=60)
    page = write_report(result).read_text()
    opening = page[page.index("<h2>What happened</h2>") : page.index("<h2>Summary</h2>")]
    metrics = result.metrics
    for column, words in (
        ("accounts_suspended", "accounts suspended"),
        ("gray_market_purchases", "purchases of points on the gray market"),
        ("informant_reports", "informants&#x27; reports"),
        ("burden_officer_visit", "grade burdens of kind officer visit"),
        ("burden_search", "grade burdens of kind search"),
        ("speech", "critical posts spoken"),
    ):
        assert f"<li>{int(metrics[column].sum()):,} {words}" in opening, words
    drawn = scsim.plots.mechanisms(result)
    names = {trace.name for trace in drawn.data}
    assert {"accounts suspended", "grade burdens of kind officer visit"} <= names
    assert drawn.layout.yaxis.type == "log"
    assert "<h2>Mechanisms</h2>" in page


def test_grades_are_drawn_so_that_each_can_be_seen(report: Path) -> None:
    """Stacked, 99% in the base grade was one solid block: a line per grade on a log scale."""
    fig = scsim.plots.grades(report.parent)
    assert fig.layout.yaxis.type == "log"
    assert all(trace.stackgroup is None for trace in fig.data)


def test_the_page_has_no_literal_backticks_and_tolerances_read_as_percentages(
    tmp_path: Path,
) -> None:
    result = scsim.run("court-list-history", tmp_path / "court", population=20_000, days=400)
    page = write_report(result).read_text()
    text = re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL)
    assert "`" not in text
    assert "<code>scsim calibrate court-list-history --seeds K</code>" in text
    assert "<td>±25%</td>" in text or "<td>±" in text
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    assert not [
        c for c in cells if re.fullmatch(r"[\d,]+\.\d+", c) and float(c.replace(",", "")) > 1e5
    ]


def test_the_fairness_table_names_the_groups_too_small_to_compare_with(tmp_path: Path) -> None:
    """At 200,000 people Tibet (518) and Qinghai (840) had no sanctions and every other region
    was flagged 'inf / violated' against them."""
    result = scsim.run("national-score", tmp_path / "nation", population=200_000, days=120)
    page = write_report(result).read_text()
    assert "Too small to serve as the reference" in page and "Tibet (518)" in page
    assert "∞" not in page[page.index("<h2>Fairness</h2>") :]
    table = fairness(result)
    regions = table[table.dimension == "region"].set_index("group")
    assert regions.too_small["Tibet"] and not regions.reference["Tibet"]
    assert not regions.ratio_to_lowest.isin([float("inf")]).any()
    assert not (regions.reference & regions.too_small).any()
    assert not regions.four_fifths_clear.all()


def test_the_reports_summary_counts_wrongful_harms_as_the_terminal_does(tmp_path: Path) -> None:
    """One count of wrongful harm, the same on the page as on the terminal and in run.json."""
    from scsim.simulation.summary import wrongful_total

    result = scsim.run("national-score", tmp_path / "nation", population=100_000, days=120)
    table = summary(open_run(result)).set_index("figure").value
    expected = wrongful_total(result.summary)
    assert table["wrongful harms, all kinds (false records)"] == f"{expected:,}"
    assert expected > result.summary["wrongful_sanctions"]  # burdens, beyond refusals
