"""The optional mechanisms of issue 3 that live beside the six stages, compiled once per run.

Each is None while its scenario section leaves it off, and then its stage does nothing and
writes no metrics column, so a scenario that does not ask for it runs as before.

    >>> mechanisms = Mechanisms.of(scenario, pop, xp)
    >>> mechanisms.names            # ledger rule names the mechanisms write
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from scsim.engine.components.burdens import Burdens
from scsim.engine.components.children import Ages
from scsim.engine.components.chill import Chill
from scsim.engine.components.company_pressure import REPAIR, Pressure, Repair
from scsim.engine.components.gaming import RULE as GAMING
from scsim.engine.components.gaming import Gaming
from scsim.engine.components.grade_appeals import GradeAppeals
from scsim.engine.components.gray_market import RULE as GRAY_MARKET
from scsim.engine.components.gray_market import GrayMarket
from scsim.engine.components.informants import Informants
from scsim.engine.components.licences import Licences
from scsim.engine.components.online import RULE as ACCOUNT_SUSPENDED
from scsim.engine.components.online import Suspension
from scsim.engine.components.reforms import Reforms
from scsim.engine.components.searches import Capacity
from scsim.engine.components.services import ServiceRules
from scsim.engine.components.shaming import Shaming
from scsim.engine.components.watch import Watching
from scsim.engine.components.wrongs import Wrongs
from scsim.engine.population import Population
from scsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Mechanisms:
    gray_market: GrayMarket | None
    gaming: Gaming | None
    informants: Informants | None
    chill: Chill | None
    suspension: Suspension | None
    capacity: Capacity | None
    burdens: Burdens | None
    services: ServiceRules | None
    wrongs: Wrongs | None = None  # judgments for speech, officials' discretion (issue 24)
    grade_appeals: GradeAppeals | None = None  # appeals against a locked grade
    shaming: Shaming | None = None  # what a published listing costs beyond the list
    watching: Watching | None = None  # surveillance intensity by ethnic group
    ages: Ages | None = None  # adults-only scoring, refusals that reach children
    pressure: Pressure | None = None  # foreign-owned companies under political pressure
    repair: Repair | None = None  # a company's credit repaired
    reforms: Reforms | None = None  # the court list's reforms after 2019, restriction orders
    licences: Licences | None = None  # licences with points of their own (a dog owner's)

    @classmethod
    def of(cls, s: Scenario, pop: Population, xp: ModuleType) -> Mechanisms:
        return cls(
            gray_market=GrayMarket.of(s, pop, xp),
            gaming=Gaming.of(s, pop, xp),
            informants=Informants.of(s, xp),
            chill=Chill.of(s, xp),
            suspension=Suspension.of(s, xp),
            capacity=Capacity.of(s),
            burdens=Burdens.of(s, xp),
            services=ServiceRules.of(s, xp),
            wrongs=Wrongs.of(s, xp),
            grade_appeals=GradeAppeals.of(s, xp),
            shaming=Shaming.of(s, xp),
            watching=Watching.of(s, pop, xp),
            ages=Ages.of(s, pop, xp),
            pressure=Pressure.of(s, pop, xp),
            repair=Repair.of(s, pop, xp),
            reforms=Reforms.of(s),
            licences=Licences.of(s, xp),
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The ledger rule names of the mechanisms that are on (for the `Vocabulary`)."""
        named = (
            (self.gray_market, GRAY_MARKET),
            (self.suspension, ACCOUNT_SUSPENDED),
            (self.gaming, GAMING),
        )
        burdens = self.burdens.names if self.burdens is not None else ()
        shaming = self.shaming.names if self.shaming is not None else ()
        named_on = tuple(name for mechanism, name in named if mechanism is not None)
        repair = (REPAIR,) if self.repair is not None else ()
        licences = self.licences.names if self.licences is not None else ()
        return named_on + burdens + shaming + repair + licences

    @property
    def counts_sanctions(self) -> bool:
        """Whether friends see sanctions, or the pressed game for points, so that wariness
        must grow with each sanction."""
        seen = self.chill is not None and self.chill.counts_sanctions
        return seen or (self.gaming is not None and self.gaming.reads_wariness)
