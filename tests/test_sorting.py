"""The packed stable argsort (`scsim.engine.backend.stable_argsort` on NumPy) is NumPy's stable
argsort: the same permutation, ties in their order, for every shape of ids and days the engine
sorts, and it declines what its keys cannot hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scsim.engine.backend import (
    IN_ORDER_FROM,
    IN_ORDER_TABLE_FROM,
    PACKED_MIN,
    _packed_argsort,
    find_sorted,
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


@pytest.mark.parametrize("ordered", [False, True])
@pytest.mark.parametrize("repeats", [False, True])
def test_many_ids_found_in_their_sorted_order_are_found_where_bisection_finds_them(
    ordered: bool, repeats: bool
) -> None:
    """From IN_ORDER_FROM ids in a table of IN_ORDER_TABLE_FROM, `find_sorted` looks them up
    in their sorted order and puts the answers back: the same places and the same answers as
    a bisection of each in its own order, present or not, repeated or not."""
    table = np.unique(RNG.integers(0, 10 * IN_ORDER_TABLE_FROM, size=2 * IN_ORDER_TABLE_FROM))
    assert table.size >= IN_ORDER_TABLE_FROM
    values = np.concatenate(
        [
            RNG.choice(table, IN_ORDER_FROM, replace=repeats),  # members
            RNG.integers(-5, 10 * IN_ORDER_TABLE_FROM + 5, size=IN_ORDER_FROM),  # mostly not
        ]
    )
    values = np.sort(values) if ordered else RNG.permutation(values)
    at, found = find_sorted(np, values, table)
    expected = np.minimum(np.searchsorted(table, values), table.size - 1)
    np.testing.assert_array_equal(at, expected)
    np.testing.assert_array_equal(found, np.isin(values, table))
    assert found.any() and not found.all()
