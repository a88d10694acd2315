"""Open every centre every weekend and on public holidays: what changes nationally, in the
north and for small municipalities? A paired comparison stored in a folder, then read back.

    .venv/bin/python examples/02_weekends_in_the_north.py results/example-weekends
    .venv/bin/python examples/02_weekends_in_the_north.py results/x --years 2 --reps 4 \\
        --uncertainty fixed

Replications run over the posterior of the behavioural parameters by default (`--uncertainty
fixed`: the parameter files' values, run-to-run noise only).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sfbsim

OUTCOMES = ["admissions", "consent_refusals", "median_wait", "dropouts", "municipal_cost"]


def number(value: float) -> str:
    return f"{value:,.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for results.duckdb and comparison.csv")
    parser.add_argument("--years", type=int, default=10, help="simulated years (default 10)")
    parser.add_argument("--reps", type=int, default=20, help="paired replications (default 20)")
    parser.add_argument("--uncertainty", choices=["posterior", "fixed"], default="posterior")
    parser.add_argument("--workers", type=int, default=None, help="processes (0: this one)")
    args = parser.parse_args(argv)

    base = sfbsim.scenario("baseline")
    weekends = base.with_levers(weekend_policy="open_every_weekend", holidays_open=True)
    weekends = weekends.named("weekends", "Every centre open every weekend and holiday")
    print(base.differences(weekends).to_string(index=False))

    result = sfbsim.compare(
        base,
        weekends,
        reps=args.reps,
        years=args.years,
        uncertainty=args.uncertainty,
        by="region",
        out=args.out,  # every replication stored as it finishes; resume=True continues
        workers=args.workers,
    )
    table = result.table[result.table["outcome"].isin(OUTCOMES)]
    columns = ["outcome", "baseline_mean", "reform_mean", "diff_mean", "diff_ci_low"]
    columns += ["diff_ci_high", "reps"]
    by_size = result.summary(by="size_class")  # any grouping later, from the same replications
    by_size = by_size[by_size["outcome"].isin(OUTCOMES)]
    for label, rows in [
        ("national", table[table["scope"] == "national"]),
        ("region nord", table[table["group"] == "nord"]),
        ("size_class small", by_size[by_size["group"] == "small"]),
    ]:
        print(f"\n{label}: weekends − baseline (counts, costs per year)")
        print(rows[columns].to_string(index=False, float_format=number))
    for note in result.notes:  # e.g. why the weekend policy cannot act in nord
        print("note:", note)
    print("\nWhat the intervals cover:", result.covers)

    # Later, or in another session: the stored experiment, and the differences year by year.
    stored = sfbsim.read_experiment(args.out)
    yearly = stored.summary(years="yearly")
    admissions = yearly[yearly["outcome"] == "admissions"]
    print(f"\n{stored.experiment_id}: {stored.reps} pairs stored in {stored.folder}")
    shown = admissions[["year", "diff_mean", "diff_ci_low", "diff_ci_high"]]
    print(shown.to_string(index=False, float_format=number))


if __name__ == "__main__":
    main()
