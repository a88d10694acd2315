"""What the issue-15 goals leave for the model's own code, measured (benchmarks/README.md).

Goals 1 and 2 of issue 15 ask for a history replication 3x and a 10-year ``sfbsim run`` 2x
faster than commit a2d5f2b, with families, municipalities, intakes and centres kept as Mesa
agents and every random draw where it is. This script measures the part of each that no
change to sfbsim can take away under those rules, and so what is left for everything else:

- ``mesa_floor_s``: Mesa's own work for the same number of family agents as the run creates
  (each created, registered and removed, with Mesa's signals) and one Mesa step a day, in a
  model with no decision logic at all; the families spread evenly over the days;
- ``import_mesa_s``: a process that only imports Mesa 3.5, with the cycle collector paused
  (the fastest way ``sfbsim run`` can do it; Mesa's package imports pandas, scipy.spatial,
  networkx and its batch runner whatever a model uses);
- ``this``: this checkout's own figures: a history replication as the calibration runs it
  (as ``bench_speed.py history``) and the phases of a 10-year run in one process.

With ``--against REF_DIR`` (a checkout of a2d5f2b with its own ``.venv``) it also times the
reference's replication and run, and prints each goal's budget (the reference's time divided
by the goal's factor), the floor, and how many times faster the rest of this checkout's work
would have to become to meet the goal (``rest_speedup_needed``).

    .venv/bin/python benchmarks/bench_floor.py --runs 5 --against ../ref
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench_speed import HERE, history_times, paired, python_of, run_command

MESA_FLOOR_DRIVER = r"""
import gc, json, statistics, sys, time
gc.disable()
import mesa
gc.freeze(); gc.enable()

families, days, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


class Family(mesa.Agent):
    def __init__(self, model, day):
        super().__init__(model)
        self.arrival_day = day


class Bare(mesa.Model):
    # the same number of families, created, registered and removed; one Mesa step a day
    def __init__(self, seed):
        super().__init__(rng=seed)
        self.per_day = [families // days + (d < families % days) for d in range(days + 1)]

    def step(self):
        day = int(self.time)
        for _ in range(self.per_day[day]):
            Family(self, day).remove()


def once(seed):
    model = Bare(seed)
    start = time.perf_counter()
    model.run_until(days)
    return time.perf_counter() - start


once(0)
print(json.dumps(statistics.median(once(seed) for seed in range(1, runs + 1))))
"""

PHASES_DRIVER = r"""
import gc, json, statistics, sys, tempfile, time
from pathlib import Path
runs = int(sys.argv[1])
gc.disable()
from sfbsim.experiments.runner import build_model, run_to_folder
from sfbsim.experiments.scenario_files import load_scenario, resolve_scenario
from sfbsim.model.data_loading import load_data
gc.freeze(); gc.enable()
data = load_data(None)
history = load_scenario(resolve_scenario("history"), data)
model = build_model(history, data, details=False)
model.run_years()
history_families, history_days = model.arrived, model.calendar.n_days
path = resolve_scenario("baseline")
baseline = load_scenario(path, data).with_run(years=10, seed=None)
build, simulate, total = [], [], []
for _ in range(runs + 1):
    start = time.perf_counter()
    model = build_model(baseline, data)
    built = time.perf_counter()
    model.run_years()
    simulated = time.perf_counter()
    out = Path(tempfile.mkdtemp()) / "run"
    start_all = time.perf_counter()
    run_to_folder(baseline, data, out, scenario_text=path.read_text(encoding="utf-8"))
    done = time.perf_counter()
    build.append(built - start)
    simulate.append(simulated - built)
    total.append(done - start_all)
print(json.dumps({
    "history_families": history_families,
    "history_days": history_days,
    "run_families": model.arrived,
    "run_days": model.calendar.n_days,
    "run_build_s": statistics.median(build[1:]),
    "run_simulate_s": statistics.median(simulate[1:]),
    "run_to_folder_s": statistics.median(total[1:]),
}))
"""


def process_seconds(python: Path, code: str, runs: int) -> float:
    """Median wall seconds of a process running ``code`` (after one warm-up)."""
    times = paired({"x": [str(python), "-c", code]}, {"x": HERE}, runs, lambda _: None)
    return statistics.median(times["x"])


def driver(python: Path, code: str, *args: object) -> object:
    """Run a driver in this checkout and return the JSON it prints last."""
    result = subprocess.run(
        [str(python), "-c", code, *map(str, args)],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs (default 5)")
    parser.add_argument("--against", type=Path, help="a checkout of a2d5f2b with a .venv")
    args = parser.parse_args()
    python = python_of(HERE)
    phases = driver(python, PHASES_DRIVER, args.runs)
    checkouts = {"this": HERE}
    if args.against is not None:
        checkouts["ref"] = args.against.resolve()
    # a replication timed as bench_speed.py history does: the checkouts alternate in blocks
    history: dict[str, list[float]] = {label: [] for label in checkouts}
    for _ in range(2):
        for label, checkout in checkouts.items():
            history[label] += history_times(checkout, max(1, args.runs // 2 + 1))
    this = {"history_replication_s": statistics.median(history["this"]), **phases}
    floor = {
        "import_mesa_s": process_seconds(python, "import gc; gc.disable(); import mesa", args.runs),
        "mesa_floor_history_s": driver(
            python,
            MESA_FLOOR_DRIVER,
            phases["history_families"],
            phases["history_days"],
            args.runs,
        ),
        "mesa_floor_run_s": driver(
            python, MESA_FLOOR_DRIVER, phases["run_families"], phases["run_days"], args.runs
        ),
    }
    result: dict = {"runs": args.runs, "this": this, "floor": floor}
    if args.against is not None:
        ref = args.against.resolve()
        scratch = Path(tempfile.mkdtemp(prefix="bench-floor-"))
        ref_run = paired(
            {"ref": run_command(ref, scratch / "ref")},
            {"ref": ref},
            args.runs,
            lambda _: shutil.rmtree(scratch / "ref", ignore_errors=True),
        )["ref"]
        shutil.rmtree(scratch, ignore_errors=True)
        ref_history = statistics.median(history["ref"])
        budget_1 = ref_history / 3
        rest_1 = this["history_replication_s"] - floor["mesa_floor_history_s"]
        room_1 = budget_1 - floor["mesa_floor_history_s"]
        ref_run_s = statistics.median(ref_run)
        budget_2 = ref_run_s / 2
        floor_2 = floor["import_mesa_s"] + floor["mesa_floor_run_s"]
        # this checkout's run outside Mesa's import and agent floor (in one process: its
        # other imports are counted in the command, not here, so this is a lower bound)
        rest_2 = phases["run_to_folder_s"] - floor["mesa_floor_run_s"]
        room_2 = budget_2 - floor_2
        result["ref"] = {"history_replication_s": ref_history, "run_s": ref_run_s}
        result["goal_1_history"] = {
            "budget_s": budget_1,
            "floor_s": floor["mesa_floor_history_s"],
            "rest_now_s": rest_1,
            "rest_budget_s": room_1,
            "rest_speedup_needed": rest_1 / room_1 if room_1 > 0 else None,
        }
        result["goal_2_run"] = {
            "budget_s": budget_2,
            "floor_s": floor_2,
            "rest_now_s_at_least": rest_2,
            "rest_budget_s": room_2,
            "rest_speedup_needed_at_least": rest_2 / room_2 if room_2 > 0 else None,
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
