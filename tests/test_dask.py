"""The same experiment on a Dask LocalCluster (loopback) gives exactly the local results."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.store import Store

distributed = pytest.importorskip("distributed")
runner = CliRunner()

REFORM = 'name = "duty"\nbaseline = "baseline"\n[levers]\nduty_to_assist = true\n'


def stored(out) -> pd.DataFrame:
    with Store(out, read_only=True) as store:
        return store.con.execute(
            "SELECT param_hash, seed, scope, grp, year, outcome, value FROM outcomes ORDER BY ALL"
        ).df()


def test_dask_cluster_equals_local(tmp_path):
    reform = tmp_path / "duty.toml"
    reform.write_text(REFORM, encoding="utf-8")
    args = ["compare", "baseline", str(reform), "--years", "1", "--reps", "2", "--quiet"]
    local = tmp_path / "local"
    assert runner.invoke(app, [*args, "--out", str(local), "--workers", "0"]).exit_code == 0
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = tmp_path / "dask"
        result = runner.invoke(
            app, [*args, "--out", str(remote), "--scheduler", cluster.scheduler_address]
        )
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(
        pd.read_csv(local / "comparison.csv"),
        pd.read_csv(remote / "comparison.csv"),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(stored(local), stored(remote), check_exact=True)


def test_unreachable_scheduler_exits_2(tmp_path):
    result = runner.invoke(
        app,
        [
            "compare",
            "baseline",
            "duty_to_assist",
            "--years",
            "1",
            "--reps",
            "2",
            "--out",
            str(tmp_path / "x"),
            "--scheduler",
            "tcp://127.0.0.1:1",
        ],
    )
    assert result.exit_code == 2
    assert "scheduler" in result.output
