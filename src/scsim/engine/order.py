"""The order of a day, written once: the components a scenario's day runs, in order.

    0. rulebook - the rules change, if one of the rulebook's dated changes falls today;
       places   - a place whose start day it is moves its people to its base grade;
       consent  - where a place asks for consent, those who have not given it are unscored;
    1. behave   - people act: true events, fewer offences where deterrence bites;
       speak    - people who feel watched or see friends punished hold back (chill);
       silence  - suspended accounts post nothing (account suspension);
    2. observe  - sensors record some events, miss most, misattribute some, invent a few;
       watch    - sensors that watch one ethnic group less drop some of its records;
       spare    - an adults-only rulebook keeps children's records out of the score;
       search   - a sensor with a daily capacity keeps that many records (a barrier);
       inform   - informants' false reports are relabelled, their rewards added;
       misjudge - judgments for speech and officials' discretionary records are labelled;
       suspend  - the day's records suspend accounts;
    3. score    - records become points, grades move or lock, lists take people in and out;
       unscored - the records of people who have not consented, kept without a score, counted;
       trade    - the gray market sells points and fines some buyers (before the requests);
       game     - people pressed for points perform acts for them (before the requests);
       appeal   - appeals against locked grades are filed and decided;
       rate     - companies are rated, so a representative restricted today is refused today;
       restrict - courts order consumption restrictions on unperformed cases, listed or not;
       license  - records cost licence holders points; at zero the licence is revoked (a
                  refusal) until a test is passed; lost points come back yearly;
    4. sanction - services are requested; the listed and low-graded are refused, the
                  high-graded rewarded;
       tally    - the day's rewards counted per place (places);
       suffer   - people in burdened grades suffer officer visits and searches;
       shame    - people named on a published list suffer what being named costs;
       reach    - the children of households refused a service that reaches them are counted;
       reform   - the court list's reforms: credit repair, the unable removed (after the
                  requests, so a person repaired today was refused before the repair);
    5. respond  - the refused, demoted and burdened grow wary; some listed people pay up;
    6. collect  - the day's metrics row.

A mechanism whose scenario section leaves it off is not in the list.

    >>> [c.name for c in components(ctx)]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from scsim.engine.components.behave import Behave
from scsim.engine.components.burdens import Suffer
from scsim.engine.components.children import Reach, Spare
from scsim.engine.components.chill import Speak
from scsim.engine.components.collect import Collect
from scsim.engine.components.consent import Consent, KeepUnscored
from scsim.engine.components.gaming import Game
from scsim.engine.components.grade_appeals import AppealGrades
from scsim.engine.components.gray_market import Market
from scsim.engine.components.informants import Inform
from scsim.engine.components.licences import Licensing
from scsim.engine.components.observe import Observe
from scsim.engine.components.online import Silence, Suspend
from scsim.engine.components.places import StartPlaces, TallyPlaces
from scsim.engine.components.ratings import Rate
from scsim.engine.components.reforms import Reform, Restrict
from scsim.engine.components.respond import Respond
from scsim.engine.components.sanction import Sanction
from scsim.engine.components.score import Score
from scsim.engine.components.searches import Search
from scsim.engine.components.shaming import Shame
from scsim.engine.components.watch import Watch
from scsim.engine.components.wrongs import Misjudge
from scsim.engine.day import Component, Flow
from scsim.scenario.schema.places import asks_consent

if TYPE_CHECKING:
    from scsim.engine.context import Context


class FollowRulebook(Component):
    """0. rulebook - the rules in force today: a dated change recompiles them."""

    name, stage = "rulebook", "rulebook"
    reads = ("rulebook.changes", "run.start", "rollout")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        ctx.follow_rulebook(day)


def components(ctx: Context) -> Iterator[Component]:
    """The day's components for this context's scenario, in the order above."""
    on = ctx.params.mechanisms
    yield FollowRulebook()
    if ctx.params.scenario.places:
        yield StartPlaces(ctx)
    if asks_consent(ctx.params.scenario):
        yield Consent(ctx)
    yield Behave()
    if on.chill is not None:
        yield Speak()
    if on.suspension is not None:
        yield Silence()
    yield Observe()
    if on.watching is not None:
        yield Watch()
    if on.ages is not None and on.ages.adults_only:
        yield Spare()
    if on.capacity is not None:
        yield Search(on.capacity)
    if on.informants is not None:
        yield Inform()
    if on.wrongs is not None:
        yield Misjudge()
    if on.suspension is not None:
        yield Suspend()
    yield Score()
    if asks_consent(ctx.params.scenario):
        yield KeepUnscored(ctx)
    if on.gray_market is not None:
        yield Market()
    if on.gaming is not None:
        yield Game()
    if on.grade_appeals is not None:
        yield AppealGrades()
    if ctx.state.companies is not None:
        yield Rate()
    if on.reforms is not None and on.reforms.ordering:
        yield Restrict(on.reforms)
    if on.licences is not None:
        yield Licensing()
    yield Sanction()
    if ctx.params.scenario.places:
        yield TallyPlaces(ctx)
    if on.burdens is not None:
        yield Suffer()
    if on.shaming is not None:
        yield Shame()
    if on.ages is not None and on.ages.reaching:
        yield Reach()
    if on.reforms is not None:
        yield Reform(on.reforms)
    yield Respond()
    yield Collect()
