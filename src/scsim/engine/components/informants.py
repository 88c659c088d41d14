"""Informants: people report each other, and reports earn the reporter points (docs/sources.md,
"Informants: reporting illegal behaviour earns points", source 004; the 1000-point city
pilot gives +10 for reporting illegal behaviour).

An informant network is a sensor with `informants = true`: its coverage and detection say how
often an offence is reported, its false records are false reports (an accusation of an event
that never happened: ledger origin "false_report", which the audit counts as wrongful, like a
false match). Each report, true or false, is made by one friend of the person reported, drawn
from the procedural friendship graph (so informants live in the same region), and with a
`reward_event` the reporter is credited with a record of that event, whose rule gives the
points. Rewards are records of the day the report takes effect; they join the day's records
before score, so the reporter's points count today.

    >>> informants = Informants.of(scenario, xp)     # None without an informant sensor
    >>> reports = inform(ctx, day, records)        # after observe, before score
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.components.observe import Records
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import integers
from scsim.engine.sampling import region_counters
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


@dataclass(frozen=True)
class Informants:
    reporting: np.ndarray  # bool [K]: the sensor is an informant network
    reward_event: np.ndarray  # int64 [K]: event credited to the reporter, -1 for none

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Informants | None:
        sensors = list(s.surveillance.sensors.values())
        if not any(x.informants for x in sensors):
            return None
        events = list(s.behaviour.events)
        reward = [-1 if x.reward_event is None else events.index(x.reward_event) for x in sensors]
        return cls(
            reporting=xp.asarray([x.informants for x in sensors], dtype=bool),
            reward_event=xp.asarray(reward, dtype=np.int64),
        )


def inform(ctx: Context, day: int, records: Records) -> Outcome[Records]:
    informants = ctx.params.mechanisms.informants
    if informants is None:
        return Outcome(records)
    xp = ctx.xp
    reported = informants.reporting[records.sensor]
    false = reported & (records.origin == ORIGIN["false_match"])
    origin = xp.where(false, ORIGIN["false_report"], records.origin).astype(np.uint8)
    reporter, event, sensor = _reporters(ctx, day, records, reported, informants)
    rewards = Records(
        person=reporter,
        event=event,
        sensor=sensor,
        origin=xp.full(reporter.size, ORIGIN["detected"], dtype=np.uint8),
    )
    merged = Records(
        person=xp.concatenate([records.person, rewards.person]),
        event=xp.concatenate([records.event, rewards.event]),
        sensor=xp.concatenate([records.sensor, rewards.sensor]),
        origin=xp.concatenate([origin, rewards.origin]),
    )
    metrics = {
        "informant_reports": int(reported.sum()),
        "informant_reports_false": int(false.sum()),
        "informant_rewards": int(reporter.size),
    }
    return Outcome(merged, metrics)  # false reports relabelled, rewards appended


def _reporters(
    ctx: Context, day: int, records: Records, reported: np.ndarray, informants: Informants
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who made each rewarded report: one of the reported person's friends, drawn by the
    report's region and rank among the region's reports (`region_counters`: the same on every
    backend and in a shard)."""
    xp, pop = ctx.xp, ctx.params.pop
    index = xp.flatnonzero(reported & (informants.reward_event[records.sensor] >= 0))
    friends = 2 * int(ctx.params.host_pop.friend_offsets.shape[1])
    if friends == 0 or index.size == 0:
        empty = xp.empty(0, dtype=np.int64)
        return empty, empty, empty
    counter = region_counters(pop, records.person[index])
    pick = integers(ctx.streams.key("informants:who", day), counter, friends)
    reporter = pop.friends(records.person[index])[xp.arange(index.size), pick]
    sensor = records.sensor[index]
    return reporter, informants.reward_event[sensor], sensor


class Inform(Component):
    """Informants' false reports are relabelled as such, their rewards added."""

    name, stage = "inform", "observe"
    reads = (
        "surveillance.sensors.<sensor>.informants",
        "surveillance.sensors.<sensor>.reward_event",
    )
    writes = ("informant_reports", "informant_reports_false", "informant_rewards")
    ledger = ("record/false_report", "record/reward")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        reports = inform(ctx, day, flow.records)
        flow.records = reports.value
        flow.columns.update(reports.metrics)
