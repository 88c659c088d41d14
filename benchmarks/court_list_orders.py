"""Can consumption-restriction orders replace the court list's 2018 flight rate?

    python benchmarks/court_list_orders.py                    # ~10 min at 1:100 (orders' values)
    python benchmarks/court_list_orders.py --free all --rounds 2   # every free value, ~30 min

The built-in `court-list-history` needs a flight booking rate of its own in 2018 (a curve fit,
docs/validation.md): the record's refused flights per month double while the list stops
growing. Courts also restrict the spending of debtors who do not perform on time whether or not
they are on the dishonest list (SPC provisions on restricting high consumption, 2010, revised
2015), and those orders block flights and trains too. If the published refusals count the
restricted as well as the listed, orders that pile up while the list levels off would make
refusals grow faster than the list. This script adds a list of restriction orders
(`order_share` of every unperformed case, listed or not, until the debtor performs, at the
hazard `comply_per_year`), which the flight, rail, hotel and school restrictions heed from the
dates the list's do; resets 2018's flight rate to the earlier one; refines the orders' two
values with the booking rates and compliance on a refusal from 2017 (or, with `--free all`,
every free value) on the whole record to 2018; and prints the table over `--table-seeds` seeds.
Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse

from refit import refine_and_tabulate
from rich.console import Console

from scsim.scenario import load_scenario

ORDERS = "restriction_orders"
RESTRICTIONS = ("flight", "train", "star_hotel", "private_school_fees")
GROUNDS = (
    "able_but_refuses",
    "obstructs_enforcement",
    "evades_enforcement",
    "breaks_reporting_duty",
    "breaks_consumption_ban",
    "refuses_settlement",
)
FEW = (
    "rulebook.services.flight.per_year",
    "rulebook.services.train.per_year",
    "rulebook.changes.5.lists.court_list_until_performed.comply_on_block",
)


def with_orders(  # type: ignore[no-untyped-def]
    population: int | None, share: float, comply: float, free_all: bool = False
):
    """court-list-history with restriction orders, free, and no 2018 flight rate."""
    built = load_scenario("court-list-history")
    book = built.rulebook
    overrides: dict[str, object] = {
        f"rulebook.lists.{ORDERS}": {
            "kind": "black",
            "term_days": 0,
            "order_share": share,
            "order_events": list(GROUNDS),
            "comply_per_year": comply,
        },
    }
    for name in RESTRICTIONS:  # the services the orders restrict, from the start
        if book.services[name].blocked_lists:
            overrides[f"rulebook.services.{name}.blocked_lists"] = [
                *book.services[name].blocked_lists,
                ORDERS,
            ]
    rate = book.services["flight"].per_year
    for i, change in enumerate(book.changes):  # interception switched on later; 2018's rate off
        for name, fields in change.services.items():
            if name in RESTRICTIONS and fields.get("blocked_lists"):
                blocked = [*fields["blocked_lists"], ORDERS]
                overrides[f"rulebook.changes.{i}.services.{name}.blocked_lists"] = blocked
        dated_2018 = change.date is not None and change.date.year == 2018
        if dated_2018 and "per_year" in change.services.get("flight", {}):
            overrides[f"rulebook.changes.{i}.services.flight.per_year"] = rate
    free = [
        p.model_dump(exclude_none=True)
        for p in built.calibration.free
        if not any(".changes." in t and t.endswith("flight.per_year") for t in p.targets)
        and (free_all or any(t in FEW for t in p.targets))
    ]
    free += [
        {
            "path": f"rulebook.lists.{ORDERS}.order_share",
            "low": 0.005,
            "high": 0.9,
            "log": True,
            "note": "chance an unperformed case brings a restriction order, listed or not",
        },
        {
            "path": f"rulebook.lists.{ORDERS}.comply_per_year",
            "low": 0.02,
            "high": 3.0,
            "log": True,
            "note": "hazard of performing while restricted, per year",
        },
    ]
    overrides["calibration.free"] = free
    overrides["calibration.series.restriction_orders"] = {  # a counter for `predict`
        "columns": [f"{ORDERS}_orders"],
        "description": "consumption-restriction orders issued, cumulative",
    }
    if population is not None:
        overrides["population.size"] = population
    return load_scenario("court-list-history", overrides=overrides)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, help="default: the built-in's (1:100)")
    parser.add_argument("--share", type=float, default=0.05, help="starting order share")
    parser.add_argument("--comply", type=float, default=0.5, help="starting hazard, per year")
    parser.add_argument("--free", choices=("orders", "all"), default="orders")
    parser.add_argument("--rounds", type=int, default=1, help="coordinate-search rounds")
    parser.add_argument("--table-seeds", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=110)
    s = with_orders(args.population, args.share, args.comply, args.free == "all")
    label = f"restriction orders, no 2018 flight rate, {args.free} free"
    title = f"restriction orders, {args.table_seeds} seeds"
    table, value = refine_and_tabulate(s, args.rounds, args.table_seeds, label, title, console)
    console.print(
        f"loss {value:.4f}; {int(table.within.sum())} of {len(table)} targets within tolerance"
    )


if __name__ == "__main__":
    main()
