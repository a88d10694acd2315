"""Speed goals measured side by side against another checkout (issue 15).

Three modes, each printing JSON with the medians (and, with ``--against REF_DIR``, the same
figures for the other checkout and the ratios REF / this, taken pair by pair):

- ``history``: one history replication as the calibration runs it (build the model, simulate
  2012-2024, compute the national series compared with the targets), timed inside one process
  per checkout after a warm-up replication (the worker set up as the calibration's pool sets
  it up: the data loaded once); the median over ``--runs`` replications on seeds 1..runs.
- ``run``: ``sfbsim run --scenario baseline --years 10`` end to end as a process, every table
  written, alternating this checkout and the other run by run.
- ``cli``: ``sfbsim --help`` and every subcommand's ``--help`` as processes, alternating.

``REF_DIR`` is a checkout of another commit with its own ``.venv`` (for example
``git worktree add ../ref a2d5f2b && make -C ../ref .venv/.installed``). The host's speed
drifts: only ratios from one invocation count (benchmarks/README.md).

    .venv/bin/python benchmarks/bench_speed.py history --runs 7 --against ../ref
    .venv/bin/python benchmarks/bench_speed.py run --runs 5 --against ../ref
    .venv/bin/python benchmarks/bench_speed.py cli --runs 5 --against ../ref
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

HISTORY_DRIVER = r"""
import json, sys, time
runs = int(sys.argv[1])
try:  # this layout: the replication engine
    from sfbsim.experiments.execution import SERIES_KIND, Task, _init_worker, run_task
    from sfbsim.experiments.scenario_files import load_scenario
    text = load_scenario("history").model_dump_json()
    _init_worker(None)  # as the calibration's pool starts each worker
    def replicate(seed):
        run_task(Task("", seed, text, None, kind=SERIES_KIND))
except ImportError:  # the layout before the sfbsim namespace (a2d5f2b)
    from experiments.calibration import run_replication
    from experiments.scenario_files import load_scenario
    raw = load_scenario("history").model_dump(mode="json")
    def replicate(seed):
        run_replication((raw, seed, None))
replicate(1000)  # warm-up: loads the data, as a calibration worker does once
times = []
for seed in range(1, runs + 1):
    start = time.perf_counter()
    replicate(seed)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def python_of(checkout: Path) -> Path:
    """The checkout's own virtualenv python."""
    python = checkout / ".venv" / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} not found: give a checkout with its own .venv (make -C DIR test)")
    return python


def history_times(checkout: Path, runs: int) -> list[float]:
    """Seconds per history replication in ``checkout`` (one process, after a warm-up)."""
    result = subprocess.run(
        [str(python_of(checkout)), "-c", HISTORY_DRIVER, str(runs)],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of one process."""
    start = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - start


def run_command(checkout: Path, out: Path) -> list[str]:
    sfbsim = checkout / ".venv" / "bin" / "sfbsim"
    return [str(sfbsim), "run", "--scenario", "baseline", "--years", "10", "--quiet"] + [
        "--out",
        str(out),
    ]


def paired(commands: dict[str, list[str]], cwd: dict[str, Path], runs: int, fresh) -> dict:
    """Run each labelled command ``runs`` times, alternating, after one warm-up each."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for label, command in commands.items():  # warm-up (file caches, compiled bytecode)
        fresh(label)
        timed(command, cwd[label])
    for _ in range(runs):
        for label, command in commands.items():
            fresh(label)
            times[label].append(timed(command, cwd[label]))
    return times


def summary(times: dict[str, list[float]]) -> dict:
    out: dict = {
        label: {"median_s": statistics.median(t), "runs_s": t} for label, t in times.items()
    }
    if "ref" in times and "this" in times:
        ratios = [r / t for r, t in zip(times["ref"], times["this"], strict=True)]
        out["ratio_ref_over_this"] = {"median": statistics.median(ratios), "pairs": ratios}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("mode", choices=["history", "run", "cli"])
    parser.add_argument("--runs", type=int, default=5, help="counted runs (default 5)")
    parser.add_argument("--against", type=Path, help="a checkout of another commit with a .venv")
    args = parser.parse_args()
    checkouts = {"this": HERE}
    if args.against is not None:
        checkouts["ref"] = args.against.resolve()
    result: dict = {
        "mode": args.mode,
        "runs": args.runs,
        "checkouts": {k: str(v) for k, v in checkouts.items()},
    }
    if args.mode == "history":
        # alternate the checkouts in blocks, so that both meet the same drift of the host
        times: dict[str, list[float]] = {label: [] for label in checkouts}
        for _ in range(2):
            for label, checkout in checkouts.items():
                times[label] += history_times(checkout, max(1, args.runs // 2 + 1))
        result.update(summary(times))
    elif args.mode == "run":
        scratch = Path(tempfile.mkdtemp(prefix="bench-run-"))

        def fresh(label: str) -> None:
            shutil.rmtree(scratch / label, ignore_errors=True)

        commands = {label: run_command(c, scratch / label) for label, c in checkouts.items()}
        result.update(summary(paired(commands, dict(checkouts), args.runs, fresh)))
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        subcommands = [[], ["run"], ["compare"], ["sweep"], ["sensitivity"], ["results"]]
        subcommands += [["report"], ["calibrate"], ["app"]]
        for sub in subcommands:
            commands = {
                label: [str(c / ".venv" / "bin" / "sfbsim"), *sub, "--help"]
                for label, c in checkouts.items()
            }
            name = " ".join(["sfbsim", *sub, "--help"])
            result[name] = summary(paired(commands, dict(checkouts), args.runs, lambda _: None))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
