"""The packed stable argsort (`scsim.engine.backend.stable_argsort` on NumPy) is NumPy's stable
argsort: the same permutation, ties in their order, for every shape of ids and days the engine
sorts, and it declines what its keys cannot hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scsim.engine.backend import (
    PACKED_MIN,
    _packed_argsort,
    in_sorted,
    stable_argsort,
    unique_inverse,
)

RNG = np.random.default_rng(27)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint32, np.uint64])
@pytest.mark.parametrize("high", [3, 5_000, 1_409_778_724])
@pytest.mark.parametrize("n", [PACKED_MIN, 100_003])
def test_packed_argsort_is_the_stable_permutation(dtype: type, high: int, n: int) -> None:
    values = RNG.integers(0, high, size=n).astype(dtype)  # few values: long runs of ties
    packed = _packed_argsort(values)
    assert packed is not None
    expected = np.argsort(values, kind="stable")
    assert packed.dtype == expected.dtype
    np.testing.assert_array_equal(packed, expected)


def test_negative_values_sort_after_their_least() -> None:
    values = RNG.integers(-1_000, 1_000, size=PACKED_MIN * 2)
    np.testing.assert_array_equal(_packed_argsort(values), np.argsort(values, kind="stable"))


@pytest.mark.parametrize(
    "values",
    [
        np.arange(PACKED_MIN - 1, dtype=np.int64),  # few: NumPy's own sort
        np.arange(PACKED_MIN, dtype=np.int16),  # narrow: NumPy's radix sort
        np.array([0, 2**62] * PACKED_MIN, dtype=np.int64),  # range and index over 63 bits
        np.full(PACKED_MIN, 2**63 + 1, dtype=np.uint64),  # not an int64
        np.zeros((PACKED_MIN, 2), dtype=np.int64),  # not 1-d
    ],
)
def test_what_does_not_fit_is_left_to_numpy(values: np.ndarray) -> None:
    assert _packed_argsort(values) is None
    if values.ndim == 1:
        np.testing.assert_array_equal(stable_argsort(np, values), np.argsort(values, kind="stable"))


def test_unique_inverse_rebuilds_the_values() -> None:
    values = RNG.integers(0, 50_000, size=60_000)
    unique, inverse = unique_inverse(np, values)
    np.testing.assert_array_equal(unique, np.unique(values))
    np.testing.assert_array_equal(unique[inverse], values)


@given(
    st.lists(st.integers(0, 60), max_size=50),
    st.lists(st.integers(0, 60), max_size=20, unique=True),
)
def test_in_sorted_is_isin_for_a_sorted_table(values: list[int], table: list[int]) -> None:
    got = in_sorted(np, np.array(values, dtype=np.int64), np.array(sorted(table), dtype=np.int64))
    np.testing.assert_array_equal(got, np.isin(values, table))
