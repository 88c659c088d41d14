"""One writer per output: a run, a comparison, a sweep or a report holds its output's lock
while it writes, and a second command for the same output is refused while the first holds it.

The lock is an advisory `flock` on `.NAME.lock` beside the output (never inside it: a run's
folder is renamed into place whole). The kernel releases it when its process ends, however it
ends, so a lock can never outlive a killed writer; the file is removed by its holder.

    >>> with writing(Path("runs/x")):
    ...     simulate(scenario, Path("runs/x"))
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from scsim.errors import OutputError
from scsim.simulation.rundir import check_parent


class OutputBusyError(OutputError):
    """Another process is writing the same output now."""


def lock_path(out: Path) -> Path:
    """Where the lock of `out` lives: beside it, the same however `out` is spelled."""
    out = Path(os.path.abspath(out))
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def writing(out: Path) -> Iterator[None]:
    """Hold the lock of `out` for the block, or refuse at once (no waiting: a second run of
    the same command would only replace the first's output)."""
    if Path(out).name in ("", ".."):  # ., /, x/..: not an output folder, as its check says
        yield
        return
    check_parent(out)  # a file on the way, no permission: one line, not a traceback
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = _acquire(path, out)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # before the unlock: a newcomer then locks a new file, not this one
        os.close(handle)


def _acquire(path: Path, out: Path) -> int:
    """Open and lock `path`; start again if its holder removed it meanwhile (the lock of a
    removed file guards nothing)."""
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(handle)
            os.close(handle)
            raise OutputBusyError(
                f"{out} is being written by another scsim{holder}; wait for it to finish "
                "or choose another --out"
            ) from None
        if _same_file(handle, path):
            os.ftruncate(handle, 0)
            os.write(handle, f"{os.getpid()}\n".encode())
            return handle
        os.close(handle)


def _same_file(handle: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle), os.stat(path))
    except OSError:
        return False


def _holder(handle: int) -> str:
    """ " (process N)" from the lock file, where it can be read."""
    try:
        text = os.pread(handle, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""
