"""Calibration of the free behavioural parameters against Statistics Norway (issue 5).

The history scenario (experiments/scenarios/history.toml: 2012 warm-up, then 2013-2024) is run
with a parameter set on a few fixed seeds (common random numbers across trials); the simulated
national series are compared with the targets in model/data/calibration_targets.csv (the
project's copy of the shared calibration targets, with their sources). Optuna's TPE sampler
minimises

    loss = mean over targets of ((simulated mean - observed) / half-width of the band)^2

so a target at the edge of its low-high band costs 1. ``calibrate`` writes the best parameter
set (``calibrated_parameters.toml``), and ``fit_report`` runs it on more seeds and writes the
simulated mean and 90 % band against every target, as a table and plots. docs/calibration.md
explains the method and the results.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sfbsim.experiments.execution import SERIES_KIND, Executor, Task
from sfbsim.model.parameter_files import PARAMETER_DIR, entries, write_values
from sfbsim.model.parameters import Parameters, Scenario

TARGETS_FILE = Path(__file__).resolve().parents[1] / "model" / "data" / "calibration_targets.csv"
FIRST_HISTORY_YEAR = 2013
"""Years before this are warm-up and never compared with data."""

CALIBRATION_RECORD = Path(__file__).resolve().parents[1] / "model" / "data" / "calibration.toml"
"""How the shipped calibrated values were found ([meta], written with --write-defaults)."""
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
ACTS_FROM_YEAR: dict[str, int] = {"mandate_familiarity_loss": 2023}
"""Free parameters that act only from a year (through a dated change of the history scenario).
A fit that ends before that year cannot identify them: it holds them at their priors."""

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
        text = scenario.model_dump_json()
        tasks = [Task("", int(seed), text, self.data_dir, kind=SERIES_KIND) for seed in seeds]
        found: dict[int, pd.DataFrame] = {}
        self.executor.run(tasks, lambda result: found.__setitem__(result.seed, result.series))
        return [found[int(seed)] for seed in seeds]


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


BAND_MARGIN = 0.2
"""The inner band: a target's band less this share of its half-width at either edge."""
BAND_PENALTY = 25.0
"""Weight of the squared distance (in half-widths) of a simulated mean outside the inner band."""


def loss(targets: pd.DataFrame, simulated: pd.DataFrame, mask: pd.Series | None = None) -> float:
    """Mean over targets of the squared distance of the simulated mean from the observed value,
    in band half-widths, plus ``BAND_PENALTY`` times the squared distance outside the inner band.

    The first term centres the fit; the second makes leaving a band (the acceptance criterion)
    much dearer than moving within it: at a band's edge the loss is 1 + 1 = 2, at its centre 0.
    """
    mean = simulated.mean(axis=1)
    half = (targets["high"] - targets["low"]) / 2.0
    inner_low = targets["low"] + BAND_MARGIN * half
    inner_high = targets["high"] - BAND_MARGIN * half
    outside = (inner_low - mean).clip(lower=0) + (mean - inner_high).clip(lower=0)
    z = ((mean - targets["value"]) / half) ** 2 + BAND_PENALTY * (outside / half) ** 2
    if mask is not None:
        z = z[mask]
    z = z.fillna(25.0)  # a target the run does not produce counts as badly missed
    return float(z.mean()) if len(z) else 0.0


# --- the optimisation -------------------------------------------------------------------------
@dataclass
class CalibrationResult:
    """The best parameter set and the trials that led to it."""

    best: dict[str, float]
    best_loss: float
    trials: pd.DataFrame
    fit_years: tuple[int, int]
    seeds: list[int]


def fit_mask(targets: pd.DataFrame, fit_until: int | None) -> pd.Series:
    """Targets used in the fit: from the first history year to ``fit_until`` (inclusive)."""
    last = fit_until if fit_until is not None else int(targets["year"].max())
    return (targets["year"] >= FIRST_HISTORY_YEAR) & (targets["year"] <= last)


def fit_parameters(
    scenario: Scenario,
    targets: pd.DataFrame,
    *,
    trials: int = 60,
    reps: int = 2,
    fit_until: int | None = None,
    seed: int = 0,
    jobs: int = 2,
    data_dir: Path | None = None,
    start: dict[str, float] | None = None,
    free: dict[str, tuple[float, float]] | None = None,
    bed_days: str = "calendar",
    refine: float = 0.5,
    progress: Callable[[int, float, float], None] | None = None,
) -> CalibrationResult:
    """Fit the free parameters with Optuna's TPE sampler (seeded, so the search is repeatable).

    Every trial runs ``reps`` replications on the same seeds 1..reps (common random numbers).
    The first trial is ``start``: by default the shipped (calibrated) defaults, or with
    ``fit_until`` the priors (the values before any calibration), so that an out-of-sample fit
    uses no information from the later years.
    Two stages: a global search over the full ranges, then (the share ``refine`` of the trials) a
    local search over ranges narrowed to +-10 % of each range around the best so far, starting
    from it. Rerunning the calibration therefore refines the shipped values.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    free = free or FREE_PARAMETERS
    mask = fit_mask(targets, fit_until)
    seeds = list(range(1, reps + 1))
    defaults = Parameters().model_dump()
    if fit_until is not None:
        defaults.update(PRIOR_DEFAULTS)
    first = {name: float((start or {}).get(name, defaults[name])) for name in free}
    first = {name: min(max(v, free[name][0]), free[name][1]) for name, v in first.items()}
    last = fit_until if fit_until is not None else int(targets["year"].max())
    held = {name: first[name] for name in free if ACTS_FROM_YEAR.get(name, 0) > last}
    free = {name: bounds for name, bounds in free.items() if name not in held}
    first = {name: first[name] for name in free}
    n_local = int(round(trials * refine)) if trials > 1 else 0
    stages = [(trials - n_local, free), (n_local, None)]
    rows: list[dict[str, Any]] = []
    best, best_value = dict(first), math.inf
    number = 0
    with Replicator(jobs, data_dir) as replicator:
        for stage, (n_trials, ranges) in enumerate(stages):
            if n_trials <= 0:
                continue
            if ranges is None:  # local stage: +-10 % of each range around the best so far
                ranges = {
                    name: (
                        max(low, best[name] - 0.1 * (high - low)),
                        min(high, best[name] + 0.1 * (high - low)),
                    )
                    for name, (low, high) in free.items()
                }
            sampler = optuna.samplers.TPESampler(
                seed=seed + stage, n_startup_trials=min(10, max(1, n_trials // 4))
            )
            study = optuna.create_study(direction="minimize", sampler=sampler)
            study.enqueue_trial({name: best[name] for name in free})
            for _ in range(n_trials):
                trial = study.ask()
                values = {
                    name: trial.suggest_float(name, low, high)
                    for name, (low, high) in ranges.items()
                }
                values.update(held)
                try:
                    scenario_k = with_parameters(scenario, values)
                    simulated = simulated_targets(replicator, scenario_k, targets, seeds, bed_days)
                    value = loss(targets, simulated, mask)
                except ValueError:  # parameters the validators reject
                    value = math.inf
                study.tell(trial, value if math.isfinite(value) else 1e9)
                rows.append({"trial": number, "stage": stage, "loss": value, **values})
                if value < best_value:
                    best, best_value = dict(values), value
                if progress is not None:
                    progress(number, value, best_value)
                number += 1
    best = {name: float(v) for name, v in {**best, **held}.items()}
    return CalibrationResult(
        best=best,
        best_loss=float(best_value),
        trials=pd.DataFrame(rows),
        fit_years=(FIRST_HISTORY_YEAR, last),
        seeds=seeds,
    )


# --- outputs ----------------------------------------------------------------------------------
def rounded(values: dict[str, float]) -> dict[str, float]:
    """Values rounded to 4 significant digits (what the parameter file ships)."""
    return {name: float(f"{v:.4g}") for name, v in values.items()}


def write_parameter_file(
    path: Path, values: dict[str, float], meta: dict[str, Any] | None = None
) -> Path:
    """Write ``[parameters]`` (and a ``[meta]`` record of how they were found) as TOML."""
    lines = [
        "# Fitted behavioural parameters (sfbsim calibrate, experiments/calibration.py).",
        "# With --write-defaults they are also written into model/data/parameters/; method,",
        "# fit and limits: docs/calibration.md.",
        "",
        "[meta]",
    ]
    for key, value in (meta or {}).items():
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    lines += ["", "[parameters]"]
    for name in Parameters.model_fields:
        if name in values:
            lines.append(f"{name} = {values[name]!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_parameter_file(path: Path) -> dict[str, float]:
    """The ``[parameters]`` of a fit's parameter file (``calibrated_parameters.toml``)."""
    return dict(tomllib.loads(path.read_text(encoding="utf-8")).get("parameters", {}))


def shipped_values() -> dict[str, float]:
    """The shipped (calibrated) values of the free parameters."""
    defaults = Parameters()
    return {name: getattr(defaults, name) for name in FREE_PARAMETERS}


def write_defaults_files(
    values: dict[str, float], meta: dict[str, Any], folder: Path = PARAMETER_DIR
) -> list[Path]:
    """Make ``values`` the shipped defaults: into the parameter files, and ``meta`` into the
    calibration record."""
    source = (
        f"CALIBRATED: fitted to Statistics Norway's series {meta.get('fitted_years', '')} in the "
        "history replay (docs/calibration.md)"
    )
    files = write_values(values, source, folder)
    lines = [
        "# How the shipped calibrated values were found (sfbsim calibrate --write-defaults).",
        "",
    ]
    lines.append("[meta]")
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()]
    CALIBRATION_RECORD.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [*files, CALIBRATION_RECORD]


def fit_table(
    targets: pd.DataFrame, simulated: pd.DataFrame, fit_until: int | None = None
) -> pd.DataFrame:
    """Every target with the simulated mean and 90 % band over replications, inside or not."""
    table = targets[["target", "year", "value", "low", "high"]].copy()
    table["sim_mean"] = simulated.mean(axis=1)
    table["sim_p05"] = simulated.quantile(0.05, axis=1)
    table["sim_p95"] = simulated.quantile(0.95, axis=1)
    table["inside"] = (table["sim_mean"] >= table["low"]) & (table["sim_mean"] <= table["high"])
    table["miss_pct"] = np.where(
        table["inside"],
        0.0,
        np.where(
            table["sim_mean"] < table["low"],
            (table["sim_mean"] - table["low"]) / table["low"] * 100,
            (table["sim_mean"] - table["high"]) / table["high"] * 100,
        ),
    ).round(1)
    last = fit_until if fit_until is not None else int(targets["year"].max())
    table["sample"] = np.where(table["year"] <= last, "in-sample", "out-of-sample")
    table["reps"] = simulated.shape[1]
    return table


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


def plot_fit(
    table: pd.DataFrame,
    runs: list[pd.DataFrame],
    out: Path,
    fit_until: int | None = None,
    bed_days: str = "calendar",
) -> Path:
    """One panel per target series: simulated mean and 90 % band by year, targets with bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(table["target"]))
    fig, axes = plt.subplots(
        math.ceil(len(names) / 2), 2, figsize=(11, 3.2 * math.ceil(len(names) / 2))
    )
    axes = np.atleast_1d(axes).ravel()
    for ax, name in zip(axes, names, strict=False):
        column = target_columns(bed_days).get(name, name)
        stack = pd.concat([r[column] for r in runs], axis=1)
        stack = stack[stack.index >= FIRST_HISTORY_YEAR]
        ax.fill_between(
            stack.index, stack.quantile(0.05, axis=1), stack.quantile(0.95, axis=1), alpha=0.25
        )
        ax.plot(stack.index, stack.mean(axis=1), label="simulated mean (90 % band)")
        rows = table[table["target"] == name]
        ax.errorbar(
            rows["year"],
            rows["value"],
            yerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
            fmt="o",
            color="black",
            capsize=3,
            label="observed (low-high)",
        )
        if fit_until is not None:
            ax.axvline(fit_until + 0.5, color="grey", linestyle="--", linewidth=1)
        ax.set_title(f"{name} ({column})", fontsize=9)
        ax.set_xlabel("year")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = out / "fit.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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


def fit_report(
    scenario: Scenario,
    targets: pd.DataFrame,
    out: Path,
    *,
    reps: int = 100,
    fit_until: int | None = None,
    price_only: Scenario | None = None,
    jobs: int = 2,
    data_dir: Path | None = None,
    header: str = "",
    bed_days: str = "calendar",
) -> dict[str, pd.DataFrame]:
    """Run ``scenario`` (its parameters as given) on ``reps`` seeds and write the fit report.

    Writes fit.csv, fit.png, yearly_mean.csv and report.md to ``out``; with ``price_only`` also
    price_only.csv and price_only.png (2019-2024, both on the same seeds).
    """
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(1001, 1001 + reps))  # not the fitting seeds
    with Replicator(jobs, data_dir) as replicator:
        runs = replicator.series(scenario, seeds)
        other = replicator.series(price_only, seeds) if price_only is not None else None
    simulated = pd.DataFrame(
        {seed: target_values(s, targets, bed_days) for seed, s in zip(seeds, runs, strict=True)}
    )
    table = fit_table(targets, simulated, fit_until)
    table.to_csv(out / "fit.csv", index=False, lineterminator="\n")
    yearly = pd.concat(runs).groupby(level=0).mean()
    yearly.to_csv(out / "yearly_mean.csv", lineterminator="\n")
    plot_fit(table, runs, out, fit_until, bed_days)
    result = {"fit": table, "yearly_mean": yearly}
    lines = [header or "# Calibration fit report", ""]
    lines.append(
        f"Scenario `{scenario.name}`, {reps} replications (seeds {seeds[0]}-{seeds[-1]}, not the "
        f"fitting seeds); mean and 5-95 % band over replications. "
        f"Inside: {int(table['inside'].sum())} of {len(table)} targets."
    )
    for sample in ("in-sample", "out-of-sample"):
        part = table[table["sample"] == sample]
        if len(part):
            lines.append(f"- {sample}: {int(part['inside'].sum())} of {len(part)} inside")
    shown = table[
        ["target", "year", "value", "low", "high", "sim_mean", "sim_p05", "sim_p95", "inside"]
    ]
    shown = shown.assign(sample=table["sample"], miss_pct=table["miss_pct"])
    lines += ["", _markdown(shown), "", "![fit](fit.png)", ""]
    if other is not None:
        comparison = price_only_table(runs, other, range(2019, 2025), bed_days)
        comparison.to_csv(out / "price_only.csv", index=False, lineterminator="\n")
        plot_comparison(runs, other, targets, out, bed_days)
        result["price_only"] = comparison
        lines += [
            "## Full model vs price-only variant, 2019-2024",
            "",
            _markdown(comparison, "{:,.0f}"),
            "",
            "![price only](price_only.png)",
            "",
        ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return result


def report_defaults(
    scenario: Scenario,
    out: Path,
    *,
    reps: int = 100,
    price_only: Scenario | None = None,
    jobs: int = 2,
    data_dir: Path | None = None,
    targets_file: Path = TARGETS_FILE,
    bed_days: str = "calendar",
) -> dict[str, pd.DataFrame]:
    """The fit report of the current (shipped) defaults, without a search."""
    values = shipped_values()
    header = (
        "# Calibration fit report: the shipped defaults\n\nmodel/data/parameters/ (entries "
        "marked CALIBRATED; model/data/calibration.toml records how they were found).\n\n"
        + _markdown(
            pd.DataFrame({"parameter": list(values), "value": list(values.values())}), "{:.4g}"
        )
    )
    return fit_report(
        scenario,
        load_targets(targets_file),
        out,
        reps=reps,
        price_only=price_only,
        jobs=jobs,
        data_dir=data_dir,
        header=header,
        bed_days=bed_days,
    )


def run_calibration(
    scenario: Scenario,
    out: Path,
    *,
    trials: int,
    reps: int,
    report_reps: int,
    fit_until: int | None,
    seed: int,
    jobs: int,
    write_defaults: bool,
    parameter_folder: Path = PARAMETER_DIR,
    price_only: Scenario | None = None,
    data_dir: Path | None = None,
    targets_file: Path = TARGETS_FILE,
    start: dict[str, float] | None = None,
    bed_days: str = "calendar",
    refine: float = 0.5,
    progress: Callable[[int, float, float], None] | None = None,
) -> dict[str, Any]:
    """Fit, write the parameter file (to ``out``, and as the shipped defaults if asked), report."""
    targets = load_targets(targets_file)
    result = fit_parameters(
        scenario,
        targets,
        trials=trials,
        reps=reps,
        fit_until=fit_until,
        seed=seed,
        jobs=jobs,
        data_dir=data_dir,
        start=start,
        bed_days=bed_days,
        refine=refine,
        progress=progress,
    )
    out.mkdir(parents=True, exist_ok=True)
    result.trials.to_csv(out / "trials.csv", index=False, lineterminator="\n")
    best = rounded(result.best)
    meta = {
        "scenario": scenario.name,
        "fitted_years": f"{result.fit_years[0]}-{result.fit_years[1]}",
        "targets": str(targets_file.name),
        "sampler": "optuna TPESampler",
        "sampler_seed": seed,
        "trials": trials,
        "local_share": refine,
        "replications_per_trial": reps,
        "fitting_seeds": result.seeds,
        "loss": round(result.best_loss, 4),
        "bed_days": bed_days,
        "written": dt.date.today().isoformat(),
    }
    files = [write_parameter_file(out / "calibrated_parameters.toml", best, meta)]
    if write_defaults:
        files += write_defaults_files(best, meta, parameter_folder)
    calibrated = with_parameters(scenario, best)
    other = with_parameters(price_only, best) if price_only is not None else None
    header = (
        f"# Calibration fit report\n\nFitted on {meta['fitted_years']} with {trials} TPE trials "
        f"x {reps} replications; best loss {meta['loss']} (mean squared distance in band "
        "half-widths over the fitted targets).\n\n"
        + _markdown(pd.DataFrame({"parameter": list(best), "value": list(best.values())}), "{:.4g}")
    )
    report = fit_report(
        calibrated,
        targets,
        out,
        reps=report_reps,
        fit_until=fit_until,
        price_only=other,
        jobs=jobs,
        data_dir=data_dir,
        header=header,
        bed_days=bed_days,
    )
    return {"best": best, "loss": result.best_loss, "files": files, **report}
