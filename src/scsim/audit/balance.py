"""Rewards granted beside punishments imposed: what a system gives and what it takes, by whom.

A social-credit system is sold on its rewards (green channels, deposit-free rentals, priority)
and felt through its punishments (refusals, officer visits, dearer loans). Both are ledger rows:
a `reward` per request granted with a reward, a `blocked` per refusal, a `burden` per visit,
search, suspension or premium. This module counts them side by side, per cause (the grade or
list that decided) and per group of people, so that an audit can say who is rewarded and who
is punished, and how unevenly.

    >>> balance_by_cause("runs/rongcheng")           # per grade and list: rewards, refusals
    >>> balance("runs/rongcheng", by="class")         # per group: rewards and punishments each
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from scsim.audit.outcomes import causes_table, per_cell
from scsim.audit.run import open_run

KINDS = ("reward", "blocked", "burden")
"""The ledger kinds counted: rewards granted, requests refused, burdens suffered."""


def balance_by_cause(run: Any) -> pd.DataFrame:
    """Rewards and punishments per cause: each grade and each list the ledger names as the
    `source` of a reward, a refusal or a burden, grades best first, then lists, then any other
    cause (a sensor's suspension, a household member's list).

    Columns: cause, kind ("grade", "list" or "other"), rewards (requests granted with a
    reward), unearned_rewards (resting on a false record), refusals, wrongful_refusals,
    burdens, wrongful_burdens.
    """
    audit = open_run(run)
    counts = audit.sql(
        f"""
        select source as cause,
               sum(if(kind = 'reward', n, 0))::bigint as rewards,
               sum(if(kind = 'reward' and not truth, n, 0))::bigint as unearned_rewards,
               sum(if(kind = 'blocked', n, 0))::bigint as refusals,
               sum(if(kind = 'blocked' and not truth, n, 0))::bigint as wrongful_refusals,
               sum(if(kind = 'burden', n, 0))::bigint as burdens,
               sum(if(kind = 'burden' and not truth, n, 0))::bigint as wrongful_burdens
        from {causes_table(audit)} where source is not null group by all
        """
    ).df()
    counts = counts.set_index("cause")
    known = [*audit.tiers, *audit.lists]
    order = known + sorted(set(counts.index) - set(known))
    table = counts.reindex(order, fill_value=0).astype("int64").reset_index(names="cause")
    kind = {**dict.fromkeys(audit.tiers, "grade"), **dict.fromkeys(audit.lists, "list")}
    table.insert(1, "kind", table.cause.map(kind).fillna("other"))
    return table


def balance(run: Any, by: str | None = None) -> pd.DataFrame:
    """Rewards and punishments per group of `by` (None: everyone; "region", "area", "class",
    "income").

    Columns: group, people, rewards, rewarded (distinct people), refusals, burdens,
    punished (distinct people refused or burdened), rewards_per_person,
    punishments_per_person ((refusals + burdens) per person), rewarded_share, punished_share.
    """
    audit = open_run(run)
    sums = {
        "rewards": "rewards",
        "rewarded": "rewarded",
        "refusals": "refusals * people",
        "burdens": "burdens",
        "punished": "punished",
    }
    cells = audit.sql(per_cell(audit, sums)).df()
    table = audit.groups(by).join(audit.by_cell(cells, by), on="group")
    people = table.people.where(table.people > 0)
    table["rewards_per_person"] = table.rewards / people
    table["punishments_per_person"] = (table.refusals + table.burdens) / people
    table["rewarded_share"] = table.rewarded / people
    table["punished_share"] = table.punished / people
    return table.reset_index(drop=True)
