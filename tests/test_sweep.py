"""Sweeps and sensitivity analysis on the experiment machinery."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.compare import ExperimentError
from sfbsim.experiments.sweep import grid_points, lhs_points, parse_spec

runner = CliRunner()


def test_lever_specs_and_designs():
    grid = grid_points(
        [
            parse_spec("units_multiplier=1,1.5", False),
            parse_spec("duty_to_assist=false,true", False),
        ]
    )
    assert len(grid) == 4 and {"levers.units_multiplier", "levers.duty_to_assist"} == set(grid[0])
    days = parse_spec("intake_meeting_days=mon+wed,tue", False)
    assert days.values == [["mon", "wed"], ["tue"]]
    lhs = lhs_points(
        [parse_spec("units_multiplier=0.5:2", True), parse_spec("summer_closure_weeks=0:4", True)],
        10,
        0,
    )
    assert len(lhs) == 10
    assert all(0.5 <= p["levers.units_multiplier"] <= 2 for p in lhs)
    assert all(isinstance(p["levers.summer_closure_weeks"], int) for p in lhs)
    assert parse_spec("parameters.beta_familiarity=0:3", True).section == "parameters"
    with pytest.raises(ExperimentError, match="unknown lever"):
        parse_spec("warp_drive=1,2", False)


def test_grid_sweep_writes_one_row_per_point_and_outcome(tmp_path):
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "sweep",
            "baseline",
            "--lever",
            "units_multiplier=1,1.5",
            "--years",
            "1",
            "--reps",
            "2",
            "--out",
            str(out),
            "--workers",
            "0",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert set(table["point"]) == {"p0000", "p0001"}
    assert "units_multiplier" in table.columns
    same = table[(table["units_multiplier"] == 1.0)]
    assert (same["diff_mean"].dropna() == 0).all()  # the baseline point: exactly zero


def test_sensitivity_morris(tmp_path):
    out = tmp_path / "sens"
    result = runner.invoke(
        app,
        [
            "sensitivity",
            "baseline",
            "--lever",
            "units_multiplier=0.5:1.5",
            "--lever",
            "information_campaign=0:1",
            "--method",
            "morris",
            "--samples",
            "2",
            "--years",
            "1",
            "--out",
            str(out),
            "--workers",
            "0",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table["lever"]) == ["units_multiplier", "information_campaign"]
    assert {"mu_star", "sigma"} <= set(table.columns)


def test_unknown_sweep_lever_exits_2(tmp_path):
    result = runner.invoke(
        app, ["sweep", "baseline", "--lever", "warp_drive=1,2", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and "warp_drive" in result.output


def test_the_sensitivity_caption_says_what_the_indices_are_on_a_known_function():
    """sensitivity_caption's reading of the indices holds on linear functions: Morris's mu is
    the change per move of the lever from the low to the high end of its range; Sobol's S1 is
    the share of the variance (a·x1 + b·x2 with uniform levers: shares a²r1² : b²r2²)."""
    import numpy as np

    from sfbsim.experiments.sweep import (
        sensitivity_caption,
        sensitivity_indices,
        sensitivity_sample,
    )

    specs = [parse_spec("units_multiplier=0.5:2", ranges=True)]
    specs.append(parse_spec("information_campaign=0:1", ranges=True))
    x = sensitivity_sample(specs, "morris", 20, seed=1)
    morris = sensitivity_indices(specs, "morris", x, 3.0 * x[:, 0] - 2.0 * x[:, 1], seed=1)
    assert morris["mu"].tolist() == pytest.approx([3.0 * 1.5, -2.0 * 1.0])
    assert morris["mu_star"].tolist() == pytest.approx([4.5, 2.0])
    assert morris["sigma"].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)
    x = sensitivity_sample(specs, "sobol", 1024, seed=1)
    sobol = sensitivity_indices(specs, "sobol", x, 3.0 * x[:, 0] - 2.0 * x[:, 1], seed=1)
    share = (3.0 * 1.5) ** 2 / ((3.0 * 1.5) ** 2 + (2.0 * 1.0) ** 2)
    assert sobol["S1"].tolist() == pytest.approx([share, 1 - share], abs=0.05)
    assert sobol["ST"].tolist() == pytest.approx([share, 1 - share], abs=0.05)
    assert (sobol["S1_conf"] > 0).all() and np.isfinite(sobol["ST_conf"]).all()
    for method in ("morris", "sobol"):
        caption = sensitivity_caption(method, 3, ["admissions", "median_wait"])
        assert "95 % bootstrap interval" in caption and "half-width" in caption
        assert "admissions: per year" in caption and "mean of 3 replications" in caption
        assert "posterior's uncertainty does not" in caption
    assert "low to the high end of its range" in sensitivity_caption("morris", 1, ["admissions"])


def test_sensitivity_prints_what_its_indices_and_intervals_are(tmp_path):
    out = tmp_path / "sens"
    args = ["sensitivity", "baseline", "--lever", "units_multiplier=0.5:1.5", "--method"]
    args += ["morris", "--samples", "10", "--years", "1", "--out", str(out), "--workers", "0"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "mu_star_conf: the half-width of the 95 % bootstrap interval" in text
    assert "admissions: per year" in text
    # one lever on Morris's 4 levels: 10 trajectories of 2 points, 4 distinct values
    assert "(morris, 20 points (4 distinct) × 1 reps)" in text


def test_sobol_samples_must_be_a_power_of_two(tmp_path):
    """Sobol's sample is balanced only for N a power of 2: another N is refused before
    anything runs or is written, with the powers either side (not SALib's bare warning)."""
    out = tmp_path / "sob"
    args = ["sensitivity", "baseline", "--lever", "units_multiplier=0.5:1.5", "--method"]
    args += ["sobol", "--samples", "6", "--years", "1", "--out", str(out), "--workers", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--samples 6" in result.output and "power of 2" in result.output
    assert "give 4 or 8" in result.output and "UserWarning" not in result.output
    assert not out.exists()
