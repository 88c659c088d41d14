"""What happened in a run, in words: the report's first section, before any plot.

A journalist or a teacher reads the first paragraph and stops. So it says, with the run's own
figures: how many people and for how long, what the rulebook did (records, grades, listings,
refusals, rewards), what every other mechanism that ran did, and how many were harmed wrongly
and by which mechanism. Every figure is the run's daily metrics summed (a flow) or read on its
last day (a stock), as the terminal's summary counts them.

    >>> paragraphs, mechanisms = run_story(open_run("runs/rongcheng"))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from scsim.audit.run import AuditRun
from scsim.audit.wrongful import wrongful_by_mechanism
from scsim.simulation.summary import wrongful_harms


@dataclass(frozen=True)
class Mechanism:
    """A mechanism's daily count, its words, and the part of it worth naming (its wrongful
    share, or the detected or false ones)."""

    column: str
    label: str
    part: str | None = None
    part_label: str = ""


FIXED_MECHANISMS = (
    Mechanism("speech", "critical posts spoken", "speech_self_censored", "more held back"),
    Mechanism("posts_silenced", "posts silenced on suspended accounts"),
    Mechanism(
        "accounts_suspended", "accounts suspended", "accounts_suspended_wrongful", "wrongful"
    ),
    Mechanism("gaming_acts", "acts done for the points (gaming)"),
    Mechanism(
        "gray_market_purchases",
        "purchases of points on the gray market",
        "gray_market_detected",
        "detected",
    ),
    Mechanism("informant_reports", "informants' reports", "informant_reports_false", "false"),
    Mechanism("informant_rewards", "informants rewarded"),
    Mechanism("offences_deterred_by_friends", "offences deterred by friends' sanctions"),
    Mechanism("grades_locked_by_points", "grades locked on being reached by points"),
    Mechanism("grade_rises_held", "grade rises held back while an offence is uncorrected"),
    Mechanism("speech_judgments", "court judgments for speech (each a wrong)"),
    Mechanism("discretionary_records", "officials' records at their discretion (each a wrong)"),
    Mechanism("records_of_children_unscored", "records of children kept out of the score"),
    Mechanism("records_unscored", "records kept without a score: no consent to be scored"),
    Mechanism("records_unwatched_majority", "records of the majority not kept (watched less)"),
    Mechanism("records_unwatched_minority", "records of the minority not kept (watched less)"),
    Mechanism(
        "company_pressure_records",
        "foreign companies recorded for a political position",
        "company_pressure_yielded",
        "more yielded first",
    ),
    Mechanism("company_repairs", "companies that repaired their credit"),
    Mechanism(
        "company_list_entries",
        "companies listed as entries of their own",
        "company_list_entries_wrongful",
        "wrongful",
    ),
    Mechanism(
        "grade_appeals_filed",
        "appeals against a locked grade",
        "grade_appeals_won",
        "won",
    ),
)


def mechanisms(audit: AuditRun, metrics: pd.DataFrame) -> list[Mechanism]:
    """Every mechanism that ran: its daily column is in the metrics (a mechanism that is off
    writes none), the fixed ones first, then a grade's burdens, premiums, household refusals,
    sensors over capacity and the lists that publish names."""
    found = [m for m in FIXED_MECHANISMS if m.column in metrics]
    found += list(_named_mechanisms(audit, metrics))
    return found


def _named_mechanisms(audit: AuditRun, metrics: pd.DataFrame) -> Iterator[Mechanism]:
    for column in metrics.columns:
        if column.startswith("burden_") and not column.endswith("_wrongful"):
            name = column.removeprefix("burden_").replace("_", " ")
            yield Mechanism(
                column, f"grade burdens of kind {name}", f"{column}_wrongful", "wrongful"
            )
        elif column.endswith("_premiums"):
            service = column.removesuffix("_premiums")
            yield Mechanism(
                column, f"{service} made dearer (premiums)", f"{column}_wrongful", "wrongful"
            )
        elif column.startswith("shamed_") and not column.endswith("_wrongful"):
            name = column.removeprefix("shamed_").replace("_", " ")
            yield Mechanism(
                column, f"named on a list, then: {name}", f"{column}_wrongful", "wrongful"
            )
        elif column.endswith("_children_reached"):
            service = column.removesuffix("_children_reached")
            yield Mechanism(column, f"children reached by refusals of {service}")
        elif column.endswith("_household_blocked"):
            service = column.removesuffix("_household_blocked")
            yield Mechanism(column, f"{service} refused for a household member's listing")
        elif column.endswith("_over_capacity"):
            sensor = column.removesuffix("_over_capacity")
            yield Mechanism(column, f"{sensor}: events past the daily capacity, not recorded")
    for name in audit.scenario.licences:
        if f"{name}_deductions" in metrics:
            yield Mechanism(
                f"{name}_deductions",
                f"{name} licence: points deducted from holders",
                f"{name}_deductions_wrongful",
                "on false records",
            )
            yield Mechanism(
                f"{name}_revoked",
                f"{name} licence: revoked at zero points",
                f"{name}_revoked_wrongful",
                "wrongful",
            )
            yield Mechanism(f"{name}_reinstated", f"{name} licence: given back after the test")
    for name, rule in audit.scenario.rulebook.lists.items():
        if rule.publish and f"{name}_published" in metrics:
            yield Mechanism(
                f"{name}_published",
                f"{name}: names published",
                f"{name}_entries_wrongful",
                "on false records",
            )


def mechanism_lines(found: list[Mechanism], metrics: pd.DataFrame) -> list[str]:
    """One line per mechanism: its total over the run, and its named part."""
    lines = []
    for mechanism in found:
        line = f"{_count(metrics[mechanism.column].sum())} {mechanism.label}"
        if mechanism.part is not None and mechanism.part in metrics:
            line += f" ({_count(metrics[mechanism.part].sum())} {mechanism.part_label})"
        lines.append(line)
    return lines


def run_story(audit: AuditRun) -> tuple[list[str], list[str]]:
    """The report's opening: paragraphs in words, and one line per mechanism that ran."""
    metrics = audit.sql("select * from metrics order by day").df()
    paragraphs = [_who(audit, metrics), _rulebook(audit, metrics), _harmed(audit, metrics)]
    return [p for p in paragraphs if p], mechanism_lines(mechanisms(audit, metrics), metrics)


def _who(audit: AuditRun, metrics: pd.DataFrame) -> str:
    scenario = audit.scenario
    regions = len(scenario.population.regions)
    where = "one region" if regions == 1 else f"{regions} regions"
    when = f"{audit.days:,} days"
    dates = audit.dates([0, audit.days - 1])
    if dates is not None:
        when += f", {dates[0]} to {dates[1]}"
    return (
        f"This run followed {audit.size:,} synthetic people in {where} for {when}, under the "
        f"scenario {scenario.name} (seed {scenario.run.seed}). In that time they did "
        f"{_count(metrics.true_events.sum())} acts the rulebook counts; most were never seen."
    )


def _rulebook(audit: AuditRun, metrics: pd.DataFrame) -> str:
    """Records, grades, listings, refusals and rewards: what the rulebook did, in order."""
    last = metrics.iloc[-1]
    false = int(metrics.records_false.sum())
    said = [
        f"The system recorded {_count(metrics.records.sum())} of them against people; "
        f"{_count(false)} of its records were false "
        f"({_count(metrics.get('records_misidentified', pd.Series([0])).sum())} misidentified, "
        f"{_count(metrics.get('records_false_match', pd.Series([0])).sum())} false matches)"
        + _association(metrics)
        + "."
    ]
    if len(audit.tiers) > 1:
        grades = ", ".join(
            f"{tier} {_count(last[f'tier_{tier}'])} ({last[f'tier_{tier}'] / audit.size:.1%})"
            for tier in audit.tiers
        )
        said.append(f"At the end, people by grade: {grades}.")
    said += _lists(audit, metrics, last)
    said += _services(audit, metrics)
    said += _companies(audit, metrics, last)
    return " ".join(said)


def _companies(audit: AuditRun, metrics: pd.DataFrame, last: pd.Series) -> list[str]:
    firms = audit.scenario.companies
    if firms is None:
        return []
    grades = ", ".join(f"{g} {_count(last[f'company_grade_{g}'])}" for g in firms.grades)
    sanctions = sum(int(metrics[f"company_{m}_sanctions"].sum()) for m in firms.measures)
    wrongful = sum(int(metrics[f"company_{m}_sanctions_wrongful"].sum()) for m in firms.measures)
    return [
        f"Companies by grade at the end: {grades}; {_count(sanctions)} sanctions on companies, "
        f"{_count(wrongful)} of them wrongful."
    ]


def _association(metrics: pd.DataFrame) -> str:
    charged = int(metrics.get("association_rows", pd.Series([0])).sum())
    return f", and {_count(charged)} deductions charged to relatives or friends" if charged else ""


def _lists(audit: AuditRun, metrics: pd.DataFrame, last: pd.Series) -> list[str]:
    if not audit.lists:
        return []
    parts = []
    for name in audit.lists:
        entries = int(metrics[f"{name}_entries"].sum())
        graded = f"{name}_entries_by_grade"
        by_grade = int(metrics[graded].sum()) if graded in metrics else 0
        taken = f"{_count(entries)} entries" + (
            f" and {_count(by_grade)} by grade" if by_grade else ""
        )
        parts.append(f"{name} {taken}, {_count(last[f'{name}_size'])} listed at the end")
    return [f"Lists: {'; '.join(parts)}."]


def _services(audit: AuditRun, metrics: pd.DataFrame) -> list[str]:
    said = []
    refused = {s: int(metrics[f"{s}_blocked"].sum()) for s in audit.restricted_services}
    if refused:
        each = ", ".join(f"{s} {_count(n)}" for s, n in refused.items())
        said.append(f"Services refused {_count(sum(refused.values()))} requests ({each}).")
    rewarded = {s: int(metrics[f"{s}_rewards"].sum()) for s in audit.rewarding_services}
    if rewarded:
        each = ", ".join(f"{s} {_count(n)}" for s, n in rewarded.items())
        said.append(f"They granted {_count(sum(rewarded.values()))} rewards ({each}).")
    return said


def harms(audit: AuditRun, metrics: pd.DataFrame) -> dict[str, int]:
    """The run's wrongful harms by kind, as the terminal's summary counts them
    (`scsim.simulation.summary.wrongful_harms`), with companies' wrongful sanctions."""
    counts = metrics.select_dtypes("number").drop(columns="day")  # a dated run has `date`
    totals = {column: int(total) for column, total in counts.sum().items()}
    published = [n for n, rule in audit.scenario.rulebook.lists.items() if rule.publish]
    found = wrongful_harms(totals, list(audit.lists), published)
    firms = audit.scenario.companies
    if firms is not None:
        found["company sanctions"] = sum(
            totals[f"company_{m}_sanctions_wrongful"] for m in firms.measures
        )
    return found


def harms_total(found: dict[str, int]) -> int:
    """Every harm once: a public naming is part of its listing."""
    return sum(n for kind, n in found.items() if kind != "named publicly")


def _harmed(audit: AuditRun, metrics: pd.DataFrame) -> str:
    """How many were harmed wrongly, of what kind, and by which mechanism of false record."""
    found = harms(audit, metrics)
    total = harms_total(found)
    kinds = ", ".join(f"{kind.replace('_', ' ')} {_count(n)}" for kind, n in found.items() if n)
    holders = int(metrics.sanctions_on_false_record_holders.sum())
    said = f"Harmed wrongly, each time because of a false record: {_count(total)} harms" + (
        f" ({kinds})." if total else "."
    )
    if found["refusals"]:
        daily = wrongful_by_mechanism(audit)
        by = daily.groupby("mechanism", sort=False).sanctions.sum()
        said += (
            " The wrongful refusals by the mechanism of the first false record: "
            + ", ".join(f"{m} {_count(n)}" for m, n in by.items() if n)
            + "."
        )
    if holders:
        said += (
            f" Of the requests refused, {_count(holders)} were refused to people with a false "
            f"record in their history, {_count(found['refusals'])} of them because of it; the "
            "others for true records of their own."
        )
    return said


def _count(value: float) -> str:
    return f"{int(value):,}"
