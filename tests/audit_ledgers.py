"""Hand-built run directories for the audit's tests: a tiny scenario, a ledger written row by
row with the engine's own writer (`ledger_table` and a `Vocabulary`), and answers known by hand.

People: 100, in four strata of 25 (ids are contiguous per stratum, docs/architecture.md):
    0-24 North urban careful   25-49 North urban reckless
    50-74 South rural careful  75-99 South rural reckless

    run = write_run(tmp_path / "run", STORY)
    assert tier_shares(run).query("day == 1 and tier == 'bad'").people.item() == 2
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from builders import BASE

from scsim.engine.ledger import COLUMNS, KIND, ORIGIN, Vocabulary
from scsim.scenario.schema import Scenario
from scsim.simulation.arrow import ledger_table

DAYS = 5
RAW: dict[str, Any] = copy.deepcopy(BASE)
RAW.update(
    name="hand",
    population={
        "size": 100,
        "regions": {
            "North": {"share": 0.5, "urban_share": 1.0},
            "South": {"share": 0.5, "urban_share": 0.0},
        },
        "classes": {"careful": {"share": 0.5}, "reckless": {"share": 0.5}},
    },
    behaviour={"events": {"theft": {"per_year": 0.1}, "help": {"per_year": 0.1}}},
    surveillance={"sensors": {"cameras": {"events": ["theft", "help"], "detection": 0.5}}},
    run={"days": DAYS, "seed": 1},
)
RAW["rulebook"].update(
    rules={
        "theft": {"points": -200, "enter_list": "blacklist"},
        "help": {"points": 10},
    },
    lists={"blacklist": {"term_days": 2}},
    services={
        "train": {"per_year": 1.0, "blocked_lists": ["blacklist"]},
        "loan": {"per_year": 1.0, "blocked_tiers": ["bad"]},
        "bonus": {"per_year": 1.0, "reward_tiers": ["good"]},
    },
)
SCENARIO = Scenario.model_validate(RAW)
VOCABULARY = Vocabulary.of(
    ("theft", "help"), ("cameras",), ("good", "bad"), ("blacklist",), ("train", "loan", "bonus")
)

# (day, person, kind, rule, delta, source, origin, truth), in the order the engine writes them.
STORY = [
    (0, 3, "record", "theft", -200, "cameras", "detected", True),
    (0, 3, "tier", "bad", 1, "", "score", True),
    (0, 80, "record", "help", 10, "cameras", "false_match", False),  # false but harmless
    (0, 3, "list_entry", "blacklist", 0, "", "record", True),
    (1, 60, "record", "theft", -200, "cameras", "misidentified", False),
    (1, 80, "record", "theft", -40, "cameras", "association", False),
    (1, 60, "tier", "bad", 1, "", "score", False),
    (1, 60, "list_entry", "blacklist", 0, "", "record", False),
    (2, 80, "record", "theft", -200, "cameras", "detected", True),
    (2, 80, "tier", "bad", 1, "", "score", False),
    (2, 80, "list_entry", "blacklist", 0, "", "record", False),
    (2, 3, "blocked", "train", 0, "", "list", True),
    (2, 60, "blocked", "train", 0, "blacklist", "list", False),
    (2, 60, "blocked", "loan", 0, "bad", "tier", False),
    (3, 3, "list_exit", "blacklist", 0, "", "complied", True),
    (3, 60, "blocked", "train", 0, "blacklist", "list", False),
    (3, 80, "blocked", "train", 0, "", "list", False),
    (4, 3, "tier", "good", -1, "", "score", True),
    (4, 80, "list_exit", "blacklist", 0, "", "term_ended", False),
]


def write_run(out: Path, rows: list[tuple[Any, ...]], raw: dict[str, Any] | None = None) -> Path:
    """A run directory holding `rows` as its ledger (no people.parquet: a run with
    `people = "none"`), the scenario in run.json and daily metrics with rewards."""
    scenario = SCENARIO if raw is None else Scenario.model_validate(raw)
    out.mkdir(parents=True)
    codes = {
        "day": [r[0] for r in rows],
        "entity": [r[1] for r in rows],
        "kind": [KIND[r[2]] for r in rows],
        "rule": [VOCABULARY.code(r[3]) for r in rows],
        "delta": [r[4] for r in rows],
        "source": [VOCABULARY.code(r[5]) for r in rows],
        "origin": [ORIGIN[r[6]] for r in rows],
        "truth": [r[7] for r in rows],
    }
    columns = {name: np.array(codes[name], dtype=dtype) for name, dtype in COLUMNS.items()}
    pq.write_table(ledger_table(columns, VOCABULARY.names), out / "ledger.parquet")
    days = scenario.run.days
    metrics = {"day": list(range(days)), "bonus_rewards": [d * 2 for d in range(days)]}
    pq.write_table(pa.table(metrics), out / "metrics.parquet")
    manifest = {"scenario": scenario.model_dump(mode="json", exclude_none=True), "seed": 1}
    (out / "run.json").write_text(json.dumps(manifest))
    return out


def blocks(per_group: dict[str, int]) -> list[tuple[Any, ...]]:
    """Refusals only: `n` train refusals in each area, spread over that area's first people."""
    first = {"urban": 0, "rural": 50}
    return [
        (0, first[area] + i % 50, "blocked", "train", 0, "", "list", True)
        for area, n in per_group.items()
        for i in range(n)
    ]


def inflated(run: Path, out: Path, copies: int) -> Path:
    """A run directory whose ledger is `copies` copies of `run`'s, person p's rows given to
    persons p * copies + k (k < copies) of a population `copies` times as large, in day order:
    every count is `copies` times the original's. The metrics stay the original's and there is
    no people.parquet, so only the ledger grows."""
    out.mkdir(parents=True)
    ledger = pq.read_table(run / "ledger.parquet")
    big = ledger.take(pa.array(np.repeat(np.arange(ledger.num_rows), copies)))
    person = big.column("entity").to_numpy() * copies + np.tile(np.arange(copies), len(ledger))
    big = big.set_column(big.schema.get_field_index("entity"), "entity", pa.array(person))
    pq.write_table(big, out / "ledger.parquet")
    shutil.copy(run / "metrics.parquet", out / "metrics.parquet")
    manifest = json.loads((run / "run.json").read_text())
    manifest["scenario"]["population"]["size"] *= copies
    (out / "run.json").write_text(json.dumps(manifest))
    return out
