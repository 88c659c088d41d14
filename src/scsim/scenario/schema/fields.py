"""The shared value types of a scenario file and their limits: probabilities, rates, day
counts, names, and the strict base of every section."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
MAX_DAYS = 36_500  # a century: a longer run is a typo
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]


def _iso_date(value: object) -> object:
    """ISO text as a date (a resolved scenario read back from run.json); the rest as given,
    for the strict check: a TOML date is a date, a number is not one."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A date: a TOML date, or its ISO text where a resolved scenario comes back from run.json."""
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*$")]

# a person's list flags are bits of one byte, five of them lists (`scsim.engine.state.LIST_BITS`)
MAX_LISTS = 5
MAX_POPULATION = 4_000_000_000  # person ids are uint32-addressable within a region


class Strict(BaseModel):
    """A section of a scenario file: unknown keys are errors, never silently ignored, and a
    value of another type is refused, never converted."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    # strict: `size = true` is not one person, `days = "90"` is not a number of days, and
    # `report = 1` is not a yes; only an integer stands for a float (a date may be ISO text)


def located(prefix: str, exc: ValidationError) -> str:
    """The first error of a nested validation, as "prefix.field.path: message", the form the
    error reporter turns into the field path of the one-line message."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{prefix}.{where}: {first['msg'].removeprefix('Value error, ')}"
