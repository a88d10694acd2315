"""The scripting API (sfbsim.api, re-exported by ``import sfbsim``): the same engine and the
same numbers as the CLI, scenarios changed in code and validated, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sfbsim
from sfbsim.cli import app
from sfbsim.experiments.uncertainty import POSTERIOR_FILE

runner = CliRunner()
UNCERTAINTIES = [
    "fixed",
    pytest.param(
        "posterior",
        marks=pytest.mark.skipif(
            not POSTERIOR_FILE.is_file(), reason="no posterior.csv shipped yet"
        ),
    ),
]


def cli(*args: str) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def base() -> sfbsim.Scenario:
    return sfbsim.scenario("baseline")


# --- import -----------------------------------------------------------------------------------
def test_import_sfbsim_is_light_and_lists_the_api():
    code = (
        "import sys, sfbsim\n"
        "heavy = [m for m in ('pandas', 'pydantic', 'numpy', 'sfbsim.api') if m in sys.modules]\n"
        "print(heavy)\n"
        "print('scenario' in dir(sfbsim), callable(sfbsim.compare), 'pandas' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True True True"]
    for name in sfbsim.__all__:
        assert getattr(sfbsim, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = sfbsim.nothing


# --- scenarios ----------------------------------------------------------------------------------
def test_scenarios_load_and_change_without_changing_the_original(base):
    assert "weekends_open" in sfbsim.shipped_scenarios()
    assert "admissions" in sfbsim.outcomes()
    weekends = sfbsim.scenario("weekends_open")
    assert weekends.levers.weekend_policy == "open_every_weekend"
    changed = base.with_levers(
        units_multiplier=np.float64(1.5),  # numpy values are taken as Python's
        intake_meeting_days=np.array(["mon", "wed"]),
        centres={"gullhella": {"residential_units": 8}},
    ).named("more")
    assert (changed.name, changed.levers.units_multiplier) == ("more", 1.5)
    assert changed.levers.centres["gullhella"].residential_units == 8
    assert base.levers.units_multiplier == 1.0 and base.name == "baseline"
    merged = changed.with_levers(centres={"solbakken": {"residential_units": 2}})
    assert set(merged.levers.centres) == {"gullhella", "solbakken"}
    assert "# levers.units_multiplier = 1.5" in changed.text
    assert changed.text.startswith(base.text.rstrip("\n"))
    differences = base.differences(changed).set_index("setting")
    assert differences.loc["levers.units_multiplier", "other"] == 1.5
    tuned = base.with_parameters(beta_familiarity=1.0).with_costs(residential_full_cost=320000)
    assert tuned.own_parameters == ("beta_familiarity",)
    assert tuned.parameters.beta_familiarity == 1.0
    assert tuned.costs.residential_full_cost == 320000
    assert base.with_run(years=2, seed=5).years == 2 and base.years == 10
    copy = base.levers
    copy.units_multiplier = 3.0  # a copy: the scenario does not change
    assert base.levers.units_multiplier == 1.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s.with_levers(units_multiplier=20), "levers.units_multiplier: Input should be"),
        (lambda s: s.with_levers(units_multiplier="2"), "valid number (got '2')"),
        (lambda s: s.with_levers(no_such_lever=1), "levers.no_such_lever: unknown key; allowed"),
        (
            lambda s: s.with_levers(centres={"atlantis": {"residential_units": 3}}),
            "no centre with centre_id 'atlantis'; allowed: ",
        ),
        (lambda s: s.with_parameters(beta_familiarity=1e9), "less than or equal to 20"),
        (lambda s: s.with_run(years=0), "run.years: Input should be greater than or equal to 1"),
        (lambda s: s.named(""), "name: give a non-empty text"),
        (lambda s: sfbsim.scenario("no_such_scenario"), "or one of: baseline, "),
        (lambda s: sfbsim.scenario("missing/file.toml"), "no such file"),
    ],
)
def test_bad_scenarios_raise_a_scenario_error_from_the_call(base, change, expected):
    with pytest.raises(sfbsim.ScenarioError, match=None) as caught:
        change(base)
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)
    files = {Path(frame.filename).name for frame in traceback.extract_tb(caught.tb)}
    assert files <= {"test_api.py", "api.py"}, files  # nothing from deep inside


@pytest.mark.parametrize(
    ("call", "error", "expected"),
    [
        (lambda b: sfbsim.compare(b), sfbsim.ExperimentError, "give at least one reform"),
        (
            lambda b: sfbsim.sweep(b, {"units_multiplier": []}),
            sfbsim.ExperimentError,
            "levers['units_multiplier']: give at least one value to sweep",
        ),
        (lambda b: sfbsim.compare(b, b, reps=1), sfbsim.ExperimentError, "reps=1: give"),
        (lambda b: sfbsim.compare(b, b, uncertainty="maybe"), sfbsim.ExperimentError, "allowed"),
        (
            lambda b: sfbsim.compare(b, b, by=["kommune"], uncertainty="fixed"),
            sfbsim.ExperimentError,
            "size_class, county, municipality",
        ),
        (
            lambda b: sfbsim.compare(b, b, workers=-1, uncertainty="fixed"),
            sfbsim.ExperimentError,
            "workers=-1",
        ),
        (
            lambda b: sfbsim.compare(b, b, uncertainty="fixed", seed=10**12),
            sfbsim.ExperimentError,
            "seed + r",
        ),
        (
            lambda b: sfbsim.compare(b, b, uncertainty="fixed", out="/"),
            sfbsim.OutputError,
            "give a subfolder",
        ),
        (
            lambda b: sfbsim.sweep(b, {"no_such_lever": [1, 2]}, uncertainty="fixed"),
            sfbsim.ExperimentError,
            "unknown lever 'no_such_lever'",
        ),
        (
            lambda b: sfbsim.sweep(
                b, {"units_multiplier": [1, 2, 3]}, design="lhs", uncertainty="fixed"
            ),
            sfbsim.ExperimentError,
            "needs a range (LOW, HIGH)",
        ),
        (lambda b: sfbsim.read_experiment("/nonexistent"), sfbsim.StoreError, "no results"),
    ],
)
def test_bad_experiment_options_raise_clear_errors(base, call, error, expected):
    with pytest.raises(error) as caught:
        call(base)
    assert expected in str(caught.value)
    assert "--" not in str(caught.value).replace("--write-defaults", "")  # API words


@pytest.mark.skipif(POSTERIOR_FILE.is_file(), reason="the posterior is shipped")
def test_the_default_over_the_posterior_says_how_to_do_without_it(base):
    with pytest.raises(sfbsim.ExperimentError, match='pass uncertainty="fixed"'):
        sfbsim.compare(base, "weekends_open", reps=2, years=1)


# --- one run ------------------------------------------------------------------------------------
def test_run_gives_the_tables_of_sfbsim_run_and_saves_them_the_same_way(tmp_path, base):
    cli(
        "run",
        "--scenario",
        "weekends_open",
        "--years",
        "1",
        "--seed",
        "3",
        "--out",
        tmp_path / "cli",
        "--quiet",
    )
    seen = []
    result = sfbsim.run("weekends_open", years=1, seed=3, progress=lambda d, t: seen.append(d))
    assert seen == [1]
    assert result.manifest["seed"] == 3 and result.scenario.name == "weekends_open"
    assert set(result.tables) == set(
        json.loads((tmp_path / "cli/manifest.json").read_text())["tables"]
    )
    saved = result.save(tmp_path / "api")
    for name in ("yearly", "families", "ledger_totals", "daily"):
        assert (saved / f"{name}.csv").read_bytes() == (tmp_path / f"cli/{name}.csv").read_bytes()
    assert "decisions" not in result.tables  # the trail is opt-in, as in sfbsim run
    traced = sfbsim.run(base, years=1, trace=True)
    assert "decisions" in traced.tables and len(traced.tables["decisions"]) > 0
    with pytest.raises(sfbsim.OutputError, match="overwrite=True"):
        result.save(saved)
    result.save(saved, overwrite=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(sfbsim.OutputError):
        result.save(tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    back = sfbsim.read_run(saved)
    pd.testing.assert_frame_equal(back.tables["yearly"], result.tables["yearly"])
    assert back.manifest["scenario"] == "weekends_open"
    with pytest.raises(sfbsim.OutputError, match="not the folder of an sfbsim run"):
        sfbsim.read_run(tmp_path / "mine")


# --- compare ------------------------------------------------------------------------------------
@pytest.mark.parametrize("uncertainty", UNCERTAINTIES)
@pytest.mark.filterwarnings("ignore:2 replications over the posterior run a single draw")
def test_compare_gives_the_table_of_sfbsim_compare(tmp_path, base, uncertainty):
    """The acceptance check: same inputs, same numbers as `sfbsim compare` (in memory and
    stored), and the stored experiment reads back as it was."""
    cli(
        "compare",
        "baseline",
        "weekends_open",
        "duty_to_assist",
        "--years",
        "2",
        "--reps",
        "2",
        "--uncertainty",
        uncertainty,
        "--workers",
        "0",
        "--out",
        tmp_path / "cli",
        "--quiet",
    )
    expected = (tmp_path / "cli" / "comparison.csv").read_text(encoding="utf-8")
    memory = sfbsim.compare(
        base,
        "weekends_open",
        "duty_to_assist",
        years=2,
        reps=2,
        uncertainty=uncertainty,
        workers=0,
    )
    assert csv_text(memory.table) == expected
    assert memory.reforms == ["weekends_open", "duty_to_assist"] and memory.reps == 2
    assert memory.seeds == (1, 2) and memory.folder is None
    assert uncertainty in memory.covers[:300] or "same parameter values" in memory.covers
    assert list(memory.runs.columns) == [
        "scenario",
        "role",
        "seed",
        "draw",
        "scope",
        "group",
        "year",
        "outcome",
        "value",
    ]
    assert set(memory.runs["scope"]) == {"national", "region", "size_class"}
    assert set(memory.runs["year"]) == {0, 2025, 2026}
    stored = sfbsim.compare(
        "baseline",
        "weekends_open",
        "duty_to_assist",
        years=2,
        reps=2,
        uncertainty=uncertainty,
        workers=0,
        out=tmp_path / "api",
    )
    assert (tmp_path / "api" / "comparison.csv").read_text(encoding="utf-8") == expected
    assert stored.folder == tmp_path / "api" and stored.experiment_id.startswith("compare-")
    pd.testing.assert_frame_equal(stored.runs, memory.runs)
    again = sfbsim.read_experiment(tmp_path / "api")
    assert isinstance(again, sfbsim.ComparisonResult)
    assert csv_text(again.table) == expected
    pd.testing.assert_frame_equal(again.runs, memory.runs)
    assert [s.name for s in again.scenarios] == ["baseline", "weekends_open", "duty_to_assist"]
    cli_stored = sfbsim.read_experiment(tmp_path / "cli")
    pd.testing.assert_frame_equal(cli_stored.runs, memory.runs)


def test_compare_by_groups_yearly_and_resume(tmp_path, base):
    cli(
        "compare",
        "baseline",
        "weekends_open",
        "--years",
        "1",
        "--reps",
        "2",
        "--by",
        "region,size_class",
        "--uncertainty",
        "fixed",
        "--workers",
        "0",
        "--out",
        tmp_path / "cli",
        "--quiet",
    )
    expected = (tmp_path / "cli" / "comparison.csv").read_text(encoding="utf-8")
    weekends = base.with_levers(weekend_policy="open_every_weekend", holidays_open=True)
    memory = sfbsim.compare(
        base,
        weekends.named("weekends_open"),
        years=1,
        reps=2,
        by=("region", "size_class"),
        uncertainty="fixed",
        workers=0,
    )
    assert csv_text(memory.table) == expected
    assert csv_text(memory.summary(by=["region", "size_class"])) == expected
    yearly = memory.summary(years="yearly")
    assert list(yearly.columns[:3]) == ["scenario", "outcome", "year"]
    assert set(yearly["year"]) == {2025}
    out = tmp_path / "api"
    progress = []
    sfbsim.compare(base, weekends, years=1, reps=2, uncertainty="fixed", workers=0, out=out)
    with pytest.raises(sfbsim.ExperimentError, match="pass resume=True"):
        sfbsim.compare(base, weekends, years=1, reps=2, uncertainty="fixed", workers=0, out=out)
    with pytest.raises(sfbsim.ExperimentError, match="cannot resume"):
        sfbsim.compare(
            base, weekends, years=2, reps=2, uncertainty="fixed", workers=0, out=out, resume=True
        )
    more = sfbsim.compare(
        base,
        weekends,
        years=1,
        reps=3,
        uncertainty="fixed",
        workers=0,
        out=out,
        resume=True,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert progress[-1] == (2, 2)  # only the third pair ran
    assert more.reps == 3 and set(more.table["reps"]) <= {3}
    # a changed scenario left unnamed gets a numbered name in the tables
    assert more.scenarios[1].name == "baseline_2"


# --- sweep --------------------------------------------------------------------------------------
def test_sweep_gives_the_table_of_sfbsim_sweep(tmp_path, base):
    cli(
        "sweep",
        "baseline",
        "-l",
        "units_multiplier=1,1.5",
        "-l",
        "duty_to_assist=false,true",
        "--years",
        "1",
        "--reps",
        "2",
        "--uncertainty",
        "fixed",
        "--workers",
        "0",
        "--out",
        tmp_path / "cli",
        "--quiet",
    )
    expected = (tmp_path / "cli" / "sweep.csv").read_text(encoding="utf-8")
    levers = {"units_multiplier": [1, 1.5], "duty_to_assist": [False, True]}
    memory = sfbsim.sweep(base, levers, years=1, reps=2, uncertainty="fixed", workers=0)
    assert csv_text(memory.table) == expected
    assert memory.points.to_dict("list") == {
        "point": ["p0000", "p0001", "p0002", "p0003"],
        "units_multiplier": [1.0, 1.0, 1.5, 1.5],
        "duty_to_assist": [False, True, False, True],
    }
    stored = sfbsim.sweep(
        base,
        ["units_multiplier=1,1.5", "duty_to_assist=false,true"],
        years=1,
        reps=2,
        uncertainty="fixed",
        workers=0,
        out=tmp_path / "api",
    )
    assert (tmp_path / "api" / "sweep.csv").read_text(encoding="utf-8") == expected
    again = sfbsim.read_experiment(tmp_path / "api")
    assert isinstance(again, sfbsim.SweepResult)
    assert csv_text(again.table) == expected
    pd.testing.assert_frame_equal(again.points, stored.points)
    pd.testing.assert_frame_equal(again.runs, memory.runs)
    lhs = sfbsim.sweep(
        base,
        {"units_multiplier": (0.5, 2.0)},
        design="lhs",
        samples=2,
        years=1,
        reps=1,
        uncertainty="fixed",
        workers=0,
    )
    assert len(lhs.points) == 2 and lhs.points["units_multiplier"].between(0.5, 2).all()


def test_the_cli_and_the_api_resume_each_others_experiments(tmp_path):
    """An experiment stored from Python is the one `sfbsim compare --out` stores: each
    resumes the other's, and only the missing replications run."""
    from sfbsim.cli.experiments import MAX_REPS as CLI_MAX_REPS
    from sfbsim.experiments.compare import MAX_REPS

    assert CLI_MAX_REPS == MAX_REPS
    out = tmp_path / "shared"
    sfbsim.compare(
        "baseline", "weekends_open", years=1, reps=2, uncertainty="fixed", workers=0, out=out
    )
    cli(
        "compare",
        "baseline",
        "weekends_open",
        "--years",
        "1",
        "--reps",
        "3",
        "--uncertainty",
        "fixed",
        "--workers",
        "0",
        "--out",
        out,
        "--resume",
        "--quiet",
    )
    progress = []
    result = sfbsim.compare(
        "baseline",
        "weekends_open",
        years=1,
        reps=4,
        uncertainty="fixed",
        workers=0,
        out=out,
        resume=True,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert progress[-1] == (2, 2)  # the fourth pair only
    assert result.reps == 4
    assert csv_text(result.table) == (out / "comparison.csv").read_text(encoding="utf-8")
    assert len(sfbsim.read_experiment(out).seeds) == 4


def test_the_documented_code_parses_and_names_only_the_api():
    """The Python in README and docs/scripting.md is valid and uses only names the API has."""
    import ast
    import re

    repo = Path(__file__).resolve().parents[1]
    methods = {
        name
        for kind in (sfbsim.Scenario, sfbsim.RunResult, sfbsim.ComparisonResult, sfbsim.SweepResult)
        for name in dir(kind)
    }
    for page in ("README.md", "docs/scripting.md"):
        text = (repo / page).read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        assert blocks, page
        for block in blocks:
            if "->" in block:  # the reference: signatures, not code
                names = set(re.findall(r"^sfbsim\.(\w+)\(", block, flags=re.M))
                assert names <= set(sfbsim.__all__), names
                called = set(re.findall(r"^\w+\.(\w+)\(", block, flags=re.M)) - names
                assert called <= methods, called - methods
                continue
            tree = ast.parse(block)
            for node in ast.walk(tree):
                named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                if named and node.value.id == "sfbsim":
                    assert node.attr in sfbsim.__all__, (page, node.attr)


def test_two_reps_over_the_posterior_warn_that_the_intervals_are_empty(base):
    with pytest.warns(UserWarning, match="single draw") as caught:
        result = sfbsim.compare(base, base.with_levers(units_multiplier=1.5), reps=2, years=1,
                                workers=0)  # fmt: skip
    assert 'give 3 or more reps (or uncertainty="fixed"' in str(caught[0].message)
    assert Path(caught[0].filename).name == "test_api.py"  # points at the call
    assert result.table["diff_ci_low"].isna().all()
