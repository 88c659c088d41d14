"""The report's figures: plotly figures built from DataFrames, no file or run in sight.

Each function takes what the audit computed and returns a `go.Figure`; `html` lays them out.

    >>> fig = tier_area(metrics, ("AAA", "AA", "A", "B", "C", "D"))
    >>> fig.show()
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

HEIGHT = 420
# Best grade first, green to red; enough for the longest rulebooks, then repeated.
TIER_COLOURS = ("#1a9850", "#66bd63", "#a6d96a", "#fee08b", "#fdae61", "#f46d43", "#d73027")
MECHANISM_COLOURS = {
    "misidentified": "#7570b3",
    "false_match": "#d95f02",
    "association": "#1b9e77",
    "unknown": "#999999",
}
TRUE_COLOUR, FALSE_COLOUR = "#4c72b0", "#c44e52"


def tier_area(
    metrics: pd.DataFrame, tiers: tuple[str, ...], prefix: str = "tier_", who: str = "people"
) -> go.Figure:
    """People (or companies: `prefix` "company_grade_") per grade at the end of each day
    (metrics `tier_*`), a line each on a log scale: stacked, 99% in the base grade drew one
    solid block and the grades people moved to could not be seen."""
    fig = go.Figure()
    for index, tier in enumerate(tiers):
        fig.add_trace(
            go.Scatter(
                x=metrics.day,
                y=metrics[f"{prefix}{tier}"],
                name=tier,
                mode="lines",
                line={"width": 2, "color": _tier_colour(index, len(tiers))},
            )
        )
    fig.update_yaxes(type="log")
    title = f"{who.capitalize()} per grade, end of day (log scale)"
    return _layout(fig, title, "day", f"{who} (log scale)")


def score_histogram(bins: pd.DataFrame, note: str) -> go.Figure:
    """Final scores: `bins` has the columns score (bin start), width and people."""
    fig = go.Figure(
        go.Bar(
            x=bins.score + bins.width / 2,
            y=bins.people,
            width=bins.width,
            marker_color=TRUE_COLOUR,
            hovertemplate="score %{x}<br>%{y} people<extra></extra>",
        )
    )
    return _layout(fig, f"Final scores{note}", "score", "people")


def tier_sankey(flows: pd.DataFrame, tiers: tuple[str, ...]) -> go.Figure:
    """Grade changes over the run, from the old grade (left) to the new (right).
    `flows` has the columns old, new, moves."""
    n = len(tiers)
    index = {tier: i for i, tier in enumerate(tiers)}
    colours = [_tier_colour(i, n) for i in range(n)]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{t} (from)" for t in tiers] + [f"{t} (to)" for t in tiers],
                "color": colours + colours,
                "pad": 14,
            },
            link={
                "source": [index[t] for t in flows.old],
                "target": [n + index[t] for t in flows.new],
                "value": list(flows.moves),
                "hovertemplate": "%{source.label} -> %{target.label}: %{value}<extra></extra>",
            },
        )
    )
    return _layout(fig, "Grade changes: from the old grade to the new", None, None)


def list_sizes(sizes: pd.DataFrame) -> go.Figure:
    """People on each list at the end of each day; `sizes` has day, list, size, wrongful."""
    fig = go.Figure()
    for name, rows in sizes.groupby("list", sort=False):
        fig.add_trace(go.Scatter(x=rows.day, y=rows["size"], name=f"{name}: listed", mode="lines"))
        fig.add_trace(
            go.Scatter(
                x=rows.day,
                y=rows.wrongful,
                name=f"{name}: of whom with a false record",
                mode="lines",
                line={"dash": "dash"},
            )
        )
    return _layout(fig, "People on each list, end of day", "day", "people")


SANCTION_PARTS = (  # (column of `totals`, label, colour): the stacked parts of a bar
    ("true_only", "refused, person has only true records", TRUE_COLOUR),
    ("holder_not_caused", "refused, person has a false record that did not cause it", "#e4a3a5"),
    ("wrongful", "wrongful: refused because of a false record", FALSE_COLOUR),
)


def sanctions_by_service(totals: pd.DataFrame) -> go.Figure:
    """Requests refused per service over the run; `totals` has service, blocked, wrongful and,
    where the run counted them, holders (refusals of people with a false record, wrongful or
    not). A wrongful refusal is caused by a false record; a holder's may not be (a true
    listing of someone misidentified once): the two figures are different bars, not one."""
    holders = totals.holders if "holders" in totals else totals.wrongful
    parts = {
        "true_only": totals.blocked - holders,
        "holder_not_caused": holders - totals.wrongful,
        "wrongful": totals.wrongful,
    }
    fig = go.Figure()
    for column, label, colour in SANCTION_PARTS:
        if column == "holder_not_caused" and "holders" not in totals:
            continue  # a run written before holders were counted per service
        fig.add_trace(go.Bar(x=totals.service, y=parts[column], name=label, marker_color=colour))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Requests refused, by service", "service", "requests refused")


def wrongful_by_mechanism(daily: pd.DataFrame) -> go.Figure:
    """Wrongful sanctions, cumulative, by the mechanism of the first false record;
    `daily` has day, mechanism, sanctions."""
    fig = go.Figure()
    for mechanism, rows in daily.groupby("mechanism", sort=False):
        fig.add_trace(
            go.Scatter(
                x=rows.day,
                y=rows.sanctions.cumsum(),
                name=mechanism,
                stackgroup="mechanisms",
                mode="lines",
                line={"width": 0.5, "color": MECHANISM_COLOURS.get(mechanism)},
            )
        )
    return _layout(
        fig, "Wrongful sanctions by mechanism, cumulative", "day", "sanctions since day 0"
    )


def mechanisms_over_time(cumulative: pd.DataFrame) -> go.Figure:
    """Each mechanism's count since day 0; `cumulative` has day and a column per mechanism.
    A log scale: a few searches beside thousands of posts, each line visible."""
    fig = go.Figure()
    for label in cumulative.columns.drop("day"):
        fig.add_trace(go.Scatter(x=cumulative.day, y=cumulative[label], name=label, mode="lines"))
    fig.update_yaxes(type="log")
    return _layout(fig, "What the other mechanisms did, cumulative", "day", "count since day 0")


def differences(table: pd.DataFrame) -> go.Figure:
    """A comparison's differences relative to B, in percent, with their 95% intervals;
    `table` has figure, b, difference, low, high (figures with B = 0 left out)."""
    shown = table[table.b != 0]
    scale = 100 / shown.b.abs()
    fig = go.Figure(
        go.Scatter(
            x=shown.difference * scale,
            y=shown.figure,
            mode="markers",
            marker={"size": 9, "color": TRUE_COLOUR},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": ((shown.high - shown.difference) * scale).fillna(0),
                "arrayminus": ((shown.difference - shown.low) * scale).fillna(0),
            },
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "A - B, as a percentage of B", "percent of B", None)


PLACE_MEASURES = (
    ("deductions", "records that cost points", "#d95f02"),
    ("below_base", "below the base grade at the end", "#7570b3"),
    ("refusals", "requests refused", "#e7298a"),
    ("rewards", "rewards", "#1b9e77"),
    ("unscored", "unscored for want of consent at the end", "#666666"),
)


def places_ranked(table: pd.DataFrame) -> go.Figure:
    """Places side by side, ranked: per 1,000 people, the records that cost points, the people
    below their place's base grade at the end, refusals, rewards and the people unscored for
    want of consent at the end (a place that asks for it); `table` is
    `scsim.audit.places` (its places with a rulebook, and any others it keeps)."""
    ranked = table.sort_values("deductions")
    label = [
        f"{p} ({r})" if p != r else p for p, r in zip(ranked.place, ranked.region, strict=True)
    ]
    fig = go.Figure()
    for column, name, colour in PLACE_MEASURES:
        fig.add_trace(
            go.Bar(y=label, x=ranked[column], name=name, orientation="h", marker_color=colour)
        )
    fig.update_layout(barmode="group")
    fig = _layout(fig, "Where you live decides: per 1,000 people", "per 1,000 people", None)
    return fig.update_layout(height=max(HEIGHT, 40 * len(ranked) + 120))


def _tier_colour(index: int, count: int) -> str:
    if count <= 1:
        return TIER_COLOURS[0]
    position = round(index * (len(TIER_COLOURS) - 1) / (count - 1))
    return TIER_COLOURS[position]


def _layout(fig: go.Figure, title: str, x: str | None, y: str | None) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        height=HEIGHT,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18, "traceorder": "normal"},
        hovermode="x unified" if x == "day" else "closest",
        xaxis_title=x,
        yaxis_title=y,
    )
    return fig


def calibration_series(model: pd.DataFrame, published: pd.DataFrame, title: str) -> go.Figure:
    """One published series: the model's line (`model` has x and value) and the published
    points (`published` has x, value and tolerance), with their tolerance as error bars."""
    fig = go.Figure(
        go.Scatter(
            x=model.x,
            y=model.value,
            mode="lines",
            name="model",
            line={"color": TRUE_COLOUR, "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=published.x,
            y=published.value,
            mode="markers",
            name="published",
            marker={"color": FALSE_COLOUR, "size": 9, "symbol": "diamond"},
            error_y={
                "type": "data",
                "array": published.value * published.tolerance,
                "color": FALSE_COLOUR,
            },
        )
    )
    return _layout(fig, title, "date", None)
