"""A run directory that appears whole or not at all: written under a hidden name, then renamed.

runs/<name>/
  run.json          manifest: resolved scenario, seed, version, backend, timings, checksums
  metrics.parquet   one row per day
  ledger.parquet    every recorded change
  people.parquet    final state of every person
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scsim.errors import OutputExistsError

LEDGER_ROW_GROUP = 1 << 20
COMPRESSION = "zstd"


class RunDirectory:
    def __init__(self, out: Path, *, force: bool, ledger_schema: pa.Schema) -> None:
        self.out = Path(out)
        if self.out.exists() and not force:
            raise OutputExistsError(f"{self.out} exists; choose another --out or pass --force")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir()
        self._ledger = pq.ParquetWriter(
            self.partial / "ledger.parquet", ledger_schema, compression=COMPRESSION
        )
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.ledger_rows = 0

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
        self._flush_ledger()
        self._ledger.close()
        manifest["files"] = {
            p.name: {"sha256": sha256(p), "bytes": p.stat().st_size}
            for p in sorted(self.partial.iterdir())
        }
        (self.partial / "run.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if self.out.exists():
            trash = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
            self.out.rename(trash)
            self.partial.rename(self.out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            self.partial.rename(self.out)
        return self.out

    def abort(self) -> None:
        """Remove everything written so far; nothing half-written is left behind."""
        try:
            self._ledger.close()
        finally:
            shutil.rmtree(self.partial, ignore_errors=True)

    def _flush_ledger(self) -> None:
        if self._pending:
            self._ledger.write_table(pa.concat_tables(self._pending))
            self._pending, self._pending_rows = [], 0


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
