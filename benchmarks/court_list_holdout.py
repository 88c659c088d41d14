"""The court list fitted to its record up to a date and tested on the figures after it.

    python benchmarks/court_list_holdout.py                  # fit to 2017, test on 2018, ~20 min
    python benchmarks/court_list_holdout.py --until 2016-12-31 --rounds 1

Starts from the built-in's values (which were fitted to the whole record, 2018 included: the
test is of what the earlier record alone does with them, not a blind one) with every rate that
only acts after `--until` reset to its value before (the 2018 flight rate: nothing earlier can
fit it), refines on the targets up to `--until` (`scsim calibrate --until`), and prints the
table over `--table-seeds` seeds: the held-out rows are the test. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt

from refit import refine_and_tabulate
from rich.console import Console

from scsim.experiments.calibration.fit import held_out
from scsim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until", type=dt.date.fromisoformat, default=dt.date(2017, 12, 31))
    parser.add_argument("--rounds", type=int, default=2, help="coordinate-search rounds")
    parser.add_argument("--table-seeds", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=110)
    built = load_scenario("court-list-history")
    base_rate = built.rulebook.services["flight"].per_year
    resets = {  # rates set by a change after --until: only the held-out record could fit them
        f"rulebook.changes.{i}.services.flight.per_year": base_rate
        for i, change in enumerate(built.rulebook.changes)
        if change.date is not None
        and change.date > args.until
        and "per_year" in change.services.get("flight", {})
    }
    s = held_out(load_scenario("court-list-history", overrides=resets), args.until)
    label = f"refined on the record to {args.until} (reset: {', '.join(resets) or 'nothing'})"
    title = f"fitted to {args.until}, {args.table_seeds} seeds"
    table, value = refine_and_tabulate(s, args.rounds, args.table_seeds, label, title, console)
    later = table[table.weight == 0]
    console.print(
        f"loss on the record to {args.until}: {value:.4f}; held out: {int(later.within.sum())} "
        f"of {len(later)} later targets within tolerance"
    )


if __name__ == "__main__":
    main()
