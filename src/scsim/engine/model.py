"""The model: a context (parameters, rules, state, services) and the day that steps it.

Mesa's vocabulary: a model is built from a scenario and stepped a day at a time. `run` is the
one loop over days that whole runs, resumed runs, calibration, tests and shards all use.

    >>> model = Model.build(load_scenario("rongcheng", overrides={"population.size": 10_000}))
    >>> row = model.step(0)                       # one day; its ledger rows wait in model.ledger
    >>> for day, row in model.run(1, 30): ...     # days 1 to 29
"""

from __future__ import annotations

from collections.abc import Iterator

from scsim.engine.context import Context
from scsim.engine.day import Day, Row
from scsim.engine.memory import days_kept
from scsim.engine.plan import Plan
from scsim.engine.population import Population
from scsim.scenario.schema import Scenario


class Model(Context):
    """A context and its day (`scsim.engine.order`: which components, in which order)."""

    def __init__(
        self,
        scenario: Scenario,
        pop: Population,
        plan: Plan,
        backend: str = "numpy",
        *,
        profile: bool = False,
    ) -> None:
        super().__init__(scenario, pop, plan, backend)
        self.day = Day.of(self, profile=profile)

    def step(self, day: int) -> Row:
        """One day: every component in order; the metrics row (ledger rows in `ledger`)."""
        return self.day.step(self, day)

    def run(self, first: int, stop: int) -> Iterator[tuple[int, Row]]:
        """The days [first, stop), one at a time: the day and its metrics row; a large run's
        freed temporaries kept for the next day's meanwhile (`scsim.engine.memory`)."""
        with days_kept(self.params.host_pop.size):
            for day in range(first, stop):
                yield day, self.step(day)
