"""A run directory that appears whole or not at all: written under a hidden name, then renamed.

runs/<name>/
  run.json          manifest: resolved scenario, seed, version, backend, timings, checksums
  metrics.parquet   one row per day
  ledger.parquet    every recorded change
  people.parquet    final state of every person
  report.html       the report, written from the sealed files; its checksum added after

A plain run writes into `.<name>.partial-<pid>` and removes it on failure. A resumable run
(`--checkpoint-every`) writes into `.<name>.partial`, a name `--resume` can find again, which
also holds its checkpoints (see `scsim.simulation.checkpoint`); only the final files are written
here.

    >>> directory = RunDirectory(Path("runs/x"), force=False, ledger_schema=schema)
    >>> directory.add_ledger(table); directory.write_table("metrics.parquet", metrics)
    >>> directory.finish(manifest)      # run.json with checksums, then the rename
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scsim.errors import OutputError, OutputExistsError
from scsim.simulation.seal import sealed

LEDGER_ROW_GROUP = 1 << 20
COMPRESSION = "zstd"
MANIFEST = "run.json"
MAX_MANIFEST_BYTES = 64 * 2**20  # a real run.json is a few kB (mostly the scenario)
SIGNATURES = {
    MANIFEST: ("scsim_version", "scenario", "files"),
    "compare.json": ("scsim_version", "figures"),
    "sweep.json": ("scsim_version", "sweep", "files"),
}
"""The keys that make a marker file scsim's: a run.json of some other tool's is not enough
for --force to delete the folder it is in."""

Finish = Callable[[Path], object]
"""What is written from a sealed run directory before it is published (the report), given by
whoever runs the simulation: the runner never imports the report (the layers point down). What
it returns (the report writer says whether it wrote) is not used."""


def resumable_partial(out: Path) -> Path:
    """Where a resumable run into `out` keeps its partial output and checkpoints (the same
    place however `out` is spelled: `runs/x`, `./runs/x/`, `/home/me/runs/x`)."""
    out = Path(os.path.abspath(out))
    return out.parent / f".{out.name}.partial"


class RunDirectory:
    def __init__(
        self,
        out: Path,
        *,
        force: bool,
        ledger_schema: pa.Schema,
        partial: Path | None = None,
    ) -> None:
        """Open the run directory's partial copy: a fresh `.NAME.partial-PID`, or the given
        `partial` (a resumable run's, which outlives this object: only its files are ours)."""
        self.out = Path(out)
        check_output_dir(self.out, force=force)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._owns_partial = partial is None
        if partial is None:
            remove_dead_leftovers(self.out)
            self.partial = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
            shutil.rmtree(self.partial, ignore_errors=True)
            self.partial.mkdir()
        else:
            self.partial = partial
            self._remove_files()
        self._ledger = pq.ParquetWriter(
            self.partial / "ledger.parquet", ledger_schema, compression=COMPRESSION
        )
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.ledger_rows = 0
        # Row groups are encoded and compressed on one background thread, in order, while the
        # next days are simulated (pyarrow releases the GIL): the bytes are those of a serial
        # write, and a national run's ledger no longer waits on the simulation or vice versa.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scsim-ledger")
        self._writes: list[Future[None]] = []

    def add_ledger(self, table: pa.Table) -> None:
        """Buffer a day's ledger rows; write a row group each time a million have gathered."""
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.ledger_rows += table.num_rows
        if self._pending_rows >= LEDGER_ROW_GROUP:
            self._flush_ledger()

    def write_table(self, name: str, table: pa.Table) -> None:
        pq.write_table(table, self.partial / name, compression=COMPRESSION)

    def write_chunks(self, name: str, tables: Any) -> None:
        writer = None
        for table in tables:
            writer = writer or pq.ParquetWriter(
                self.partial / name, table.schema, compression=COMPRESSION
            )
            writer.write_table(table)
        if writer is not None:
            writer.close()

    def finish(self, manifest: dict[str, Any]) -> Path:
        """Close the files, record their checksums in run.json, and move the directory in place."""
        self.seal(manifest)
        return self.publish()

    def seal(self, manifest: dict[str, Any]) -> None:
        """Close the files and write run.json with their checksums. Once run.json is there the
        partial directory is complete: a resumed run only has to `publish` it."""
        self._flush_ledger()
        self._wait_for_writes(0)
        self._writer.shutdown()
        self._ledger.close()
        manifest["files"] = {
            p.name: {"sha256": sha256(p), "bytes": p.stat().st_size} for p in self._files()
        }
        write_manifest(self.partial / MANIFEST, manifest)

    def publish(self) -> Path:
        """Move the sealed partial directory to `out`, replacing what was there (--force)."""
        return publish(self.partial, self.out)

    def abort(self) -> None:
        """Remove everything written so far; nothing half-written is left behind. A resumable
        run's directory stays (its checkpoint is the caller's), less its unsealed files."""
        try:
            self._writer.shutdown(cancel_futures=True)
            self._ledger.close()
        finally:
            if self._owns_partial:
                shutil.rmtree(self.partial, ignore_errors=True)
            elif not (self.partial / MANIFEST).exists():
                self._remove_files()

    def _files(self) -> list[Path]:
        """The run's files in the partial directory: plain files, not hidden ones, no folders."""
        return [
            p for p in sorted(self.partial.iterdir()) if p.is_file() and not p.name.startswith(".")
        ]

    def _remove_files(self) -> None:
        for path in self.partial.iterdir():
            if path.is_file():
                path.unlink()

    def _flush_ledger(self) -> None:
        if self._pending:
            table = pa.concat_tables(self._pending)
            self._pending, self._pending_rows = [], 0
            self._wait_for_writes(1)  # at most one row group queued behind the one in hand
            self._writes.append(self._writer.submit(self._ledger.write_table, table))

    def _wait_for_writes(self, keep: int) -> None:
        """Wait until at most `keep` writes are outstanding; re-raise a write's error here."""
        while len(self._writes) > keep:
            self._writes.pop(0).result()


LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:partial|old)-(?P<pid>[0-9]+)")
"""A partial or replaced output a process writes beside `out` under its own id, which a kill
(SIGKILL, a power cut) leaves behind."""


TEMPORARY = re.compile(r"\..+\.tmp-[0-9]+")
"""A file `write_atomically` was writing when its process was killed (a report's, run.json's
update): scsim's own, replaced with the rest."""


def remove_dead_leftovers(out: Path) -> list[Path]:
    """Remove what killed writers of `out` left beside it (`.NAME.partial-PID`,
    `.NAME.old-PID`) once their process is gone; a live process's is its own. Returns them."""
    out = Path(os.path.abspath(out))
    removed = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return []
    for path in entries:
        match = LEFTOVER.fullmatch(path.name)
        if match and match["name"] == out.name and not _alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (on this machine: a partial folder names its writer's id)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or an id no process can have
        return False
    except PermissionError:  # another user's process
        return True
    return True


def record_file(run: Path, name: str) -> None:
    """Add (or update) a file's sha256 in a sealed run.json: the report, written from the
    sealed files after them, is the page people share, and `scsim verify` checks it too."""
    manifest_path = Path(run) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    if not isinstance(manifest.get("files"), dict):  # a run written before run.json had them
        return
    path = Path(run) / name
    manifest["files"][name] = {"sha256": sha256(path), "bytes": path.stat().st_size}
    write_manifest(manifest_path, manifest)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write a manifest (run.json, compare.json, sweep.json) sealed: with the sha256 of its
    own content, which `scsim verify` checks as it checks the files it lists."""
    write_atomically(path, json.dumps(sealed(manifest), indent=2) + "\n")


def check_output_dir(out: Path, *, force: bool, marker: str = MANIFEST) -> None:
    """Refuse, before any work, an `out` that cannot become scsim's output folder. --force
    replaces only what scsim wrote (a folder holding `marker`) or an empty folder: a mistyped
    --out must never delete someone's files."""
    out = Path(out)
    if out.name in ("", ".."):  # ., /, runs/x/..: a folder that cannot be renamed
        raise OutputError(f"--out {out}: name the folder itself, not . or ..")
    if out.exists() or out.is_symlink():
        if not force:
            raise OutputExistsError(f"{out} exists; choose another --out or pass --force")
        if out.is_symlink() or not out.is_dir():
            kind = "a link" if out.is_symlink() else "a file"
            raise OutputError(
                f"{out} is {kind}, not a folder scsim wrote; --force replaces only scsim's "
                "output: choose another --out"
            )
        here = Path.cwd().resolve()
        if out.resolve() in (here, *here.parents):
            raise OutputError(f"--out {out} holds the current folder; choose another --out")
        if not _written_by_scsim(out / marker) and not _empty(out):
            raise OutputError(
                f"{out} is not empty and has no {marker} of scsim's, so scsim did not write it; "
                "--force replaces only scsim's output: choose another --out"
            )
        added = _added_by_someone(out, marker)
        if added:
            shown = ", ".join(added[:3]) + (f" and {len(added) - 3} more" if len(added) > 3 else "")
            raise OutputError(
                f"{out} holds files scsim did not write ({shown}); --force replaces only "
                "scsim's output: move them out or choose another --out"
            )
    check_parent(out)


SCSIM_WRITES = {
    MANIFEST: ("report.html", "ledger.parquet", "metrics.parquet", "people.parquet"),
    "compare.json": ("compare.html", "runs"),
}
"""Besides its marker and the files the marker records, what scsim writes in such a folder."""


def _added_by_someone(out: Path, marker: str) -> list[str]:
    """The entries of scsim's output folder `out` that scsim did not write (a user's notes,
    a plot saved beside the run): --force must not delete them with the folder."""
    if not (out / marker).is_file():
        return []  # an empty folder
    try:
        with (out / marker).open("rb") as handle:
            document = json.loads(handle.read(MAX_MANIFEST_BYTES + 1))
        entries = sorted(p.name for p in out.iterdir())
    except (OSError, ValueError, RecursionError):
        return []
    files = document.get("files") if isinstance(document, dict) else None
    ours = {marker, *SCSIM_WRITES[marker], *(files if isinstance(files, dict) else ())}
    return [name for name in entries if name not in ours and not TEMPORARY.fullmatch(name)]


def _written_by_scsim(marker: Path) -> bool:
    try:
        with marker.open("rb") as handle:
            document = json.loads(handle.read(MAX_MANIFEST_BYTES + 1))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and all(key in document for key in SIGNATURES[marker.name])


def check_output_file(path: Path, example: str = "report.html") -> None:
    """Refuse, before any work, a file path that cannot be written (a folder, or in one that
    cannot be made or written); `example` is the file name to suggest for a folder."""
    if Path(path).is_dir():
        raise OutputError(f"{path} is a folder; give a file name, such as {Path(path) / example}")
    check_parent(path)


def check_parent(path: Path) -> None:
    """Refuse a path whose folder cannot be made or written (a file on the way, no
    permission, a kernel file system), so the failure is a message before the run, not a
    traceback after it."""
    folder = Path(os.path.abspath(path)).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {folder}")
    if shutil.disk_usage(folder).total == 0:  # /proc, /sys: root may "write", nothing is kept
        raise OutputError(
            f"cannot write {path}: {folder} is on a file system of no size, which holds no "
            "files (as /proc and /sys are)"
        )


def _empty(folder: Path) -> bool:
    try:
        return next(folder.iterdir(), None) is None
    except OSError:
        return False


def publish(partial: Path, out: Path) -> Path:
    """Rename `partial` to `out`; an existing `out` is moved aside first and then removed."""
    if out.exists():
        trash = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(trash)
        partial.rename(out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        partial.rename(out)
    return out


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file, flushed to disk, then renamed."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with temporary.open("wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        replace_durably(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def replace_durably(source: Path, target: Path) -> None:
    """os.replace, and the folder's entry flushed, so the rename survives a crash too."""
    os.replace(source, target)
    try:
        folder = os.open(target.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform that cannot open folders
        return
    try:
        os.fsync(folder)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(folder)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
