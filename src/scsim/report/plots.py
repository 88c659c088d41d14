"""The report's plots of a run, one function each, for a notebook as for report.html.

Each takes a run (a directory, an `scsim.Result` or an opened `AuditRun`) and returns a plotly
figure, or None where the run has nothing to draw (no lists, no refusals, no people file), so
that a notebook shows the plot inline without writing the report:

    >>> result = scsim.run("rongcheng", population=100_000, days=365)
    >>> scsim.plots.list_sizes(result)                 # shown inline in Jupyter
    >>> for name, fig in scsim.plots.every(result).items():
    ...     fig.write_html(f"{name}.html")             # or fig.show()

report.html draws the same figures (`scsim.report.html`), with the notes and tables beside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from scsim.audit.daily import sanctions as daily_sanctions
from scsim.audit.daily import tier_flows
from scsim.audit.places import places as audit_places
from scsim.audit.run import AuditRun, open_run
from scsim.audit.wrongful import wrongful_by_mechanism, wrongly_listed_counts
from scsim.report import figures

SCORE_BINS = 60


def grades(run: Any) -> go.Figure | None:
    """People per grade at the end of each day, stacked; None where the rulebook has one
    grade only (a lists-only system: everyone in it all along)."""
    audit = open_run(run)
    if len(audit.tiers) == 1:
        return None
    return _dated(figures.tier_area(_metrics(audit), audit.tiers), audit)


def scores(run: Any) -> go.Figure | None:
    """The final scores (of people.parquet: everyone or its sample); None without one."""
    bins, note = score_bins(open_run(run))
    return None if bins is None else figures.score_histogram(bins, note)


def grade_flows(run: Any) -> go.Figure | None:
    """People moving from grade to grade over the run; None if nobody moved."""
    audit = open_run(run)
    flows = tier_flows(audit)
    return None if flows.empty else figures.tier_sankey(flows, audit.tiers)


def list_sizes(run: Any, *, spells: pd.DataFrame | None = None) -> go.Figure | None:
    """People on each list at the end of each day, and those of them listed on a false record;
    None without lists. `spells` is `wrongly_listed_counts(run, ("list", "entered", "left"))`
    where the caller has it already."""
    audit = open_run(run)
    if not audit.lists:
        return None
    if spells is None:
        spells = wrongly_listed_counts(audit, ("list", "entered", "left"))
    metrics = _metrics(audit)
    frames = [
        pd.DataFrame(
            {
                "day": metrics.day,
                "list": name,
                "size": metrics[f"{name}_size"],
                "wrongful": listed_stock(spells[spells.list == name], audit.days),
            }
        )
        for name in audit.lists
    ]
    return _dated(figures.list_sizes(pd.concat(frames, ignore_index=True)), audit)


def sanctions(run: Any) -> go.Figure | None:
    """Refused requests per service over the run, split three ways: wrongful (caused by a
    false record), refusals of people with a false record that did not cause them, and the
    rest; None if no service refuses anyone."""
    audit = open_run(run)
    totals = daily_sanctions(audit).groupby("service", sort=False)
    totals = totals[["blocked", "wrongful"]].sum().reset_index()
    if totals.empty:
        return None
    holders = refusals_of_false_record_holders(audit)
    if holders is not None:
        totals["holders"] = totals.service.map(holders).fillna(0).astype(int)
    return figures.sanctions_by_service(totals)


def refusals_of_false_record_holders(audit: AuditRun) -> pd.Series | None:
    """Requests refused over the run, per service, to people with a false record in their
    history (wrongful or not: the daily metrics' `<service>_blocked_false_record_holders`);
    None for a run written before they were counted per service."""
    columns = [f"{s}_blocked_false_record_holders" for s in audit.restricted_services]
    metrics = _metrics(audit)
    if not all(c in metrics for c in columns):
        return None
    totals = metrics[columns].sum().astype(int).to_numpy()
    return pd.Series(totals, index=list(audit.restricted_services))


def wrongful(run: Any, *, daily: pd.DataFrame | None = None) -> go.Figure | None:
    """Wrongful sanctions per day by the mechanism of the false record behind them; None if
    none rests on a false record. `daily` is `wrongful_by_mechanism(run)` where the caller has
    it already."""
    audit = open_run(run)
    daily = wrongful_by_mechanism(audit) if daily is None else daily
    if daily.sanctions.sum() == 0:
        return None
    return _dated(figures.wrongful_by_mechanism(daily), audit)


def mechanisms(run: Any) -> go.Figure | None:
    """Each mechanism beyond scores and lists (speech, suspensions, gaming, the gray market,
    informants, a grade's burdens, premiums, ...), cumulative over the run; None where the
    scenario has none on."""
    from scsim.report.story import mechanisms as found

    audit = open_run(run)
    metrics = _metrics(audit)
    ran = found(audit, metrics)
    if not ran:
        return None
    frame = pd.DataFrame(
        {
            "day": metrics.day,
            **{m.label: metrics[m.column].cumsum() for m in ran},
        }
    )
    return _dated(figures.mechanisms_over_time(frame), audit)


def company_grades(run: Any) -> go.Figure | None:
    """Companies per grade at the end of each day, stacked; None where no company is rated."""
    audit = open_run(run)
    firms = audit.scenario.companies
    if firms is None:
        return None
    grades = tuple(firms.grades)
    fig = figures.tier_area(_metrics(audit), grades, prefix="company_grade_", who="companies")
    return _dated(fig, audit)


def calibration(run: Any, *, table: pd.DataFrame | None = None) -> list[go.Figure]:
    """Each calibration series of the scenario over time, its published points on it; none
    where the scenario has no targets. `table` is the run's calibration table where the caller
    has it already (`scsim.audit.published.calibration_table`)."""
    from scsim.audit.published import calibration_table
    from scsim.audit.series import scale, series_values

    audit = open_run(run)
    scenario = audit.scenario
    if scenario.calibration is None or not scenario.calibration.targets:
        return []
    metrics = _metrics(audit)
    table = calibration_table(scenario, [metrics]) if table is None else table
    x = metrics.get("date", metrics.day)
    drawn = []
    for name, series in scenario.calibration.series.items():
        mine = table[(table.series == name) & (table.figure == name)]
        if mine.empty:
            continue
        points = pd.DataFrame(
            {
                "x": [x.iloc[d] if d < len(x) else None for d in mine.day],
                "value": mine.published.to_numpy(),
                "tolerance": mine.tolerance.to_numpy(),
            }
        )
        line = pd.DataFrame(
            {"x": x, "value": series_values(metrics, name, series) * scale(scenario)}
        )
        title = series.description or name
        drawn.append(figures.calibration_series(line, points, f"{name}: {title}"))
    return drawn


def every(run: Any) -> dict[str, go.Figure]:
    """Every plot the run has, by name, in the report's order (calibration series as
    calibration_1, calibration_2, ...)."""
    drawn: dict[str, go.Figure | None] = {
        name: plot(run)
        for name, plot in (
            ("grades", grades),
            ("scores", scores),
            ("grade_flows", grade_flows),
            ("list_sizes", list_sizes),
            ("sanctions", sanctions),
            ("wrongful", wrongful),
            ("mechanisms", mechanisms),
            ("company_grades", company_grades),
            ("places", places),
        )
    }
    for index, fig in enumerate(calibration(run), start=1):
        drawn[f"calibration_{index}"] = fig
    return {name: fig for name, fig in drawn.items() if fig is not None}


def places(run: Any) -> go.Figure | None:
    """Places side by side, ranked (a run with local rulebooks: `pilots`); None without."""
    audit = open_run(run)
    if not audit.scenario.places:
        return None
    return figures.places_ranked(place_table(audit))


def place_table(audit: AuditRun) -> pd.DataFrame:
    """The places the report shows: those with a rulebook, and the regions they lie in."""
    table = audit_places(audit)
    shown = table.rulebook | table.place.isin(table.region[table.rulebook])
    return table[shown]


def score_bins(audit: AuditRun) -> tuple[pd.DataFrame | None, str]:
    """The final scores in about `SCORE_BINS` bins (score, width, people) and a note on whose
    they are; (None, why) where there are none."""
    if not audit.has_people:
        return None, "No final scores: this run wrote no people.parquet."
    low, high, count = audit.sql("select min(score), max(score), count(*) from people").fetchall()[
        0
    ]
    if not count:
        return None, "No final scores: people.parquet is empty."
    width = max(1, int(np.ceil((int(high) - int(low) + 1) / SCORE_BINS)))
    bins = audit.sql(
        "select floor(score / $w)::bigint * $w as score, count(*) as people "
        "from people group by all order by 1",
        w=width,
    ).df()
    note = "" if count == audit.size else f" (a sample of {count:,} people)"
    if low == high:  # one bar says less than a sentence
        return None, f"Every final score{note} is {low}: nobody gained or lost a point."
    return bins.assign(width=width), note


def listed_stock(spells: pd.DataFrame, days: int) -> np.ndarray:
    """People inside at the end of each day, from `listings` spells [entered, left) counted
    per (entered, left); left is missing for those still inside."""
    change = np.zeros(days + 1, dtype=np.int64)
    np.add.at(change, spells.entered.to_numpy(dtype=np.int64), spells.listings.to_numpy())
    ended = spells[spells["left"].notna()]
    np.add.at(change, ended["left"].to_numpy(dtype=np.int64), -ended.listings.to_numpy())
    return np.cumsum(change)[:days]


def _dated(fig: go.Figure, audit: AuditRun) -> go.Figure:
    """A figure over days drawn over dates where the run has them (`run.start`), as its
    metrics and its published targets are: each trace's day numbers become dates."""
    start = audit.scenario.run.start
    if start is None or fig.layout.xaxis.title.text != "day":
        return fig
    for trace in fig.data:
        trace.x = audit.dates(trace.x)
    y = fig.layout.yaxis.title.text or ""
    return fig.update_layout(xaxis_title="date", yaxis_title=y.replace("day 0", str(start)))


def _metrics(audit: AuditRun) -> pd.DataFrame:
    return audit.sql("select * from metrics order by day").df()
