"""Sweeps (grid or Latin hypercube) and global sensitivity analysis (Sobol, Morris) over levers.

A sweep point is the baseline with some levers (or behavioural parameters) set; each point is
an arm of an experiment (experiments.compare), run on the same seeds as the baseline, so its
difference from the baseline is paired exactly like a reform's.

Lever specifications on the command line:

* ``NAME=v1,v2,v3``: the values of a grid (``true``/``false``, numbers, names; a list lever
  such as ``intake_meeting_days`` takes ``mon+wed+fri``);
* ``NAME=LOW:HIGH``: a range, for ``--design lhs`` and for ``sensitivity``.

``NAME`` is a lever (``units_multiplier``), or ``levers.NAME`` / ``parameters.NAME``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sfbsim.experiments.compare import Arm, ExperimentError, scenario_hash
from sfbsim.model.parameters import Levers, Parameters, Scenario

SWEEPABLE_SECTIONS = {"levers": Levers, "parameters": Parameters}
NOT_SWEEPABLE = {"centres"}


@dataclass
class LeverSpec:
    """One swept lever: its section, name, and grid values or a range."""

    section: str
    name: str
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    kind: str = "float"  # float, int or bool (for ranges)

    @property
    def label(self) -> str:
        return self.name if self.section == "levers" else f"{self.section}.{self.name}"


def _allowed() -> str:
    levers = [n for n in Levers.model_fields if n not in NOT_SWEEPABLE]
    return (
        f"levers: {', '.join(levers)}; or parameters.NAME for a behavioural parameter "
        "(see model/parameters.py)"
    )


def resolve_name(name: str) -> tuple[str, str]:
    """``(section, field)`` of a lever or parameter name; ExperimentError if unknown."""
    if "." in name:
        section, _, field = name.partition(".")
        model = SWEEPABLE_SECTIONS.get(section)
        if model is not None and field in model.model_fields and field not in NOT_SWEEPABLE:
            return section, field
    else:
        if name in Levers.model_fields and name not in NOT_SWEEPABLE:
            return "levers", name
        if name in Parameters.model_fields:
            return "parameters", name
    raise ExperimentError(f"unknown lever {name!r}; allowed: {_allowed()}")


def parse_value(text: str) -> Any:
    """A command-line value: bool, number, list (a+b+c) or string."""
    text = text.strip()
    if "+" in text:
        return [parse_value(part) for part in text.split("+")]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_spec(spec: str, ranges: bool) -> LeverSpec:
    """``NAME=v1,v2`` (grid) or ``NAME=LOW:HIGH`` (range)."""
    name, sep, rest = spec.partition("=")
    if not sep or not rest.strip():
        raise ExperimentError(
            f"--lever {spec!r}: write NAME=v1,v2,... (grid) or NAME=LOW:HIGH (range)"
        )
    section, field = resolve_name(name.strip())
    model = SWEEPABLE_SECTIONS[section]
    default = model.model_fields[field].get_default(call_default_factory=True)
    if ":" in rest and "," not in rest:
        low_text, _, high_text = rest.partition(":")
        low, high = parse_value(low_text), parse_value(high_text)
        if not all(isinstance(v, int | float) for v in (low, high)) or low >= high:
            raise ExperimentError(
                f"--lever {spec!r}: a range needs two numbers LOW:HIGH with LOW < HIGH"
            )
        if isinstance(default, bool):
            kind = "bool"
        elif isinstance(default, int) or (
            isinstance(low, int) and isinstance(high, int) and not isinstance(default, float)
        ):
            kind = "int"
        else:
            kind = "float"
        return LeverSpec(section, field, low=float(low), high=float(high), kind=kind)
    if ranges:
        raise ExperimentError(f"--lever {spec!r}: this design needs a range NAME=LOW:HIGH")
    values = [parse_value(v) for v in rest.split(",") if v.strip()]
    if isinstance(default, list):
        values = [v if isinstance(v, list) else [v] for v in values]
    return LeverSpec(section, field, values=values)


def point_scenario(base: Scenario, values: dict[str, Any], name: str) -> Scenario:
    """The baseline with the given ``section.field`` values set (validated)."""
    raw = base.model_dump(mode="json")
    for key, value in values.items():
        section, _, field = key.partition(".")
        raw[section][field] = value
    raw["name"] = name
    raw["description"] = ", ".join(f"{k.removeprefix('levers.')}={v}" for k, v in values.items())
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        from sfbsim.experiments.scenario_files import describe_errors

        raise ExperimentError(
            f"sweep point {raw['description']}: " + "; ".join(describe_errors(error))
        ) from None


def grid_points(specs: list[LeverSpec]) -> list[dict[str, Any]]:
    """Every combination of the grid values."""
    for spec in specs:
        if spec.values is None:
            spec.values = _range_grid(spec)
    keys = [f"{s.section}.{s.name}" for s in specs]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*[s.values for s in specs])
    ]


def _range_grid(spec: LeverSpec, levels: int = 3) -> list[Any]:
    if spec.kind == "bool":
        return [False, True]
    values = np.linspace(spec.low, spec.high, levels)
    return [_cast(spec, v) for v in values]


def _cast(spec: LeverSpec, value: float) -> Any:
    if spec.kind == "bool":
        return bool(value >= 0.5)
    if spec.kind == "int":
        return round(float(value))
    return float(value)


def lhs_points(specs: list[LeverSpec], samples: int, seed: int) -> list[dict[str, Any]]:
    """A Latin hypercube of ``samples`` points over the ranges."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(specs), seed=seed).random(samples)
    return matrix_points(specs, qmc.scale(unit, [s.low for s in specs], [s.high for s in specs]))


def matrix_points(specs: list[LeverSpec], matrix: np.ndarray) -> list[dict[str, Any]]:
    """One point per row of a sample matrix (columns in the order of ``specs``)."""
    keys = [f"{s.section}.{s.name}" for s in specs]
    return [
        {key: _cast(spec, value) for key, spec, value in zip(keys, specs, row, strict=True)}
        for row in matrix
    ]


def point_arms(base: Arm, points: list[dict[str, Any]]) -> list[Arm]:
    """An arm per point, named p0000, p0001, ..."""
    width = max(4, len(str(len(points))))
    arms = []
    for i, values in enumerate(points):
        name = f"p{i:0{width}d}"
        scenario = point_scenario(base.scenario, values, name)
        text = json.dumps({k: v for k, v in values.items()}, sort_keys=True)
        swept = tuple(k.partition(".")[2] for k in values if k.startswith("parameters."))
        arm = Arm(
            name,
            "point",
            scenario,
            text=text,
            param_hash=scenario_hash(scenario),
            keep=tuple(sorted({*base.keep, *swept})),
        )
        arm.values = values
        arms.append(arm)
    return arms


def with_values(table: pd.DataFrame, arms: list[Arm], specs: list[LeverSpec]) -> pd.DataFrame:
    """Add one column per swept lever to a table keyed by ``scenario`` (the point name)."""
    values = pd.DataFrame(
        [
            {
                "scenario": a.name,
                **{s.label: _show(a.values[f"{s.section}.{s.name}"]) for s in specs},
            }
            for a in arms
        ]
    )
    merged = values.merge(table, on="scenario", how="right")
    merged = merged.rename(columns={"scenario": "point"})
    return merged


def _show(value: Any) -> Any:
    return "+".join(map(str, value)) if isinstance(value, list) else value


# --- sensitivity ----------------------------------------------------------------------------
def salib_problem(specs: list[LeverSpec]) -> dict:
    return {
        "num_vars": len(specs),
        "names": [s.label for s in specs],
        "bounds": [[s.low, s.high] for s in specs],
    }


def sensitivity_sample(specs: list[LeverSpec], method: str, samples: int, seed: int) -> np.ndarray:
    """The SALib sample matrix (Sobol: Saltelli's scheme without second order; Morris)."""
    problem = salib_problem(specs)
    if method == "sobol":
        from SALib.sample import sobol

        if samples < 2 or samples & (samples - 1):
            lower = 1 << (max(samples, 2).bit_length() - 1)
            raise ExperimentError(
                f"--samples {samples}: Sobol's sample needs a power of 2 (its balance, and so "
                f"the indices, depend on it); give {lower} or {2 * lower}"
            )
        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, samples, num_levels=4, seed=seed)
    raise ExperimentError(f"--method {method!r}: allowed: sobol, morris")


def sensitivity_caption(method: str, reps: int, outcomes: list[str]) -> str:
    """What the indices of ``sensitivity.csv`` are and what their intervals cover (SALib's
    defaults: 100 bootstrap resamples, 95 % level; its ``*_conf`` is the half-width)."""
    from sfbsim.experiments.outcomes import OUTCOME_UNITS

    units = "; ".join(f"{o}: {OUTCOME_UNITS[o]}" if OUTCOME_UNITS.get(o) else o for o in outcomes)
    point = (
        f"Each point's outcome is its whole-run value ({units}), the mean of {reps} "
        f"replication{'' if reps == 1 else 's'} on the same seeds at the scenario's own "
        "parameter values: run-to-run noise enters the indices (more --reps lessens it); the "
        "posterior's uncertainty does not."
    )
    if method == "sobol":
        what = (
            "S1: the share of the outcome's variance over the levers' ranges that the lever "
            "causes alone; ST: alone and with its interactions (shares 0-1; with few samples "
            "the estimates can stray below 0 or above 1). S1_conf, ST_conf: the half-width of "
            "the 95 % bootstrap interval (100 resamples of the sample): how precisely this "
            "sample estimates the index."
        )
    else:
        what = (
            "mu: the mean elementary effect, the change in the outcome (in its unit) per change "
            "of the lever from the low to the high end of its range (estimated from steps of "
            "two thirds of the range, Morris with 4 levels); mu_star: the mean of its absolute "
            "value (the screening measure: a lever with a small mu_star hardly matters); "
            "sigma: their spread (large: the effect is non-linear or interacts with other "
            "levers). mu_star_conf: the half-width of the 95 % bootstrap interval of mu_star "
            "(100 resamples of the trajectories)."
        )
    return f"{what} {point}"


def sensitivity_indices(
    specs: list[LeverSpec], method: str, matrix: np.ndarray, y: np.ndarray, seed: int
) -> pd.DataFrame:
    """Sobol first-order and total indices, or Morris mu* and sigma, one row per lever."""
    problem = salib_problem(specs)
    if method == "sobol":
        from SALib.analyze import sobol

        result = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
        columns = ["S1", "S1_conf", "ST", "ST_conf"]
    else:
        from SALib.analyze import morris

        result = morris.analyze(problem, matrix, y, num_levels=4, seed=seed)
        columns = ["mu", "mu_star", "sigma", "mu_star_conf"]
    frame = pd.DataFrame({"lever": problem["names"]})
    for column in columns:
        frame[column] = np.asarray(result[column], dtype="float64")
    return frame
