"""A whole scenario: its sections and how the run is set up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from scsim.scenario.schema import schedule
from scsim.scenario.schema.behaviour import Behaviour
from scsim.scenario.schema.calibration import Calibration, check_calibration
from scsim.scenario.schema.corporate import Companies
from scsim.scenario.schema.explorer import Explorer
from scsim.scenario.schema.fields import MAX_DAYS, MAX_POPULATION, Date, Days, Name, Strict
from scsim.scenario.schema.licences import Licence
from scsim.scenario.schema.places import Place, check_changes, place_names_ok, rollout_ok
from scsim.scenario.schema.population import Population
from scsim.scenario.schema.rulebook import Rulebook
from scsim.scenario.schema.surveillance import Surveillance


class Run(Strict):
    days: int = Field(365, ge=1, le=MAX_DAYS, description="days simulated")
    start: Date | None = Field(
        None,
        description="the calendar date of day 0: changes and calibration targets may then be "
        "given as dates, and the metrics carry a date column",
    )
    seed: int = Field(
        1, ge=0, le=2**63 - 1, description="the seed every random number of the run is drawn from"
    )
    people: Literal["all", "none"] | Annotated[int, Field(ge=1, le=MAX_POPULATION)] = Field(
        "all",
        description="people.parquet: everyone, nobody, or an evenly spaced sample of N people "
        "(a national run has 1.4 billion rows otherwise)",
    )
    report: bool = Field(True, description="write report.html, the run's plots, with the files")


class Scenario(Strict):
    name: Name = Field(description="the scenario's name, as `scsim run NAME` and run.json give it")
    description: str = Field(
        "", description="the reading of the record the scenario runs, in a sentence"
    )
    sources: list[str] = Field(
        default_factory=list, description="where the scenario's values come from"
    )
    population: Population = Field(description="who lives where, in which classes and households")
    surveillance: Surveillance = Field(
        default_factory=Surveillance, description="what records what people do"
    )
    behaviour: Behaviour = Field(description="what people do, and how the system changes it")
    rulebook: Rulebook = Field(description="points, grades, lists and services")
    run: Run = Field(
        default_factory=Run, description="days, seed, start date and what a run writes"
    )
    calibration: Calibration | None = Field(
        None, description="published figures to set a run beside, and the values free to fit them"
    )
    companies: Companies | None = Field(
        None, description="company ratings and joint punishment; absent: no company is rated"
    )
    rollout: dict[Name, Days | Date] = Field(
        default_factory=dict,
        max_length=256,
        description="regions joining the national rulebook, by name, each on its day (or date, "
        "with run.start): before it, a region's records reach no score and set no grade (its "
        "people keep the base grade), though lists act as everywhere; a region not named here "
        "is scored from day 0 (empty: everyone from day 0)",
    )
    places: dict[Name, Place] = Field(
        default_factory=dict,
        max_length=64,
        description="local rulebooks by region or city name (`population.cities`): each place "
        "scores its own people from its start; everyone else, and everyone before their "
        "place starts, holds the national rulebook's grades (empty: one rulebook for all)",
    )
    explorer: Explorer | None = Field(
        None,
        description="the levers `scsim explore` offers as controls; absent: population, days "
        "and seeds only",
    )
    licences: dict[Name, Licence] = Field(
        default_factory=dict,
        max_length=8,
        description="licences with points of their own (a dog owner's, a driver's), each held "
        "by a share of people: behaviours cost points, at zero the licence is revoked (a "
        "service refused) until a test is passed; points come back yearly (empty: none)",
    )

    @model_validator(mode="after")
    def _dates_need_a_start(self) -> Scenario:
        self.versions()
        if self.rollout:
            rollout_ok(self)
        if self.places:
            place_names_ok(self)
            check_changes(self)
        if self.calibration is not None:
            check_calibration(self.calibration, self.run.start)
        return self

    def day_of(self, date: dt.date) -> int:
        """The day number of a calendar date (run.start is day 0)."""
        if self.run.start is None:
            raise ValueError("a date needs run.start, the date of day 0")
        return (date - self.run.start).days

    def versions(self) -> list[tuple[int, Scenario]]:
        """The scenario in force from each day on where anything changes: a rulebook change, a
        change of event rates or sensors, a step of a sensor's adoption; the first is day 0."""
        return schedule.scenario_versions(self)
