"""Paired comparisons: common random numbers, confidence intervals, --reps auto, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.compare import _half_width, t_interval

runner = CliRunner()

NOOP = """
name = "noop"
baseline = "baseline"
description = "sets Solbakken's weekend policy to the value it already has"
[levers.centres.solbakken]
weekend_policy = "open_every_weekend"
"""

DUTY = """
name = "duty"
baseline = "baseline"
[levers]
duty_to_assist = true
units_multiplier = 1.5
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_t_interval_covers_a_known_mean_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    true_mean, n, trials = 1.5, 8, 4000
    samples = rng.normal(true_mean, 2.0, size=(trials, n))
    half = _half_width(samples.std(axis=1, ddof=1), np.full(trials, n))
    means = samples.mean(axis=1)
    coverage = np.mean((means - half <= true_mean) & (true_mean <= means + half))
    assert 0.935 <= coverage <= 0.965
    mean, low, high = t_interval(samples[0])
    assert low == pytest.approx(means[0] - half[0]) and high == pytest.approx(means[0] + half[0])
    assert t_interval(np.zeros(5)) == (0.0, 0.0, 0.0)
    assert np.isnan(t_interval(np.array([1.0]))[1])


def test_a_reform_that_changes_nothing_gives_exactly_zero_differences(tmp_path):
    noop = write(tmp_path, "noop", NOOP)
    out = tmp_path / "out"
    result = invoke(
        "compare",
        "baseline",
        noop,
        "--years",
        "1",
        "--reps",
        "2",
        "--out",
        str(out),
        "--workers",
        "0",
        "--by",
        "region,size_class",
        "--uncertainty",
        "fixed",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert list(table.columns[:4]) == ["scenario", "outcome", "scope", "group"]
    for column in ("diff_mean", "diff_ci_low", "diff_ci_high"):
        values = pd.to_numeric(table[column], errors="coerce")
        defined = values.dropna()
        assert len(defined) > 0.9 * len(values)
        assert (defined == 0.0).all(), table[defined != 0]
    national = table[table["scope"] == "national"].set_index("outcome")
    for outcome in (
        "admissions",
        "residential_share",
        "intake_refusals",
        "consent_refusals",
        "median_wait",
        "ssb_child_bed_days",
        "occupancy",
        "emergency_placements",
    ):
        assert national.loc[outcome, "reps"] == 2
        assert national.loc[outcome, "baseline_mean"] == national.loc[outcome, "reform_mean"]
    assert set(table["scope"]) == {"national", "region×size_class"}  # crossed groups


def test_compare_writes_the_table_and_reps_auto_says_how_many(tmp_path):
    duty = write(tmp_path, "duty", DUTY)
    out = tmp_path / "auto"
    result = invoke(
        "compare",
        "baseline",
        duty,
        "--years",
        "1",
        "--reps",
        "auto",
        "--min-reps",
        "2",
        "--max-reps",
        "3",
        "--target",
        "0.5",
        "--out",
        str(out),
        "--workers",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "--reps auto:" in result.output
    table = pd.read_csv(out / "comparison.csv")
    from sfbsim.experiments.compare import TABLE_COLUMNS

    assert list(table.columns) == [*TABLE_COLUMNS, "note"]  # docs/experiments.md's table
    assert list(table.columns)[:8] == [
        "scenario",
        "outcome",
        "baseline_mean",
        "reform_mean",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
        "reps",
    ]
    assert (table["scenario"] == "duty").all()
    row = table.set_index("outcome").loc["admissions"]
    assert row["reps"] in (2, 3)
    assert row["diff_ci_low"] <= row["diff_mean"] <= row["diff_ci_high"]
    assert row["reform_mean"] - row["baseline_mean"] == pytest.approx(row["diff_mean"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\nbaseline = "baseline"\n[levers]\nno_such_lever = 1\n', "no_such_lever"),
        (
            'name = "x"\nbaseline = "baseline"\n[levers.centres.atlantis]\nresidential_units = 3\n',
            "atlantis",
        ),
        (
            'name = "x"\nbaseline = "baseline"\n'
            '[[changes]]\nlever = "duty_to_assist"\nvalue = true\nstart = 2026-01-01\n'
            '[[changes]]\nlever = "duty_to_assist"\nvalue = false\nstart = 2025-06-01\n'
            "end = 2026-06-01\n",
            "overlap",
        ),
    ],
)
def test_bad_reforms_exit_2_before_any_run(tmp_path, text, expected):
    bad = write(tmp_path, "bad", text)
    out = tmp_path / "bad_out"
    result = invoke("compare", "baseline", bad, "--years", "1", "--reps", "2", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (out / "results.duckdb").exists()


def test_bad_options_exit_2(tmp_path):
    out = str(tmp_path / "o")
    assert (
        invoke("compare", "baseline", "duty_to_assist", "--reps", "1", "--out", out).exit_code == 2
    )
    assert (
        invoke("compare", "baseline", "duty_to_assist", "--reps", "x", "--out", out).exit_code == 2
    )
    result = invoke("compare", "baseline", "duty_to_assist", "--by", "kommune", "--out", out)
    assert result.exit_code == 2 and "region, size_class, county" in result.output
    result = invoke("compare", "baseline", "nonexistent_reform", "--out", out)
    assert result.exit_code == 2 and "nonexistent_reform" in result.output


def test_resume_against_a_changed_scenario_is_refused(tmp_path):
    path = write(tmp_path, "duty", DUTY)
    out = str(tmp_path / "r")
    args = [
        "compare",
        "baseline",
        path,
        "--years",
        "1",
        "--reps",
        "2",
        "--out",
        out,
        "--workers",
        "0",
        "--quiet",
    ]
    assert invoke(*args).exit_code == 0
    again = invoke(*args)
    assert again.exit_code == 2 and "--resume" in again.output
    write(tmp_path, "duty", DUTY.replace("1.5", "2.0"))
    changed = invoke(*args, "--resume")
    assert changed.exit_code == 2
    assert "changed" in changed.output and "duty" in changed.output


def test_resume_takes_the_same_reforms_in_the_order_given(tmp_path):
    """The store keeps the scenarios by name; a resume with the reforms in another order (or
    the order of the first command, whatever it was) is the same experiment, also after
    `sfbsim results --by` wrote its grouped table into the folder."""
    out = str(tmp_path / "r")
    common = ["--years", "1", "--reps", "2", "--out", out, "--workers", "0", "--quiet"]
    first = invoke("compare", "baseline", "weekends_open", "duty_to_assist", *common)
    assert first.exit_code == 0, first.output
    before = pd.read_csv(tmp_path / "r" / "comparison.csv")
    grouped = invoke("results", out, "--by", "region")  # writes comparison-by-region.csv there
    assert grouped.exit_code == 0 and (tmp_path / "r" / "comparison-by-region.csv").is_file()
    again = invoke("compare", "baseline", "weekends_open", "duty_to_assist", *common, "--resume")
    assert again.exit_code == 0, again.output
    swapped = invoke("compare", "baseline", "duty_to_assist", "weekends_open", *common, "--resume")
    assert swapped.exit_code == 0, swapped.output
    after = pd.read_csv(tmp_path / "r" / "comparison.csv")
    key = ["scenario", "outcome"]
    pd.testing.assert_frame_equal(
        before.sort_values(key).reset_index(drop=True),
        after.sort_values(key).reset_index(drop=True),
    )
    other = invoke("compare", "baseline", "duty_to_assist", "more_units", *common, "--resume")
    assert other.exit_code == 2 and "it compared" in other.output
    (tmp_path / "r" / "my_notes.txt").write_text("mine")
    foreign = invoke("compare", "baseline", "weekends_open", "duty_to_assist", *common, "--resume")
    assert foreign.exit_code == 2 and "my_notes.txt" in foreign.output


REFORMS = (
    "weekends_open",
    "copay_halved",
    "duty_to_assist",
    "more_units",
    "new_centres",
    "faster_intake",
    "information_campaign",
    "sibling_flexibility",
    "guidance_allowed",
    "full_municipal_financing",
)


@pytest.mark.parametrize("name", REFORMS)
def test_shipped_reform_files_load(data, name):
    from sfbsim.experiments.scenario_files import load_scenario

    scenario = load_scenario(name, data)
    assert scenario.baseline == "baseline" and scenario.name == name
    text = (Path(__file__).parents[1] / "experiments" / "scenarios" / f"{name}.toml").read_text()
    assert text.startswith("#") and "Source" in text


def test_two_replications_over_the_posterior_say_their_intervals_are_empty(tmp_path):
    """Over the posterior two replications are one draw: the CI (between draws) is empty, and
    the command says so; with --uncertainty fixed two pairs give a CI and no such note."""
    common = ["--years", "1", "--reps", "2", "--workers", "0"]
    one = invoke("compare", "baseline", "weekends_open", *common, "--out", str(tmp_path / "a"))
    assert one.exit_code == 0, one.output
    text = " ".join(one.output.split())
    assert "2 replications over the posterior run a single draw" in text
    assert "give 3 or more replications" in text
    table = pd.read_csv(tmp_path / "a" / "comparison.csv")
    assert table["diff_ci_low"].isna().all() and (table["draws"] == 1).all()
    from sfbsim.cli.experiments import _comparison_cells

    cells = _comparison_cells(table, posterior=True, arm="reform")
    assert {c["sign"] for c in cells} == {"–"}  # one draw agrees with itself: no sign to read
    report = invoke("report", str(tmp_path / "a"))
    assert report.exit_code == 0, report.output
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "direction of an effect over the posterior cannot be judged" in page
    assert "For every reform and outcome at least 90 %" not in page
    fixed = invoke(
        "compare", "baseline", "weekends_open", *common, "--uncertainty", "fixed",
        "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert fixed.exit_code == 0 and "single draw" not in fixed.output
    assert pd.read_csv(tmp_path / "b" / "comparison.csv")["diff_ci_low"].notna().any()
