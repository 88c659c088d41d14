"""README's Python blocks run as written, top to bottom: a reader copies them into a notebook."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_readmes_python_blocks_run_top_to_bottom(tmp_path: Path) -> None:
    """It called company_dossier on a run without companies and raised; each expression that
    shows something in a notebook is printed here, so a REPL's view of a result is run too."""
    blocks = python_blocks(README.read_text())
    assert len(blocks) == 2
    script = "\n".join(blocks)
    shown = "\n".join(_printed(line) for line in script.splitlines())
    done = subprocess.run(
        [sys.executable, "-c", shown],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "scsim run: rongcheng (" in done.stdout  # `result` on its own: its summary
    assert "wrongful harms, all kinds" in done.stdout


def _printed(line: str) -> str:
    """`result` alone on a line becomes print(repr(result)), as a REPL shows it."""
    code = line.split("#", 1)[0].rstrip()
    return f"print(repr({code}))" if re.fullmatch(r"[a-z_]+", code) else line
