"""The files of a checkpoint: raw arrays, ledger intervals as Arrow, sealed JSON, a lock.

Everything here is written whole or not at all (a temporary name, flushed, then renamed) and
read back only after its sha256 is checked; `scsim.simulation.checkpoint` decides what goes in them.

    >>> layout, size, sha = write_arrays(path, {"people.score": score})
    >>> arrays = read_arrays(path, layout, size)
    >>> record = unseal(path)          # a JSON file whose own checksum matches, or CheckpointError
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from scsim.engine.ledger import COLUMNS
from scsim.errors import CheckpointError
from scsim.simulation.rundir import replace_durably, sha256

if sys.platform == "win32":  # pragma: no cover - Windows: no advisory locks, one at a time
    fcntl: ModuleType | None = None
else:
    import fcntl

LEDGER_SCHEMA = pa.schema([(name, pa.from_numpy_dtype(dtype)) for name, dtype in COLUMNS.items()])
ARRAY_KINDS = "biuf"  # bool, signed, unsigned, float: never objects


# ---------------------------------------------------------------- ledger intervals and arrays


class LedgerPart:
    """One checkpoint interval's ledger rows: an Arrow IPC file, one batch per day with rows,
    written under a hidden name and renamed when the interval's checkpoint is saved."""

    def __init__(self, path: Path, first_day: int) -> None:
        self.path, self.first_day, self.rows = path, first_day, 0
        self.temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self._handle: BinaryIO = self.temporary.open("wb")
        self._writer = pa.ipc.new_file(self._handle, LEDGER_SCHEMA)

    def add(self, columns: dict[str, np.ndarray]) -> None:
        n = len(columns["day"])
        if n:
            arrays = [pa.array(columns[f.name], type=f.type) for f in LEDGER_SCHEMA]
            self._writer.write_batch(pa.record_batch(arrays, schema=LEDGER_SCHEMA))
            self.rows += n

    def close(self) -> dict[str, Any]:
        self._writer.close()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        replace_durably(self.temporary, self.path)
        return {
            "file": self.path.name,
            "first_day": self.first_day,
            "rows": self.rows,
            "bytes": self.path.stat().st_size,
            "sha256": sha256(self.path),
        }

    def discard(self) -> None:
        try:
            self._handle.close()
        finally:
            self.temporary.unlink(missing_ok=True)


def ledger_days(path: Path) -> Iterator[dict[str, np.ndarray]]:
    """The days of one ledger file: consecutive batches of the same day joined."""
    with pa.OSFile(str(path)) as source:
        reader = pa.ipc.open_file(source)
        batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
    day: list[pa.RecordBatch] = []
    for batch in batches:
        if day and batch.column(0)[0].as_py() != day[0].column(0)[0].as_py():
            yield _columns(day)
            day = []
        day.append(batch)
    if day:
        yield _columns(day)


def _columns(batches: list[pa.RecordBatch]) -> dict[str, np.ndarray]:
    table = pa.Table.from_batches(batches)
    return {
        name: np.asarray(table.column(name).to_numpy(), dtype=dtype)
        for name, dtype in COLUMNS.items()
    }


def write_arrays(
    path: Path, arrays: dict[str, np.ndarray]
) -> tuple[dict[str, dict[str, Any]], int, str]:
    """Write arrays one after another, raw, flushed, then renamed; return their layout, the
    file's size and its sha256."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    layout, offset, hasher = {}, 0, hashlib.sha256()
    with temporary.open("wb") as handle:
        for name, array in arrays.items():
            flat = np.ascontiguousarray(array).reshape(-1)
            data = flat.view(np.uint8).data  # a memoryview of the bytes, as memoryview() gives
            handle.write(data)
            hasher.update(data)
            layout[name] = {"dtype": flat.dtype.str, "shape": list(array.shape), "offset": offset}
            offset += flat.nbytes
        handle.flush()
        os.fsync(handle.fileno())
    replace_durably(temporary, path)
    return layout, offset, hasher.hexdigest()


def read_arrays(path: Path, layout: dict[str, Any], size: int) -> dict[str, np.ndarray]:
    """The arrays `write_arrays` wrote, as its layout says; ValueError for a layout that asks
    for objects or for bytes past the end of the file."""
    arrays = {}
    with path.open("rb") as handle:
        for name, spec in layout.items():
            dtype = np.dtype(spec["dtype"])
            shape = [int(n) for n in spec["shape"]]
            count, offset = math.prod(shape), int(spec["offset"])
            if dtype.kind not in ARRAY_KINDS or min(shape, default=0) < 0 or offset < 0:
                raise ValueError(f"array {name} has dtype {dtype} and shape {shape}")
            if offset + count * dtype.itemsize > size:
                raise ValueError(f"array {name} runs past the end of {path.name}")
            handle.seek(offset)
            arrays[name] = np.fromfile(handle, dtype=dtype, count=count).reshape(shape)
    return arrays


def check_file(manifest: Path, path: Path, entry: dict[str, Any]) -> None:
    """Refuse a file that the manifest names but that is missing or not what it recorded."""
    if not path.is_file():
        raise damaged(manifest, f"{path.name} is missing")
    if path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
        raise damaged(manifest, f"{path.name} does not match its sha256")


def plain_name(name: Any) -> str:
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"{name!r} is not a file name")
    return name


# ---------------------------------------------------------------- sealed JSON


def seal(record: dict[str, Any]) -> bytes:
    """The record as JSON with a `checksum`: the sha256 of its canonical form."""
    return json_bytes({**record, "checksum": digest(record)}, indent=2) + b"\n"


def unseal(path: Path) -> dict[str, Any]:
    """A file `seal` wrote, without its checksum, or CheckpointError if it does not match."""
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise damaged(path, f"unreadable: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get("checksum"), str):
        raise damaged(path, "no checksum")
    checksum = record.pop("checksum")
    if digest(record) != checksum:
        raise damaged(path, "its checksum does not match its content")
    return record


def damaged(path: Path, what: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: the checkpoint is damaged ({what}); it cannot be resumed: "
        "start the run again with --force"
    )


def digest(value: Any) -> str:
    return hashlib.sha256(json_bytes(value, indent=None)).hexdigest()


def json_bytes(value: Any, indent: int | None = None) -> bytes:
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(
        value, indent=indent, sort_keys=indent is None, separators=separators, default=plain
    ).encode()


def plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def hold(partial: Path) -> int:
    """Hold the partial directory for this process (released when the descriptor closes, also
    when the process is killed), so that two processes never write one run."""
    if fcntl is None:  # pragma: no cover - no flock (Windows): a descriptor to close, no lock
        return os.open(os.devnull, os.O_RDONLY)
    descriptor = os.open(partial, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        raise CheckpointError(
            f"{partial} is being written by another scsim process; wait for it to finish"
        ) from None
    return descriptor
