"""Income bands: every stratum cut into contiguous id ranges, poorest first, by the shares of
`population.income` for its area (urban or rural). Nothing is stored per person: a person's band
follows from the id, as every static trait does (docs/architecture.md), and a household, a run of
ids, shares its band except where a band boundary cuts it.

    >>> starts = band_starts(scenario.population, pop)   # int64 [S, B + 1]
    >>> band = band_of(starts, pop, ids)
"""

from __future__ import annotations

import numpy as np

from scsim.engine.backend import array_module
from scsim.engine.population import Population
from scsim.scenario.schema import Population as PopulationSpec

EVERYONE = ("all",)  # the one band of a population without income bands


def band_names(spec: PopulationSpec) -> tuple[str, ...]:
    return tuple(spec.income) or EVERYONE


def band_starts(spec: PopulationSpec, pop: Population) -> np.ndarray:
    """First id of each band in each stratum, and the stratum's end: int64 [S, B + 1]."""
    bands = list(spec.income.values())
    urban = np.cumsum([0.0, *(b.urban for b in bands)]) if bands else np.array([0.0, 1.0])
    rural = np.cumsum([0.0, *(b.rural for b in bands)]) if bands else np.array([0.0, 1.0])
    cut = np.where(pop.stratum_urban[:, None], urban[None, :], rural[None, :])
    cut[:, -1] = 1.0  # shares summing to 1 within 1e-6 still end at the stratum's end
    size = pop.stratum_size[:, None]
    return pop.stratum_start[:-1, None] + np.round(size * cut).astype(np.int64)


def band_of(starts: np.ndarray, pop: Population, ids: np.ndarray) -> np.ndarray:
    """The income band of each person (0 the poorest)."""
    xp = array_module(ids)
    row = starts[pop.stratum_of(ids)]
    return (xp.sum(row[:, 1:-1] <= ids[:, None], axis=1)).astype(np.int64)
