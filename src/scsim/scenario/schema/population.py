"""The population section: regions, behaviour classes, income bands."""

from __future__ import annotations

from pydantic import Field, model_validator

from scsim.scenario.schema.fields import MAX_POPULATION, Name, Probability, Rate, Share, Strict
from scsim.scenario.schema.places import City


class Region(Strict):
    share: Share = Field(description="fraction of the population living here")
    urban_share: Probability = Field(description="fraction of the region's people who are urban")
    household_mean: float = Field(
        2.62, ge=1.0, le=8.0, description="mean persons per family household (census)"
    )
    minority_share: Probability = Field(
        0.0,
        description="fraction of the region's people who belong to an ethnic minority (2020 "
        "census aggregates, src/scsim/data); the last ids of each income band of each stratum, "
        "so a person's group costs no bytes; the audit groups by it (`ethnicity`)",
    )
    children_share: Probability = Field(
        0.0,
        description="fraction of the region's people aged 0-14 (2020 census, age_0_14 of "
        "src/scsim/data/china-provinces-2020.csv): children are household members other than "
        "the first, drawn by id, so age costs no bytes; read by adults-only rulebooks and by "
        "services whose refusals reach a household's children",
    )


class BehaviourClass(Strict):
    """A behaviour class: people who share how often they do each thing (a stratum of
    docs/architecture.md)."""

    share: Share = Field(
        description="fraction of every region's urban and of its rural people in this class"
    )
    offending: Rate = Field(
        1.0, description="multiplies the rate of every event that costs points (offences)"
    )
    description: str = Field("", description="who the class stands for, in words")


class IncomeBand(Strict):
    """An income band: its share of the urban and of the rural people of every region (each
    stratum is cut into bands, poorest first, as contiguous id ranges: no bytes per person)."""

    urban: Probability = Field(description="fraction of urban people in this band")
    rural: Probability = Field(description="fraction of rural people in this band")


class Population(Strict):
    size: int = Field(ge=1, le=MAX_POPULATION, description="people simulated")
    regions: dict[Name, Region] = Field(
        min_length=1,
        description="the regions by name, each with its share of the people (shares sum to 1)",
    )
    classes: dict[Name, BehaviourClass] = Field(
        min_length=1,
        description="behaviour classes by name: how often people offend (shares sum to 1)",
    )
    employment_rate: Probability = Field(
        0.55, description="fraction of people employed by a company (procedural, per region)"
    )
    company_mean_size: float = Field(
        12.0, ge=1.0, le=10_000.0, description="mean people employed by a company"
    )
    friends: int = Field(
        6, ge=0, le=16, description="friends per person in the procedural circulant graph (even)"
    )
    income: dict[Name, IncomeBand] = Field(
        default_factory=dict,
        max_length=16,
        description="income bands, poorest first (empty: no income bands, everyone in one); "
        "the gray market buys by band and the audit groups by it",
    )
    cities: dict[Name, City] = Field(
        default_factory=dict,
        max_length=200,
        description="cities carved out of regions, by name: each takes a share of its region's "
        "people as a region of its own (after every region), with its own urban share and "
        "household size, so that a place can have a rulebook of its own (`places`)",
    )

    @model_validator(mode="after")
    def _cities_inside_regions(self) -> Population:
        carved: dict[str, float] = {}
        for name, city in self.cities.items():
            if city.region not in self.regions:
                raise ValueError(
                    f"population.cities.{name}.region: unknown region {city.region!r}; "
                    "expected one of: " + ", ".join(self.regions)
                )
            if name in self.regions:
                raise ValueError(f"population.cities.{name}: a region has that name already")
            carved[city.region] = carved.get(city.region, 0.0) + city.share
        for region, share in carved.items():
            if share >= 1.0:
                raise ValueError(
                    f"population.cities: the cities of {region} take {share:g} of its people; "
                    "expected less than 1 (the region keeps the rest)"
                )
        return self

    @model_validator(mode="after")
    def _income_shares_sum_to_one(self) -> Population:
        for area in ("urban", "rural"):
            total = sum(getattr(band, area) for band in self.income.values())
            if self.income and abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"the {area} shares of population.income must sum to 1, not {total:g}"
                )
        return self

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Population:
        for label, table in (("regions", self.regions), ("classes", self.classes)):
            total = sum(entry.share for entry in table.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"the shares of population.{label} must sum to 1, not {total:g}")
        if self.friends % 2:
            raise ValueError("population.friends must be even (friendship is symmetric)")
        return self
