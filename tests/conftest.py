"""Shared fixtures for the end-to-end tests: a tiny scenario file, and two ways to run `scsim`.

`cli(...)` runs the command in-process through typer's CliRunner (fast, monkeypatchable);
`console_script(...)` runs the installed `scsim` entry point in a subprocess, to prove real
exit codes and real stderr. Both return an `Outcome`, so a test can be written once for both.

    outcome = cli("run", str(tiny_file), "--out", str(tmp_path / "run"))
    assert outcome.exit_code == 0
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scsim.interfaces.cli import app

# rongcheng with more court cases and more travel, so that 60 days on 20,000 people already
# fill the court blacklist and block flights and trains (rongcheng's own rates block almost
# nothing at this size), and with more court misattribution, so some sanctions are wrongful.
TINY_TOML = """\
extends = "rongcheng"
name = "tiny"
description = "rongcheng, small and busy: for end-to-end tests"

[run]
days = 60
seed = 7

[population]
size = 20_000

[behaviour.events.judgment_defied]
per_year = 0.1

[surveillance.sensors.courts]
misattribution = 0.05

[rulebook.services.flight]
per_year = 6.0

[rulebook.services.train]
per_year = 12.0
"""
TINY_PEOPLE = 20_000
TINY_DAYS = 60
RUN_FILES = ("ledger.parquet", "metrics.parquet", "people.parquet", "report.html", "run.json")


@dataclass(frozen=True)
class Outcome:
    """What a user sees: the exit code, stdout and stderr (kept apart)."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def cli(*args: str) -> Outcome:
    """Run `scsim ARGS` in this process with typer's CliRunner."""
    result = _runner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def console_script(*args: str, cwd: Path | None = None) -> Outcome:
    """Run the installed `scsim` console script in a subprocess."""
    done = subprocess.run(
        [_scsim_executable(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "COLUMNS": "100"},
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into stdout by default
    except TypeError:
        return CliRunner()  # click >= 8.2 always keeps result.stderr apart


def _scsim_executable() -> str:
    beside_python = Path(sys.executable).with_name("scsim")
    found = str(beside_python) if beside_python.exists() else shutil.which("scsim")
    if found is None:
        pytest.skip("the scsim console script is not installed")
    return found


def summary_rows(stdout: str) -> dict[str, str]:
    """The summary table's rows, figure -> value, read off the terminal text (a value wrapped
    onto the next line, under an empty figure cell, joined back)."""
    rows: dict[str, str] = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 4 and cells[1]:
            rows[cells[1]] = cells[2]
        elif len(cells) == 4 and rows and cells[2]:
            last = next(reversed(rows))
            rows[last] = f"{rows[last]} {cells[2]}"
    return rows


def leftovers(out: Path) -> list[Path]:
    """Hidden partial or old directories a run may have left beside `out`."""
    if not out.parent.exists():
        return []
    return sorted(out.parent.glob(f".{out.name}.*"))


def write_scenario(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scenario, as a file extending rongcheng."""
    return write_scenario(tmp_path_factory.mktemp("scenario"), "tiny.toml", TINY_TOML)


@dataclass(frozen=True)
class TinyRun:
    outcome: Outcome
    path: Path


@pytest.fixture(scope="session")
def tiny_run(tiny_file: Path, tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """One CLI run of the tiny scenario, shared by the tests that only read its directory."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    outcome = cli("run", str(tiny_file), "--out", str(out))
    assert outcome.exit_code == 0, outcome.text
    return TinyRun(outcome, out)


def assert_one_line_refusal(outcome: Outcome, *words: str) -> str:
    """Exit code 2, one line on stderr starting with "error: ", no traceback, naming `words`."""
    assert outcome.exit_code == 2, outcome.text
    assert "Traceback" not in outcome.text
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]
