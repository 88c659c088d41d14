"""The reforms of the court list after 2019, and consumption-restriction orders beside it.

Each reform is a field of a list or a service in the scenario (off by default), switched on from
its date by a dated change of the rulebook; docs/mechanisms.md gives each one's source.

- credit repair (`credit_repair_per_year`): a listed debtor who has corrected the conduct applies
  and leaves the list before the term ends, except in especially serious cases
  (`serious_share`); origin "credit_repaired";
- the unable and the unwilling (`unable_share`, `spare_unable`): debtors with no property to
  enforce against are not listed (`listing`) and those on the list are removed; origin
  "unable_removed";
- limits on whom the list reaches (`exempt_share`) and grace before listing (`grace_performs`):
  records that list nobody (`listing`);
- lifting a single measure (`services.<v>.lifted`) and graded punishment
  (`services.<v>.serious_only`): requests granted while the other measures stay (`sanction`);
- consumption-restriction orders (`order_share`, `order_events`): courts restrict the debtors of
  unperformed cases, listed or not; such a list holds the restricted, and the services that
  block it refuse them (origin "restriction_order").

    >>> Reforms.of(scenario)          # None unless some version of the rulebook uses them
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import to_host
from scsim.engine.components.listing import exit_plan, remove, serious_cases, unable_debtors
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept
from scsim.engine.sampling import region_counters
from scsim.engine.state import list_bit
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context
    from scsim.engine.sampling import Draw


@dataclass(frozen=True)
class Reforms:
    """Which lists and services some version of the rulebook reforms (compiled once): their
    columns are written every day of the run, so the metrics file has one schema."""

    lists: tuple[str, ...]  # every list, by index
    services: tuple[str, ...]  # every service, by index
    repairing: tuple[int, ...]  # lists with credit repair
    sparing: tuple[int, ...]  # lists that spare the unable, the exempt or those given grace
    unable: tuple[int, ...]  # lists that remove the unable
    ordering: tuple[int, ...]  # lists of consumption-restriction orders
    relieving: tuple[int, ...]  # services that lift single measures or grade punishments

    @classmethod
    def of(cls, s: Scenario) -> Reforms | None:
        books = [book for _, book in s.rulebook.versions(s.run.start)]
        lists, services = tuple(s.rulebook.lists), tuple(s.rulebook.services)

        def lists_where(test: str) -> tuple[int, ...]:
            return tuple(
                i for i, n in enumerate(lists) if any(_on(b.lists[n], test) for b in books)
            )

        relieving = tuple(
            v
            for v, n in enumerate(services)
            if any(b.services[n].lifted > 0 or b.services[n].serious_only for b in books)
        )
        reforms = cls(
            lists=lists,
            services=services,
            repairing=lists_where("credit_repair_per_year"),
            sparing=lists_where("spare_unable exempt_share grace_performs"),
            unable=lists_where("spare_unable"),
            ordering=lists_where("order_share"),
            relieving=relieving,
        )
        used = (reforms.repairing, reforms.sparing, reforms.ordering, reforms.relieving)
        return reforms if any(used) else None


def _on(rule: object, fields: str) -> bool:
    return any(bool(getattr(rule, name)) for name in fields.split())


def repair_credit(ctx: Context, day: int, index: int) -> int:
    """Today's credit repairs on list `index`: each member whose case is not especially serious
    is repaired with the list's daily chance (keyed by day and person), leaves the list today
    and is written once to the ledger (origin "credit_repaired")."""
    roster = ctx.state.rosters[index]
    if ctx.rules.host_plan.list_repair_daily[index] == 0 or len(roster) == 0:
        return 0
    key = ctx.streams.key("credit-repair", day, index)
    repaired = accept(key, roster.ids, ctx.rules.tables.repair[index])
    repaired &= ~serious_cases(ctx, index, roster.ids)
    return _let_go(ctx, day, index, repaired, "credit_repaired")


def remove_unable(ctx: Context, day: int, index: int) -> int:
    """While the list spares the unable, its unable members leave it (origin "unable_removed"):
    on the first day all of them, later none (the unable are no longer listed)."""
    roster = ctx.state.rosters[index]
    if not ctx.rules.host_plan.list_spare_unable[index] or len(roster) == 0:
        return 0
    return _let_go(ctx, day, index, unable_debtors(ctx, index, roster.ids), "unable_removed")


def _let_go(ctx: Context, day: int, index: int, mask: np.ndarray, origin: str) -> int:
    gone = ctx.state.rosters[index].take(mask)
    gone["reason"][:] = ORIGIN[origin]
    remove(ctx, day, index, gone)
    return len(gone["ids"])


def issue_orders(ctx: Context, day: int, index: int, events: Draw) -> int:
    """Consumption-restriction orders of list `index` on today's unperformed cases (true events
    of its `order_events`), listed or not: each case brings an order with the list's
    `order_share` (keyed by the case's region and rank: a shard draws the same). A debtor not
    yet restricted enters the list until they perform (its term and compliance); every order
    is counted, as the courts count orders issued."""
    plan = ctx.rules.host_plan
    if plan.list_order_share[index] == 0 or len(events) == 0:
        return 0
    person = events.person[ctx.rules.plan.list_order_events[index][events.column]]
    if person.size == 0:
        return 0
    key = ctx.streams.key("restriction-order", day, index)
    ordered = accept(key, region_counters(ctx.params.pop, person), ctx.rules.tables.order[index])
    person = ctx.xp.unique(person[ordered])
    issued = int(ordered.sum())
    person = person[(ctx.state.people.flags[person] & list_bit(index)) == 0]
    if person.size == 0:
        return issued
    until, reason = exit_plan(ctx, day, index, person)
    ctx.state.rosters[index].add(person, day, until, reason, ctx.xp.zeros(person.size, dtype=bool))
    ctx.state.people.flags[person] |= list_bit(index)
    code = ctx.params.codes.lists[index]
    ctx.ledger.add(day, "list_entry", person, code, 0, 0, ORIGIN["restriction_order"], True)
    ctx.state.kept_entries[0, index] += person.size  # entries not by a record (`collect`)
    return issued


class Restrict(Component):
    """restrict - courts order consumption restrictions on unperformed cases, listed or not."""

    name, stage = "restrict", "score"
    reads = ("rulebook.lists.<list>.order_share", "rulebook.lists.<list>.order_events")
    owns = ()  # the order list's roster and flags, which `score` owns
    writes = ("<list>_orders",)
    ledger = ("list_entry/restriction_order",)

    def __init__(self, reforms: Reforms) -> None:
        self.reforms = reforms

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.events is not None
        for index in self.reforms.ordering:
            issued = issue_orders(ctx, day, index, flow.events)
            flow.columns[f"{self.reforms.lists[index]}_orders"] = issued


class Reform(Component):
    """reform - credit repair and the unable's removal; what the reforms spared today."""

    name, stage = "reform", "respond"
    reads = (
        "rulebook.lists.<list>.credit_repair_per_year",
        "rulebook.lists.<list>.serious_share",
        "rulebook.lists.<list>.unable_share",
        "rulebook.lists.<list>.spare_unable",
        "rulebook.lists.<list>.exempt_share",
        "rulebook.lists.<list>.grace_performs",
        "rulebook.services.<service>.lifted",
        "rulebook.services.<service>.serious_only",
    )
    owns = ()  # the lists' rosters and flags, which `score` owns
    writes = (
        "<list>_credit_repaired",
        "<list>_unable_removed",
        "<list>_spared_unable, _spared_exempt, _grace_performed",
        "<service>_lifted, _spared_graded",
    )
    ledger = ("list_exit/credit_repaired", "list_exit/unable_removed")

    def __init__(self, reforms: Reforms) -> None:
        self.reforms = reforms

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.changes is not None and flow.sanctions is not None
        names, columns = self.reforms.lists, flow.columns
        for index in self.reforms.repairing:
            columns[f"{names[index]}_credit_repaired"] = repair_credit(ctx, day, index)
        for index in self.reforms.unable:
            columns[f"{names[index]}_unable_removed"] = remove_unable(ctx, day, index)
        spared = flow.changes.lists
        for index in self.reforms.sparing:
            columns[f"{names[index]}_spared_unable"] = int(spared.spared_unable[index])
            columns[f"{names[index]}_spared_exempt"] = int(spared.spared_exempt[index])
            columns[f"{names[index]}_grace_performed"] = int(spared.grace_performed[index])
        lifted, graded = to_host(flow.sanctions.lifted), to_host(flow.sanctions.spared_graded)
        for v in self.reforms.relieving:
            columns[f"{self.reforms.services[v]}_lifted"] = int(lifted[v])
            columns[f"{self.reforms.services[v]}_spared_graded"] = int(graded[v])
