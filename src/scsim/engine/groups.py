"""Ethnic groups: the last ids of every income band of every stratum are its region's minority.

A region's `minority_share` (2020 census aggregates, src/scsim/data) cuts each income band of each
of its strata into two contiguous id ranges, the majority first, so a person's group follows
from the id as their band does (docs/architecture.md: what can be derived is not stored), a
household shares its group except where the cut falls inside it, and the audit's cells (a
stratum's band's group) stay contiguous ranges of ids.

    >>> cuts = minority_starts(scenario.population, pop)   # int64 [S, B]
    >>> group = group_of(cuts, band_starts(...), pop, ids)  # 0 majority, 1 minority
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from scsim.engine.backend import array_module
from scsim.engine.income import band_of, band_starts
from scsim.engine.population import Population
from scsim.scenario.schema import Population as PopulationSpec

GROUPS: tuple[Literal["majority"], Literal["minority"]] = ("majority", "minority")


def has_groups(spec: PopulationSpec) -> bool:
    return any(region.minority_share > 0 for region in spec.regions.values())


def minority_starts(spec: PopulationSpec, pop: Population) -> np.ndarray:
    """First minority id of each income band of each stratum: int64 [S, B] (the band's end
    where the region has no minority)."""
    bands = band_starts(spec, pop)
    share = np.array([spec.regions[name].minority_share for name in pop.region_names])
    lo, hi = bands[:, :-1], bands[:, 1:]
    minority = np.round((hi - lo) * share[pop.stratum_region][:, None]).astype(np.int64)
    return hi - minority


def group_of(cuts: np.ndarray, bands: np.ndarray, pop: Population, ids: np.ndarray) -> np.ndarray:
    """Each person's group: 0 the majority, 1 the minority (`cuts` from `minority_starts`,
    `bands` from `income.band_starts`, on the same device as `ids`)."""
    xp = array_module(ids)
    stratum = pop.stratum_of(ids)
    return (ids >= cuts[stratum, band_of(bands, pop, ids)]).astype(xp.int64)
