"""The calibration section: published figures, the series that count them, free rates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from scsim.scenario.schema.fields import MAX_POPULATION, Date, Days, Name, Strict


class Series(Strict):
    """A figure counted as its published source counts it, from the run's daily metrics."""

    columns: list[str] = Field(min_length=1, description="metrics columns, summed")
    measure: Literal["cumulative", "stock"] = Field(
        "cumulative",
        description="cumulative: the daily flows summed from day 0 through the day (blocked "
        "purchases, listing entries); stock: the value at the end of the day (people listed now)",
    )
    description: str = Field("", description="what the series counts, in words")


class Target(Strict):
    """A published figure: a series' value at a date (or its increase since an earlier date)."""

    series: Name = Field(description="the series (calibration.series) the figure is set against")
    date: Date | None = Field(None, description="end of the period (needs run.start)")
    day: Days | None = Field(None, description="or the day, from the run's start")
    since: Date | None = Field(
        None, description="the figure is the series' increase after this date (a year's flow)"
    )
    value: float = Field(gt=0.0, le=1e12, allow_inf_nan=False, description="the published figure")
    per: Name | None = Field(
        None, description="the figure is a share: series / this series (not scaled)"
    )
    tolerance: float = Field(0.25, gt=0.0, le=10.0, description="accepted |model/published - 1|")
    weight: float = Field(1.0, ge=0.0, le=1000.0, description="weight in the calibration loss")
    source: str = Field("", description="where the figure was published")
    note: str = Field("", description="how the figure is read, in words")

    @model_validator(mode="after")
    def _day_or_date(self) -> Target:
        if (self.day is None) == (self.date is None):
            raise ValueError("a target needs exactly one of day and date")
        if self.since is not None and self.date is not None and self.since >= self.date:
            raise ValueError(f"since ({self.since}) must be before date ({self.date})")
        return self


class FreeParameter(Strict):
    """A scenario value the calibration may move (a dotted path, as `--set` takes)."""

    path: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="a dotted scenario path, as overrides take it",
    )
    paths: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=16, description="or several paths set to one value"
    )
    low: float = Field(
        ge=-1e12, le=1e12, allow_inf_nan=False, description="the lowest value searched"
    )
    high: float = Field(
        ge=-1e12, le=1e12, allow_inf_nan=False, description="the highest value searched"
    )
    log: bool = Field(False, description="search on a log scale (rates)")
    integer: bool = Field(False, description="search whole numbers only")
    note: str = Field("", description="why the value is free, in words")

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if (self.path is None) == (not self.paths):
            raise ValueError("a free parameter needs exactly one of path and paths")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale parameter needs low > 0")
        return self

    @property
    def targets(self) -> list[str]:
        """The dotted paths this parameter sets."""
        return [self.path] if self.path is not None else list(self.paths)

    @property
    def label(self) -> str:
        return self.targets[0] + (f" (+{len(self.targets) - 1})" if len(self.targets) > 1 else "")


class Calibration(Strict):
    """Published figures to compare a run with, and the rates free to fit them."""

    population: int | None = Field(
        None,
        ge=1,
        le=MAX_POPULATION,
        description="the population the published figures count (a run's counts are scaled "
        "from population.size to it); default: population.size",
    )
    series: dict[Name, Series] = Field(
        default_factory=dict, description="figures counted from the daily metrics, by name"
    )
    targets: list[Target] = Field(
        default_factory=list,
        max_length=1000,
        description="published figures, each set against a series",
    )
    free: list[FreeParameter] = Field(
        default_factory=list, max_length=64, description="the scenario values a fit may move"
    )


def check_calibration(c: Calibration, start: dt.date | None) -> None:
    for i, target in enumerate(c.targets):
        for field in ("series", "per"):
            name = getattr(target, field)
            if name is not None and name not in c.series:
                known = ", ".join(c.series) or "none defined"
                raise ValueError(
                    f"calibration.targets[{i}].{field}: unknown series {name!r}; expected one "
                    f"of: {known}"
                )
        if (target.date is not None or target.since is not None) and start is None:
            raise ValueError(f"calibration.targets[{i}].date: a date needs run.start")
