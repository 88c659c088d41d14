"""The scenario schema: what a scenario file may say, and the limits of every value.

Validation lives here and only here (docs/architecture.md): once a `Scenario` exists, the engine
trusts it. Every table is keyed by name (regions, classes, sensors, tiers, rules, lists, services)
so that a scenario that `extends` another can override one field of one entry. One module per
section (fields holds the shared value types and limits; schedule, the dated changes).

    >>> from scsim.scenario import load_scenario
    >>> scenario = load_scenario("rongcheng")
    >>> scenario.rulebook.base
    1000
"""

from scsim.scenario.schema.behaviour import (
    Behaviour,
    Deterrence,
    EventType,
    Gaming,
    GrayMarket,
    SelfCensorship,
)
from scsim.scenario.schema.calibration import Calibration, FreeParameter, Series, Target
from scsim.scenario.schema.corporate import Companies, CompanyEvent, CompanyGrade, Measure
from scsim.scenario.schema.explorer import Explorer, Lever
from scsim.scenario.schema.fields import (
    MAX_DAYS,
    MAX_LISTS,
    MAX_POPULATION,
    Days,
    Name,
    Probability,
    Rate,
    Share,
    Strict,
)
from scsim.scenario.schema.licences import Licence
from scsim.scenario.schema.places import City, LocalChange, LocalRulebook, Place
from scsim.scenario.schema.population import BehaviourClass, IncomeBand, Population, Region
from scsim.scenario.schema.rulebook import (
    ListRule,
    Rule,
    Rulebook,
    RulebookChange,
    Scale,
    Service,
    Spillover,
    Tier,
    check_tiling,
)
from scsim.scenario.schema.scenario import Run, Scenario
from scsim.scenario.schema.surveillance import Adoption, Sensor, Surveillance

__all__ = [
    "MAX_DAYS",
    "MAX_LISTS",
    "MAX_POPULATION",
    "Adoption",
    "Behaviour",
    "BehaviourClass",
    "Calibration",
    "City",
    "Companies",
    "CompanyEvent",
    "CompanyGrade",
    "Days",
    "Deterrence",
    "EventType",
    "Explorer",
    "FreeParameter",
    "Gaming",
    "GrayMarket",
    "IncomeBand",
    "Lever",
    "Licence",
    "ListRule",
    "LocalChange",
    "LocalRulebook",
    "Measure",
    "Name",
    "Place",
    "Population",
    "Probability",
    "Rate",
    "Region",
    "Rule",
    "Rulebook",
    "RulebookChange",
    "Run",
    "Scale",
    "Scenario",
    "SelfCensorship",
    "Sensor",
    "Series",
    "Service",
    "Share",
    "Spillover",
    "Strict",
    "Surveillance",
    "Target",
    "Tier",
    "check_tiling",
]
