"""``sfbsim explain``: why a municipality did or did not use the centres (experiments.explain)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sfbsim.cli.common import DataOption, bad_input, console, fail, say
from sfbsim.cli.common import cells as plain
from sfbsim.experiments.heap import heavy_imports


def explain(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help="A run folder (the --out of `sfbsim run`), or none with --scenario."),
    ] = None,
    municipality: Annotated[
        str,
        typer.Option(
            "--municipality", "-m", help="Municipality number (e.g. 1875) or name (e.g. Hamarøy)."
        ),
    ] = "",
    year: Annotated[int | None, typer.Option(help="Only this year.", min=1900, max=2200)] = None,
    family: Annotated[
        int | None, typer.Option(help="Only this family (family_id in families.csv).", min=0)
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            "-s",
            help="Without a run: a typical family's choice in this scenario (name or TOML file).",
        ),
    ] = None,
    cases: Annotated[int, typer.Option(help="Case paths to print (0: none).", min=0)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    data: DataOption = None,
) -> None:
    """Why a municipality did or did not use the centres, from a run's decision trail.

    With a run folder (written by `sfbsim run --trace`): the municipality's counts, each utility
    term against a stay beside its national average, the leading reasons and each case's path.
    With --scenario instead: the choice a typical family there meets and how far each driver
    would have to move for a centre to be the likeliest choice.
    """
    if not municipality:
        raise fail("give the municipality: --municipality 1875 (its number) or its name")
    if (run_dir is None) == (scenario is None):
        raise fail(
            "give either a run folder (sfbsim explain results/baseline -m 1875) or --scenario "
            "(sfbsim explain --scenario baseline -m 1875), not both or neither"
        )
    with heavy_imports():
        from sfbsim.experiments import explain as ex

    with bad_input():
        if run_dir is not None:
            if data is not None:
                raise fail("--data is for --scenario; a run folder records its own data")
            result = ex.explain_run(run_dir, municipality, year, family)
        else:
            from sfbsim.experiments.scenario_files import load_scenario, resolve_scenario
            from sfbsim.model.data_loading import load_data

            bundled = load_data(data)
            chosen = load_scenario(resolve_scenario(scenario), bundled)
            result = ex.explain_scenario(chosen, bundled, municipality, year)
    if as_json:
        typer.echo(result.to_json())
        return
    if isinstance(result, ex.ScenarioExplanation):
        print_scenario(result)
    else:
        print_run(result, cases if family is None else 10**6)


def print_run(result, cases: int) -> None:
    """A municipality's summary, its terms against a stay, and its cases' paths."""
    from rich.table import Table

    from sfbsim.experiments.explain import GAPS_NOTE, GAPS_TITLE, NO_GAPS_NOTE

    for line in result.summary:
        say(line)
    if not result.has_gaps:
        if result.cases:  # with no case at all, the summary has said so
            say(NO_GAPS_NOTE)
        return
    table = Table(title=GAPS_TITLE)
    for name in ("term", "here", "national", "meaning"):
        table.add_column(name, justify="left" if name in ("term", "meaning") else "right")
    for gap in result.gaps:
        table.add_row(*plain(gap.term, f"{gap.here:+.2f}", f"{gap.national:+.2f}", gap.meaning))
    console.print(table)
    say(GAPS_NOTE)
    for story in result.cases[:cases]:
        say(("\n" + f"family {story.family_id}", "bold"), f" (arrived {story.arrival_date}): ")
        for step in story.steps:
            say("  " + step)
        if story.outcome:
            say(f"  → {story.outcome}")
    if len(result.cases) > cases:
        say(f"\n{len(result.cases) - cases} more cases: --cases N to print them, or --json")


def print_scenario(result) -> None:
    """A typical family's options (columns) by term (rows), their probabilities, and the
    changes needed."""
    from rich.table import Table

    say(result.summary[0])
    table = Table(title="First choice: utility by term and option, and the probabilities")
    table.add_column("term")
    for option in result.options:
        table.add_column(option["option"], justify="right")
    from sfbsim.model.trail import UTILITY_TERMS

    terms = [t for t in UTILITY_TERMS if any(t in o.get("terms", {}) for o in result.options)]
    for term in terms:
        table.add_row(
            *plain(
                term,
                *(
                    f"{o['terms'][term]:+.2f}" if o["available"] and term in o["terms"] else ""
                    for o in result.options
                ),
            )
        )
    table.add_row(
        *plain(
            "utility",
            *(f"{o['utility']:+.2f}" if o["available"] else "n/a" for o in result.options),
        )
    )
    table.add_row(*plain("probability", *(f"{o['probability']:.0%}" for o in result.options)))
    console.print(table)
    for option in result.options:
        if not option["available"]:
            say(f"{option['option']}: not available ({option['reason']})")
    for line in result.summary[1:]:
        say(line)
