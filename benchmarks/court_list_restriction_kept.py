"""Can a mechanism replace the court list's 2018 flight rate? The restriction not lifted.

    python benchmarks/court_list_restriction_kept.py                        # ~15 min at 1:100
    python benchmarks/court_list_restriction_kept.py --population 1409778   # 1:1,000, ~8 min
    python benchmarks/court_list_restriction_kept.py --population 1409778 --with-2018-rate \
        --share 0.1 --term 365                                              # both free

The built-in `court-list-history` needs a flight booking rate of its own in 2018 (a curve fit,
docs/validation.md): the record's refused flights per month double while the list stops
growing. docs/sources.md names one mechanism that would make refusals grow faster than the list: the
spending restriction is not always lifted when the listing ends [S]. This script puts it in
(`restriction_kept` of both court-list parts, onto a list that the flight, rail, hotel and
school restrictions heed for its term), resets the 2018 flight rate to the earlier one, frees
the share kept and the term, refines every free value on the whole record (`scsim calibrate
--refine`) and prints the table over `--table-seeds` seeds: whether 2018's refused flights come
out of the mechanism. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse

from refit import refine_and_tabulate
from rich.console import Console

from scsim.scenario import load_scenario

KEPT_ON = "restriction_not_lifted"
PARTS = ("court_list_until_performed", "court_list")
RESTRICTIONS = ("flight", "train", "star_hotel", "private_school_fees")


def with_restriction_kept(  # type: ignore[no-untyped-def]
    population: int | None, share: float, term: int, rate_2018: bool = False
):
    """court-list-history with the restriction not lifted, free, and no 2018 flight rate
    (`rate_2018`: the 2018 rate kept, and free, beside it)."""
    built = load_scenario("court-list-history")
    book = built.rulebook
    overrides: dict[str, object] = {
        f"rulebook.lists.{KEPT_ON}": {"kind": "black", "term_days": term},
        **{f"rulebook.lists.{part}.restriction_kept": share for part in PARTS},
        **{f"rulebook.lists.{part}.restriction_kept_on": KEPT_ON for part in PARTS},
    }
    for name in RESTRICTIONS:  # the services the spending restriction covers, from the start
        if book.services[name].blocked_lists:
            blocked = [*book.services[name].blocked_lists, KEPT_ON]
            overrides[f"rulebook.services.{name}.blocked_lists"] = blocked
    rate = book.services["flight"].per_year
    for i, change in enumerate(book.changes):  # interception switched on later, and 2018's rate
        for name, fields in change.services.items():
            if name in RESTRICTIONS and fields.get("blocked_lists"):
                blocked = [*fields["blocked_lists"], KEPT_ON]
                overrides[f"rulebook.changes.{i}.services.{name}.blocked_lists"] = blocked
        dated_2018 = change.date is not None and change.date.year == 2018
        if dated_2018 and "per_year" in change.services.get("flight", {}) and not rate_2018:
            overrides[f"rulebook.changes.{i}.services.flight.per_year"] = rate
    free = [
        p.model_dump(exclude_none=True)
        for p in built.calibration.free
        if rate_2018
        or not any(".changes." in t and t.endswith("flight.per_year") for t in p.targets)
    ]
    free += [
        {
            "paths": [f"rulebook.lists.{part}.restriction_kept" for part in PARTS],
            "low": 0.0,
            "high": 0.95,
            "note": "chance a person leaving the court list stays restricted",
        },
        {
            "path": f"rulebook.lists.{KEPT_ON}.term_days",
            "low": 30,
            "high": 1800,
            "integer": True,
            "note": "days a restriction not lifted with the listing lasts",
        },
    ]
    overrides["calibration.free"] = free
    if population is not None:
        overrides["population.size"] = population
    return load_scenario("court-list-history", overrides=overrides)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, help="default: the built-in's (1:100)")
    parser.add_argument("--share", type=float, default=0.5, help="starting share kept")
    parser.add_argument("--term", type=int, default=1000, help="starting term, days")
    parser.add_argument("--rounds", type=int, default=2, help="coordinate-search rounds")
    parser.add_argument(
        "--with-2018-rate", action="store_true", help="keep the 2018 flight rate, free, beside it"
    )
    parser.add_argument("--table-seeds", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=110)
    s = with_restriction_kept(args.population, args.share, args.term, args.with_2018_rate)
    rate = "with" if args.with_2018_rate else "no"
    label = f"restriction not lifted, {rate} 2018 flight rate"
    title = f"restriction not lifted, {args.table_seeds} seeds"
    table, value = refine_and_tabulate(s, args.rounds, args.table_seeds, label, title, console)
    console.print(
        f"loss {value:.4f}; {int(table.within.sum())} of {len(table)} targets within tolerance"
    )


if __name__ == "__main__":
    main()
