"""The figure of docs/validation.md: each court-list series of a run, to the end of 2025, beside
its published points (filled: the targets fitted, up to 2022; open: a check the fit does not
see, or a figure after 2022, kept for the prediction).

    scsim run court-list-history --out runs/court-list-history
    python docs/validation_figure.py runs/court-list-history docs/court-list-history.png

Writes the figure as an HTML page in a temporary folder and, where headless Chromium is
installed, its screenshot to the PNG path.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scsim.audit.published import calibration_table
from scsim.audit.run import open_run
from scsim.audit.series import scale, series_values

SERIES = (
    "listing_entries",
    "flight_purchases_blocked",
    "rail_purchases_blocked",
    "complied",
    "on_list_now",
    "credit_repaired",
)
FITTED_UNTIL = "2022-12-31"  # figures after it are for the prediction, never for the fit
RED = "#c44e52"


def main(run_dir: Path, png: Path) -> None:
    audit = open_run(run_dir)
    s = audit.scenario
    assert s.calibration is not None
    metrics = pd.read_parquet(run_dir / "metrics.parquet")
    table = calibration_table(s, [metrics])
    rows = (len(SERIES) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=SERIES, vertical_spacing=0.08)
    for i, name in enumerate(SERIES):
        row, col = i // 2 + 1, i % 2 + 1
        values = series_values(metrics, name, s.calibration.series[name]) * scale(s) / 1e6
        fig.add_trace(
            go.Scatter(x=metrics.date, y=values, name="model", line={"color": "#4c72b0"}),
            row=row,
            col=col,
        )
        points = table[(table.series == name) & (table.figure == name)]
        fitted = (points.weight > 0) & (points.date <= FITTED_UNTIL)
        for chosen, symbol, label in (
            (fitted, "diamond", "published, fitted (with tolerance)"),
            (~fitted, "diamond-open", "published, not used for fitting"),
        ):
            shown = points[chosen]
            if shown.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime(shown.date),
                    y=shown.published / 1e6,
                    mode="markers",
                    name=label,
                    marker={"color": RED, "size": 9, "symbol": symbol, "line": {"width": 2}},
                    error_y={"array": shown.published * shown.tolerance / 1e6},
                ),
                row=row,
                col=col,
            )
        fig.update_yaxes(title_text="millions", row=row, col=col)
    fig.add_vrect(
        x0="2023-01-01",
        x1=str(metrics.date.iloc[-1]),
        fillcolor="#888888",
        opacity=0.12,
        line_width=0,
        row="all",
        col="all",
    )
    fig.update_layout(
        height=330 * rows,
        width=1100,
        showlegend=False,
        template="plotly_white",
        title=(
            "court-list-history to 2025: model (line); published figures (filled: fitted, with "
            "tolerance; open: not used for fitting);<br>shaded: after 2022, the prediction"
        ),
    )
    page = Path(tempfile.mkdtemp(prefix="scsim-figure-")) / "figure.html"
    fig.write_html(page, include_plotlyjs=True)
    print(f"figure: {page}")
    chromium = Path("/usr/bin/chromium")
    if chromium.exists():
        subprocess.run(
            [
                str(chromium),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--virtual-time-budget=10000",
                f"--window-size=1120,{330 * rows + 20}",
                f"--screenshot={png.resolve()}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
