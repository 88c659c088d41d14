"""The Ray connection: an existing cluster by its address, or a local Ray started for us.

Ray is imported here and only when a command needs it, so `scsim run` without `--shards`
never pays for it. A Ray already initialised (a notebook, a test) is used as it is and left
running; one we start listens on the loopback interface only, and is shut down when the work
is done, its helper processes ended with the command however it ends (`reaper`).

    >>> with connect(address=None, workers=2):
    ...     ray.get(task.remote())
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from scsim.errors import UserError
from scsim.simulation.reaper import reaped


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
    with contextlib.ExitStack() as local:
        if address is None:  # a Ray of our own: on the loopback, and gone when we are
            local.enter_context(reaped())
            local.enter_context(_loopback(ray))
        try:
            ray.init(address=address, **options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise ClusterError(
                f"cannot start or reach {where}: {str(exc).splitlines()[0]}"
            ) from None
        try:
            yield ray
        finally:
            ray.shutdown()


@contextlib.contextmanager
def _loopback(ray: Any) -> Iterator[None]:
    """Start a local Ray on 127.0.0.1: its servers (GCS, raylet, workers) then listen on the
    loopback interface only, not on every interface where anyone on the network could submit
    tasks to it. Ray takes the node's address from `ray_constants.ENABLE_RAY_CLUSTER`: off, it
    is the loopback address (as Ray does on macOS and Windows)."""
    constants = ray._private.ray_constants
    before = constants.ENABLE_RAY_CLUSTER
    constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = before


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
