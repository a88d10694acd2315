"""``sfbsim run``: one scenario, its tables and manifest, and the summary table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sfbsim.cli.common import DataOption, ScenarioOption, bad_input, console, note, say
from sfbsim.cli.common import cells as plain

if TYPE_CHECKING:
    import pandas as pd


def run(
    scenario: ScenarioOption = "baseline",
    years: Annotated[
        int | None, typer.Option(help="Simulated years (default: the scenario's).", min=1)
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the scenario's).", min=0)
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/baseline"),
    data: DataOption = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an output folder that already holds results.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary table.")] = False,
    trace: Annotated[
        bool,
        typer.Option(
            help="Also write the decision trail (decisions.parquet: every decision and the "
            "terms that made it; what `sfbsim explain` reads). Off by default: it makes a run "
            "about 1.5-2x slower."
        ),
    ] = False,
) -> None:
    """Run one scenario and write its tables (CSV and Parquet) and manifest.json to --out."""
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sfbsim.experiments.files import check_run_folder
    from sfbsim.experiments.runner import run_to_folder
    from sfbsim.experiments.scenario_files import load_scenario, resolve_scenario, scenario_warnings
    from sfbsim.model.data_loading import load_data

    with bad_input():
        bundled = load_data(data)
        path = resolve_scenario(scenario)
        chosen = load_scenario(path, bundled).with_run(years=years, seed=seed)
        for warning in scenario_warnings(chosen):
            note(warning)
        check_run_folder(out, overwrite)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} years"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console.real(),
        disable=quiet,
    ) as bar:
        task = bar.add_task(escape(chosen.name), total=chosen.run.years)
        with bad_input():
            result = run_to_folder(
                chosen,
                bundled,
                out,
                scenario_text=path.read_text(encoding="utf-8"),
                overwrite=overwrite,
                progress=lambda _year: bar.advance(task),
                notes=note,
                trace=trace,
            )
    if not quiet:
        print_summary(result.tables["year_region"])
    say("Results written to ", (str(out), "bold"), f" ({result.manifest['wall_seconds']} s)")


SUMMARY_COLUMNS = {
    "cases": "cases",
    "proposals_declined": "stay\ndeclined",
    "referrals_residential": "ref\nres",
    "referrals_home": "ref\nhome",
    "own_assessments": "own",
    "emergency_placements": "emerg",
    "direct_purchases": "bought",
    "intake_refusals": "Bufetat\nrefused",
    "consent_refusals": "consent\nrefused",
    "admissions": "admit",
    "ssb_child_bed_days": "child\nbed-days",
    "occupancy": "occup",
    "wait_days_p50": "wait\np50",
    "wait_days_p90": "wait\np90",
}


def print_summary(year_region: pd.DataFrame) -> None:
    """The per-year, per-region table a policy analyst reads first."""
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="sfbsim: per year and region (waits in days from referral to start)",
        caption="ref = referrals to Bufetat; own = own home assessments; emerg = emergency "
        "placements; bought = direct purchases after a refusal; occup = residential occupancy",
    )
    table.add_column("year")
    table.add_column("region")
    for label in SUMMARY_COLUMNS.values():
        table.add_column(label, justify="right")
    previous_year = None
    for row in year_region.itertuples(index=False):
        if previous_year is not None and row.year != previous_year:
            table.add_section()
        previous_year = row.year
        cells = []
        for column in SUMMARY_COLUMNS:
            value = getattr(row, column)
            if pd.isna(value):
                cells.append("–")
            elif column == "occupancy":
                cells.append(f"{value:.0%}")
            elif column.startswith("wait"):
                cells.append(f"{value:.0f}")
            else:
                cells.append(f"{int(value):,}")
        table.add_row(*plain(row.year, row.region, *cells))
    Console(width=max(console.width, 130)).print(table)
