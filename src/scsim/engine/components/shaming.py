"""Naming and shaming with consequences: what a published listing costs beyond the list.

A list with `publish` names its members online and on public screens (docs/sources.md, 004;
the court list's names and photos on websites, screens, cinemas [S]; a state employee's
employer is told [P]). Being named costs something of its own (`publish_consequences`: an
employer told, friends who keep away, a job lost; each [U] unless the scenario cites a source).
Each person who entered a publishing list today suffers each consequence with its chance
(keyed by the person's id: a shard draws the same). A consequence is a sanction felt: a
"burden" row (rule the consequence, source the list, origin "list"), wrongful (truth false)
where the listing was, counted (`shamed_<name>`, `shamed_<name>_wrongful`), and the person
grows wary of it as of a refusal (`respond`).

The day's entrants are read from the list's roster (entered today), one comparison over the
roster of each publishing list: the entries on a record, by grade or of a kept restriction
alike, since the list names all its members.

    >>> shaming = Shaming.of(scenario, xp)       # None while no list has consequences
    >>> shamed = shame(ctx, day)                 # after score; .value grows wary in respond
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
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context


@dataclass(frozen=True)
class Shaming:
    names: tuple[str, ...]  # the consequences (ledger rules)
    chance: np.ndarray  # uint64 [L, C]: threshold of each list's consequence
    on_host: np.ndarray  # bool [L, C]: the list has the consequence (to loop over)

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Shaming | None:
        lists = list(s.rulebook.lists.values())
        names = tuple(dict.fromkeys(n for x in lists for n in x.publish_consequences))
        if not names:
            return None
        chance = np.array([[x.publish_consequences.get(n, 0.0) for n in names] for x in lists])
        return cls(names, xp.asarray(threshold(chance)), chance > 0)


def shame(ctx: Context, day: int) -> Outcome[np.ndarray]:
    """Today's consequences of being named: ledger rows and counts; the value is the person of
    each consequence suffered."""
    shaming = ctx.params.mechanisms.shaming
    assert shaming is not None
    xp = ctx.xp
    counts = np.zeros((2, len(shaming.names)), dtype=np.int64)
    felt = [xp.empty(0, dtype=np.int64)]
    code = xp.asarray(ctx.params.codes.vocabulary.codes(shaming.names))
    for index, c in zip(*np.nonzero(shaming.on_host), strict=True):
        roster = ctx.state.rosters[int(index)]
        if not ctx.rules.host_plan.list_publish[index] or len(roster) == 0:
            continue
        today = roster.columns["entered"] == day
        person, wrongful = roster.ids[today], roster.wrongful[today]
        key = ctx.streams.key("shame", day, int(index) << 8 | int(c))
        hit = accept(key, person, shaming.chance[index, c])
        person, truth = person[hit], ~wrongful[hit]
        source = ctx.params.codes.lists[int(index)]
        ctx.ledger.add(day, "burden", person, code[c], 0, source, ORIGIN["list"], truth)
        counts[:, c] += (person.size, int((~truth).sum()))
        felt.append(person)
    row = {}
    for c, name in enumerate(shaming.names):
        row[f"shamed_{name}"] = int(counts[0, c])
        row[f"shamed_{name}_wrongful"] = int(counts[1, c])
    return Outcome(xp.concatenate(felt), row)


class Shame(Component):
    """People named on a published list suffer its consequences: sanctions felt."""

    name, stage = "shame", "sanction"
    reads = ("rulebook.lists.<list>.publish", "rulebook.lists.<list>.publish_consequences")
    writes = ("shamed_<consequence>", "shamed_<consequence>_wrongful")
    ledger = ("burden/<consequence>",)

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        shamed = shame(ctx, day)
        flow.felt.append(shamed.value)
        flow.columns.update(shamed.metrics)
