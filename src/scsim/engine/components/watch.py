"""Surveillance intensity by ethnic group [U]: a sensor may watch one group less than another.

A sensor's `coverage_by_group` keeps, of its records of each group's people, that share (1, the
default: all). The day's records of such sensors are thinned after observe, each kept with its
sensor's share for its person's group (`scsim.engine.groups`), drawn by the record's region and
rank there (`region_counters`: a shard draws the same). Thinning the records is lower coverage
of that group, except that an event a thinned sensor dropped is not offered to the sensors after
it. The records dropped are counted per group (`records_unwatched_<group>`).

    >>> watching = Watching.of(scenario, pop, xp)     # None while no sensor sets it
    >>> records = watch(ctx, day, records).value      # after observe
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.components.observe import Records
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.groups import GROUPS, group_of, minority_starts
from scsim.engine.income import band_starts
from scsim.engine.population import Population
from scsim.engine.rng import accept, threshold
from scsim.engine.sampling import region_counters
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


@dataclass(frozen=True)
class Watching:
    kept: np.ndarray  # uint64 [K, 2]: threshold of keeping a record, by sensor and group
    bands: np.ndarray  # int64 [S, B + 1]: income bands (`income.band_starts`)
    cuts: np.ndarray  # int64 [S, B]: first minority id of each band (`groups.minority_starts`)

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> Watching | None:
        sensors = list(s.surveillance.sensors.values())
        share = np.array([[x.coverage_by_group.get(g, 1.0) for g in GROUPS] for x in sensors])
        if not (share < 1.0).any():
            return None
        return cls(
            kept=xp.asarray(threshold(share.reshape(len(sensors), len(GROUPS)))),
            bands=xp.asarray(band_starts(s.population, pop)),
            cuts=xp.asarray(minority_starts(s.population, pop)),
        )


def watch(ctx: Context, day: int, records: Records) -> Outcome[Records]:
    watching = ctx.params.mechanisms.watching
    assert watching is not None
    xp, pop = ctx.xp, ctx.params.pop
    group = group_of(watching.cuts, watching.bands, pop, records.person)
    key = ctx.streams.key("watch", day)
    keep = accept(key, region_counters(pop, records.person), watching.kept[records.sensor, group])
    dropped = xp.bincount(group[~keep], minlength=len(GROUPS))
    row = {f"records_unwatched_{g}": int(dropped[i]) for i, g in enumerate(GROUPS)}
    return Outcome(records.take(keep), row)


class Watch(Component):
    """Sensors watch one ethnic group less than another: their records are thinned by group."""

    name, stage = "watch", "observe"
    reads = (
        "surveillance.sensors.<sensor>.coverage_by_group",
        "population.regions.<r>.minority_share",
    )
    writes = ("records_unwatched_majority", "records_unwatched_minority")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        watched = watch(ctx, day, flow.records)
        flow.records = watched.value
        flow.columns.update(watched.metrics)
