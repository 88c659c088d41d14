"""The helper processes of a local Ray end with the command that started it, however it ends.

Ray's own shutdown ends them when the command returns, fails or is stopped by a signal it can
catch; a SIGKILL leaves Ray's agents running (`ray::DashboardAgent`, `ray::RuntimeEnvAgent`,
re-parented to init). So a command that starts a local Ray first starts this watcher: a small
process that notes, twice a second, the processes started under the command since, and ends
them (SIGTERM, then SIGKILL) once the command is gone, which it learns from the end of a pipe
that only the command holds open. It imports nothing but the standard library: it runs as a
script, never as part of the scsim package.

    >>> with reaped():
    ...     ray.init()
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

PERIOD = 0.5  # seconds between looks at the command's processes
GRACE = 1.0  # seconds for Ray's own shutdown before the watcher ends what is left
PROC = "/proc"


@contextlib.contextmanager
def reaped() -> Iterator[None]:
    """Run the block with a watcher that ends the processes it starts (Linux; elsewhere, the
    block runs as it is)."""
    if not os.path.isdir(PROC):
        yield
        return
    watcher = subprocess.Popen(
        [sys.executable, "-S", os.path.abspath(__file__), str(os.getpid())],
        stdin=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C to the command's group does not stop the watcher
    )
    try:
        yield
    finally:
        watcher.stdin.close()  # type: ignore[union-attr]  # the watcher's signal: done
        with contextlib.suppress(subprocess.TimeoutExpired):
            watcher.wait(timeout=GRACE + 5)


def watch(command: int) -> None:
    """Note the processes `command` starts until the pipe from it closes, then end those that
    still run."""
    since = _start_time(os.getpid()) or 0
    seen: dict[int, int] = {}
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], PERIOD)
        seen.update((pid, start) for pid, start in descendants(command).items() if start >= since)
        if ready and not os.read(sys.stdin.fileno(), 1):
            break
    time.sleep(GRACE)
    end(seen)


def descendants(root: int) -> dict[int, int]:
    """Every process under `root` (children, their children, ...), with its start time, less
    this watcher."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir(PROC):
        if entry.isdigit():
            parent = _field(int(entry), 1)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, stack = {}, [root]
    while stack:
        for child in children.get(stack.pop(), []):
            start = _start_time(child)
            if child != os.getpid() and start is not None:
                found[child] = start
                stack.append(child)
    return found


def end(processes: dict[int, int]) -> None:
    """SIGTERM each process that still runs (the same process: its start time unchanged),
    then SIGKILL those that outlive a short wait."""
    for signum, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 0.0)):
        left = [pid for pid, start in processes.items() if _start_time(pid) == start]
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signum)
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [pid for pid in left if _start_time(pid) == processes[pid]]


def _start_time(pid: int) -> int | None:
    return _field(pid, 19)


def _field(pid: int, index: int) -> int | None:
    """A number of /proc/PID/stat after the command name (1: the parent, 19: the start time);
    None for a process that is gone (or a zombie's missing fields)."""
    try:
        with open(f"{PROC}/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[index])
    except (OSError, IndexError, ValueError):
        return None


if __name__ == "__main__":  # pragma: no cover - the watcher process itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch(int(sys.argv[1]))
