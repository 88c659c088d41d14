"""The shared value types of a scenario file and their limits: probabilities, rates, day
counts, names, and the strict base of every section."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
Share = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
MAX_DAYS = 36_500  # a century: a longer run is a typo
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*$")]

# a person's list flags are bits of one byte, five of them lists (`scsim.engine.state.LIST_BITS`)
MAX_LISTS = 5
MAX_POPULATION = 4_000_000_000  # person ids are uint32-addressable within a region


class Strict(BaseModel):
    """A section of a scenario file: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def located(prefix: str, exc: ValidationError) -> str:
    """The first error of a nested validation, as "prefix.field.path: message", the form the
    error reporter turns into the field path of the one-line message."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{prefix}.{where}: {first['msg'].removeprefix('Value error, ')}"
