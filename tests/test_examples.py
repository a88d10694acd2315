"""The scripts in examples/ run (tiny sizes) and write only into the folder they are given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from sfbsim.experiments.uncertainty import POSTERIOR_FILE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY = ["--years", "1", "--reps", "2", "--workers", "0"]
if not POSTERIOR_FILE.is_file():  # the default runs over the posterior once it is shipped
    TINY += ["--uncertainty", "fixed"]


def run_example(name: str, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), str(out), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing written elsewhere
    return result.stdout


def test_every_example_is_tested():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    tested = ["01_run_baseline.py", "02_weekends_in_the_north.py", "03_sweep_units.py"]
    assert scripts == tested


def test_run_baseline(tmp_path):
    output = run_example("01_run_baseline.py", tmp_path, "--years", "1")
    assert "tables and manifest.json written to" in output
    yearly = pd.read_csv(tmp_path / "out" / "yearly.csv")
    assert set(yearly["year"]) == {2025}
    assert (tmp_path / "out" / "manifest.json").is_file()


def test_weekends_in_the_north(tmp_path):
    output = run_example("02_weekends_in_the_north.py", tmp_path, *TINY)
    assert "region nord: weekends − baseline" in output
    assert "What the intervals cover:" in output and "2 pairs stored in" in output
    table = pd.read_csv(tmp_path / "out" / "comparison.csv", keep_default_na=False)
    assert set(table["scenario"]) == {"weekends"}
    assert "nord" in set(table["group"])  # comparison.csv by region
    assert "size_class small" in output  # and a grouping computed afterwards from the store
    assert (tmp_path / "out" / "results.duckdb").is_file()


def test_sweep_units(tmp_path):
    output = run_example("03_sweep_units.py", tmp_path, *TINY)
    assert "median_wait, point − baseline" in output
    sweep = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert sweep["point"].nunique() == 6
    assert set(sweep["duty_to_assist"]) == {False, True}
