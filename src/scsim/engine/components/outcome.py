"""What an optional mechanism's stage hands on: the day's events or records as it leaves them,
and the metrics columns it adds (none while the mechanism is off).

    >>> spoken = speak(ctx, day, events)       # an Outcome[Draw]
    >>> records = observe(ctx, day, spoken.value)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    metrics: dict[str, int] = field(default_factory=dict)
