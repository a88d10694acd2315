"""The calibration: targets, the national series, the posterior's method and its checks."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sfbsim.cli.calibrate import calibrate as calibrate_command
from sfbsim.experiments import history_matching as hm
from sfbsim.experiments.calibration import (
    FREE_PARAMETERS,
    PRIOR_DEFAULTS,
    SSB_COLUMNS,
    TARGETS_FILE,
    load_targets,
    target_values,
)
from sfbsim.experiments.outcomes import national_series
from sfbsim.experiments.runner import simulate
from sfbsim.experiments.scenario_files import load_scenario
from sfbsim.model.parameter_files import ParameterFileError, entries, read_entries, write_values
from sfbsim.model.parameters import Parameters

REPO = Path(__file__).resolve().parents[1]
SHARED_TARGETS = REPO.parent / "shared" / "calibration" / "targets.csv"


# --- targets ------------------------------------------------------------------------------------
def test_targets_are_the_project_copy_with_sources():
    targets = load_targets()
    assert len(targets) == 18
    assert targets["source"].str.len().gt(0).all()
    assert (targets["low"] <= targets["value"]).all() and (
        targets["value"] <= targets["high"]
    ).all()
    if SHARED_TARGETS.is_file():
        assert TARGETS_FILE.read_bytes() == SHARED_TARGETS.read_bytes()


def test_target_values_pick_each_targets_year_and_definition():
    targets = load_targets()
    series = pd.DataFrame(
        {column: [0.0] for column in SSB_COLUMNS.values()}, index=pd.Index([2017], name="year")
    )
    series["ssb_child_bed_days"] = 34966.0
    values = target_values(series, targets)
    row = targets.index[(targets["target"] == "centre_bed_days") & (targets["year"] == 2017)][0]
    assert values[row] == 34966.0
    assert math.isnan(values[targets.index[targets["year"] == 2024][0]])  # not in the run
    series["child_presence_days"] = 30000.0
    assert target_values(series, targets, "presence")[row] == 30000.0
    with pytest.raises(ValueError):
        target_values(series, targets, "no_such_definition")


def test_national_series_count_what_the_families_table_shows(data):
    """The series the calibration compares come from counters kept during the run; they agree
    with the family records: the mean completed residential stay by the year it ended, and the
    SSB bed-days (children x calendar days of residential stays)."""
    scenario = load_scenario("baseline").with_run(years=2, seed=5)
    _, tables = simulate(scenario, data)
    series = national_series(tables)
    families = tables["families"]
    done = families[(families["option"] == "residential") & (families["status"] == "finished")]
    start, end = pd.to_datetime(done["start_date"]), pd.to_datetime(done["end_date"])
    by_end = (end - start).dt.days.groupby(end.dt.year).mean()
    for year, mean in by_end.items():
        assert series.loc[year, "mean_residential_stay_days"] == pytest.approx(mean)
    stays = families[families["option"].isin(["residential", "direct_purchase"])]
    stays = stays[stays["start_date"] != ""]
    first, last = pd.Timestamp(2025, 1, 1), pd.Timestamp(2027, 1, 1)
    begin = pd.to_datetime(stays["start_date"]).clip(lower=first)
    finish = pd.to_datetime(stays["end_date"].replace("", "2027-01-01")).clip(upper=last)
    days = ((finish - begin).dt.days.clip(lower=0) * stays["children"]).sum()
    assert series["ssb_child_bed_days"].sum() == pytest.approx(days)


# --- scenarios ----------------------------------------------------------------------------------
def test_history_scenario_carries_the_dated_history(data):
    history = load_scenario("history", data)
    assert history.run.start_year == 2012 and history.run.years == 13  # 2012 is warm-up
    assert history.levers.older_children_included and history.levers.guidance_allowed
    by_lever: dict[str, list] = {}
    for change in history.changes:
        by_lever.setdefault(change.lever, []).append(change)
    mandate = dt.date(2022, 1, 1)
    for lever in ("older_children_included", "guidance_allowed"):
        (change,) = by_lever[lever]
        assert change.value is False and change.start == mandate
    cases = sorted(by_lever["case_rate_multiplier"], key=lambda c: c.start)
    # relative to 2024 (1.0): 2013-2017 at 1/0.617 (SSB 09050 per child, 2017 -> 2024)
    assert cases[-1].value == 1.0 and cases[-1].start == dt.date(2024, 1, 1)
    assert history.levers.case_rate_multiplier == pytest.approx(1 / 0.617, abs=0.001)
    pandemic = [c for c in cases if c.start and dt.date(2020, 3, 1) <= c.start < mandate]
    trend_2019 = next(c.value for c in cases if c.start == dt.date(2019, 1, 1))
    assert pandemic and all(c.value < 0.9 * trend_2019 for c in pandemic)
    units = {c.start: c.value for c in by_lever["units_multiplier"]}
    assert units[dt.date(2024, 1, 1)] == pytest.approx(154 / 182, abs=0.001)
    assert units[dt.date(2022, 1, 1)] == pytest.approx(166 / 182, abs=0.001)


def test_price_only_equals_history_before_2022(data):
    history = load_scenario("history", data)
    price_only = load_scenario("history_price_only", data)
    mandate = dt.date(2022, 1, 1)

    def before(scenario):
        return sorted(
            (c.lever, str(c.start), str(c.end), c.value)
            for c in scenario.changes
            if c.start is None or c.start < mandate
        )

    assert before(history) == before(price_only)
    assert history.levers == price_only.levers and history.run == price_only.run
    after = [c for c in price_only.changes if c.start and c.start >= mandate]
    assert [c.lever for c in after] == ["case_rate_multiplier"]  # held at the 2021 trend
    assert all(c.end is None or c.end <= mandate for c in price_only.changes if c not in after)


# --- shipped defaults -----------------------------------------------------------------------------
def test_shipped_defaults_are_the_values_in_the_parameter_files():
    """The value written in a parameter file is the value that runs: no code default."""
    defaults = Parameters()
    calibrated = [name for name, e in entries("parameters").items() if e.calibrated]
    assert set(calibrated) == set(FREE_PARAMETERS)
    for name, entry in entries("parameters").items():
        assert getattr(defaults, name) == entry.value, name
    for name in calibrated:
        assert PRIOR_DEFAULTS[name] == entries("parameters")[name].prior.value
    odd = (REPO / "docs" / "ODD.md").read_text(encoding="utf-8")
    rate = entries("parameters")["case_rate_per_1000_children"].value
    assert f"`case_rate_per_1000_children` | {rate} |" in odd
    assert "**CALIBRATED**" in odd


def test_fitted_values_are_written_into_the_parameter_files(tmp_path):
    folder = tmp_path / "parameters"
    folder.mkdir()
    source_dir = REPO / "model" / "data" / "parameters"
    for path in source_dir.glob("*.toml"):
        (folder / path.name).write_bytes(path.read_bytes())
    write_values({"asc_residential": 0.25, "asc_own": 0.7}, "CALIBRATED: test", folder)
    written = read_entries(folder)
    assert written["asc_residential"].value == 0.25 and written["asc_own"].value == 0.7
    assert written["asc_own"].prior.value == 0.6  # first fit: the old value becomes the prior
    assert written["asc_residential"].prior.value == PRIOR_DEFAULTS["asc_residential"]
    assert "# " in (folder / "choice.toml").read_text()  # comments kept
    with pytest.raises(ParameterFileError, match="no parameter"):
        write_values({"no_such_parameter": 1.0}, "CALIBRATED: test", folder)


def tiny(tmp_path: Path, *extra: str):
    short = tmp_path / "short.toml"
    short.write_text('baseline = "history"\nname = "history_short"\n[run]\nyears = 3\n')
    app = typer.Typer()
    app.command()(calibrate_command)
    app.command("noop")(lambda: None)  # two commands, so `calibrate` is a subcommand
    arguments = ["calibrate", "--scenario", str(short), "--waves", "1", "--points", "8"]
    arguments += ["--seeds", "2", "--draws", "20", "--steps", "50", "--predictive", "4"]
    arguments += ["--recovery", "2", "--jobs", "1", "--price-only", "none", *extra]
    return CliRunner().invoke(app, arguments)


def test_calibrate_writes_a_posterior_and_every_check_at_a_reduced_size(tmp_path):
    out = tmp_path / "cal"
    result = tiny(tmp_path, "--out", str(out))
    assert result.exit_code == 0, result.output
    posterior = hm.read_posterior(out)
    assert len(posterior.draws) == 20 and set(FREE_PARAMETERS) < set(posterior.draws.columns)
    assert posterior.draws["weight"].sum() == pytest.approx(1.0)
    manifest = posterior.manifest
    for key in ("method", "settings", "waves", "mcmc", "run_time_minutes", "priors"):
        assert key in manifest
    predictive = pd.read_csv(out / "predictive.csv")
    assert list(predictive.columns[:8]) == hm.PREDICTIVE_COLUMNS
    assert list(pd.read_csv(out / "out_of_sample.csv").columns[:8]) == hm.PREDICTIVE_COLUMNS
    recovery = pd.read_csv(out / "recovery.csv")
    assert set(recovery["setting"]) == {0, 1} and recovery["inside90"].dtype == bool
    for name in ("prior_sensitivity.csv", "predictive.png", "recovery.png", "report.md"):
        assert (out / name).is_file(), name
    # shipped values untouched without --write-defaults
    assert Parameters().asc_residential == entries("parameters")["asc_residential"].value
    # a rerun resumes: every run is already stored
    again = tiny(tmp_path, "--out", str(out), "--no-check")
    assert again.exit_code == 0, again.output
    assert "runs to do" not in again.output
    other = tiny(tmp_path, "--out", str(out), "--seed", "3")
    assert other.exit_code == 2 and "other settings" in other.output
    # the targets shape the waves: other targets are other settings too
    moved = tmp_path / "targets.csv"
    lines = TARGETS_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    moved.write_text("".join(lines[:-1]), encoding="utf-8")  # one target fewer
    other_targets = tiny(tmp_path, "--out", str(out), "--no-check", "--targets", str(moved))
    assert other_targets.exit_code == 2 and "other settings" in other_targets.output
    # a folder recorded before the targets were recorded still resumes
    record = out / "settings.json"
    old = json.loads(record.read_text(encoding="utf-8"))
    record.write_text(json.dumps({k: v for k, v in old.items() if k != "targets"}, sort_keys=True))
    older = tiny(tmp_path, "--out", str(out), "--no-check")
    assert older.exit_code == 0, older.output
    record.write_text("not json {")  # a damaged record: refused with the reason, no traceback
    damaged = tiny(tmp_path, "--out", str(out), "--no-check")
    assert damaged.exit_code == 2 and "other settings" in damaged.output
    assert record.read_text() == "not json {"  # left as it was


def test_the_method_recovers_known_parameters_of_a_toy_simulator():
    """History matching and the MCMC on a simulator whose truth is known: the targets are
    noisy smooth functions of two parameters; the posterior covers the truth and shrinks."""
    rng = np.random.default_rng(1)
    truth = np.array([0.3, 0.7])

    def simulate_toy(unit):
        unit = np.atleast_2d(unit)
        clean = np.stack([1 + unit[:, 0] + 0.5 * unit[:, 1], 2 + np.sin(3 * unit[:, 1])], axis=1)
        return np.log(clean)

    x = rng.random((120, 2))
    runs = simulate_toy(np.repeat(x, 2, axis=0)) + rng.normal(0, 0.01, (240, 2))
    means = runs.reshape(120, 2, 2).mean(axis=1)
    within = runs.reshape(120, 2, 2).var(axis=1, ddof=1).mean(axis=0)
    emulator = hm.Emulator.fit(x, means, within, 2.0)
    targets = pd.DataFrame({"target": ["a", "b"], "year": [2015, 2015]})
    observed = hm.Observations(targets, simulate_toy(truth)[0], np.array([1e-4, 1e-4]))
    mask = np.array([True, True])
    start = x[np.argsort(hm.implausibility(emulator, observed, mask, x))[:40]]
    chain, diagnostics = hm.sample_posterior(emulator, observed, mask, start, 400, 400, 0)
    low, high = np.quantile(chain, [0.05, 0.95], axis=0)
    assert ((low <= truth) & (truth <= high)).all()
    assert (chain.std(axis=0) < 0.2).all()  # far narrower than the prior's 0.29
    assert 0.1 < diagnostics["acceptance_fraction"] < 0.9
    implausible = hm.implausibility(emulator, observed, mask, np.array([[0.95, 0.05]]))
    assert implausible[0] > 3  # a far corner is ruled out


def test_predictive_table_says_which_observations_fall_inside():
    targets = pd.DataFrame({"target": ["a", "a"], "year": [2020, 2021], "value": [10.0, 50.0]})
    simulated = np.column_stack([np.linspace(8, 12, 101), np.linspace(8, 12, 101)])
    table = hm.predictive_table(targets, simulated)
    assert table["inside90"].tolist() == [True, False]
    assert table["pi90_low"].iloc[0] == pytest.approx(8.2)


def test_calibrate_command_rejects_an_unknown_scenario(tmp_path):
    app = typer.Typer()
    app.command()(calibrate_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["calibrate", "--scenario", "no_such", "--out", str(tmp_path)])
    assert result.exit_code == 2


# --- acceptance -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_shipped_posterior_predicts_the_history(tmp_path):
    """`sfbsim calibrate --report-only` at a reduced size: single runs over the shipped
    posterior cover Statistics Norway's values (at least 16 of 18 inside their 90 % intervals;
    docs/calibration.md has the full-size figures)."""
    posterior = hm.read_posterior(hm.SHIPPED_FOLDER)
    assert len(posterior.draws) >= 200
    targets = load_targets()
    settings = hm.Settings(predictive=40)
    tables = hm.report_shipped(load_scenario("history"), targets, tmp_path, posterior, settings, 2)
    inside = int(tables["predictive"]["inside90"].sum())
    assert inside >= 16, tables["predictive"].to_string()


def test_every_design_point_runs_on_seeds_of_its_own():
    """No common random numbers across design points: the emulators must learn the model's
    mean, not its luck at two seeds (docs/calibration.md §4)."""
    seeds = [hm.point_seed(stage, i, s) for stage in ("wave1", "wave2", "recovery")
             for i in range(300) for s in (1, 2)]  # fmt: skip
    assert len(set(seeds)) == len(seeds)
    assert hm.point_seed("wave3", 7, 1) == hm.point_seed("wave3", 7, 1)  # reproducible
