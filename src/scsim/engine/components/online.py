"""Online monitoring: accounts suspended for what they post (docs/sources.md, People and what is
recorded: "posts critical of the government cost points; accounts can be suspended or
deleted", 001, 000, 004).

A sensor with `suspension` > 0 suspends the account of the person a record charges, with that
chance, for `suspension_days`: the ledger writes a "burden" row (rule "account_suspended",
source the sensor, origin the record's, truth false when the record was), and while suspended
the person does none of the suspending sensors' events (a suspended account posts nothing).
The suspension is a flag bit (`state.SUSPENDED`) and its end waits in the calendar (kind
"unsuspend"); a person already suspended is not suspended again, so each has one end pending.

    >>> suspension = Suspension.of(scenario, xp)     # None without a suspending sensor
    >>> events = silence(ctx, day, events)         # before observe
    >>> suspended = suspend(ctx, day, records)     # after the day's records are made
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept, threshold
from scsim.engine.sampling import Draw, region_counters
from scsim.engine.state import SUSPENDED
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.components.observe import Records
    from scsim.engine.context import Context


RULE = "account_suspended"
UNSUSPEND_COLUMNS: dict[str, type[np.generic]] = {"person": np.int64}


@dataclass(frozen=True)
class Suspension:
    chance: np.ndarray  # uint64 [K]: threshold of a record suspending its person's account
    days: np.ndarray  # int64 [K]
    silenced: np.ndarray  # bool [E]: what a suspended account cannot do

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Suspension | None:
        sensors = list(s.surveillance.sensors.values())
        if not any(x.suspension > 0 for x in sensors):
            return None
        silenced = {e for x in sensors if x.suspension > 0 for e in x.events}
        return cls(
            chance=xp.asarray(threshold(np.array([x.suspension for x in sensors]))),
            days=xp.asarray([x.suspension_days for x in sensors], dtype=np.int64),
            silenced=xp.asarray([e in silenced for e in s.behaviour.events], dtype=bool),
        )


def silence(ctx: Context, day: int, events: Draw) -> Outcome[Draw]:
    """End the suspensions due today; drop what suspended accounts would have posted."""
    suspension = ctx.params.mechanisms.suspension
    if suspension is None:
        return Outcome(events)
    ended = ctx.state.calendar.due("unsuspend", day, UNSUSPEND_COLUMNS, ctx.xp)["person"]
    ctx.state.people.flags[ended] &= ~SUSPENDED
    # the flags read only for the events an account can be silenced in (posts), not for every
    # event of the day: a read of a nation's flags is a cache miss each
    muted = suspension.silenced[events.column]
    at = ctx.xp.flatnonzero(muted)
    muted[at] = (ctx.state.people.flags[events.person[at]] & SUSPENDED) != 0
    return Outcome(events.take(~muted), {"posts_silenced": int(muted.sum())})


def suspend(ctx: Context, day: int, records: Records) -> dict[str, int]:
    """Suspend, with each record's sensor's chance, the accounts the day's records charge; each
    drawn by the record's region and rank there (`region_counters`: a shard draws the same)."""
    suspension = ctx.params.mechanisms.suspension
    if suspension is None:
        return {}
    xp = ctx.xp
    counter = region_counters(ctx.params.pop, records.person)
    hit = accept(ctx.streams.key("suspend", day), counter, suspension.chance[records.sensor])
    person, sensor, origin = records.person[hit], records.sensor[hit], records.origin[hit]
    person, first = xp.unique(person, return_index=True)  # one suspension a person a day
    sensor, origin = sensor[first], origin[first]
    fresh = (ctx.state.people.flags[person] & SUSPENDED) == 0
    person, sensor, origin = person[fresh], sensor[fresh], origin[fresh]
    ctx.state.people.flags[person] |= SUSPENDED
    ctx.state.calendar.schedule("unsuspend", day + suspension.days[sensor], person=person)
    truth = origin == ORIGIN["detected"]
    code = ctx.params.codes.vocabulary.code(RULE)
    ctx.ledger.add(day, "burden", person, code, 0, ctx.params.codes.sensors[sensor], origin, truth)
    return {
        "accounts_suspended": int(person.size),
        "accounts_suspended_wrongful": int((~truth).sum()),
    }


class Silence(Component):
    """Suspensions due today end; suspended accounts post nothing."""

    name, stage = "silence", "behave"
    reads = ("surveillance.sensors.<sensor>.suspension_days",)
    owns = ("people.flags bit 6: account suspended (uint8)", "calendar: unsuspend")
    writes = ("posts_silenced",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.events is not None
        silenced = silence(ctx, day, flow.events)
        flow.events = silenced.value
        flow.columns.update(silenced.metrics)


class Suspend(Component):
    """The day's records suspend accounts, each with its sensor's chance."""

    name, stage = "suspend", "observe"
    reads = ("surveillance.sensors.<sensor>.suspension",)
    owns = ("people.flags bit 6: account suspended (uint8)", "calendar: unsuspend")
    writes = ("accounts_suspended", "accounts_suspended_wrongful")
    ledger = ("burden/account_suspended",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        flow.columns.update(suspend(ctx, day, flow.records))
