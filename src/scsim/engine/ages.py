"""Age: who is a child (aged 0-14), from the id, at no cost in bytes.

A region's `children_share` (2020 census: the share of residents aged 0-14) makes children of
household members other than the first (a household of one has none), each with the chance
that gives the region that share: the share over the fraction of the region's people who are
not the first of their household (capped at 1), drawn from a hash of the id (no stream per day:
a person's age does not change within a run). So children live with an adult, and a person's
age follows from the id as every static trait does (docs/architecture.md).

    >>> chance = child_chance(scenario.population, pop)   # uint64 [R]: thresholds
    >>> child = is_child(chance, pop, ids, key)
"""

from __future__ import annotations

import numpy as np

from scsim.engine.population import Population
from scsim.engine.rng import accept, stream_id, threshold
from scsim.scenario.schema import Population as PopulationSpec

STREAM = "age"


def child_chance(spec: PopulationSpec, pop: Population) -> np.ndarray:
    """Per region, the threshold of a household member other than the first being a child."""
    share = np.array([spec.regions[name].children_share for name in pop.region_names])
    places = np.arange(pop.household_start.shape[1])
    not_first = (pop.household_start != places).mean(axis=1)  # the tile's places, per region
    return threshold(np.minimum(share / np.maximum(not_first, 1e-12), 1.0))


def is_child(chance: np.ndarray, pop: Population, ids: np.ndarray, seed: int) -> np.ndarray:
    """Whether each person is a child (`chance` from `child_chance`, on the device of `ids`)."""
    start, _ = pop.household(ids)
    key = (stream_id(STREAM) ^ seed) & 0xFFFF_FFFF_FFFF_FFFF
    return (ids != start) & accept(key, ids, chance[pop.region_of(ids)])
