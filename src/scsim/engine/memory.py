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

    >>> with days_kept(people=1_409_778_724):
    ...     for day in range(365): model.step(day)
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

KEPT_FROM = 1 << 22  # people from which a run's daily temporaries pass 32 MB

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
