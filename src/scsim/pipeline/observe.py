"""Stage 2, observe: what the system comes to believe. Truth and record are different things.

Each true event is offered to the sensors that watch its type, in the scenario's order; the
first that covers and detects it writes the record. A detection may be charged to another
person of the same region (misidentified, as the face on the bus advertisement); and sensors
also write records of events that never happened (false matches). Every record keeps its
origin and its sensor, so each harm can be traced to its cause.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.ledger import ORIGIN
from scsim.rng import accept, integers
from scsim.sampling import Draw, people_in_strata


@dataclass(frozen=True)
class Records:
    person: np.ndarray  # int64
    event: np.ndarray  # int64
    sensor: np.ndarray  # int64
    origin: np.ndarray  # uint8, see scsim.ledger.ORIGINS

    def __len__(self) -> int:
        return len(self.person)


def observe(model, day: int, events: Draw) -> Records:  # type: ignore[no-untyped-def]
    parts = [_detections(model, day, events, k) for k in range(len(model.plan.sensors))]
    unseen = np.ones(len(events), dtype=bool)
    records = []
    for k, (index, person, origin) in enumerate(parts):
        first = unseen[index]  # a later sensor does not record what an earlier one did
        unseen[index[first]] = False
        records.append((person[first], events.column[index[first]], k, origin[first]))
    records.append(_false_matches(model, day))
    return Records(
        person=np.concatenate([r[0] for r in records]).astype(np.int64),
        event=np.concatenate([r[1] for r in records]).astype(np.int64),
        sensor=np.concatenate([np.broadcast_to(r[2], len(r[0])) for r in records]).astype(np.int64),
        origin=np.concatenate([np.broadcast_to(r[3], len(r[0])) for r in records]).astype(np.uint8),
    )


def _detections(model, day: int, events: Draw, k: int):  # type: ignore[no-untyped-def]
    plan, tables, streams = model.plan, model.tables, model.streams
    index = np.flatnonzero(plan.sensor_events[k, events.column])
    serial = events.serial[index]
    seen = accept(streams.key("observe", day, k), serial, tables.detect[k, events.stratum[index]])
    index, serial = index[seen], serial[seen]
    person = events.person[index].copy()
    origin = np.full(index.size, ORIGIN["detected"], dtype=np.uint8)
    wrong = accept(streams.key("misattribute", day, k), serial, tables.misattribute[k])
    if wrong.any():
        region = model.pop.region_of(person[wrong])
        r0, n = model.pop.region_start[region], np.diff(model.pop.region_start)[region]
        other = r0 + integers(streams.key("misattribute:who", day, k), serial[wrong], n)
        moved = other != person[wrong]
        person[np.flatnonzero(wrong)[moved]] = other[moved]
        origin[np.flatnonzero(wrong)[moved]] = ORIGIN["misidentified"]
    return index, person, origin


def _false_matches(model, day: int):  # type: ignore[no-untyped-def]
    plan, pop = model.plan, model.pop
    lam = pop.stratum_size[:, None] * (plan.sensor_coverage * plan.sensor_false_daily[:, None]).T
    draw = people_in_strata(pop, model.streams, "false-match", day, lam)
    event = np.empty(len(draw), dtype=np.int64)
    for k in np.unique(draw.column):
        mine = draw.column == k
        watched = np.flatnonzero(plan.sensor_events[k])
        pick = integers(model.streams.key("false-match:what", day, int(k)), draw.serial[mine],
                        watched.size)
        event[mine] = watched[pick]
    return draw.person, event, draw.column, np.uint8(ORIGIN["false_match"])
