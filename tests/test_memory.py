"""A large run's days keep freed arrays in malloc's heap, and give them back afterwards
(`scsim.engine.memory`): glibc would map and unmap every temporary over 32 MB each day."""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest

from scsim.engine.memory import KEPT_FROM, MAPPED_FROM, days_kept, zeroed

ELEMENTS = 8 << 20  # float64s
BYTES = 8 * ELEMENTS  # 64 MB: over glibc's largest threshold for mapping a block apart


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _glibc() -> ctypes.CDLL:
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's malloc only")
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc 2.33 or later (mallinfo2)")
    libc.mallinfo2.restype = _Mallinfo2
    return libc


def test_a_large_runs_days_take_their_arrays_from_the_heap_and_trim_it_after() -> None:
    libc = _glibc()
    with days_kept(KEPT_FROM) as kept:
        before = libc.mallinfo2().hblkhd
        array = np.ones(ELEMENTS)
        mapped_apart = libc.mallinfo2().hblkhd - before
        heap = libc.mallinfo2().arena
        del array
    assert kept
    assert mapped_apart < BYTES // 8  # in the heap, not mapped on its own
    assert heap >= BYTES
    assert libc.mallinfo2().arena < heap - BYTES // 2  # given back on leaving
    before = libc.mallinfo2().hblkhd
    array = np.ones(ELEMENTS)
    assert libc.mallinfo2().hblkhd - before >= BYTES  # the defaults again: mapped apart
    del array


def test_a_small_run_leaves_the_allocator_alone() -> None:
    libc = _glibc()
    with days_kept(KEPT_FROM - 1) as kept:
        before = libc.mallinfo2().hblkhd
        array = np.ones(ELEMENTS)
        assert libc.mallinfo2().hblkhd - before >= BYTES
        del array
    assert not kept


@pytest.mark.parametrize("dtype", [np.int16, np.uint8])
def test_a_large_column_of_people_is_a_mapping_of_its_own_untouched(dtype: type) -> None:
    """From MAPPED_FROM bytes, a people's column is an anonymous mapping, not a block of the
    heap that a zeroed allocation would have to write: zeros, writable, and none of its
    pages in memory until written (the run's allocator tuning notwithstanding)."""
    from scsim.simulation.allocator import keep_freed_memory

    keep_freed_memory()  # as `scsim run` does: malloc's large blocks from its heap
    size = MAPPED_FROM // np.dtype(dtype).itemsize
    column = zeroed(size, dtype)
    assert column.dtype == dtype and column.size == size and column.flags.writeable
    assert isinstance(column.base, memoryview)  # a view of the mapping, not malloc's block
    if sys.platform.startswith("linux"):  # resident pages of its range: none yet
        assert _resident_pages(column) == 0
    column[::4096] = 3
    if sys.platform.startswith("linux"):  # now those written are
        assert _resident_pages(column) > 0
    assert int(column.sum()) == 3 * len(range(0, size, 4096)) and column[1] == 0
    small = zeroed(1000, dtype)
    assert small.base is None and not small.any()


def _resident_pages(column: np.ndarray) -> int:
    """How many pages of `column`'s memory are in memory (`mincore` over its whole pages)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    page = 4096
    first = -(-column.ctypes.data // page) * page  # the first whole page
    length = (column.ctypes.data + column.nbytes - first) // page * page
    pages = ctypes.create_string_buffer(length // page)
    assert libc.mincore(first, length, pages) == 0, ctypes.get_errno()
    return sum(byte & 1 for byte in pages.raw)
