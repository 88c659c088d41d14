"""The report's page: its style, its sections in order, and how a table or a number is
written on it. `scsim.report.html` and `scsim.report.compare` fill one each.

    >>> page = Page("scsim report: rongcheng", "1,000,000 people, 365 days, seed 1.")
    >>> page.heading("Summary"); page.raw(table_html(frame)); html_text = page.render()
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Counts the figures plotly has drawn, so a headless browser can tell when all are done.
DRAWN = (
    "var seen = document.body.dataset;"
    " seen.figuresDrawn = String(Number(seen.figuresDrawn || 0) + 1);"
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
p.lead { color: #555; margin-top: 0; } p.note { color: #555; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; max-width: 100%; }
section.story p, section.story li { font-size: 1.05rem; line-height: 1.5; max-width: 60rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
td.flag { background: #fde0dd; color: #a50f15; font-weight: 600; }
dt { font-weight: 600; margin-top: 0.5rem; } dd { margin-left: 1rem; color: #444; }
"""


def prose(text: str) -> str:
    """Text as HTML: escaped, and a `command` in backticks set as code, not as literal
    backticks."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


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
        self.sections.append(f'<p class="note">{prose(text)}</p>')

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


def table_html(frame: pd.DataFrame, flags: pd.DataFrame | None = None) -> str:
    """A plain HTML table; cells where `flags` is true get the class "flag"."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    lines = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for j, value in enumerate(row):
            flagged = flags is not None and bool(flags.iat[i, j])
            attr = ' class="flag"' if flagged else ""
            text = formatted(value)
            indent = len(text) - len(text.lstrip(" "))  # "  of which false": a sub-row
            if indent:
                attr += f' style="padding-left:{indent * 0.5 + 0.5:g}em"'
            cells.append(f"<td{attr}>{html.escape(text.lstrip(' '))}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def formatted(value: Any) -> str:
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
        size = abs(float(value))
        if size >= 100:  # a rate or a mean: three significant digits say enough
            return f"{value:,.0f}"
        return f"{value:,.1f}" if size >= 10 else f"{value:.3g}"
    return str(value)
