"""What the calibration compares: the targets (Statistics Norway's series, the project's copy in
model/data/calibration_targets.csv with their sources), the simulated value of each target from a
run's national series, running replications of the history on the replication engine, and the
price-only comparison. The calibration itself (the posterior) is experiments/history_matching.py;
docs/calibration.md explains the method and the results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sfbsim.experiments.execution import SERIES_KIND, Executor, Task
from sfbsim.model.parameter_files import entries
from sfbsim.model.parameters import Parameters, Scenario

TARGETS_FILE = Path(__file__).resolve().parents[1] / "model" / "data" / "calibration_targets.csv"
FIRST_HISTORY_YEAR = 2013
"""Years before this are warm-up and never compared with data."""

FREE_PARAMETERS: dict[str, tuple[float, float]] = {
    name: (entry.prior.low, entry.prior.high)
    for name, entry in entries("parameters").items()
    if entry.prior is not None and entry.prior.low is not None and entry.prior.high is not None
}
"""The parameters the calibration fits, with the ranges searched (uniform priors): every entry
of model/data/parameters/ with a ``[NAME.prior]`` range."""
PRIOR_DEFAULTS: dict[str, float] = {
    name: entry.prior.value
    for name, entry in entries("parameters").items()
    if name in FREE_PARAMETERS and entry.prior is not None
}
"""The values the calibrated ones replaced (their priors)."""
SSB_COLUMNS = {
    "centre_measures_age_0_12": "ssb_measures_age_0_12",
    "centre_measures_age_0_2": "ssb_measures_age_0_2",
    "centre_bed_days": "ssb_child_bed_days",
    "children_in_centres_31dec": "ssb_children_present_dec31",
}
"""Target name -> national yearly column of the yearly table (summed over regions, sizes)."""

BED_DAYS_COLUMNS = {"presence": "child_presence_days", "calendar": "ssb_child_bed_days"}
"""How ``centre_bed_days`` is simulated: ``calendar`` (the default, SSB's definition, the yearly
table's ``ssb_child_bed_days``) counts every day of a child's stay, days at home during closures
included; ``presence`` only the days a child is at the centre (``child_presence_days``)."""


def target_columns(bed_days: str = "calendar") -> dict[str, str]:
    """Target name -> simulated column, with the chosen bed-day definition."""
    if bed_days not in BED_DAYS_COLUMNS:
        raise ValueError(f"bed_days must be one of {', '.join(BED_DAYS_COLUMNS)}")
    return {**SSB_COLUMNS, "centre_bed_days": BED_DAYS_COLUMNS[bed_days]}


# --- targets and simulated values -------------------------------------------------------------
def load_targets(path: Path = TARGETS_FILE) -> pd.DataFrame:
    """The calibration targets: target, year, value, low, high, unit, note, source."""
    targets = pd.read_csv(path)
    known = {*SSB_COLUMNS, "mean_residential_stay_days"}
    unknown = set(targets["target"]) - known
    if unknown:
        raise ValueError(f"{path}: targets the model cannot compute: {', '.join(sorted(unknown))}")
    return targets


def target_values(
    series: pd.DataFrame, targets: pd.DataFrame, bed_days: str = "calendar"
) -> pd.Series:
    """Simulated value of every target row (NaN where the run does not cover the year)."""
    columns = target_columns(bed_days)
    values = []
    for row in targets.itertuples(index=False):
        column = columns.get(row.target, row.target)
        has = row.year in series.index and column in series.columns
        values.append(float(series.at[row.year, column]) if has else math.nan)
    return pd.Series(values, index=targets.index, dtype=float)


# --- running replications ---------------------------------------------------------------------
class Replicator:
    """Runs replications of scenarios on the replication engine (experiments.execution) and
    returns their national series: ``jobs`` worker processes (1 runs them in this process)."""

    def __init__(self, jobs: int = 2, data_dir: Path | None = None) -> None:
        self.data_dir = str(data_dir) if data_dir is not None else None
        self.executor = Executor(workers=0 if int(jobs) <= 1 else int(jobs), data_dir=self.data_dir)

    def __enter__(self) -> Replicator:
        self.executor.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.__exit__(*exc)

    def series(self, scenario: Scenario, seeds: Sequence[int]) -> list[pd.DataFrame]:
        """The national yearly series of ``scenario`` on each seed (in seed order)."""
        return self.series_of([(scenario, int(seed)) for seed in seeds])

    def series_of(self, runs: Sequence[tuple[Scenario, int]]) -> list[pd.DataFrame]:
        """The national yearly series of each (scenario, seed), in the order given."""
        tasks = [
            Task(str(i), int(seed), scenario.model_dump_json(), self.data_dir, kind=SERIES_KIND)
            for i, (scenario, seed) in enumerate(runs)
        ]
        found: dict[str, pd.DataFrame] = {}
        self.executor.run(tasks, lambda r: found.__setitem__(r.param_hash, r.series))
        return [found[str(i)] for i in range(len(runs))]


def with_parameters(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with some behavioural parameters set (validated)."""
    parameters = Parameters.model_validate({**scenario.parameters.model_dump(), **values})
    return scenario.model_copy(update={"parameters": parameters})


def simulated_targets(
    replicator: Replicator,
    scenario: Scenario,
    targets: pd.DataFrame,
    seeds: Sequence[int],
    bed_days: str = "calendar",
) -> pd.DataFrame:
    """Targets × replications: one column per seed."""
    runs = replicator.series(scenario, seeds)
    return pd.DataFrame(
        {seed: target_values(s, targets, bed_days) for seed, s in zip(seeds, runs, strict=True)}
    )


def _markdown(frame: pd.DataFrame, floatfmt: str = "{:,.1f}") -> str:
    """A small markdown table (no extra dependency)."""
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float | np.floating):
                cells.append(floatfmt.format(value))
            else:
                cells.append(str(value))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def price_only_table(
    full: list[pd.DataFrame],
    price_only: list[pd.DataFrame],
    years: range,
    bed_days: str = "calendar",
) -> pd.DataFrame:
    """Full model and price-only variant side by side: mean over replications per year."""
    metrics = ("ssb_measures_age_0_2", BED_DAYS_COLUMNS[bed_days], "ssb_children_present_dec31")
    rows = []
    for year in years:
        row: dict[str, Any] = {"year": year}
        for label, runs in (("full", full), ("price_only", price_only)):
            for metric in metrics:
                row[f"{metric}_{label}"] = float(np.mean([r.at[year, metric] for r in runs]))
        rows.append(row)
    return pd.DataFrame(rows)


def plot_comparison(
    full: list[pd.DataFrame],
    price_only: list[pd.DataFrame],
    targets: pd.DataFrame,
    out: Path,
    bed_days: str = "calendar",
) -> Path:
    """Full model vs price-only, 2019-2024, for the SSB series with observed targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = {
        "ssb_measures_age_0_2": "centre_measures_age_0_2",
        BED_DAYS_COLUMNS[bed_days]: "centre_bed_days",
        "ssb_children_present_dec31": "children_in_centres_31dec",
    }
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (metric, target) in zip(axes, metrics.items(), strict=True):
        for label, runs in (("full model", full), ("price only", price_only)):
            stack = pd.concat([r[metric] for r in runs], axis=1).loc[2019:2024]
            ax.plot(stack.index, stack.mean(axis=1), marker=".", label=label)
            ax.fill_between(
                stack.index,
                stack.quantile(0.05, axis=1),
                stack.quantile(0.95, axis=1),
                alpha=0.2,
            )
        rows = targets[(targets["target"] == target) & (targets["year"] >= 2019)]
        ax.errorbar(
            rows["year"],
            rows["value"],
            yerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
            fmt="o",
            color="black",
            capsize=3,
            label="SSB (low-high)",
        )
        ax.axvline(2021.5, color="grey", linestyle="--", linewidth=1)
        ax.set_title(metric, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = out / "price_only.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
