"""Benchmarks of the experiment machinery (not timed tests).

    python benchmarks/bench_compare.py compare [--reps 50] [--years 10] [--repeat 3]
    python benchmarks/bench_compare.py sweep [--runs 1000] [--years 1]

``compare``: baseline against one reform (duty_to_assist), paired replications on the local
process pool; target: 10 years × 50 pairs in at most 60 s on 2 cores. Prints each repeat's wall
time and the median.
``sweep``: a Latin-hypercube sweep of ``runs`` runs; prints the peak resident memory of the
main process and of the largest worker (target: under 1 GB).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from sfbsim.cli import app


def bench_compare(reps: int, years: int, repeat: int, workers: int | None) -> None:
    times = []
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(prefix="sfbsim-bench-"))
        args = [
            "compare",
            "baseline",
            "duty_to_assist",
            "--years",
            str(years),
            "--reps",
            str(reps),
            "--out",
            str(out),
            "--quiet",
        ]
        if workers is not None:
            args += ["--workers", str(workers)]
        clock = time.perf_counter()
        result = CliRunner().invoke(app, args)
        times.append(time.perf_counter() - clock)
        assert result.exit_code == 0, result.output
        shutil.rmtree(out)
        print(f"compare {years} years × {reps} pairs: {times[-1]:.1f} s", flush=True)
    print(f"median {statistics.median(times):.1f} s over {repeat}; load {os.getloadavg()}")


def bench_sweep(runs: int, years: int) -> None:
    out = Path(tempfile.mkdtemp(prefix="sfbsim-bench-"))
    args = [
        "sweep",
        "baseline",
        "--design",
        "lhs",
        "--samples",
        str(runs - 1),
        "--reps",
        "1",
        "--years",
        str(years),
        "--lever",
        "units_multiplier=0.5:2",
        "--lever",
        "information_campaign=0:1",
        "--out",
        str(out),
        "--quiet",
    ]
    clock = time.perf_counter()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"sweep of {runs} runs × {years} years: {time.perf_counter() - clock:.0f} s; peak RSS "
        f"main {main:.0f} MB, largest worker {child:.0f} MB; "
        f"store {(out / 'results.duckdb').stat().st_size / 1e6:.1f} MB"
    )
    shutil.rmtree(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["compare", "sweep"])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--years", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    ns = parser.parse_args()
    if ns.which == "compare":
        bench_compare(ns.reps, ns.years or 10, ns.repeat, ns.workers)
    else:
        bench_sweep(ns.runs, ns.years or 1)
