"""The figure of docs/validation.md: each court-list series of a run beside its published points.

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

SERIES = ("listing_entries", "flight_purchases_blocked", "rail_purchases_blocked", "complied")


def main(run_dir: Path, png: Path) -> None:
    audit = open_run(run_dir)
    s = audit.scenario
    assert s.calibration is not None
    metrics = pd.read_parquet(run_dir / "metrics.parquet")
    table = calibration_table(s, [metrics])
    fig = make_subplots(rows=2, cols=2, subplot_titles=SERIES, vertical_spacing=0.12)
    for i, name in enumerate(SERIES):
        row, col = i // 2 + 1, i % 2 + 1
        values = series_values(metrics, name, s.calibration.series[name]) * scale(s) / 1e6
        fig.add_trace(
            go.Scatter(x=metrics.date, y=values, name="model", line={"color": "#4c72b0"}),
            row=row,
            col=col,
        )
        points = table[(table.series == name) & (table.figure == name)]
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(points.date),
                y=points.published / 1e6,
                mode="markers",
                name="published",
                marker={"color": "#c44e52", "size": 9, "symbol": "diamond"},
                error_y={"array": points.published * points.tolerance / 1e6},
            ),
            row=row,
            col=col,
        )
        fig.update_yaxes(title_text="millions", row=row, col=col)
    fig.update_layout(
        height=700,
        width=1100,
        showlegend=False,
        template="plotly_white",
        title="court-list-history: model (line) and published figures (diamonds, with tolerance)",
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
                "--window-size=1120,720",
                f"--screenshot={png.resolve()}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
