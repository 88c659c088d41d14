"""A local Ray with 2 CPUs for the tests of sweeps, sensitivity and shards, and a way to find
its workers (to kill one mid-sweep).

    @pytest.fixture(scope="module")
    def ray_cluster():
        yield from local_ray()
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")


def local_ray() -> Iterator[None]:
    """Start Ray with 2 CPUs for a module's tests, and stop it after them."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()


def busy_workers(title: str) -> list[int]:
    """Pids of this process's descendants whose process title is `title` (Ray names a worker
    after the task it is running: `ray::run_one`)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    mine, stack = [], [os.getpid()]
    while stack:
        for child in children.get(stack.pop(), []):
            mine.append(child)
            stack.append(child)
    found = []
    for pid in mine:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith(title):
            found.append(pid)
    return found
