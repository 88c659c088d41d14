"""The report's fairness section: who is sanctioned how often against the reference group,
with exact intervals, who is harmed wrongly, and which groups were too small to compare with
(`scsim.audit.fairness` computes; this writes it in two tables that fit the page)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.fairness import MIN_EXPECTED, fairness, too_small
from scsim.audit.run import AuditRun
from scsim.report.page import Page, table_html


def fairness_section(page: Page, audit: AuditRun) -> None:
    """Two tables that fit the page: who is sanctioned how often (against the reference group,
    with exact intervals), and who is harmed wrongly; then which groups were too small."""
    page.heading("Fairness")
    table = fairness(audit)
    page.raw(table_html(*_rates_table(table)))
    page.note(_too_small_sentence(table))
    page.note(
        "Ratio: the group's sanctions per person over the reference group's (the lowest rate "
        "among the groups large enough), with its 95% interval. Flagged by the four-fifths "
        "rule where the reference's rate is below 4/5 of the group's and the whole interval "
        "agrees; 'could be chance' where the rate alone is past 4/5 but the interval is not."
    )
    wrongful = pd.DataFrame(
        {
            "dimension": table.dimension,
            "group": table.group,
            "wrongful sanctions": table.wrongful_sanctions,
            "wrongful per 1,000": table.wrongful_rate * 1000,
            "wrongful listings": table.wrongful_listings,
            "days wrongly listed": table.days_wrongly_listed,
        }
    )
    if "burdens" in table:  # suspensions, a grade's visits and searches, premiums
        wrongful["burdens per 1,000"] = table.burdens / table.people * 1000
        wrongful["wrongful burdens"] = table.wrongful_burdens
    page.raw(table_html(wrongful))
    page.note(
        "Groups are the scenario's strata: region, area (urban or rural) and behaviour class, "
        "and income band where the scenario has bands. Rates are over the whole run. Burdens "
        "(where the run has any) are suspensions, a grade's officer visits and searches, and "
        "premiums; the wrongful ones rest on false records."
    )


def _rates_table(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sanction rates per group and their flags (cells to mark)."""
    shown = pd.DataFrame(
        {
            "dimension": table.dimension,
            "group": table.group,
            "people": table.people,
            "sanctions per 1,000": table.sanction_rate * 1000,
            "people refused per 1,000": table.refused_share * 1000,
            "refusals per person refused": table.refusals_per_refused,
            "ratio to reference (95%)": [_ratio_text(row) for row in table.itertuples()],
            "four-fifths rule": [_flag_text(row) for row in table.itertuples()],
        }
    )
    flags = pd.DataFrame(False, index=shown.index, columns=shown.columns)
    flags["four-fifths rule"] = table.four_fifths_clear.to_numpy()
    flags["ratio to reference (95%)"] = table.four_fifths_clear.to_numpy()
    return shown, flags


def _ratio_text(row: Any) -> str:
    if row.dimension == "all":
        return ""  # one group: nothing to compare with
    if row.reference:
        return "reference"
    if np.isnan(row.ratio_to_lowest):
        return "—"
    text = _ratio(row.ratio_to_lowest)
    if not np.isnan(row.ratio_low):
        text += f" ({_ratio(row.ratio_low)} to {_ratio(row.ratio_high)})"
    return text


def _ratio(value: float) -> str:
    """A rate ratio to two decimals (one from 10 up); "<0.01" rather than 1.14e-08."""
    if np.isinf(value):
        return "∞"
    if 0 < value < 0.01:
        return "<0.01"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _flag_text(row: Any) -> str:
    if row.four_fifths_clear:
        return "violated"
    return "could be chance" if row.four_fifths else ""


def _too_small_sentence(table: pd.DataFrame) -> str:
    """Which groups were too small to be the reference, and the size they needed."""
    small = table[table.too_small]
    if small.empty:
        return "Every group was large enough to be compared with."
    needed = {
        dimension: too_small(rows) for dimension, rows in table.groupby("dimension", sort=False)
    }
    named = "; ".join(
        f"{dimension} (under {needed[dimension]:,} people): "
        + ", ".join(f"{r.group} ({r.people:,})" for r in rows.itertuples())
        for dimension, rows in small.groupby("dimension", sort=False)
    )
    return (
        f"Too small to serve as the reference, as they would expect fewer than {MIN_EXPECTED} "
        f"people refused at the overall share (a zero there is chance, not fairness): {named}. "
        "Their rates are shown; no other group is compared with them."
    )
