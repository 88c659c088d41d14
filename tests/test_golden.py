"""Every built-in writes the data it wrote before: a change meant to move no result proves it.

A deliberate change of the model updates tests/golden/builtins.json in its own commit
(`python tests/golden_hashes.py --update`) and says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden_hashes import GOLDEN, run_hashes

from scsim.scenario.loader import builtin_names

RECORDED = json.loads(GOLDEN.read_text())


def test_every_builtin_has_recorded_hashes() -> None:
    assert sorted(RECORDED) == builtin_names()


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_writes_its_recorded_data(name: str, tmp_path: Path) -> None:
    assert run_hashes(name, tmp_path) == RECORDED[name]


@pytest.mark.parametrize("name", ["national-rollout", "national-score", "rongcheng"])
def test_builtin_writes_its_recorded_data_with_its_locks_in_two_parts(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A roster keeps its newest members apart from the rest from RECENT_FROM members on (a
    nation's locks): from one member on here, the built-ins that lock grades write the same
    data, and their days did ask a roster in two parts."""
    from scsim.engine import state

    monkeypatch.setattr(state, "RECENT_FROM", 1)
    parts = state.Roster._parts
    apart = []

    def counted(roster: state.Roster) -> tuple[object, ...]:
        found = parts(roster)
        apart.append(len(found) == 2)
        return found

    monkeypatch.setattr(state.Roster, "_parts", counted)
    assert run_hashes(name, tmp_path) == RECORDED[name]
    assert sum(apart) > 100
