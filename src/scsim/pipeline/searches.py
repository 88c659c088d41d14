"""A sensor's daily capacity: how many records it can make in a day (SYSTEM.md, cameras: "a
search can look for at most about a thousand people and the system cannot run
continuously", 004).

A sensor with `daily_capacity` keeps at most that many of the day's records taking effect and
misses the rest: which ones are kept is a random choice, the same on every backend (the
records ranked by random bits keyed on their place among the day's records). The records
over capacity are counted per sensor (`<sensor>_over_capacity`).

    >>> capacity = Capacity.of(scenario)               # None without a capped sensor
    >>> searched = search(model, day, records)         # after observe, before informants
"""

from __future__ import annotations

from dataclasses import dataclass

from scsim.backend import stable_argsort
from scsim.pipeline.observe import Records
from scsim.pipeline.outcome import Outcome
from scsim.rng import bits
from scsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Capacity:
    limits: tuple[tuple[int, str, int], ...]  # (sensor index, name, records a day)

    @classmethod
    def of(cls, s: Scenario) -> Capacity | None:
        sensors = s.surveillance.sensors.items()
        limits = tuple(
            (k, name, x.daily_capacity)
            for k, (name, x) in enumerate(sensors)
            if x.daily_capacity is not None
        )
        return cls(limits) if limits else None


def search(model, day: int, records: Records) -> Outcome[Records]:  # type: ignore[no-untyped-def]
    capacity = model.mechanisms.capacity
    if capacity is None:
        return Outcome(records)
    xp = model.xp
    keep = xp.ones(len(records), dtype=bool)
    metrics = {}
    for k, name, limit in capacity.limits:
        mine = xp.flatnonzero(records.sensor == k)
        over = max(int(mine.size) - limit, 0)
        metrics[f"{name}_over_capacity"] = over
        if over:
            rank = bits(model.streams.key("capacity", day, k), mine)
            keep[mine[stable_argsort(xp, rank)[limit:]]] = False
    return Outcome(records.take(keep), metrics)
