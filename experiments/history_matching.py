"""Bayesian calibration of the free behavioural parameters: history matching with Gaussian-process
emulators, then the posterior sampled on the emulators (docs/calibration.md).

Why this method. A history replication costs about a second, so the thousands of runs an
ABC-SMC needs for fifteen parameters do not fit the two-hour budget on two cores, and neural
posterior estimation needs PyTorch. History matching (Vernon, Goldstein and Bower 2010;
Andrianakis et al. 2015) spends the runs where they matter: each wave fits one Gaussian-process
emulator per target to the runs so far, rules out the parameter sets whose implausibility

    I_k(θ) = |z_k − μ_k(θ)| / sqrt(σ²_emulator,k(θ) + σ²_run,k + σ²_observation,k)

exceeds ``cutoff`` for some target k, and runs the next wave inside what is left. The posterior
is then sampled with an ensemble MCMC (emcee) on the emulators' Gaussian likelihood, which
carries all three variances: the emulator's own uncertainty, the run-to-run noise of the model
(estimated from the replicated runs: two seeds per design point) and an observation error per
target (the half-width of its low-high band read as a 90 % interval). Targets are compared on a
log scale (they are positive counts and means).

Everything is stored as it is made (``runs.duckdb`` in the output folder, committed run by run),
so an interrupted calibration resumes where it stopped; the designs and the MCMC are seeded, so a
rerun reproduces the same posterior.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sfbsim.experiments.calibration import (
    FIRST_HISTORY_YEAR,
    Replicator,
    target_values,
    with_parameters,
)
from sfbsim.experiments.execution import SERIES_KIND, Task
from sfbsim.model.parameter_files import entries
from sfbsim.model.parameters import Scenario

RUNS_DB = "runs.duckdb"
Progress = Callable[[str], None]


# --- priors and observations ------------------------------------------------------------------
@dataclass(frozen=True)
class Prior:
    """A free parameter's prior: uniform over [low, high] (the ``range`` of its
    ``[NAME.prior]`` in model/data/parameters/, with the source stated there)."""

    name: str
    low: float
    high: float
    source: str

    def to_value(self, unit: np.ndarray) -> np.ndarray:
        return self.low + unit * (self.high - self.low)

    def to_unit(self, value: Any) -> Any:
        return (np.asarray(value, dtype=float) - self.low) / (self.high - self.low)

    @property
    def sd(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)


def free_priors() -> list[Prior]:
    """Every parameter with a prior range in the parameter files, in file order."""
    out = []
    for name, entry in entries("parameters").items():
        prior = entry.prior
        if prior is not None and prior.low is not None and prior.high is not None:
            out.append(Prior(name, float(prior.low), float(prior.high), prior.source))
    return out


@dataclass
class Observations:
    """The targets on the emulators' scale: log of the observed value, and the observation
    variance from the band (half-width as 1.645 standard deviations)."""

    targets: pd.DataFrame
    z: np.ndarray
    obs_var: np.ndarray

    @classmethod
    def of(cls, targets: pd.DataFrame) -> Observations:
        value = targets["value"].to_numpy(float)
        half = (targets["high"] - targets["low"]).to_numpy(float) / 2.0
        sd_log = half / value / 1.645
        return cls(targets.reset_index(drop=True), np.log(value), sd_log**2)

    def mask(self, fit_until: int | None) -> np.ndarray:
        years = self.targets["year"].to_numpy()
        last = fit_until if fit_until is not None else years.max()
        return (years >= FIRST_HISTORY_YEAR) & (years <= last)


# --- the runs -----------------------------------------------------------------------------------
class RunStore:
    """The runs of a calibration, one row per (stage, point, seed), committed as they finish:
    the parameter values and the targets' simulated values (JSON)."""

    def __init__(self, folder: Path) -> None:
        import duckdb

        from sfbsim.experiments.store import check_database_file

        path = Path(folder) / RUNS_DB
        if path.exists():
            check_database_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(
            str(path),
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS runs (stage VARCHAR, point INTEGER, seed BIGINT, "
            "params VARCHAR, values VARCHAR, seconds DOUBLE, PRIMARY KEY (stage, point, seed))"
        )

    def close(self) -> None:
        self.con.close()

    def totals(self) -> tuple[int, float]:
        """How many runs are stored and their summed run time in seconds (over all workers and
        every invocation, so a resumed calibration still reports its whole cost)."""
        count, seconds = self.con.execute("SELECT count(*), sum(seconds) FROM runs").fetchone()
        return int(count), float(seconds or 0.0)

    def done(self, stage: str) -> set[tuple[int, int]]:
        rows = self.con.execute("SELECT point, seed FROM runs WHERE stage = ?", [stage]).fetchall()
        return {(int(p), int(s)) for p, s in rows}

    def add(self, stage: str, point: int, seed: int, params: dict, values: list, secs: float):
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [stage, point, seed, json.dumps(params), json.dumps(values), secs],
        )

    def frame(self, stages: Sequence[str]) -> pd.DataFrame:
        marks = ", ".join("?" for _ in stages)
        return self.con.execute(
            f"SELECT stage, point, seed, params, values FROM runs WHERE stage IN ({marks}) "
            "ORDER BY stage, point, seed",
            list(stages),
        ).df()


def point_seed(stage: str, point: int, replicate: int) -> int:
    """The seed of one replicate of one design point: different for every point and stage.

    Not common random numbers: with the same few seeds at every point the emulators learn the
    model *at those seeds*, and their luck becomes a bias of the posterior (with seeds 1 and 2
    at every point, runs at the posterior on other seeds came out 5-20 % higher on every
    target). Independent seeds leave the noise to the emulators' nugget, as it should be."""
    digits = "".join(ch for ch in stage if ch.isdigit())
    stage_number = int(digits) if digits else 9
    return 1_000_000 * stage_number + 100 * point + replicate


def run_points(
    store: RunStore,
    stage: str,
    points: np.ndarray,
    seeds: Sequence[int],
    priors: Sequence[Prior],
    scenario: Scenario,
    targets: pd.DataFrame,
    replicator: Replicator,
    progress: Progress | None = None,
) -> None:
    """Run every point (rows of parameter values) on every replicate seed, skipping what is
    stored. Each point gets seeds of its own (:func:`point_seed`)."""
    done = store.done(stage)
    todo = [
        (i, point_seed(stage, i, s))
        for i in range(len(points))
        for s in seeds
        if (i, point_seed(stage, i, s)) not in done
    ]
    if progress is not None and todo:
        progress(f"{stage}: {len(todo)} runs to do ({len(done)} stored)")
    clock = time.perf_counter()
    tasks, keys = [], {}
    for n, (i, s) in enumerate(todo):
        scenario_i = with_parameters(scenario, _values(priors, points[i]))
        tasks.append(
            Task(
                str(n), int(s), scenario_i.model_dump_json(), replicator.data_dir, kind=SERIES_KIND
            )
        )
        keys[str(n)] = (i, s)
    finished = [0]

    def keep(result: Any) -> None:
        i, s = keys[result.param_hash]
        values = target_values(result.series, targets).tolist()
        store.add(stage, i, s, _values(priors, points[i]), values, result.seconds)
        finished[0] += 1
        if progress is not None and (finished[0] % 20 == 0 or finished[0] == len(todo)):
            rate = (time.perf_counter() - clock) / finished[0]
            progress(
                f"{stage}: {finished[0]}/{len(todo)} runs, about "
                f"{rate * (len(todo) - finished[0]) / 60:.0f} min to go"
            )

    replicator.executor.run(tasks, keep)


def _values(priors: Sequence[Prior], row: np.ndarray) -> dict[str, float]:
    return {p.name: float(v) for p, v in zip(priors, row, strict=True)}


def design_matrix(
    frame: pd.DataFrame, priors: Sequence[Prior]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit-scaled parameters per point, mean log values per point, replicate variance of
    the log values per target, pooled) from stored runs."""
    params = np.array([[json.loads(p)[q.name] for q in priors] for p in frame["params"]])
    values = np.array([json.loads(v) for v in frame["values"]], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(values > 0, values, np.nan))
    keys = list(zip(frame["stage"], frame["point"], strict=True))
    order: dict[tuple, list[int]] = {}
    for row, key in enumerate(keys):
        order.setdefault(key, []).append(row)
    unit = np.array(
        [[q.to_unit(params[rows[0], j]) for j, q in enumerate(priors)] for rows in order.values()]
    )
    pairs = [logs[rows] for rows in order.values() if len(rows) > 1]
    # a target that is zero in a run has no log: its mean and variance count fewer runs (NaN
    # where none is left, which the emulators leave out), without a warning to the user
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.array([np.nanmean(logs[rows], axis=0) for rows in order.values()])
        if pairs:
            within = np.nanmean([np.nanvar(p, axis=0, ddof=1) for p in pairs], axis=0)
        else:
            within = np.full(logs.shape[1], np.nan)
    return unit, means, within


# --- the emulators -------------------------------------------------------------------------------
@dataclass
class Emulator:
    """One Gaussian process per target on the unit-scaled parameters (scikit-learn), fitted to
    the mean log value of each design point; the run-to-run noise of that mean is the GP's
    fixed nugget."""

    run_var: np.ndarray
    replicates: float
    models: list[Any] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)

    @classmethod
    def fit(
        cls,
        unit: np.ndarray,
        means: np.ndarray,
        run_var: np.ndarray,
        replicates: float,
        seed: int = 0,
        max_points: int = 600,
    ) -> Emulator:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel

        rng = np.random.default_rng(seed)
        emulator = cls(np.nan_to_num(run_var, nan=0.0), replicates)
        d = unit.shape[1]
        for k in range(means.shape[1]):
            ok = np.isfinite(means[:, k])
            if ok.sum() < 4:  # a target the runs do not produce (a year outside the run)
                emulator.models.append(None)
                emulator.validation.append(float("nan"))
                continue
            x, y = unit[ok], means[ok, k]
            if len(y) > max_points:
                keep = rng.choice(len(y), max_points, replace=False)
                x, y = x[keep], y[keep]
            held = rng.random(len(y)) < 0.1  # a tenth held out to validate the emulator
            scale = float(np.var(y[~held])) or 1.0
            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(d, 0.5), (0.02, 100.0))
            model = GaussianProcessRegressor(
                kernel,
                alpha=max(emulator.run_var[k] / replicates, 1e-8) / scale,
                normalize_y=True,
                n_restarts_optimizer=0,
                random_state=seed,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(x[~held], y[~held])
            emulator.models.append(model)
            if held.sum() >= 3:
                predicted = model.predict(x[held])
                residual = np.sum((y[held] - predicted) ** 2)
                total = np.sum((y[held] - y[held].mean()) ** 2) or 1.0
                emulator.validation.append(float(1 - residual / total))
            else:
                emulator.validation.append(float("nan"))
        return emulator

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and emulator variance of every target (log scale) at each row of ``unit``."""
        unit = np.atleast_2d(unit)
        means, variances = [], []
        for model in self.models:
            if model is None:
                means.append(np.full(len(unit), np.nan))
                variances.append(np.full(len(unit), np.nan))
                continue
            mean, sd = model.predict(unit, return_std=True)
            means.append(mean)
            variances.append(sd**2)
        return np.array(means).T, np.array(variances).T


def implausibility(
    emulator: Emulator, observations: Observations, mask: np.ndarray, unit: np.ndarray
) -> np.ndarray:
    """Per row of ``unit``: the largest implausibility over the fitted targets."""
    mean, var = emulator.predict(unit)
    total = var + emulator.run_var + observations.obs_var
    score = np.abs(observations.z - mean) / np.sqrt(total)
    return np.nanmax(np.where(mask, score, 0.0), axis=1)


def region_sample(
    emulator: Emulator | None,
    observations: Observations,
    mask: np.ndarray,
    n: int,
    d: int,
    cutoff: float,
    seed: int,
) -> tuple[np.ndarray, float]:
    """``n`` points of a Latin hypercube over the prior box (wave 1), or (later waves) ``n``
    points of the non-implausible region, drawn from a large hypercube; also the share of the
    prior box that is still non-implausible."""
    from scipy.stats import qmc

    if emulator is None:
        return qmc.LatinHypercube(d=d, seed=seed).random(n), 1.0
    pool = qmc.LatinHypercube(d=d, seed=seed).random(40 * n)
    score = np.concatenate(
        [implausibility(emulator, observations, mask, chunk) for chunk in np.array_split(pool, 40)]
    )
    keep = score <= cutoff
    share = float(keep.mean())
    ranked = np.argsort(score)
    chosen = ranked[: max(n, int(keep.sum()))]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(chosen, size=min(n, len(chosen)), replace=False)
    return pool[np.sort(chosen)], share


# --- the posterior --------------------------------------------------------------------------------
def log_likelihood(
    emulator: Emulator, observations: Observations, mask: np.ndarray, unit: np.ndarray
) -> np.ndarray:
    """Gaussian log-likelihood of the fitted targets at each row of ``unit`` (uniform prior:
    -inf outside the unit box)."""
    unit = np.atleast_2d(unit)
    inside = np.all((unit >= 0) & (unit <= 1), axis=1)
    out = np.full(len(unit), -np.inf)
    if inside.any():
        mean, var = emulator.predict(unit[inside])
        total = var + emulator.run_var + observations.obs_var
        terms = -0.5 * ((observations.z - mean) ** 2 / total + np.log(2 * np.pi * total))
        out[inside] = np.nansum(np.where(mask, terms, 0.0), axis=1)
    return out


def sample_posterior(
    emulator: Emulator,
    observations: Observations,
    mask: np.ndarray,
    start: np.ndarray,
    draws: int,
    steps: int,
    seed: int,
    walkers: int = 40,
) -> tuple[np.ndarray, dict[str, Any]]:
    """``draws`` posterior draws (unit scale) from an emcee ensemble started around ``start``
    (rows: the best design points); diagnostics: acceptance, autocorrelation time."""
    import logging

    import emcee

    logging.getLogger("emcee").setLevel(logging.ERROR)  # short chains: diagnostics say so
    d = start.shape[1]
    rng = np.random.default_rng(seed)
    initial = start[rng.integers(0, len(start), walkers)]
    initial = np.clip(initial + rng.normal(0, 0.01, initial.shape), 0.001, 0.999)
    sampler = emcee.EnsembleSampler(
        walkers,
        d,
        lambda x: log_likelihood(emulator, observations, mask, x),
        vectorize=True,
    )
    sampler.random_state = np.random.RandomState(seed).get_state()  # a seeded, repeatable chain
    sampler.run_mcmc(initial, steps, progress=False)
    burn = steps // 2
    chain = sampler.get_chain(discard=burn, flat=True)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = sampler.get_autocorr_time(discard=burn, quiet=True)
    except Exception:  # noqa: BLE001 - a short chain: report what is known
        tau = np.full(d, np.nan)
    pick = rng.choice(len(chain), size=min(draws, len(chain)), replace=False)
    diagnostics = {
        "walkers": walkers,
        "steps": steps,
        "burn_in": burn,
        "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
        "autocorrelation_time_max": float(np.nanmax(tau)) if np.isfinite(tau).any() else None,
        "effective_draws": float(len(chain) / np.nanmax(tau)) if np.isfinite(tau).any() else None,
    }
    return chain[pick], diagnostics


# --- the whole calibration ------------------------------------------------------------------
@dataclass
class Settings:
    """Sizes of a calibration (the shipped one: docs/calibration.md)."""

    waves: int = 3
    points: int = 300
    seeds: tuple[int, ...] = (1, 2)
    cutoff: float = 3.0
    draws: int = 400
    steps: int = 1200
    predictive: int = 200
    recovery: int = 12
    fit_until: int | None = None
    seed: int = 0


@dataclass
class Posterior:
    """Weighted posterior draws of the free parameters and how they were found."""

    draws: pd.DataFrame  # one column per parameter, plus ``weight``
    manifest: dict[str, Any]

    def mean(self) -> dict[str, float]:
        weights = self.draws["weight"].to_numpy()
        return {
            c: float(np.average(self.draws[c], weights=weights))
            for c in self.draws.columns
            if c != "weight"
        }


def calibrate_posterior(
    scenario: Scenario,
    targets: pd.DataFrame,
    out: Path,
    settings: Settings,
    jobs: int = 2,
    progress: Progress | None = None,
) -> tuple[Posterior, Emulator, Observations]:
    """History matching in ``settings.waves`` waves, then the posterior (see the module)."""
    started = time.perf_counter()
    priors = free_priors()
    d = len(priors)
    observations = Observations.of(targets)
    mask = observations.mask(settings.fit_until)
    store = RunStore(out)
    waves: list[dict[str, Any]] = []
    emulator: Emulator | None = None
    try:
        with Replicator(jobs) as replicator:
            for wave in range(1, settings.waves + 1):
                points, share = region_sample(
                    emulator,
                    observations,
                    mask,
                    settings.points,
                    d,
                    settings.cutoff,
                    settings.seed + wave,
                )
                stage = f"wave{wave}"
                run_points(
                    store,
                    stage,
                    np.array(
                        [
                            [p.to_value(u) for p, u in zip(priors, row, strict=True)]
                            for row in points
                        ]
                    ),
                    settings.seeds,
                    priors,
                    scenario,
                    targets,
                    replicator,
                    progress,
                )
                frame = store.frame([f"wave{w}" for w in range(1, wave + 1)])
                unit, means, within = design_matrix(frame, priors)
                if emulator is not None:  # fit to the region still in play
                    alive = implausibility(emulator, observations, mask, unit) <= settings.cutoff
                    if alive.sum() >= 50:
                        unit, means = unit[alive], means[alive]
                emulator = Emulator.fit(
                    unit, means, within, float(len(settings.seeds)), seed=settings.seed
                )
                waves.append(
                    {
                        "wave": wave,
                        "points": int(len(points)),
                        "runs": int(len(points) * len(settings.seeds)),
                        "non_implausible_share_before": share,
                        "emulator_points": int(len(unit)),
                        "emulator_validation_r2": dict(
                            zip(_target_names(targets), emulator.validation, strict=True)
                        ),
                    }
                )
                if progress is not None:
                    progress(f"wave {wave}: emulators fitted ({len(unit)} points)")
        assert emulator is not None
        frame = store.frame([f"wave{w}" for w in range(1, settings.waves + 1)])
        unit, _, _ = design_matrix(frame, priors)
        score = implausibility(emulator, observations, mask, unit)
        start = unit[np.argsort(score)[:40]]
        chain, diagnostics = sample_posterior(
            emulator, observations, mask, start, settings.draws, settings.steps, settings.seed
        )
        stored_runs, stored_seconds = store.totals()
    finally:
        store.close()
    draws = pd.DataFrame({p.name: p.to_value(chain[:, j]) for j, p in enumerate(priors)}).assign(
        weight=1.0 / len(chain)
    )
    manifest = {
        "method": "history matching with Gaussian-process emulators (scikit-learn), then an "
        "ensemble MCMC (emcee) on the emulators' Gaussian likelihood",
        "references": [
            "Vernon, Goldstein and Bower (2010), Galaxy formation: a Bayesian uncertainty "
            "analysis, Bayesian Analysis 5(4)",
            "Andrianakis et al. (2015), Bayesian history matching of complex infectious disease "
            "models using emulation, PLoS Computational Biology 11(1)",
            "Foreman-Mackey et al. (2013), emcee: the MCMC hammer, PASP 125",
        ],
        "scenario": scenario.name,
        "targets": int(mask.sum()),
        "fitted_years": f"{FIRST_HISTORY_YEAR}-{int(targets['year'][mask].max())}",
        "priors": [asdict(p) for p in priors],
        "likelihood": "Gaussian on log values: emulator variance + run-to-run variance "
        "(replicates) + observation variance (band half-width = 1.645 sd)",
        "settings": {**asdict(settings), "seeds": list(settings.seeds)},
        "waves": waves,
        "mcmc": diagnostics,
        "draws": int(len(draws)),
        "run_time_minutes": round((time.perf_counter() - started) / 60, 1),
        "run_time_note": "wall time of the invocation that wrote this posterior; after a "
        "resume, stored runs are not rerun: simulation_minutes is the summed time of every run "
        f"stored, over {jobs} worker(s)",
        "simulation_runs": stored_runs,
        "simulation_minutes": round(stored_seconds / 60, 1),
        "written": dt.date.today().isoformat(),
    }
    return Posterior(draws, manifest), emulator, observations


def _target_names(targets: pd.DataFrame) -> list[str]:
    return [f"{t}_{y}" for t, y in zip(targets["target"], targets["year"], strict=True)]


# --- checks ---------------------------------------------------------------------------------------
PREDICTIVE_COLUMNS = [
    "target",
    "year",
    "observed",
    "pi50_low",
    "pi50_high",
    "pi90_low",
    "pi90_high",
    "inside90",
]


def predictive_table(
    targets: pd.DataFrame, simulated: np.ndarray, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """Observed values against the 50 % and 90 % intervals of single runs drawn over the
    posterior (``simulated``: runs × targets)."""
    table = pd.DataFrame({"target": targets["target"], "year": targets["year"]})
    table["observed"] = targets["value"].to_numpy(float)
    with warnings.catch_warnings():  # a target a run does not produce: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        for low, high, name in ((25, 75, "pi50"), (5, 95, "pi90")):
            table[f"{name}_low"] = np.nanpercentile(simulated, low, axis=0)
            table[f"{name}_high"] = np.nanpercentile(simulated, high, axis=0)
    table["inside90"] = (table["observed"] >= table["pi90_low"]) & (
        table["observed"] <= table["pi90_high"]
    )
    table["width90_share"] = (table["pi90_high"] - table["pi90_low"]) / table["observed"]
    if rows is not None:
        table = table[rows]
    return table.reset_index(drop=True)


def simulate_series(
    scenario: Scenario,
    draws: pd.DataFrame,
    n: int,
    first_seed: int,
    jobs: int,
    seed: int,
) -> list[pd.DataFrame]:
    """The national series of single runs of ``n`` posterior draws (chosen by weight with
    ``seed``), on seeds first_seed, first_seed + 1, ..."""
    rng = np.random.default_rng(seed)
    weights = draws["weight"].to_numpy()
    chosen = rng.choice(len(draws), size=n, replace=True, p=weights / weights.sum())
    names = [c for c in draws.columns if c != "weight"]
    with Replicator(jobs) as replicator:
        runs = [
            (with_parameters(scenario, draws.iloc[i][names].to_dict()), first_seed + k)
            for k, i in enumerate(chosen)
        ]
        return replicator.series_of(runs)


def simulate_draws(
    scenario: Scenario,
    targets: pd.DataFrame,
    draws: pd.DataFrame,
    n: int,
    first_seed: int,
    jobs: int,
    seed: int,
) -> np.ndarray:
    """The targets' values in single runs of ``n`` posterior draws: runs × targets."""
    series = simulate_series(scenario, draws, n, first_seed, jobs, seed)
    return np.array([target_values(s, targets).to_numpy() for s in series])


def price_only_check(
    scenario: Scenario,
    price_only: Scenario,
    targets: pd.DataFrame,
    posterior: Posterior,
    n: int,
    jobs: int,
    seed: int,
    out: Path,
) -> pd.DataFrame:
    """The full model and the price-only history (only the 2022 prices change) at the same
    posterior draws and seeds, 2019-2024 (price_only.csv and price_only.png): the price-only
    variant should fail to reproduce the fall in use."""
    from sfbsim.experiments.calibration import plot_comparison, price_only_table

    full = simulate_series(scenario, posterior.draws, n, 70_001, jobs, seed)
    other = simulate_series(price_only, posterior.draws, n, 70_001, jobs, seed)
    plot_comparison(full, other, targets, out)
    return price_only_table(full, other, range(2019, 2025))


def prior_sensitivity(posterior: Posterior, priors: Sequence[Prior]) -> pd.DataFrame:
    """How far each posterior moved from its prior: mean shift in prior sds, shrinkage of the
    variance, and whether the data identify the parameter (shrinkage of at least 0.2)."""
    draws, weights = posterior.draws, posterior.draws["weight"].to_numpy()
    rows = []
    for p in priors:
        values = draws[p.name].to_numpy()
        mean = float(np.average(values, weights=weights))
        sd = float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))
        prior_mean = (p.low + p.high) / 2
        lo, hi = np.quantile(values, [0.05, 0.95])
        shrinkage = 1 - (sd / p.sd) ** 2
        rows.append(
            {
                "parameter": p.name,
                "prior_low": p.low,
                "prior_high": p.high,
                "posterior_mean": mean,
                "posterior_sd": sd,
                "ci90_low": float(lo),
                "ci90_high": float(hi),
                "shift_in_prior_sd": (mean - prior_mean) / p.sd,
                "shrinkage": shrinkage,
                "identified": bool(shrinkage >= 0.2),
            }
        )
    return pd.DataFrame(rows)


def recovery_table(
    emulator: Emulator,
    observations: Observations,
    mask: np.ndarray,
    truths: np.ndarray,
    synthetic: np.ndarray,
    priors: Sequence[Prior],
    steps: int,
    seed: int,
    pool: np.ndarray,
) -> pd.DataFrame:
    """Parameter recovery: each row of ``synthetic`` (targets simulated at the known unit
    parameters ``truths``, runs not used to fit the emulators) is calibrated like the observed
    data; is each true value inside its 90 % credible interval?"""
    rows = []
    for i, (truth, values) in enumerate(zip(truths, synthetic, strict=True)):
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log(np.where(values > 0, values, np.nan))
        fake = Observations(observations.targets, z, observations.obs_var)
        ok = mask & np.isfinite(z)
        start = pool[np.argsort(-log_likelihood(emulator, fake, ok, pool))[:40]]
        chain, _ = sample_posterior(emulator, fake, ok, start, 400, steps, seed + i)
        for j, p in enumerate(priors):
            lo, hi = np.quantile(chain[:, j], [0.05, 0.95])
            rows.append(
                {
                    "setting": i,
                    "parameter": p.name,
                    "truth": float(p.to_value(truth[j])),
                    "ci90_low": float(p.to_value(lo)),
                    "ci90_high": float(p.to_value(hi)),
                    "rank": float(np.mean(chain[:, j] < truth[j])),
                    "inside90": bool(lo <= truth[j] <= hi),
                }
            )
    return pd.DataFrame(rows)


# --- the whole job: calibrate, check, write ------------------------------------------------------
POSTERIOR_FILE = "posterior.csv"
MANIFEST_FILE = "posterior.json"


def write_posterior(posterior: Posterior, folder: Path, stem: str = "posterior") -> list[Path]:
    """The draws (CSV, one column per parameter and ``weight``) and the manifest (JSON)."""
    from sfbsim.experiments.files import atomic_write_frame, atomic_write_text

    folder.mkdir(parents=True, exist_ok=True)
    return [
        atomic_write_frame(posterior.draws.round(6), folder / f"{stem}.csv"),
        atomic_write_text(
            folder / f"{stem}.json", json.dumps(posterior.manifest, indent=2, default=str) + "\n"
        ),
    ]


def read_posterior(folder: Path, stem: str = "posterior") -> Posterior:
    """A posterior written by :func:`write_posterior`."""
    draws = pd.read_csv(Path(folder) / f"{stem}.csv")
    manifest = json.loads((Path(folder) / f"{stem}.json").read_text(encoding="utf-8"))
    return Posterior(draws, manifest)


def _price_only_and_write(
    tables: dict[str, pd.DataFrame],
    scenario: Scenario,
    price_only: Scenario | None,
    targets: pd.DataFrame,
    posterior: Posterior,
    settings: Settings,
    jobs: int,
    out: Path,
    say: Callable[[str], None],
) -> None:
    """The last check of both check_posterior and report_shipped (the price-only variant at
    the same draws), then every table as CSV with its plot."""
    from sfbsim.experiments.files import atomic_write_frame

    if price_only is not None:
        say(f"price only: {settings.predictive // 2} runs of each variant")
        tables["price_only"] = price_only_check(
            scenario,
            price_only,
            targets,
            posterior,
            settings.predictive // 2,
            jobs,
            settings.seed,
            out,
        )
    for name, table in tables.items():
        atomic_write_frame(table, out / f"{name}.csv")
    plot_checks(tables, out)


def check_posterior(
    scenario: Scenario,
    targets: pd.DataFrame,
    out: Path,
    posterior: Posterior,
    emulator: Emulator,
    observations: Observations,
    settings: Settings,
    jobs: int,
    progress: Progress | None = None,
    price_only: Scenario | None = None,
) -> dict[str, pd.DataFrame]:
    """The checks that can fail, each as a CSV (and a plot) in ``out``: prior sensitivity,
    posterior predictive, out of sample (a posterior fitted to 2013-2019 only, predicting
    2020-2024) and parameter recovery on runs the emulators never saw."""
    priors = free_priors()
    tables: dict[str, pd.DataFrame] = {}
    tables["prior_sensitivity"] = prior_sensitivity(posterior, priors)
    say = progress or (lambda _m: None)
    say(f"predictive: {settings.predictive} runs over the posterior")
    simulated = simulate_draws(
        scenario, targets, posterior.draws, settings.predictive, 50_001, jobs, settings.seed
    )
    tables["predictive"] = predictive_table(targets, simulated)
    # out of sample: fitted to the years up to 2019, predicting the later ones
    mask_2019 = observations.mask(2019)
    store = RunStore(out)
    try:
        frame = store.frame([f"wave{w}" for w in range(1, settings.waves + 1)])
    finally:
        store.close()
    unit, _, _ = design_matrix(frame, priors)
    start = unit[np.argsort(-log_likelihood(emulator, observations, mask_2019, unit))[:40]]
    chain, diagnostics = sample_posterior(
        emulator, observations, mask_2019, start, settings.draws, settings.steps, settings.seed + 7
    )
    early = Posterior(
        pd.DataFrame({p.name: p.to_value(chain[:, j]) for j, p in enumerate(priors)}).assign(
            weight=1.0 / len(chain)
        ),
        {**posterior.manifest, "fitted_years": f"{FIRST_HISTORY_YEAR}-2019", "mcmc": diagnostics},
    )
    write_posterior(early, out, "posterior_until_2019")
    say(f"out of sample: {settings.predictive} runs over the posterior fitted to 2013-2019")
    simulated_early = simulate_draws(
        scenario, targets, early.draws, settings.predictive, 60_001, jobs, settings.seed + 7
    )
    later = targets["year"].to_numpy() >= 2020
    tables["out_of_sample"] = predictive_table(targets, simulated_early, later)
    # recovery: runs at points of the last wave's region, never used by the emulators
    say(f"recovery: {settings.recovery} settings")
    points, _ = region_sample(
        emulator,
        observations,
        observations.mask(settings.fit_until),
        settings.recovery,
        len(priors),
        settings.cutoff,
        settings.seed + 99,
    )
    values = np.array([[p.to_value(u) for p, u in zip(priors, row, strict=True)] for row in points])
    store = RunStore(out)
    try:
        with Replicator(jobs) as replicator:
            run_points(
                store, "recovery", values, (77,), priors, scenario, targets, replicator, progress
            )
        runs = store.frame(["recovery"])
    finally:
        store.close()
    synthetic = np.array([json.loads(v) for v in runs["values"]], dtype=float)
    tables["recovery"] = recovery_table(
        emulator,
        observations,
        observations.mask(settings.fit_until),
        points,
        synthetic,
        priors,
        max(400, settings.steps // 2),
        settings.seed + 11,
        unit,
    )
    _price_only_and_write(
        tables, scenario, price_only, targets, posterior, settings, jobs, out, say
    )
    return tables


def plot_checks(tables: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    """predictive.png (observed against the 50 % and 90 % intervals, in and out of sample),
    recovery.png (true values against their 90 % credible intervals) and
    prior_sensitivity.png (shrinkage per parameter)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, (name, title) in zip(
        axes,
        (("predictive", "fitted 2013-2024"), ("out_of_sample", "fitted 2013-2019")),
        strict=True,
    ):
        table = tables[name].reset_index(drop=True)
        labels = [f"{t} {y}" for t, y in zip(table["target"], table["year"], strict=True)]
        ratio = table["observed"]
        y = np.arange(len(table))
        ax.hlines(
            y,
            table["pi90_low"] / ratio,
            table["pi90_high"] / ratio,
            color="tab:blue",
            alpha=0.4,
            lw=6,
        )
        ax.hlines(y, table["pi50_low"] / ratio, table["pi50_high"] / ratio, color="tab:blue", lw=6)
        ax.plot(np.ones(len(y)), y, "k|", markersize=12)
        ax.set_yticks(y, labels, fontsize=7)
        ax.axvline(1.0, color="black", lw=0.5)
        ax.set_title(f"{title}: single runs / observed (50 % and 90 %)", fontsize=9)
    fig.tight_layout()
    path = out / "predictive.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    paths.append(path)
    recovery = tables.get("recovery")
    if recovery is None:
        return paths + _plot_sensitivity(tables["prior_sensitivity"], out, plt)
    fig, ax = plt.subplots(figsize=(8, 5))
    names = list(dict.fromkeys(recovery["parameter"]))
    for j, name in enumerate(names):
        rows = recovery[recovery["parameter"] == name]
        span = (rows["ci90_high"] - rows["ci90_low"]).replace(0, np.nan)
        lo = (rows["ci90_low"] - rows["truth"]) / span
        hi = (rows["ci90_high"] - rows["truth"]) / span
        ax.vlines(np.full(len(rows), j) + np.linspace(-0.3, 0.3, len(rows)), lo, hi, alpha=0.6)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(names)), names, rotation=70, fontsize=7)
    ax.set_ylabel("90 % interval relative to the true value")
    ax.set_title(
        f"Parameter recovery: {recovery['inside90'].mean():.0%} of true values inside their 90 % "
        "interval",
        fontsize=9,
    )
    fig.tight_layout()
    path = out / "recovery.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    paths.append(path)
    return paths + _plot_sensitivity(tables["prior_sensitivity"], out, plt)


def _plot_sensitivity(sensitivity: pd.DataFrame, out: Path, plt: Any) -> list[Path]:
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(sensitivity["parameter"], sensitivity["shrinkage"], color="tab:green")
    ax.axvline(0.2, color="grey", ls="--", lw=1)
    ax.set_xlabel("shrinkage: 1 - posterior variance / prior variance")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    path = out / "prior_sensitivity.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def report_markdown(posterior: Posterior, tables: dict[str, pd.DataFrame]) -> str:
    """report.md: the method, the posterior and every check, in words and tables."""
    from sfbsim.experiments.calibration import _markdown

    manifest = posterior.manifest
    lines = [
        "# Calibration: the posterior of the free behavioural parameters",
        "",
        f"Method: {manifest['method']}. {manifest['draws']} draws; "
        f"{manifest['run_time_minutes']} minutes of wall time in the invocation that wrote it"
        + (
            f" ({manifest['simulation_runs']} stored runs, {manifest['simulation_minutes']} "
            "minutes of simulation summed over the workers)"
            if "simulation_runs" in manifest
            else ""
        )
        + f"; settings {json.dumps(manifest['settings'])}.",
        "",
        "## Prior sensitivity (how far each posterior moved from its uniform prior)",
        "",
        _markdown(tables["prior_sensitivity"], "{:.4g}"),
        "",
        "![prior sensitivity](prior_sensitivity.png)",
        "",
    ]
    for name, title in (
        ("predictive", "Posterior predictive: single runs over the posterior"),
        ("out_of_sample", "Out of sample: fitted to 2013-2019, predicting 2020-2024"),
    ):
        if name not in tables:
            continue
        table = tables[name]
        lines += [
            f"## {title}",
            "",
            f"{int(table['inside90'].sum())} of {len(table)} observed values inside their 90 % "
            "interval.",
            "",
            _markdown(table, "{:,.1f}"),
            "",
        ]
    lines += ["![predictive](predictive.png)", ""]
    recovery = tables.get("recovery")
    if recovery is None:
        return "\n".join(lines + _price_only_lines(tables))
    lines += [
        "## Parameter recovery",
        "",
        f"{recovery['setting'].nunique()} settings x {recovery['parameter'].nunique()} "
        f"parameters: {recovery['inside90'].mean():.0%} of true values inside their 90 % "
        "credible interval (nominal 90 %).",
        "",
        "![recovery](recovery.png)",
        "",
    ]
    return "\n".join(lines + _price_only_lines(tables))


def _price_only_lines(tables: dict[str, pd.DataFrame]) -> list[str]:
    from sfbsim.experiments.calibration import _markdown

    if "price_only" not in tables:
        return []
    return [
        "## Full model and price-only variant at the same posterior draws, 2019-2024",
        "",
        _markdown(tables["price_only"], "{:,.0f}"),
        "",
        "![price only](price_only.png)",
        "",
    ]


SHIPPED_FOLDER = Path(__file__).resolve().parents[1] / "model" / "data" / "parameters"
"""Where the shipped posterior lives (posterior.csv, posterior.json, and the out-of-sample
posterior fitted to 2013-2019: posterior_until_2019.csv/.json)."""


def ship(posterior: Posterior, folder: Path) -> list[Path]:
    """Make a calibration the shipped one: its posterior (and the out-of-sample one, if it was
    checked) into model/data/parameters/, and the posterior means as the parameters' values."""
    from sfbsim.model.parameter_files import write_values

    files = write_posterior(posterior, SHIPPED_FOLDER)
    early = Path(folder) / "posterior_until_2019.csv"
    if early.exists():
        files += write_posterior(
            read_posterior(folder, "posterior_until_2019"), SHIPPED_FOLDER, "posterior_until_2019"
        )
    source = (
        "CALIBRATED: posterior mean of a Bayesian calibration to Statistics Norway's series "
        f"{posterior.manifest.get('fitted_years', '')} (history matching with emulators; "
        "docs/calibration.md; draws in model/data/parameters/posterior.csv)"
    )
    means = {name: float(f"{value:.4g}") for name, value in posterior.mean().items()}
    files += write_values(means, source)  # four significant digits: the draws keep the rest
    return files


def report_shipped(
    scenario: Scenario,
    targets: pd.DataFrame,
    out: Path,
    posterior: Posterior,
    settings: Settings,
    jobs: int,
    progress: Progress | None = None,
    price_only: Scenario | None = None,
) -> dict[str, pd.DataFrame]:
    """The checks of the shipped posterior that need no emulator: prior sensitivity, the
    posterior predictive and the out-of-sample predictive (from the shipped posterior fitted to
    2013-2019)."""
    from sfbsim.experiments.files import atomic_write_text

    say = progress or (lambda _m: None)
    tables = {"prior_sensitivity": prior_sensitivity(posterior, free_priors())}
    say(f"predictive: {settings.predictive} runs over the shipped posterior")
    simulated = simulate_draws(
        scenario, targets, posterior.draws, settings.predictive, 50_001, jobs, settings.seed
    )
    tables["predictive"] = predictive_table(targets, simulated)
    early_file = SHIPPED_FOLDER / "posterior_until_2019.csv"
    if early_file.exists():
        early = read_posterior(SHIPPED_FOLDER, "posterior_until_2019")
        say(f"out of sample: {settings.predictive} runs over the posterior fitted to 2013-2019")
        simulated = simulate_draws(
            scenario, targets, early.draws, settings.predictive, 60_001, jobs, settings.seed + 7
        )
        tables["out_of_sample"] = predictive_table(
            targets, simulated, targets["year"].to_numpy() >= 2020
        )
    _price_only_and_write(
        tables, scenario, price_only, targets, posterior, settings, jobs, out, say
    )
    atomic_write_text(out / "report.md", report_markdown(posterior, tables))
    return tables
