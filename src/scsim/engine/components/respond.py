"""Stage 5, respond: people adapt to what the system did to them today.

- Deterrence: each refusal and each demotion raises a person's wariness (saturating), which
  lowers their offending from tomorrow on (see `behave`).
- Compliance under pressure: a listed person refused a service may pay up at once; the list
  lets them go (the court list's "complied under the pressure of listing", docs/sources.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine import kernels
from scsim.engine.components.listing import remove
from scsim.engine.components.sanction import Sanctions
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.engine.rng import accept
from scsim.engine.state import list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context


@dataclass(frozen=True)
class Responses:
    complied_on_block: np.ndarray  # int64 [L]


def respond(ctx: Context, day: int, sanctions: Sanctions, demoted: np.ndarray) -> Responses:
    _grow_wary(ctx, ctx.xp.concatenate([sanctions.blocked_person, demoted]))
    complied = np.zeros(len(ctx.rules.host_plan.lists), dtype=np.int64)
    for index in range(len(ctx.rules.host_plan.lists)):
        complied[index] = _comply_under_pressure(ctx, day, index, sanctions)
    return Responses(complied_on_block=complied)


def _grow_wary(ctx: Context, person: np.ndarray) -> None:
    plan, xp = ctx.rules.host_plan, ctx.xp
    # wariness is read by deterrence, by friends who see it, and by demand that gives up
    counted = (
        plan.deter_per_sanction > 0
        or ctx.params.mechanisms.counts_sanctions
        or plan.service_give_up.any()
    )
    if not (plan.feedback and counted) or person.size == 0:
        return
    wariness = ctx.state.people.wariness
    if kernels.grow_wary(wariness, person):  # one pass, unsorted (`--backend numba`)
        return
    people, count = xp.unique(person, return_counts=True)
    wariness[people] = xp.minimum(wariness[people].astype(np.int64) + count, 255).astype(np.uint8)


def _comply_under_pressure(ctx: Context, day: int, index: int, sanctions: Sanctions) -> int:
    if ctx.rules.host_plan.list_comply_on_block[index] == 0:
        return 0
    bit = list_bit(index)
    listed = (ctx.state.people.flags[sanctions.blocked_person] & bit) != 0
    by_this_list = (ctx.rules.plan.service_blocked_lists[sanctions.blocked_service] & bit) != 0
    pressed = ctx.xp.unique(sanctions.blocked_person[listed & by_this_list])
    if pressed.size == 0:  # most days: nobody on the list was refused
        return 0
    yields = accept(
        ctx.streams.key("comply-on-block", day, index),
        pressed,
        ctx.rules.tables.comply_on_block[index],
    )
    person = pressed[yields]
    gone = ctx.state.rosters[index].take_ids(person)
    gone["reason"][:] = ORIGIN["complied"]
    remove(ctx, day, index, gone)
    return int(person.size)


class Respond(Component):
    """5. respond - the refused and demoted grow wary; some listed people pay up."""

    name = stage = "respond"
    reads = (
        "behaviour.deterrence",
        "rulebook.lists.<list>.comply_per_year",
        "rulebook.lists.<list>.comply_on_block",
    )
    owns = ("people.wariness (uint8)",)
    writes = ("<list>_complied_on_block",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.sanctions is not None
        felt = ctx.xp.concatenate(flow.felt)
        flow.responses = respond(ctx, day, flow.sanctions, felt)
