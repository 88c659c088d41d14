"""Statistical bounds for the mechanism tests: a count drawn at a configured rate lies within
a few standard deviations (from its own variance) of its expectation; seeds are fixed, so a
pass is reproducible, and 4 standard deviations fail by chance about once in 16,000 checks."""

from __future__ import annotations

import math
from typing import Any

SDS = 4.0


def within_binomial(hits: int, n: int, p: float, sds: float = SDS) -> None:
    """`hits` of `n` is a Binomial(n, p) draw: within `sds` standard deviations of n p."""
    assert n > 100, f"too few trials ({n}) for a statistical check"
    sd = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) <= sds * sd + 1, f"{hits} of {n}, expected {n * p:.1f} +- {sd:.1f}"


def within_poisson(count: int, mean: float, sds: float = SDS) -> None:
    """`count` is a Poisson(mean) draw: within `sds` standard deviations of its mean."""
    within_variance(count, mean, mean, sds)


def within_variance(count: int, mean: float, variance: float, sds: float = SDS) -> None:
    """`count` lies within `sds` standard deviations of `mean`, given its variance."""
    assert mean > 100, f"too small an expectation ({mean:.1f}) for a statistical check"
    sd = math.sqrt(variance)
    assert abs(count - mean) <= sds * sd + 1, f"{count}, expected {mean:.1f} +- {sd:.1f}"


def total(rows: list[dict[str, Any]], column: str) -> int:
    """A metrics column summed over the days."""
    return sum(int(row[column]) for row in rows)
