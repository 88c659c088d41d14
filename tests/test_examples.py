"""examples/notebook.py, the walk through the Python API, runs start to end as a script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).parent.parent / "examples" / "notebook.py"


def test_the_notebook_example_runs_as_a_script(tmp_path: Path) -> None:
    small = {"SCSIM_EXAMPLE_PEOPLE": "20000", "SCSIM_EXAMPLE_DAYS": "120"}
    done = subprocess.run(
        [sys.executable, str(NOTEBOOK)],
        cwd=tmp_path,  # `compare` writes its runs under runs/ here
        env={**os.environ, **small, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for printed in (
        "court_blacklist_size",
        "list_sizes",
        "refused_by",
        "four_fifths",
        "difference",
    ):
        assert printed in done.stdout, printed
