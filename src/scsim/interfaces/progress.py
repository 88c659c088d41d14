"""Progress bars of a run's days and of a fit's steps, for the terminal and for a notebook.

Both show on `console` (the CLI's stderr) and vanish when done; a disabled bar costs nothing,
so callers pass `disable` rather than branching (the CLI disables them when stderr is not a
terminal, the Python API unless asked: `scsim.run(..., progress=True)`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from scsim.simulation.run import OnDay


def bar(console: Console, unit: str, *, disable: bool) -> Progress:
    """A transient bar of steps counted in `unit`, with elapsed time and an estimate left."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=disable,
    )


@contextlib.contextmanager
def days_bar(name: str, days: int | None, console: Console, *, disable: bool) -> Iterator[OnDay]:
    """A bar of the run's days; yields the `on_day` that moves it."""
    with bar(console, "days", disable=disable) as progress:
        task = progress.add_task(name, total=days)
        yield lambda day, row: progress.update(task, completed=day + 1)
