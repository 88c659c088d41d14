"""Sweep and sensitivity files: a base scenario, what varies, and how many seeds.

A sweep file is TOML, validated as strictly as a scenario (an unknown key is an error that
lists the valid ones). Every run is one combination of a variant, a grid point and a seed:

    scenario = "rongcheng"              # a built-in or a file (relative to this file)
    seeds = 3                           # seeds first_seed, first_seed + 1, ...
    [overrides]                         # dotted field paths, applied to every run
    "population.size" = 20_000
    [grid]                              # every combination of these values
    "surveillance.sensors.cameras.misattribution" = [0.0, 0.02, 0.05]

A sensitivity file has the same base and, instead of a grid, the ranges of a Sobol design:

    [sensitivity]
    samples = 8                         # N of Saltelli's scheme: N * (D + 2) runs
    [sensitivity.parameters]
    "surveillance.sensors.cameras.misattribution" = [0.0, 0.05]

    >>> sweep = load_sweep(Path("examples/sweep.toml"))
    >>> [run.run_id for run in sweep.runs]
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scsim.errors import ScenarioError
from scsim.scenario import Scenario, load_scenario
from scsim.scenario.errors import one_line, validation_problems
from scsim.scenario.loader import OVERRIDE, other_kind
from scsim.scenario.loader import _read_toml as read_toml

FieldPath = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.+\-]+$")]
Value = int | float | bool | str
MAX_RUNS = 100_000  # a sweep larger than this is a typo, not a study


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Base(Strict):
    """What every sweep and sensitivity file says: the scenario, its changes and the seeds."""

    scenario: str = Field("rongcheng", min_length=1, description="a built-in name or a file")
    name: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]*$",
        description="the output folder's name: one path component, never . or ..",
    )
    seeds: int = Field(1, ge=1, le=10_000, description="how many seeds per combination")
    first_seed: int | None = Field(None, ge=0, le=2**63 - 10_001, description="default: run.seed")
    overrides: dict[FieldPath, Value | list[Value]] = Field(default_factory=dict)


class SweepFile(Base):
    grid: dict[FieldPath, Annotated[list[Value], Field(min_length=1, max_length=1000)]] = Field(
        default_factory=dict, description="every combination of these values"
    )
    variants: list[dict[FieldPath, Value | list[Value]]] = Field(
        default_factory=list, max_length=10_000, description="a list of override tables"
    )

    @model_validator(mode="after")
    def _not_too_many(self) -> SweepFile:
        combos = max(len(self.variants), 1) * self.seeds
        for values in self.grid.values():
            combos *= len(values)
        if combos > MAX_RUNS:
            raise ValueError(f"expected at most {MAX_RUNS:,} runs, the file makes {combos:,}")
        return self


class Sensitivity(Strict):
    samples: int = Field(8, ge=2, le=4096, description="N: Saltelli's scheme runs N * (D + 2)")
    parameters: dict[FieldPath, tuple[int, int] | tuple[float, float]] = Field(
        min_length=1, max_length=64, description="[low, high]; two integers: an integer parameter"
    )

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, samples: int) -> int:
        if samples & (samples - 1):
            raise ValueError(
                "expected a power of 2 (a Sobol' sequence is balanced only at powers of 2),"
                f" not {samples}"
            )
        return samples

    @field_validator("parameters")
    @classmethod
    def _ordered(cls, parameters: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for path, (low, high) in parameters.items():
            if not low < high:
                raise ValueError(f"expected [low, high] with low < high for {path}")
        return parameters


class SensitivityFile(Base):
    sensitivity: Sensitivity

    @model_validator(mode="after")
    def _not_too_many(self) -> SensitivityFile:
        design = self.sensitivity.samples * (len(self.sensitivity.parameters) + 2)
        if design * self.seeds > MAX_RUNS:
            raise ValueError(
                f"expected at most {MAX_RUNS:,} runs, the design makes {design * self.seeds:,}"
            )
        return self


F = TypeVar("F", SweepFile, SensitivityFile)


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its parameters (the dotted paths that vary), its seed, its scenario."""

    index: int
    parameters: dict[str, Any]
    seed: int
    scenario: Scenario

    @cached_property
    def run_id(self) -> str:
        """A stable name: the same run of the same sweep file always lands in the same folder."""
        text = json.dumps(self.scenario.model_dump(mode="json"), sort_keys=True)
        digest = hashlib.blake2b(text.encode(), digest_size=5).hexdigest()
        return f"{self.index:05d}-s{self.seed}-{digest}"


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its file, its name and every run it makes, in a fixed order."""

    file: Path
    name: str
    runs: tuple[RunSpec, ...]


def load_sweep(file: Path) -> Sweep:
    """Read a sweep file; every run's scenario is validated now, before anything runs."""
    spec = _read(file, SweepFile)
    names = list(spec.grid)
    points = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*spec.grid.values())
    ]
    combos = [{**variant, **point} for variant in spec.variants or [{}] for point in points]
    tables = {key: "variants" for variant in spec.variants for key in variant}
    return expand(file, spec, combos, {**tables, **dict.fromkeys(spec.grid, "grid")})


def load_sensitivity(file: Path) -> SensitivityFile:
    """Read a sensitivity file (the design is drawn by `scsim.experiments.sensitivity`)."""
    return _read(file, SensitivityFile)


def expand(file: Path, base: Base, combos: list[dict[str, Any]], tables: dict[str, str]) -> Sweep:
    """The sweep of these override tables x the file's seeds, each scenario validated; a bad
    value is reported at its key in the file's table that `tables` names (default: overrides)."""
    scenario = _scenario_source(file, base.scenario)
    first = base.first_seed
    if first is None:
        first = _load_run(file, scenario, dict(base.overrides), tables).run.seed
    specs, index = [], 0
    for combo in combos:
        for seed in range(first, first + base.seeds):
            changes = {**base.overrides, **combo, "run.seed": seed}
            resolved = _load_run(file, scenario, changes, tables)
            specs.append(RunSpec(index, dict(combo), seed, resolved))
            index += 1
    return Sweep(file=file, name=base.name or _folder_name(file), runs=tuple(specs))


def _folder_name(file: Path) -> str:
    """The output folder's name from the file's, as one path component: `...toml` (stem `..`)
    must not write its results into the folder above."""
    stem = file.stem.strip(".")
    return stem if stem else "sweep"


def _scenario_source(file: Path, scenario: str) -> str:
    """A built-in name as it is; a file path relative to the sweep file's folder."""
    local = file.parent / scenario
    return str(local) if not Path(scenario).is_absolute() and local.is_file() else scenario


def _load_run(
    file: Path, scenario: str, changes: dict[str, Any], tables: dict[str, str]
) -> Scenario:
    """The run's scenario; a bad override is reported against the sweep file, at its key."""
    try:
        return load_scenario(scenario, overrides=changes)
    except ScenarioError as exc:
        if exc.file != OVERRIDE:  # the scenario file's own mistake, named against it
            raise
        for key in changes:
            if (
                exc.path == key
                or f"{key}.".startswith(f"{exc.path}.")
                or exc.path.startswith(f"{key}.")
            ):
                table = tables.get(key, "overrides")
                raise ScenarioError(str(file), f"{table}.{key}", exc.expected) from None
        raise


def _read(file: Path, model: type[F]) -> F:
    raw = read_toml(Path(file))  # the scenario loader's limits: size, depth, UTF-8, finite
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        other = other_kind(str(file), raw, "sensitivity" if model is SensitivityFile else "sweep")
        if other is not None:
            raise other from None
        found = validation_problems(exc, model)
        raise ScenarioError(*one_line([(str(file), path, e) for path, e in found])) from None
