"""A large run's days keep freed arrays in malloc's heap, and give them back afterwards
(`scsim.engine.memory`): glibc would map and unmap every temporary over 32 MB each day."""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest

from scsim.engine.memory import KEPT_FROM, days_kept

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
