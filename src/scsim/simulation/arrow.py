"""Arrow tables for the run's files: codes become dictionary-encoded strings on the way out."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from scsim.engine.backend import to_host
from scsim.engine.ledger import KINDS, origins_of
from scsim.engine.state import LOCKED, TAINTED, list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context

PEOPLE_CHUNK = 1 << 20
CUMULATIVE_SUFFIXES = (
    "_blocked",
    "_blocked_wrongful",
    "_entries",
    "_cases",
    "_entries_wrongful",
    "_complied",
    "_complied_on_block",
    "_published",
    "_rewards",
    "_evaded",
    "sanctions_wrongful",
    "sanctions_on_false_record_holders",
    "_blocked_false_record_holders",
    "_appeals_filed",
    "_appeals_filed_wrongly_listed",
    "_appeals_decided",
    "_appeals_won",
    "_appeals_won_wrongly_listed",
)


def ledger_table(columns: dict[str, np.ndarray], names: tuple[str, ...]) -> pa.Table:
    kinds, vocabulary, origins = _ledger_dictionaries(names)
    return pa.table(
        {
            "day": pa.array(columns["day"], type=pa.int32()),
            "entity": pa.array(columns["entity"], type=pa.int64()),
            "kind": _dictionary(columns["kind"], pa.int8(), kinds),
            "rule": _dictionary(columns["rule"], pa.int16(), vocabulary),
            "delta": pa.array(columns["delta"], type=pa.int32()),
            "source": _dictionary(columns["source"], pa.int16(), vocabulary),
            "origin": _dictionary(columns["origin"], pa.int8(), origins),
            "truth": pa.array(columns["truth"], type=pa.bool_()),
        }
    )


class LedgerDays:
    """Days of ledger rows made into Arrow tables many days at once: pyarrow's calls cost
    about 70 us a table whatever its size, a tenth of a town's day. Each day's table is a slice
    of their joint table, handed to `add` in day order (the writer's row groups end on the same
    days, with the same rows); a batch holds at most BATCH_DAYS days or BATCH_ROWS rows, so a
    nation's days, millions of rows each, still go one by one.

        >>> days = LedgerDays(names, directory.add_ledger)
        >>> days.append(columns)            # every day, in order ...
        >>> days.flush()                    # ... and once at the end
    """

    BATCH_DAYS, BATCH_ROWS = 64, 1 << 16

    def __init__(self, names: tuple[str, ...], add: Callable[[pa.Table], None]) -> None:
        self.names, self.add = names, add
        self._days: list[dict[str, np.ndarray]] = []
        self._rows = 0

    def append(self, columns: dict[str, np.ndarray]) -> None:
        self._days.append(columns)
        self._rows += len(columns["day"])
        if len(self._days) >= self.BATCH_DAYS or self._rows >= self.BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        days, self._days, self._rows = self._days, [], 0
        if not days:
            return
        joined = {name: np.concatenate([d[name] for d in days]) for name in days[0]}
        table, start = ledger_table(joined, self.names), 0
        for columns in days:
            rows = len(columns["day"])
            self.add(table.slice(start, rows))
            start += rows


@functools.cache
def _ledger_dictionaries(names: tuple[str, ...]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The ledger's kinds, vocabulary and origins as Arrow strings, built once per run rather
    than once a day (Arrow arrays are immutable, so every day's table can share them)."""
    return pa.array(KINDS), pa.array(names, type=pa.string()), pa.array(origins_of(names))


def ledger_schema(names: tuple[str, ...]) -> pa.Schema:
    empty = {
        name: np.empty(0, dtype)
        for name, dtype in (
            ("day", np.int32),
            ("entity", np.int64),
            ("kind", np.uint8),
            ("rule", np.int16),
            ("delta", np.int32),
            ("source", np.int16),
            ("origin", np.uint8),
            ("truth", bool),
        )
    }
    return ledger_table(empty, names).schema


def metrics_table(rows: list[dict[str, int | float]], start: dt.date | None = None) -> pa.Table:
    """Daily rows, plus a `<name>_cum` column for every flow the published figures accumulate,
    and, for a run with a calendar start, the `date` of each day (after `day`)."""
    table = pa.Table.from_pylist(rows)
    if start is not None and table.num_rows:
        days = table.column("day").to_numpy().astype("timedelta64[D]")
        table = table.add_column(1, "date", pa.array(np.datetime64(start, "D") + days))
    for name in list(table.column_names):
        if name.endswith(CUMULATIVE_SUFFIXES):
            running = np.cumsum(table.column(name).to_numpy())
            table = table.append_column(f"{name}_cum", pa.array(running, type=pa.int64()))
    return table


def people_ids(size: int, people: str | int) -> Iterator[np.ndarray]:
    """The ids people.parquet holds, in chunks: everyone, nobody, or an even sample of N."""
    if people == "none":
        return
    count = size if people == "all" else min(int(people), size)
    for start in range(0, count, PEOPLE_CHUNK):
        index = np.arange(start, min(start + PEOPLE_CHUNK, count), dtype=np.int64)
        yield index if count == size else index * size // count


def people_tables(model: Context) -> Iterator[pa.Table]:
    """The final state of the chosen people, in chunks, with static traits derived from the id."""
    pop, plan, people, xp = (
        model.params.host_pop,
        model.rules.host_plan,
        model.state.people,
        model.xp,
    )
    for ids in people_ids(pop.size, model.params.scenario.run.people):
        on_device = xp.asarray(ids)
        stratum = pop.stratum_of(ids)
        household, _ = pop.household(ids)
        flags = to_host(people.flags[on_device])
        columns = {
            "person": pa.array(ids),
            "region": _dictionary(
                pop.stratum_region[stratum], pa.int16(), pa.array(pop.region_names)
            ),
            "urban": pa.array(pop.stratum_urban[stratum]),
            "class": _dictionary(pop.stratum_class[stratum], pa.int16(), pa.array(pop.class_names)),
            "household": pa.array(household),
            "employer": pa.array(pop.employer(ids)),
            "score": pa.array(to_host(people.score[on_device])),
            "tier": _dictionary(to_host(people.tier[on_device]), pa.int8(), pa.array(plan.tiers)),
        }
        for index, name in enumerate(plan.lists):
            columns[f"on_{name}"] = pa.array((flags & list_bit(index)) != 0)
        columns["locked"] = pa.array((flags & LOCKED) != 0)
        columns["false_record"] = pa.array((flags & TAINTED) != 0)
        columns["false_points"] = pa.array(to_host(people.false_points[on_device]))
        columns["wariness"] = pa.array(to_host(people.wariness[on_device]))
        yield pa.table(columns)


def _dictionary(codes: np.ndarray, index_type: pa.DataType, dictionary: pa.Array) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(index_type.to_pandas_dtype()), type=index_type), dictionary
    )
