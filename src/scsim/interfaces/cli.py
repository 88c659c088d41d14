"""The `scsim` command. A user's mistake is one line on stderr and exit code 2, never a traceback.

scsim run rongcheng --population 100000 --days 90
scsim run rongcheng --checkpoint-every 30 --out runs/r    # killed? scsim run --resume runs/r
scsim verify runs/r
scsim scenarios
scsim validate my-city.toml
scsim show rongcheng
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import itertools
import json
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scsim.errors import (
    Interrupted,
    OutputExistsError,
    Terminated,
    UserError,
    at_least,
    printable,
)
from scsim.interfaces.progress import bar, days_bar
from scsim.report import ReportIfPossible
from scsim.scenario import Scenario, builtin_names, load_scenario, to_toml
from scsim.scenario.loader import builtin_copy, builtin_path
from scsim.simulation.lock import writing
from scsim.simulation.run import OnDay, preflight, recorded_scenario, resume, simulate
from scsim.simulation.rundir import check_output_file
from scsim.simulation.summary import summary_rows
from scsim.simulation.verify import damage_named, manifest_name, refuse_unsealed
from scsim.simulation.verify import verify as verify_run
from scsim.version import __version__

if TYPE_CHECKING:
    from scsim.experiments.calibration.workers import Runs

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # markdown: a docstring's wrapped lines join into one paragraph, and "[default: X]" stays
    # text (rich markup took it for a tag and dropped it)
    rich_markup_mode="markdown",
    help="Simulate and audit social-credit systems on synthetic populations.",
)
console = Console()
errors = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def _date(option: str, text: str) -> dt.date:
    """A date option's value, or one line saying what was expected."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} {text!r}: expected a date as YYYY-MM-DD") from None


def _count(text: str) -> int:
    """A count of people as a user writes it: 100000, 100_000, 100,000 or 1e5 (a nation is
    1.41e9); a fraction or a word gets typer's one-line message, never a traceback."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise typer.BadParameter(
            f"expected a whole number (1000000, 1_000_000 or 1e6), not {text!r}"
        )
    return int(value)


ScenarioArgument = Annotated[str, typer.Argument(help="a built-in name or a scenario file")]
Population = Annotated[
    int | None,
    typer.Option(parser=_count, metavar="N", help="override population.size (1000000 or 1e6)"),
]


OPTIONS = {"population.size": "--population", "run.days": "--days", "run.seed": "--seed"}
"""The options that override a scenario's fields, named in a message about their values."""


def _option_overrides(
    population: int | None = None, days: int | None = None, seed: int | None = None
) -> dict[str, Any]:
    """The scenario fields the options given set: a mistake in one is then blamed on its
    option (OPTIONS), not on the scenario file or "an override"."""
    given = {"population.size": population, "run.days": days, "run.seed": seed}
    return {path: value for path, value in given.items() if value is not None}


STOPPING = (signal.SIGTERM, signal.SIGHUP)
"""The signals a command cleans up after as it does after Ctrl-C; it exits 128 + the signal."""


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a UserError into one line and exit code 2 (and DuckDB running out of the memory
    the user allowed the audit: their limit, not a bug); Ctrl-C into exit code 130, SIGTERM
    and SIGHUP (raised as `Terminated`, cleaned up as Ctrl-C is) into 143 and 129."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with _terminate_as_interrupt():
                return command(*args, **kwargs)
        except UserError as exc:
            sys.stderr.write(f"error: {printable(' '.join(str(exc).split()))}\n")
            raise typer.Exit(2) from None
        except KeyboardInterrupt as exc:  # a resumable run says what it kept
            kept = isinstance(exc, Interrupted)
            sys.stderr.write(
                f"{printable(str(exc))}\n" if kept else "interrupted: partial output removed\n"
            )
            raise typer.Exit(128 + stopped_by[0] if stopped_by else 130) from None
        except MemoryError:  # past the estimate: a limit scsim could not see, or another process
            sys.stderr.write(
                "error: out of memory: partial output removed; run fewer people or free memory\n"
            )
            raise typer.Exit(2) from None
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            sys.stderr.write(
                f"error: the disk is full ({printable(exc.strerror or 'no space left')}): "
                "partial output removed; free space or choose another --out\n"
            )
            raise typer.Exit(2) from None
        except Exception as exc:
            duckdb = sys.modules.get("duckdb")  # loaded only where an audit ran
            if duckdb is None or not isinstance(exc, duckdb.OutOfMemoryException):
                raise
            from scsim.audit.run import MEMORY_ENV

            found = str(exc).splitlines()[0]
            sys.stderr.write(
                f"error: the audit ran out of memory under its limit ({found}); raise the limit "
                f"({MEMORY_ENV}, or --memory where the command has it), e.g. 2GB\n"
            )
            raise typer.Exit(2) from None

    stopped_by: list[int] = []  # the signal that stopped the command, if one did

    @contextlib.contextmanager
    def _terminate_as_interrupt() -> Iterator[None]:
        """SIGTERM and SIGHUP (a closed terminal, an ssh session that drops) raise
        `Terminated` in the main thread while the command runs (elsewhere, as in a Ray
        worker's thread, signals cannot be caught and nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: Any) -> None:
            stopped_by[:] = [signum]
            raise Terminated(signal.Signals(signum).name)

        stopped_by.clear()
        before = {signum: signal.signal(signum, stop) for signum in STOPPING}
        try:
            yield
        finally:
            for signum, handler in before.items():
                signal.signal(signum, handler)

    return wrapper


def _shown(text: str) -> str:
    """A path or name for the console: control characters escaped (rich keeps an ESC, which
    recolours the terminal), markup escaped."""
    return escape(printable(text))


def default_out(source: str, scenario: Scenario) -> Path:
    """runs/NAME for a built-in, runs/STEM for a file: `scsim show rongcheng > my-city.toml`
    (or any file that extends a built-in) keeps the built-in's name, and its run went to
    runs/rongcheng, where --force would replace the built-in's run."""
    if source in builtin_names():
        return Path("runs") / scenario.name
    return Path("runs") / Path(source).stem


def _version(shown: bool) -> None:
    if shown:
        sys.stdout.write(f"scsim {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Simulate and audit social-credit systems on synthetic populations."""


@app.command()
@user_errors
def run(
    scenario: Annotated[
        str | None, typer.Argument(help="a built-in name or a scenario file (default: rongcheng)")
    ] = None,
    population: Population = None,
    days: Annotated[int | None, typer.Option(help="override run.days")] = None,
    seed: Annotated[int | None, typer.Option(help="override run.seed")] = None,
    out: Annotated[Path | None, typer.Option(help="run directory (default: runs/NAME)")] = None,
    force: Annotated[
        bool, typer.Option(help="replace a run directory scsim wrote there (nothing else)")
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(
            help="numpy (any machine; the reference and the default), numba (NumPy with "
            "compiled kernels over the cores: the same files, faster from millions of people; "
            "NUMBA_NUM_THREADS sets the threads) or gpu (NVIDIA, CuPy)"
        ),
    ] = None,
    checkpoint_every: Annotated[
        int | None,
        typer.Option(
            metavar="DAYS",
            help="save the whole state every DAYS days, so that a killed run can be resumed",
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="finish the interrupted run that was writing DIR (its --out), from its last "
            "checkpoint; the files are those of an uninterrupted run",
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            metavar="K",
            help="run the population as K Ray actors, each owning whole regions; the files are "
            "those of one process",
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="with --shards: an existing Ray cluster (default: a local Ray)"),
    ] = None,
    profile: Annotated[
        bool,
        typer.Option(help="record each component's time per day in run.json, and print it"),
    ] = False,
) -> None:
    """Run a scenario and write its run directory."""
    overrides = _option_overrides(population, days, seed)
    if profile and (resume is not None or shards is not None or ray_address is not None):
        raise UserError("--profile times a run in one process: not with --resume or --shards")
    if checkpoint_every is not None and checkpoint_every < 1:
        raise UserError(
            f"--checkpoint-every takes a number of days, 1 or more, not {checkpoint_every}"
        )
    if resume is not None:
        with writing(resume):
            _resume(resume, scenario, overrides, out, force, backend, checkpoint_every)
        return
    source = scenario if scenario is not None else "rongcheng"
    resolved = load_scenario(source, overrides=overrides, names=OPTIONS)
    target = out if out is not None else default_out(source, resolved)
    with writing(target):  # a second scsim writing the same folder is refused
        preflight(resolved, target, force=force, backend=backend or "numpy")
        if shards is not None or ray_address is not None:
            _run_sharded(resolved, target, shards, ray_address, force, backend, checkpoint_every)
            return
        _run_here(resolved, target, force, backend, checkpoint_every, profile)


def _run_here(
    resolved: Scenario,
    target: Path,
    force: bool,
    backend: str | None,
    checkpoint_every: int | None,
    profile: bool,
) -> None:
    """`scsim run` in this process, with a progress bar; its lock held by the caller."""
    report = ReportIfPossible()
    with _progress(resolved.name, resolved.run.days) as on_day:
        summary = simulate(
            resolved,
            target,
            force=force,
            backend=backend or "numpy",
            on_day=on_day,
            checkpoint_every=checkpoint_every,
            finish=report,
            profile=profile,
        )
    console.print(summary_table(resolved.name, summary))
    if profile:
        console.print(profile_table(target))
    _published(target, report)


def profile_table(run_dir: Path) -> Table:
    """Each component's milliseconds per day, from run.json's `profile`, slowest first."""
    recorded = json.loads((run_dir / "run.json").read_text())["profile"]
    total = sum(recorded["seconds"].values()) or 1.0
    table = Table(title=f"time per day, {recorded['days']:,} days")
    for column in ("component", "ms per day", "share"):
        table.add_column(column, justify="right")
    for name, ms in sorted(recorded["ms_per_day"].items(), key=lambda item: -item[1]):
        table.add_row(name, f"{ms:,.3f}", f"{recorded['seconds'][name] / total:.0%}")
    return table


def _resume(
    directory: Path,
    scenario: str | None,
    overrides: dict[str, Any],
    out: Path | None,
    force: bool,
    backend: str | None,
    checkpoint_every: int | None,
) -> None:
    """`scsim run --resume DIR`: a scenario or override given as well must match the run's."""
    if out is not None and out.absolute() != directory.absolute():
        raise UserError(f"--out {out} and --resume {directory} name different run directories")
    recorded = recorded_scenario(directory)
    expected = None
    source = scenario if scenario is not None else recorded
    if source is not None and (scenario is not None or overrides):
        expected = load_scenario(source, overrides=overrides, names=OPTIONS)
    name = recorded.name if recorded is not None else directory.name
    days = recorded.run.days if recorded is not None else None
    report = ReportIfPossible()
    with _progress(name, days) as on_day:
        summary = resume(
            directory,
            scenario=expected,
            backend=backend,
            force=force,
            on_day=on_day,
            checkpoint_every=checkpoint_every,
            finish=report,
        )
    console.print(summary_table(_shown(name), summary))
    _published(directory, report)


def _published(run: Path, report: ReportIfPossible) -> None:
    """Where the run is; and, where its report could not be written, one line that says the
    run is kept and how to write the report later."""
    console.print(f"run directory: [bold]{_shown(str(run))}[/]", soft_wrap=True)
    note = report.note(run)
    if note is not None:
        sys.stderr.write(printable(note) + "\n")


@contextlib.contextmanager
def _progress(name: str, days: int | None) -> Iterator[OnDay]:
    """A progress bar of days on stderr (when it is a terminal); yields the `on_day` to call."""
    with days_bar(name, days, errors, disable=not errors.is_terminal) as on_day:
        yield on_day


@contextlib.contextmanager
def _counter(name: str, total: int, unit: str) -> Iterator[Callable[[int, str | None], None]]:
    """A progress bar of `total` steps on stderr (a line every 10 steps when stderr is not a
    terminal, for logs of long fits); yields `update(done, description or None)`."""
    with bar(errors, unit, disable=not errors.is_terminal) as progress:
        task = progress.add_task(name, total=total)

        def update(done: int, description: str | None) -> None:
            progress.update(task, completed=done, description=description or name)
            if not errors.is_terminal and (done % 10 == 0 or done == total):
                sys.stderr.write(f"{description or name}: {done}/{total} {unit}\n")  # a log

        yield update


@app.command()
@user_errors
def verify(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN", help="a run directory")],
) -> None:
    """Recompute the sha256 of every file of a run and compare with run.json: exit 0 if all
    match, 1 naming each file that is missing or changed, 2 if RUN is not a run directory."""
    checks = verify_run(run_dir)
    for check in checks:
        detail = f": {check.detail}" if check.detail else ""
        sys.stdout.write(f"{check.status.upper():<10} {check.name}{detail}\n")
    bad = [check.name for check in checks if not check.ok]
    if bad:
        sys.stderr.write(
            f"error: {len(bad)} of {len(checks)} files do not match "
            f"{printable(str(run_dir / manifest_name(run_dir)))}: "
            f"{', '.join(bad)}\n"
        )
        raise typer.Exit(1)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios, one line each (cut to the terminal's width; whole when
    piped or redirected, for grep and files)."""
    for name in builtin_names():
        scenario = load_scenario(name)
        if not console.is_terminal:
            sys.stdout.write(f"{name:<18} {' '.join(scenario.description.split())}\n")
            continue
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
        f"{_shown(file)}: valid scenario [bold]{scenario.name}[/] "
        f"({scenario.population.size:,} people, {scenario.run.days} days)",
        soft_wrap=True,
    )


@app.command()
@user_errors
def show(
    scenario: ScenarioArgument,
    resolved: Annotated[
        bool, typer.Option(help="a built-in too as resolved: every default filled, no comments")
    ] = False,
) -> None:
    """Print a built-in's file, its comments (sources, [U] marks) kept and its name made
    NAME-copy, to edit: `scsim show rongcheng > my-city.toml`. A file, or --resolved, prints
    the resolved scenario (every `extends` merged, every default filled) as TOML."""
    if scenario in builtin_names() and not Path(scenario).exists():
        load_scenario(scenario)
        if not resolved:
            sys.stdout.write(builtin_copy(scenario))
            return
        sys.stdout.write(f"# built-in scenario {scenario} ({builtin_path(scenario).name})\n")
    sys.stdout.write(to_toml(load_scenario(scenario)))


@app.command()
@user_errors
def explain(
    scenario: ScenarioArgument,
) -> None:
    """Print the day a scenario runs: its components in order, each with its parameters (value,
    and the file's source or [U]), the state it owns and what it writes."""
    from scsim.interfaces.explain import explain_lines

    for line in explain_lines(scenario):
        typer.echo(line)


def summary_table(name: str, summary: dict[str, Any]) -> Table:
    table = Table(title=f"scsim run: {name}", show_header=False, title_justify="left")
    table.add_column("figure", no_wrap=True)  # a value wraps at its spaces, never a figure
    table.add_column("value", justify="right")
    for figure, value in summary_rows(summary):
        table.add_row(figure, value)
    return table


def main() -> None:  # pragma: no cover - entry point for `python -m scsim`
    app()


# ---------------------------------------------------------------- the audit (issue 4)
# Imported inside each command: plotly and the audit's queries load only when asked for.
RunArgument = Annotated[Path, typer.Argument(metavar="RUN", help="a run directory")]


@app.command()
@user_errors
def dossier(
    run_dir: RunArgument,
    person: Annotated[int | None, typer.Argument(help="a person id")] = None,
    worst: Annotated[bool, typer.Option(help="the person with most wrongful sanctions")] = False,
    company: Annotated[
        int | None, typer.Option(help="a company id instead: its ratings, grades and sanctions")
    ] = None,
) -> None:
    """Print everything recorded about one person (or one company), and why."""
    from scsim.audit import PersonError, company_dossier, dossier, person_record, worst_person
    from scsim.report.terminal import dossier_table, person_table

    if (person is not None) + worst + (company is not None) != 1:
        raise PersonError("name a person, or pass --worst or --company ID (one of them)")
    with damage_named(run_dir):
        if company is not None:
            rows = company_dossier(run_dir, company)
            console.print(dossier_table(rows, title=f"company {company}: ledger"))
            return
        chosen = worst_person(run_dir) if person is None else person  # else --worst
        console.print(person_table(person_record(run_dir, chosen)))
        console.print(dossier_table(dossier(run_dir, chosen)))


@app.command()
@user_errors
def report(
    run_dir: RunArgument,
    out: Annotated[Path | None, typer.Option(help="the page [default: RUN/report.html]")] = None,
    memory: Annotated[
        str | None,
        typer.Option(help="DuckDB's memory limit, e.g. 2GB [default: $SCSIM_AUDIT_MEMORY or half]"),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="replace the file --out names if it exists (nothing else)")
    ] = False,
) -> None:
    """Write a self-contained HTML report of a run, with interactive plots."""
    from scsim.report import write_report

    refuse_unsealed(run_dir)
    if out is not None and out.exists() and not out.is_dir() and not force:
        raise OutputExistsError(f"{out} exists; choose another --out or pass --force")
    with writing(out if out is not None else run_dir / "report.html"), damage_named(run_dir):
        page = write_report(run_dir, out, memory=memory)
    console.print(f"report: [bold]{_shown(str(page))}[/]", soft_wrap=True)


@app.command()
@user_errors
def compare(
    a: Annotated[str, typer.Argument(help="scenario A: a built-in name or a file")],
    b: Annotated[str | None, typer.Argument(help="scenario B: a built-in name or a file")] = None,
    against_none: Annotated[
        bool, typer.Option(help="B is A with no system: no points, grades, lists or refusals")
    ] = False,
    seeds: Annotated[int, typer.Option(help="how many seeds (paired runs)")] = 1,
    seed: Annotated[int | None, typer.Option(help="the first seed [default: A's]")] = None,
    population: Population = None,
    days: Annotated[int | None, typer.Option(help="override run.days")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="the folder for both runs, compare.json and compare.html "
            "[default: runs/compare-A-vs-B]"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="replace a comparison scsim wrote there (nothing else)")
    ] = False,
    swap: Annotated[
        str | None,
        typer.Option(
            help="B is A with PLACE under DONOR's rulebook (PLACE=DONOR, two of A's places): "
            "the same people and seeds, so the difference is the rulebook's"
        ),
    ] = None,
) -> None:
    """Run A and B on the same seeds; print paired differences A - B with 95% intervals."""
    from scsim.experiments.compare import compare as compare_scenarios
    from scsim.report.compare import chilling_sentence, conditions_sentence
    from scsim.report.terminal import compare_table

    name_b = Path(b).stem if b else swap.replace("=", "-as-") if swap else "none"
    target = out if out is not None else Path("runs") / f"compare-{Path(a).stem}-vs-{name_b}"
    overrides = _option_overrides(population, days)  # loaded here to blame the option
    first = load_scenario(a, overrides=overrides, names=OPTIONS)
    second = None if b is None else load_scenario(b, overrides=overrides, names=OPTIONS)
    done = itertools.count(1)
    with _counter("compare", 2 * max(seeds, 1), "runs") as update:
        table = compare_scenarios(
            first,
            second,
            seeds=seeds,
            seed=seed,
            against_none=against_none,
            out=target,
            force=force,
            on_run=lambda name, s: update(next(done), f"{name} {s}"),
            swap=swap,
        )
    console.print(compare_table(table, width=console.width))
    console.print(conditions_sentence(table.attrs["conditions"]), highlight=False)
    if table.attrs["chilling_effect"] is not None:
        console.print(chilling_sentence(table.attrs["chilling_effect"]))
    if seeds == 1:
        console.print("one seed: the difference only, no interval (--seeds K gives one)")
    console.print(
        f"compare.json and compare.html in: [bold]{_shown(str(target))}[/]", soft_wrap=True
    )


# ---------------------------------------------------------------- calibration and prediction
@app.command()
@user_errors
def calibrate(
    scenario: ScenarioArgument,
    fit: Annotated[
        bool, typer.Option(help="fit calibration.free to the targets (else compare only)")
    ] = False,
    trials: Annotated[int, typer.Option(help="Optuna trials of a fit")] = 60,
    refine: Annotated[
        int,
        typer.Option(
            help="rounds of a coordinate search after the fit (or from the scenario's values)"
        ),
    ] = 0,
    seeds: Annotated[int, typer.Option(help="seeds per evaluation (common to every trial)")] = 1,
    table_seeds: Annotated[
        int | None, typer.Option(help="seeds for the final table [default: --seeds]")
    ] = None,
    population: Population = None,
    days: Annotated[int | None, typer.Option(help="override run.days")] = None,
    out: Annotated[
        Path | None, typer.Option(help="the fitted scenario file [default: NAME-fitted.toml]")
    ] = None,
    table: Annotated[Path | None, typer.Option(help="also write the table as CSV here")] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="fit to the targets up to this date (YYYY-MM-DD) only: the later ones are "
            "held out (weighted 0), shown to test the fit"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="runs at once, each in its own process (default: the machine's cores); the "
            "fit is the same with any number"
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="numba (compiled kernels; each worker imports Numba once) or numpy (the "
            "reference): the same runs, so the same fit"
        ),
    ] = "numba",
) -> None:
    """Compare a scenario with its published figures (target, model, ratio), scaled to the
    population they count; with --fit, fit its free rates with Optuna (and --refine, search
    around the fit) and write the fitted scenario file."""

    from scsim.engine.backend import load as load_backend
    from scsim.experiments.calibration.fit import held_out
    from scsim.experiments.calibration.workers import Runs, machine_cores

    at_least("--refine", refine, 0)  # the counts used after a fit, checked before it
    if workers is not None:
        at_least("--workers", workers)
    if backend not in ("numpy", "numba"):
        raise UserError(f"--backend {backend}: calibration runs on numpy or numba")
    load_backend(backend)  # refused here, in one line, where it cannot load
    if table_seeds is not None:
        at_least("--table-seeds", table_seeds)
    s = load_scenario(scenario, overrides=_option_overrides(population, days), names=OPTIONS)
    if s.calibration is None or not s.calibration.targets:
        raise UserError(f"{scenario}: the scenario has no calibration targets")
    if until is not None:
        s = held_out(s, _date("--until", until))
    name = f"{s.name}-fitted.toml"
    target = out if out is not None else Path(name)
    if fit or refine:
        check_output_file(target, example=name)  # before the runs, not after them
    if table is not None:
        check_output_file(table, example="table.csv")
    with Runs(workers if workers is not None else machine_cores(), backend) as runs:
        _calibrate(s, scenario, runs, fit, trials, refine, seeds, table_seeds, target, table, until)


def _calibrate(
    s: Scenario,
    scenario: str,
    runs: Runs,
    fit: bool,
    trials: int,
    refine: int,
    seeds: int,
    table_seeds: int | None,
    target: Path,
    table: Path | None,
    until: str | None,
) -> None:
    """`calibrate`'s fit, search and table, their runs by `runs` (workers.Runs)."""
    from scsim.experiments.calibration.fit import Fit, evaluate, write_fitted
    from scsim.experiments.calibration.fit import fit as fit_scenario
    from scsim.experiments.calibration.fit import refine as refine_scenario
    from scsim.report.terminal import calibration_table_view

    fitted: Fit | None = None
    if fit:
        with _counter(f"fit {s.name}", trials, "trials") as update:
            fitted = fit_scenario(
                s,
                trials=trials,
                seeds=seeds,
                on_trial=lambda n, value, best: update(n + 1, f"fit {s.name}: loss {best:.4g}"),
                runs=runs,
            )
    if refine:
        assert s.calibration is not None  # checked above (held_out keeps it)
        steps = refine * 2 * len(s.calibration.free)  # at most
        with _counter(f"refine {s.name}", steps, "evaluations") as update:
            fitted = refine_scenario(
                s,
                rounds=refine,
                seeds=seeds,
                on_trial=lambda n, value, best: update(n, f"refine {s.name}: loss {best:.4g}"),
                after=fitted,
                runs=runs,
            )
    if fitted is not None:
        source = scenario if scenario in builtin_names() else str(Path(scenario).resolve())
        write_fitted(source, s, fitted, target)
        console.print(
            f"loss {fitted.start_loss:.4g} -> {fitted.best_loss:.4g} in {fitted.trials} trials; "
            f"fitted scenario: [bold]{_shown(str(target))}[/]",
            soft_wrap=True,
        )
        s = fitted.scenario
    if fitted is not None and table_seeds in (None, seeds):  # the fit ran it: its very table
        result, value = fitted.table, fitted.best_loss
    else:
        result, value = evaluate(s, seeds if table_seeds is None else table_seeds, runs)
    view = calibration_table_view(result, title=f"{s.name}: published and model")
    (console if console.is_terminal else Console(width=100)).print(view)  # a pipe: 100 columns
    console.print(f"loss {value:.4g} (weighted mean squared log ratio)")
    past = result[result.day >= s.run.days].sort_values("day")
    if len(past):  # not in the loss: it is over the targets the run reached
        first = past.date.iloc[0] or f"day {past.day.iloc[0]}"
        console.print(
            f"not reached: {len(past)} targets from {first}, past the run's {s.run.days:,} "
            "days (not in the loss; --days runs longer)"
        )
    if until is not None:
        later = result[result.weight == 0.0]
        console.print(
            f"held out: {len(later)} targets after {until} (not in the loss), "
            f"{int(later.within.sum())} within tolerance"
        )
    if table is not None:
        result.to_csv(table, index=False)


@app.command()
@user_errors
def predict(
    scenario: ScenarioArgument,
    at: Annotated[list[str], typer.Option(help="a date (YYYY-MM-DD); repeat for more")],
    population: Population = None,
    seeds: Annotated[int, typer.Option(help="seeds, for the 95% intervals")] = 3,
    json_lines: Annotated[
        bool, typer.Option("--json", help="one JSON object per date on stdout")
    ] = False,
) -> None:
    """Run a (fitted) scenario to the dates given and print its calibration series there,
    national counts with 95% intervals over seeds."""
    import json

    from scsim.experiments.calibration import predict as predict_series

    dates = [_date("--at", text) for text in at]
    s = load_scenario(scenario, overrides=_option_overrides(population), names=OPTIONS)
    with _counter(f"predict {s.name}", seeds, "runs") as update:
        records = predict_series(s, dates, seeds=seeds, on_run=lambda k: update(k + 1, None))
    if json_lines:
        for record in records:
            sys.stdout.write(json.dumps(record) + "\n")
        return
    from scsim.report.terminal import prediction_view

    console.print(prediction_view(records, title=f"{s.name}: predicted"))


# ---------------------------------------------------------------- beyond one machine (issue 6)
# Ray loads only inside these commands (scsim.simulation.cluster).
RayAddress = Annotated[
    str | None,
    typer.Option(help="an existing Ray cluster (ray://HOST:10001 or HOST:6379); default: local"),
]
Workers = Annotated[
    int | None, typer.Option(help="CPUs of the local Ray (default: all); ignored with a cluster")
]
SweepOut = Annotated[
    Path | None, typer.Option(help="the output folder (default: runs/NAME, NAME from the file)")
]


@contextlib.contextmanager
def _runs_progress(name: str, total: int) -> Iterator[Callable[..., None]]:
    """A progress bar of runs (`_counter`); yields a sweep's `on_run(spec, skipped)`."""
    with _counter(name, total, "runs") as update:
        done = itertools.count(1)
        yield lambda spec, skipped: update(next(done), None)


@app.command()
@user_errors
def sweep(
    file: Annotated[Path, typer.Argument(help="a sweep file (TOML; see examples/sweep.toml)")],
    out: SweepOut = None,
    force: Annotated[bool, typer.Option(help="run again the runs already complete")] = False,
    ray_address: RayAddress = None,
    workers: Workers = None,
) -> None:
    """Run every combination of a sweep file as Ray tasks; write one results table. Started
    again, it skips the runs already complete, verified and made by this scsim code."""
    from scsim.experiments.sweep import RESULTS, run_sweep
    from scsim.experiments.sweepfile import load_sweep

    plan = load_sweep(file)
    target = out if out is not None else Path("runs") / plan.name
    with _runs_progress(plan.name, len(plan.runs)) as on_run:
        outcome = run_sweep(
            plan, target, ray_address=ray_address, workers=workers, force=force, on_run=on_run
        )
    console.print(
        f"{len(plan.runs)} runs ({outcome.ran} run now, {outcome.skipped} already complete); "
        f"results: [bold]{_shown(str(target / RESULTS))}[/]",
        soft_wrap=True,
    )


@app.command()
@user_errors
def sensitivity(
    file: Annotated[
        Path, typer.Argument(help="a sensitivity file (TOML; see examples/sensitivity.toml)")
    ],
    out: SweepOut = None,
    force: Annotated[bool, typer.Option(help="run again the runs already complete")] = False,
    ray_address: RayAddress = None,
    workers: Workers = None,
) -> None:
    """Run a Sobol design (Saltelli's scheme, SALib) over the file's parameters as a sweep;
    print which parameters drive each headline metric (first-order S1 and total ST)."""
    from scsim.experiments.sensitivity import INDICES, design, indices_table, run_sensitivity

    plan = design(file)
    target = out if out is not None else Path("runs") / plan.sweep.name
    with _runs_progress(plan.sweep.name, len(plan.sweep.runs)) as on_run:
        outcome = run_sensitivity(
            plan, target, ray_address=ray_address, workers=workers, force=force, on_run=on_run
        )
    console.print(indices_table(outcome.indices, width=console.width))
    console.print(
        f"{len(plan.sweep.runs)} runs; indices: [bold]{_shown(str(target / INDICES))}[/]",
        soft_wrap=True,
    )


@app.command()
@user_errors
def explore(
    scenario: Annotated[
        str | None, typer.Argument(help="a built-in name or a scenario file to start from")
    ] = None,
    port: Annotated[int, typer.Option(help="the port to listen on (0: any free one)")] = 8050,
    host: Annotated[
        str, typer.Option(help="the address to listen on; 0.0.0.0 lets other machines in")
    ] = "127.0.0.1",
    browser: Annotated[bool, typer.Option(help="open the page in a browser")] = True,
    out: Annotated[
        Path, typer.Option(help="the explorer's folder: each page's runs go under it")
    ] = Path("runs/explore"),
    workers: Annotated[int, typer.Option(help="runs at once, each in its own process")] = 2,
) -> None:
    """Start a local web page to change a scenario's levers, run it and read its audit, for
    people who will not write TOML (Ctrl-C stops it)."""
    import webbrowser

    from scsim.interfaces.explore import start

    at_least("--workers", workers)
    explorer = start(scenario, out, host=host, port=port, workers=workers)
    console.print(f"scsim explore: [bold]{explorer.url}[/] (Ctrl-C stops it)", soft_wrap=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        errors.print(f"note: listening on {_shown(host)}: whoever reaches this port can run here")
    if browser:
        webbrowser.open(explorer.url)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops: nothing removed
        explorer.serve_forever()
    console.print(f"scsim explore: stopped; the runs are kept in {_shown(str(out))}")


def _run_sharded(
    scenario: Scenario,
    target: Path,
    shards: int | None,
    ray_address: str | None,
    force: bool,
    backend: str | None,
    checkpoint_every: int | None,
) -> None:
    """`scsim run --shards K`: one population as K Ray actors (scsim.simulation.shards)."""
    from scsim.simulation.shards import simulate_sharded

    if shards is None:
        raise UserError("--ray-address runs a sharded run: give --shards K as well")
    if checkpoint_every is not None or backend not in (None, "numpy", "numba"):
        raise UserError("--shards runs on the numpy or numba backend, without --checkpoint-every")
    report = ReportIfPossible()
    with _progress(scenario.name, scenario.run.days) as on_day:
        summary = simulate_sharded(
            scenario,
            target,
            shards=shards,
            force=force,
            ray_address=ray_address,
            on_day=on_day,
            finish=report,
            backend=backend or "numpy",
        )
    console.print(summary_table(scenario.name, summary))
    _published(target, report)
