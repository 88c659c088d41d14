"""The run's report: one self-contained HTML page (plotly.js embedded, no network) with
interactive figures and the audit's tables.

    >>> write_report("runs/rongcheng")          # writes runs/rongcheng/report.html
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from scsim.audit.comparison import headline
from scsim.audit.daily import refusals_by_cause
from scsim.audit.fairness import fairness
from scsim.audit.run import AuditRun, close_run, open_run
from scsim.audit.wrongful import wrongful_by_mechanism, wrongful_counts, wrongly_listed_counts
from scsim.report import figures, plots
from scsim.simulation.rundir import check_output_file, record_file, write_atomically

# Counts the figures plotly has drawn, so a headless browser can tell when all are done.
DRAWN = (
    "var seen = document.body.dataset;"
    " seen.figuresDrawn = String(Number(seen.figuresDrawn || 0) + 1);"
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
p.lead { color: #555; margin-top: 0; } p.note { color: #555; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
td.flag { background: #fde0dd; color: #a50f15; font-weight: 600; }
dt { font-weight: 600; margin-top: 0.5rem; } dd { margin-left: 1rem; color: #444; }
"""
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
        "each group's sanctions per person over the lowest group's of the same dimension; a "
        "group is flagged by the four-fifths rule when the lowest rate over its own is below 0.8.",
    ),
    (
        "Gini of refusals",
        "inequality of requests refused per person, everyone in the group counted. Granted "
        "rewards are counted only in the daily metrics, not per person, so they have no Gini.",
    ),
)
LEFT_OUT = (
    "Calibration for scenarios without published figures: a scenario's [calibration] section "
    "names the figures it is compared with; `scsim calibrate NAME` runs more seeds and fits.",
    "The chilling effect: it needs a run of the same population with no system "
    "(`scsim compare NAME --against-none`).",
)


@dataclass
class Page:
    """Sections in order; the first figure carries plotly.js, the others share it."""

    title: str
    lead: str
    sections: list[str] = field(default_factory=list)
    figures: int = 0

    def heading(self, text: str) -> None:
        self.sections.append(f"<h2>{html.escape(text)}</h2>")

    def note(self, text: str) -> None:
        self.sections.append(f'<p class="note">{html.escape(text)}</p>')

    def raw(self, markup: str) -> None:
        self.sections.append(markup)

    def figure(self, fig: go.Figure) -> None:
        self.sections.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=self.figures == 0,
                post_script=DRAWN,
                div_id=f"figure-{self.figures}",
                config={"displaylogo": False, "responsive": True},
            )
        )
        self.figures += 1

    def render(self) -> str:
        body = "\n".join(self.sections)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f'<body data-figures="{self.figures}">\n<h1>{html.escape(self.title)}</h1>\n'
            f'<p class="lead">{html.escape(self.lead)}</p>\n{body}\n</body>\n</html>\n'
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
    page.heading("Summary")
    page.raw(table_html(summary(audit)))
    _grades(page, audit)
    _lists(page, audit)
    _sanctions(page, audit)
    _appeals(page, audit)
    _companies(page, audit)
    _fairness(page, audit)
    _calibration(page, audit)
    page.heading("Definitions")
    page.raw(_definitions())
    page.heading("Not in this report")
    page.raw("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in LEFT_OUT) + "</ul>")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, page.render())
    if target.resolve() == (audit.path / "report.html").resolve():  # the run's own report
        record_file(audit.path, "report.html")
    return target


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
    rows += [(f"listed at the end: {n}", int(metrics[f"{n}_size"].iloc[-1])) for n in audit.lists]
    rows += [
        (f"rewards granted: {n}", int(metrics[f"{n}_rewards"].sum()))
        for n in audit.rewarding_services
    ]
    rows.append(("scsim version", audit.manifest.get("scsim_version", "")))
    if "engine_sha256" in audit.manifest:  # runs written before it was recorded lack it
        rows.append(("engine source (sha256)", audit.manifest["engine_sha256"][:12]))
    return pd.DataFrame({"figure": [r[0] for r in rows], "value": [_formatted(r[1]) for r in rows]})


def table_html(frame: pd.DataFrame, flags: pd.DataFrame | None = None) -> str:
    """A plain HTML table; cells where `flags` is true get the class "flag"."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    lines = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for j, value in enumerate(row):
            flagged = flags is not None and bool(flags.iat[i, j])
            attr = ' class="flag"' if flagged else ""
            text = _formatted(value)
            indent = len(text) - len(text.lstrip(" "))  # "  of which false": a sub-row
            if indent:
                attr += f' style="padding-left:{indent * 0.5 + 0.5:g}em"'
            cells.append(f"<td{attr}>{html.escape(text.lstrip(' '))}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


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


def _fairness(page: Page, audit: AuditRun) -> None:
    page.heading("Fairness")
    table = fairness(audit)
    shown = pd.DataFrame(
        {
            "dimension": table.dimension,
            "group": table.group,
            "people": table.people,
            "sanctions": table.sanctions,
            "people sanctioned": table.sanctioned,
            "sanctions per 1,000": table.sanction_rate * 1000,
            "ratio to lowest": table.ratio_to_lowest,
            "lowest / this": table.impact_ratio,
            "four-fifths flag": table.four_fifths.map({True: "violated", False: ""}),
            "wrongful sanctions": table.wrongful_sanctions,
            "wrongful per 1,000": table.wrongful_rate * 1000,
            "wrongful listings": table.wrongful_listings,
            "days wrongly listed": table.days_wrongly_listed,
            "Gini of refusals": table.refusal_gini,
        }
    )
    if "burdens" in table:  # suspensions, a grade's visits and searches, premiums
        shown["burdens per 1,000"] = table.burdens / table.people * 1000
        shown["wrongful burdens"] = table.wrongful_burdens
    flags = pd.DataFrame(False, index=shown.index, columns=shown.columns)
    flags["four-fifths flag"] = table.four_fifths.to_numpy()
    flags["lowest / this"] = table.four_fifths.to_numpy()
    page.raw(table_html(shown, flags))
    page.note(
        "Groups are the scenario's strata: region, area (urban or rural) and behaviour class, "
        "and income band where the scenario has bands. Rates are over the whole run. Burdens "
        "(where the run has any) are suspensions, a grade's officer visits and searches, and "
        "premiums; the wrongful ones rest on false records."
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
    shown = table[["date", "figure", "published", "model", "ratio", "tolerance", "within"]]
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


def _definitions() -> str:
    items = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in DEFINITIONS
    )
    return f"<dl>{items}</dl>"


def _formatted(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "—"
        if np.isinf(value):
            return "∞"
        if float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:,.3f}" if abs(float(value)) < 1000 else f"{value:,.1f}"
    return str(value)
