"""Children in the rulebook: adults-only scoring, and refusals that reach a household's children.

Who is a child follows from the id (`scsim.engine.ages`). Two uses, each its own component:

- `Spare`: a rulebook with `adults_only` scores adults only (Rongcheng: adults resident a year
  or more [P]). After observe, the day's records of children are kept out of the score, counted
  (`records_of_children_unscored`).
- `Reach`: a service with `reaches_children` refuses a household when it refuses one of its
  members for the household's children (children kept out of better and private schools, 000,
  001, 002). After sanction, the children of the households refused today are counted, each once
  a day (`<service>_children_reached`).

    >>> ages = Ages.of(scenario, pop, xp)            # None unless a rule or service reads age
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.ages import child_chance, is_child
from scsim.engine.backend import unique
from scsim.engine.day import Component, Flow
from scsim.engine.population import Population
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


@dataclass(frozen=True)
class Ages:
    chance: np.ndarray  # uint64 [R]: a non-first household member is a child
    seed: int
    adults_only: bool
    reaching: tuple[int, ...]  # services whose refusals reach children
    names: tuple[str, ...]  # their names

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> Ages | None:
        book = s.rulebook
        reaching = tuple(v for v, x in enumerate(book.services.values()) if x.reaches_children)
        if not (book.adults_only or reaching):  # without children: everyone is an adult
            return None
        return cls(
            chance=xp.asarray(child_chance(s.population, pop)),
            seed=s.run.seed,
            adults_only=book.adults_only,
            reaching=reaching,
            names=tuple(list(book.services)[v] for v in reaching),
        )

    def children(self, ctx: Context, ids: np.ndarray) -> np.ndarray:
        return is_child(self.chance, ctx.params.pop, ids, self.seed)


class Spare(Component):
    """Adults-only scoring: the records of children are kept out of the score."""

    name, stage = "spare", "observe"
    reads = ("rulebook.adults_only", "population.regions.<r>.children_share")
    writes = ("records_of_children_unscored",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        ages = ctx.params.mechanisms.ages
        assert ages is not None and flow.records is not None
        child = ages.children(ctx, flow.records.person)
        flow.records = flow.records.take(~child)
        flow.columns["records_of_children_unscored"] = int(child.sum())


class Reach(Component):
    """The children of households refused a service that reaches them are counted."""

    name, stage = "reach", "sanction"
    reads = ("rulebook.services.<v>.reaches_children", "population.regions.<r>.children_share")
    writes = ("<service>_children_reached",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        ages = ctx.params.mechanisms.ages
        assert ages is not None and flow.sanctions is not None
        xp, pop = ctx.xp, ctx.params.pop
        for v, name in zip(ages.reaching, ages.names, strict=True):
            refused = flow.sanctions.blocked_person[flow.sanctions.blocked_service == v]
            members, _ = pop.household_members(refused)
            everyone = unique(xp, xp.concatenate([refused, members]))
            flow.columns[f"{name}_children_reached"] = int(ages.children(ctx, everyone).sum())
