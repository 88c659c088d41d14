"""The comparison's report: the paired differences of two scenarios as a table and a figure.

>>> write_compare_report(compare("rongcheng", against_none=True, seeds=3), Path("c.html"))
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from scsim.report import figures
from scsim.report.html import Page, table_html
from scsim.simulation.rundir import write_atomically


def write_compare_report(table: pd.DataFrame, target: Path) -> Path:
    """Write compare.html for a table from `scsim.compare` (its attrs name A, B and seeds)."""
    a, b, seeds = table.attrs["a"], table.attrs["b"], table.attrs["seeds"]
    interval = "95% t-interval over seeds" if len(seeds) > 1 else "one seed: no interval"
    page = Page(
        f"scsim compare: {a} vs {b}",
        f"Seeds {', '.join(map(str, seeds))}; both scenarios on the same seeds (common random "
        f"numbers). Differences are A - B, mean over seeds ({interval}).",
    )
    effect = table.attrs.get("chilling_effect")
    if effect is not None:
        page.heading("Chilling effect")
        page.note(chilling_sentence(effect))
        page.note(
            "Critical speech is the events the scenario names in behaviour.self_censorship.events, "
            "counted as spoken. Against no system (--against-none) the difference is the whole "
            "chill: posts held back for fear of being recorded or of friends' sanctions, and "
            "criticism deterred where a rule punishes it. Both runs draw the same events (common "
            "random numbers), so with neither at work the difference is exactly zero."
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


def chilling_sentence(effect: dict[str, Any]) -> str:
    """The chilling effect in one sentence (see `scsim.audit.comparison.chilling_effect`)."""
    text = (
        f"Critical speech per 1,000 people a year: {effect['rate_a']:,.1f} under A, "
        f"{effect['rate_b']:,.1f} under B; chilling effect A - B = {effect['difference']:+,.1f}"
    )
    if not math.isnan(effect["low"]):
        text += f" (95% interval {effect['low']:+,.1f} to {effect['high']:+,.1f})"
    if not math.isnan(effect["relative"]):
        text += f", {effect['relative']:+.1%} of B"
        if not math.isnan(effect["relative_low"]):
            text += f" ({effect['relative_low']:+.1%} to {effect['relative_high']:+.1%})"
    return text + "."
