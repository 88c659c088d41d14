"""Refuse a run that will not fit, before allocating anything, and say by how much.

The estimate counts what a run holds at its peak: the per-person state (`STATE_BYTES_PER_PERSON`),
the companies' ratings where a scenario rates them (`COMPANY_STATE_BYTES`), one chunk of
people.parquet being built, the day's event arrays, the calendar of pending reversals, and a
fixed allowance for the interpreter and libraries, against the least of free memory, `ulimit -v`
and the process's cgroup limit. The disk estimate counts the ledger and people files at the
bytes per row measured on the built-in scenarios, and the report written with them.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scsim.engine.companies import COMPANY_STATE_BYTES
from scsim.engine.plan import Plan
from scsim.engine.population import Population
from scsim.engine.state import STATE_BYTES_PER_PERSON
from scsim.errors import ResourceError
from scsim.simulation.arrow import PEOPLE_CHUNK

BASELINE_BYTES = 400 * 2**20  # interpreter, numpy, pyarrow, rich
BYTES_PER_EVENT = 120  # event, record and ledger arrays alive within one day
BYTES_PER_PENDING_REVERSAL = 17  # scsim.engine.components.score.REVERSAL_COLUMNS
PEOPLE_ROW_BYTES = 80  # arrow row of people.parquet while being built
LEDGER_DISK_BYTES_PER_ROW = 6  # zstd-compressed, measured on rongcheng
PEOPLE_DISK_BYTES_PER_ROW = 8
REPORT_DISK_BYTES = 16 * 2**20  # report.html: 4.6 MiB at any size (plotly inline), and its copy
CHECKPOINT_LEDGER_BYTES_PER_ROW = 24  # a ledger row's codes, uncompressed Arrow (checkpoint.py)


@dataclass(frozen=True)
class Estimate:
    memory: int
    disk: int
    events_per_day: float
    ledger_rows: float = 0.0
    pending_reversals: float = 0.0


def people_rows(size: int, people: str | int) -> int:
    return size if people == "all" else 0 if people == "none" else min(int(people), size)


def estimate(
    plan: Plan, pop: Population, people: str | int = "all", companies: int = 0
) -> Estimate:
    """What a run needs; `companies` is the number of companies it rates (0 for none)."""
    events_per_day = float((pop.stratum_size[:, None] * plan.daily_rate).sum())
    recorded = pop.stratum_size[:, None] * plan.daily_rate * plan.detect_chance
    records_per_day = float(recorded.sum() + pop.size * plan.sensor_false_daily.sum())
    demand_per_day = float(pop.size * plan.service_daily.sum())
    longest = plan.expires.reshape(-1, len(plan.events)).max(axis=0)  # places: any rulebook's
    window = np.minimum(np.maximum(longest, 0), plan.days)
    pending = float((recorded.sum(axis=0) * window).sum())
    memory = (
        BASELINE_BYTES
        + pop.size * STATE_BYTES_PER_PERSON
        + companies * COMPANY_STATE_BYTES
        + min(pop.size, PEOPLE_CHUNK) * PEOPLE_ROW_BYTES
        + (events_per_day + demand_per_day) * BYTES_PER_EVENT
        + pending * BYTES_PER_PENDING_REVERSAL
    )
    ledger_rows = records_per_day * 2 * plan.days
    disk = (
        ledger_rows * LEDGER_DISK_BYTES_PER_ROW
        + people_rows(pop.size, people) * PEOPLE_DISK_BYTES_PER_ROW
        + REPORT_DISK_BYTES
    )
    return Estimate(
        memory=int(memory),
        disk=int(disk),
        events_per_day=events_per_day,
        ledger_rows=ledger_rows,
        pending_reversals=pending,
    )


def check(
    plan: Plan, pop: Population, out: Path, people: str | int = "all", companies: int = 0
) -> Estimate:
    needed = estimate(plan, pop, people, companies)
    have = available_memory()
    if needed.memory > have:
        raise ResourceError(
            f"a run of {pop.size:,} people needs about {_size(needed.memory)} of memory; "
            f"this machine has {_size(have)} available{_limited_by(have)}"
        )
    free = shutil.disk_usage(_existing_parent(out)).free
    if needed.disk > free:
        raise ResourceError(
            f"the output of {plan.days} days for {pop.size:,} people, with its report, needs about "
            f"{_size(needed.disk)} of disk; {out.parent} has {_size(free)} free"
        )
    return needed


def check_checkpoints(
    plan: Plan, pop: Population, out: Path, people: str | int = "all", companies: int = 0
) -> int:
    """A resumable run (`--checkpoint-every`) also keeps, until its end, its ledger as raw
    codes and at most two states at a time: refuse it if that and the output do not fit."""
    needed = estimate(plan, pop, people, companies)
    state = (
        pop.size * STATE_BYTES_PER_PERSON
        + companies * COMPANY_STATE_BYTES
        + needed.pending_reversals * BYTES_PER_PENDING_REVERSAL
    )
    disk = int(needed.disk + needed.ledger_rows * CHECKPOINT_LEDGER_BYTES_PER_ROW + 2 * state)
    free = shutil.disk_usage(_existing_parent(out)).free
    if disk > free:
        raise ResourceError(
            f"the output and checkpoints of {plan.days} days for {pop.size:,} people need "
            f"about {_size(disk)} of disk; {out.parent} has {_size(free)} free"
        )
    return disk


def memory_needed_before_building(size: int) -> int:
    """The bytes a population of this size needs at least, known before generating it."""
    return (
        BASELINE_BYTES + size * STATE_BYTES_PER_PERSON + min(size, PEOPLE_CHUNK) * PEOPLE_ROW_BYTES
    )


def check_population_size(size: int) -> None:
    needed, have = memory_needed_before_building(size), available_memory()
    if needed > have:
        raise ResourceError(
            f"a run of {size:,} people needs at least {_size(needed)} of memory; "
            f"this machine has {_size(have)} available{_limited_by(have)}"
        )


def available_memory() -> int:
    """The memory a run may still use: the least of what the machine has free, what
    `ulimit -v` leaves this process, and what its cgroup's limit (a container's, a
    scheduler's) leaves; a run past any of them ends in a MemoryError or the OOM killer."""
    return min(memory_limits().values())


def memory_limits() -> dict[str, int]:
    """Each limit on this process's memory that is set, by what sets it."""
    limits = {"free": _free_memory()}
    address_space = _address_space_left()
    if address_space is not None:
        limits["ulimit -v"] = address_space
    cgroup = cgroup_memory_left()
    if cgroup is not None:
        limits["the cgroup's memory limit"] = cgroup
    return limits


def _limited_by(have: int) -> str:
    """ " under ulimit -v" (or the cgroup's limit) where that, not free memory, is the limit."""
    tight = {name: left for name, left in memory_limits().items() if name != "free"}
    name = next((name for name, left in tight.items() if left == have), None)
    return f" under {name}" if name is not None else ""


def _free_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _address_space_left() -> int | None:
    """What `ulimit -v` (RLIMIT_AS) leaves this process: the limit less what it maps now."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = 0
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) * 1024
    return max(soft - mapped, 0)


UNLIMITED = 2**60  # cgroup v1 writes "no limit" as a number near 2**63


def cgroup_memory_left(
    root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")
) -> int | None:
    """What this process's memory cgroup leaves (limit less usage), v2 or v1, the tightest of
    its own group and the mount's root (a container sees its own group there); None if no
    limit is set or none can be read."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    left = []
    for line in lines:
        number, controllers, group = [*line.split(":", 2), "", ""][:3]
        if number == "0" and controllers == "":
            folder, limit, usage = root, "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            folder, limit, usage = root / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes"
        else:
            continue
        for place in {folder / group.lstrip("/"), folder}:
            found = _cgroup_left(place, limit, usage)
            if found is not None:
                left.append(found)
    return min(left) if left else None


def _cgroup_left(folder: Path, limit: str, usage: str) -> int | None:
    try:
        cap = (folder / limit).read_text().strip()
        used = int((folder / usage).read_text().strip())
        bytes_cap = int(cap)
    except (OSError, ValueError):  # absent, or "max": no limit
        return None
    return max(bytes_cap - used, 0) if bytes_cap < UNLIMITED else None


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _size(n: float) -> str:
    """Bytes in the unit that shows them: a refusal for a full disk says "9.8 KiB free",
    not "0.0 GiB free"."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


__all__ = ["Estimate", "check", "check_checkpoints", "check_population_size", "estimate"]
