"""Which code made a run: a digest of the engine's source, beside `scsim.__version__`.

A commit can change what a run writes without changing the version string, so a checkpoint
resumed by other code would join two models' days in one ledger and call it one run. The digest
covers every module that decides a run's bytes (the scenario's resolution, the engine, the
writers). The audit and the report only read a finished run directory, so they are left out:
improving them does not strand a long run's checkpoint.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # scsim/
READERS = ("audit", "report")  # subpackages that never touch a run before it is finished


@functools.cache
def engine_sha256(root: Path = PACKAGE) -> str:
    """sha256 over the engine's source files under `root`: each file's path and length, then
    its bytes, in path order (so that moving code between files changes it too)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name.split("/", 1)[0] in READERS:
            continue
        content = path.read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def other_code(written: object) -> str | None:
    """Why a record of `written` (its `engine_sha256`) is not this code's, in words, or None
    where it is: checkpoints, shards and sweeps refuse other code with this phrase."""
    mine = engine_sha256()
    if written == mine:
        return None
    return f"engine sha256 {str(written)[:12]}, here {mine[:12]}"
