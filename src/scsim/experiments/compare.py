"""Compare two scenarios on the same seeds: paired differences of the headline figures.

Every random number is a pure function of (seed, stream, day, block, counter)
(docs/architecture.md), so two scenarios run on the same seed share their population and their
random numbers where they agree (common random numbers): the difference between them is the
policy's, not noise.
Each seed gives one paired difference A - B; over K seeds the mean difference comes with a
95% t-interval (none with one seed). `against_none` makes B the counterfactual "no system":
A with every rule's points set to 0, no direct grade, no listing, no service refused or
rewarded. Where the scenario marks critical speech (`behaviour.self_censorship.events`), the
comparison's headline is the chilling effect: the paired difference in the rate of critical
speech, with its 95% interval (`chilling_effect`, in `table.attrs`).

    >>> table = compare("rongcheng", against_none=True, seeds=5, population=100_000, days=90)
    >>> table.set_index("figure").loc["blocked: flight"]
    >>> table.attrs["chilling_effect"]["difference"]     # per 1,000 people a year, A - B
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scsim.audit.comparison import (
    chilling_effect,
    headline,
    paired_differences,
    with_percentages,
)
from scsim.audit.places import place_figures
from scsim.audit.run import graded_lists, restricted_services
from scsim.errors import UserError
from scsim.report import ReportIfPossible, write_compare_report
from scsim.scenario import Scenario, load_scenario, to_toml
from scsim.scenario.schema.places import swapped
from scsim.simulation.lock import writing
from scsim.simulation.provenance import engine_sha256
from scsim.simulation.run import simulate
from scsim.simulation.rundir import (
    check_output_dir,
    publish,
    remove_dead_leftovers,
    sha256,
    write_manifest,
)
from scsim.version import __version__

OnRun = Callable[[str, int], None]
NAME_LIMIT = 64  # the schema's longest scenario name


class CompareError(UserError):
    """A comparison that cannot be made as asked (no B, or both B and --against-none)."""


def compare(
    a: str | Path | Scenario,
    b: str | Path | Scenario | None = None,
    *,
    seeds: int = 1,
    seed: int | None = None,
    population: int | None = None,
    days: int | None = None,
    against_none: bool = False,
    out: str | Path | None = None,
    force: bool = False,
    on_run: OnRun | None = None,
    swap: str | None = None,
) -> pd.DataFrame:
    """Run A and B on `seeds` seeds (from `seed`, default A's) and return, per headline figure,
    the means of A and of B, the mean paired difference A - B and its 95% interval.

    Columns: figure, a, b, difference, low, high (low and high are NaN with one seed). The
    frame's attrs hold the names, seeds and per-seed values. With `out`, the runs, compare.json
    and compare.html are written there, whole or not at all.
    """
    if swap is not None:  # B is A with one place's rulebook replaced by another's
        if b is not None or against_none:
            raise CompareError("give one of B, --against-none and --swap, not two")
        first = _load(a, _overrides(population, days))
        second = swapped_scenario(first, swap)
    else:
        first, second = _scenarios(a, b, against_none, population, days)
    if seeds < 1:
        raise CompareError(f"--seeds must be at least 1, not {seeds}")
    start = first.run.seed if seed is None else seed
    chosen = list(range(start, start + seeds))
    target = Path(out) if out is not None else None
    with contextlib.ExitStack() as held:
        if target is not None:
            held.enter_context(writing(target))  # one comparison writes one folder at a time
            check_output_dir(target, force=force, marker="compare.json")
        return _compared(first, second, chosen, against_none, target, on_run)


def _compared(
    first: Scenario,
    second: Scenario,
    chosen: list[int],
    against_none: bool,
    target: Path | None,
    on_run: OnRun | None,
) -> pd.DataFrame:
    """The comparison's runs and table, written to `target` whole or not at all."""
    work = _partial(target)
    try:
        pairs = [_pair(first, second, s, work / "runs", on_run) for s in chosen]
        table = paired_differences(pairs)
        table.attrs.update(
            a=first.name, b=second.name, seeds=chosen, against_none=against_none, per_seed=pairs
        )
        table.attrs["conditions"] = conditions(first, second, chosen)
        table.attrs["chilling_effect"] = chilling_effect(table)
        if target is not None:
            _write(table, work, first, second)
            publish(work, target)
            table.attrs["out"] = str(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if target is None:
        shutil.rmtree(work, ignore_errors=True)
    return table


def conditions(first: Scenario, second: Scenario, seeds: list[int]) -> dict[str, Any]:
    """What a comparison's figures hold for: each scenario's name, people and days, and a
    sha256 of its resolved text (an edited file under the same name is another scenario),
    the seeds, and the code that ran them."""
    return {
        label: {
            "scenario": scenario.name,
            "population": scenario.population.size,
            "days": scenario.run.days,
            "scenario_sha256": hashlib.sha256(to_toml(scenario).encode()).hexdigest(),
        }
        for label, scenario in (("a", first), ("b", second))
    } | {"seeds": list(seeds), "scsim_version": __version__, "engine_sha256": engine_sha256()}


SERVICE_EFFECTS = {
    "blocked_lists",
    "blocked_tiers",
    "reward_tiers",
    "reward_lists",
    "household_lists",
    "premium_tiers",
}
"""What a service does to whom by list or grade: all of it off in the counterfactual."""


def no_system(scenario: Scenario) -> Scenario:
    """The counterfactual: the same people, events and sensors, and a rulebook that does
    nothing (every rule's points 0, no direct grade or lock, no listing, no service refused
    or rewarded; companies' events cost nothing and no measure sanctions or rewards). Lists
    and grades still exist, so every figure has a column to compare."""
    raw = scenario.model_dump(mode="json", exclude_none=True)
    for rule in raw["rulebook"]["rules"].values():
        rule.update(points=0, lock_days=0)
        rule.pop("set_tier", None)
        rule.pop("enter_list", None)
    for service in raw["rulebook"]["services"].values():
        service.update({field: [] for field in SERVICE_EFFECTS})
    for change in raw["rulebook"]["changes"]:  # nor from a date on: the same, in its own shape
        for rule in change.get("rules", {}).values():
            rule.update({field: 0 for field in ("points", "lock_days") if field in rule})
            rule.pop("set_tier", None)
            rule.pop("enter_list", None)
        for service in change.get("services", {}).values():
            for field in SERVICE_EFFECTS & service.keys():
                service[field] = []
        for listed in change.get("lists", {}).values():
            listed.pop("enter_tiers", None)
    _no_mechanisms(raw)
    if raw.get("companies"):  # companies still act; their ratings cost and bar nothing
        firms = raw["companies"]
        for event in firms["events"].values():
            event.update(points=0, lock_days=0)
            event.pop("set_grade", None)
        for measure in firms["measures"].values():
            measure.update(sanctioned_grades=[], reward_grades=[])
        firms.update(employee_points={}, partner_points={}, representative_grades=[])
        firms.pop("representative_list", None)
        firms.update(list_companies=False, repair_per_year=0.0, repair_grades=[])
    raw["name"] = f"{scenario.name[: NAME_LIMIT - 5]}-none"
    raw["description"] = f"{scenario.name} with no system: records cost nothing, nobody refused"
    return Scenario.model_validate(raw)


def _no_mechanisms(raw: dict[str, Any]) -> None:
    """The mechanisms of issue 3 that the system causes, off: no grade burdens or lists entered
    by grade, no suspensions, no points to buy or to game for. People still speak and report,
    with nothing to fear: self-censorship stays, at zero, so that critical speech is counted in
    both runs."""
    for tier in raw["rulebook"]["tiers"].values():
        tier["burdens"] = {}
    for listed in raw["rulebook"]["lists"].values():
        listed["enter_tiers"] = []
    for sensor in raw["surveillance"]["sensors"].values():
        sensor["suspension"] = 0.0
    raw["behaviour"]["gray_market"]["per_year"] = 0.0
    raw["behaviour"]["gaming"]["per_year"] = 0.0  # no points, nothing to game for
    raw["behaviour"]["self_censorship"].update(surveillance=0.0, friends=0.0)
    for listed in raw["rulebook"]["lists"].values():  # nobody named, nothing it costs
        listed["publish_consequences"] = {}
    raw["rulebook"].pop("grade_appeals", None)  # no locked grade to appeal
    for service in raw["rulebook"]["services"].values():  # no refusal reaches a child
        service["reaches_children"] = False


def swapped_scenario(scenario: Scenario, swap: str) -> Scenario:
    """The paired counterfactual of `--swap PLACE=DONOR`: the same people, events, sensors and
    seeds, with PLACE run under DONOR's rulebook (from PLACE's own start)."""
    place, _, donor = swap.partition("=")
    if not place or not donor:
        raise CompareError(f"--swap {swap!r}: expected PLACE=DONOR, two places of {scenario.name}")
    try:
        second = swapped(scenario, place, donor)
    except ValueError as exc:
        raise CompareError(str(exc)) from None
    name = f"{scenario.name}-{place}-as-{donor}"[:NAME_LIMIT]
    return second.model_copy(update={"name": name})


def _overrides(population: int | None, days: int | None) -> dict[str, Any]:
    return {
        path: value
        for path, value in (("population.size", population), ("run.days", days))
        if value is not None
    }


def _scenarios(
    a: Any, b: Any, against_none: bool, population: int | None, days: int | None
) -> tuple[Scenario, Scenario]:
    if against_none and b is not None:
        raise CompareError("give either B or --against-none, not both")
    if not against_none and b is None:
        raise CompareError("give B, or --against-none to compare A with no system")
    overrides = {
        path: value
        for path, value in (("population.size", population), ("run.days", days))
        if value is not None
    }
    first = _load(a, overrides)
    second = no_system(first) if against_none else _load(b, overrides)
    return first, second


def _load(source: Any, overrides: dict[str, Any]) -> Scenario:
    if not isinstance(source, Scenario):
        names = {"population.size": "population =", "run.days": "days ="}  # the arguments
        return load_scenario(source, overrides=overrides, names=names)
    raw = source.model_dump(mode="json", exclude_none=True)
    for dotted, value in overrides.items():
        section, field = dotted.split(".")
        raw[section][field] = value
    return Scenario.model_validate(raw)


def _pair(
    first: Scenario, second: Scenario, seed: int, runs: Path, on_run: OnRun | None
) -> dict[str, Any]:
    pair: dict[str, Any] = {"seed": seed}
    # blocked requests of every service that either scenario restricts
    services = tuple(dict.fromkeys(restricted_services(first) + restricted_services(second)))
    graded = tuple(dict.fromkeys(graded_lists(first) + graded_lists(second)))  # likewise
    for label, scenario in (("a", first), ("b", second)):
        if on_run is not None:
            on_run(scenario.name, seed)
        folder = runs / f"{label}-seed-{seed}"
        simulate(
            load_scenario(scenario, overrides={"run.seed": seed}), folder, finish=ReportIfPossible()
        )
        pair[label] = headline(folder, services, graded)
        if scenario.places:  # where you live decides: each place's figures, side by side
            pair[label] |= place_figures(folder)
    shared = [figure for figure in pair["a"] if figure in pair["b"]]
    pair["a"] = {figure: pair["a"][figure] for figure in shared}
    pair["b"] = {figure: pair["b"][figure] for figure in shared}
    return pair


def _write(table: pd.DataFrame, folder: Path, first: Scenario, second: Scenario) -> None:
    document = {
        "scsim_version": __version__,
        "a": first.name,
        "b": second.name,
        "against_none": table.attrs["against_none"],
        "difference": "a - b",
        "population": first.population.size,
        "days": first.run.days,
        "seeds": table.attrs["seeds"],
        "conditions": table.attrs["conditions"],
        "figures": _plain(with_percentages(table).to_dict(orient="records")),
        "chilling_effect": _plain(table.attrs["chilling_effect"]),
        "per_seed": _plain(table.attrs["per_seed"]),
        "runs": {
            f"{label}-seed-{s}": f"runs/{label}-seed-{s}"
            for s in table.attrs["seeds"]
            for label in ("a", "b")
        },
    }
    write_compare_report(table, folder / "compare.html")
    page = folder / "compare.html"
    document["files"] = {page.name: {"sha256": sha256(page), "bytes": page.stat().st_size}}
    write_manifest(folder / "compare.json", document)  # sealed: `scsim verify` checks it


def _partial(target: Path | None) -> Path:
    if target is None:
        return Path(tempfile.mkdtemp(prefix="scsim-compare-"))
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_leftovers(target)  # what a killed comparison left beside it
    work = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    return work


def _plain(value: Any) -> Any:
    """JSON-ready: NaN becomes null, NumPy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
