"""The chilling effect: people who feel watched, and who see their friends punished, offend
and speak less (docs/sources.md, Behaviour response; Side effects: self-censorship and fear, 004).

Runs on the day's true events, after `behave`, by thinning (docs/architecture.md): each event is
kept with its chance, so the work is proportional to events and the events held back are exactly
counted.

- Sanctions seen among friends (`deterrence.friends`): a punished offence is kept with
  (1 - friends) ** w, where w is the sum of the wariness (sanctions and demotions suffered)
  of the person's friends in the procedural graph, capped at `max_sanctions`.
- Self-censorship (`self_censorship`): a critical post is kept with 1 - surveillance x the
  chance of being recorded (perceived surveillance), and with (1 - friends) ** w as above.
  The posts held back are counted draw for draw (`speech_self_censored`); on top of them,
  `deterrence` lowers punished criticism before it is drawn, so the whole chill is critical
  speech beside the same people's with no system (`scsim compare --against-none`).

    >>> chill = Chill.of(scenario, xp)          # None while both are off
    >>> spoken = speak(ctx, day, events)      # after behave
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.backend import host_slices
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.rng import accept, libm, threshold
from scsim.engine.sampling import Draw
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


FRIENDS_CHUNK = 1 << 13  # people whose friends are looked up at once on the host


@dataclass(frozen=True)
class Chill:
    friends_keep: np.ndarray  # uint64 [256]: an offence survives w sanctions among friends
    speech: np.ndarray  # bool [E]: critical speech
    speech_friends_keep: np.ndarray  # uint64 [256]: a post survives w sanctions among friends
    speech_watched: float  # self_censorship.surveillance
    cap: int  # deterrence.max_sanctions
    counts_sanctions: bool  # friends must see sanctions: wariness grows with every sanction
    deters_friends: bool  # deterrence.friends > 0
    speech_sees_friends: bool  # self_censorship.friends > 0

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Chill | None:
        deterrence, censor = s.behaviour.deterrence, s.behaviour.self_censorship
        if not s.behaviour.feedback or (deterrence.friends == 0 and not censor.events):
            return None
        seen = np.minimum(np.arange(256), deterrence.max_sanctions)
        return cls(
            friends_keep=xp.asarray(threshold(libm(math.pow, 1.0 - deterrence.friends, seen))),
            speech=xp.asarray([e in censor.events for e in s.behaviour.events], dtype=bool),
            speech_friends_keep=xp.asarray(threshold(libm(math.pow, 1.0 - censor.friends, seen))),
            speech_watched=censor.surveillance,
            cap=deterrence.max_sanctions,
            counts_sanctions=deterrence.friends > 0 or censor.friends > 0,
            deters_friends=deterrence.friends > 0,
            speech_sees_friends=censor.friends > 0,
        )


def speak(ctx: Context, day: int, events: Draw) -> Outcome[Draw]:
    chill = ctx.params.mechanisms.chill
    if chill is None or len(events) == 0:
        return Outcome(events, _metrics(ctx, events, 0, 0))
    xp, streams = ctx.xp, ctx.streams
    speech = chill.speech[events.column]
    deterred = ctx.rules.plan.deterred[events.column] & ~speech
    watched = (deterred & chill.deters_friends) | (speech & chill.speech_sees_friends)
    seen = xp.zeros(len(events), dtype=np.int64)  # friends' wariness, only where it counts
    at = xp.flatnonzero(watched)
    seen[at] = _seen_among_friends(ctx, events.person[at], chill.cap)
    kept = ~deterred | accept(
        streams.key("chill:friends", day), events.serial, chill.friends_keep[seen]
    )
    at = xp.flatnonzero(speech)
    fear = threshold(1.0 - chill.speech_watched * ctx.rules.host_plan.detect_chance)
    spoken = xp.ones(len(events), dtype=bool)
    spoken[at] = accept(
        streams.key("chill:watched", day),
        events.serial[at],
        xp.asarray(fear)[events.stratum[at], events.column[at]],
    ) & accept(
        streams.key("chill:speech", day), events.serial[at], chill.speech_friends_keep[seen[at]]
    )
    kept &= spoken
    held = events.take(kept)
    censored = int((~spoken).sum())
    return Outcome(held, _metrics(ctx, held, censored, int((deterred & ~kept).sum())))


def _seen_among_friends(ctx: Context, person: np.ndarray, cap: int) -> np.ndarray:
    """Sanctions and demotions the person's friends have suffered, summed and capped. On the
    host FRIENDS_CHUNK people at a time, so that their friends' ids and wariness (a row per
    person) stay in cache: a nation's 1.5 million offences a day have 9 million friends."""
    xp = ctx.xp
    seen = xp.zeros(person.size, dtype=np.int64)
    if ctx.params.host_pop.friend_offsets.shape[1] == 0:
        return seen
    if kernels.active() and xp is np:
        pop = ctx.params.pop
        wariness = ctx.state.people.wariness
        compiled = kernels.seen_among_friends(
            pop.region_start, pop.friend_offsets, wariness, person, cap
        )
        if compiled is not None:
            return compiled
    for part in host_slices(xp, person.size, FRIENDS_CHUNK):
        wary = ctx.state.people.wariness[ctx.params.pop.friends(person[part])]
        seen[part] = xp.minimum(wary.sum(axis=1, dtype=np.int64), cap)
    return seen


def _metrics(ctx: Context, events: Draw, censored: int, deterred: int) -> dict[str, int]:
    chill = ctx.params.mechanisms.chill
    if chill is None:
        return {}
    return {
        "speech": int(chill.speech[events.column].sum()),
        "speech_self_censored": censored,
        "offences_deterred_by_friends": deterred,
    }


class Speak(Component):
    """People who feel watched or see friends punished hold back offences and criticism."""

    name, stage = "speak", "behave"
    reads = ("behaviour.self_censorship", "behaviour.deterrence.friends")
    writes = ("speech", "speech_self_censored", "offences_deterred_by_friends")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.events is not None
        spoken = speak(ctx, day, flow.events)
        flow.events = spoken.value
        flow.columns.update(spoken.metrics)
