"""The procedural population: strata, households, friends and employers, all arithmetic on ids.

Every structure is checked over every person of small populations (rongcheng's one region, and
a three-region spec with different shares, urban shares and household means), and the
household and friendship invariants again by hypothesis over random sizes, shapes and seeds.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scsim.engine.population import HOUSEHOLD_TILE, MAX_HOUSEHOLD, Population, apportion
from scsim.scenario import load_scenario
from scsim.scenario.schema import MAX_POPULATION
from scsim.scenario.schema import Population as PopulationSpec

Z = 5.0
REGIONS = {  # name: share, urban share (1.0 leaves the rural strata empty), household mean
    "North": {"share": 0.5, "urban_share": 0.8, "household_mean": 2.2},
    "South": {"share": 0.3, "urban_share": 0.35, "household_mean": 3.5},
    "West": {"share": 0.2, "urban_share": 1.0, "household_mean": 5.0},
}


def _rongcheng(size: int) -> PopulationSpec:
    return load_scenario("rongcheng", overrides={"population.size": size}).population


def _three_regions(size: int) -> PopulationSpec:
    overrides = {"population.size": size, "population.regions": REGIONS}
    return load_scenario("rongcheng", overrides=overrides).population


SPECS = {"rongcheng": _rongcheng, "three_regions": _three_regions}


@pytest.fixture(scope="module", params=sorted(SPECS))
def world(request: pytest.FixtureRequest) -> tuple[PopulationSpec, Population]:
    spec = SPECS[request.param](50_000)
    return spec, Population.generate(spec, seed=5)


# ---------------------------------------------------------------- helpers
def _everyone(pop: Population) -> np.ndarray:
    return np.arange(pop.size, dtype=np.int64)


def _pairs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Directed pairs (a, b) as sorted codes, so that multisets of pairs compare as arrays."""
    return np.sort(a.astype(np.int64) * n + b.astype(np.int64))


def _capped_household_moments(mean: float) -> tuple[float, float]:
    """Mean and variance of min(1 + Poisson(mean - 1), MAX_HOUSEHOLD), the documented size."""
    lam = mean - 1.0
    pmf = [math.exp(-lam) * lam**k / math.factorial(k) for k in range(MAX_HOUSEHOLD - 1)]
    sizes = [1 + k for k in range(MAX_HOUSEHOLD - 1)] + [MAX_HOUSEHOLD]
    probs = [*pmf, max(0.0, 1.0 - sum(pmf))]
    m1 = sum(p * s for p, s in zip(probs, sizes, strict=True))
    m2 = sum(p * s * s for p, s in zip(probs, sizes, strict=True))
    return m1, m2 - m1 * m1


def _assert_households_are_runs_inside_strata(pop: Population) -> None:
    ids = _everyone(pop)
    start, size = pop.household(ids)
    assert np.all((size >= 1) & (size <= MAX_HOUSEHOLD))
    assert np.all((start <= ids) & (ids < start + size))
    heads = np.flatnonzero(start == ids)
    assert heads.size and heads[0] == 0
    # the runs tile 0..N: each head's household ends where the next begins
    assert np.array_equal(np.diff(np.append(heads, pop.size)), size[heads])
    # every member reports the same first member and size
    assert np.array_equal(np.repeat(heads, size[heads]), start)
    assert np.array_equal(np.repeat(size[heads], size[heads]), size)
    # and a household never crosses a stratum boundary
    assert np.array_equal(pop.stratum_of(heads), pop.stratum_of(heads + size[heads] - 1))


def _assert_household_members_are_the_others(pop: Population) -> None:
    ids = _everyone(pop)
    start, size = pop.household(ids)
    members, owner = pop.household_members(ids)
    assert np.array_equal(np.bincount(owner, minlength=ids.size), size - 1)
    assert np.all(members != ids[owner])
    assert np.all((members >= start[owner]) & (members < start[owner] + size[owner]))
    n = pop.size
    assert np.array_equal(_pairs(ids[owner], members, n), _pairs(members, ids[owner], n))


def _assert_friends_are_symmetric_and_local(pop: Population, friends: int) -> None:
    ids = _everyone(pop)
    f = pop.friends(ids)
    assert f.shape == (ids.size, friends)
    region = pop.region_of(ids)
    assert np.array_equal(pop.region_of(f.ravel()), np.repeat(region, friends))
    me = np.repeat(ids, friends)
    assert np.array_equal(_pairs(me, f.ravel(), pop.size), _pairs(f.ravel(), me, pop.size))
    # in a region wider than twice the longest offset, the friends are distinct others
    n = np.diff(pop.region_start)[region]
    wide = n > 2 * pop.friend_offsets.max(axis=1, initial=0)[region]
    rows = np.sort(f[wide], axis=1)
    assert np.all(rows != ids[wide, None])
    assert np.all(np.diff(rows, axis=1) > 0)


def _assert_strata_partition(pop: Population, spec: PopulationSpec) -> None:
    sizes = pop.stratum_size
    assert sizes.sum() == spec.size == pop.size
    assert np.all(sizes >= 0)
    assert pop.stratum_start[0] == 0 and pop.stratum_start[-1] == spec.size
    assert np.all(np.diff(pop.stratum_region) >= 0)  # region-major
    n_classes = len(spec.classes)
    assert pop.n_strata == len(spec.regions) * 2 * n_classes
    assert np.array_equal(
        pop.stratum_class, np.tile(np.arange(n_classes), pop.n_strata // n_classes)
    )
    assert np.array_equal(pop.region_start[1:], pop.stratum_start[2 * n_classes :: 2 * n_classes])
    ids = _everyone(pop)
    assert np.array_equal(pop.stratum_of(ids), np.repeat(np.arange(pop.n_strata), sizes))
    assert np.array_equal(pop.region_of(ids), pop.stratum_region[pop.stratum_of(ids)])


def _assert_employment_is_consistent(pop: Population, spec: PopulationSpec) -> None:
    employer = pop.employer(_everyone(pop))
    assert np.all((employer >= -1) & (employer < pop.n_companies))
    n_region = np.diff(pop.region_start)
    assert int((employer >= 0).sum()) == int(np.round(n_region * spec.employment_rate).sum())
    staff = [pop.employees_of(c) for c in range(pop.n_companies)]
    assert all(s.size >= 1 for s in staff)
    for c, s in enumerate(staff):
        assert np.array_equal(np.sort(s), np.flatnonzero(employer == c)), c
    everyone_employed = np.sort(np.concatenate([np.zeros(0, np.int64), *staff]))
    assert np.array_equal(everyone_employed, np.flatnonzero(employer >= 0))


# ---------------------------------------------------------------- strata and regions
def test_strata_are_contiguous_and_ordered_region_major(world: Any) -> None:
    spec, pop = world
    _assert_strata_partition(pop, spec)
    urban = np.tile(np.repeat([True, False], len(spec.classes)), len(spec.regions))
    assert np.array_equal(pop.stratum_urban, urban)
    assert pop.region_names == tuple(spec.regions)
    assert pop.class_names == tuple(spec.classes)


def test_region_sizes_match_shares_within_one_person_per_stratum(world: Any) -> None:
    spec, pop = world
    n_region = np.diff(pop.region_start)
    strata_per_region = 2 * len(spec.classes)
    for r, region in enumerate(spec.regions.values()):
        assert abs(n_region[r] - spec.size * region.share) <= strata_per_region


def test_strata_sizes_match_their_fractions_within_one_person(world: Any) -> None:
    spec, pop = world
    expected = [
        spec.size * region.share * part * klass.share
        for region in spec.regions.values()
        for part in (region.urban_share, 1 - region.urban_share)
        for klass in spec.classes.values()
    ]
    assert np.all(np.abs(pop.stratum_size - np.array(expected)) < 1)


def test_a_region_with_no_rural_people_has_empty_rural_strata() -> None:
    pop = Population.generate(_three_regions(5_000), seed=1)
    west = pop.region_names.index("West")
    rural = (pop.stratum_region == west) & ~pop.stratum_urban
    assert rural.sum() == 3 and np.all(pop.stratum_size[rural] == 0)


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.floats(min_value=1e-9, max_value=1.0), min_size=1, max_size=24),
)
def test_apportion_sums_to_the_total_and_rounds_each_share(
    total: int, weights: list[float]
) -> None:
    fractions = np.array(weights)
    sizes = apportion(total, fractions)
    assert sizes.sum() == total
    assert np.all(np.abs(sizes - total * fractions / fractions.sum()) < 1)


# ---------------------------------------------------------------- households
def test_households_are_contiguous_runs_inside_one_stratum(world: Any) -> None:
    _assert_households_are_runs_inside_strata(world[1])


def test_household_members_exclude_self_and_are_symmetric(world: Any) -> None:
    _assert_household_members_are_the_others(world[1])


def test_mean_household_size_is_the_regions_household_mean(world: Any) -> None:
    spec, pop = world
    ids = _everyone(pop)
    start, size = pop.household(ids)
    heads = np.flatnonzero(start == ids)
    region_of_head = pop.region_of(heads)
    for r, region in enumerate(spec.regions.values()):
        sizes = size[heads[region_of_head == r]]
        mean, var = _capped_household_moments(region.household_mean)
        # Strata reuse one tile per region, so the independent draws are the tile's households
        # that the longest stratum spans; each stratum's end (and the tile's) clips one.
        longest = min(HOUSEHOLD_TILE, int(pop.stratum_size[pop.stratum_region == r].max()))
        tile_start = pop.household_start[r, :longest]
        independent = int((tile_start == np.arange(longest)).sum())
        clipped = int((pop.stratum_region == r).sum()) + 1
        slack = clipped * (MAX_HOUSEHOLD - 1) / sizes.size
        assert abs(sizes.mean() - mean) <= Z * math.sqrt(var / independent) + slack, (
            r,
            sizes.mean(),
            mean,
        )


def test_households_of_mean_one_are_single_people() -> None:
    regions = {"Solo": {"share": 1.0, "urban_share": 0.5, "household_mean": 1.0}}
    spec = load_scenario(
        "rongcheng", overrides={"population.size": 3_000, "population.regions": regions}
    ).population
    pop = Population.generate(spec, seed=3)
    start, size = pop.household(_everyone(pop))
    assert np.all(size == 1) and np.array_equal(start, _everyone(pop))
    members, _ = pop.household_members(_everyone(pop))
    assert members.size == 0


# ---------------------------------------------------------------- friends
def test_friends_are_in_the_region_symmetric_and_as_many_as_the_spec_says(world: Any) -> None:
    spec, pop = world
    _assert_friends_are_symmetric_and_local(pop, spec.friends)


def test_j_is_a_friend_of_i_exactly_when_i_is_a_friend_of_j(world: Any) -> None:
    _, pop = world
    rng = np.random.default_rng(0)
    for i in rng.integers(0, pop.size, 200):
        for j in pop.friends(np.array([i]))[0]:
            assert i in pop.friends(np.array([j]))[0]


# ---------------------------------------------------------------- employers
def test_employers_are_companies_or_minus_one(world: Any) -> None:
    _, pop = world
    employer = pop.employer(_everyone(pop))
    assert employer.dtype == np.int64
    assert np.all((employer >= -1) & (employer < pop.n_companies))
    # employed people work for a company of their own region
    employed = np.flatnonzero(employer >= 0)
    company_region = np.searchsorted(pop.company_offset, employer[employed], side="right") - 1
    assert np.array_equal(company_region, pop.region_of(employed))


def test_fraction_employed_is_the_employment_rate_within_rounding(world: Any) -> None:
    spec, pop = world
    employed = int((pop.employer(_everyone(pop)) >= 0).sum())
    # each region is within one person per stratum of its share, then rounds once
    per_region = 2 * len(spec.classes) * spec.employment_rate + 0.5
    assert abs(employed - spec.size * spec.employment_rate) <= per_region * len(spec.regions)
    n_region = np.diff(pop.region_start)
    assert employed == int(np.round(n_region * spec.employment_rate).sum())


@pytest.mark.parametrize("make_spec", [_rongcheng, _three_regions], ids=sorted(SPECS))
def test_employees_of_each_company_are_exactly_the_people_it_employs(make_spec: Any) -> None:
    spec = make_spec(4_000)
    _assert_employment_is_consistent(Population.generate(spec, seed=9), spec)


def test_employer_and_employees_of_agree_at_the_largest_population() -> None:
    # A region of 4e9 people: stride * local id passes 2**63, so int64 arithmetic would wrap.
    pop = Population.generate(_rongcheng(MAX_POPULATION), seed=1)
    ids = np.array([0, 1, 2**31, 3 * 10**9, MAX_POPULATION - 3, MAX_POPULATION - 1])
    ids = np.concatenate([ids, np.arange(MAX_POPULATION - 2_000, MAX_POPULATION)])
    employer = pop.employer(ids)
    assert np.all((employer >= -1) & (employer < pop.n_companies))
    for person, company in zip(ids, employer, strict=True):
        if company >= 0:
            staff = pop.employees_of(int(company))
            assert person in staff
            assert np.all(pop.employer(staff) == company)


# ---------------------------------------------------------------- determinism
def _fields_equal(a: Population, b: Population) -> bool:
    return all(
        np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
    )


def test_generation_is_deterministic_for_a_seed() -> None:
    spec = _three_regions(10_000)
    assert _fields_equal(Population.generate(spec, seed=4), Population.generate(spec, seed=4))


def test_another_seed_gives_other_households_and_employers() -> None:
    spec = _three_regions(10_000)
    a, b = Population.generate(spec, seed=4), Population.generate(spec, seed=5)
    assert not np.array_equal(a.household_size, b.household_size)
    assert not np.array_equal(a.employer(_everyone(a)), b.employer(_everyone(b)))
    assert np.array_equal(a.stratum_start, b.stratum_start)  # the strata follow the spec alone


# ---------------------------------------------------------------- properties
@st.composite
def population_specs(
    draw: st.DrawFn, max_size: int = 5_000, min_company: float = 8.0
) -> PopulationSpec:
    """Random small specs; company tiles cost a Python loop per company, hence min_company."""
    n_regions = draw(st.integers(1, 3))
    weights = [draw(st.integers(1, 10)) for _ in range(n_regions)]
    regions = {
        f"R{r}": {
            "share": w / sum(weights),
            "urban_share": draw(st.sampled_from([0.0, 0.25, 0.6305, 1.0])),
            "household_mean": draw(st.floats(1.0, 8.0)),
        }
        for r, w in enumerate(weights)
    }
    class_weights = draw(st.lists(st.integers(1, 10), min_size=1, max_size=3))
    classes = {f"c{c}": {"share": w / sum(class_weights)} for c, w in enumerate(class_weights)}
    return PopulationSpec.model_validate(
        {
            "size": draw(st.integers(1, max_size)),
            "regions": regions,
            "classes": classes,
            "employment_rate": draw(st.floats(0.0, 1.0)),
            "company_mean_size": draw(st.floats(min_company, 50.0)),
            "friends": draw(st.sampled_from([0, 2, 4, 6, 8, 16])),
        }
    )


SEEDS = st.integers(min_value=0, max_value=2**63 - 1)


@settings(max_examples=60, deadline=None)
@given(spec=population_specs(), seed=SEEDS)
def test_household_invariants_hold_for_any_size_and_seed(spec: PopulationSpec, seed: int) -> None:
    pop = Population.generate(spec, seed)
    _assert_strata_partition(pop, spec)
    _assert_households_are_runs_inside_strata(pop)
    _assert_household_members_are_the_others(pop)


@settings(max_examples=60, deadline=None)
@given(spec=population_specs(), seed=SEEDS)
def test_friend_invariants_hold_for_any_size_and_seed(spec: PopulationSpec, seed: int) -> None:
    _assert_friends_are_symmetric_and_local(Population.generate(spec, seed), spec.friends)


@settings(max_examples=25, deadline=None)
@given(spec=population_specs(max_size=1_500, min_company=2.0), seed=SEEDS)
def test_employment_partitions_the_employed_for_any_size_and_seed(
    spec: PopulationSpec, seed: int
) -> None:
    _assert_employment_is_consistent(Population.generate(spec, seed), spec)
