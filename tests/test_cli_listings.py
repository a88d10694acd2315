"""What exists: --version, and the scenarios, levers and outcomes listed from their own
definitions (experiments/catalogue.py), as text that fits 80 columns and as JSON."""

from __future__ import annotations

import json
import typing
from importlib import metadata

import pytest
from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.cli.common import console, errors

runner = CliRunner()


@pytest.fixture
def columns(monkeypatch):
    """Run the CLI's consoles at a given width (they are made on first use)."""

    def narrow(width: int) -> None:
        for lazy in (console, errors):
            monkeypatch.setattr(lazy, "_console", None)
            monkeypatch.setattr(lazy, "_options", {**lazy._options, "width": width})

    return narrow


def invoke(*args: str, width: int = 80):
    return runner.invoke(app, list(args), terminal_width=width, env={"COLUMNS": str(width)})


def test_version_prints_the_installed_version_and_commit():
    result = invoke("--version")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"sfbsim {metadata.version('sfbsim')}")
    assert "(git " in result.output  # the tests run in a checkout


def test_scenarios_lists_every_shipped_file_with_its_description_and_baseline(columns):
    from sfbsim.experiments.scenario_files import load_scenario, shipped_scenarios

    listed = json.loads(invoke("scenarios", "--json").output)
    assert [entry["name"] for entry in listed] == shipped_scenarios()
    for entry in listed:
        scenario = load_scenario(entry["name"])
        assert "problem" not in entry
        assert entry["description"] == scenario.description != ""
        assert entry["baseline"] == scenario.baseline
        assert entry["comment"] and not entry["comment"].startswith("#")
        assert entry["years"] == scenario.run.years
    by_name = {entry["name"]: entry for entry in listed}
    assert by_name["weekends_open"]["baseline"] == "baseline"
    assert by_name["baseline"]["baseline"] is None
    assert by_name["baseline"]["period"] == "2025–2034"
    columns(80)
    text = invoke("scenarios")
    assert text.exit_code == 0, text.output
    for entry in listed:
        assert f"  {entry['name']}  " in text.output
    assert "reform of history" in text.output  # history_price_only
    assert max(len(line) for line in text.output.splitlines()) <= 80


def test_levers_come_from_the_models_with_units_ranges_and_meaning(columns):
    from sfbsim.model.parameters import (
        CENTRE_LEVERS,
        DATED_LEVERS,
        CentreOverride,
        Levers,
        NewCentre,
        WeekendPolicy,
    )

    listed = json.loads(invoke("levers", "--json").output)
    sections = {
        "levers": [n for n in Levers.model_fields if n != "centres"],
        "centre": list(CentreOverride.model_fields),
        "new_centre": list(NewCentre.model_fields),
    }
    for section, names in sections.items():
        assert [e["name"] for e in listed if e["section"] == section] == names
    for entry in listed:
        where = f"{entry['table']} {entry['name']}"
        assert entry["unit"], f"{where}: no unit (json_schema_extra=unit(...))"
        assert entry["meaning"], f"{where}: no description"
        assert entry["allowed"] and entry["default_text"]
    levers = {e["name"]: e for e in listed if e["section"] == "levers"}
    centre = {e["name"]: e for e in listed if e["section"] == "centre"}
    new = {e["name"]: e for e in listed if e["section"] == "new_centre"}
    assert (levers["copay_multiplier"]["min"], levers["copay_multiplier"]["max"]) == (0, 10)
    assert levers["copay_multiplier"]["default"] == 1.0
    assert (levers["information_campaign"]["min"], levers["information_campaign"]["max"]) == (0, 1)
    assert (levers["summer_closure_weeks"]["min"], levers["summer_closure_weeks"]["max"]) == (0, 12)
    assert levers["summer_closure_weeks"]["default_text"] == "each centre's own"
    assert (centre["residential_units"]["min"], centre["residential_units"]["max"]) == (0, 200)
    assert levers["weekend_policy"]["choices"] == list(typing.get_args(WeekendPolicy))
    assert levers["intake_meeting_days"]["default"] == ["tue", "thu"]
    assert levers["duty_to_assist"]["default_text"] == "off"
    assert {n for n, e in levers.items() if e["dated"]} == set(DATED_LEVERS)
    assert {n for n, e in centre.items() if e["dated"]} == set(CENTRE_LEVERS)
    assert new["centre_id"]["required"] and new["kommunenummer"]["required"]
    assert new["weekend_policy"]["default"] == "every_other_weekend_closed"
    columns(80)
    text = invoke("levers")
    assert text.exit_code == 0, text.output
    for name in levers:
        assert f"  {name}" in text.output
    assert "[levers.centres.CENTRE_ID]" in text.output and "[[new_centres]]" in text.output
    assert "allowed 0–10 (× rate)" in text.output
    assert max(len(line) for line in text.output.splitlines()) <= 80


def test_outcomes_are_every_outcome_a_comparison_reports(columns):
    from sfbsim.experiments.outcomes import (
        COST_OUTCOMES,
        COUNT_OUTCOMES,
        OUTCOME_UNITS,
        OUTCOMES,
        RETURN_OUTCOMES,
        VALUE_OUTCOMES,
    )

    listed = json.loads(invoke("outcomes", "--json").output)
    assert [e["name"] for e in listed] == list(OUTCOMES)
    assert set(OUTCOME_UNITS) == set(OUTCOMES)
    produced = {*COUNT_OUTCOMES, *COST_OUTCOMES, *VALUE_OUTCOMES, *RETURN_OUTCOMES}
    produced |= {"residential_share", "median_wait", "wait_p90", "occupancy"}
    assert produced == set(OUTCOMES), "every outcome a replication produces has a meaning"
    units = {e["name"]: e["unit"] for e in listed}
    assert units["median_wait"] == "days" and units["occupancy"] == "share"
    assert units["return_per_krone_society"] == "NOK per NOK"
    columns(80)
    text = invoke("outcomes")
    assert text.exit_code == 0, text.output
    assert "return_per_krone_municipality  NOK per NOK" in text.output
    assert max(len(line) for line in text.output.splitlines()) <= 80


def test_listing_commands_are_in_the_help_and_load_nothing_heavy():
    import subprocess
    import sys

    help_text = invoke("--help", width=100).output
    for command in ("scenarios", "levers", "outcomes", "--version"):
        assert command in help_text
    code = (
        "import sys\n"
        "from sfbsim.cli import app\n"
        "heavy = ('pandas', 'numpy', 'pydantic', 'sfbsim.model', 'sfbsim.experiments.catalogue')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_paragraphs_flow_to_the_width_and_keep_toml_table_names():
    """Commands' help is Markdown: a docstring's paragraph flows to the terminal's width
    (its source line breaks are not kept), `code` shows without backticks, and TOML table
    names such as [levers] or [[changes]] are text, not markup to drop."""
    compare_help = invoke("compare", "--help", width=200).output
    assert "the mean difference and its intervals; by default over the posterior" in compare_help
    explain_help = invoke("explain", "--help", width=200).output
    assert "`" not in explain_help and "(written by sfbsim run --trace)" in explain_help
    levers_help = " ".join(invoke("levers", "--help", width=200).output.split())
    assert "[levers]" in levers_help and "[levers.centres.CENTRE_ID]" in levers_help
    assert "[[new_centres]]" in levers_help and "[[changes]]" in levers_help
