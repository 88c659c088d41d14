"""What the page shows of a finished run, read from its run directory by the report's and the
audit's own functions, as plain JSON (the worker writes it, the page reads it).

    >>> results = run_results(Path("explorer/abc/run-1/run"))
    >>> results["summary"][0]            # {"figure": "scenario", "value": "rongcheng"}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from scsim.audit.fairness import fairness
from scsim.audit.run import AuditRun, close_run, open_run
from scsim.audit.wrongful import wrongful_by_mechanism
from scsim.report import figures, plots
from scsim.report.html import summary
from scsim.report.story import harms, run_story

PLOTS = {  # the report's main plots, in its order
    "grades": plots.grades,
    "list_sizes": plots.list_sizes,
    "sanctions": plots.sanctions,
    "wrongful": plots.wrongful,
}
FAIRNESS = [
    "dimension",
    "group",
    "people",
    "sanctions",
    "sanction_rate",
    "ratio_to_lowest",
    "wrongful_sanctions",
    "wrongful_rate",
    "four_fifths",
]


def run_results(run: Path) -> dict[str, Any]:
    """The opening summary (the story and the summary table), the main plots, wrongful harms by
    mechanism and fairness by group, of one run directory."""
    audit = open_run(run)
    try:
        paragraphs, lines = run_story(audit)
        drawn = {name: plot(audit) for name, plot in PLOTS.items()}
        return {
            "story": paragraphs,
            "mechanisms": lines,
            "summary": records(summary(audit)),
            "figures": {name: _plain(fig) for name, fig in drawn.items() if fig is not None},
            "wrongful": records(_by_mechanism(wrongful_by_mechanism(audit))),
            "harms": records(_harms(audit)),
            "fairness": records(fairness(audit)[lambda t: t.columns.intersection(FAIRNESS)]),
        }
    finally:
        close_run(run)


def _by_mechanism(daily: pd.DataFrame) -> pd.DataFrame:
    """Wrongful sanctions over the whole run, per mechanism (the audit counts them by day)."""
    totals = daily.groupby("mechanism", sort=False, as_index=False)["sanctions"].sum()
    return totals.rename(columns={"sanctions": "wrongful sanctions"})


def _harms(audit: AuditRun) -> pd.DataFrame:
    """Every wrongful harm by kind (refusals, listings, grades, namings...), as the report's
    summary counts them."""
    found = harms(audit, audit.sql("select * from metrics order by day").df())
    return pd.DataFrame({"wrongful harm": list(found), "count": list(found.values())})


def comparison_result(table: pd.DataFrame) -> dict[str, Any]:
    """The paired comparison: per figure, A, B, the mean difference and its 95% interval."""
    return {
        "a": table.attrs.get("a", ""),
        "b": table.attrs.get("b", ""),
        "seeds": list(table.attrs.get("seeds", [])),
        "table": records(table[["figure", "a", "b", "difference", "low", "high"]]),
        "figure": _plain(figures.differences(table)),
    }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON rows: numbers as numbers, a missing value (NaN) as None."""
    rows = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [{key: _finite(value) for key, value in row.items()} for row in rows]


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _plain(fig: Any) -> dict[str, Any]:
    """A plotly figure as the JSON the browser draws (numbers as plotly's typed arrays)."""
    return dict(json.loads(fig.to_json()))
