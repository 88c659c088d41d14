"""The `scsim` command. A user's mistake is one line on stderr and exit code 2, never a traceback.

scsim run rongcheng --population 100000 --days 90
scsim scenarios
scsim validate my-city.toml
scsim show rongcheng
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from scsim.errors import UserError
from scsim.scenario import builtin_names, load_scenario, to_toml
from scsim.scenario.loader import builtin_path
from scsim.simulation import preflight, simulate

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate and audit social-credit systems on synthetic populations.",
)
console = Console()
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """Turn a UserError into one line and exit code 2; Ctrl-C into exit code 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: partial output removed\n")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@user_errors
def run(
    scenario: Annotated[
        str, typer.Argument(help="a built-in name or a scenario file")
    ] = "rongcheng",
    population: Annotated[int | None, typer.Option(help="override population.size")] = None,
    days: Annotated[int | None, typer.Option(help="override run.days")] = None,
    seed: Annotated[int | None, typer.Option(help="override run.seed")] = None,
    out: Annotated[Path | None, typer.Option(help="run directory [default: runs/NAME]")] = None,
    force: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
    backend: Annotated[
        str, typer.Option(help="numpy (any machine) or gpu (NVIDIA, CuPy)")
    ] = "numpy",
) -> None:
    """Run a scenario and write its run directory."""
    overrides = {
        path: value
        for path, value in (("population.size", population), ("run.days", days), ("run.seed", seed))
        if value is not None
    }
    resolved = load_scenario(scenario, overrides=overrides)
    target = out if out is not None else Path("runs") / resolved.name
    preflight(resolved, target, force=force, backend=backend)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns, console=errors, transient=True, disable=not errors.is_terminal
    ) as progress:
        task = progress.add_task(resolved.name, total=resolved.run.days)
        summary = simulate(
            resolved,
            target,
            force=force,
            backend=backend,
            on_day=lambda day, row: progress.update(task, completed=day + 1),
        )
    console.print(summary_table(resolved.name, summary))
    console.print(f"run directory: [bold]{target}[/]", soft_wrap=True)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios, one line each."""
    for name in builtin_names():
        scenario = load_scenario(name)
        console.print(
            f"[bold]{name:<18}[/] {scenario.description}",
            highlight=False,
            no_wrap=True,
            overflow="ellipsis",
        )


@app.command()
@user_errors
def validate(file: Annotated[str, typer.Argument(help="a scenario file or built-in name")]) -> None:
    """Check a scenario file; exit 0 if it is valid, 2 with the reason if not."""
    scenario = load_scenario(file)
    console.print(
        f"{file}: valid scenario [bold]{scenario.name}[/] "
        f"({scenario.population.size:,} people, {scenario.run.days} days)",
        soft_wrap=True,
    )


@app.command()
@user_errors
def show(
    scenario: Annotated[str, typer.Argument(help="a built-in name or a scenario file")],
) -> None:
    """Print the resolved scenario (every `extends` merged, every default filled) as TOML."""
    if scenario in builtin_names() and not Path(scenario).exists():
        load_scenario(scenario)
        sys.stdout.write(f"# built-in scenario {scenario} ({builtin_path(scenario).name})\n")
    sys.stdout.write(to_toml(load_scenario(scenario)))


def summary_table(name: str, summary: dict[str, Any]) -> Table:
    table = Table(title=f"scsim run: {name}", show_header=False, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    false = summary["records_false"]
    records = summary["records"]
    rows = [
        ("people", f"{summary['people']:,}"),
        ("days", f"{summary['days']:,}"),
        ("true events", f"{summary['true_events']:,}"),
        ("records", f"{records:,}"),
        ("  of which false", f"{false:,} ({false / records:.2%})" if records else "0"),
    ]
    for list_name, now in summary["listed_now"].items():
        entries = summary["listing_entries"][list_name]
        rows.append((f"listed now: {list_name}", f"{now:,} ({entries:,} entries)"))
    for service, blocked in summary["blocked"].items():
        rows.append((f"blocked {service} requests", f"{blocked:,}"))
    rows += [
        (
            "sanctions on people with a false record",
            f"{summary['sanctions_on_people_with_false_record']:,}",
        ),
        ("people with a false record", f"{summary['people_with_false_record']:,}"),
        ("wall time", f"{summary['wall_seconds']:.1f} s"),
    ]
    for figure, value in rows:
        table.add_row(figure, value)
    return table


def main() -> None:  # pragma: no cover - entry point for `python -m scsim`
    app()
