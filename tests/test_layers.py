"""The layers point down (.importlinter): the engine never imports the audit or the report, the
audit and the report read run directories, experiments run simulations, and nothing imports
the interfaces. Checked here so that the layering cannot drift back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_every_layering_contract_is_kept() -> None:
    command = shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports is missing: install the test extra (import-linter)")
    done = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout
