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
import time

from rich.console import Console

from scsim.calibration.fit import evaluate, held_out, refine
from scsim.report.terminal import calibration_table_view
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
    started = time.perf_counter()
    fitted = refine(s, rounds=args.rounds, seeds=1)
    console.print(
        f"refined on the record to {args.until}: loss {fitted.start_loss:.4f} -> "
        f"{fitted.best_loss:.4f} in {fitted.trials} runs, {time.perf_counter() - started:.0f} s;"
        f" reset: {', '.join(resets) or 'nothing'}"
    )
    for name, value in fitted.values.items():
        console.print(f"  {name} = {value:.6g}")
    table, value = evaluate(fitted.scenario, args.table_seeds)
    title = f"fitted to {args.until}, {args.table_seeds} seeds"
    console.print(calibration_table_view(table, title))
    later = table[table.weight == 0]
    console.print(
        f"loss on the record to {args.until}: {value:.4f}; held out: {int(later.within.sum())} "
        f"of {len(later)} later targets within tolerance"
    )


if __name__ == "__main__":
    main()
