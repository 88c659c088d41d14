"""The explorer in headless Chromium: a lever changed, a run, its summary and figure checked
against the run directory, the what-if downloaded and validated; two pages at once kept apart.

Playwright drives Debian's Chromium (/usr/bin/chromium; it never downloads a browser). Without
either, these tests skip. With SCSIM_DOCS_SCREENSHOTS=1 the first test writes the tutorial's
screenshots into docs/tutorials/img/ (docs/tutorials/explorer.md shows them).
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scsim.interfaces.explore import Explorer, start
from scsim.scenario import load_scenario
from scsim.simulation.verify import verify

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
)
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "img"
WAIT_MS = 120_000  # a run of a few thousand people: seconds, but 2 cores may be shared


@pytest.fixture
def explorer(tmp_path: Path) -> Iterator[Explorer]:
    server = start("rongcheng", tmp_path / "explore", port=0, workers=2, thread=True)
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def open_page(browser: Any, url: str, asked: list[str]) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = page.new_page()
    tab.on("request", lambda request: asked.append(request.url))
    tab.goto(url)
    tab.wait_for_selector('[data-field="rulebook.rules.negative_post.points"] input')
    return tab


def set_lever(page: Any, field: str, value: Any) -> None:
    box = page.locator(f'[data-field="{field}"] input')
    box.fill(str(value))
    box.press("Tab")  # the inputs take a value when left (debounce), as a reader would


def run_and_wait(page: Any) -> None:
    page.click("#run")
    page.wait_for_selector("#shown", timeout=WAIT_MS)


def summary_value(page: Any, figure: str) -> str:
    row = page.locator("#table-summary tr", has_text=figure).first
    return str(row.locator("td").nth(1).inner_text())


def only_run(folder: Path) -> Path:
    (run,) = folder.glob("*/run-*/run")
    return run


def values(array: Any) -> list[float]:
    """A trace's values as the page holds them: a list, or plotly's typed array (base64)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), array["dtype"]).tolist()
    return list(array)


def shoot(page: Any, name: str, tmp_path: Path) -> None:
    """A screenshot: into the docs when asked (SCSIM_DOCS_SCREENSHOTS=1), else beside the test."""
    folder = SHOTS if os.environ.get("SCSIM_DOCS_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"explorer-{name}.jpg"
    page.screenshot(path=str(path), type="jpeg", quality=70, full_page=name == "results")


def test_a_changed_lever_runs_shows_the_runs_own_figures_and_downloads_a_valid_scenario(
    explorer: Explorer, browser: Any, tmp_path: Path
) -> None:
    asked: list[str] = []
    page = open_page(browser, explorer.url, asked)
    set_lever(page, "population.size", 20_000)
    set_lever(page, "run.days", 180)
    set_lever(page, "rulebook.rules.negative_post.points", -5)
    set_lever(page, "surveillance.sensors.cameras.misattribution", 0.05)
    page.check('#against input[value="no-system"]')
    shoot(page, "levers", tmp_path)
    run_and_wait(page)
    shoot(page, "results", tmp_path)
    compared = page.locator("#table-comparison tr", has_text="wrongful sanctions").first
    assert compared.is_visible()  # the paired comparison with no system, on the page

    run = only_run(explorer.runs.root)
    assert all(check.ok for check in verify(run))  # an ordinary run directory
    assert summary_value(page, "people") == "20,000"
    metrics = pd.read_parquet(run / "metrics.parquet")
    plot = "document.querySelector('#figure-grades .js-plotly-plot')"
    page.wait_for_function(f"{plot} && {plot}.data", timeout=30_000)  # plotly loads lazily
    drawn = page.evaluate(f"{plot}.data.map(t => ({{name: t.name, y: t.y}}))")
    grade_b = values(next(t["y"] for t in drawn if t["name"] == "B"))  # people in B each day
    assert grade_b == metrics["tier_B"].tolist()
    assert sum(grade_b) > 0  # a line with something in it, not a line of zeros

    with page.expect_download() as got:
        page.click("#get-toml", force=True)  # no wait for a still page: plots may be drawing
    downloaded = tmp_path / "what-if.toml"
    got.value.save_as(downloaded)
    scenario = load_scenario(downloaded)
    assert scenario.rulebook.rules["negative_post"].points == -5
    assert scenario.surveillance.sensors["cameras"].misattribution == 0.05
    assert scenario.population.size == 20_000 and scenario.run.days == 180
    ran = json.loads((run / "run.json").read_text())["scenario"]
    assert scenario.model_dump(mode="json", exclude_none=True) == ran

    with page.expect_download() as got:
        page.click("#get-zip", force=True)
    archive = tmp_path / "run.zip"
    got.value.save_as(archive)
    names = zipfile.ZipFile(archive).namelist()
    assert {"scenario.toml", "run/run.json", "run/metrics.parquet"} <= set(names)

    assert asked and all(url.startswith(explorer.url) for url in asked), set(asked)


def test_a_bad_value_shows_the_scenarios_own_message_and_runs_nothing(
    explorer: Explorer, browser: Any, tmp_path: Path
) -> None:
    page = open_page(browser, explorer.url, [])
    set_lever(page, "surveillance.sensors.cameras.misattribution", 2)
    page.click("#run")
    error = page.locator("#error")
    error.filter(has_text="misattribution").wait_for(timeout=10_000)
    text = error.inner_text()
    assert "surveillance.sensors.cameras.misattribution" in text
    assert "less than or equal to 1" in text and "Traceback" not in text
    shoot(page, "error", tmp_path)
    assert list(explorer.runs.root.glob("*/run-*")) == []


def test_two_pages_at_once_each_see_only_their_own_run(explorer: Explorer, browser: Any) -> None:
    first, second = (open_page(browser, explorer.url, []) for _ in range(2))
    for page, people in ((first, 3000), (second, 4000)):
        set_lever(page, "population.size", people)
        set_lever(page, "run.days", 30)
    first.click("#run")
    second.click("#run")  # both queued at once: two workers
    for page in (first, second):
        page.wait_for_selector("#shown", timeout=WAIT_MS)
    assert summary_value(first, "people") == "3,000"
    assert summary_value(second, "people") == "4,000"
    sessions = sorted(p.parent.parent.name for p in explorer.runs.root.glob("*/run-*/run"))
    assert len(set(sessions)) == 2  # two sessions, one run each
    assert first.locator("#status").inner_text().strip() == "run-1: done"
    assert second.locator("#status").inner_text().strip() == "run-1: done"


def test_a_scenario_file_opened_in_the_page_brings_its_own_values(
    explorer: Explorer, browser: Any, tmp_path: Path
) -> None:
    mine = tmp_path / "my-city.toml"
    mine.write_text('extends = "rongcheng"\n[rulebook.rules.negative_post]\npoints = -7\n')
    page = open_page(browser, explorer.url, [])
    page.set_input_files("#upload input", str(mine))
    lever = page.locator('[data-field="rulebook.rules.negative_post.points"] input')
    page.wait_for_function(
        "document.querySelector('[data-field=\"rulebook.rules.negative_post.points\"] input')"
        ".value === '-7'",
        timeout=10_000,
    )
    assert lever.input_value() == "-7"
    assert "my-city.toml" in page.locator("#scenario").inner_text()
