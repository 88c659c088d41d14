"""A finished run directory, opened for the audit: its manifest, its scenario, the group of
every person, and a DuckDB connection with views over its parquet files.

The groups are the scenario's strata (region, urban or rural, behaviour class). People are
numbered so that every stratum is a contiguous id range (docs/architecture.md), so the population is
regenerated from the scenario in run.json and a ledger row finds its person's group by a
range join: nothing per person is read, and it works when people.parquet holds a sample.

The connection works out of core: every query aggregates inside DuckDB, which holds at most
`SCSIM_AUDIT_MEMORY` (default half the memory available when the run is opened, so that a
report written at the end of a national run fits beside the run's own state) and spills the
rest to a temporary directory (`SCSIM_AUDIT_TEMP`, default one under the system's temporary
folder, removed when the connection closes).

    >>> run = open_run("runs/rongcheng")
    >>> run.sql("select kind, count(*) from ledger group by kind").df()
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from scsim.engine.groups import GROUPS, has_groups, minority_starts
from scsim.engine.income import band_names, band_starts
from scsim.engine.population import Population
from scsim.errors import UserError
from scsim.scenario.schema import Rulebook, Scenario, Service
from scsim.scenario.schema.places import grade_names
from scsim.simulation.resources import available_memory

# Ways to cut the population into groups; None (or "all") is everyone together. "income" is
# a dimension of the runs whose scenario has income bands, "ethnicity" of those whose regions
# have an ethnic minority (see `AuditRun.dimensions`).
DIMENSIONS = ("region", "area", "class", "income", "ethnicity")
RUN_MARKERS = ("run.json", "ledger.parquet", "metrics.parquet")
PATTERN_CHARACTERS = "*?[]{}\\"  # what DuckDB may read as a glob, or as its escape
KEEP_OPEN = 8  # runs whose population and connection stay loaded (a compare opens 2 per seed)
MEMORY_ENV = "SCSIM_AUDIT_MEMORY"  # DuckDB's memory limit for the audit, e.g. "64MB", "4GB"
TEMP_ENV = "SCSIM_AUDIT_TEMP"  # where DuckDB spills what does not fit
MEMORY_SHARE = 0.5  # default limit: this share of the memory available at opening
MIN_MEMORY = 2**28  # ... but never under 256 MiB
# DuckDB needs some memory per thread: two threads under 32 MB ran out where one spilled.
MEMORY_PER_THREAD = 64 * 2**20
UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}  # DuckDB wants a unit
UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class NotARunError(UserError):
    """The path is not a finished run directory (run.json, ledger.parquet, metrics.parquet)."""


class PersonError(UserError):
    """A person id that is not in the run's population."""


class GroupError(UserError):
    """A grouping the audit does not know."""


@dataclass(frozen=True)
class AuditRun:
    """A run directory and what the audit needs from it, loaded once per directory."""

    path: Path
    manifest: dict[str, Any]
    _kept: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def scenario(self) -> Scenario:
        return Scenario.model_validate(self.manifest["scenario"])

    @property
    def size(self) -> int:
        return self.scenario.population.size

    @property
    def days(self) -> int:
        return self.scenario.run.days

    @property
    def tiers(self) -> tuple[str, ...]:
        """Grades, best first (the rulebook's order; index 0 is the best)."""
        return grade_names(self.scenario)  # with places, every place's grades too

    @property
    def lists(self) -> tuple[str, ...]:
        return tuple(self.scenario.rulebook.lists)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.scenario.rulebook.services)

    @property
    def restricted_services(self) -> tuple[str, ...]:
        return restricted_services(self.scenario)

    @property
    def rewarding_services(self) -> tuple[str, ...]:
        return _services_that(self.scenario, lambda s: bool(s.reward_tiers or s.reward_lists))

    @property
    def base_tier(self) -> str:
        """The grade everyone starts in: the one whose range holds the base score."""
        book = self.scenario.rulebook
        return next(n for n, t in book.tiers.items() if t.min <= book.base <= t.max)

    @property
    def harmful_rules(self) -> tuple[str, ...]:
        """Rules whose record marks a person even without a deduction (a grade or a list), at
        any time of the run (the rulebook's or a dated change's)."""
        return tuple(
            dict.fromkeys(
                name
                for book in rulebooks(self.scenario)
                for name, rule in book.rules.items()
                if rule.set_tier is not None or rule.enter_list is not None
            )
        )

    @property
    def has_people(self) -> bool:
        return (self.path / "people.parquet").exists()

    @cached_property
    def population(self) -> Population:
        return Population.generate(self.scenario.population, seed=self.scenario.run.seed)

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The groupings of this run: income only where the scenario has income bands,
        ethnicity only where its regions have an ethnic minority."""
        spec = self.scenario.population
        missing = {"income": not spec.income, "ethnicity": not has_groups(spec)}
        return tuple(d for d in DIMENSIONS if not missing.get(d, False))

    @cached_property
    def strata(self) -> pd.DataFrame:
        """One row per stratum and income band (a stratum's bands are contiguous id ranges,
        see `scsim.engine.income`; one band, "all", without income bands): its id range [lo, hi),
        region, area, class, income band and size; where regions have an ethnic minority, each
        band is two rows, the majority's ids then the minority's (`scsim.engine.groups`), and
        column ethnicity names them ("all" otherwise)."""
        pop, spec = self.population, self.scenario.population
        starts = band_starts(spec, pop)
        bands = len(band_names(spec))
        stratum = np.repeat(np.arange(pop.n_strata), bands)
        table = pd.DataFrame(
            {
                "stratum": stratum,
                "lo": starts[:, :-1].ravel(),
                "hi": starts[:, 1:].ravel(),
                "region": [pop.region_names[r] for r in pop.stratum_region[stratum]],
                "area": np.where(pop.stratum_urban[stratum], "urban", "rural"),
                "class": [pop.class_names[c] for c in pop.stratum_class[stratum]],
                "income": np.tile(np.array(band_names(spec)), pop.n_strata),
                "ethnicity": "all",
            }
        )
        if has_groups(spec):
            table = _split_by_group(table, minority_starts(spec, pop).ravel())
        return table.assign(people=table.hi - table.lo)

    def groups(self, by: str | None) -> pd.DataFrame:
        """The groups of one dimension in the scenario's order, with their sizes."""
        column = self.group_column(by)
        if column is None:
            return pd.DataFrame({"group": ["all"], "people": [self.size]})
        sizes = self.strata.groupby(column, sort=False)["people"].sum()
        return pd.DataFrame({"group": sizes.index.astype(str), "people": sizes.to_numpy()})

    def cell_groups(self, cells: pd.Series, by: str | None) -> pd.Series:
        """The group (of dimension `by`) of each cell: a strata row named by its `lo`, as the
        audit's aggregates inside DuckDB name them (a person is in exactly one cell, so counts
        of cells add up to counts of groups, distinct people included)."""
        column = self.group_column(by)
        if column is None:
            return pd.Series("all", index=cells.index)
        lived = self.strata[self.strata.people > 0]  # an empty row shares its lo with the next
        return cells.map(dict(zip(lived.lo, lived[column].astype(str), strict=True)))

    def group_column(self, by: str | None) -> str | None:
        """`group_column`, refusing a grouping this run cannot make: by="income" in a scenario
        without income bands answered with one group, "all", as if it had grouped."""
        column = group_column(by)
        if column not in self.dimensions and column is not None:
            what = (
                "income bands (population.income)"
                if column == "income"
                else ("ethnic minority (population.regions.<r>.minority_share)")
            )
            raise GroupError(
                f"by={by!r}: scenario {self.scenario.name} has no {what}; "
                f"group by one of {', '.join(self.dimensions)}"
            )
        return column

    def by_cell(self, counts: pd.DataFrame, by: str | None) -> pd.DataFrame:
        """Counts per cell (column `cell`) summed per group of `by`, every group in order,
        zeros where a group has none."""
        groups = self.cell_groups(counts.cell, by)
        totals = counts.drop(columns="cell").groupby(groups).sum()
        return totals.reindex(self.groups(by).group, fill_value=0).astype("int64")

    @cached_property
    def con(self) -> duckdb.DuckDBPyConnection:
        """DuckDB with views `ledger` (plus `row`, its order in the file), `metrics`, `people`
        (where written), and the tables `strata`, `tiers`, `list_rules` and `service_lists`."""
        try:
            con = duckdb.connect(config=duckdb_settings())
        except duckdb.Error as exc:
            raise UserError(f"{MEMORY_ENV} or {TEMP_ENV} not understood: {exc}") from None
        if not _CLOSE_AT_EXIT:
            _CLOSE_AT_EXIT.append(atexit.register(_close_all))
        con.execute("set enable_progress_bar = false")
        con.execute(
            "create view ledger as select * exclude (file_row_number), file_row_number as row "
            f"from read_parquet({self._exact(con, 'ledger.parquet')}, file_row_number = true)"
        )
        for view in ("metrics", "people") if self.has_people else ("metrics",):
            source = self._exact(con, f"{view}.parquet")
            con.execute(f"create view {view} as select * from read_parquet({source})")
        tables = {
            "strata": self.strata,
            "tiers": self.tier_table,
            "list_rules": self.list_rules,
            "service_lists": self.service_lists,
        }
        for name, frame in tables.items():
            con.register(f"{name}_frame", frame)
            con.execute(f"create table {name} as select * from {name}_frame")
            con.unregister(f"{name}_frame")
        return con

    def _exact(self, con: duckdb.DuckDBPyConnection, name: str) -> str:
        """The SQL literal that names the run's file `name` and no other. DuckDB reads a path
        with `*`, `?` or `[` as a pattern (a run folder `runs/a*` read every `runs/a...` run)
        and has no escape that also passes a backslash; such a file is read through a link of
        a plain name in a folder of the audit's own, removed with it. The match is checked."""
        path = str(self.path.absolute() / name)
        if any(c in PATTERN_CHARACTERS for c in path):
            link = self._links / name
            if not link.is_symlink():
                link.symlink_to(path)
            path = str(link)
        found = [row[0] for row in con.execute("select file from glob(?)", [path]).fetchall()]
        if found != [path]:
            raise NotARunError(f"{self.path}: cannot be read, {name} is missing")
        return _quoted_text(path)

    @cached_property
    def _links(self) -> Path:
        """A folder of this audit's own for links to its files, removed when it is collected
        or Python exits."""
        folder = Path(tempfile.mkdtemp(prefix="scsim-audit-"))
        weakref.finalize(self, shutil.rmtree, folder, True)
        return folder

    @property
    def tier_table(self) -> pd.DataFrame:
        """Grades and their index, best first: a tier row's old grade is index - delta."""
        return pd.DataFrame({"name": self.tiers, "idx": np.arange(len(self.tiers))})

    @property
    def list_rules(self) -> pd.DataFrame:
        """Which rule's record enters which list, at any time of the run (the rulebook's or
        a dated change's). Columns: rule, list."""
        pairs = dict.fromkeys(
            (name, rule.enter_list)
            for book in rulebooks(self.scenario)
            for name, rule in book.rules.items()
            if rule.enter_list
        )
        return pd.DataFrame(list(pairs), columns=["rule", "list"], dtype=str)

    @property
    def service_lists(self) -> pd.DataFrame:
        """Which list blocks which service at any time of the run (the rulebook's or a dated
        change's: court-list-history's flights are blocked from July 2014). Columns: service,
        list."""
        pairs = dict.fromkeys(
            (name, listed)
            for book in rulebooks(self.scenario)
            for name, service in book.services.items()
            for listed in service.blocked_lists
        )
        return pd.DataFrame(list(pairs), columns=["service", "list"], dtype=str)

    def limit_memory(self, limit: str | None) -> None:
        """Hold the audit's DuckDB to `limit` (e.g. "64MB", with fewer threads under a small
        limit); None keeps the current limit."""
        if limit is not None:
            threads = threads_for(memory_bytes(limit))
            self.con.execute(f"set memory_limit = {_quoted_text(limit)}")
            self.con.execute(f"set threads = {threads}")

    def dates(self, days: Any) -> np.ndarray | None:
        """The calendar dates (datetime64[D]) of day numbers; None where the run has no
        run.start."""
        start = self.scenario.run.start
        if start is None:
            return None
        return np.datetime64(start, "D") + np.asarray(days, dtype=np.int64).astype("m8[D]")

    def with_dates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with a `date` column after its `day` where the run has dates (run.start),
        as metrics.parquet has: a reader of a dated run thinks in dates, not day numbers."""
        dates = self.dates(frame["day"])
        if dates is None:
            return frame
        return frame.assign(date=pd.Series(dates, index=frame.index).dt.date)[
            ["day", "date", *[c for c in frame.columns if c != "day"]]
        ]

    def sql(self, query: str, **params: Any) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query, params=params or None)

    def kept(self, name: str, query: str, **params: Any) -> str:
        """`name`: a temporary table of `query`'s rows, made once for this connection (again
        if the ledger file changes), for a query that several audits read and that is costly
        over a large ledger (the wrongful sanctions: a few rows, minutes over a nation's)."""
        stamp = (self.path / "ledger.parquet").stat().st_mtime_ns
        if self._kept.get(name) != stamp:
            self.con.execute(f"create or replace temp table {name} as {query}", params or None)
            self._kept[name] = stamp
        return name

    def check_person(self, person: int) -> int:
        if not 0 <= int(person) < self.size:
            raise PersonError(
                f"person {person} is not in {self.path}: ids run from 0 to {self.size - 1}"
            )
        return int(person)


def duckdb_settings() -> dict[str, Any]:
    """DuckDB's settings for an audit connection: a memory limit, a temporary directory to
    spill to (DuckDB creates it and removes it on closing) and no insertion order to keep
    (every query that needs an order says so)."""
    default = max(int(available_memory() * MEMORY_SHARE), MIN_MEMORY)
    memory = os.environ.get(MEMORY_ENV) or f"{default >> 20}MiB"
    folder = Path(os.environ.get(TEMP_ENV) or tempfile.gettempdir())
    temp = folder / f"scsim-audit-{os.getpid()}-{next(_CONNECTIONS)}"
    return {
        "memory_limit": memory,
        "threads": threads_for(memory_bytes(memory)),
        "temp_directory": str(temp),
        "preserve_insertion_order": False,
    }


def memory_bytes(limit: str) -> int:
    """Bytes of a memory limit as DuckDB reads it: "64MB" (10**6), "4GiB" (2**30), "1.5 GB"."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", limit)
    unit = UNITS.get(found.group(2).lower()) if found else None
    if found is None or not unit:
        raise UserError(f"memory limit {limit!r} not understood: expected e.g. 64MB or 4GiB")
    return int(float(found.group(1)) * unit)


def threads_for(memory: int) -> int:
    """DuckDB's threads under a memory limit: every core, as long as each has enough."""
    return max(1, min(os.cpu_count() or 1, memory // MEMORY_PER_THREAD))


_CONNECTIONS = itertools.count()


def graded_lists(scenario: Scenario) -> tuple[str, ...]:
    """The lists that `scenario` fills by grade (`enter_tiers`), on no record, from the start
    or from a dated change."""
    books = rulebooks(scenario)
    return tuple(n for n in scenario.rulebook.lists if any(b.lists[n].enter_tiers for b in books))


def restricted_services(scenario: Scenario) -> tuple[str, ...]:
    """Services that may refuse someone: those a list or a grade blocks, from the start or
    from a dated change (court-list-history's flights are blocked from July 2014 only)."""
    return _services_that(scenario, lambda s: bool(s.blocked_lists or s.blocked_tiers))


def rulebooks(scenario: Scenario) -> list[Rulebook]:
    """Every rulebook in force during the run: day 0's, then each dated change merged in (the
    engine's own `Rulebook.versions`), so that the audit sees what a change switches on."""
    return [book for _, book in scenario.rulebook.versions(scenario.run.start)]


def _services_that(scenario: Scenario, does: Callable[[Service], bool]) -> tuple[str, ...]:
    """The services for which `does` holds in any rulebook of the run, in the rulebook's order."""
    books = rulebooks(scenario)
    return tuple(n for n in scenario.rulebook.services if any(does(b.services[n]) for b in books))


def open_run(run: Any) -> AuditRun:
    """A run directory from a path or an `scsim.Result`; refused unless it is a finished run."""
    path = Path(getattr(run, "path", run))
    missing = [name for name in RUN_MARKERS if not (path / name).is_file()]
    if missing:
        raise NotARunError(f"{path} is not a run directory (no {', '.join(missing)})")
    key = (str(path.resolve()), (path / "run.json").stat().st_mtime_ns)
    if key not in _OPENED:
        try:
            manifest = json.loads((path / "run.json").read_text())
        except (OSError, ValueError) as exc:
            raise NotARunError(f"{path}/run.json cannot be read: {exc}") from None
        if not isinstance(manifest, dict) or "scenario" not in manifest:
            raise NotARunError(f"{path}/run.json has no resolved scenario")
        if len(_OPENED) >= KEEP_OPEN:
            _OPENED.pop(next(iter(_OPENED)))
        _OPENED[key] = AuditRun(path, manifest)
    return _OPENED[key]


def close_run(run: Any) -> None:
    """Forget an opened run and close its connection (a run's report is written in its
    temporary directory, which is renamed just after)."""
    path = str(Path(getattr(run, "path", run)).resolve())
    for key in [key for key in _OPENED if key[0] == path]:
        audit = _OPENED.pop(key)
        if "con" in audit.__dict__:
            audit.con.close()


_OPENED: dict[tuple[str, int], AuditRun] = {}
_CLOSE_AT_EXIT: list[Any] = []


def _close_all() -> None:
    """Close the open runs' connections (DuckDB then removes its temporary directories);
    runs dropped from `_OPENED` closed theirs when they were collected."""
    while _OPENED:
        _, audit = _OPENED.popitem()
        if "con" in audit.__dict__:
            audit.con.close()


def _split_by_group(table: pd.DataFrame, cuts: np.ndarray) -> pd.DataFrame:
    """Each row of the strata table as two: the majority's ids [lo, cut), the minority's
    [cut, hi), in id order."""
    majority = table.assign(hi=cuts, ethnicity=GROUPS[0])
    minority = table.assign(lo=cuts, ethnicity=GROUPS[1])
    both = pd.concat([majority, minority]).sort_index(kind="stable")
    return both.reset_index(drop=True)


def group_column(by: str | None) -> str | None:
    """The strata column of a grouping: None for everyone, else region, area, class or income
    (one band, "all", in a run without income bands)."""
    if by in (None, "all"):
        return None
    if by not in DIMENSIONS:
        raise GroupError(f"unknown grouping {by!r}; expected one of all, {', '.join(DIMENSIONS)}")
    return by


def group_sql(by: str | None, alias: str = "s") -> str:
    """The SQL expression of a person's group, given the joined strata row `alias`."""
    column = group_column(by)
    return "'all'" if column is None else f'{alias}."{column}"'


def stratum_join(alias: str = "l", strata: str = "s") -> str:
    """The join of ledger rows to their person's stratum (row of `strata`, as `strata`): the
    non-empty strata tile the ids, so a person's is the last that starts at or before them.
    An as-of join, a merge of two sorted inputs: the range join it replaced (entity >= lo and
    entity < hi) took 109 s for the 90 M burden rows of a national ledger, this 18 s."""
    ranges = "(select * from strata where hi > lo)"
    return f"asof join {ranges} {strata} on {alias}.entity >= {strata}.lo"


def _quoted(path: Path) -> str:
    return _quoted_text(str(path))


def _quoted_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
