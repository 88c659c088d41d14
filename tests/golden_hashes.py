"""Content hashes of a run's data files, stable across pyarrow versions.

A Parquet file's bytes carry the writer's version, so a new pyarrow would move a hash of the
bytes without any change of the model; these hashes read the columns back instead: each
column's name, type and values, in file order. A dictionary column (the ledger's kind, rule,
source and origin) is hashed as the word of each row: its dictionary is the whole vocabulary
of the engine, so a new kind of ledger row that a run does not write moves no hash.

    python tests/golden_hashes.py           # print every built-in's hashes
    python tests/golden_hashes.py --update  # rewrite tests/golden/builtins.json
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scsim.scenario import load_scenario
from scsim.scenario.loader import builtin_names
from scsim.simulation.run import simulate

GOLDEN = Path(__file__).parent / "golden" / "builtins.json"
DATA_FILES = ("metrics.parquet", "ledger.parquet", "people.parquet")
PEOPLE = 20_000  # every built-in at its own length and seed: court-list-history's 1,918 days too
SEED = 7


def column_digest(column: pa.ChunkedArray, digest: hashlib._Hash) -> None:
    array = column.combine_chunks()
    digest.update(str(array.type).encode() + b"\0" + str(array.null_count).encode())
    if pa.types.is_dictionary(array.type):  # its words, not its codes: see the docstring
        words = array.dictionary.take(array.indices).to_pylist()
        digest.update("\0".join("\x01" if w is None else w for w in words).encode())
        return
    values = array.to_numpy(zero_copy_only=False)
    if values.dtype == np.bool_:
        values = values.astype(np.uint8)
    digest.update(np.ascontiguousarray(values).tobytes())


def content_sha256(path: Path) -> str:
    table = pq.read_table(path)
    digest = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns, strict=True):
        digest.update(name.encode() + b"\0")
        column_digest(column, digest)
    return digest.hexdigest()


def run_hashes(name: str, folder: Path) -> dict[str, str]:
    scenario = load_scenario(name, overrides={"population.size": PEOPLE, "run.seed": SEED})
    out = folder / name
    simulate(scenario, out)
    return {file: content_sha256(out / file) for file in DATA_FILES}


def all_hashes() -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        return {name: run_hashes(name, Path(folder)) for name in builtin_names()}


if __name__ == "__main__":
    hashes = all_hashes()
    text = json.dumps(hashes, indent=2, sort_keys=True) + "\n"
    if "--update" in sys.argv:
        GOLDEN.write_text(text)
    print(text, end="")
