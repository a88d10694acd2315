"""Run the baseline once: admissions, occupancy and waits per year and region, then save the
tables (CSV and Parquet) and the manifest, as `sfbsim run --out` does.

    .venv/bin/python examples/01_run_baseline.py results/example-baseline
    .venv/bin/python examples/01_run_baseline.py results/example-short --years 2 --seed 7
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sfbsim


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the tables (new or empty)")
    parser.add_argument("--years", type=int, default=10, help="simulated years (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)

    base = sfbsim.scenario("baseline")
    print(base, "-", base.description)
    result = sfbsim.run(base, years=args.years, seed=args.seed)

    # The tables are DataFrames, with the columns docs/outputs.md defines.
    regions = result.tables["year_region"]
    shown = ["year", "region", "cases", "admissions", "occupancy", "wait_days_p50"]
    print(regions[shown].to_string(index=False))
    national = result.tables["yearly"].groupby("year")[["cases", "admissions"]].sum()
    print(national.to_string())

    folder = result.save(args.out)  # never replaces what you did not ask it to
    print(f"{len(result.tables)} tables and manifest.json written to {folder}")


if __name__ == "__main__":
    main()
