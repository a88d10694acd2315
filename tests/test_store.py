"""The results store: replications survive a killed run, --resume completes it, export works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.store import Store

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]

REFORM = """
name = "duty"
baseline = "baseline"
[levers]
duty_to_assist = true
units_multiplier = 1.5
"""

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from sfbsim.experiments import store

    written = 0
    original = store.Store.write_replication

    def write_then_die(self, *args, **kwargs):
        global written
        original(self, *args, **kwargs)
        written += 1
        if written >= int(os.environ["KILL_AFTER"]):
            os.kill(os.getpid(), signal.SIGKILL)

    if __name__ == "__main__":
        store.Store.write_replication = write_then_die
        from sfbsim.cli import app
        app(sys.argv[1:])
    """
)


def compare_args(reform: Path, out: Path, *extra: str) -> list[str]:
    return [
        "compare",
        "baseline",
        str(reform),
        "--years",
        "1",
        "--reps",
        "3",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_resume_after_a_killed_run_gives_the_uninterrupted_table(tmp_path):
    reform = tmp_path / "duty.toml"
    reform.write_text(REFORM, encoding="utf-8")
    whole = tmp_path / "whole"
    assert runner.invoke(app, compare_args(reform, whole, "--workers", "0")).exit_code == 0

    killed = tmp_path / "killed"
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    log = tmp_path / "killed.log"
    with log.open("w") as sink:  # not a pipe: orphaned workers must not keep the test waiting
        process = subprocess.run(
            [sys.executable, str(script), *compare_args(reform, killed, "--workers", "1")],
            cwd=REPO,
            env={**os.environ, "KILL_AFTER": "3"},
            stdout=sink,
            stderr=sink,
            timeout=300,
        )
    assert process.returncode == -signal.SIGKILL, log.read_text()
    assert not (killed / "comparison.csv").exists()
    with Store(killed, read_only=True) as store:
        experiment_id = store.experiments()["experiment_id"].item()
        assert len(store.done(experiment_id)) == 3

    resumed = runner.invoke(app, compare_args(reform, killed, "--workers", "0", "--resume"))
    assert resumed.exit_code == 0, resumed.output
    with Store(killed, read_only=True) as store:
        runs = store.con.execute("SELECT count(*) FROM runs").fetchone()[0]
        assert runs == 6  # 2 scenarios x 3 seeds, nothing computed twice or lost
        first = store.con.execute("SELECT min(finished_at) FROM runs").fetchone()[0]
        assert first is not None
    expected = pd.read_csv(whole / "comparison.csv")
    got = pd.read_csv(killed / "comparison.csv")
    pd.testing.assert_frame_equal(expected, got, check_exact=True)


def test_results_lists_and_exports(tmp_path):
    reform = tmp_path / "duty.toml"
    reform.write_text(REFORM, encoding="utf-8")
    out = tmp_path / "exp"
    result = runner.invoke(
        app,
        [
            "compare",
            "baseline",
            str(reform),
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
    listing = runner.invoke(app, ["results", str(tmp_path)])
    assert listing.exit_code == 0, listing.output
    assert "compare-" in listing.output
    with Store(out, read_only=True) as store:
        experiment_id = store.experiments()["experiment_id"].item()
        scenarios = store.scenarios(experiment_id)
        assert set(scenarios["name"]) == {"baseline", "duty"}
        assert "duty_to_assist = true" in scenarios.set_index("name").loc["duty", "scenario_text"]
        runs = store.con.execute("SELECT seed, code_version FROM runs ORDER BY seed").df()
        assert sorted(set(runs["seed"])) == [1, 2]
        assert runs["code_version"].str.startswith("sfbsim").all()
    for fmt in ("parquet", "csv"):
        exported = runner.invoke(
            app,
            [
                "results",
                str(out),
                "--export",
                experiment_id,
                "--format",
                fmt,
                "--to",
                str(tmp_path / fmt),
            ],
        )
        assert exported.exit_code == 0, exported.output
        path = tmp_path / fmt / f"{experiment_id}-outcomes.{fmt}"
        frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
        assert {"scenario", "seed", "scope", "grp", "year", "outcome", "value"} <= set(frame)
        assert set(frame["scenario"]) == {"baseline", "duty"}
    missing = runner.invoke(app, ["results", str(out), "--export", "nope"])
    assert missing.exit_code == 2


def test_report_is_one_self_contained_html_file(tmp_path):
    reform = tmp_path / "duty.toml"
    reform.write_text(REFORM, encoding="utf-8")
    out = tmp_path / "exp"
    args = [
        "compare",
        "baseline",
        str(reform),
        "--years",
        "2",
        "--reps",
        "2",
        "--out",
        str(out),
        "--workers",
        "0",
        "--quiet",
    ]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "levers.duty_to_assist" in page and "levers.units_multiplier" in page
    assert page.count("data:image/png;base64,") >= 4  # over time, region, size class, map
    assert "<script src=" not in page and "<link" not in page
