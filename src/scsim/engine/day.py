"""The day: a list of components, built from the scenario, stepped in order.

A day is one pass down the pipeline (behave, observe, score, sanction, respond, collect), with
the optional mechanisms between the stages. The order is written here, once (`ORDER`), and a
mechanism that is off is not in the list. What one component hands the next travels in a
`Flow`, typed, and nowhere else; what lasts beyond the day is in `ctx.state`.

A `Barrier` is a component that needs every region's totals (a national search capacity): the
day stops there, hands over its own totals (`Ask`) and goes on with the answer. One process
answers itself; a sharded run's driver sums the shards' totals and answers them all (see
`scsim.simulation.shards`). `Day.steps` is a generator, so a shard's day pauses at a barrier
without a thread.

    >>> day = Day.of(ctx)
    >>> day.names()                       # ('rulebook', 'behave', 'observe', 'score', ...)
    >>> row = day.step(ctx, 0)            # the day's metrics row; its ledger rows in ctx.ledger
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from scsim.engine.components.observe import Records
    from scsim.engine.components.ratings import CompanyDay
    from scsim.engine.components.respond import Responses
    from scsim.engine.components.sanction import Sanctions
    from scsim.engine.components.score import Changes
    from scsim.engine.context import Context
    from scsim.engine.sampling import Draw

Row = dict[str, int | float]


@dataclass
class Flow:
    """What passes from one component to the next within a day (nothing flows back up)."""

    events: Draw | None = None  # true events (behave; fewer after speak and silence)
    records: Records | None = None  # what the system believes (observe; search, inform)
    changes: Changes | None = None  # points, grades and lists moved today (score)
    company_day: CompanyDay | None = None  # companies rated today (rate)
    sanctions: Sanctions | None = None  # requests refused and rewarded (sanction)
    responses: Responses | None = None  # people who paid up (respond)
    felt: list[np.ndarray] = field(default_factory=list)  # felt a sanction besides a refusal
    columns: dict[str, int] = field(default_factory=dict)  # mechanisms' metrics, in day order
    searched: Any = None  # a barrier's own halfway result, for its answer
    row: Row = field(default_factory=dict)  # the day's metrics (collect)


class Component:
    """One step of the day, with its contract: the scenario fields it compiles (`reads`), the
    state it owns (`owns`: columns of `ctx.state`, with dtype), the metrics columns and ledger
    rows it writes. `scsim explain` prints them; `step` does the day's work."""

    name: ClassVar[str]
    stage: ClassVar[str]  # the stage of the pipeline it belongs to
    reads: ClassVar[tuple[str, ...]] = ()  # scenario fields, dotted
    owns: ClassVar[tuple[str, ...]] = ()  # state: "people.score (int16)", "rosters", ...
    writes: ClassVar[tuple[str, ...]] = ()  # metrics columns (<name> for each list, ...)
    ledger: ClassVar[tuple[str, ...]] = ()  # ledger rows: "kind/origin"

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Ask:
    """A day stopped at a barrier: this process's totals, for whoever answers."""

    barrier: Barrier
    totals: np.ndarray


class Barrier(Component):
    """A component that needs every region's totals: `ask` gives this process's, `settle`
    turns everyone's into the answer (the same in one process and in a sharded run's driver),
    and `answer` goes on with it."""

    def ask(self, ctx: Context, day: int, flow: Flow) -> np.ndarray:
        raise NotImplementedError

    def settle(self, ctx: Context, day: int, totals: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def answer(self, ctx: Context, day: int, flow: Flow, answer: np.ndarray) -> None:
        raise NotImplementedError


@dataclass
class Day:
    """The components of a day, in order, and (with `profile`) the seconds spent in each."""

    components: tuple[Component, ...]
    seconds: dict[str, float] | None = None
    stepped: int = 0  # days stepped (what `seconds` covers)

    @classmethod
    def of(cls, ctx: Context, *, profile: bool = False) -> Day:
        from scsim.engine.order import components  # the order of the day, written once

        built = tuple(components(ctx))
        return cls(built, {c.name: 0.0 for c in built} if profile else None)

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def step(self, ctx: Context, day: int) -> Row:
        """The whole day in this process: each barrier answered from this process's totals."""
        steps = self.steps(ctx, day)
        try:
            ask = next(steps)
            while True:
                ask = steps.send(ask.barrier.settle(ctx, day, ask.totals))
        except StopIteration as done:
            return done.value

    def steps(self, ctx: Context, day: int) -> Generator[Ask, np.ndarray, Row]:
        """The day, pausing at each barrier with its `Ask` until sent the answer."""
        flow, seconds = Flow(), self.seconds
        for component in self.components:
            started = time.perf_counter()
            if isinstance(component, Barrier):
                totals = component.ask(ctx, day, flow)
                paused = time.perf_counter()
                answer = yield Ask(component, totals)
                started += time.perf_counter() - paused  # the wait is not the component's
                component.answer(ctx, day, flow, answer)
            else:
                component.step(ctx, day, flow)
            if seconds is not None:
                seconds[component.name] += time.perf_counter() - started
        self.stepped += 1
        return flow.row
