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
