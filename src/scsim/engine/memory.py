"""Freed arrays kept by the C allocator for the next day, while a large run steps its days.

glibc's malloc hands an allocation over 32 MB straight to the system (`mmap`) and gives it
back when it is freed (`munmap`). A nation's day makes dozens of such temporaries (a day's 4.4
million events are 35 MB a column, its 2.5 million point rows as many) and frees them before
the next: each day the system then zeroes and maps every one of their pages afresh, on the
first write to each, and on a virtual machine a page fault costs a trip through the
hypervisor. While the days run, `days_kept` tells malloc to take every block from its heap
and to keep what is freed there, so that the next day's arrays reuse pages already mapped;
afterwards it restores malloc's defaults and returns what the heap holds free to the system
(`malloc_trim`), so that a notebook that ran a nation does not keep its days' memory.

Only the allocator changes: the same arrays, the same values, the same bytes in every file.
On a system without glibc's `mallopt` (macOS, musl) nothing is done.

A large run's people's columns (`zeroed`) are each an anonymous mapping of their own,
whatever malloc is told: the system hands such a mapping out as zero pages, and gives it
memory only where it is first written. `scsim run` has malloc serve every block from its heap
(`scsim.simulation.allocator`), and a zeroed block of the heap is zeroed by writing it: a
nation's 9.9 GB of columns, every page faulted in at once, took half of a national build
(27 s of 58, py-spy) before a single person's score was set.

    >>> with days_kept(people=1_409_778_724):
    ...     for day in range(365): model.step(day)
    >>> score = zeroed(1_409_778_724, np.int16)    # its own mapping, no page touched yet
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

KEPT_FROM = 1 << 22  # people from which a run's daily temporaries pass 32 MB
MAPPED_FROM = 1 << 25  # bytes from which a column of people is a mapping of its own (`zeroed`)

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # mallopt's parameters (malloc.h)
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536  # glibc's defaults
KEEP_ALL = 2**31 - 1  # a trim threshold no heap reaches: freed memory stays


def _libc() -> Any | None:
    """The process's C library where it has glibc's `mallopt` and `malloc_trim`."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None
    return libc


@contextmanager
def days_kept(people: int) -> Iterator[bool]:
    """Within the block, malloc keeps freed blocks for reuse (runs of KEPT_FROM people or
    more, on glibc); yields whether it does."""
    libc = _libc() if people >= KEPT_FROM else None
    if libc is None or not libc.mallopt(M_MMAP_MAX, 0):
        yield False
        return
    libc.mallopt(M_TRIM_THRESHOLD, KEEP_ALL)
    try:
        yield True
    finally:
        libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
        libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)


def zeroed(size: int, dtype: DTypeLike) -> np.ndarray:
    """`np.zeros(size, dtype)`, but from MAPPED_FROM bytes on (on a system with anonymous
    mappings) a mapping of its own, not a block of malloc's heap: nothing is written to it
    here, so its pages cost neither time nor memory until a person's value is first set."""
    nbytes = size * np.dtype(dtype).itemsize
    if nbytes < MAPPED_FROM or not hasattr(mmap, "MAP_ANONYMOUS"):
        return np.zeros(size, dtype)
    mapping = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(mapping, dtype=dtype)
