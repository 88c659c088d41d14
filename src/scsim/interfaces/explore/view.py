"""How the page draws a control, a run's progress and its results (Dash components, no logic).

>>> control_view(Control("run.days", "days", "int", 365, 1, 36_500))
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from scsim.interfaces.explore.levers import Control

FIGURE_TITLES = {
    "grades": "People per grade",
    "list_sizes": "People on each list",
    "sanctions": "Sanctions by service",
    "wrongful": "Wrongful sanctions by mechanism",
}


def control_view(control: Control) -> html.Div:
    """A lever: its name, its input (a number, or a tick for a yes/no or a switch), its bounds
    and its source or [U]."""
    key = {"kind": control.kind, "field": control.field}
    if control.kind in ("bool", "switch"):
        word = "on" if control.kind == "switch" else "yes"
        widget: Any = dcc.Checklist([word], [word] if control.value else [], id=key)
    else:
        step = 1 if control.kind == "int" else "any"
        widget = dcc.Input(id=key, type="number", value=control.value, step=step, debounce=True)
    bounds = _bounds(control)
    return html.Div(
        [
            html.Label([control.label, html.Br(), html.Small(control.field)]),
            widget,
            html.Div(
                [
                    html.Span(bounds, className="bounds"),
                    html.Br() if bounds else None,
                    html.Small(control.note or "(the file gives no note on this field)"),
                ]
            ),
        ],
        className="lever",
        **data(field=control.field),
    )


def data(**attributes: str) -> dict[str, Any]:
    """HTML data-* attributes, which tests and style sheets find an element by."""
    return {f"data-{name}": value for name, value in attributes.items()}


def _bounds(control: Control) -> str:
    if control.low is None and control.high is None:
        return ""
    low, high = _number(control.low), _number(control.high)
    return (
        f"from {low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}"
    )


def _number(value: float | None) -> str:
    """A bound as a reader reads it: 1,000,000 (not 1e+06), 0.5."""
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def progress_view(job: str, progress: dict[str, Any]) -> html.Div:
    """Where a run is: queued, its day, the comparison's runs, done, or its one-line failure."""
    state = progress["state"]
    if state == "failed":
        return html.Div(
            f"{job} failed: {progress.get('message', '')}", className="error", id="failed"
        )
    if state == "running":
        text, value, top = (
            f"{job}: day {progress['day']} of {progress['days']}",
            progress["day"],
            progress["days"],
        )
    elif state == "auditing":
        text, value, top = f"{job}: writing the report and the audit", 1, 1
    elif state == "comparing":
        text = f"{job}: comparison, run {progress['run']} of {progress['runs'] - 1}"
        value, top = progress["run"], progress["runs"]
    else:
        text, value, top = f"{job}: {state}", int(state == "done"), 1
    return html.Div(
        [html.Progress(value=str(value), max=str(top)), " ", text],
        id="status",
        **data(state=state),
    )


def results_view(results: dict[str, Any]) -> html.Div:
    """The opening summary, the main plots, the audit's tables and the comparison."""
    parts: list[Any] = [html.H2("What happened")]
    parts += [html.P(p) for p in results["story"]]
    if results["mechanisms"]:
        parts += [
            html.P("Other mechanisms that ran:"),
            html.Ul([html.Li(m) for m in results["mechanisms"]]),
        ]
    parts += [html.H2("Summary"), table(results["summary"], "summary")]
    for name, figure in results["figures"].items():
        parts += [
            html.H3(FIGURE_TITLES.get(name, name)),
            dcc.Graph(id=f"figure-{name}", figure=figure),
        ]
    parts += [html.H2("Wrongful harms"), table(results["harms"], "harms")]
    parts += [
        html.H3("Wrongful sanctions by the mechanism of the first false record"),
        table(results["wrongful"], "wrongful"),
    ]
    parts += [html.H2("Fairness by group"), table(results["fairness"], "fairness")]
    comparison = results.get("comparison")
    if comparison:
        seeds = comparison["seeds"]
        parts += [
            html.H2(f"Compared with {comparison['b']}"),
            html.P(
                f"A = {comparison['a']}, B = {comparison['b']}, on seeds {seeds}: the mean "
                "paired difference A - B and its 95% interval (none with one seed)."
            ),
            table(comparison["table"], "comparison"),
            dcc.Graph(id="figure-comparison", figure=comparison["figure"]),
        ]
    return html.Div(parts, id="shown")


def table(rows: list[dict[str, Any]], name: str) -> html.Table | html.P:
    """A list of JSON rows as an HTML table (numbers formatted for reading)."""
    if not rows:
        return html.P("none", id=f"table-{name}")
    columns = list(rows[0])
    head = html.Tr([html.Th(c) for c in columns])
    body = [html.Tr([html.Td(_cell(row[c])) for c in columns]) for row in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], id=f"table-{name}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
