"""The surveillance section: sensors, statistical models of observers, and their adoption."""

from __future__ import annotations

from pydantic import Field, model_validator

from scsim.scenario.schema.fields import Date, Days, Name, Probability, Rate, Strict


class Adoption(Strict):
    """An agency adopting a practice (courts using the new list, a city installing cameras):
    the sensor's detection is `detection` x (floor + (1 - floor) x logistic((day - midpoint) /
    width_days)), held in steps of `step_days` (each step is a scheduled change of the plan)."""

    midpoint: Days | Date = Field(description="the day (or date) of half adoption")
    width_days: float = Field(ge=1.0, le=36_500.0, description="days per logistic unit")
    floor: Probability = Field(0.0, description="share of full detection before adoption")
    step_days: int = Field(30, ge=1, le=3650, description="how often detection is updated")


class Sensor(Strict):
    """A statistical model of an observer (camera network, court, agency): never a recogniser."""

    events: list[Name] = Field(min_length=1, description="event types this sensor can record")
    coverage_urban: Probability = Field(
        1.0, description="chance an urban person's event is within the sensor's reach"
    )
    coverage_rural: Probability = Field(
        1.0, description="chance a rural person's event is within the sensor's reach"
    )
    detection: Probability = Field(description="chance a covered event is recorded")
    misattribution: Probability = Field(
        0.0, description="chance a record is charged to another person of the same region"
    )
    false_records_per_year: Rate = Field(
        0.0, description="records of events that never happened, per covered person per year"
    )
    delay_days: Days = Field(
        0, description="days between a detection and its record taking effect (late reporting)"
    )
    adoption: Adoption | None = Field(
        None,
        description="the agency takes the sensor up over time: its detection rises along a "
        "logistic curve instead of holding from day 0",
    )
    informants: bool = Field(
        False,
        description="the sensor is people reporting each other (004): each record is a report "
        "made by a friend of the person reported (the procedural friendship graph), and its "
        "false records are false reports (ledger origin false_report)",
    )
    reward_event: Name | None = Field(
        None,
        description="for informants: the event credited to the reporter for each report, true "
        "or false (reporting illegal behaviour earns points, 004); its rule gives the points",
    )

    suspension: Probability = Field(
        0.0,
        description="chance a record of this sensor suspends the person's account (online "
        "monitoring, 001, 000, 004): while suspended they post nothing of this sensor's events",
    )
    suspension_days: int = Field(30, ge=1, le=36_500, description="how long a suspension lasts")
    coverage_by_region: dict[Name, Rate] = Field(
        default_factory=dict,
        description="multiplies the urban and rural coverage in these regions (capped at 1): "
        "coverage varies by place, Xinjiang the densest (004)",
    )
    daily_capacity_per_million: float | None = Field(
        None,
        ge=0.0,
        le=1e6,
        description="at most this many records a day per million people simulated; the rest of "
        "the day's detections are missed (a search can look for at most about a thousand people "
        "and the system cannot run continuously, 004). Per head, so that the cap binds alike at "
        "any population size: a run of 20,000 people keeps 1/70,000 of a nation's records",
    )

    @model_validator(mode="before")
    @classmethod
    def _capacity_is_per_head(cls, data: object) -> object:
        if isinstance(data, dict) and "daily_capacity" in data:
            raise ValueError(
                "daily_capacity is now daily_capacity_per_million: records a day per million "
                "people simulated, so that a cap binds alike at any population size (a count "
                "of 100,000 a day never binds at 100,000 people and binds hard at 1.4 billion)"
            )
        return data

    @model_validator(mode="after")
    def _reward_needs_informants(self) -> Sensor:
        if self.reward_event is not None and not self.informants:
            raise ValueError("reward_event needs informants = true")
        return self


class Surveillance(Strict):
    sensors: dict[Name, Sensor] = Field(
        default_factory=dict,
        description="the observers by name; an event is offered to those that watch its type, "
        "in this order, and the first that covers and detects it records it",
    )
