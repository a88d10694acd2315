"""Uncertainty carried into every comparison: replications over the posterior of the free
behavioural parameters, and each interval split into its parts.

With ``uncertainty = "posterior"`` (the default of compare, sweep and the app), replication r
runs every scenario with seed ``base_seed + r`` and the posterior draw ``r // 2``: each draw runs
on two seeds, so that the spread of the paired differences can be split into the parameter
uncertainty (how the effect differs between draws) and the run-to-run noise (how it differs
between the two seeds of a draw), by the analysis of variance of a balanced one-way design.
With ``uncertainty = "fixed"`` every replication uses the parameter files' values (the posterior
means), or one named draw: the intervals then cover run-to-run noise only, as before.

A parameter that a scenario file sets itself keeps the scenario's value in every replication.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from sfbsim.experiments.errors import ExperimentError

POSTERIOR_FILE = Path(__file__).resolve().parents[1] / "model" / "data" / "parameters"
POSTERIOR_FILE = POSTERIOR_FILE / "posterior.csv"
MODES = ("posterior", "fixed")
SEEDS_PER_DRAW = 2
ROBUST_SHARE = 0.9
"""An effect is called robust when at least this share of the posterior draws agree on its
sign."""


def load_posterior(path: Path = POSTERIOR_FILE) -> pd.DataFrame:
    """The shipped posterior draws (one column per free parameter, and ``weight``)."""
    if not path.is_file():
        raise ExperimentError(
            f"no posterior at {path}: run `sfbsim calibrate --write-defaults`, or compare with "
            "--uncertainty fixed"
        )
    draws = pd.read_csv(path)
    if "weight" not in draws or len(draws) == 0:
        raise ExperimentError(f"{path} is not a posterior (draws with a weight column)")
    return draws


def posterior_id(path: Path = POSTERIOR_FILE) -> str:
    """A short hash of the posterior file (recorded with an experiment, checked on resume)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "none"


def too_few_draws(uncertainty: str, reps: int, draw: int | None = None) -> str | None:
    """A note when the replications cover a single posterior draw: the 95 % CI and the interval
    over the posterior are taken between draws, so the table leaves them empty."""
    if uncertainty != "posterior" or draw is not None or reps > SEEDS_PER_DRAW:
        return None
    return (
        f"{reps} replication{'' if reps == 1 else 's'} over the posterior run a single draw "
        f"({SEEDS_PER_DRAW} seeds a draw): the 95 % CI and the interval over the posterior are "
        f"taken between draws, so they are empty; give {SEEDS_PER_DRAW + 1} or more "
        "replications (or --uncertainty fixed, where a CI needs 2)"
    )


def draw_index(replication: int, n_draws: int) -> int:
    """The posterior draw of replication ``replication`` (two seeds per draw)."""
    return (replication // SEEDS_PER_DRAW) % n_draws


def draw_values(draws: pd.DataFrame, index: int) -> dict[str, float]:
    """The parameter values of one draw."""
    row = draws.iloc[index]
    return {name: float(row[name]) for name in draws.columns if name != "weight"}


def explicit_parameters(scenario: Any) -> tuple[str, ...]:
    """The behavioural parameters a scenario file sets itself (they keep their value)."""
    return tuple(sorted(scenario.parameters.model_fields_set))


def with_draw(scenario: Any, values: dict[str, float], keep: tuple[str, ...]) -> Any:
    """The scenario with a posterior draw's parameter values (except those in ``keep``)."""
    from sfbsim.model.parameters import Parameters

    update = {k: v for k, v in values.items() if k not in keep}
    parameters = Parameters.model_validate({**scenario.parameters.model_dump(), **update})
    return scenario.model_copy(update={"parameters": parameters})


def what_intervals_cover(uncertainty: str) -> str:
    """In plain words, what the intervals of a comparison cover and what they do not (said by
    the CLI's table, the app's Compare page and the report)."""
    if uncertainty == "posterior":
        covered = (
            "Replications run over the posterior of the behavioural parameters (two seeds per "
            "draw, the same seeds and draws for every scenario). The 95 % CI says how precisely "
            "the replications estimate the mean difference. The 90 % interval over the "
            "posterior is where the expected effect lies given what the calibration leaves "
            "uncertain about the parameters; run-to-run noise (sd_noise) is reported apart. "
            "'within noise': the draws differ no more than run-to-run noise explains, so the "
            "parameter part is not resolved at this many replications (add replications). "
            "'robust': at least 90 % of the draws give the effect the sign of the mean; "
            "'flips': the sign changes over the posterior, so the direction is not settled."
        )
    else:
        covered = (
            "Every replication uses the same parameter values (the parameter files' values, or "
            "one named posterior draw): the 95 % CI covers run-to-run noise only, not what the "
            "calibration leaves uncertain about the parameters."
        )
    return (
        covered + " Not covered: the model's structural assumptions (docs/ODD.md §10) and the "
        "cost and value figures marked ASSUMPTION (docs/ledger.md)."
    )
