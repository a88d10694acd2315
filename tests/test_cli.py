"""The command line: a real run, byte-identical repeats, and clean failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sfbsim.model.outputs import REQUIRED_COLUMNS

SFBSIM = [sys.executable, "-m", "sfbsim"]


def sfbsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SFBSIM, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def one_year(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "baseline"
    result = sfbsim(
        "run", "--scenario", "baseline", "--years", "1", "--seed", "7", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    return out


def test_run_writes_tables_and_manifest(one_year):
    for name in ("yearly", "municipality_yearly", "year_region", "year_size_class", "daily"):
        assert (one_year / f"{name}.csv").is_file()
        assert (one_year / f"{name}.parquet").is_file()
    yearly = pd.read_csv(one_year / "yearly.csv")
    assert {"year", "region", "size_class", *REQUIRED_COLUMNS} <= set(yearly.columns)
    municipal = pd.read_csv(one_year / "municipality_yearly.csv", dtype={"kommunenummer": str})
    assert len(municipal) == 357
    manifest = json.loads((one_year / "manifest.json").read_text())
    for key in ("scenario", "parameters", "levers", "seed", "versions", "git_commit"):
        assert key in manifest
    assert manifest["seed"] == 7
    assert manifest["started_at"] <= manifest["finished_at"]


def test_same_seed_gives_byte_identical_files(one_year, tmp_path):
    again = tmp_path / "again"
    result = sfbsim("run", "--years", "1", "--seed", "7", "--out", str(again), "--quiet")
    assert result.returncode == 0, result.stderr
    for path in sorted(one_year.iterdir()):
        if path.name != "manifest.json":
            assert path.read_bytes() == (again / path.name).read_bytes(), path.name


def test_bad_scenario_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[levers]\nunits_multiplier = -1\n")
    out = tmp_path / "out"
    result = sfbsim("run", "--scenario", str(bad), "--out", str(out))
    assert result.returncode == 2
    assert "levers.units_multiplier" in result.stderr
    assert not out.exists()


def test_existing_results_are_not_overwritten_without_asking(one_year):
    before = (one_year / "yearly.csv").read_bytes()
    result = sfbsim("run", "--years", "1", "--out", str(one_year))
    assert result.returncode == 2
    assert "--overwrite" in result.stderr
    assert (one_year / "yearly.csv").read_bytes() == before


def test_bad_data_dir_exits_2(tmp_path):
    result = sfbsim("run", "--data", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "municipalities.csv" in result.stderr


def test_help_explains_every_command():
    result = sfbsim("--help")
    assert result.returncode == 0
    assert "run" in result.stdout
    run_help = sfbsim("run", "--help").stdout
    for option in ("--scenario", "--years", "--seed", "--out", "--data"):
        assert option in run_help


def test_the_collector_is_paused_for_the_imports_and_freezes_only_in_the_commands_process(
    monkeypatch,
):
    """sfbsim.experiments.heap: in-process (tests, scripts) nothing is frozen and the collector
    runs again after the imports; in the command's own process what the imports made is
    frozen, and so in a pool worker (its initializer), but not in the process that started it."""
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from sfbsim.experiments import heap

    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    with heap.heavy_imports():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    heap.leave_the_heap_to_the_os()
    assert gc.get_freeze_count() == frozen
    monkeypatch.setattr(heap, "_owned", True)
    try:
        with heap.heavy_imports():
            _ = [[] for _ in range(10)]
        assert gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    monkeypatch.setattr(heap, "_owned", False)
    from sfbsim.experiments.execution import _init_worker

    frozen = gc.get_freeze_count()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        1, mp_context=context, initializer=_init_worker, initargs=(None,)
    ) as pool:
        assert pool.submit(gc.get_freeze_count).result(timeout=120) > 100_000
        assert pool.submit(gc.isenabled).result(timeout=120)
    assert not heap._owned and gc.get_freeze_count() == frozen
