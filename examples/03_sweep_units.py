"""More residential units, with and without a duty to assist: a grid sweep, each point paired
with the baseline on the same seeds, then the median wait and Bufetat's refusals by point.

    .venv/bin/python examples/03_sweep_units.py results/example-sweep
    .venv/bin/python examples/03_sweep_units.py results/x --years 2 --reps 2 --uncertainty fixed
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sfbsim


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for results.duckdb and sweep.csv")
    parser.add_argument("--years", type=int, default=10, help="simulated years (default 10)")
    parser.add_argument("--reps", type=int, default=6, help="replications per point (default 6)")
    parser.add_argument("--uncertainty", choices=["posterior", "fixed"], default="posterior")
    parser.add_argument("--workers", type=int, default=None, help="processes (0: this one)")
    args = parser.parse_args(argv)

    result = sfbsim.sweep(
        "baseline",
        {"units_multiplier": [1.0, 1.25, 1.5], "duty_to_assist": [False, True]},
        reps=args.reps,
        years=args.years,
        uncertainty=args.uncertainty,
        out=args.out,
        workers=args.workers,
    )
    print(result.points.to_string(index=False))
    for outcome in ("median_wait", "intake_refusals", "state_cost"):
        rows = result.table[result.table["outcome"] == outcome]
        wide = rows.pivot_table(
            index="units_multiplier", columns="duty_to_assist", values="diff_mean"
        )
        print(f"\n{outcome}, point − baseline (columns: duty_to_assist)")
        print(wide.to_string(float_format=lambda v: f"{v:,.2f}"))
    print(f"\nsweep.csv in {result.folder}; what the intervals cover: {result.covers}")


if __name__ == "__main__":
    main()
