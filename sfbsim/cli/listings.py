"""What exists: ``sfbsim scenarios``, ``sfbsim levers``, ``sfbsim outcomes`` and
``sfbsim --version``.

The lists come from the definitions themselves (experiments/catalogue.py): the shipped scenario
files, the pydantic models of the levers, the outcome table. Each is printed as a list of
entries (name and settings on one line, the meaning indented below), which reads at any width;
``--json`` prints the same as JSON for scripts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from sfbsim.cli.common import console

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _entry(head: list[str | tuple[str, str]], *lines: str | tuple[str, str]) -> None:
    """One entry: its head line (plain or ``(text, style)`` parts), then each line indented
    and wrapped to the terminal (text is never read as markup)."""
    from rich.text import Text

    console.print(Text.assemble(*head), overflow="fold")
    width = max(20, console.width - INDENT)
    for line in lines:
        text = Text(*line) if isinstance(line, tuple) else Text(line)
        for part in text.wrap(console.real(), width, overflow="fold"):
            part.rstrip()
            console.print(Text(" " * INDENT) + part, soft_wrap=True)


INDENT = 6
"""Columns before an entry's meaning."""


def scenarios(json_: JsonOption = False) -> None:
    """List the shipped scenarios: name, baseline, simulated period and description.

    Each is a file in experiments/scenarios/; `sfbsim run --scenario NAME` or `sfbsim compare
    baseline NAME` uses it, and its comment lines say what it represents and its source.
    """
    from sfbsim.experiments.catalogue import scenario_catalogue

    entries = scenario_catalogue()
    if json_:
        _print_json(entries)
        return
    console.print(
        "Shipped scenarios (experiments/scenarios/NAME.toml; a reform lists only what differs "
        "from its baseline):",
        markup=False,
        highlight=False,
    )
    for entry in entries:
        if "problem" in entry:
            _entry([("  " + entry["name"], "bold"), ("  does not load", "red")], entry["problem"])
            continue
        kind = f"reform of {entry['baseline']}" if entry["baseline"] else "a baseline"
        head: list[str | tuple[str, str]] = [
            ("  " + entry["name"], "bold"),
            (f"  {entry['period']} · {kind}", "dim"),
        ]
        _entry(head, entry["description"] or entry["comment"])
    console.print(
        "Run one: sfbsim run --scenario NAME; compare: sfbsim compare baseline NAME ...; "
        "your own file: --scenario my_reform.toml (README, Scenarios and levers).",
        markup=False,
        highlight=False,
    )


def levers(json_: JsonOption = False) -> None:
    """List every lever a scenario file can set: default, allowed values, unit and meaning.

    Sections: [levers] (every centre), [levers.centres.CENTRE_ID] (one centre), and
    [[new_centres]]. Levers marked "dated" may also change from a date ([[changes]]).
    """
    from sfbsim.experiments.catalogue import lever_catalogue

    entries = lever_catalogue()
    if json_:
        _print_json(entries)
        return
    section = None
    for entry in entries:
        if entry["section"] != section:
            section = entry["section"]
            console.print()
            console.print(
                f"{entry['table']}  ({SECTION_NOTES[section]})", style="bold", markup=False
            )
        allowed = entry["allowed"]
        if entry["unit"] and entry["kind"] in ("number", "whole number"):
            allowed += f" ({entry['unit']})"
        head: list[str | tuple[str, str]] = [("  " + entry["name"], "bold")]
        if entry["dated"]:
            head.append(("  dated", "cyan"))
        _entry(
            head,
            entry["meaning"],
            (f"default {entry['default_text']} · allowed {allowed}", "dim"),
        )
    console.print()
    console.print(
        "Behavioural parameters ([parameters]) and costs ([costs]) are listed with their units, "
        "ranges and sources in docs/ODD.md §8 and model/data/parameters/*.toml.",
        markup=False,
        highlight=False,
    )


SECTION_NOTES = {
    "levers": "every centre; dated = may change from a date in [[changes]]",
    "centre": "one centre, above the all-centre levers; dated = [[changes]] with centre = ID",
    "new_centre": "a centre that opens during the run",
}


def outcomes(json_: JsonOption = False) -> None:
    """List the outcomes a comparison reports: name, unit and meaning.

    The same outcomes are in comparison.csv, the report and the app; any of them can be
    --target-outcome (compare) or --outcome (sweep, sensitivity).
    """
    from sfbsim.experiments.catalogue import outcome_catalogue

    entries = outcome_catalogue()
    if json_:
        _print_json(entries)
        return
    console.print(
        "Outcomes of a comparison (per year of the run unless a share or a wait; "
        "share = 0-1; NOK at the ledger's price year; tables show MNOK = million NOK):",
        markup=False,
        highlight=False,
    )
    for entry in entries:
        _entry([("  " + entry["name"], "bold"), (f"  {entry['unit']}", "dim")], entry["meaning"])


# --- sfbsim --version -------------------------------------------------------------------------
def version_text() -> str:
    """``sfbsim VERSION (git COMMIT)``: the installed version, and the commit of the code when
    it is a git checkout (``+dirty`` with uncommitted changes)."""
    from importlib import metadata

    try:
        version = metadata.version("sfbsim")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        version = "unknown"
    commit = _git_commit(Path(__file__).resolve().parent)
    return f"sfbsim {version}" + (f" (git {commit})" if commit else "")


def _git_commit(folder: Path) -> str | None:
    """The commit checked out where ``folder`` lies, or None (not a checkout, no git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None


def version_callback(value: bool) -> None:
    """``--version``: print the version and stop."""
    if value:
        typer.echo(version_text())
        raise typer.Exit()


COMMANDS = [scenarios, levers, outcomes]
