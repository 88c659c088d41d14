"""Rewards: a granted request is sweetened for a rewarded grade or a member of a rewarding list.

Services refuse by list and by grade; they reward the same two ways (docs/sources.md,
Consequences: no deposits, VIP airport treatment, cheaper loans and priority for the trusted,
001, 002, 004; Lists: redlists whose members get "green channel" benefits, 003; Rongcheng's
green channels for the trustworthy [P]). A request refused is never rewarded. Each reward is a
ledger row of kind `reward`, as each refusal is a `blocked` row, so the audit can set rewards
granted beside punishments imposed, per grade, list and group:

- `rule` the service, `source` what earned it: the person's first rewarding list (origin
  `list`), else their grade (origin `tier`);
- `truth` false where the reward rests on a false record: the person's grade without false
  records would not be rewarded and every rewarding list they are on took them in on a false
  record (an unearned reward, the mirror of a wrongful refusal).

    >>> rewarded = grant(ctx, day, person, service, tier, flags, blocked)   # in sanction
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.backend import lookup
from scsim.engine.components.grades import fair_tier
from scsim.engine.ledger import ORIGIN
from scsim.engine.state import list_bit

if TYPE_CHECKING:
    from scsim.engine.context import Context


def grant(
    ctx: Context,
    day: int,
    person: np.ndarray,
    service: np.ndarray,
    tier: np.ndarray,
    flags: np.ndarray,
    blocked: np.ndarray,
) -> np.ndarray:
    """Which of the day's requests are rewarded (not refused, and the person's grade or one of
    their lists is rewarded by the service); writes a `reward` row for each."""
    xp, plan, codes = ctx.xp, ctx.rules.plan, ctx.params.codes
    by_grade = lookup(xp, plan.service_reward_tiers, service, tier)
    rewarding = flags & plan.service_reward_lists[service]
    by_list = rewarding != 0
    rewarded = ~blocked & (by_grade | by_list)
    who, what, listed = person[rewarded], service[rewarded], by_list[rewarded]
    origin = xp.where(listed, ORIGIN["list"], ORIGIN["tier"]).astype(np.uint8)
    source = codes.tiers[tier[rewarded]]
    source[listed] = codes.first_list[rewarding[rewarded][listed]]
    truth = _earned(ctx, who, what, rewarding[rewarded])
    ctx.ledger.add(day, "reward", who, codes.services[what], 0, source, origin, truth)
    return rewarded


def _earned(ctx: Context, who: np.ndarray, what: np.ndarray, rewarding: np.ndarray) -> np.ndarray:
    """Whether each reward rests on true records: the grade without false records is rewarded,
    or a rewarding list the person is on took them in on true records."""
    xp, plan = ctx.xp, ctx.rules.plan
    if who.size == 0:  # a day nobody was rewarded
        return xp.ones(0, dtype=bool)
    earned = lookup(xp, plan.service_reward_tiers, what, fair_tier(ctx, who))
    for index, roster in enumerate(ctx.state.rosters):
        bit = list_bit(index)
        if not (ctx.rules.host_plan.service_reward_lists & bit).any():  # a list nobody rewards
            continue
        earned |= ((rewarding & bit) != 0) & ~roster.wrongful_of(who)
    return earned
