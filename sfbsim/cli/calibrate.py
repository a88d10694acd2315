"""``sfbsim calibrate``: the posterior of the free behavioural parameters against Statistics
Norway's series, and the checks that can fail (docs/calibration.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer

from sfbsim.cli.common import bad_input, fail, say
from sfbsim.experiments.heap import heavy_imports


def calibrate(
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario", "-s", help="History scenario to fit (a shipped name or a TOML file)."
        ),
    ] = "history",
    out: Annotated[
        Path, typer.Option(help="Folder for the runs, the posterior and the checks.")
    ] = Path("results/calibration"),
    waves: Annotated[int, typer.Option(help="History-matching waves.", min=1, max=10)] = 3,
    points: Annotated[int, typer.Option(help="Design points per wave.", min=4, max=5000)] = 300,
    seeds: Annotated[
        int, typer.Option(help="Seeds per design point (run-to-run noise).", min=2, max=10)
    ] = 2,
    draws: Annotated[int, typer.Option(help="Posterior draws kept.", min=10, max=10_000)] = 400,
    steps: Annotated[int, typer.Option(help="MCMC steps per walker.", min=50, max=20_000)] = 1200,
    predictive: Annotated[
        int, typer.Option(help="Runs over the posterior for the predictive checks.", min=2)
    ] = 200,
    recovery: Annotated[
        int, typer.Option(help="Settings of the parameter-recovery check.", min=1, max=200)
    ] = 12,
    price_only: Annotated[
        str | None,
        typer.Option(help="Price-only variant compared at the same draws ('none' to skip)."),
    ] = "history_price_only",
    fit_until: Annotated[
        int | None,
        typer.Option(help="Fit only targets up to this year (the posterior); default all."),
    ] = None,
    check: Annotated[
        bool, typer.Option(help="Also run the checks (predictive, out of sample, recovery).")
    ] = True,
    report_only: Annotated[
        bool,
        typer.Option(
            help="No calibration: the predictive checks of the shipped posterior "
            "(model/data/parameters/posterior.csv)."
        ),
    ] = False,
    write_defaults: Annotated[
        bool,
        typer.Option(
            help="Make the result the shipped posterior (model/data/parameters/) and its means "
            "the parameters' values (then run tools/render_parameters.py)."
        ),
    ] = False,
    jobs: Annotated[
        int, typer.Option(help="Worker processes for the runs (1 = in process).", min=1, max=64)
    ] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the designs and the MCMC.", min=0)] = 0,
    targets: Annotated[
        Path | None, typer.Option(help="Targets CSV (default: model/data/calibration_targets.csv).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            hidden=True,  # refused below, with the reason: the posterior is the bundled data's
            help="Not supported: the calibration runs on the bundled data.",
        ),
    ] = None,
) -> None:
    """Calibrate by history matching with Gaussian-process emulators and an MCMC on them.

    Every run is stored in OUT/runs.duckdb as it finishes: after an interruption the same
    command continues where it stopped. Writes OUT/posterior.csv (weighted draws) and
    posterior.json (method, settings, seeds, run time, diagnostics), and with --check (the
    default) prior_sensitivity.csv, predictive.csv, out_of_sample.csv, recovery.csv, their plots
    and report.md.
    """
    with heavy_imports():
        from sfbsim.experiments import history_matching as hm
        from sfbsim.experiments.calibration import TARGETS_FILE, load_targets
        from sfbsim.experiments.files import atomic_write_text, check_calibration_folder
        from sfbsim.experiments.scenario_files import load_scenario
        from sfbsim.model.data_loading import load_data

    if data is not None:
        raise fail("--data: the calibration runs on the bundled data (the shipped posterior)")
    with bad_input():
        load_data(None)
        chosen = load_scenario(scenario)
        other = None
        if price_only and price_only.lower() != "none":
            other = load_scenario(price_only)
        try:
            goals = load_targets(targets or TARGETS_FILE)
        except (OSError, ValueError) as error:
            raise fail(f"--targets: {error}") from None
        folder = check_calibration_folder(out)
    settings = hm.Settings(
        waves=waves,
        points=points,
        seeds=tuple(range(1, seeds + 1)),
        draws=draws,
        steps=steps,
        predictive=predictive,
        recovery=recovery,
        fit_until=fit_until,
        seed=seed,
    )
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "settings.json"
    # the targets shape the waves (their implausibility picks the next design), so a resume
    # must use the same ones; --price-only and --check only add checks after the waves
    targets_hash = hashlib.sha256(Path(targets or TARGETS_FILE).read_bytes()).hexdigest()[:12]
    wanted = {"scenario": chosen.name, **settings.__dict__, "seeds": list(settings.seeds)}
    asked = json.dumps({**wanted, "targets": targets_hash}, sort_keys=True)
    if report_only:
        posterior = hm.read_posterior(hm.SHIPPED_FOLDER)
        tables = hm.report_shipped(chosen, goals, folder, posterior, settings, jobs, say, other)
        say(
            f"{int(tables['predictive']['inside90'].sum())} of {len(goals)} observed values inside "
            f"the 90 % predictive intervals of the shipped posterior; report in {folder}"
        )
        return
    if record.exists() and not same_settings(record.read_text(encoding="utf-8"), asked):
        raise fail(
            f"{folder} holds a calibration with other settings ({record}); give the same "
            "options to resume it, or another --out"
        )
    atomic_write_text(record, asked)
    say(
        f"Calibrating {chosen.name}: {waves} waves x {points} points x {seeds} seeds on {jobs} "
        f"process(es); runs are stored in {folder / hm.RUNS_DB} (rerun to resume)"
    )
    posterior, emulator, observations = hm.calibrate_posterior(
        chosen, goals, folder, settings, jobs, say
    )
    files = hm.write_posterior(posterior, folder)
    if check:
        tables = hm.check_posterior(
            chosen, goals, folder, posterior, emulator, observations, settings, jobs, say, other
        )
        atomic_write_text(folder / "report.md", hm.report_markdown(posterior, tables))
        inside = int(tables["out_of_sample"]["inside90"].sum())
        say(
            f"predictive: {int(tables['predictive']['inside90'].sum())} of {len(goals)} inside "
            f"their 90 % intervals; out of sample {inside} of {len(tables['out_of_sample'])}; "
            f"recovery {tables['recovery']['inside90'].mean():.0%} inside (nominal 90 %)"
        )
    if write_defaults:
        files += hm.ship(posterior, folder)
        say("Now run: .venv/bin/python tools/render_parameters.py")
    for path in files:
        say("wrote ", (str(path), "bold"))


def same_settings(recorded: str, asked: str) -> bool:
    """Whether a calibration folder's settings.json is the one asked for now (a record from
    before the targets were recorded is compared without them)."""
    try:
        old, new = json.loads(recorded), json.loads(asked)
    except ValueError:  # not a record sfbsim wrote: other settings, refused with the reason
        return False
    if not isinstance(old, dict):
        return False
    if "targets" not in old:
        new.pop("targets", None)
    return old == new
