"""MkDocs hook: the built-in scenarios page, generated from the scenario files at every build.

Each built-in's file is its own documentation: every value has a comment with its source or
an [U] mark. The page shows each one's reading (description, sources, what it switches on)
and the file itself, comments and all, so the page and the files cannot disagree.
"""

from __future__ import annotations

from typing import Any

PAGE = "scenarios.md"
INTRO = """# Built-in scenarios

Each built-in is one reading of the public record (see [sources](sources.md)), in a scenario
file whose comments give the source of every value: `[P]` an official text or figure, `[S]`
the press or a secondary source, `[U]` an assumption of ours, free to override or to fit.
`scsim scenarios` lists them; `scsim show NAME` prints one as TOML to edit. Every field is
described in the [scenario reference](reference/scenario.md); what each mechanism does is on
the [mechanisms](mechanisms.md) page. This page is generated from the files when the site is
built.
"""


def _sensors(scenario: Any) -> list[Any]:
    return list(scenario.surveillance.sensors.values())


def _lists(scenario: Any) -> list[Any]:
    return list(scenario.rulebook.lists.values())


def _services(scenario: Any) -> list[Any]:
    return list(scenario.rulebook.services.values())


def _firms(scenario: Any, probe: Any) -> bool:
    return scenario.companies is not None and bool(probe(scenario.companies))


MECHANISMS = (
    ("income bands", lambda s: bool(s.population.income)),
    ("gray market", lambda s: s.behaviour.gray_market.per_year > 0),
    ("gaming", lambda s: s.behaviour.gaming.per_year > 0),
    ("self-censorship", lambda s: bool(s.behaviour.self_censorship.events)),
    ("deterrence by friends' sanctions", lambda s: s.behaviour.deterrence.friends > 0),
    ("informants", lambda s: any(x.informants for x in _sensors(s))),
    ("account suspension", lambda s: any(x.suspension > 0 for x in _sensors(s))),
    ("coverage by region", lambda s: any(x.coverage_by_region for x in _sensors(s))),
    ("daily capacity", lambda s: any(x.daily_capacity_per_million for x in _sensors(s))),
    ("grade burdens", lambda s: any(t.burdens for t in s.rulebook.tiers.values())),
    ("households refused", lambda s: any(x.household_lists for x in _services(s))),
    ("premiums", lambda s: any(x.premium_tiers for x in _services(s))),
    ("lists entered by grade", lambda s: any(x.enter_tiers for x in _lists(s))),
    ("published lists", lambda s: any(x.publish for x in _lists(s))),
    ("appeals", lambda s: any(x.appeal_share_rightly + x.appeal_share_wrongly for x in _lists(s))),
    ("restrictions kept", lambda s: any(x.restriction_kept > 0 for x in _lists(s))),
    ("the court list's reforms after 2019", lambda s: _reformed(s)),
    ("what being named costs", lambda s: any(x.publish_consequences for x in _lists(s))),
    ("judgments for speech", lambda s: any(x.judges_speech for x in _sensors(s))),
    ("officials' discretion", lambda s: any(x.discretion for x in _sensors(s))),
    ("appeals against a grade", lambda s: s.rulebook.grade_appeals is not None),
    ("ethnic groups", lambda s: any(r.minority_share > 0 for r in s.population.regions.values())),
    ("surveillance by group", lambda s: any(x.coverage_by_group for x in _sensors(s))),
    ("age", lambda s: any(r.children_share > 0 for r in s.population.regions.values())),
    ("adults-only scoring", lambda s: s.rulebook.adults_only),
    ("refusals that reach children", lambda s: any(x.reaches_children for x in _services(s))),
    ("licence points (a dog owner's)", lambda s: bool(s.licences)),
    (
        "foreign firms under pressure",
        lambda s: _firms(s, lambda c: any(e.foreign_only for e in c.events.values())),
    ),
    ("credit repair", lambda s: _firms(s, lambda c: c.repair_per_year > 0)),
    ("companies on the list", lambda s: _firms(s, lambda c: c.list_companies)),
    ("dated rule changes", lambda s: bool(s.rulebook.changes)),
    ("consent to be scored in a place", lambda s: bool(_consent(s))),
    ("companies", lambda s: s.companies is not None),
    ("calibration targets", lambda s: s.calibration is not None),
)


def _consent(scenario: Any) -> tuple[str, ...]:
    from scsim.scenario.schema.places import asks_consent

    return asks_consent(scenario)


def _reformed(scenario: Any) -> bool:
    """Whether some version of the rulebook (a dated change too) uses a reform or orders."""
    from scsim.engine.components.reforms import Reforms

    return Reforms.of(scenario) is not None


def _switched_on(scenario: Any) -> list[str]:
    """The optional mechanisms a scenario uses (the mechanisms page says what each does)."""
    return [label for label, probe in MECHANISMS if probe(scenario)]


def _facts(scenario: Any) -> list[str]:
    population = scenario.population
    rulebook = scenario.rulebook
    return [
        f"{population.size:,} people in {len(population.regions)} region(s), "
        f"{scenario.run.days} days by default",
        f"score {rulebook.scale.min} to {rulebook.scale.max}, everyone starting at "
        f"{rulebook.base}; grades {', '.join(rulebook.tiers)}",
        f"{len(rulebook.rules)} rules, lists: {', '.join(rulebook.lists) or 'none'}; "
        f"services: {', '.join(rulebook.services) or 'none'}",
        "optional mechanisms: " + (", ".join(_switched_on(scenario)) or "none"),
    ]


def scenario_markdown(name: str) -> str:
    """One built-in: its reading, its sources, its shape and its file."""
    from scsim.scenario import load_scenario
    from scsim.scenario.loader import builtin_path

    scenario = load_scenario(name)
    text = builtin_path(name).read_text(encoding="utf-8")
    lines = [f"## `{name}`", "", scenario.description, ""]
    lines += [f"- {fact}" for fact in _facts(scenario)]
    if scenario.sources:
        lines += ["", "Sources:", ""] + [f"- {source}" for source in scenario.sources]
    lines += ["", f'??? note "{name}.toml"', "", "    ```toml"]
    lines += [f"    {line}".rstrip() for line in text.splitlines()]
    lines += ["    ```", ""]
    return "\n".join(lines)


def scenarios_markdown() -> str:
    from scsim.scenario.loader import builtin_names

    return "\n".join([INTRO, *(scenario_markdown(name) for name in builtin_names())])


def on_files(files: Any, config: Any) -> Any:
    """Add the generated page to the site's files (nothing is written into docs/)."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=scenarios_markdown()))
    return files
