"""Hostile input: every bad value, file, folder or option gives exit code 2, a message that
names the problem, no traceback, and leaves the target untouched (README, "Bad input").

Most cases run the CLI in this process (typer's CliRunner: fast); a few run it as a real
process. The data tables' own hostile cases are in test_data_hostile.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments import files
from sfbsim.experiments.scenario_files import ScenarioError, parse_scenario
from sfbsim.model.parameters import DATED_LEVERS, Levers

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str, cwd: Path | None = None):
    """Run the CLI in this process; return (exit code, stdout + stderr, exception)."""
    runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(app, list(args))
    finally:
        os.chdir(old)
    return result.exit_code, result.output, result.exception


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refused(code: int, output: str, exception: BaseException | None, *words: str) -> None:
    assert code == 2, output
    assert isinstance(exception, SystemExit), repr(exception)
    assert "Traceback" not in output
    for word in words:
        assert word in output, (word, output)


def scenario(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- --overwrite deletes only an sfbsim result ----------------------------------------------
def test_overwrite_refuses_the_current_folder(tmp_path):
    (tmp_path / "thesis.docx").write_text("years of work")
    before = snapshot(tmp_path)
    refused(*invoke("run", "--years", "1", "--out", ".", "--overwrite", cwd=tmp_path), "current")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("target", ["/", str(Path.home()), str(REPO / "model" / "data"), str(REPO)])
def test_overwrite_refuses_root_home_and_project_folders(target, tmp_path):
    before = snapshot(REPO / "model" / "data")
    refused(*invoke("run", "--years", "1", "--out", target, "--overwrite", cwd=tmp_path))
    assert snapshot(REPO / "model" / "data") == before


def test_overwrite_refuses_a_folder_holding_a_file_sfbsim_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    refused(*invoke("run", "--years", "1", "--out", str(out), "--overwrite"), "did not write")
    assert snapshot(out) == before


def test_overwrite_refuses_an_sfbsim_result_with_a_foreign_file_in_it(tmp_path):
    out = tmp_path / "result"
    code, output, _ = invoke("run", "--years", "1", "--out", str(out), "--quiet")
    assert code == 0, output
    (out / "my_analysis.xlsx").write_text("mine")
    before = snapshot(out)
    refused(*invoke("run", "--years", "1", "--out", str(out), "--overwrite"), "did not write")
    assert snapshot(out) == before


def test_overwrite_replaces_an_earlier_result_and_cleans_stale_partials(tmp_path):
    out = tmp_path / "result"
    assert invoke("run", "--years", "1", "--seed", "3", "--out", str(out), "--quiet")[0] == 0
    stale = tmp_path / ".result.partial-999999999"  # a run killed long ago
    stale.mkdir()
    (stale / "yearly.csv").write_text("half")
    code, output, _ = invoke(
        "run", "--years", "1", "--seed", "4", "--out", str(out), "--overwrite", "--quiet"
    )
    assert code == 0, output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 4
    assert not stale.exists() and "removed .result.partial-999999999" in output
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def _two_results(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "result"
    assert invoke("run", "--years", "1", "--seed", "3", "--out", str(out), "--quiet")[0] == 0
    new = tmp_path / ".result.partial-1"
    assert invoke("run", "--years", "1", "--seed", "4", "--out", str(new), "--quiet")[0] == 0
    return out, new


class Killed(BaseException):
    """Stands for SIGKILL at one step of the swap."""


@pytest.mark.parametrize("step", ["aside", "in"])
def test_a_kill_during_the_swap_leaves_a_complete_old_or_new_result(tmp_path, step):
    out, new = _two_results(tmp_path)

    def kill(name: str) -> None:
        if name == step:
            raise Killed

    with pytest.raises(Killed):
        files.publish_folder(new, out, step=kill)
    complete = [
        json.loads((p / "manifest.json").read_text())["seed"]
        for p in tmp_path.iterdir()
        if files.is_run_result(p)
    ]
    assert complete and set(complete) <= {3, 4}  # every folder left is a whole result
    # the next run puts things right: the result is back in place, nothing stale is left
    files.recover_stale(out) if out.exists() else None
    if not out.exists():
        notes = files.recover_stale(out)
        assert any("restored" in n for n in notes)
    assert files.is_run_result(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".result.old")] == []


def test_a_killed_run_process_leaves_the_earlier_result(tmp_path):
    """A real process killed during its run: the earlier result is untouched."""
    out = tmp_path / "result"
    assert invoke("run", "--years", "1", "--seed", "3", "--out", str(out), "--quiet")[0] == 0
    before = snapshot(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "sfbsim", "run", "--years", "3", "--out", str(out), "--overwrite"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    assert files.is_run_result(out)
    if snapshot(out) != before:  # it published before the kill (the kill may still hit its exit)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["years"] == 3 and process.returncode in (0, -signal.SIGKILL)
        assert {p.name for p in out.iterdir()} >= {f"{name}.csv" for name in manifest["tables"]}
    else:  # killed before it published: the old result stands whole
        assert process.returncode != 0


# --- every output file is atomic ------------------------------------------------------------
def test_a_file_is_never_left_half_written(tmp_path):
    target = tmp_path / "comparison.csv"
    target.write_text("the earlier table\n")
    with pytest.raises(Killed), files.atomic_path(target) as temporary:
        temporary.write_text("half of a new ta")
        raise Killed
    assert target.read_text() == "the earlier table\n"
    assert [p.name for p in tmp_path.iterdir()] == ["comparison.csv"]


# --- runs that admit nobody finish ----------------------------------------------------------
@pytest.mark.parametrize(
    "levers",
    [
        "case_rate_multiplier = 0.0",
        "copay_multiplier = 10.0",
        "units_multiplier = 0.0\nhome_capacity_multiplier = 0.0",
    ],
)
def test_runs_that_admit_nobody_finish(tmp_path, levers):
    path = scenario(tmp_path, f'baseline = "baseline"\n[run]\nyears = 1\n[levers]\n{levers}\n')
    out = tmp_path / "out"
    code, output, _ = invoke("run", "--scenario", str(path), "--out", str(out), "--quiet")
    assert code == 0, output
    assert (out / "yearly.csv").is_file()


def test_a_run_with_no_open_centre_finishes(tmp_path):
    import pandas as pd

    data = tmp_path / "data"
    data.mkdir()
    for path in (REPO / "model" / "data").glob("*.csv"):
        (data / path.name).write_bytes(path.read_bytes())
    centres = pd.read_csv(data / "centres.csv", dtype=str, keep_default_na=False)
    centres["closed_year"] = "2013"
    centres["opened_year"] = "2012"
    centres.to_csv(data / "centres.csv", index=False)
    out = tmp_path / "out"
    args = ("run", "--data", str(data), "--years", "1", "--out", str(out), "--quiet")
    code, output, _ = invoke(*args)
    assert code == 0, output


# --- every number finite and bounded --------------------------------------------------------
@pytest.mark.parametrize(
    "line, key",
    [
        ("[levers]\nunits_multiplier = inf", "units_multiplier"),
        ("[levers]\ncopay_multiplier = inf", "copay_multiplier"),
        ("[levers]\ncase_rate_multiplier = 1e300", "case_rate_multiplier"),
        ("[levers]\nunits_multiplier = 1e12", "units_multiplier"),
        ("[levers]\ninformation_campaign = nan", "information_campaign"),
        ("[levers.centres.gullhella]\nresidential_units = 1000000000000", "residential_units"),
        ("[parameters]\ncase_rate_per_1000_children = 1e300", "case_rate_per_1000_children"),
        ("[parameters]\nconsent_intercept = -inf", "consent_intercept"),
        ("[costs]\nresidential_full_cost = inf", "residential_full_cost"),
        ("[run]\nyears = 101", "years"),
        ("[run]\nseed = -1", "seed"),
    ],
)
def test_infinite_and_absurd_values_are_refused_with_the_key(tmp_path, line, key):
    path = scenario(tmp_path, f'baseline = "baseline"\n{line}\n')
    out = tmp_path / "out"
    refused(*invoke("run", "--scenario", str(path), "--out", str(out)), key)
    assert not out.exists()


# --- command-line overrides validated like files ---------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("run", "--years", "101"),
        ("run", "--years", "10000"),
        ("run", "--seed", "-5"),
        ("compare", "baseline", "weekends_open", "--seed", "-5"),
        ("compare", "baseline", "weekends_open", "--workers", "-1"),
        ("compare", "baseline", "weekends_open", "--reps", "auto", "--target", "nan"),
        ("compare", "baseline", "weekends_open", "--reps", "1"),
        ("compare", "baseline", "weekends_open", "--years", "10000"),
        ("sweep", "baseline", "-l", "units_multiplier=1,2", "--reps", "0"),
    ],
)
def test_bad_command_line_values_are_refused_before_anything_is_written(tmp_path, args):
    out = tmp_path / "out"
    code, output, exception = invoke(*args, "--out", str(out))
    assert code == 2, output
    assert "Traceback" not in output
    assert not out.exists()


def test_a_corrected_rerun_after_a_refused_one_is_accepted(tmp_path):
    out = tmp_path / "cmp"
    base = ("compare", "baseline", "weekends_open", "--years", "1", "--reps", "2")
    refused(*invoke(*base, "--seed", "-5", "--out", str(out)))
    code, output, _ = invoke(*base, "--seed", "5", "--workers", "0", "--quiet", "--out", str(out))
    assert code == 0, output


# --- dates checked against the run ----------------------------------------------------------
@pytest.mark.parametrize(
    "text, words",
    [
        ('[[closed_centres]]\ncentre_id = "gullhella"\ncloses = 1800-01-01', ["1800-01-01"]),
        ('[[changes]]\nlever = "duty_to_assist"\nvalue = true\nstart = 2999-01-01', ["2999"]),
        (
            '[[closed_centres]]\ncentre_id = "borg"\ncloses = 2026-01-01\n'
            '[[closed_centres]]\ncentre_id = "borg"\ncloses = 2027-01-01',
            ["already closed"],
        ),
        (
            '[[new_centres]]\ncentre_id = "alta"\nkommunenummer = "5601"\nopens = 2040-01-01',
            ["2040-01-01"],
        ),
    ],
)
def test_dates_outside_the_run_are_errors(tmp_path, text, words):
    path = scenario(tmp_path, f'baseline = "baseline"\n{text}\n')
    refused(*invoke("run", "--scenario", str(path), "--out", str(tmp_path / "out")), *words)


# --- error text printed as text ---------------------------------------------------------------
def test_markup_in_user_text_is_printed_as_text(tmp_path):
    (tmp_path / "a[").mkdir()  # the path a[/]b.toml: a folder "a[" holding "]b.toml"
    text = 'baseline = "baseline"\n[levers]\nweekend_policy = "[/]"\n'
    path = scenario(tmp_path, text, "a[/]b.toml")
    code, output, exception = invoke("run", "--scenario", str(path), "--out", str(tmp_path / "o"))
    refused(code, output, exception, "[/]", "a[/]b.toml")
    bad_id = scenario(
        tmp_path,
        'baseline = "baseline"\n[[new_centres]]\ncentre_id = "Bad Id"\nkommunenummer = "5601"\n',
        "id.toml",
    )
    refused(*invoke("run", "--scenario", str(bad_id), "--out", str(tmp_path / "o")), "^[a-z0-9_]+$")


# --- strict types, deep files, names that are paths ---------------------------------------------
@pytest.mark.parametrize(
    "line, key",
    [
        ('[levers]\nduty_to_assist = "yes"', "duty_to_assist"),
        ('[levers]\ncopay_multiplier = "0.5"', "copay_multiplier"),
        ("[run]\nyears = 2.5", "years"),
        ('[parameters]\ninvestigation_deadline_days = "90"', "investigation_deadline_days"),
    ],
)
def test_wrong_types_stop(tmp_path, line, key):
    path = scenario(tmp_path, f'baseline = "baseline"\n{line}\n')
    refused(*invoke("run", "--scenario", str(path), "--out", str(tmp_path / "out")), key)


def test_a_deeply_nested_file_gives_a_clear_error(tmp_path):
    path = scenario(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    refused(*invoke("run", "--scenario", str(path), "--out", str(tmp_path / "out")), "deep")


@pytest.mark.parametrize("name", ["../baseline", "scenarios/../baseline", "./baseline"])
def test_names_with_a_path_are_files_not_shipped_names(tmp_path, name):
    refused(*invoke("run", "--scenario", name, "--out", str(tmp_path / "out"), cwd=tmp_path))


# --- outputs to impossible places fail before the work --------------------------------------
def test_outputs_to_impossible_places_fail_before_the_work(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    for out in (a_file, Path("/proc/sfbsim"), Path("/sys/sfbsim"), link):
        refused(*invoke("run", "--years", "1", "--out", str(out)))
    refused(*invoke("compare", "baseline", "weekends_open", "--out", str(tmp_path / "x.duckdb")))
    assert not (tmp_path / "x.duckdb").exists()
    refused(*invoke("compare", "baseline", "weekends_open", "--out", str(a_file)))
    assert a_file.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_a_read_only_folder_fails_before_the_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        refused(*invoke("run", "--years", "1", "--out", str(locked / "out")), "not writable")
    finally:
        locked.chmod(0o755)


def test_an_experiment_never_writes_into_a_folder_of_foreign_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "comparison.csv").write_text("my own comparison")
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    refused(*invoke("compare", "baseline", "weekends_open", "--out", str(out)), "did not write")
    assert snapshot(out) == before


# --- the results store defends itself ----------------------------------------------------------
def test_a_foreign_or_corrupt_results_database_is_never_written(tmp_path):
    import sqlite3

    import duckdb

    sqlite_folder = tmp_path / "sqlite"
    sqlite_folder.mkdir()
    sqlite3.connect(sqlite_folder / "results.duckdb").execute("CREATE TABLE t (x)").close()
    foreign_folder = tmp_path / "foreign"
    foreign_folder.mkdir()
    con = duckdb.connect(str(foreign_folder / "results.duckdb"))
    con.execute("CREATE TABLE invoices (amount DOUBLE)")
    con.close()
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "results.duckdb").write_bytes(os.urandom(4096))
    for folder in (sqlite_folder, foreign_folder, garbage):
        before = snapshot(folder)
        code, output, exception = invoke(
            "compare", "baseline", "weekends_open", "--out", str(folder)
        )
        refused(code, output, exception, "not")
        assert "another sfbsim process" not in output and "another process" not in output
        assert snapshot(folder) == before
        refused(*invoke("results", str(folder)))
        refused(*invoke("report", str(folder)))


def test_results_and_report_on_a_run_folder_say_what_to_do(tmp_path):
    out = tmp_path / "run"
    assert invoke("run", "--years", "1", "--out", str(out), "--quiet")[0] == 0
    refused(*invoke("report", str(out)), "sfbsim compare")
    refused(*invoke("results", str(out)), "sfbsim compare")


# --- fuzzed scenarios: a valid scenario or a ScenarioError, never anything else ----------------
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.text(max_size=12),
    st.lists(st.text(max_size=4), max_size=3),
)
levers = st.dictionaries(st.sampled_from(sorted(Levers.model_fields)), values, max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levers=levers, lever=st.sampled_from(DATED_LEVERS), value=values)
def test_fuzzed_levers_and_changes_are_valid_or_a_scenario_error(levers, lever, value):
    raw = {"levers": levers, "changes": [{"lever": lever, "value": value}]}
    text = tomlkit.dumps(raw)  # as a file would hold it
    try:
        parse_scenario(tomlkit.parse(text).unwrap(), "fuzz")
    except ScenarioError as error:
        assert str(error).startswith("fuzz: ")
