"""GPU against NumPy on the same runs, in one process, with a check that the files agree.

    python benchmarks/gpu.py --sizes 1e6 1e7 --days 365

Needs an NVIDIA GPU and CuPy. Prints wall time per backend, the speed-up, and whether the
ledger and metrics files are byte-identical.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import scsim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="rongcheng")
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--backends", nargs="+", default=["numpy", "gpu"])
    args = parser.parse_args()
    print(
        f"{'people':>14} {'days':>5} {'backend':>7} {'wall s':>8} {'stepping s':>10} "
        f"{'person-days/s':>14} {'same files':>10}"
    )
    for size in (int(s) for s in args.sizes):
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for backend in args.backends:
                start = time.perf_counter()
                result = scsim.run(
                    args.scenario,
                    Path(tmp) / backend,
                    population=size,
                    days=args.days,
                    backend=backend,
                )
                wall = time.perf_counter() - start
                paths[backend] = result.path
                same = all(
                    (paths[args.backends[0]] / f).read_bytes() == (result.path / f).read_bytes()
                    for f in ("ledger.parquet", "metrics.parquet")
                )
                print(
                    f"{size:>14,} {args.days:>5} {backend:>7} {wall:>8.1f} "
                    f"{result.manifest['timings_seconds']['days']:>10.1f} "
                    f"{size * args.days / wall:>14.3g} {same!s:>10}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
