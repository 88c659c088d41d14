"""The audit on a terminal: rich tables for `scsim dossier` and `scsim compare`.

>>> console.print(dossier_table(dossier(run, 4711)))
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.console import JustifyMethod, RenderableType
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
    "company_list_entry": "listed",
    "company_list_exit": "unlisted",
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


def compare_table(table: pd.DataFrame, width: int | None = None) -> RenderableType:
    """Paired differences A - B with their 95% intervals (none with one seed); wrapped by
    rows where `width` is too narrow for the table (see `fitted`)."""
    a, b, seeds = table.attrs["a"], table.attrs["b"], table.attrs["seeds"]
    title = f"scsim compare: A = {a}, B = {b}, {len(seeds)} seed{'s' if len(seeds) > 1 else ''}"
    rows = []
    for row in table.itertuples(index=False):
        interval = "" if math.isnan(row.low) else f"{number(row.low)} .. {number(row.high)}"
        rows.append(
            [
                row.figure,
                number(row.a),
                number(row.b),
                number(row.difference, sign=True),
                interval,
            ]
        )
    headers = ["figure", "A", "B", "A - B", "95% interval"]
    return fitted(title, headers, rows, labels=1, width=width)


def fitted(
    title: str,
    headers: list[str],
    rows: list[list[str]],
    *,
    labels: int,
    width: int | None,
    sections: bool = False,
) -> RenderableType:
    """A table whose first `labels` columns name a row and the rest are figures. Where it fits
    `width` (None: any), a rich table, no cell wrapped; where it does not (80 columns, piped),
    wrapped by rows: each row's names on lines of their own, its figures on the next as
    "header value" pairs, a pair never split, so no word or number is cut in two."""
    natural = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    if width is None or sum(natural) + 3 * len(headers) + 1 <= width:
        return _table(title, headers, rows, labels, sections)
    text = Text(title + "\n")
    for row in rows:
        for depth, name in enumerate(row[:labels]):
            if name:
                text.append("  " * depth + name + "\n", style="bold" if depth == 0 else None)
        pairs = [f"{h} {v}" for h, v in zip(headers[labels:], row[labels:], strict=True) if v]
        text.append(_wrapped_pairs(pairs, "  " * labels, width))
    return text


def _table(
    title: str, headers: list[str], rows: list[list[str]], labels: int, sections: bool
) -> Table:
    out = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        out.add_column(header, justify="left" if index < labels else "right", no_wrap=True)
    for index, row in enumerate(rows):
        if sections and index and row[0]:
            out.add_section()  # a new name in the first column starts a section
        out.add_row(*row)
    return out


def _wrapped_pairs(pairs: list[str], indent: str, width: int) -> str:
    """`pairs` on lines of at most `width` characters (one longer pair has a line of its own),
    three spaces between them."""
    lines: list[str] = []
    for pair in pairs:
        if lines and len(lines[-1]) + 3 + len(pair) <= width:
            lines[-1] += "   " + pair
        else:
            lines.append(indent + pair)
    return "".join(line + "\n" for line in lines)


def number(value: float, sign: bool = False) -> str:
    """A mean over seeds as precise as it deserves: whole numbers whole, one decimal from 10
    up, three significant digits below (1,360.500 people was false precision)."""
    sign = sign and value != 0
    plus = "+" if sign else ""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):{plus},}"
    if abs(value) >= 10:
        return f"{value:{plus},.1f}"
    return f"{value:{plus}.3g}"


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
