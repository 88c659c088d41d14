"""Keep freed memory for the next day instead of giving it back to the system at once.

Each day allocates and frees the same large event arrays. glibc's default returns freed heap
memory to the system quickly, and the next day pays page faults to get it back: at 100
million people a third of the CPU time was the kernel's (benchmarks/run.py, `time`). Raising
the trim threshold and the top pad keeps up to about 3 GiB of freed heap for reuse; peak
memory is unchanged (measured at 1e8 people x 20 days: 1.0 GiB either way, wall 5.5 s ->
about 4.9 s, kernel time halved). This only tunes glibc's allocator; elsewhere it does nothing.

glibc serves a block above its mmap threshold (at most 32 MiB) by a fresh mmap and unmaps it
when freed, whatever the trim threshold says, and a nation's daily arrays are all above it (12
million requests a day, 96 MB per int64 column): each day faulted in every page of every one of
them again, at about 0.4 s per GB here and up to 3 s per GB while the kernel compacts memory for
NumPy's huge pages. So mmap is switched off (M_MMAP_MAX 0) and large blocks come from the heap,
which keeps them for the next day (national-score 1.41 bn x 8 days: days 87.5 s -> 57.5 s,
kernel time 56 s -> 17 s, peak memory 13.2 -> 14.2 GB). Where the heap cannot grow, glibc
still falls back to mmap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -2, -3, -4
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes a C int
TOP_PAD = 2**30
MMAP_THRESHOLD = 32 * 2**20  # glibc's ceiling for it on 64-bit machines


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's allocator once per process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(
        mallopt(option, value) == 1
        for option, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (M_TOP_PAD, TOP_PAD),
            (M_MMAP_MAX, 0),
        )
    )
