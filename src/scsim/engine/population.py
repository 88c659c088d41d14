"""The synthetic population: who lives where, with whom, works where, and knows whom.

Nothing here is stored per person (docs/architecture.md). People are numbered so that every stratum
(region, then urban or rural, then behaviour class) is a contiguous id range; every static
trait follows from the id by arithmetic:

- households are contiguous runs inside a stratum, laid out by a per-region tile of household
  sizes drawn from the census mean (scsim/data/china-provinces-2020.csv);
- friendship is a circulant graph inside each region: i is a friend of i +- o_k for a few
  offsets, short ones for clustering and long ones for reach; symmetric, zero bytes per edge;
- employment is an affine permutation of the region's ids into employee positions, cut into
  companies by a tile of company sizes: company -> employees and person -> employer are both
  arithmetic, so the CSR of docs/architecture.md needs no column array at all.

    >>> pop = Population.generate(scenario.population, seed=1)
    >>> start, size = pop.household(np.array([0, 1, 2]))
    >>> friends = pop.friends(np.array([0]))          # shape (1, population.friends)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scsim.engine.backend import array_module, repeat_index
from scsim.engine.rng import Streams, mix, poisson, scalar_uniform
from scsim.scenario.schema import Population as PopulationSpec
from scsim.scenario.schema import Region

HOUSEHOLD_TILE = 4096
MAX_HOUSEHOLD = 10
COMPANY_TILE = 1 << 16


@dataclass(frozen=True)
class Population:
    size: int
    region_names: tuple[str, ...]
    class_names: tuple[str, ...]
    region_start: np.ndarray  # int64 [R + 1]
    stratum_start: np.ndarray  # int64 [S + 1]
    stratum_region: np.ndarray  # int64 [S]
    stratum_urban: np.ndarray  # bool [S]
    stratum_class: np.ndarray  # int64 [S]
    household_start: np.ndarray  # int32 [R, HOUSEHOLD_TILE]: offset of the household's first
    household_size: np.ndarray  # int32 [R, HOUSEHOLD_TILE]
    friend_offsets: np.ndarray  # int64 [R, friends / 2]
    employees: np.ndarray  # int64 [R]: employed people per region
    stride: np.ndarray  # int64 [R]: the affine permutation's multiplier
    stride_inverse: np.ndarray  # int64 [R]
    shift: np.ndarray  # int64 [R]
    company_offset: np.ndarray  # int64 [R + 1]: first company id of each region
    company_of_slot: np.ndarray  # int64 [COMPANY_TILE]: company within a tile, per slot
    company_slot_start: np.ndarray  # int64 [companies per tile]
    region_parent: tuple[str, ...] = ()  # per region: itself, or the region a city lies in

    @classmethod
    def generate(cls, spec: PopulationSpec, seed: int) -> Population:
        streams = Streams(seed)
        regions = carved_regions(spec)
        classes = list(spec.classes.values())
        fractions, region_of, urban_of, class_of = [], [], [], []
        for r, region in enumerate(regions):
            for urban, part in ((True, region.urban_share), (False, 1 - region.urban_share)):
                for c, klass in enumerate(classes):
                    fractions.append(region.share * part * klass.share)
                    region_of.append(r)
                    urban_of.append(urban)
                    class_of.append(c)
        sizes = apportion(spec.size, np.array(fractions))
        stratum_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        stratum_region = np.array(region_of, dtype=np.int64)
        per_region = np.bincount(stratum_region, weights=sizes, minlength=len(regions))
        region_start = np.concatenate([[0], np.cumsum(per_region)]).astype(np.int64)
        n_region = np.diff(region_start)
        hh = [
            household_tile(streams.key("households", 0, r), reg.household_mean)
            for r, reg in enumerate(regions)
        ]
        employees = np.round(n_region * spec.employment_rate).astype(np.int64)
        stride, inverse, shift = _affine_permutations(n_region, streams)
        slot_company, slot_start = company_tile(streams.key("companies", 0), spec.company_mean_size)
        companies = _companies_per_region(employees, slot_company, len(slot_start))
        return cls(
            size=spec.size,
            region_names=(*spec.regions, *spec.cities),
            class_names=tuple(spec.classes),
            region_start=region_start,
            stratum_start=stratum_start,
            stratum_region=stratum_region,
            stratum_urban=np.array(urban_of, dtype=bool),
            stratum_class=np.array(class_of, dtype=np.int64),
            household_start=np.stack([h[0] for h in hh]),
            household_size=np.stack([h[1] for h in hh]),
            friend_offsets=np.stack([friend_offsets(int(n), spec.friends) for n in n_region]),
            employees=employees,
            stride=stride,
            stride_inverse=inverse,
            shift=shift,
            company_offset=np.concatenate([[0], np.cumsum(companies)]).astype(np.int64),
            company_of_slot=slot_company,
            company_slot_start=slot_start,
            region_parent=(*spec.regions, *(city.region for city in spec.cities.values())),
        )

    # ---------------------------------------------------------------- strata and regions
    @property
    def n_strata(self) -> int:
        return len(self.stratum_region)

    @property
    def stratum_size(self) -> np.ndarray:
        return self.stratum_start[1:] - self.stratum_start[:-1]

    @property
    def n_companies(self) -> int:
        return int(self.company_offset[-1])

    def stratum_of(self, ids: np.ndarray) -> np.ndarray:
        xp = array_module(self.stratum_start)
        return xp.searchsorted(self.stratum_start, ids, side="right") - 1

    def region_of(self, ids: np.ndarray) -> np.ndarray:
        xp = array_module(self.region_start)
        return xp.searchsorted(self.region_start, ids, side="right") - 1

    # ---------------------------------------------------------------- households
    def household(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First member and size of each person's household."""
        s = self.stratum_of(ids)
        s0, s1 = self.stratum_start[s], self.stratum_start[s + 1]
        offset = (ids - s0) % HOUSEHOLD_TILE
        region = self.stratum_region[s]
        start = ids - offset + self.household_start[region, offset]
        end = array_module(ids).minimum(start + self.household_size[region, offset], s1)
        return start, end - start

    def household_members(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The other members of each person's household, and which input each belongs to."""
        xp = array_module(ids)
        start, size = self.household(ids)
        owner = repeat_index(xp, size)
        first = (xp.cumsum(size) - size)[owner]
        members = start[owner] + xp.arange(owner.size) - first
        keep = members != ids[owner]
        return members[keep], owner[keep]

    # ---------------------------------------------------------------- friends
    def friends(self, ids: np.ndarray) -> np.ndarray:
        """Friends of each person, shape (len(ids), friends), all in the person's region."""
        xp = array_module(ids)
        r = self.region_of(ids)
        r0, n = self.region_start[r], self.region_start[r + 1] - self.region_start[r]
        offsets = self.friend_offsets[r]  # (len, half)
        local = (ids - r0)[:, None]
        both = xp.concatenate([local + offsets, local - offsets], axis=1)
        return r0[:, None] + xp.mod(both, n[:, None])

    # ---------------------------------------------------------------- companies
    def employer(self, ids: np.ndarray) -> np.ndarray:
        """Company id of each person, or -1 for people no company employs."""
        r = self.region_of(ids)
        n = self.region_start[r + 1] - self.region_start[r]
        slot = _affine(self.stride[r], ids - self.region_start[r], self.shift[r], n)
        per_tile = len(self.company_slot_start)
        company = (
            self.company_offset[r]
            + (slot // COMPANY_TILE) * per_tile
            + self.company_of_slot[slot % COMPANY_TILE]
        )
        return array_module(ids).where(slot < self.employees[r], company, -1)

    def representatives(self, companies: np.ndarray) -> np.ndarray:
        """The legal representative of each company: its first employee (see `employees_of`)."""
        return self.responsible_persons(companies, 1)[0]

    def responsible_persons(
        self, companies: np.ndarray, count: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first `count` employees of each company (the legal representative first, then
        its principal and responsible persons), as many as it has, and which input each
        belongs to (in input order)."""
        xp = array_module(companies)
        r = xp.searchsorted(self.company_offset, companies, side="right") - 1
        local, per_tile = companies - self.company_offset[r], len(self.company_slot_start)
        tile, k = local // per_tile, local % per_tile
        following = self.company_slot_start[xp.minimum(k + 1, per_tile - 1)]
        end = tile * COMPANY_TILE + xp.where(k + 1 < per_tile, following, COMPANY_TILE)
        end = xp.minimum(end, self.employees[r])
        slot = (tile * COMPANY_TILE + self.company_slot_start[k])[:, None] + xp.arange(count)
        valid = slot < end[:, None]
        owner = xp.nonzero(valid)[0]
        slot, r = slot[valid], r[owner]
        n = self.region_start[r + 1] - self.region_start[r]
        person = self.region_start[r] + _affine(
            self.stride_inverse[r], xp.mod(slot - self.shift[r], n), 0, n
        )
        return person, owner

    def employees_of(self, company: int) -> np.ndarray:
        """The people a company employs, its legal representative first."""
        r = int(np.searchsorted(self.company_offset, company, side="right") - 1)
        local = company - int(self.company_offset[r])
        per_tile = len(self.company_slot_start)
        tile, k = divmod(local, per_tile)
        first = tile * COMPANY_TILE + int(self.company_slot_start[k])
        last = tile * COMPANY_TILE + (
            int(self.company_slot_start[k + 1]) if k + 1 < per_tile else COMPANY_TILE
        )
        slots = np.arange(first, min(last, int(self.employees[r])), dtype=np.int64)
        n = int(self.region_start[r + 1] - self.region_start[r])
        local_ids = _affine(int(self.stride_inverse[r]), (slots - int(self.shift[r])) % n, 0, n)
        return self.region_start[r] + local_ids


def carved_regions(spec: PopulationSpec) -> list[Region]:
    """The regions of the run: each region less the share its cities take, then the cities as
    regions of their own (after all regions, so that a region's index does not depend on its
    cities). Without cities, the scenario's regions as they are."""
    if not spec.cities:
        return list(spec.regions.values())
    kept = {name: 1.0 for name in spec.regions}
    for city in spec.cities.values():
        kept[city.region] -= city.share
    regions = [
        r.model_copy(update={"share": r.share * kept[name]}) for name, r in spec.regions.items()
    ]
    return regions + [
        Region(
            share=spec.regions[c.region].share * c.share,
            urban_share=c.urban_share,
            household_mean=c.household_mean,
        )
        for c in spec.cities.values()
    ]


def apportion(total: int, fractions: np.ndarray) -> np.ndarray:
    """Integer sizes summing to `total` in these proportions (largest remainder, ties by order)."""
    exact = total * fractions / fractions.sum()
    sizes = np.floor(exact).astype(np.int64)
    short = total - int(sizes.sum())
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[:short]] += 1
    return sizes


def household_tile(key: int, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Households of 1 + Poisson(mean - 1) persons (at most 10) filling HOUSEHOLD_TILE places."""
    start = np.empty(HOUSEHOLD_TILE, dtype=np.int32)
    size = np.empty(HOUSEHOLD_TILE, dtype=np.int32)
    filled, counter = 0, 0
    while filled < HOUSEHOLD_TILE:
        n = min(1 + poisson(mix(key + counter), mean - 1.0), MAX_HOUSEHOLD)
        n = min(n, HOUSEHOLD_TILE - filled)
        start[filled : filled + n] = filled
        size[filled : filled + n] = n
        filled, counter = filled + n, counter + 1
    return start, size


def company_tile(key: int, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Companies of geometric size with the given mean [U], filling COMPANY_TILE slots."""
    starts: list[int] = []
    slot_company = np.empty(COMPANY_TILE, dtype=np.int64)
    filled = 0
    log_q = math.log1p(-1.0 / mean) if mean > 1 else -math.inf
    while filled < COMPANY_TILE:
        u = scalar_uniform(key, len(starts))
        n = 1 if log_q == -math.inf else 1 + int(math.log1p(-u) / log_q)
        n = min(n, COMPANY_TILE - filled)
        slot_company[filled : filled + n] = len(starts)
        starts.append(filled)
        filled += n
    return slot_company, np.array(starts, dtype=np.int64)


def friend_offsets(n: int, friends: int) -> np.ndarray:
    """Half the friends at short range (clustering), half at range n**(j/k) (small world)."""
    half = friends // 2
    short = (half + 1) // 2
    long = half - short
    offsets = list(range(1, short + 1))
    offsets += [max(short + j, round(n ** (j / (long + 1)))) for j in range(1, long + 1)]
    return np.array(offsets, dtype=np.int64)


def _affine_permutations(n: np.ndarray, streams: Streams) -> tuple[np.ndarray, ...]:
    stride, inverse, shift = [], [], []
    for r, size in enumerate(int(x) for x in n):
        m = max(size, 1)
        a = max(1, round(m * 0.6180339887))
        while math.gcd(a, m) != 1:
            a += 1
        stride.append(a % m if m > 1 else 1)
        inverse.append(pow(a, -1, m) if m > 1 else 0)
        shift.append(mix(streams.key("employment", 0, r)) % m)
    return tuple(np.array(x, dtype=np.int64) for x in (stride, inverse, shift))


def _affine(
    a: np.ndarray | int, x: np.ndarray, b: np.ndarray | int, n: np.ndarray | int
) -> np.ndarray:
    """(a * x + b) mod n for 0 <= a, x, b < n <= 2**32, in uint64: in a region of 4e9 people (the
    schema's limit) a * x overflows int64, and uint64 holds it exactly."""
    xp = array_module(x)
    a, x, b, n = (xp.asarray(v).astype(np.uint64) for v in (a, x, b, n))
    return ((a * x + b) % n).astype(np.int64)


def _companies_per_region(
    employees: np.ndarray, slot_company: np.ndarray, per_tile: int
) -> np.ndarray:
    full, rest = np.divmod(employees, COMPANY_TILE)
    partial = np.where(rest > 0, slot_company[np.maximum(rest - 1, 0)] + 1, 0)
    return full * per_tile + partial
