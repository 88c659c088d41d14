"""The run's report: one self-contained HTML page (plotly.js embedded, no network) with
interactive figures and the audit's tables.

    >>> write_report("runs/rongcheng")          # writes runs/rongcheng/report.html
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.comparison import headline
from scsim.audit.daily import refusals_by_cause
from scsim.audit.run import AuditRun, close_run, open_run
from scsim.audit.wrongful import wrongful_by_mechanism, wrongful_counts, wrongly_listed_counts
from scsim.report import figures, plots
from scsim.report.balance import balance_section
from scsim.report.fairness import fairness_section
from scsim.report.page import Page, formatted, prose, table_html
from scsim.report.story import harms, harms_total, run_story
from scsim.simulation.rundir import check_output_file, record_file, write_atomically

DEFINITIONS = (
    (
        "Wrongful sanction",
        "a refused request (ledger kind 'blocked') whose row has truth false: its cause holds "
        "a false record. Every list that refused it was entered on a false record, and the "
        "person's grade without their false points would not have been refused. 'Sanctions on "
        "people with a false record' counts, more widely, refusals of anyone with one in their "
        "history.",
    ),
    (
        "False record",
        "a record the person did not earn (misidentified: another's act charged to them; "
        "false_match: an event that never happened; association: a share of a relative's or "
        "friend's deduction) that harmed them: it took points, set a grade or listed them.",
    ),
    (
        "Mechanism",
        "the origin of the person's first false record on or before the day of the sanction.",
    ),
    (
        "Days wrongly listed",
        "from each listing entered on a false record (list_entry with truth false) to the "
        "matching exit, or to the end of the run.",
    ),
    (
        "Disparate impact",
        "each group's sanctions per person over the reference group's: the lowest rate among "
        "the groups of the same dimension large enough to expect 10 people refused. A group is "
        "flagged by the four-fifths rule when the reference's rate over its own is below 0.8 "
        "and the 95% interval of the ratio agrees.",
    ),
    (
        "Reward",
        "a request granted with a reward (ledger kind 'reward'): the person's grade is one the "
        "service rewards, or they are on a list whose members it rewards (a redlist's green "
        "channel). Unearned where it rests on a false record. Punishments beside them are "
        "requests refused and burdens suffered.",
    ),
    (
        "People refused and refusals per person refused",
        "how widely refusals fall (people refused at least once, per 1,000) and how hard "
        "(refusals of each of them: a listed person is refused each time they try). They "
        "replace the Gini of refusals, which is near 1 whenever few people are refused and so "
        "said the same of every group (scsim.audit.refusal_gini still gives it).",
    ),
)
LEFT_OUT = (
    "Calibration for scenarios without published figures: a scenario's [calibration] section "
    "names the figures it is compared with; `scsim calibrate NAME` runs more seeds and fits.",
    "The chilling effect: it needs a run of the same population with no system "
    "(`scsim compare NAME --against-none`).",
)


def write_run_report(run_dir: Path) -> bool:
    """The report a run writes beside its files, if its scenario asks. True if written.

    Any size: the report's queries aggregate inside DuckDB, under a memory limit, spilling to
    disk (see `scsim.audit.run`), so a national ledger (890 M rows) is never in memory."""
    manifest = json.loads((Path(run_dir) / "run.json").read_text())
    if not manifest["scenario"].get("run", {}).get("report", True):
        return False
    try:
        write_report(run_dir)
    finally:
        close_run(run_dir)
    return True


def write_report(run_dir: Any, out: str | Path | None = None, *, memory: str | None = None) -> Path:
    """Write the run's report (default RUN/report.html) and return its path. `memory` holds
    DuckDB to that limit (e.g. "64MB"; default SCSIM_AUDIT_MEMORY or half the available)."""
    audit = open_run(run_dir)
    target = Path(out) if out is not None else audit.path / "report.html"
    check_output_file(target)
    audit.limit_memory(memory)
    scenario = audit.scenario
    page = Page(
        f"scsim report: {scenario.name}",
        f"{audit.size:,} people, {audit.days:,} days, seed {scenario.run.seed}. "
        f"{scenario.description}",
    )
    _what_happened(page, audit)
    page.heading("Summary")
    page.raw(table_html(summary(audit)))
    _grades(page, audit)
    _places(page, audit)
    _lists(page, audit)
    _sanctions(page, audit)
    _mechanisms(page, audit)
    _appeals(page, audit)
    _companies(page, audit)
    fairness_section(page, audit)
    balance_section(page, audit)
    _calibration(page, audit)
    page.heading("Definitions")
    page.raw(_definitions())
    page.heading("Not in this report")
    page.raw("<ul>" + "".join(f"<li>{prose(t)}</li>" for t in LEFT_OUT) + "</ul>")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, page.render())
    if target.resolve() == (audit.path / "report.html").resolve():  # the run's own report
        record_file(audit.path, "report.html")
    return target


def _what_happened(page: Page, audit: AuditRun) -> None:
    """The opening: the run in words, every mechanism that ran on a line of its own."""
    paragraphs, lines = run_story(audit)
    page.heading("What happened")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    mechanisms = f"<p>Other mechanisms that ran:</p><ul>{items}</ul>" if lines else ""
    page.raw(
        '<section class="story">'
        + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        + mechanisms
        + "</section>"
    )


def _mechanisms(page: Page, audit: AuditRun) -> None:
    """Each mechanism beyond scores and lists over the run, cumulative, and its totals."""
    fig = plots.mechanisms(audit)
    if fig is None:
        return
    page.heading("Mechanisms")
    page.figure(fig)
    page.note(
        "Each mechanism's count since day 0, on a log scale so that a few searches show beside "
        "thousands of posts. Totals, and their wrongful or detected part, are in the first "
        "section."
    )


def summary(audit: AuditRun) -> pd.DataFrame:
    """The run's headline figures, listed people at the end, rewards, and where it came from."""
    rows: list[tuple[str, Any]] = [
        ("scenario", audit.scenario.name),
        ("people", audit.size),
        ("days", audit.days),
        ("seed", audit.scenario.run.seed),
    ]
    rows += list(headline(audit).items())
    metrics = audit.sql("select * from metrics order by day").df()
    rows.append(("wrongful harms, all kinds (false records)", harms_total(harms(audit, metrics))))
    rows += [(f"listed at the end: {n}", int(metrics[f"{n}_size"].iloc[-1])) for n in audit.lists]
    rows += [
        (f"rewards granted: {n}", int(metrics[f"{n}_rewards"].sum()))
        for n in audit.rewarding_services
    ]
    rows.append(("scsim version", audit.manifest.get("scsim_version", "")))
    if "engine_sha256" in audit.manifest:  # runs written before it was recorded lack it
        rows.append(("engine source (sha256)", audit.manifest["engine_sha256"][:12]))
    return pd.DataFrame({"figure": [r[0] for r in rows], "value": [formatted(r[1]) for r in rows]})


def _grades(page: Page, audit: AuditRun) -> None:
    page.heading("Grades")
    by_grade = plots.grades(audit)
    if by_grade is None:
        page.note(
            f"Everyone is in the one grade, {audit.tiers[0]!r}, all along: this scenario "
            "grades nobody, and acts through its lists alone."
        )
    else:
        page.figure(by_grade)
    bins, note = plots.score_bins(audit)
    if bins is None:
        page.note(note)
    else:
        page.figure(figures.score_histogram(bins, note))
    flows = None if by_grade is None else plots.grade_flows(audit)  # one grade: no moves
    if flows is not None:
        page.figure(flows)
    elif by_grade is not None:
        page.note("Nobody changed grade in this run.")


def _places(page: Page, audit: AuditRun) -> None:
    """Places side by side (a scenario with local rulebooks): the chart and its table."""
    if not audit.scenario.places:
        return
    table = plots.place_table(audit)  # once for the chart and the table: passes over the ledger
    page.heading("Places")
    page.figure(figures.places_ranked(table))
    page.raw(table_html(table.round(2)))
    page.note(
        "Per 1,000 people of each place over the run (below_base and unscored: at its end; "
        "unscored and records_unscored: people not scored for want of consent, and their "
        "records kept without a score, where a place asks for consent). A province's "
        "row is its people outside the cities carved out of it; a place without a rulebook "
        "keeps records but scores nobody. `scsim compare NAME --swap PLACE=DONOR` runs a place "
        "under another's rulebook on the same people and seeds."
    )


def _lists(page: Page, audit: AuditRun) -> None:
    if not audit.lists:
        return
    page.heading("Lists")
    spells = wrongly_listed_counts(audit, ("list", "entered", "left"))
    page.figure(plots.list_sizes(audit, spells=spells))
    if len(spells):
        page.note(
            f"{_counted(int(spells.listings.sum()), 'listing')} of people with a false record, "
            f"{_counted(int(spells.days.sum()), 'day')} listed in all."
        )


def _counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _sanctions(page: Page, audit: AuditRun) -> None:
    page.heading("Sanctions")
    refused = plots.sanctions(audit)
    if refused is None:
        page.note("No service in this scenario refuses anyone.")
    else:
        page.figure(refused)
        page.note(_refusals_told_apart(audit))
        causes = refusals_by_cause(audit).fillna({"refused_by": "(not named)"})
        page.raw(table_html(causes.rename(columns={"refused_by": "refused by"})))
        page.note(
            "What refused each request: the person's list (the first in the scenario's order "
            "where several refuse), a household member's list, or the person's grade."
        )
    daily = wrongful_by_mechanism(audit)
    if daily.sanctions.sum() == 0:
        page.note("No sanction in this run rests on a false record.")
        return
    page.figure(plots.wrongful(audit, daily=daily))
    by_mechanism = daily.groupby("mechanism", sort=False).sanctions.sum()
    page.note(
        "Wrongful sanctions by mechanism: "
        + ", ".join(f"{m} {int(n):,}" for m, n in by_mechanism.items())
        + f". Of these {int(by_mechanism.sum()):,}, "
        + "; ".join(_wrongful_causes(audit))
        + "."
    )


def _refusals_told_apart(audit: AuditRun) -> str:
    """The two figures a reader confuses, side by side: refusals of people with a false record
    (the summary's wider count) and the wrongful ones among them (caused by a false record)."""
    metrics = audit.sql(
        "select sum(sanctions_on_false_record_holders), sum(sanctions_wrongful) from metrics"
    ).fetchall()[0]
    holders, wrongful = (int(x or 0) for x in metrics)
    return (
        f"Of the requests refused, {holders:,} were refused to people with a false record in "
        f"their history; {wrongful:,} of those were wrongful, refused because of the false "
        "record (the red part of each bar). The rest of those people were refused for true "
        "records of their own."
    )


WRONGFUL_CAUSES = {  # (reason, listed on a false record) -> what refused them
    ("list", True): "by a list entered on false records only",
    ("list", False): "by a list entered on a true record too (their false record was another)",
    ("tier", False): "for a grade that only their false points earned",
    ("household", False): "for a household member listed on false records",
}


def _wrongful_causes(audit: AuditRun) -> list[str]:
    """The wrongful refusals counted by what refused them, in words, the causes that occur."""
    causes = wrongful_counts(audit, ("reason", "listed_on_false_record"))
    on_false = causes.listed_on_false_record.fillna(False).astype(bool)
    counts = causes.groupby([causes.reason, on_false]).sanctions.sum()
    said = [f"{int(counts[k]):,} {words}" for k, words in WRONGFUL_CAUSES.items() if k in counts]
    other = int(counts.sum() - sum(counts.get(key, 0) for key in WRONGFUL_CAUSES))
    return said + ([f"{other:,} refused otherwise"] if other else [])


def _companies(page: Page, audit: AuditRun) -> None:
    """Company grades and joint punishment, where the scenario rates companies."""
    firms = audit.scenario.companies
    if firms is None:
        return
    page.heading("Companies")
    metrics = audit.sql("select * from metrics order by day").df()
    page.figure(plots.company_grades(audit))
    table = pd.DataFrame(
        {
            "measure": list(firms.measures),
            "occasions": [int(metrics[f"company_{m}_occasions"].sum()) for m in firms.measures],
            "sanctions": [int(metrics[f"company_{m}_sanctions"].sum()) for m in firms.measures],
            "wrongful": [
                int(metrics[f"company_{m}_sanctions_wrongful"].sum()) for m in firms.measures
            ],
            "rewards": [int(metrics[f"company_{m}_rewards"].sum()) for m in firms.measures],
        }
    )
    if len(table):
        page.raw(table_html(table))
    page.note(
        "A company sanction is wrongful when its own records alone would not have earned the "
        "grade the measure sanctions (its employees' or partners' shares did). Legal "
        f"representatives on a list for their company at the end: "
        f"{int(metrics.representatives_restricted.iloc[-1]):,}."
    )


def _appeals(page: Page, audit: AuditRun) -> None:
    """Appeals per list: filed, decided and won, for everyone and for the wrongly listed."""
    metrics = audit.sql("select * from metrics order by day").df()
    flows = (
        ("entries", "entries"),
        ("entered on a false record", "entries_wrongful"),
        ("appeals filed", "appeals_filed"),
        ("filed by the wrongly listed", "appeals_filed_wrongly_listed"),
        ("appeals decided", "appeals_decided"),
        ("appeals won", "appeals_won"),
        ("won by the wrongly listed", "appeals_won_wrongly_listed"),
    )
    rows = [
        {"list": name} | {label: int(metrics[f"{name}_{column}"].sum()) for label, column in flows}
        for name in audit.lists
        if f"{name}_appeals_filed" in metrics
    ]
    if not rows or not any(row["appeals filed"] for row in rows):
        return
    page.heading("Appeals")
    page.raw(table_html(pd.DataFrame(rows)))
    page.note(
        "An appeal is decided after a wait drawn when the person is listed; a success takes them "
        "off the list. Decided counts only appeals whose person was still listed under the same "
        "entry (one who paid up first withdrew it)."
    )


def _calibration(page: Page, audit: AuditRun) -> None:
    """The scenario's published figures beside this run's, and each series over time."""
    from scsim.audit.published import calibration_table

    scenario = audit.scenario
    if scenario.calibration is None or not scenario.calibration.targets:
        return
    page.heading("Against the published figures")
    metrics = audit.sql("select * from metrics order by day").df()
    table = calibration_table(scenario, [metrics])
    shown = pd.DataFrame(
        {
            "date": table.date,
            "figure": table.figure,
            "published": [_figure_value(v) for v in table.published],
            "model": [
                _figure_value(v, like) for v, like in zip(table.model, table.published, strict=True)
            ],
            "ratio": [f"{r:.2f}" if np.isfinite(r) else "—" for r in table.ratio],
            "tolerance": [f"±{t:.0%}" for t in table.tolerance],
            "within": table.within,
        }
    )
    flags = pd.DataFrame(False, index=shown.index, columns=shown.columns)
    flags["ratio"] = ~table.within.to_numpy() & np.isfinite(table.ratio.to_numpy())
    page.raw(table_html(shown, flags))
    page.note(
        f"One seed; counts scaled from {scenario.population.size:,} to "
        f"{scenario.calibration.population or scenario.population.size:,} people. Ratio is "
        "model over published; flagged when outside the target's tolerance. `scsim calibrate "
        f"{scenario.name} --seeds K` gives intervals over seeds. Notes on the targets: "
        + " ".join(f"{r.date} {r.figure}: {r.note}." for r in table.itertuples() if r.note)
    )
    for fig in plots.calibration(audit, table=table):
        page.figure(fig)


def _figure_value(value: float, like: float | None = None) -> str:
    """A published figure or the model's beside it: a count whole (12,248,200, not
    12,248,200.2 people), a share as a percentage."""
    if value is None or not np.isfinite(value):
        return "—"
    if (like if like is not None else value) < 1:
        return f"{value:.1%}"
    return f"{round(value):,}"


def _definitions() -> str:
    items = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in DEFINITIONS
    )
    return f"<dl>{items}</dl>"
