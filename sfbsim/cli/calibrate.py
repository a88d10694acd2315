"""``sfbsim calibrate``: fit the free behavioural parameters to Statistics Norway's series
(docs/calibration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sfbsim.cli.common import DataOption, bad_input, fail, say


def calibrate(
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario", "-s", help="History scenario to fit (a shipped name or a TOML file)."
        ),
    ] = "history",
    trials: Annotated[int, typer.Option(help="Optuna TPE trials.", min=1)] = 60,
    reps: Annotated[
        int,
        typer.Option(help="Replications per trial (seeds 1..REPS, the same every trial).", min=1),
    ] = 2,
    report_reps: Annotated[
        int, typer.Option(help="Replications for the fit report (seeds 1001...).", min=1)
    ] = 100,
    fit_until: Annotated[
        int | None,
        typer.Option(
            help="Fit only targets up to this year (e.g. 2019); later years are reported as "
            "out of sample. Default: all targets."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the TPE sampler.", min=0)] = 0,
    refine: Annotated[
        float,
        typer.Option(
            help="Share of the trials spent on a local search around the best so far.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.5,
    bed_days: Annotated[
        str,
        typer.Option(
            help="How centre_bed_days is simulated: 'calendar' (every day of a stay, as "
            "ssb_children_present_dec31, SSB's definition) or 'presence' (days at the centre)."
        ),
    ] = "calendar",
    jobs: Annotated[
        int, typer.Option(help="Worker processes for the replications (1 = in process).", min=1)
    ] = 2,
    out: Annotated[Path, typer.Option(help="Folder for the fit report.")] = Path(
        "results/calibration"
    ),
    report_only: Annotated[
        bool,
        typer.Option(
            help="No search: write the fit report (and price-only comparison) of the shipped "
            "defaults."
        ),
    ] = False,
    write_defaults: Annotated[
        bool,
        typer.Option(
            help="Also write model/calibrated_parameters.toml, the shipped defaults "
            "(then run tools/render_parameters.py)."
        ),
    ] = False,
    price_only: Annotated[
        str | None,
        typer.Option(
            help="Price-only variant shown beside the full model in the report ('none' to skip)."
        ),
    ] = "history_price_only",
    targets: Annotated[
        Path | None, typer.Option(help="Targets CSV (default: model/data/calibration_targets.csv).")
    ] = None,
    data: DataOption = None,
) -> None:
    """Calibrate the free behavioural parameters against SSB's series (the history scenario).

    Writes trials.csv, calibrated_parameters.toml, fit.csv, fit.png, report.md (and the price-only
    comparison) to --out. With --write-defaults the parameters become the shipped defaults; with
    --report-only there is no search, only the report of the shipped defaults.
    """
    from sfbsim.experiments.calibration import TARGETS_FILE, report_defaults, run_calibration
    from sfbsim.experiments.scenario_files import load_scenario
    from sfbsim.model.data_loading import load_data

    if bed_days not in ("calendar", "presence"):
        raise fail("--bed-days must be 'calendar' or 'presence'")
    with bad_input():
        bundled = load_data(data)
        chosen = load_scenario(scenario, bundled)
        other = None
        if price_only and price_only.lower() != "none":
            other = load_scenario(price_only, bundled)
    if report_only:
        say(
            f"Fit report of the shipped defaults on {chosen.name}: {report_reps} "
            f"replications, {jobs} process(es)"
        )
        report = report_defaults(
            chosen,
            out,
            reps=report_reps,
            price_only=other,
            jobs=jobs,
            data_dir=data,
            targets_file=targets or TARGETS_FILE,
            bed_days=bed_days,
        )
        table = report["fit"]
        say(
            f"{int(table['inside'].sum())} of {len(table)} targets inside their band (mean of "
            f"{report_reps} replications); report in {out} (report.md, fit.csv, fit.png)"
        )
        return
    say(
        f"Calibrating on {chosen.name}: {trials} trials x {reps} replications, "
        f"{jobs} process(es); fit until {fit_until or 'the last target year'}"
    )

    def progress(number: int, value: float, best: float) -> None:
        say(f"trial {number + 1}/{trials}: loss {value:.3g} (best {best:.3g})")

    result = run_calibration(
        chosen,
        out,
        trials=trials,
        reps=reps,
        report_reps=report_reps,
        fit_until=fit_until,
        seed=seed,
        jobs=jobs,
        write_defaults=write_defaults,
        price_only=other,
        data_dir=data,
        targets_file=targets or TARGETS_FILE,
        bed_days=bed_days,
        refine=refine,
        progress=progress,
    )
    table = result["fit"]
    say(
        f"Best loss {result['loss']:.3g}; {int(table['inside'].sum())} of {len(table)} targets "
        f"inside their band (mean of {report_reps} replications)"
    )
    for path in result["files"]:
        say(f"Parameters written to {path}")
    if write_defaults:
        say("Now run: .venv/bin/python tools/render_parameters.py")
    say(f"Fit report in {out} (report.md, fit.csv, fit.png)")
