"""The explorer's runs: each page's own folder, a pool of worker processes, and the files to
download. A page knows only its session id; a run is found by (session, run id) and nowhere
else, so one person's run never shows in another's page.

    >>> runs = Runs(Path("runs/explore"), workers=2)
    >>> job = runs.submit(session, "rongcheng", {"population.size": 20_000}, "none")
    >>> runs.progress(session, job)["state"]          # queued, running, comparing, done, failed
"""

from __future__ import annotations

import base64
import multiprocessing
import re
import shutil
import tomllib
import zipfile
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from scsim.errors import ScenarioError, UserError
from scsim.interfaces.explore.jobs import (
    AGAINST,
    PROGRESS,
    RUN,
    SCENARIO,
    read_progress,
    read_results,
    run_job,
    write_progress,
)
from scsim.interfaces.explore.levers import MAX_SEEDS, SEEDS, scenario_of
from scsim.scenario import builtin_names, load_scenario, to_toml
from scsim.scenario.loader import MAX_FILE_BYTES
from scsim.scenario.schema import Scenario

SESSION = re.compile(r"^[0-9a-f]{32}$")  # a uuid4's hex: the page's id, never a path
JOB = re.compile(r"^run-[0-9]{1,6}$")
NAME_LIMIT, SUFFIX = 64, "-what-if"
UPLOADS = "opened"  # a page's own scenario files


class Runs:
    """Every page's runs, under `root/<session>/run-<n>`, run by `workers` processes: a class
    of twenty pressing Run at once queues, and the server stays free to answer the pages."""

    def __init__(self, root: Path, workers: int = 2, offered: tuple[str, ...] = ()) -> None:
        self.root = Path(root)
        self.offered = offered  # the scenarios every page may start from (and its own uploads)
        self.root.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.pool = _pool(workers)
        self.jobs: dict[tuple[str, str], Future[None]] = {}

    def submit(self, session: str, base: str, settings: dict[str, Any], against: str) -> str:
        """Validate the settings into a scenario (a `ScenarioError` for a bad value), write it
        as the job's TOML and queue its run; return the run id."""
        seeds = settings.get(SEEDS, 1)
        if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= MAX_SEEDS:
            raise UserError(f"seeds: expected a whole number from 1 to {MAX_SEEDS}, got {seeds}")
        if against not in AGAINST:
            raise UserError(f"compare with: expected one of {', '.join(AGAINST)}")
        scenario = what_if(base, settings)
        folder = self._new_folder(session)
        (folder / SCENARIO).write_text(scenario_file(scenario, base), encoding="utf-8")
        write_progress(folder, "queued", 0, 1, 0, scenario.run.days)
        try:
            future = self.pool.submit(run_job, folder, base, against, seeds)
        except BrokenProcessPool:  # a worker was killed (out of memory): start them again
            self.pool = _pool(self.workers)
            future = self.pool.submit(run_job, folder, base, against, seeds)
        self.jobs[(session, folder.name)] = future
        return folder.name

    def source(self, session: str, chosen: str) -> str:
        """A scenario a page asks for, if it may: one the explorer offers, or one this page
        uploaded. A page's choice comes from the browser, so a path to anything else on this
        machine is refused, never read."""
        if chosen in self.offered:
            return chosen
        uploads = (self.root / checked(SESSION, session) / UPLOADS).resolve()
        path = Path(str(chosen)).resolve()
        if path.parent == uploads and path.is_file():
            return str(path)
        raise UserError("scenario: expected a built-in, the explorer's file or one you opened")

    def upload(self, session: str, filename: str, contents: str) -> str:
        """Keep a scenario file a page opened (dcc.Upload's data URL) in its own folder and
        validate it; return its path. It may extend a built-in, not another file: a path in it
        would reach files of this machine."""
        data = base64.b64decode(contents.partition(",")[2] or "", validate=False)
        if len(data) > MAX_FILE_BYTES:
            raise UserError(f"{filename}: expected a scenario file under {MAX_FILE_BYTES} bytes")
        home = self.root / checked(SESSION, session) / UPLOADS
        home.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(str(filename)).stem)[:40] or "scenario"
        path = home / f"{1 + sum(1 for _ in home.glob('*.toml'))}-{stem}.toml"
        path.write_bytes(data)
        try:
            _extends_a_builtin_only(path, filename)
            load_scenario(path)
        except UserError:
            path.unlink()
            raise
        return str(path.resolve())

    def _new_folder(self, session: str) -> Path:
        home = self.root / checked(SESSION, session)
        home.mkdir(exist_ok=True)
        number = 1 + sum(1 for _ in home.glob("run-*"))
        while True:
            try:
                folder = home / f"run-{number}"
                folder.mkdir()
                return folder
            except FileExistsError:
                number += 1

    def folder(self, session: str, job: str) -> Path:
        """The folder of one of this session's runs (KeyError if it has none by that id)."""
        folder = self.root / checked(SESSION, session) / checked(JOB, job)
        if not (folder / PROGRESS).is_file():
            raise KeyError(job)
        return folder

    def jobs_of(self, session: str) -> list[str]:
        """This session's run ids, oldest first."""
        home = self.root / checked(SESSION, session)
        found = [p.name for p in home.glob("run-*") if (p / PROGRESS).is_file()]
        return sorted(found, key=lambda name: int(name.removeprefix("run-")))

    def progress(self, session: str, job: str) -> dict[str, Any]:
        """The job's state; a job whose worker died says so, rather than running for ever."""
        folder = self.folder(session, job)
        progress = read_progress(folder)
        future = self.jobs.get((session, job))
        if progress["state"] in ("done", "failed") or future is None or not future.done():
            return progress
        failure = future.exception()
        if failure is None:
            return read_progress(folder)  # finished between the two reads
        message = f"the run's process stopped ({type(failure).__name__}): too many people for "
        write_progress(folder, "failed", 0, 1, 0, 1, message=message + "this machine's memory?")
        return read_progress(folder)

    def results(self, session: str, job: str) -> dict[str, Any]:
        return read_results(self.folder(session, job))

    def scenario_path(self, session: str, job: str) -> Path:
        return self.folder(session, job) / SCENARIO

    def archive(self, session: str, job: str) -> Path:
        """A zip of the run directory and its scenario file (made once, on first asking)."""
        folder = self.folder(session, job)
        target = folder / f"{job}.zip"
        if not target.is_file():
            made = shutil.make_archive(str(folder / f".{job}"), "zip", folder, RUN)
            with_scenario(Path(made), folder / SCENARIO)
            Path(made).replace(target)
        return target

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started clean (spawn), not as forks of a server with threads."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def checked(pattern: re.Pattern[str], text: str) -> str:
    """An id from a page, refused unless it has its form (it becomes part of a path)."""
    if not isinstance(text, str) or not pattern.match(text):
        raise KeyError(text)
    return text


def _extends_a_builtin_only(path: Path, shown: str) -> None:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # the loader says what is wrong, in its words
    parent = raw.get("extends")
    if parent is not None and parent not in builtin_names():
        raise ScenarioError(shown, "extends", "an opened file may extend a built-in only")


def what_if(base: str, settings: dict[str, Any]) -> Scenario:
    """The scenario of a page's settings, named `<base>-what-if`: an edited copy is its own
    scenario, not a second `<base>` whose runs would pass for the built-in's."""
    name = load_scenario(base).name
    renamed = f"{name[: NAME_LIMIT - len(SUFFIX)]}{SUFFIX}"
    return scenario_of(base, {**settings, "name": renamed})


def scenario_file(scenario: Scenario, base: str) -> str:
    """The what-if as a scenario file: resolved (every `extends` merged, every default filled),
    so it runs alone; the loader reads it back to the same scenario."""
    head = f"# scsim explore: {base} with the explorer's settings (resolved, runs alone)\n"
    return head + to_toml(scenario)


def with_scenario(archive: Path, scenario: Path) -> None:
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.write(scenario, scenario.name)
