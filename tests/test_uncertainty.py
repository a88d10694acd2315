"""Comparisons over the posterior (issue 16, items 4 and 5): the split of a paired difference
into parameter uncertainty and run-to-run noise, the draws replications run with, sign
robustness, and what the CLI writes and says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.compare import TABLE_COLUMNS, _by_draw, replication_draw
from sfbsim.experiments.uncertainty import what_intervals_cover

runner = CliRunner()


def paired_rows(effects: np.ndarray, noise_sd: float, seeds_per_draw: int, seed: int = 0):
    """Paired differences: draw d's expected effect ``effects[d]`` plus run-to-run noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, effect in enumerate(effects):
        for k in range(seeds_per_draw):
            rows.append(
                {
                    "outcome": "admissions",
                    "seed": d * seeds_per_draw + k,
                    "diff": effect + rng.normal(0, noise_sd),
                }
            )
    return pd.DataFrame(rows)


def test_the_split_recovers_parameter_and_noise_spread_of_a_known_ensemble():
    effects = np.random.default_rng(1).normal(10.0, 3.0, size=400)
    paired = paired_rows(effects, noise_sd=2.0, seeds_per_draw=2)
    row = _by_draw(paired, ["outcome"], lambda s: s // 2, 0.95).iloc[0]
    assert row["draws"] == 400
    assert row["sd_parameter"] == pytest.approx(3.0, rel=0.15)
    assert row["sd_noise"] == pytest.approx(2.0, rel=0.1)
    assert row["effect_p05"] == pytest.approx(10 - 1.645 * 3, abs=0.8)
    assert row["effect_p95"] == pytest.approx(10 + 1.645 * 3, abs=0.8)
    assert row["diff_ci_low"] < 10 < row["diff_ci_high"]  # the mean's CI, over the draws
    assert row["same_sign_share"] > 0.99  # 10 ± 3 is positive in almost every draw


def test_an_effect_whose_sign_depends_on_the_parameters_is_not_robust():
    effects = np.random.default_rng(2).normal(0.5, 3.0, size=300)
    paired = paired_rows(effects, noise_sd=0.1, seeds_per_draw=2)
    row = _by_draw(paired, ["outcome"], lambda s: s // 2, 0.95).iloc[0]
    assert 0.45 < row["same_sign_share"] < 0.7
    assert row["effect_p05"] < 0 < row["effect_p95"]


def test_parameter_spread_hidden_in_noise_gives_no_interval_rather_than_a_point():
    # every draw's two seeds are 4 ± 3: the draws' means agree, all spread is noise
    diffs = [4.0 + (3.0 if k == 0 else -3.0) for _ in range(20) for k in range(2)]
    paired = pd.DataFrame({"outcome": "admissions", "seed": range(40), "diff": diffs})
    row = _by_draw(paired, ["outcome"], lambda s: s // 2, 0.95).iloc[0]
    assert row["sd_parameter"] == 0 and row["sd_noise"] > 0
    assert np.isnan(row["effect_p05"]) and np.isnan(row["effect_p95"])
    nothing = paired_rows(np.zeros(10), noise_sd=0.0, seeds_per_draw=2)
    row = _by_draw(nothing, ["outcome"], lambda s: s // 2, 0.95).iloc[0]
    assert row["effect_p05"] == 0 and row["effect_p95"] == 0  # nothing varies: 0 … 0 is right


def test_replication_r_runs_draw_r_over_2_with_seed_r_in_every_scenario():
    draws = [replication_draw(seed, 100, "posterior", 400) for seed in range(100, 108)]
    assert draws == [0, 0, 1, 1, 2, 2, 3, 3]
    assert replication_draw(100 + 800, 100, "posterior", 400) == 0  # cycles through the draws
    assert replication_draw(105, 100, "fixed", 1) == 0  # one named draw
    assert replication_draw(105, 100, "fixed", 0) is None  # the parameter files' values


def test_compare_over_the_posterior_writes_the_split_and_says_what_it_covers(tmp_path):
    out = tmp_path / "posterior"
    done = runner.invoke(
        app,
        [
            "compare", "baseline", "copay_halved", "--years", "1", "--reps", "4",
            "--workers", "0", "--out", str(out),
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    table = pd.read_csv(out / "comparison.csv")
    assert set(TABLE_COLUMNS) <= set(table.columns)
    assert (table["uncertainty"] == "posterior").all() and (table["draws"] == 2).all()
    admissions = table.set_index("outcome").loc["admissions"]
    assert admissions["sd_noise"] >= 0 and admissions["sd_parameter"] >= 0
    assert 0 <= admissions["same_sign_share"] <= 1
    text = " ".join(done.output.split())
    assert "posterior of the behavioural parameters" in text and "Not covered" in text

    fixed = tmp_path / "fixed"
    done = runner.invoke(
        app,
        [
            "compare", "baseline", "copay_halved", "--years", "1", "--reps", "2",
            "--workers", "0", "--uncertainty", "fixed", "--out", str(fixed),
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    table = pd.read_csv(fixed / "comparison.csv")
    assert (table["uncertainty"] == "fixed").all()
    assert table["effect_p05"].isna().all() and table["same_sign_share"].isna().all()
    assert "run-to-run noise only" in " ".join(done.output.split())


def test_what_intervals_cover_names_what_is_left_out():
    for mode in ("posterior", "fixed"):
        words = what_intervals_cover(mode)
        assert "structural assumptions" in words
    assert "not what the calibration leaves uncertain" in what_intervals_cover("fixed")
