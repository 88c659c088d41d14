"""Stage 2, observe: what the system comes to believe. Truth and record are different things.

Each true event is offered to the sensors that watch its type, in the scenario's order; the
first that covers and detects it writes the record. A detection may be charged to another
person of the same region (misidentified, as the face on the bus advertisement); and sensors
also write records of events that never happened (false matches). Every record keeps its
origin and its sensor, so each harm can be traced to its cause. A sensor that reports late
(`delay_days`) writes its records on the day of detection, but they wait in the calendar and
reach the score stage that many days later; the day's records are those taking effect today.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import filled, lookup, stable_argsort
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept, integers
from scsim.engine.sampling import Draw, people_in_strata

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.plan import Plan
    from scsim.engine.population import Population


@dataclass(frozen=True)
class Records:
    person: np.ndarray  # int64
    event: np.ndarray  # int64
    sensor: np.ndarray  # int64
    origin: np.ndarray  # uint8, see scsim.engine.ledger.ORIGINS

    def __len__(self) -> int:
        return len(self.person)

    def take(self, keep: np.ndarray) -> Records:
        """The records where `keep` is true (a mask or indices)."""
        return Records(self.person[keep], self.event[keep], self.sensor[keep], self.origin[keep])


# Records of late-reporting sensors wait in the calendar (kind "record"), narrow while waiting.
RECORD_COLUMNS: dict[str, type[np.generic]] = {
    "person": np.int64,
    "event": np.int16,
    "sensor": np.int16,
    "origin": np.uint8,
}


def expected_false_matches(plan: Plan, pop: Population) -> np.ndarray:
    """People x coverage x false records per day, per stratum and sensor (host, once)."""
    return pop.stratum_size[:, None] * (plan.sensor_coverage * plan.sensor_false_daily[:, None]).T


def observe(ctx: Context, day: int, events: Draw) -> Records:
    xp = ctx.xp
    sensor, index, person, origin = _detections(ctx, day, events)
    person_f, event_f, sensor_f, origin_f = _false_matches(ctx, day)
    made = Records(
        person=xp.concatenate([person, person_f]).astype(np.int64),
        event=xp.concatenate([events.column[index], event_f]).astype(np.int64),
        sensor=xp.concatenate([sensor, sensor_f]).astype(np.int64),
        origin=xp.concatenate([origin, filled(xp, origin_f, len(person_f), np.uint8)]),
    )
    return _taking_effect(ctx, day, made)


def _taking_effect(ctx: Context, day: int, made: Records) -> Records:
    """Today's records of prompt sensors, then the late ones due today; the late records made
    today go to the calendar."""
    if not ctx.rules.host_plan.sensor_delay.any():
        return made
    xp = ctx.xp
    delay = ctx.rules.plan.sensor_delay[made.sensor]
    late = delay > 0
    ctx.state.calendar.schedule(
        "record",
        day + delay[late],
        **{name: getattr(made, name)[late].astype(dtype) for name, dtype in RECORD_COLUMNS.items()},
    )
    due = ctx.state.calendar.due("record", day, RECORD_COLUMNS, xp)
    now = ~late
    return Records(
        person=xp.concatenate([made.person[now], due["person"]]),
        event=xp.concatenate([made.event[now], due["event"].astype(np.int64)]),
        sensor=xp.concatenate([made.sensor[now], due["sensor"].astype(np.int64)]),
        origin=xp.concatenate([made.origin[now], due["origin"]]),
    )


def _detections(
    ctx: Context, day: int, events: Draw
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every sensor's records of today's events at once: each (sensor, event) pair the sensor
    watches, sensor after sensor, draws its detection from the sensor's key and the event's
    serial; an event is recorded by the first sensor that detects it (a later one does not
    record it again). Returns the records' sensor, event index, person and origin, in sensor
    order and event order within a sensor: the order of offering the events sensor by sensor."""
    xp, plan, tables, streams = ctx.xp, ctx.rules.plan, ctx.rules.tables, ctx.streams
    sensors = len(ctx.rules.host_plan.sensors)
    compiled = _detections_compiled(ctx, day, events)
    if compiled is not None:
        sensor, index = compiled
        serial = events.serial[index]
    else:
        sensor, index = xp.nonzero(plan.sensor_events[:, events.column])  # sensor-major
        serial = events.serial[index]
        seen = accept(
            xp.asarray(streams.block_keys("observe", day, sensors))[sensor],
            serial,
            lookup(xp, tables.detect, sensor, events.stratum[index]),
        )
        sensor, index, serial = sensor[seen], index[seen], serial[seen]
        if tables.watched_twice:  # an event two sensors detected is recorded by the first only
            sensor, index, serial = _first_sensor(xp, sensor, index, serial)
    person = events.person[index].copy()
    origin = xp.full(index.size, ORIGIN["detected"], dtype=np.uint8)
    if not ctx.rules.host_plan.sensor_misattribution.any():
        return sensor, index, person, origin
    wrong = xp.flatnonzero(
        accept(
            xp.asarray(streams.block_keys("misattribute", day, sensors))[sensor],
            serial,
            tables.misattribute[sensor],
        )
    )
    region = ctx.params.pop.region_of(person[wrong])
    r0 = ctx.params.pop.region_start[region]
    n = ctx.params.pop.region_start[region + 1] - r0
    who = xp.asarray(streams.block_keys("misattribute:who", day, sensors))[sensor[wrong]]
    other = r0 + integers(who, serial[wrong], n)
    moved = other != person[wrong]
    person[wrong[moved]] = other[moved]
    origin[wrong[moved]] = ORIGIN["misidentified"]
    return sensor, index, person, origin


def _detections_compiled(
    ctx: Context, day: int, events: Draw
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_detections`' records (sensor, event index) by one compiled pass over the events
    (`--backend numba`), or None where the reference draws them."""
    if not (kernels.active() and ctx.xp is np):
        return None
    sensors = len(ctx.rules.host_plan.sensors)
    return kernels.detections(
        ctx.rules.plan.sensor_events, events.column, events.serial, events.stratum,
        ctx.streams.block_keys("observe", day, sensors), ctx.rules.tables.detect,
    )  # fmt: skip


def _first_sensor(
    xp: ModuleType, sensor: np.ndarray, index: np.ndarray, serial: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detections of each event by its first sensor only, in the same order: a stable sort
    by event keeps the sensors in order."""
    order = stable_argsort(xp, index)
    ranked = index[order]
    first = xp.sort(
        order[xp.concatenate([xp.ones(min(ranked.size, 1), dtype=bool), ranked[1:] != ranked[:-1]])]
    )
    return sensor[first], index[first], serial[first]


def _false_matches(ctx: Context, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.uint8]:
    xp, plan = ctx.xp, ctx.rules.plan
    draw = people_in_strata(
        ctx.params.pop, ctx.streams, "false-match", day, ctx.rules.expected_false
    )
    event = xp.empty(len(draw), dtype=np.int64)
    if len(draw) == 0:  # most days at a town's size: no false match anywhere
        return draw.person, event, draw.column, np.uint8(ORIGIN["false_match"])
    for k in xp.unique(draw.column).tolist():
        mine = draw.column == k
        watched = xp.flatnonzero(plan.sensor_events[k])
        pick = integers(
            ctx.streams.key("false-match:what", day, int(k)), draw.serial[mine], int(watched.size)
        )
        event[mine] = watched[pick]
    return draw.person, event, draw.column, np.uint8(ORIGIN["false_match"])


class Observe(Component):
    """2. observe - sensors record some events, miss most, charge some to the wrong person,
    and invent a few."""

    name = stage = "observe"
    reads = ("surveillance.sensors", "surveillance.adoption")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.events is not None
        flow.records = observe(ctx, day, flow.events)
