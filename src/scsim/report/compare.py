"""The comparison's report: the paired differences of two scenarios as a table and a figure.

>>> write_compare_report(compare("rongcheng", against_none=True, seeds=3), Path("c.html"))
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scsim.report import figures
from scsim.report.html import Page, table_html, write_atomically


def write_compare_report(table: pd.DataFrame, target: Path) -> Path:
    """Write compare.html for a table from `scsim.compare` (its attrs name A, B and seeds)."""
    a, b, seeds = table.attrs["a"], table.attrs["b"], table.attrs["seeds"]
    interval = "95% t-interval over seeds" if len(seeds) > 1 else "one seed: no interval"
    page = Page(
        f"scsim compare: {a} vs {b}",
        f"Seeds {', '.join(map(str, seeds))}; both scenarios on the same seeds (common random "
        f"numbers). Differences are A - B, mean over seeds ({interval}).",
    )
    page.heading("Paired differences")
    page.raw(
        table_html(
            pd.DataFrame(
                {
                    "figure": table.figure,
                    f"A: {a}": table.a,
                    f"B: {b}": table.b,
                    "A - B": table.difference,
                    "95% low": table.low,
                    "95% high": table.high,
                }
            )
        )
    )
    if (table.b != 0).any():
        page.figure(figures.differences(table))
    else:
        page.note("Every figure of B is zero: no relative difference to draw.")
    write_atomically(Path(target), page.render())
    return Path(target)
