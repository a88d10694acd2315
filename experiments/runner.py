"""Run a scenario and write its output folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from sfbsim.experiments.csv_writer import csv_text
from sfbsim.experiments.files import (
    MANIFEST,
    RESULT_MARK,
    check_run_folder,
    publish_folder,
    recover_stale,
    staging_folder,
)
from sfbsim.model.data_loading import BundledData
from sfbsim.model.ledger import ledger_tables
from sfbsim.model.model import SfbModel
from sfbsim.model.parameters import Scenario

PACKAGES = ("sfbsim", "mesa", "numpy", "pandas", "networkx", "holidays", "pydantic", "pyarrow")


@dataclass
class RunResult:
    """The tables of one run and its manifest."""

    tables: dict[str, pd.DataFrame]
    manifest: dict
    model: SfbModel


def simulate(
    scenario: Scenario,
    data: BundledData,
    progress: Callable[[int], None] | None = None,
    tables: tuple[str, ...] | None = None,
    details: bool = True,
    trace: bool = False,
) -> tuple[SfbModel, dict[str, pd.DataFrame]]:
    """Build the model for a scenario, run every year, return the model and its tables
    (all of them, or only those named in ``tables``; ``details=False``: a calibration run,
    only the yearly counts; ``trace``: with the ``decisions`` table, model/trail.py)."""
    model = build_model(scenario, data, details, trace)
    model.run_years(progress=progress)
    return model, model.recorder.tables(tables)


def build_model(
    scenario: Scenario, data: BundledData, details: bool = True, trace: bool = False
) -> SfbModel:
    """The model a scenario describes."""
    return SfbModel(
        parameters=scenario.parameters,
        levers=scenario.levers,
        costs=scenario.costs,
        changes=scenario.changes,
        new_centres=scenario.new_centres,
        closed_centres=scenario.closed_centres,
        start_year=scenario.run.start_year,
        years=scenario.run.years,
        data=data,
        rng=scenario.run.seed,
        details=details,
        trace=trace,
    )


def run_to_folder(
    scenario: Scenario,
    data: BundledData,
    out: Path,
    scenario_text: str = "",
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    notes: Callable[[str], None] | None = None,
    trace: bool = False,
) -> RunResult:
    """Run and write the tables and manifest to ``out``.

    ``out`` is checked before the run (experiments.files.check_run_folder: with ``overwrite``
    only an earlier sfbsim result is replaced). The result is written beside ``out`` first and
    moved into place only when complete (``publish_folder``), so a failed or killed run never
    leaves half a folder or destroys an earlier result; what killed runs left is cleaned up or
    restored first, and ``notes`` is told.
    """
    out = prepare_run_folder(out, overwrite, notes)
    result = run_scenario(scenario, data, scenario_text, progress, trace)
    publish_result(result, out, overwrite)
    return result


def run_scenario(
    scenario: Scenario,
    data: BundledData,
    scenario_text: str = "",
    progress: Callable[[int], None] | None = None,
    trace: bool = False,
) -> RunResult:
    """Run a scenario in memory: every table of ``sfbsim run`` (the ledger's included; with
    ``trace`` the decision trail, ``decisions``) and its manifest, nothing written
    (``publish_result`` writes them)."""
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    model, tables = simulate(scenario, data, progress, trace=trace)
    tables.update(ledger_tables(tables, scenario, data, scenario.costs))
    manifest = build_manifest(scenario, data, scenario_text, started, time.perf_counter() - clock)
    manifest["tables"] = sorted(tables)
    return RunResult(tables=tables, manifest=manifest, model=model)


def prepare_run_folder(
    out: Path, overwrite: bool = False, notes: Callable[[str], None] | None = None
) -> Path:
    """Check that a run's result may be written to ``out`` (``check_run_folder``) and clean up
    or restore what killed runs left beside it (``notes`` is told); the resolved folder."""
    out = check_run_folder(Path(out), overwrite)
    for message in recover_stale(out):
        if notes is not None:
            notes(message)
    return out


def publish_result(result: RunResult, out: Path, overwrite: bool = False) -> Path:
    """Write a run's tables and manifest beside ``out`` and move them into place by renames
    (``publish_folder``); ``out`` is checked again first (``check_run_folder``)."""
    out = check_run_folder(Path(out), overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(out)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        write_tables(result.tables, staging)
        (staging / MANIFEST).write_text(
            json.dumps(result.manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if out.exists() and any(out.iterdir()):
            check_run_folder(out, overwrite)  # still an sfbsim result after the run
        elif out.exists():
            out.rmdir()
        publish_folder(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


PARQUET_ONLY = ("decisions",)
"""Tables written as Parquet only (the decision trail: too many rows for a useful CSV)."""


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Each table as CSV and Parquet (``PARQUET_ONLY``: Parquet)."""
    for name, table in tables.items():
        if name not in PARQUET_ONLY:
            write_csv(table, folder / f"{name}.csv")
        table.to_parquet(folder / f"{name}.parquet", index=False)


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """The table as CSV, formatted in Arrow (experiments/csv_writer.py), or by pandas from
    ``csv_ready`` when a column is of a type that writer does not format: the same bytes."""
    text = csv_text(table)
    if text is None:
        csv_ready(table).to_csv(path, index=False, lineterminator="\n")
    else:
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)


def csv_ready(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its float columns as text, as pandas would write them (the shortest
    repr, NaN empty) but by Python's own float repr (``write_csv``'s pandas path)."""
    floats = [c for c in table.columns if table[c].dtype.kind == "f"]
    if not floats:
        return table
    text = {c: ["" if v != v else repr(v) for v in table[c].tolist()] for c in floats}
    return table.assign(**text)


def build_manifest(
    scenario: Scenario,
    data: BundledData,
    scenario_text: str,
    started: dt.datetime,
    seconds: float,
) -> dict:
    """Everything needed to reproduce the run."""
    return {
        RESULT_MARK: True,
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_file": scenario_text,
        "seed": scenario.run.seed,
        "start_year": scenario.run.start_year,
        "years": scenario.run.years,
        "parameters": scenario.parameters.model_dump(mode="json"),
        "levers": scenario.levers.model_dump(mode="json"),
        "costs": scenario.costs.model_dump(mode="json"),
        "changes": [c.model_dump(mode="json") for c in scenario.changes],
        "new_centres": [c.model_dump(mode="json") for c in scenario.new_centres],
        "closed_centres": [c.model_dump(mode="json") for c in scenario.closed_centres],
        "data": {
            "dir": str(data.data_dir),
            "sha256": {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(Path(data.data_dir).glob("*.csv"))
            },
        },
        "versions": package_versions(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(seconds, 3),
    }


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """The commit of the code that ran (with '+dirty' for uncommitted changes), if known."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")
