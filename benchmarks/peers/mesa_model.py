"""scsim's model written the way a Mesa 3 user would write it: one agent object per person.

This is the peer scsim is measured against (issue 5), not a second implementation to use. It
runs the same scenario files and the same synthetic population (strata, households, friends
from `scsim.engine.population`), with the same daily order: people act and request services, sensors
record, points, grades and lists follow. Randomness is Mesa's own (`model.random`), one draw
per person per event type per day, as an agent-based modeller would write it.

    model = SocialCreditModel(load_scenario("rongcheng", overrides={"population.size": 2000}))
    for _ in range(model.days):
        model.step()
"""

from __future__ import annotations

from collections import defaultdict

import mesa
import numpy as np

from scsim.engine.plan import compile_plan
from scsim.engine.population import Population
from scsim.scenario.schema import Scenario


class Person(mesa.Agent):
    def __init__(self, model: SocialCreditModel, stratum: int, region: int) -> None:
        super().__init__(model)
        self.stratum, self.region = stratum, region
        self.score = model.plan.base
        self.tier = model.base_tier
        self.locked_until = -1
        self.listed: dict[int, int] = {}  # list -> day the listing ends
        self.wariness = 0
        self.false_record = False
        self.household: list[Person] = []
        self.friends: list[Person] = []

    def step(self) -> None:
        model, plan = self.model, self.model.plan
        rates = model.daily_rate[self.stratum]
        for event, rate in enumerate(rates):
            if rate and model.random.random() < rate * self.deterrence(event):
                model.true_events += 1
                model.observe(self, event)
        for service, rate in enumerate(plan.service_daily):
            if model.random.random() < rate:
                model.request(self, service)

    def deterrence(self, event: int) -> float:
        plan = self.model.plan
        if not (plan.feedback and plan.deterred[event]) or self.wariness == 0:
            return 1.0
        return (1.0 - plan.deter_per_sanction) ** min(self.wariness, plan.deter_max)


class SocialCreditModel(mesa.Model):
    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        super().__init__(seed=scenario.run.seed if seed is None else seed)
        self.pop = Population.generate(scenario.population, seed=scenario.run.seed)
        self.plan = plan = compile_plan(scenario, self.pop)
        self.days, self.day = plan.days, 0
        self.base_tier = int(plan.tier_of(np.array([plan.base]))[0])
        rate = plan.daily_rate
        if plan.feedback and plan.deter_surveillance > 0:
            rate = rate * (1.0 - plan.deter_surveillance * plan.detect_chance * plan.deterred)
        self.daily_rate = rate.tolist()
        self.people: list[Person] = []
        for s in range(self.pop.n_strata):
            region = int(self.pop.stratum_region[s])
            for _ in range(int(self.pop.stratum_start[s]), int(self.pop.stratum_start[s + 1])):
                self.people.append(Person(self, s, region))
        self._link_households_and_friends()
        self.by_region = defaultdict(list)
        for person in self.people:
            self.by_region[person.region].append(person)
        self.reversals: dict[int, list[tuple[Person, int]]] = defaultdict(list)
        self.retries: dict[int, list[tuple[Person, int]]] = defaultdict(list)
        self.true_events = self.records = self.false_records = 0
        self.blocked = [0] * len(plan.services)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "true_events": "true_events",
                "records": "records",
                "false_records": "false_records",
                "mean_score": lambda m: sum(p.score for p in m.people) / len(m.people),
            }
        )

    def _link_households_and_friends(self) -> None:
        ids = np.arange(self.pop.size)
        start, size = self.pop.household(ids)
        friends = self.pop.friends(ids) if self.plan.spill_friends.any() else None
        for i, person in enumerate(self.people):
            first = int(start[i])
            person.household = [
                self.people[j] for j in range(first, first + int(size[i])) if j != i
            ]
            if friends is not None:
                person.friends = [self.people[int(j)] for j in friends[i]]

    # ---------------------------------------------------------------- one day
    def step(self) -> None:
        self.true_events = self.records = self.false_records = 0
        for person, delta in self.reversals.pop(self.day, []):
            self.apply(person, delta)
        for person in self.people:
            self.end_terms(person)
        self.agents.shuffle_do("step")
        self.false_matches()
        for person, service in self.retries.pop(self.day, []):
            self.request(person, service)
        self.datacollector.collect(self)
        self.day += 1

    def observe(self, actor: Person, event: int) -> None:
        plan = self.plan
        for k in range(len(plan.sensors)):
            if not plan.sensor_events[k, event]:
                continue
            chance = plan.sensor_coverage[k, actor.stratum] * plan.sensor_detection[k]
            if self.random.random() < chance:
                target, origin = actor, "detected"
                if self.random.random() < plan.sensor_misattribution[k]:
                    target = self.random.choice(self.by_region[actor.region])
                    origin = "detected" if target is actor else "misidentified"
                self.record(target, event, origin)
                return

    def false_matches(self) -> None:
        plan = self.plan
        for k in range(len(plan.sensors)):
            daily = plan.sensor_false_daily[k]
            if daily == 0:
                continue
            watched = np.flatnonzero(plan.sensor_events[k]).tolist()
            for person in self.people:
                if self.random.random() < daily * plan.sensor_coverage[k, person.stratum]:
                    self.record(person, self.random.choice(watched), "false_match")

    def record(self, person: Person, event: int, origin: str) -> None:
        plan = self.plan
        self.records += 1
        false = origin != "detected"
        self.false_records += false
        delta = int(plan.points[event])
        if false and (delta < 0 or plan.set_tier[event] >= 0 or plan.enter_list[event] >= 0):
            person.false_record = True
        self.charge(person, event, delta)
        for share, relatives in (
            (plan.spill_household[event], person.household),
            (plan.spill_friends[event], person.friends),
        ):
            if share > 0:
                for relative in relatives:
                    part = int(delta * share)
                    if part:
                        if part < 0:
                            relative.false_record = True
                        self.charge(relative, event, part)
        if plan.set_tier[event] >= 0:
            self.grade_directly(person, event)
        if plan.enter_list[event] >= 0:
            self.enter_list(person, int(plan.enter_list[event]))

    def charge(self, person: Person, event: int, delta: int) -> None:
        self.apply(person, delta)
        window = int(self.plan.expires[event])
        if window >= 0 and delta:
            self.reversals[self.day + window].append((person, -delta))

    def apply(self, person: Person, delta: int) -> None:
        plan = self.plan
        person.score = min(max(person.score + delta, plan.scale_min), plan.scale_max)
        if person.locked_until < self.day:
            old = person.tier
            person.tier = int(plan.tier_of(np.array([person.score]))[0])
            if person.tier > old:
                person.wariness += 1

    def grade_directly(self, person: Person, event: int) -> None:
        plan = self.plan
        person.tier = max(person.tier, int(plan.set_tier[event]))
        if plan.lock_days[event] > 0:
            person.locked_until = max(person.locked_until, self.day + int(plan.lock_days[event]))

    def enter_list(self, person: Person, index: int) -> None:
        if index in person.listed:
            return
        term = int(self.plan.list_term[index])
        person.listed[index] = self.day + term if term > 0 else 10**9

    def end_terms(self, person: Person) -> None:
        if person.locked_until == self.day:
            person.tier = int(self.plan.tier_of(np.array([person.score]))[0])
        for index, until in list(person.listed.items()):
            comply = self.plan.list_comply_daily[index]
            if until <= self.day or (comply and self.random.random() < comply):
                del person.listed[index]

    def request(self, person: Person, service: int) -> None:
        plan = self.plan
        by_list = any(plan.service_blocked_lists[service] & (1 << i) for i in person.listed)
        if by_list or plan.service_blocked_tiers[service, person.tier]:
            self.blocked[service] += 1
            person.wariness += 1
            if self.random.random() < plan.service_retry[service]:
                wait = 1 + int(self.random.expovariate(1.0 / plan.service_retry_mean[service]))
                self.retries[self.day + wait].append((person, service))

    def scores(self) -> np.ndarray:
        return np.array([p.score for p in self.people])
