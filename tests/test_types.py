"""The source type-checks: mypy, strict as pyproject.toml's [tool.mypy] configures it, finds no
error in src/. Checked here so that an untyped function or a new mismatch cannot creep back."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_mypy_finds_no_error_in_src() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is missing: install the test extra (mypy)")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"mypy found errors (exit {done.returncode}):\n{done.stdout}{done.stderr}")
