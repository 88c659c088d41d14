"""A finished simulation is never thrown away for its report (issue 29, item 4).

The runner calls `finish` on the sealed run before publishing it; the report is the last and
the most fragile step (DuckDB under a memory limit, a disk that fills up with the page). Where
it fails, the report is left out, whatever of it was written is removed, and the run is
published without it; whoever asked for the run says so, with the command that writes the
report later (`scsim report RUN`).

    >>> report = ReportIfPossible()
    >>> simulate(scenario, out, finish=report)
    >>> report.failure          # None, or why report.html is missing: "No space left on device"
"""

from __future__ import annotations

from pathlib import Path

from scsim.report.html import write_run_report

PAGE = "report.html"


class ReportIfPossible:
    """The runner's `finish`: write the run's report, or keep the run without it and remember
    why (`failure`, one line)."""

    def __init__(self) -> None:
        self.failure: str | None = None

    def __call__(self, run_dir: Path) -> None:
        try:
            write_run_report(run_dir)
        except Exception as exc:  # a report that fails never costs the simulation
            (Path(run_dir) / PAGE).unlink(missing_ok=True)  # written but not recorded
            self.failure = reason(exc)

    def note(self, run: Path) -> str | None:
        """The one line that tells the user the report is missing and how to write it."""
        if self.failure is None:
            return None
        return (
            f"note: the run is kept without report.html ({self.failure}); write it later "
            f"with: scsim report {run}"
        )


def reason(exc: BaseException) -> str:
    """Why the report failed, in a few words: the system's for a full disk, the first line of
    DuckDB's for its memory limit."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return first if len(first) <= 160 else first[:157] + "..."
