"""The report's questions to the ledger: rewards, refusals and burdens counted once per run
per cell (`scsim.audit.outcomes`) and every table and grouping read from there, so that a
report passes over a nation's ledger a few times, not once per table and dimension."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from conftest import TinyRun

from scsim.audit.outcomes import outcomes_table
from scsim.audit.run import AuditRun, open_run
from scsim.report import write_report

LEDGER_READ = re.compile(r"\b(?:from|join)\s+ledger\b", re.IGNORECASE)
MOST_PASSES = 6  # outcomes, causes, the wronged, their rows, wrongful listings, grade flows


class Recording:
    """A DuckDB connection that keeps the text of every statement it is given."""

    def __init__(self, con: Any) -> None:
        self.con, self.queries = con, []

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.queries.append(query)
        return self.con.sql(query, *args, **kwargs)

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.queries.append(query)
        return self.con.execute(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def recorded(run: Path) -> tuple[AuditRun, Recording]:
    audit = open_run(run)
    recording = Recording(audit.con)
    audit.__dict__["con"] = recording  # the cached connection, read by every audit query
    return audit, recording


def test_a_report_reads_the_ledger_once_per_question_not_once_per_table_or_grouping(
    tiny_run: TinyRun, tmp_path: Path
) -> None:
    run = tmp_path / "tiny"
    shutil.copytree(tiny_run.path, run)  # a run no other test has opened: nothing kept yet
    audit, recording = recorded(run)
    assert audit.rewarding_services and len(audit.dimensions) >= 3  # balance per dimension
    write_report(run, tmp_path / "report.html")
    reads = Counter(" ".join(q.split()) for q in recording.queries if LEDGER_READ.search(q))
    passes = sum(len(LEDGER_READ.findall(q)) * n for q, n in reads.items())
    assert max(reads.values()) == 1, [q[:80] for q, n in reads.items() if n > 1]
    assert 0 < passes <= MOST_PASSES, [q[:80] for q in reads]


def test_outcomes_count_each_person_once_in_the_cell_of_their_id(tiny_run: TinyRun) -> None:
    ledger = pd.read_parquet(tiny_run.path / "ledger.parquet")
    rows = ledger[ledger.kind.isin(["reward", "blocked", "burden"])]
    per_person = pd.DataFrame(
        {
            "rewards": (rows.kind == "reward").groupby(rows.entity).sum(),
            "refusals": (rows.kind == "blocked").groupby(rows.entity).sum(),
            "burdens": (rows.kind == "burden").groupby(rows.entity).sum(),
        }
    )
    audit = open_run(tiny_run.path)
    lived = audit.strata[audit.strata.people > 0]
    ids = per_person.index.to_numpy()
    per_person["cell"] = lived.lo.to_numpy()[np.searchsorted(lived.lo.to_numpy(), ids, "right") - 1]
    expected = per_person.groupby(["cell", "refusals"]).agg(
        people=("rewards", "size"),
        rewarded=("rewards", lambda r: int((r > 0).sum())),
        rewards=("rewards", "sum"),
        burdens=("burdens", "sum"),
    )
    table = audit.sql(f"select * from {outcomes_table(audit)}").df()
    found = table.set_index(["cell", "refusals"]).sort_index()[expected.columns]
    assert expected.people.sum() == rows.entity.nunique() > 0
    assert (expected.index.get_level_values("refusals") > 0).any()  # some were refused
    pd.testing.assert_frame_equal(found, expected.astype("int64"), check_names=False)
