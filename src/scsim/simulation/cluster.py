"""The Ray connection: an existing cluster by its address, or a local Ray started for us.

Ray is imported here and only when a command needs it, so `scsim run` without `--shards`
never pays for it. A Ray already initialised (a notebook, a test) is used as it is and left
running; one we start is shut down when the work is done.

    >>> with connect(address=None, workers=2):
    ...     ray.get(task.remote())
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from scsim.errors import UserError


class ClusterError(UserError):
    """A Ray cluster that cannot be reached, or a request Ray cannot meet."""


@contextlib.contextmanager
def connect(address: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """Yield the `ray` module, connected: to `address` if given, else to a local Ray with
    `workers` CPUs (default: all of them)."""
    import ray

    if workers is not None and workers < 1:
        raise ClusterError(f"--workers takes a number of workers, 1 or more, not {workers}")
    if address is not None:
        check_address(address)
    if ray.is_initialized():
        yield ray
        return
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": "ERROR",
    }
    if address is None:
        options["num_cpus"] = workers
    try:
        ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise ClusterError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def unwrap(exc: BaseException) -> BaseException:
    """A task's own error out of Ray's wrapper: a UserError raised in a worker reaches the user
    as the one line it is, not as a remote traceback."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, UserError) else exc


def check_address(address: str, seconds: float = 5.0) -> None:
    """Refuse at once an address nothing answers at (Ray itself would wait for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        if address == "auto":
            return
        raise ClusterError(f"--ray-address {address}: expected HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        raise ClusterError(
            f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc})"
        ) from None
