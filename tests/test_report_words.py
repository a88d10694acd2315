"""The report reads as words: a title, the settings that differ with lever names, values and
units (not JSON), the dated changes and new centres as sentences, and the weekend policy a new
centre really has."""

from __future__ import annotations

import datetime as dt
import re

from typer.testing import CliRunner

from sfbsim.cli import app
from sfbsim.experiments.compare import Arm
from sfbsim.experiments.describe import (
    changed_settings,
    comparison_title,
    dated_entries,
    headline,
    weekend_policy_in_force,
)
from sfbsim.experiments.report import settings_html
from sfbsim.experiments.scenario_files import load_scenario
from sfbsim.model.parameters import (
    Change,
    ClosedCentre,
    Levers,
    NewCentre,
    RunSettings,
    Scenario,
)

runner = CliRunner()

REFORM = """
name = "weekends_and_alta"
baseline = "baseline"
description = "Weekend opening everywhere; a new centre in Alta"

[levers]
weekend_policy = "open_every_weekend"
copay_multiplier = 0.5

[levers.centres.solbakken]
residential_units = 8

[[new_centres]]
centre_id = "alta"
kommunenummer = "5601"
opens = 2025-03-01

[[changes]]
lever = "duty_to_assist"
value = true
start = 2025-07-01

[parameters]
beta_cost_per_100k = -0.5
"""

OTHER = """
name = "duty"
baseline = "baseline"
description = "Bufetat has a duty to assist"
[levers]
duty_to_assist = true
"""


def centre(**kw) -> NewCentre:
    return NewCentre(centre_id="alta", kommunenummer="5601", **kw)


def scenario(levers: dict | None = None, changes: list | None = None) -> Scenario:
    return Scenario(
        run=RunSettings(start_year=2025, years=3),
        levers=Levers(**(levers or {})),
        changes=[Change(**c) for c in changes or []],
    )


def test_a_new_centres_weekend_policy_is_the_one_in_force():
    own = centre()  # its own default: every other weekend closed
    assert weekend_policy_in_force(scenario(), own) == (
        "every other weekend closed (its own setting)"
    )
    text = weekend_policy_in_force(scenario({"weekend_policy": "open_every_weekend"}), own)
    assert text.startswith("open every weekend (the scenario's weekend_policy lever")
    assert "overrides its own: every other weekend closed" in text
    dated = scenario(
        changes=[
            {"lever": "weekend_policy", "value": "weekdays_only", "start": dt.date(2026, 1, 1)}
        ]
    )
    text = weekend_policy_in_force(dated, centre(opens=dt.date(2025, 6, 1)))
    assert text == (
        "from 2025-06-01 every other weekend closed (its own setting); from 2026-01-01 weekdays "
        "only (the scenario's weekend_policy lever, which overrides its own: every other "
        "weekend closed)"
    )
    override = scenario(
        {
            "weekend_policy": "weekdays_only",
            "centres": {"alta": {"weekend_policy": "open_every_weekend"}},
        }
    )
    assert weekend_policy_in_force(override, own) == "open every weekend (set for this centre)"


def test_titles_are_words():
    assert headline("copay_halved", "Co-payments halved; zero co-payment for ...") == (
        "Co-payments halved"
    )
    assert headline("weekends_2027", "") == "Weekends 2027"
    assert comparison_title("compare", "baseline", [("x", "Weekend opening")], 2025, 10) == (
        "Weekend opening compared with the baseline, 2025–2034"
    )
    assert comparison_title("compare", "history", [("a", ""), ("b", "")], 2013, 1) == (
        "2 reforms compared with the baseline history, 2013"
    )
    assert comparison_title("sweep", "baseline", [("p0", ""), ("p1", "")], 2025, 2) == (
        "Sweep of 2 points against the baseline, 2025–2026"
    )


def test_settings_that_differ_are_in_words(data, tmp_path):
    path = tmp_path / "reform.toml"
    path.write_text(REFORM, encoding="utf-8")
    base, reform = load_scenario("baseline"), load_scenario(path)
    names = dict(zip(data.centres["centre_id"], data.centres["name"], strict=True))
    rows = {s.key: s for s in changed_settings(base, reform, data)}
    assert set(rows) == {
        "levers.weekend_policy",
        "levers.copay_multiplier",
        "levers.centres.solbakken.residential_units",
        "parameters.beta_cost_per_100k",
    }
    weekend = rows["levers.weekend_policy"]
    assert (weekend.label, weekend.baseline, weekend.reform) == (
        "Weekend policy for every centre",
        "each centre's own",
        "open every weekend",
    )
    assert (rows["levers.copay_multiplier"].baseline, rows["levers.copay_multiplier"].reform) == (
        "× 1",
        "× 0.5",
    )
    units = rows["levers.centres.solbakken.residential_units"]
    assert units.label.startswith(names["solbakken"]) and units.reform == "8 units"
    assert units.baseline == "as for every centre"
    assert rows["parameters.beta_cost_per_100k"].reform == "-0.5 utility per 100,000 NOK"
    sentences = dated_entries(base, reform, data)
    assert sentences[0] == ("From 2025-07-01: Bufetat may not refuse → on (duty_to_assist)")
    assert (
        "New centre in Alta (alta, in Alta 5601, run by Bufetat) opens on 2025-03-01"
        in (sentences[1])
    )
    assert "weekends: open every weekend (the scenario's weekend_policy lever" in sentences[1]


def test_the_report_has_a_title_and_settings_in_words(tmp_path):
    reform = tmp_path / "reform.toml"
    reform.write_text(REFORM, encoding="utf-8")
    other = tmp_path / "duty.toml"
    other.write_text(OTHER, encoding="utf-8")
    out = tmp_path / "cmp"
    args = ["compare", "baseline", str(reform), str(other), "--years", "1", "--reps", "2"]
    args += ["--uncertainty", "fixed", "--workers", "0", "--quiet", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    title = "2 reforms compared with the baseline, 2025"
    assert f"<title>{title}</title>" in page and f"<h1>{title}</h1>" in page
    compared = page.split("<h2>What was compared</h2>", 1)[1].split("<h2>", 1)[0]
    compared = re.sub(r"<details>.*?</details>", "", compared, flags=re.S)
    assert "{" not in compared and "[" not in compared, "settings are words, not JSON"
    assert "Weekend policy for every centre" in compared and "open every weekend" in compared
    row = (
        "<td>Multiplier on all centre co-payments<br><code>levers.copay_multiplier</code></td>"
        "<td>× 1</td><td>× 0.5</td>"
    )
    assert row in compared, "label, key, baseline and reform value in one row"
    assert "<td>8 units</td>" in compared
    assert "weekends: open every weekend (the scenario&#x27;s weekend_policy lever" in compared
    assert "every other weekend closed" in compared  # the centre's own, overridden
    assert "Bufetat may not refuse" in compared


def test_a_reforms_section_names_closures_removals_and_no_difference(data):
    base = scenario(changes=[{"lever": "duty_to_assist", "value": True}])
    closing = base.model_copy(
        update={
            "changes": [],
            "closed_centres": [ClosedCentre(centre_id="solbakken", closes=dt.date(2026, 1, 1))],
        }
    )
    names = dict(zip(data.centres["centre_id"], data.centres["name"], strict=True))
    page = settings_html(Arm("base", "baseline", base), Arm("closing", "reform", closing), data)
    assert f"<li>{names['solbakken']} (solbakken) closes on 2026-01-01</li>" in page
    assert (
        "<li>Removed from the baseline&#x27;s changes: throughout the run: Bufetat may not refuse "
        "→ on (duty_to_assist)</li>"
    ) in page
    assert "<table" not in page, "no lever, parameter or cost differs"
    same = settings_html(Arm("base", "baseline", base), Arm("same", "reform", base), data)
    assert "<p>No setting differs from the baseline.</p>" in same


def test_report_title_of_a_file_without_description(tmp_path):
    assert comparison_title("compare", "baseline", [("my_reform", "")], 2025, 1) == (
        "My reform compared with the baseline, 2025"
    )


def test_the_report_shows_costs_in_mnok_with_the_price_year_and_what_is_left_out(tmp_path):
    import html as html_module

    import pandas as pd

    from sfbsim.experiments.outcomes import NOT_IN_LEDGER
    from sfbsim.model.costs import Costs

    out = tmp_path / "cmp"
    args = ["compare", "baseline", "weekends_open", "--years", "1", "--reps", "2"]
    args += ["--uncertainty", "fixed", "--workers", "0", "--quiet", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    table = page.split("<h2>Differences over the whole run</h2>", 1)[1].split("<h2>", 1)[0]
    year = Costs().price_year
    unit = f"MNOK per year, {year} prices"
    csv = pd.read_csv(out / "comparison.csv").set_index("outcome")
    staff = csv.loc["state_cost_weekend_staff", "diff_mean"]
    assert staff > 0 and csv.loc["municipal_cost", "baseline_mean"] > 1e6  # NOK in the CSV
    row = f"<td>state_cost_weekend_staff</td><td>{unit}</td>"
    assert row in table
    assert f"<td>{staff / 1e6:,.3g}</td>" in table  # in MNOK
    for name in ("municipal_cost_assessments", "municipal_cost_measures_pv", "state_cost"):
        assert f"<td>{name}</td><td>{unit}</td>" in table
    assert "<td>admissions</td><td>per year</td>" in table
    assert f"MNOK (million NOK) per year at {year} prices" in table
    assert html_module.escape(NOT_IN_LEDGER) in table
