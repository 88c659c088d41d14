"""The headline figures of a run, the ones the terminal table and run.json show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scsim.engine.context import Context

MECHANISMS = {
    "speech": "posts",
    "speech_self_censored": "  of which self-censored",
    "accounts_suspended": "accounts suspended",
    "gaming_acts": "acts done for points",
    "gray_market_purchases": "gray-market purchases of points",
    "gray_market_detected": "  of which detected",
    "informant_reports": "informants' reports",
    "informant_reports_false": "  of which false",
    "grades_locked_by_points": "grades locked on being reached by points",
    "grade_rises_held": "grade rises held back (offence uncorrected)",
    "speech_judgments": "judgments for speech (each a wrong)",
    "discretionary_records": "officials' discretionary records (each a wrong)",
    "grade_appeals_filed": "appeals against a locked grade",
    "grade_appeals_won": "  of which won",
    "records_of_children_unscored": "records of children kept out of the score",
    "records_unscored": "records kept without a score (no consent)",
    "records_unwatched_majority": "records not kept: the majority watched less",
    "records_unwatched_minority": "records not kept: the minority watched less",
    "company_pressure_records": "foreign companies recorded for a political position",
    "company_pressure_yielded": "  yielded to the pressure first (no record)",
    "company_repairs": "companies that repaired their credit",
    "company_list_entries": "companies listed as entries of their own",
}
"""The mechanisms' daily counts a summary totals, and their line in the table."""


def summarize(rows: list[dict[str, Any]], model: Context, wall_seconds: float) -> dict[str, Any]:
    plan = model.rules.host_plan

    def total(column: str) -> int:
        return int(sum(row.get(column, 0) for row in rows))

    last = rows[-1] if rows else {}
    summary = {
        "people": model.params.host_pop.size,
        "days": len(rows),
        "true_events": total("true_events"),
        "records": total("records"),
        "records_false": total("records_false"),
        # a relative's or friend's record charged to someone: false for them, and not a record
        # of observe's, so "people with a false record" can exceed the false records above
        "association_charges": total("association_rows"),
        "listed_now": {name: int(last.get(f"{name}_size", 0)) for name in plan.lists},
        "listing_entries": {name: total(f"{name}_entries") for name in plan.lists},
        # people a list took in for their grade (`enter_tiers`), not on a record
        "listing_entries_by_grade": {
            name: total(f"{name}_entries_by_grade") for name in plan.lists
        },
        "blocked": {
            name: total(f"{name}_blocked")
            for v, name in enumerate(plan.services)
            if plan.service_blocked_lists[v] or plan.service_blocked_tiers[v].any()
        },
        "rewards": {
            name: total(f"{name}_rewards")
            for v, name in enumerate(plan.services)
            if plan.service_reward_tiers[v].any() or plan.service_reward_lists[v]
        },
        # what the mechanisms of the scenario did, those it has (a column no day wrote is off)
        "mechanisms": {key: total(key) for key in MECHANISMS if key in last},
        "sanctions_on_people_with_false_record": total("sanctions_on_false_record_holders"),
        "wrongful_sanctions": total("sanctions_wrongful"),
        "people_with_false_record": int(last.get("tainted_people", 0)),
        "wrongful_harms": wrongful_harms(
            {column: total(column) for column in last},
            list(plan.lists),
            [name for i, name in enumerate(plan.lists) if plan.list_publish[i]],
        ),
        "wall_seconds": round(wall_seconds, 2),
    }
    firms = model.params.host_company_plan
    if firms is not None:  # companies rated: their grades now and the sanctions they suffered
        summary["company_grades_now"] = {
            g: int(last.get(f"company_grade_{g}", 0)) for g in firms.grades
        }
        summary["company_sanctions"] = {m: total(f"company_{m}_sanctions") for m in firms.measures}
        summary["company_sanctions_wrongful"] = sum(
            total(f"company_{m}_sanctions_wrongful") for m in firms.measures
        )
        summary["representatives_restricted"] = int(last.get("representatives_restricted", 0))
        if firms.representative_list >= 0:  # list entries that are not `{list}_entries`
            listed = plan.lists[firms.representative_list]
            summary["representative_entries"] = {listed: total("representatives_listed")}
    return summary


def wrongful_harms(
    totals: Mapping[str, int], lists: Sequence[str], published: Sequence[str]
) -> dict[str, int]:
    """Every kind of harm a false record caused, counted once each, by kind, from the run's
    daily metrics summed (`totals`, column -> total): the terminal said "wrongful 0"
    (refusals) of a run whose report listed 179 wrongful officer visits. Kinds the scenario
    does not have are absent; `named publicly` (the `published` lists' wrongful entries) is a
    part of `listings`, not more.

    Keys: refusals, listings, named publicly, account suspensions, burden: NAME (a grade's
    officer visits, searches), premiums: SERVICE (loans made dearer), named: CONSEQUENCE (what
    a published listing cost: an employer told, a job lost)."""
    harms = {"refusals": int(totals.get("sanctions_wrongful", 0))}
    if lists:
        harms["listings"] = sum(int(totals.get(f"{name}_entries_wrongful", 0)) for name in lists)
    if published:
        harms["named publicly"] = sum(
            int(totals.get(f"{name}_entries_wrongful", 0)) for name in published
        )
    if "accounts_suspended_wrongful" in totals:
        harms["account suspensions"] = int(totals["accounts_suspended_wrongful"])
    for column, total in totals.items():
        if column.startswith("burden_") and column.endswith("_wrongful"):
            harms[f"burden: {column[len('burden_') : -len('_wrongful')]}"] = int(total)
        elif column.endswith("_premiums_wrongful"):
            harms[f"premiums: {column[: -len('_premiums_wrongful')]}"] = int(total)
        elif column.startswith("shamed_") and column.endswith("_wrongful"):
            harms[f"named: {column[len('shamed_') : -len('_wrongful')]}"] = int(total)
    return harms


def wrongful_total(summary: dict[str, Any]) -> int:
    """Every wrongful harm of a summary, each counted once (a public naming is part of its
    listing) and companies' wrongful sanctions with them."""
    harms = summary.get("wrongful_harms", {})
    people = sum(n for kind, n in harms.items() if kind != "named publicly")
    return people + summary.get("company_sanctions_wrongful", 0)


HARM_LABELS = {
    "refusals": "  refusals (the wrongful sanctions above)",
    "listings": "  listings",
    "named publicly": "    of which named publicly",
    "account suspensions": "  account suspensions",
}


def _harm_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The wrongful harms, one row per kind and their total first; none for a run.json
    written before they were counted."""
    harms = summary.get("wrongful_harms")
    if harms is None:
        return []
    rows = [("wrongful harms, all kinds (false records)", f"{wrongful_total(summary):,}")]
    for kind, count in harms.items():
        rows.append((HARM_LABELS.get(kind, f"  {kind.replace('_', ' ')}"), f"{count:,}"))
    if "company_sanctions_wrongful" in summary:
        rows.append(("  company sanctions", f"{summary['company_sanctions_wrongful']:,}"))
    return rows


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary as the terminal and a notebook show it: (figure, formatted value) rows."""
    false = summary["records_false"]
    records = summary["records"]
    rows = [
        ("people", f"{summary['people']:,}"),
        ("days", f"{summary['days']:,}"),
        ("true events", f"{summary['true_events']:,}"),
        ("records", f"{records:,}"),
        ("  of which false", f"{false:,} ({false / records:.2%})" if records else "0"),
    ]
    if summary.get("association_charges"):  # absent from run.json files written before it
        rows.append(("charges by association", f"{summary['association_charges']:,}"))
    for list_name, now in summary["listed_now"].items():
        entries = summary["listing_entries"][list_name]
        by_grade = summary.get("listing_entries_by_grade", {}).get(list_name, 0)
        representatives = summary.get("representative_entries", {}).get(list_name, 0)
        taken = [f"{entries:,} entries"] if entries or not (by_grade or representatives) else []
        taken += [f"{by_grade:,} by grade"] if by_grade else []
        taken += [f"{representatives:,} as companies' representatives"] if representatives else []
        rows.append((f"listed now: {list_name}", f"{now:,} ({', '.join(taken)})"))
    for service, blocked in summary["blocked"].items():
        rows.append((f"blocked {service} requests", f"{blocked:,}"))
    for service, granted in summary.get("rewards", {}).items():
        rows.append((f"rewards granted: {service}", f"{granted:,}"))
    for key, count in summary.get("mechanisms", {}).items():
        rows.append((MECHANISMS[key], f"{count:,}"))
    rows += _company_rows(summary)
    rows += [
        (
            "sanctions on people with a false record",
            f"{summary['sanctions_on_people_with_false_record']:,}",
        ),
        ("  of which wrongful (caused by a false record)", f"{summary['wrongful_sanctions']:,}"),
        (
            "people with a false record (own or by association)",
            f"{summary['people_with_false_record']:,}",
        ),
    ]
    rows += _harm_rows(summary)
    rows.append(("wall time", f"{summary['wall_seconds']:.1f} s"))
    return rows


def _company_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    if "company_grades_now" not in summary:
        return []
    grades = ", ".join(f"{g} {n:,}" for g, n in summary["company_grades_now"].items())
    sanctions = sum(summary["company_sanctions"].values())
    return [
        ("companies by grade now", grades),
        ("sanctions on companies", f"{sanctions:,}"),
        (
            "  of which wrongful (caused by a false record)",
            f"{summary['company_sanctions_wrongful']:,}",
        ),
        ("representatives restricted now", f"{summary['representatives_restricted']:,}"),
    ]
