"""Wall time per simulated national year (median of several runs).

Goal (issue 3): at most 50 ms per simulated year at default rates. Model construction and
the output tables are timed separately from the simulation itself.

    .venv/bin/python benchmarks/bench_model.py [--runs 5] [--years 10]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from pathlib import Path

from sfbsim.model.data_loading import load_data
from sfbsim.model.model import SfbModel


def measure(years: int, runs: int) -> dict:
    """Time building, running and tabulating the baseline ``runs`` times."""
    data = load_data()
    build, run, tables, families = [], [], [], []
    for seed in range(1, runs + 1):
        # Every run starts from the same clean heap, as a run in its own process does: without
        # this, the previous runs' models (Mesa's agents and model refer to each other) wait
        # for a full collection that lands in a later run's timing.
        gc.collect()
        t0 = time.perf_counter()
        model = SfbModel(data=data, years=years, rng=seed)
        t1 = time.perf_counter()
        model.run_years()
        t2 = time.perf_counter()
        model.recorder.tables()
        t3 = time.perf_counter()
        build.append(t1 - t0)
        run.append(t2 - t1)
        tables.append(t3 - t2)
        families.append(model.arrived)
        del model
    per_year = [r / years * 1000 for r in run]
    return {
        "years": years,
        "runs": runs,
        "ms_per_simulated_year_median": round(statistics.median(per_year), 1),
        "ms_per_simulated_year_all": [round(v, 1) for v in per_year],
        "build_s_median": round(statistics.median(build), 3),
        "tables_s_median": round(statistics.median(tables), 3),
        "families_per_run_median": statistics.median(families),
        "us_per_family_median": round(
            statistics.median(run) / statistics.median(families) * 1e6, 1
        ),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()
    result = measure(args.years, args.runs)
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_model.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
