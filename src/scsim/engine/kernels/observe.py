"""The observe stage's detections, compiled (`scsim.engine.components.observe._detections`):
for each of the day's events, the first sensor that watches its kind and detects it (each
sensor's acceptance drawn from the sensor's key and the event's serial, as the reference draws
it), then the detections in the reference's order, sensor after sensor and events in order
within a sensor. The reference builds the (sensor, event) pairs of every sensor watching an
event as arrays, draws every pair, and with events watched twice sorts the detections by event
to keep each event's first: here one pass stops at an event's first detection (a later sensor's
draw would be thrown away) and a counting pass orders the records. Serial: the order of the
records is the reference's order, written once.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from scsim.engine.kernels.counters import hash64

_S32 = np.uint64(32)


@numba.njit(cache=True, nogil=True)
def _detect(
    watches: Any, column: Any, serial: Any, stratum: Any, keys: Any, detect: Any,
) -> Any:  # fmt: skip
    """(the records' sensors, the records' event indices), sensor-major."""
    sensors, n = watches.shape[0], column.size
    first = np.empty(n, dtype=np.int64)
    per_sensor = np.zeros(sensors + 1, dtype=np.int64)
    for i in range(n):
        first[i] = -1
        c, s_i = column[i], stratum[i]
        for s in range(sensors):
            if watches[s, c] and (hash64(serial[i], keys[s]) >> _S32) < detect[s, s_i]:
                first[i] = s
                per_sensor[s + 1] += 1
                break
    for s in range(sensors):
        per_sensor[s + 1] += per_sensor[s]
    total = per_sensor[sensors]
    sensor = np.empty(total, dtype=np.int64)
    index = np.empty(total, dtype=np.int64)
    for i in range(n):
        s = first[i]
        if s >= 0:
            at = per_sensor[s]
            sensor[at] = s
            index[at] = i
            per_sensor[s] = at + 1
    return sensor, index


def detections(
    watches: np.ndarray,
    column: np.ndarray,
    serial: np.ndarray,
    stratum: np.ndarray,
    keys: np.ndarray,
    detect: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(sensor, event index) of each record of the day's events, in the reference's order, or
    None where the arrays are not the reference's dtypes
    (bool [sensors, kinds] watches, int64 kinds and strata, uint64 serials, keys and
    [sensors, strata] thresholds)."""
    if watches.dtype != np.bool_ or watches.ndim != 2:
        return None
    if not (column.dtype == stratum.dtype == np.dtype(np.int64)):
        return None
    if not (serial.dtype == keys.dtype == detect.dtype == np.dtype(np.uint64)):
        return None
    if detect.ndim != 2 or keys.size != watches.shape[0] or detect.shape[0] != keys.size:
        return None
    result: tuple[np.ndarray, np.ndarray] = _detect(
        np.ascontiguousarray(watches), column, serial, stratum, keys, np.ascontiguousarray(detect)
    )
    return result
