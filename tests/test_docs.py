"""The repository stands on its own, and its generated documentation covers what it claims to.

The site itself is built by `mkdocs build --strict` in CI (.ci/run); these tests pin the parts
that need no MkDocs: nothing cites the team's notes outside the repository, and the pages the
hooks generate cover every field of the schema and every built-in scenario.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

import scsim
from scsim.scenario.loader import builtin_names, builtin_path
from scsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
NOTES = "shared" + "/"  # spelt in two so that this file does not cite them itself
CHECKED = ["README.md", "docs", "src", "examples", "benchmarks", "tests"]


def _hook(name: str) -> ModuleType:
    path = ROOT / "docs" / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_repository_cites_nothing_a_user_of_it_does_not_have() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    found = subprocess.run(
        ["git", "grep", "-n", NOTES, "--", *CHECKED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode in (0, 1), found.stderr
    assert found.stdout == ""


def _sections(markdown: str) -> dict[str, str]:
    """The reference's sections by anchor: `## ... {#anchor}` up to the next heading."""
    parts = re.split(r"^## .*\{#([a-z-]+)\}$", markdown, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_scenario_reference_has_a_row_for_every_field_of_every_section() -> None:
    hook = _hook("scenario_reference")
    schema = Scenario.model_json_schema()
    sections = _sections(hook.reference_markdown())
    expected = {"top-level": schema, **{n.lower(): d for n, d in schema["$defs"].items()}}
    assert set(sections) == set(expected)
    for anchor, node in expected.items():
        for field in node.get("properties", {}):
            assert f"| `{field}` |" in sections[anchor], f"{anchor}.{field}"


def test_every_field_of_the_scenario_reference_says_what_it_means() -> None:
    rows = [
        line
        for line in _hook("scenario_reference").reference_markdown().splitlines()
        if line.startswith("| `")
    ]
    unexplained = [row.split("|")[1].strip() for row in rows if row.rstrip().endswith("|  |")]
    assert rows and unexplained == []


def test_scenario_reference_gives_defaults_and_bounds_as_the_schema_does() -> None:
    sections = _sections(_hook("scenario_reference").reference_markdown())
    misattribution = next(
        line for line in sections["sensor"].splitlines() if line.startswith("| `misattribution`")
    )
    assert "| number | 0 | ≥ 0; ≤ 1 |" in misattribution
    assert "charged to another person" in misattribution
    size = next(line for line in sections["population"].splitlines() if "| `size` |" in line)
    assert "| required | ≥ 1; ≤ 4,000,000,000 |" in size


def test_builtins_page_shows_every_builtin_file_with_its_comments() -> None:
    page = _hook("builtin_scenarios").scenarios_markdown()
    for name in builtin_names():
        assert f"## `{name}`" in page
        comments = [
            line.strip()
            for line in builtin_path(name).read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        ]
        assert comments and all(comment in page for comment in comments), name


def test_api_reference_documents_every_public_name() -> None:
    page = (ROOT / "docs" / "reference" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: scsim\.(\w+)$", page, flags=re.MULTILINE))
    public = set(scsim.__all__) - {"__version__"}
    assert public - documented == set()
