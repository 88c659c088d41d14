"""The comparison's report: the paired differences of two scenarios as a table and a figure.

>>> write_compare_report(compare("rongcheng", against_none=True, seeds=3), Path("c.html"))
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.comparison import t_interval, with_percentages
from scsim.report import figures
from scsim.report.page import Page, table_html
from scsim.report.terminal import number
from scsim.simulation.rundir import write_atomically


def write_compare_report(table: pd.DataFrame, target: Path) -> Path:
    """Write compare.html for a table from `scsim.compare` (its attrs name A, B and seeds)."""
    a, b, seeds = table.attrs["a"], table.attrs["b"], table.attrs["seeds"]
    interval = "95% t-interval over seeds" if len(seeds) > 1 else "one seed: no interval"
    page = Page(
        f"scsim compare: {a} vs {b}",
        "Both scenarios ran on the same seeds (common random numbers). Differences are A - B, "
        f"mean over seeds ({interval}).",
    )
    page.heading("What was compared")
    page.raw(
        '<section class="story">'
        + "".join(f"<p>{html.escape(p)}</p>" for p in compare_story(table))
        + "</section>"
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
    shown = with_percentages(table)
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
                    "A - B, % of B": [_percent(row) for row in shown.itertuples()],
                }
            )
        )
    )
    if (table.b != 0).any():
        page.figure(figures.differences(table))
    else:
        page.note("Every figure of B is zero: no relative difference to draw.")
    unscaled = table.figure[table.b == 0]
    if len(unscaled) and (table.b != 0).any():
        page.note(
            "Not in the chart, as B is 0 for them and a change from nothing has no "
            f"percentage: {', '.join(unscaled)}. Their differences are in the table."
        )
    write_atomically(Path(target), page.render())
    return Path(target)


HEADLINE = (  # (figures summed, what they are in words)
    ("blocked: ", "requests refused"),
    ("listing entries: ", "listing entries"),
    ("person-years listed: ", "person-years on the lists"),
    ("wrongful listing entries: ", "wrongful listing entries (on false records)"),
    ("false records", "false records"),
    ("wrongful sanctions", "wrongful sanctions (refusals caused by a false record)"),
)


def compare_story(table: pd.DataFrame) -> list[str]:
    """The comparison in words: its conditions, then its headline figures (refusals and
    listings summed over services and lists), each as A, B and A - B with its interval."""
    said = [conditions_sentence(table.attrs["conditions"])]
    pairs = table.attrs["per_seed"]
    lines = []
    for prefix, words in HEADLINE:
        figures = [f for f in table.figure if f == prefix or f.startswith(prefix)]
        if not figures:
            continue
        a = np.array([sum(p["a"][f] for f in figures) for p in pairs], dtype=np.float64)
        b = np.array([sum(p["b"][f] for f in figures) for p in pairs], dtype=np.float64)
        difference, low, high = t_interval(a - b)
        line = (
            f"{words.capitalize()}: {number(a.mean())} a run under A, {number(b.mean())} "
            f"under B, A - B = {number(difference, sign=True)}"
        )
        if not math.isnan(low):
            line += f" (95% interval {number(low, sign=True)} to {number(high, sign=True)})"
        lines.append(line + ".")
    effect = table.attrs.get("chilling_effect")
    if effect is not None:
        lines.append(chilling_sentence(effect))
    return [*said, " ".join(lines)]


def conditions_sentence(conditions: dict[str, Any]) -> str:
    """What the comparison's figures hold for, in one sentence: people, days, seeds, and which
    scenarios (name and the start of the sha256 of their resolved text) and code ran them."""
    a, b = conditions["a"], conditions["b"]
    seeds = conditions["seeds"]
    seeds_text = (
        f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds, {seeds[0]} to {seeds[-1]}"
    )
    if (a["population"], a["days"]) == (b["population"], b["days"]):
        size = f"{a['population']:,} people for {a['days']:,} days"
    else:
        size = (
            f"A: {a['population']:,} people for {a['days']:,} days, "
            f"B: {b['population']:,} people for {b['days']:,} days"
        )
    return (
        f"{size}, {seeds_text}. A is {a['scenario']} (scenario sha256 "
        f"{a['scenario_sha256'][:12]}), B is {b['scenario']} ({b['scenario_sha256'][:12]}); "
        f"scsim {conditions['scsim_version']}, engine {conditions['engine_sha256'][:12]}."
    )


def _percent(row: Any) -> str:
    """A difference as a percentage of B with its interval, or why there is none."""
    if row.percent_note:
        return row.percent_note
    text = f"{row.percent_of_b:+,.1f}%"
    if not math.isnan(row.percent_low):
        text += f" ({row.percent_low:+,.1f} to {row.percent_high:+,.1f})"
    return text


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
