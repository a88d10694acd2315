"""The sfbsim command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from experiments.calibrate_cli import calibrate
from experiments.reforms_cli import register as register_experiments
from experiments.scenario_files import ScenarioError, load_scenario, resolve_scenario
from model.data_loading import DataValidationError, load_data

app = typer.Typer(
    help="sfbsim: simulate municipal referrals to centres for parents and children "
    "(sentre for foreldre og barn) through Bufetat's intake, and test policy levers.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)


@app.callback()
def sfbsim() -> None:
    """Simulate referrals to centres for parents and children and compare policy levers.

    Start with `sfbsim run` (the baseline); see `sfbsim COMMAND --help` for each command.
    """


ScenarioOption = Annotated[
    str,
    typer.Option(
        "--scenario",
        "-s",
        help="Scenario TOML file, or the name of a shipped scenario (e.g. baseline).",
    ),
]
DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Folder with your own tables of the bundled shape (municipalities.csv, "
        "centres.csv, ...); default: the bundled data.",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error to stderr and give the exit to raise."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
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
) -> None:
    """Run one scenario and write its tables (CSV and Parquet) and manifest.json to --out."""
    from experiments.runner import run_to_folder

    try:
        bundled = load_data(data)
        path = resolve_scenario(scenario)
        chosen = load_scenario(path, bundled)
    except (ScenarioError, DataValidationError) as error:
        raise fail(str(error)) from None
    updates = {}
    if years is not None:
        updates["years"] = years
    if seed is not None:
        updates["seed"] = seed
    if updates:
        chosen = chosen.model_copy(update={"run": chosen.run.model_copy(update=updates)})
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise fail(f"{out} already holds files; choose another --out or pass --overwrite")
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} years"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    ) as bar:
        task = bar.add_task(f"{chosen.name}", total=chosen.run.years)
        result = run_to_folder(
            chosen,
            bundled,
            out,
            scenario_text=path.read_text(encoding="utf-8"),
            overwrite=overwrite,
            progress=lambda _year: bar.advance(task),
        )
    if not quiet:
        print_summary(result.tables["year_region"])
    console.print(f"Results written to [bold]{out}[/] ({result.manifest['wall_seconds']} s)")


SUMMARY_COLUMNS = {
    "cases": "cases",
    "referrals_residential": "ref\nres",
    "referrals_home": "ref\nhome",
    "own_assessments": "own",
    "emergency_placements": "emerg",
    "direct_purchases": "bought",
    "intake_refusals": "Bufetat\nrefused",
    "consent_refusals": "consent\nrefused",
    "admissions": "admit",
    "bed_days": "bed-days",
    "occupancy": "occup",
    "wait_days_p50": "wait\np50",
    "wait_days_p90": "wait\np90",
}


def print_summary(year_region: pd.DataFrame) -> None:
    """The per-year, per-region table a policy analyst reads first."""
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
        table.add_row(str(row.year), row.region, *cells)
    Console(width=max(console.width, 130)).print(table)


register_experiments(app)
app.command()(calibrate)


@app.command("app")
def app_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on (only this machine by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8765,
) -> None:
    """Start the interactive app (Explore and Compare pages) at http://HOST:PORT."""
    from viz.server import serve

    console.print(f"sfbsim app on http://{host}:{port} (Ctrl-C stops it)")
    serve(host=host, port=port)


def main() -> None:
    """Entry point of the ``sfbsim`` command."""
    app()


if __name__ == "__main__":
    main()
