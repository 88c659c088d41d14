"""Fairness: who is sanctioned, how often, and how wrongly, group by group.

Disparate impact compares each group's sanction rate (requests refused per person over the
run) with the lowest group's of the same dimension. The four-fifths rule of US employment
practice, turned to an adverse outcome: a dimension is flagged when the lowest rate over the
highest is below 0.8, and a group is flagged when the lowest rate over its own is (so the
highest group of a flagged dimension is always flagged). The flag is computed in integers,
exactly: 8 refusals per 100 beside 10 per 100 is 0.8, not a hair below.

Small groups do not make false alarms. A listed person is refused again and again, so the
independent events are the people refused, not the refusals (about 6 refusals each in
rongcheng). A group is too small to be the reference (the lowest rate) when, at the
population's overall share refused, it would expect fewer than `MIN_EXPECTED` people refused:
a zero there is chance, and made every other region "infinitely worse" (Tibet's 518 people
in a run of 200,000). Such a group is reported, with its rate, and `too_small` says so. Each
ratio to the reference comes with a 95% interval, the exact conditional test for two Poisson
rates (given both groups' counts, the first's is binomial; Clopper-Pearson bounds) on the
counts divided by the mean refusals per person refused; `four_fifths_clear` keeps the flags
whose whole interval is past four fifths.

    >>> fairness("runs/rongcheng")                 # every dimension, one row per group
    >>> disparate_impact(result, by="area")
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pandas as pd

from scsim.audit.inequality import gini_by_group, refusal_histogram
from scsim.audit.outcomes import per_cell
from scsim.audit.run import AuditRun, open_run
from scsim.audit.wrongful import wrongful_counts, wrongly_listed_counts

FOUR_FIFTHS = Fraction(4, 5)
MIN_EXPECTED = 10
"""People refused a group must expect, at the overall share, to be the reference: below it,
a zero is too likely by chance (e^-3 at 3, one in 20; e^-10 at 10, one in 22,000)."""


def disparate_impact(
    run: Any, by: str | None = "class", min_expected: float = MIN_EXPECTED
) -> pd.DataFrame:
    """Sanction rates per group and their ratio to the reference: the lowest rate among the
    groups large enough to expect `min_expected` people refused at the overall share.

    Columns: group, people, sanctions (requests refused), sanctioned (distinct people refused),
    sanction_rate (sanctions per person), too_small (not eligible as the reference),
    reference (this group is it), ratio_to_lowest (the rate over the reference's: inf beside a
    reference never sanctioned), ratio_low and ratio_high (its exact 95% interval),
    impact_ratio (the reference's rate over this group's, 1 where both are 0), four_fifths
    (impact_ratio < 0.8: flagged), four_fifths_clear (flagged, and the interval's end nearest
    4/5 is past it too: not chance). No group large enough: no reference, ratios NaN, no flag.
    """
    audit = open_run(run)
    return _impact(audit, refusal_histogram(audit), by, min_expected)


def too_small(table: pd.DataFrame, min_expected: float = MIN_EXPECTED) -> int:
    """The fewest people a group needs to serve as the reference (see `disparate_impact`):
    `min_expected` people refused at the overall share refused of the table's groups; 0
    where nobody was refused (no rate, no flag)."""
    refused, people = int(table.sanctioned.sum()), int(table.people.sum())
    return math.ceil(min_expected * people / refused) if refused else 0


def fairness(run: Any, min_expected: float = MIN_EXPECTED) -> pd.DataFrame:
    """The fairness table: every grouping (all, region, area, class, and income where the
    scenario has income bands), one row per group.

    Columns: dimension, group, people, sanctions, sanctioned, sanction_rate, too_small,
    reference, ratio_to_lowest, ratio_low, ratio_high, impact_ratio, four_fifths,
    four_fifths_clear (see `disparate_impact`); wrongful_sanctions (refusals whose
    cause holds a false record: ledger truth false), wrongful_rate (per person);
    wrongful_listings and
    days_wrongly_listed (listings of people with a false record and the days they lasted,
    see `wrongly_listed`); refusal_gini (Gini of refusals per person, see `refusal_gini`: near
    1 wherever few are refused, so it says little beside refused_share, the share of the group
    refused at least once, and refusals_per_refused, how often each of them was refused);
    burdens and wrongful_burdens (burdens suffered: suspensions, a grade's visits and
    searches, premiums; the wrongful ones rest on false records), where the run has any;
    rewards, reward_rate (per person) and unearned_rewards (requests granted with a reward,
    beside the sanctions: `scsim.audit.balance`), where the run has any.

    Every count is made inside DuckDB per cell (a row of `AuditRun.strata`), then summed per
    group here: a national ledger is read for the rewards, refusals and burdens once
    (`scsim.audit.outcomes`, shared with the balance), for the wrongful sanctions and listings
    once each (kept for the run), not per measure or group.
    """
    audit = open_run(run)
    histogram = refusal_histogram(audit)
    wrongful = wrongful_counts(audit, ("cell",))
    listed = wrongly_listed_counts(audit, ("cell",))
    burdens = _burdens(audit)
    rewards = _rewards(audit)
    frames = []
    for by in ("all", *audit.dimensions):
        table = _impact(audit, histogram, by, min_expected)
        groups = table.group
        table["wrongful_sanctions"] = audit.by_cell(wrongful, by).sanctions[groups].to_numpy()
        table["wrongful_rate"] = table.wrongful_sanctions / table.people
        spells = audit.by_cell(listed, by).loc[groups]
        table["wrongful_listings"] = spells.listings.to_numpy()
        table["days_wrongly_listed"] = spells.days.to_numpy()
        gini = gini_by_group(audit, histogram, by).set_index("group").gini
        table["refusal_gini"] = gini[groups].to_numpy()
        table["refused_share"] = table.sanctioned / table.people
        table["refusals_per_refused"] = table.sanctions / table.sanctioned.where(
            table.sanctioned > 0
        )
        if burdens.burdens.sum():
            suffered = audit.by_cell(burdens, by).loc[groups]
            table["burdens"] = suffered.burdens.to_numpy()
            table["wrongful_burdens"] = suffered.wrongful.to_numpy()
        if rewards.rewards.sum():
            granted = audit.by_cell(rewards, by).loc[groups]
            table["rewards"] = granted.rewards.to_numpy()
            table["reward_rate"] = table.rewards / table.people
            table["unearned_rewards"] = granted.unearned.to_numpy()
        frames.append(table.assign(dimension=by))
    columns = ["dimension", *frames[0].columns.drop("dimension")]
    return pd.concat(frames, ignore_index=True)[columns]


def _impact(
    audit: AuditRun, histogram: pd.DataFrame, by: str | None, min_expected: float
) -> pd.DataFrame:
    """`disparate_impact` from a `refusal_histogram`."""
    counts = histogram.assign(sanctions=histogram.refusals * histogram.people)
    counts = counts[["cell", "sanctions", "people"]].rename(columns={"people": "sanctioned"})
    table = audit.groups(by).join(audit.by_cell(counts, by), on="group")
    table = table[table.people > 0].reset_index(drop=True)  # an empty stratum has no rate
    rates = [Fraction(int(s), int(p)) for s, p in zip(table.sanctions, table.people, strict=True)]
    table["sanction_rate"] = [float(r) for r in rates]
    table["too_small"] = table.people < too_small(table, min_expected)
    eligible = [i for i in range(len(rates)) if not table.too_small[i]]
    if not eligible:
        return _without_reference(table)
    ref = min(eligible, key=lambda i: rates[i])
    lowest = rates[ref]
    impact = [lowest / r if r else Fraction(1) for r in rates]
    table["reference"] = table.index == ref
    table["ratio_to_lowest"] = [_ratio(r, lowest) for r in rates]
    bounds = [_ratio_interval(table, i, ref) for i in range(len(rates))]
    table["ratio_low"] = [b[0] for b in bounds]
    table["ratio_high"] = [b[1] for b in bounds]
    table["impact_ratio"] = [float(i) for i in impact]
    table["four_fifths"] = [i < FOUR_FIFTHS for i in impact]
    table["four_fifths_clear"] = table.four_fifths & (table.ratio_low > 1 / float(FOUR_FIFTHS))
    return table


def _without_reference(table: pd.DataFrame) -> pd.DataFrame:
    """No group is large enough to compare against: every rate stands alone."""
    nan = float("nan")
    return table.assign(
        reference=False,
        ratio_to_lowest=nan,
        ratio_low=nan,
        ratio_high=nan,
        impact_ratio=nan,
        four_fifths=False,
        four_fifths_clear=False,
    )


def _ratio_interval(table: pd.DataFrame, group: int, ref: int) -> tuple[float, float]:
    """95% interval of group's rate over the reference's: given n = x + y sanctions of the
    two, x is binomial with p = r t / (r t + t_ref), r the rate ratio, t the people
    (Clopper-Pearson bounds on p, mapped to r), the counts divided by the refusals per person
    refused (repeats are not independent). NaN for the reference itself or where neither
    was sanctioned."""
    from scipy.stats import beta  # 60 MB and 0.8 s at `import scsim`: only where asked

    repeats = max(1.0, float(table.sanctions.sum()) / max(1, int(table.sanctioned.sum())))
    x, y = table.sanctions[group] / repeats, table.sanctions[ref] / repeats
    if group == ref or x + y == 0:
        return float("nan"), float("nan")
    n = x + y
    p_low = beta.ppf(0.025, x, n - x + 1) if x else 0.0
    p_high = beta.ppf(0.975, x + 1, n - x) if x < n else 1.0
    scale = float(table.people[ref]) / float(table.people[group])
    return _odds(p_low) * scale, _odds(p_high) * scale


def _odds(p: float) -> float:
    return p / (1 - p) if p < 1 else math.inf


def _burdens(audit: AuditRun) -> pd.DataFrame:
    """Burdens suffered and the wrongful ones, per cell. Columns: cell, burdens, wrongful."""
    return audit.sql(per_cell(audit, {"burdens": "burdens", "wrongful": "wrongful_burdens"})).df()


def _rewards(audit: AuditRun) -> pd.DataFrame:
    """Rewards granted and the unearned ones, per cell. Columns: cell, rewards, unearned."""
    return audit.sql(per_cell(audit, {"rewards": "rewards", "unearned": "unearned"})).df()


def _ratio(rate: Fraction, lowest: Fraction) -> float:
    if lowest:
        return float(rate / lowest)
    return 1.0 if rate == 0 else float("inf")
