"""Paired comparisons of scenarios on common random numbers, and the machinery under them.

Replication ``r`` of an experiment runs every scenario with seed ``base_seed + r``. The model
draws each family's luck from named streams, so the baseline and a reform meet the same
families with the same luck; the difference of an outcome within a replication is then caused
by the reform alone, and a reform that changes nothing gives differences of exactly zero.

An *experiment* is a set of scenarios ("arms") run for a range of seeds and stored in
``DIR/results.duckdb`` (experiments.store). compare, sweep and sensitivity all build arms and
call :func:`open_experiment` and :func:`run_replications`; the tables come from
:func:`paired_table`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sfbsim.experiments.errors import ExperimentError
from sfbsim.experiments.execution import Executor, Result, Task
from sfbsim.experiments.files import check_experiment_folder
from sfbsim.experiments.groups import PER_MUNICIPALITY_VERSION, Grouping
from sfbsim.experiments.outcomes import OUTCOMES
from sfbsim.experiments.store import DB_NAME, Store
from sfbsim.experiments.uncertainty import ROBUST_SHARE

TABLE_COLUMNS = [
    "scenario",
    "outcome",
    "baseline_mean",
    "reform_mean",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "reps",
    "uncertainty",
    "draws",
    "sd_parameter",
    "sd_noise",
    "effect_p05",
    "effect_p95",
    "same_sign_share",
    "robust",
]
"""comparison.csv (docs/experiments.md): ``diff_ci_low``/``diff_ci_high`` is the 95 % confidence
interval of the mean difference (how precisely the replications estimate it); with
``uncertainty = posterior`` ``effect_p05``/``effect_p95`` is the 90 % interval of the expected
effect over the posterior of the parameters (parameter uncertainty), ``sd_parameter`` and
``sd_noise`` the two parts of the spread, ``same_sign_share`` the share of posterior draws whose
effect has the sign of the mean, and ``robust`` whether that share is at least 90 %."""
SCOPES = ("national", "region", "size_class")
MAX_REPS = 10_000
"""Most replications an experiment may ask for."""


@dataclass
class Arm:
    """One scenario of an experiment."""

    name: str
    role: str  # baseline, reform or point
    scenario: Any  # model.parameters.Scenario
    text: str = ""
    param_hash: str = ""
    values: dict = field(default_factory=dict)  # lever values of a sweep point
    keep: tuple[str, ...] = ()  # parameters the scenario file sets itself

    def __post_init__(self) -> None:
        if not self.param_hash:
            self.param_hash = scenario_hash(self.scenario)

    @property
    def scenario_json(self) -> str:
        return self.scenario.model_dump_json()

    def record(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "param_hash": self.param_hash,
            "scenario_text": self.text,
            "scenario_json": self.scenario_json,
        }


def scenario_hash(scenario: Any) -> str:
    """Hash of everything that shapes a run except its name, description and seed."""
    dumped = scenario.model_dump(mode="json", exclude={"name", "description", "baseline"})
    dumped["run"].pop("seed", None)
    text = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_arm(name_or_path: str, data: Any, role: str, years: int | None) -> Arm:
    """Load and validate a scenario file (raises ScenarioError before anything runs)."""
    from sfbsim.experiments.scenario_files import load_scenario, resolve_scenario
    from sfbsim.experiments.uncertainty import explicit_parameters

    path = resolve_scenario(name_or_path)
    scenario = load_scenario(name_or_path, data)
    keep = explicit_parameters(scenario)
    scenario = scenario.with_run(years=years)
    return Arm(scenario.name, role, scenario, text=path.read_text(encoding="utf-8"), keep=keep)


def unique_names(arms: list[Arm]) -> None:
    """Give arms that share a name a numeric suffix (a table row must say which is which)."""
    seen: dict[str, int] = {}
    for arm in arms:
        count = seen.get(arm.name, 0)
        seen[arm.name] = count + 1
        if count:
            arm.name = f"{arm.name}_{count + 1}"


def data_fingerprint(data: Any) -> str:
    """Hash of the data files the runs read."""
    digest = hashlib.sha256()
    for path in sorted(Path(data.data_dir).glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def code_version() -> str:
    """sfbsim's version and git commit (with +dirty for uncommitted changes)."""
    from sfbsim.experiments.runner import git_commit

    try:
        version = metadata.version("sfbsim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"sfbsim {version} ({git_commit()})"


@dataclass
class Experiment:
    """An experiment being run: its store, arms and settings."""

    store: Store
    experiment_id: str
    kind: str
    spec: dict
    arms: list[Arm]
    base_seed: int
    data_dir: str | None
    code_version: str
    groups: bool = True
    municipalities: bool = True
    resumed: bool = False
    pathways: bool = False
    """Every replication is traced and reports its pathway counts (experiments.pathways)."""
    trace_reps: int = 0
    """The first this many replications store their decision trails (table decisions)."""
    uncertainty: str = "fixed"
    draws: pd.DataFrame | None = None
    """The posterior draws replications run over (``uncertainty = posterior``), or the one
    named draw (``fixed`` with ``--draw``); None: the parameter files' values."""

    @property
    def baseline(self) -> Arm:
        return next(a for a in self.arms if a.role == "baseline")

    @property
    def others(self) -> list[Arm]:
        return [a for a in self.arms if a.role != "baseline"]

    def seeds(self, reps: int) -> list[int]:
        return [self.base_seed + r for r in range(reps)]

    @property
    def n_draws(self) -> int:
        """How many posterior draws the replications cycle through (0: none)."""
        if self.draws is not None:
            return len(self.draws)
        return int(self.spec.get("n_draws", 0) or 0)

    def draw_of(self, seed: int) -> int | None:
        """The posterior draw a replication runs with (None: the files' values)."""
        return replication_draw(seed, self.base_seed, self.uncertainty, self.n_draws)

    def draw_json(self, seed: int) -> str:
        """The parameter values of a replication's draw (JSON), or "" for the files' values."""
        import json

        from sfbsim.experiments.uncertainty import draw_values

        index = self.draw_of(seed)
        if index is None or self.draws is None:
            return ""
        return json.dumps(draw_values(self.draws, index))

    def close(self) -> None:
        self.store.close()


def replication_draw(seed: int, base_seed: int, uncertainty: str, n_draws: int) -> int | None:
    """The row of the selected draws (:func:`select_draws`) that the replication of ``seed``
    runs with: over the posterior ``r // 2`` for replication ``r = seed - base_seed``; fixed
    with a named draw the one row (0); None without draws (the parameter files' values)."""
    from sfbsim.experiments.uncertainty import draw_index

    if n_draws == 0:
        return None
    if uncertainty == "fixed":
        return 0
    return draw_index(seed - base_seed, n_draws)


def select_draws(uncertainty: str, draw: int | None = None) -> pd.DataFrame | None:
    """The posterior draws replications run over: all of them (``posterior``), the one named
    ``draw`` (``fixed`` with a draw), or None (``fixed``: the parameter files' values).

    Raises ExperimentError for an unknown mode, a missing posterior or a draw out of range."""
    from sfbsim.experiments.uncertainty import MODES, load_posterior

    if uncertainty not in MODES:
        raise ExperimentError(f"--uncertainty {uncertainty!r}: allowed: {', '.join(MODES)}")
    if uncertainty != "posterior" and draw is None:
        return None
    draws = load_posterior()
    if draw is not None:
        if not 0 <= draw < len(draws):
            raise ExperimentError(f"--draw {draw}: the posterior has draws 0-{len(draws) - 1}")
        draws = draws.iloc[[draw]].reset_index(drop=True)
    return draws


def open_experiment(
    out: Path,
    kind: str,
    arms: list[Arm],
    settings: dict,
    base_seed: int,
    data: Any,
    data_dir: str | None,
    resume: bool,
    groups: bool = True,
    municipalities: bool = True,
    uncertainty: str = "fixed",
    draw: int | None = None,
    pathways: bool = False,
    trace_reps: int = 0,
) -> Experiment:
    """Create the experiment in ``out`` or, with ``resume``, check and reopen the stored one.

    ``pathways``: trace every replication and store its pathway counts (a resume must ask for
    them too); ``trace_reps``: store the decision trails of the first replications.

    ``uncertainty = "posterior"`` runs replication r with posterior draw r // 2 (module
    experiments.uncertainty); ``"fixed"`` with the parameter files' values, or with posterior
    draw ``draw``.

    Raises ExperimentError if ``out`` already holds an experiment and ``resume`` is not set, or
    if anything that shapes the results (a scenario, the years, the seeds, the data) differs
    from the stored experiment.
    """
    from sfbsim.experiments.uncertainty import posterior_id

    draws = select_draws(uncertainty, draw)
    unique_names(arms)
    spec = {
        "kind": kind,
        "arms": {a.name: a.param_hash for a in arms},
        "roles": {a.name: a.role for a in arms},
        "base_seed": base_seed,
        "data": data_fingerprint(data),
        "groups": groups,
        "uncertainty": uncertainty,
        "draw": draw,
        "posterior": posterior_id() if draws is not None else "none",
        "n_draws": len(draws) if draws is not None else 0,
        **({"pathways": True} if pathways else {}),
        **({"per_municipality": PER_MUNICIPALITY_VERSION} if municipalities else {}),
        **settings,
    }
    version = code_version()
    out = check_experiment_folder(Path(out))
    existing_db = (out / DB_NAME).exists()
    store = Store(out)
    try:
        stored = store.experiment_of_kind(kind) if existing_db else None
        if stored is None and existing_db and store.experiments().shape[0]:
            other = store.experiments()["kind"].iloc[0]
            raise ExperimentError(
                f"{out} holds a {other} experiment, not a {kind}; choose another --out"
            )
        if stored is not None:
            if not resume:
                raise ExperimentError(
                    f"{out} already holds {kind} experiment {stored['experiment_id']}; pass "
                    "--resume to continue it, or choose another --out"
                )
            problems = spec_differences(stored["spec"], spec)
            if problems:
                raise ExperimentError(
                    f"cannot resume the experiment in {out}: "
                    + "; ".join(problems)
                    + ". Restore what changed, or start a new experiment in another --out"
                )
            return Experiment(
                store,
                stored["experiment_id"],
                kind,
                stored["spec"],
                arms,
                base_seed,
                data_dir,
                version,
                groups,
                municipalities,
                resumed=True,
                uncertainty=uncertainty,
                draws=draws,
                pathways=pathways,
                trace_reps=trace_reps,
            )
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
        experiment_id = f"{kind}-{digest}"
        store.create_experiment(experiment_id, kind, spec, version, [a.record() for a in arms])
        return Experiment(
            store,
            experiment_id,
            kind,
            spec,
            arms,
            base_seed,
            data_dir,
            version,
            groups,
            municipalities,
            uncertainty=uncertainty,
            draws=draws,
            pathways=pathways,
            trace_reps=trace_reps,
        )
    except BaseException:
        store.close()
        raise


def within_noise(table: pd.DataFrame) -> pd.Series:
    """Rows over the posterior whose parameter part is not resolved: two or more draws whose
    means spread no more than run-to-run noise explains, so the 90 % interval is left empty
    on purpose (unlike a row with a single draw or with no data, e.g. the occupancy of a group
    without a centre)."""
    return table["effect_p05"].isna() & table["sd_parameter"].notna() & (table["draws"] >= 2)


def spec_differences(stored: dict, new: dict) -> list[str]:
    """What differs between a stored experiment and the one asked for, in words."""
    problems = []
    old_arms, new_arms = stored.get("arms", {}), new.get("arms", {})
    if set(old_arms) != set(new_arms):  # the order the reforms are given in does not matter
        problems.append(f"it compared {', '.join(old_arms)}; now {', '.join(new_arms)} were given")
    else:
        for name, old_hash in old_arms.items():
            if new_arms[name] != old_hash:
                problems.append(
                    f"scenario {name!r} has changed since the experiment started "
                    f"(parameter hash {old_hash} → {new_arms[name]})"
                )
    for key in sorted(set(stored) | set(new)):
        if key in ("arms", "roles", "per_municipality"):
            continue  # an older experiment resumes as it was stored (admissions per municipality)
        if stored.get(key) != new.get(key):
            what = "the data files" if key == "data" else key
            problems.append(f"{what} was {stored.get(key)!r}, now {new.get(key)!r}")
    return problems


def pending_tasks(experiment: Experiment, seeds: list[int]) -> list[Task]:
    """Replications not yet stored, seed by seed so that pairs complete together."""
    done = experiment.store.done(experiment.experiment_id)
    tasks = []
    for seed in seeds:
        seen: set[str] = set()
        for arm in experiment.arms:
            if arm.param_hash in seen or (arm.param_hash, seed) in done:
                continue
            seen.add(arm.param_hash)
            tasks.append(
                Task(
                    arm.param_hash,
                    seed,
                    arm.scenario_json,
                    experiment.data_dir,
                    experiment.groups,
                    experiment.municipalities,
                    draw_json=experiment.draw_json(seed),
                    keep=arm.keep,
                    pathways=experiment.pathways,
                    trace=seed - experiment.base_seed < experiment.trace_reps,
                )
            )
    return tasks


def run_replications(
    experiment: Experiment,
    executor: Executor,
    seeds: list[int],
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[Result], None] | None = None,
) -> int:
    """Run every missing replication for ``seeds``, storing each as it finishes."""
    tasks = pending_tasks(experiment, seeds)
    if on_start is not None:
        on_start(len(tasks))

    def store(result: Result) -> None:
        experiment.store.write_replication(
            experiment.experiment_id,
            result.param_hash,
            result.seed,
            result.rows,
            result.municipality,
            result.seconds,
            experiment.code_version,
            result.decisions,
            result.waits,
        )
        if on_done is not None:
            on_done(result)

    executor.run(tasks, store)
    return len(tasks)


# --- statistics -----------------------------------------------------------------------------
def t_interval(diffs: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of paired differences."""
    diffs = np.asarray(diffs, dtype="float64")
    diffs = diffs[~np.isnan(diffs)]
    n = len(diffs)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(diffs.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(_half_width(diffs.std(ddof=1), n, level))
    return mean, mean - half, mean + half


def _half_width(sd: Any, n: Any, level: float = 0.95) -> Any:
    """Half-width of the t interval for standard deviation ``sd`` of ``n`` differences."""
    sd = np.asarray(sd, dtype="float64")
    n = np.asarray(n, dtype="float64")
    from scipy import stats

    quantile = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(sd == 0, 0.0, quantile * sd / np.sqrt(np.maximum(n, 1)))
    return np.where(n >= 2, half, np.nan)


def paired_table(
    experiment: Experiment,
    seeds: list[int],
    scopes: tuple[str, ...] = ("national",),
    years: str = "period",
    outcomes: list[str] | None = None,
    arms: list[Arm] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean outcomes and paired differences (reform − baseline) with t intervals, from the
    experiment's store (see :func:`paired_summary`)."""
    frame = experiment.store.outcomes(
        experiment.experiment_id, years=years, scopes=scopes, seeds=seeds, outcomes=outcomes
    )
    chosen = arms if arms is not None else experiment.others
    draw_of = None
    if experiment.uncertainty == "posterior" and experiment.n_draws:
        draw_of = experiment.draw_of
    return paired_summary(
        frame, experiment.baseline, chosen, experiment.arms, level, draw_of, experiment.uncertainty
    )


def paired_summary(
    frame: pd.DataFrame,
    baseline: Arm,
    arms: list[Arm],
    order: list[Arm] | None = None,
    level: float = 0.95,
    draw_of: Callable[[int], int | None] | None = None,
    uncertainty: str = "fixed",
) -> pd.DataFrame:
    """Mean outcomes and paired differences (arm − baseline) with their intervals.

    ``frame`` holds outcome rows (param_hash, seed, scope, grp, year, outcome, value) of
    replications; rows pair by seed. One row per arm × outcome × scope × group × year; ``reps``
    counts the pairs with a value in both scenarios. With ``draw_of`` (replications over the
    posterior: seed → draw) the spread is split into its parameter and run-to-run parts
    (experiments.uncertainty.decompose) and the confidence interval of the mean counts draws,
    not seeds; without it the interval is a t-interval over the pairs and covers run-to-run
    noise only. The CLI (from the store) and the app (from rows in memory) both summarise here.
    """
    keys = ["scope", "grp", "year", "outcome"]
    base_rows = frame[frame["param_hash"] == baseline.param_hash]
    base_rows = base_rows.drop(columns="param_hash").rename(columns={"value": "base"})
    parts = []
    for arm in arms:
        mine = frame[frame["param_hash"] == arm.param_hash].drop(columns="param_hash")
        paired = mine.merge(base_rows, on=["seed", *keys], how="outer")
        unpaired = paired["value"].isna() | paired["base"].isna()
        paired.loc[unpaired, ["value", "base"]] = np.nan  # an outcome without a pair: NaN, 0 reps
        paired["diff"] = paired["value"] - paired["base"]
        grouped = paired.groupby(keys, sort=False)
        summary = grouped.agg(
            baseline_mean=("base", "mean"),
            reform_mean=("value", "mean"),
            diff_mean=("diff", "mean"),
            diff_sd=("diff", "std"),
            reps=("diff", "count"),
        ).reset_index()
        if draw_of is None:
            half = _half_width(summary["diff_sd"].to_numpy(), summary["reps"].to_numpy(), level)
            summary["diff_ci_low"] = summary["diff_mean"] - half
            summary["diff_ci_high"] = summary["diff_mean"] + half
            summary["draws"] = 1 if uncertainty == "fixed" else np.nan
            summary["sd_parameter"] = np.nan
            summary["sd_noise"] = summary["diff_sd"]
            for column in ("effect_p05", "effect_p95", "same_sign_share"):
                summary[column] = np.nan
        else:
            summary = summary.merge(_by_draw(paired, keys, draw_of, level), on=keys, how="left")
        summary["uncertainty"] = uncertainty
        summary["robust"] = summary["same_sign_share"] >= ROBUST_SHARE
        summary.insert(0, "scenario", arm.name)
        parts.append(summary)
    columns = [*TABLE_COLUMNS, "scope", "group", "year"]
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    outcome_order = {name: i for i, name in enumerate(OUTCOMES)}
    arm_order = {a.name: i for i, a in enumerate(order or [baseline, *arms])}
    scope_order = {s: i for i, s in enumerate(SCOPES)}
    table = table.assign(
        _a=table["scenario"].map(arm_order),
        _s=table["scope"].map(scope_order),
        _o=table["outcome"].map(outcome_order).fillna(len(outcome_order)),
    ).sort_values(["_a", "_s", "grp", "_o", "outcome", "year"], kind="stable")
    table = table.rename(columns={"grp": "group"})
    table["reps"] = table["reps"].astype("int64")
    return table[columns].reset_index(drop=True)


def _by_draw(
    paired: pd.DataFrame, keys: list[str], draw_of: Callable[[int], int | None], level: float
) -> pd.DataFrame:
    """Per group, the split of the paired differences by posterior draw (a balanced one-way
    analysis of variance): the run-to-run variance is the mean variance between the seeds of a
    draw, the parameter variance the variance of the draws' means less that noise over the seeds
    per draw; the confidence interval of the mean is a t-interval over the draws' means; the
    90 % interval of the expected effect is the mean ± 1.645 parameter standard deviations
    (NaN where the parameter variance is not resolved from the noise)."""
    paired = paired.dropna(subset=["diff"]).copy()
    paired["draw"] = [draw_of(int(s)) for s in paired["seed"]]
    per_draw = paired.groupby([*keys, "draw"], sort=False)["diff"].agg(["mean", "var", "count"])
    per_draw = per_draw.reset_index()
    overall = paired.groupby(keys, sort=False)["diff"].mean().rename("overall").reset_index()
    per_draw = per_draw.merge(overall, on=keys)
    per_draw["same"] = np.sign(per_draw["mean"]) == np.sign(per_draw["overall"])
    agg = per_draw.groupby(keys, sort=False).agg(
        draws=("mean", "size"),
        between=("mean", "var"),
        within=("var", "mean"),
        per_draw=("count", "mean"),
        same_sign_share=("same", "mean"),
        overall=("overall", "first"),
    )
    agg = agg.reset_index()
    noise = agg["within"]
    parameter = (agg["between"] - noise / agg["per_draw"]).clip(lower=0)
    agg["sd_noise"] = np.sqrt(noise)
    agg["sd_parameter"] = np.sqrt(parameter)
    # where the draws' means spread no more than run-to-run noise explains, the parameter part
    # is not resolved at this many draws: no interval, rather than a false point (0 … 0 stays
    # where nothing varies at all)
    resolved = (parameter > 0) | (noise.fillna(0) == 0)
    agg["effect_p05"] = (agg["overall"] - 1.645 * agg["sd_parameter"]).where(resolved)
    agg["effect_p95"] = (agg["overall"] + 1.645 * agg["sd_parameter"]).where(resolved)
    half = _half_width(np.sqrt(agg["between"].to_numpy()), agg["draws"].to_numpy(), level)
    agg["diff_ci_low"] = agg["overall"] - half
    agg["diff_ci_high"] = agg["overall"] + half
    columns = ["draws", "sd_parameter", "sd_noise", "effect_p05", "effect_p95"]
    columns += ["same_sign_share", "diff_ci_low", "diff_ci_high"]
    return agg[[*keys, *columns]]


def replicate_in_memory(
    arms: list[Arm],
    seeds: list[int],
    executor: Executor,
    data_dir: str | None = None,
    on_done: Callable[[Result], None] | None = None,
    draw_json: Callable[[int], str] | None = None,
    groups: bool = False,
    pathways: bool = False,
    sink: dict[str, list[pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """Run every arm on every seed on the replication engine and return the national outcome
    rows (param_hash, seed, scope, grp, year, outcome, value), kept in memory (the app's
    Compare page and the scripting API; the CLI stores them in results.duckdb instead), with
    ``groups`` also the rows per region and size class, with ``pathways`` every replication
    traced and its pathway counts among the rows (scope ``pathway``, experiments.pathways).
    ``draw_json(seed)`` gives a replication's posterior draw (Experiment.draw_json). With
    ``sink`` the rows per municipality and the waits (with param_hash and seed) are appended to
    ``sink["municipality"]`` and ``sink["waits"]`` (experiments.groups)."""
    tasks: list[Task] = []
    for seed in seeds:
        seen: set[str] = set()
        for arm in arms:
            if arm.param_hash in seen:
                continue
            seen.add(arm.param_hash)
            draw = draw_json(seed) if draw_json is not None else ""
            tasks.append(
                Task(
                    arm.param_hash,
                    seed,
                    arm.scenario_json,
                    data_dir,
                    groups,
                    sink is not None,
                    draw_json=draw,
                    keep=arm.keep,
                    pathways=pathways,
                )
            )
    frames: list[pd.DataFrame] = []

    def collect(result: Result) -> None:
        rows = result.rows.assign(param_hash=result.param_hash, seed=result.seed)
        frames.append(rows)
        if sink is not None:
            key = {"param_hash": result.param_hash, "seed": result.seed}
            sink.setdefault("municipality", []).append(result.municipality.assign(**key))
            if result.waits is not None:
                sink.setdefault("waits", []).append(result.waits.assign(**key))
        if on_done is not None:
            on_done(result)

    executor.run(tasks, collect)
    columns = ["param_hash", "seed", "scope", "grp", "year", "outcome", "value"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def pathways_table(experiment: Experiment, reps: int) -> pd.DataFrame:
    """pathways.csv: each reform's effect on admissions and bed-days by pathway
    (experiments.pathways), from the pathway counts stored with every replication."""
    from sfbsim.experiments.pathways import SCOPE, pathway_table

    frame = experiment.store.outcomes(
        experiment.experiment_id, years="period", scopes=(SCOPE,), seeds=experiment.seeds(reps)
    )
    draw_of = experiment.draw_of if experiment.uncertainty == "posterior" else None
    if draw_of is not None and not experiment.n_draws:
        draw_of = None
    return pathway_table(frame, experiment.baseline, experiment.others, draw_of=draw_of)


def comparison_table(
    experiment: Experiment, reps: int, grouping: Grouping | None = None, data: Any = None
) -> tuple[pd.DataFrame, list[str]]:
    """The comparison.csv table (one row per reform × outcome, and per reform × group ×
    outcome with a ``grouping``: experiments.groups) and the notes to print with it."""
    return grouped_table(experiment, experiment.seeds(reps), grouping or Grouping(), data)


def grouped_table(
    experiment: Experiment, seeds: list[int], grouping: Grouping, data: Any = None
) -> tuple[pd.DataFrame, list[str]]:
    """The comparison of ``grouping`` from the experiment's store (national rows from table
    outcomes, the groups' from tables municipality and waits; experiments.groups)."""
    from sfbsim.experiments.groups import grouped_comparison
    from sfbsim.model.data_loading import load_data

    store, eid = experiment.store, experiment.experiment_id
    national = store.outcomes(eid, years="period", scopes=("national",), seeds=seeds)
    municipality = store.municipality(eid, seeds) if grouping else None
    waits = store.waits(eid, seeds) if grouping else None
    draw_of = None
    if experiment.uncertainty == "posterior" and experiment.n_draws:
        draw_of = experiment.draw_of
    result = grouped_comparison(
        national,
        municipality,
        waits,
        grouping,
        experiment.baseline,
        experiment.others,
        experiment.arms,
        data if data is not None else load_data(experiment.data_dir),
        draw_of,
        experiment.uncertainty,
        per_municipality=bool(experiment.spec.get("per_municipality")),
    )
    return result.table, result.notes


def comparison_columns(table: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """A paired table (:func:`paired_summary`) with comparison.csv's columns: ``scope`` and
    ``group`` after ``outcome`` when broken down ``by`` region or size class (the yearly
    tables of the scripting API)."""
    if not by:
        return table[TABLE_COLUMNS]
    return table[[*TABLE_COLUMNS[:2], "scope", "group", *TABLE_COLUMNS[2:]]]


@dataclass
class AutoResult:
    reps: int
    reached: bool
    half_widths: dict[str, float]
    goals: dict[str, float]


def auto_replications(
    experiment: Experiment,
    executor: Executor,
    outcome: str,
    target: float,
    min_reps: int,
    max_reps: int,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[Result], None] | None = None,
) -> AutoResult:
    """Add replications until every reform's 95 % CI half-width on ``outcome`` is below
    ``target`` × |baseline mean| (or ``max_reps`` is reached)."""
    reps = max(2, min(min_reps, max_reps))
    while True:
        run_replications(experiment, executor, experiment.seeds(reps), on_start, on_done)
        table = paired_table(experiment, experiment.seeds(reps), outcomes=[outcome])
        half = ((table["diff_ci_high"] - table["diff_ci_low"]) / 2).to_numpy()
        goal = (target * table["baseline_mean"].abs()).to_numpy()
        names = table["scenario"].tolist()
        met = [(h == 0) or (h < g) for h, g in zip(half, goal, strict=True)]
        result = AutoResult(
            reps, all(met), dict(zip(names, half, strict=True)), dict(zip(names, goal, strict=True))
        )
        if result.reached or reps >= max_reps:
            return result
        ratios = [
            (h / g) ** 2 if g > 0 and np.isfinite(h) else 4.0
            for h, g, ok in zip(half, goal, met, strict=True)
            if not ok
        ]
        needed = math.ceil(reps * max(ratios) * 1.1)
        reps = min(max_reps, max(reps + 2, min(needed, 2 * reps)))
