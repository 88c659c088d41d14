"""The audit on a terminal: rich tables for `scsim dossier` and `scsim compare`.

>>> console.print(dossier_table(dossier(run, 4711)))
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

KIND_LABELS = {
    "record": "record",
    "tier": "grade",
    "list_entry": "listed",
    "list_exit": "unlisted",
    "blocked": "refused",
    "company_record": "record",
    "company_grade": "grade",
    "company_sanction": "sanctioned",
}


def person_table(record: dict[str, Any]) -> Table:
    """The person's traits and final state, one row per field."""
    table = Table(
        title=f"person {record['person']}", show_header=False, title_justify="left", box=None
    )
    table.add_column("field", style="bold")
    table.add_column("value")
    for name, value in record.items():
        if name != "person":
            table.add_row(name, Text(_cell(value)))
    return table


def dossier_table(rows: pd.DataFrame, title: str = "ledger") -> Table:
    """Every ledger row about one person (or company), in day order; false rows in red."""
    if rows.empty:
        title += ": nothing recorded (no record, sanction, list or grade change in this run)"
    table = Table(title=title, title_justify="left")
    table.add_column("day", justify="right")
    dated = "date" in rows.columns
    if dated:
        table.add_column("date")
    table.add_column("kind")
    table.add_column("true", justify="center")
    table.add_column("what happened and why")
    for row in rows.itertuples(index=False):
        table.add_row(
            str(row.day),
            *([str(row.date)] if dated else []),
            KIND_LABELS.get(row.kind, row.kind),
            "yes" if row.truth else "no",
            Text(row.what),  # plain text: "[...]" in it is not rich markup
            style=None if row.truth else "red",
        )
    return table


def compare_table(table: pd.DataFrame) -> Table:
    """Paired differences A - B with their 95% intervals (none with one seed)."""
    a, b, seeds = table.attrs["a"], table.attrs["b"], table.attrs["seeds"]
    title = f"scsim compare: A = {a}, B = {b}, {len(seeds)} seed{'s' if len(seeds) > 1 else ''}"
    out = Table(title=title, title_justify="left")
    out.add_column("figure")
    out.add_column("A", justify="right")
    out.add_column("B", justify="right")
    out.add_column("A - B", justify="right")
    out.add_column("95% interval", justify="right")
    for row in table.itertuples(index=False):
        interval = "" if math.isnan(row.low) else f"{_number(row.low)} .. {_number(row.high)}"
        out.add_row(
            row.figure, _number(row.a), _number(row.b), _number(row.difference, sign=True), interval
        )
    return out


def _number(value: float, sign: bool = False) -> str:
    sign = sign and value != 0
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):+,}" if sign else f"{int(value):,}"
    return f"{value:+,.3f}" if sign else f"{value:,.3f}"


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def calibration_table_view(table: pd.DataFrame, title: str) -> Table:
    """Published figure beside the model's (mean, and the half-width of its 95% interval over
    seeds when there are several), ratio, and whether it is within the target's tolerance."""
    spread = (table.model_hi - table.model_lo).fillna(0.0)
    intervals = bool((spread > 0).any())
    view = Table(title=title, title_justify="left")
    view.add_column("date", no_wrap=True)
    view.add_column("figure", no_wrap=True)
    view.add_column("published", justify="right", no_wrap=True)
    view.add_column("model", justify="right", no_wrap=True)
    if intervals:
        view.add_column("95%", justify="right", no_wrap=True)
    view.add_column("ratio", justify="right", no_wrap=True)
    view.add_column("target", justify="right", no_wrap=True)
    for row, width in zip(table.itertuples(), spread, strict=True):
        share = row.published < 1
        figure = Text(row.figure) + (Text(" (held out)", style="dim") if not row.weight else "")
        cells = [row.date or str(row.day), figure, _figure(row.published, share)]
        cells.append(_figure(row.model, share))
        if intervals:
            cells.append(f"±{width / 2 / row.model:.0%}" if row.model and width else "")
        if math.isnan(row.ratio):
            cells.append(Text("not reached", style="dim"))
        else:
            style = "green" if row.within else "red"
            cells.append(Text(f"{row.ratio:.2f}", style=style) + (" ok" if row.within else " off"))
        cells.append(f"±{row.tolerance:.0%}")
        view.add_row(*cells)
    return view


def prediction_view(records: list[dict[str, Any]], title: str) -> Table:
    """One row per date and series: the predicted value and its 95% interval."""
    view = Table(title=title, title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("date", "left"),
        ("series", "left"),
        ("value", "right"),
    )
    for name, justify in columns:
        view.add_column(name, justify=justify)
    view.add_column("95% interval", justify="right")
    for record in records:
        for key, value in record.items():
            if key == "date" or key.endswith(("_lo", "_hi")):
                continue
            lo, hi = record[f"{key}_lo"], record[f"{key}_hi"]
            interval = "" if lo is None or hi is None else f"{_figure(lo)} - {_figure(hi)}"
            view.add_row(record["date"], key, "" if value is None else _figure(value), interval)
    return view


def _figure(value: float, share: bool = False) -> str:
    """A count as people read one in a table (13.00M, 87,079), a share as a percentage."""
    if math.isnan(value):
        return ""
    if share:
        return f"{value:.1%}"
    return f"{value / 1e6:.2f}M" if abs(value) >= 1e6 else f"{value:,.0f}"
