"""Checking a run directory against its run.json: run.json's own seal and every recorded
file's sha256, recomputed (a comparison's compare.json and a sweep's sweep.json the same way).

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
from scsim.simulation.seal import seal_status

SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileCheck:
    name: str
    status: str  # "ok", "missing", "mismatch" or "unreadable"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


MANIFESTS = (MANIFEST, "compare.json", "sweep.json")
"""The manifests scsim writes, one a folder: a run's, a comparison's, a sweep's."""
RUNS = "runs"
"""The subfolder of a comparison or a sweep that holds its runs, each verified as well."""


def verify(run: Path) -> list[FileCheck]:
    """The folder's manifest, checked against its seal (its own content unchanged), then each
    file it records: present, of the recorded size and sha256. A comparison's or a sweep's
    runs (under runs/) are verified too, their names prefixed with their folder."""
    run = Path(run)
    name, record = read_manifest(run)
    files = recorded_files(run, record, name)
    checks = [_sealed(name, record), *(_check(run / f, entry) for f, entry in files.items())]
    if name != MANIFEST:
        checks += _runs_within(run / RUNS)
    return checks


def _runs_within(folder: Path) -> list[FileCheck]:
    """The checks of each run under a comparison's or a sweep's runs/ folder."""
    if not folder.is_dir():
        return []
    checks = []
    for run in sorted(p for p in folder.iterdir() if (p / MANIFEST).is_file()):
        try:
            found = verify(run)
        except RunDirectoryError as exc:
            found = [FileCheck(MANIFEST, "unreadable", str(exc))]
        checks += [FileCheck(f"{RUNS}/{run.name}/{c.name}", c.status, c.detail) for c in found]
    return checks


def _sealed(name: str, record: dict[str, Any]) -> FileCheck:
    status = seal_status(record)
    if status == "mismatch":
        return FileCheck(name, "mismatch", "its content changed since scsim sealed it")
    if status == "unsealed":
        return FileCheck(name, "ok", "written before manifests were sealed: files only")
    return FileCheck(name, "ok")


def refuse_unsealed(run: Path) -> None:
    """Refuse a run whose run.json changed since scsim sealed it (an edited summary or
    scenario), before a report or a sweep shows its figures as the run's."""
    try:
        name, record = read_manifest(Path(run))
    except RunDirectoryError:
        return  # not a run: the reader says so in its own words
    if seal_status(record) == "mismatch":
        raise RunDirectoryError(
            f"{run}/{name}: its content changed since the run wrote it (scsim verify checks "
            "a run); run it again"
        )


def manifest_name(folder: Path) -> str:
    """The manifest of `folder`: run.json, compare.json or sweep.json, whichever it has
    (run.json where it has none)."""
    return next((name for name in MANIFESTS if (folder / name).is_file()), MANIFEST)


def read_manifest(run: Path) -> tuple[str, dict[str, Any]]:
    """The folder's manifest (run.json, compare.json or sweep.json): its name and content, or
    one RunDirectoryError saying why not."""
    try:
        if not run.exists():
            raise RunDirectoryError(f"{run}: no such run directory")
        if not run.is_dir():
            raise RunDirectoryError(f"{run} is a file, not a run directory")
        name = manifest_name(run)
        if not (run / name).is_file():
            raise RunDirectoryError(f"{run}: not a run directory (it has no {MANIFEST})")
        with (run / name).open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise RunDirectoryError(f"{run}: cannot be read ({exc.strerror})") from None
    manifest = run / name
    if len(data) > MAX_MANIFEST_BYTES:
        raise _garbage(manifest, f"larger than {MAX_MANIFEST_BYTES // 2**20} MiB")
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _garbage(manifest, f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(record, dict):
        raise _garbage(manifest, "it has no table of files")
    return name, record


def recorded_files(
    run: Path, record: dict[str, Any] | None = None, name: str = MANIFEST
) -> dict[str, dict[str, Any]]:
    """The `files` table of a folder's manifest, or one RunDirectoryError saying why not."""
    if record is None:
        name, record = read_manifest(run)
    manifest = run / name
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        raise _garbage(manifest, "it has no table of files")
    for file, entry in files.items():
        _check_entry(manifest, file, entry)
    return files


def _check_entry(manifest: Path, name: str, entry: Any) -> None:
    if name in ("", ".", "..", *MANIFESTS) or Path(name).name != name or not name.isprintable():
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
