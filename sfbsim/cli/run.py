"""``sfbsim run``: one scenario, its tables and manifest, and the summary table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sfbsim.cli.common import (
    DataOption,
    ScenarioOption,
    bad_input,
    console,
    fitted_table,
    note,
    note_left_out,
    say,
)
from sfbsim.cli.common import cells as plain
from sfbsim.experiments.heap import heavy_imports

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
            "about 2x slower."
        ),
    ] = False,
) -> None:
    """Run one scenario and write its tables (CSV and Parquet) and manifest.json to --out."""
    with heavy_imports():
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from sfbsim.experiments.files import check_run_folder
        from sfbsim.experiments.runner import run_to_folder
        from sfbsim.experiments.scenario_files import (
            load_scenario,
            resolve_scenario,
            scenario_warnings,
        )
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
        print_summary(result.tables["year_region"], str(out / "year_region.csv"))
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
SECONDARY_COLUMNS = (
    "proposals_declined",
    "direct_purchases",
    "emergency_placements",
    "own_assessments",
    "referrals_home",
    "ssb_child_bed_days",
    "wait_days_p90",
    "consent_refusals",
)
"""Left out, in this order, when the terminal is too narrow for every column."""
LEGEND = {
    "referrals_residential": "ref = referrals to Bufetat",
    "own_assessments": "own = own home assessments",
    "emergency_placements": "emerg = emergency placements",
    "direct_purchases": "bought = direct purchases after a refusal",
    "occupancy": "occup = residential occupancy",
}


def print_summary(year_region: pd.DataFrame, where: str = "year_region.csv") -> None:
    """The per-year, per-region table a policy analyst reads first; at a narrow terminal the
    secondary columns are left out (a note says which, and how to widen)."""
    from functools import partial

    from rich.text import Text

    rows = []
    for row in year_region.to_dict("records"):
        cells = {"year": str(row["year"]), "region": str(row["region"])}
        for column in SUMMARY_COLUMNS:
            cells[column] = _cell(column, row[column])
        rows.append(cells)
    build = partial(_summary_table, rows)
    table, left, needed = fitted_table(build, SECONDARY_COLUMNS)
    console.print(table)
    legend = "; ".join(text for column, text in LEGEND.items() if column not in left)
    console.print(Text(f"Waits in days from referral to start. {legend}."))
    note_left_out(left, needed, where)


def _cell(column: str, value: object) -> str:
    import pandas as pd

    if pd.isna(value):
        return "–"
    if column == "occupancy":
        return f"{value:.0%}"
    if column.startswith("wait"):
        return f"{value:.0f}"
    return f"{int(value):,}"


def _summary_table(rows: list[dict[str, str]], left: set[str]):
    from rich import box
    from rich.table import Table

    table = Table(title="sfbsim: per year and region", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("year")
    table.add_column("region")
    shown = [column for column in SUMMARY_COLUMNS if column not in left]
    for column in shown:
        table.add_column(SUMMARY_COLUMNS[column], justify="right", no_wrap=True)
    previous_year = None
    for row in rows:
        if previous_year is not None and row["year"] != previous_year:
            table.add_section()
        previous_year = row["year"]
        table.add_row(*plain(row["year"], row["region"], *[row[column] for column in shown]))
    return table
