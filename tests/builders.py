"""Small hand-built scenarios for stage tests: one region, one class, only what a test needs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from scsim.engine.model import Model
from scsim.errors import Interrupted
from scsim.scenario.schema import Scenario
from scsim.simulation.run import resume, simulate

BASE: dict[str, Any] = {
    "name": "test",
    "population": {
        "size": 10_000,
        "regions": {"Here": {"share": 1.0, "urban_share": 1.0, "household_mean": 3.0}},
        "classes": {"everyone": {"share": 1.0}},
    },
    "behaviour": {"events": {}, "feedback": False},
    "surveillance": {"sensors": {}},
    "rulebook": {
        "base": 1000,
        "scale": {"min": 0, "max": 30000},
        "tiers": {"good": {"min": 900, "max": 30000}, "bad": {"min": 0, "max": 899}},
        "rules": {},
        "lists": {},
        "services": {},
    },
    "run": {"days": 30, "seed": 11},
}


def scenario(**sections: Any) -> Scenario:
    """BASE with each keyword's table merged in (`rulebook={"rules": {...}}` and so on)."""
    raw = copy.deepcopy(BASE)
    for name, table in sections.items():
        _merge(raw.setdefault(name, {}), table)
    return Scenario.model_validate(raw)


def run_days(model: Model, days: int) -> list[dict[str, Any]]:
    """Step a model; return the metrics rows and keep every ledger row on `model.rows`."""
    rows, ledgers = [], []
    for _, row in model.run(0, days):
        rows.append(row)
        ledgers.append(model.ledger.drain())
    model.rows = {k: __import__("numpy").concatenate([x[k] for x in ledgers]) for k in ledgers[0]}
    return rows


def assert_resumes_to_the_same_bytes(
    s: Scenario, folder: Path, monkeypatch: pytest.MonkeyPatch, *, killed_on: int, every: int
) -> None:
    """Run `s` whole, and again with checkpoints every `every` days, interrupted (Ctrl-C) on
    day `killed_on` and resumed: the two runs' files must be byte for byte the same."""
    simulate(s, folder / "whole")
    real_step = Model.step

    def step(self: Model, day: int) -> dict:
        if day == killed_on:
            raise KeyboardInterrupt
        return real_step(self, day)

    monkeypatch.setattr(Model, "step", step)
    with pytest.raises(Interrupted):
        simulate(s, folder / "resumed", checkpoint_every=every)
    monkeypatch.undo()
    resume(folder / "resumed")
    for name in ("ledger.parquet", "metrics.parquet", "people.parquet"):
        resumed, whole = folder / "resumed" / name, folder / "whole" / name
        assert resumed.read_bytes() == whole.read_bytes(), name


def _merge(into: dict[str, Any], table: dict[str, Any]) -> None:
    for key, value in table.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
