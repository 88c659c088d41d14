"""The report's section on rewards beside punishments: per grade or list that decided, and per
group of people (`scsim.audit.balance` counts; this writes two tables that fit the page)."""

from __future__ import annotations

import pandas as pd

from scsim.audit.balance import balance, balance_by_cause
from scsim.audit.run import AuditRun
from scsim.report.page import Page, table_html


def balance_section(page: Page, audit: AuditRun) -> None:
    """Rewards granted beside punishments imposed, where the scenario rewards anyone."""
    if not audit.rewarding_services:
        return
    page.heading("Rewards and punishments")
    causes = balance_by_cause(audit)
    causes = causes[(causes.drop(columns=["cause", "kind"]) != 0).any(axis=1)]
    page.raw(
        table_html(
            pd.DataFrame(
                {
                    "grade or list": causes.cause,
                    "is a": causes.kind,
                    "rewards granted": causes.rewards,
                    "of which unearned": causes.unearned_rewards,
                    "requests refused": causes.refusals,
                    "burdens imposed": causes.burdens,
                }
            )
        )
    )
    page.note(
        "What each grade and list did over the run: requests granted with a reward (a rewarded "
        "grade's, or a redlist's green channel), requests refused and burdens imposed (visits, "
        "searches, premiums) in its name. An unearned reward rests on a false record."
    )
    frames = [balance(audit, by).assign(dimension=by or "all") for by in (None, *audit.dimensions)]
    groups = pd.concat(frames, ignore_index=True)
    page.raw(
        table_html(
            pd.DataFrame(
                {
                    "dimension": groups.dimension,
                    "group": groups.group,
                    "people": groups.people,
                    "rewards per 1,000": groups.rewards_per_person * 1000,
                    "people rewarded per 1,000": groups.rewarded_share * 1000,
                    "punishments per 1,000": groups.punishments_per_person * 1000,
                    "people punished per 1,000": groups.punished_share * 1000,
                }
            )
        )
    )
    page.note(
        "Per group of people: rewards granted, and punishments imposed (requests refused and "
        "burdens suffered), per 1,000 people over the run, and the share of people who had at "
        "least one of each."
    )
