"""Checking a run directory against its run.json: every recorded file's sha256, recomputed.

>>> checks = verify(Path("runs/rongcheng"))
>>> [c.name for c in checks if not c.ok]          # [] when nothing changed since the run
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scsim.errors import RunDirectoryError, UserError
from scsim.simulation.rundir import MANIFEST, MAX_MANIFEST_BYTES, sha256

SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileCheck:
    name: str
    status: str  # "ok", "missing", "mismatch" or "unreadable"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verify(run: Path) -> list[FileCheck]:
    """Each file run.json records, checked: present, of the recorded size and sha256."""
    return [_check(run / name, entry) for name, entry in recorded_files(run).items()]


def recorded_files(run: Path) -> dict[str, dict[str, Any]]:
    """The `files` table of a run directory's run.json, or one RunDirectoryError saying why not."""
    manifest = run / MANIFEST
    try:
        if not run.exists():
            raise RunDirectoryError(f"{run}: no such run directory")
        if not run.is_dir():
            raise RunDirectoryError(f"{run} is a file, not a run directory")
        if not manifest.is_file():
            raise RunDirectoryError(f"{run}: not a run directory (it has no {MANIFEST})")
        with manifest.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise RunDirectoryError(f"{run}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise _garbage(manifest, f"larger than {MAX_MANIFEST_BYTES // 2**20} MiB")
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _garbage(manifest, f"not JSON: {str(exc)[:80]}") from None
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict) or not files:
        raise _garbage(manifest, "it has no table of files")
    for name, entry in files.items():
        _check_entry(manifest, name, entry)
    return files


def _check_entry(manifest: Path, name: str, entry: Any) -> None:
    if name in ("", ".", "..", MANIFEST) or Path(name).name != name or not name.isprintable():
        raise _garbage(manifest, f"{name!r} is not the name of a file in the run directory")
    if not isinstance(entry, dict) or not SHA256.fullmatch(str(entry.get("sha256"))):
        raise _garbage(manifest, f"{name!r} has no sha256")
    size = entry.get("bytes", 0)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise _garbage(manifest, f"{name!r} has a size that is not a number of bytes")


def _check(path: Path, entry: dict[str, Any]) -> FileCheck:
    try:
        if not path.is_file():
            return FileCheck(path.name, "missing", "not in the run directory")
        size = path.stat().st_size
        if "bytes" in entry and size != entry["bytes"]:
            return FileCheck(
                path.name, "mismatch", f"{size:,} bytes, run.json says {entry['bytes']:,}"
            )
        if sha256(path) != entry["sha256"]:
            return FileCheck(path.name, "mismatch", "sha256 differs from run.json")
    except OSError as exc:
        return FileCheck(path.name, "unreadable", str(exc.strerror))
    return FileCheck(path.name, "ok")


@contextlib.contextmanager
def damage_named(run: Path) -> Iterator[None]:
    """Turn a failure to read a run's files (a parquet file damaged since the run: DuckDB's
    "Invalid data") into one UserError naming the file, when run.json's checksums show it
    changed. Any other failure is a bug in scsim and keeps its traceback."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:
        try:
            checks = verify(Path(run))  # the data files: an edited report.html reads fine
            changed = [c for c in checks if not c.ok and c.name.endswith(".parquet")]
        except RunDirectoryError:
            changed = []
        if not changed:
            raise
        what = "; ".join(f"{c.name} {c.status} ({c.detail})" for c in changed)
        raise RunDirectoryError(
            f"{run}: cannot be read, its files changed since the run wrote them: {what}; "
            "run it again (scsim verify checks a run's files)"
        ) from exc


def _garbage(manifest: Path, why: str) -> RunDirectoryError:
    return RunDirectoryError(f"{manifest}: not a run manifest ({why})")
