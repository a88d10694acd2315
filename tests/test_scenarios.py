"""Scenario files: data, validated, with errors that name the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfbsim.experiments.scenario_files import (
    SCENARIO_DIR,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
)
from sfbsim.model.parameters import Parameters, parameter_sources


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, data=None) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, data)
    return str(caught.value)


def test_baseline_is_shipped_and_valid(data):
    assert "baseline" in shipped_scenarios()
    scenario = load_scenario("baseline", data)
    assert scenario.run.years == 10
    assert scenario.levers.intake_meeting_days == ["tue", "thu"]


def test_every_shipped_scenario_loads(data):
    for name in shipped_scenarios():
        load_scenario(name, data)


def test_unknown_key_names_the_key_and_the_allowed_ones(tmp_path):
    message = error_of(write(tmp_path, "[levers]\nweekend_polcy = 'open_every_weekend'\n"))
    assert "levers.weekend_polcy: unknown key (did you mean weekend_policy?)" in message


def test_unknown_key_in_a_list_entry_names_the_entrys_keys_and_the_nearest(tmp_path):
    """An entry of [[changes]] or [[new_centres]]: the keys of that entry are listed (not an
    empty list), the nearest is suggested, and a missing field says what it is."""
    message = error_of(write(tmp_path, "[[changes]]\nday = '2026-01-01'\n"))
    assert "changes.0.day: unknown key; allowed keys here: centre, end, lever, start, value" in (
        message
    )
    message = error_of(write(tmp_path, "[[new_centres]]\ncentre_idd = 'x'\n"))
    assert "new_centres.0.centre_idd: unknown key (did you mean centre_id?)" in message
    assert "allowed keys here: centre_id, home_based_capacity, kommunenummer" in message
    assert "new_centres.0.kommunenummer: Field required; The municipality it lies in" in message


def test_unknown_key_in_a_centre_override(tmp_path):
    message = error_of(write(tmp_path, "[levers.centres.gullhella]\nunits = 3\n"))
    assert "levers.centres.gullhella.units: unknown key" in message
    assert "residential_units" in message


def test_wrong_type_is_named(tmp_path):
    message = error_of(write(tmp_path, "[levers]\nduty_to_assist = 'sometimes'\n"))
    assert "levers.duty_to_assist" in message
    assert "'sometimes'" in message


def test_impossible_values_are_refused(tmp_path):
    negative = error_of(write(tmp_path, "[levers.centres.gullhella]\nresidential_units = -2\n"))
    assert "levers.centres.gullhella.residential_units" in negative
    assert "greater than or equal to 0" in negative
    policy = error_of(write(tmp_path, "[levers]\nweekend_policy = 'sometimes'\n"))
    assert "open_every_weekend" in policy


def test_unknown_centre_and_municipality_are_refused(tmp_path, data):
    centre = error_of(write(tmp_path, "[levers.centres.atlantis]\nresidential_units = 3\n"), data)
    assert "levers.centres.atlantis" in centre and "gullhella" in centre
    new = write(
        tmp_path,
        "[[new_centres]]\ncentre_id = 'x'\nkommunenummer = '9999'\n",
        "new.toml",
    )
    assert "no municipality 9999" in error_of(new, data)


def test_conflicting_dated_windows_are_refused(tmp_path):
    text = """
[[changes]]
lever = "copay_multiplier"
value = 0.5
start = 2026-01-01
[[changes]]
lever = "copay_multiplier"
value = 0.0
start = 2027-01-01
end = 2028-01-01
"""
    assert "overlap" in error_of(write(tmp_path, text))


def test_unknown_dated_lever_is_refused(tmp_path):
    text = "[[changes]]\nlever = 'free_lunch'\nvalue = 1\n"
    message = error_of(write(tmp_path, text))
    assert "unknown lever 'free_lunch'" in message
    assert "duty_to_assist" in message


def test_a_reform_merges_onto_its_baseline(tmp_path, data):
    path = write(tmp_path, "name = 'r'\nbaseline = 'baseline'\n[levers]\nduty_to_assist = true\n")
    reform = load_scenario(path, data)
    assert reform.name == "r"
    assert reform.levers.duty_to_assist is True
    assert reform.levers.intake_meeting_days == ["tue", "thu"]  # from the baseline
    assert reform.run.years == 10


def test_not_toml_and_missing_files(tmp_path):
    assert "not valid TOML" in error_of(write(tmp_path, "this is = = not toml"))
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")


def test_scenario_files_are_data_not_code(tmp_path):
    """A value that looks like code is only ever a (rejected) value."""
    path = write(tmp_path, "[parameters]\ncase_rate_per_1000_children = \"__import__('os')\"\n")
    assert "parameters.case_rate_per_1000_children" in error_of(path)


def test_every_parameter_has_a_source():
    sources = parameter_sources()
    assert set(sources) == set(Parameters.model_fields)
    missing = [name for name, source in sources.items() if not source.strip()]
    assert missing == []


def test_odd_lists_every_parameter():
    odd = (Path(__file__).resolve().parents[1] / "docs" / "ODD.md").read_text(encoding="utf-8")
    missing = [name for name in Parameters.model_fields if f"`{name}`" not in odd]
    assert missing == []


def test_odd_parameter_tables_are_current():
    """docs/ODD.md's tables are rendered from model/parameters.py (tools/render_parameters.py)."""
    import tools.render_parameters as render

    current = render.ODD.read_text(encoding="utf-8")
    assert render.render(current) == current, "run: .venv/bin/python tools/render_parameters.py"


def test_readme_example_scenario_is_valid(tmp_path, data):
    """The reform shown in the README loads and validates against the bundled data."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario(write(tmp_path, example, "readme.toml"), data)
    assert scenario.changes[0].lever == "weekend_policy"
    assert scenario.new_centres[0].kommunenummer == "5601"
    assert scenario.costs.residential_full_cost == 320000


BASE_WITH_CHANGE = """
name = "base"
[run]
start_year = 2025
years = 5
[[changes]]
lever = "units_multiplier"
value = 0.8
start = 2026-01-01
end = 2028-01-01
"""


def windows_of(scenario):
    return sorted(
        (str(c.start), str(c.end), c.value)
        for c in scenario.changes
        if c.lever == "units_multiplier"
    )


def test_a_reform_change_replaces_the_baseline_change_from_its_start(tmp_path):
    write(tmp_path, BASE_WITH_CHANGE, "base.toml")
    reform = write(
        tmp_path,
        'baseline = "base.toml"\n[[changes]]\nlever = "units_multiplier"\nvalue = 1.2\n'
        "start = 2027-01-01\n",
        "reform.toml",
    )
    assert windows_of(load_scenario(reform)) == [
        ("2026-01-01", "2027-01-01", 0.8),
        ("2027-01-01", "None", 1.2),
    ]


def test_a_reform_removes_a_baseline_change_within_a_window(tmp_path):
    write(tmp_path, BASE_WITH_CHANGE, "base.toml")
    reform = write(
        tmp_path,
        'baseline = "base.toml"\n[[remove_changes]]\nlever = "units_multiplier"\n'
        "start = 2027-01-01\nend = 2027-07-01\n",
        "reform.toml",
    )
    assert windows_of(load_scenario(reform)) == [
        ("2026-01-01", "2027-01-01", 0.8),
        ("2027-07-01", "2028-01-01", 0.8),
    ]
    alone = write(tmp_path, '[[remove_changes]]\nlever = "units_multiplier"\n', "alone.toml")
    assert "only a reform" in error_of(alone)


def test_price_only_history_is_its_baseline_plus_a_few_lines():
    text = (SCENARIO_DIR / "history_price_only.toml").read_text(encoding="utf-8")
    assert 'baseline = "history"' in text
    assert len(text.splitlines()) < 60


def test_warnings_name_a_centre_opening_before_the_run_and_an_unused_nationwide_flag(
    tmp_path, data
):
    """scenario_warnings: a new centre that opens before the run is open from the first day,
    and its nationwide_intake is recorded but changes nothing, which the runs confirm (the
    same tables with the flag on and off)."""
    import pandas as pd

    from sfbsim.experiments.runner import simulate
    from sfbsim.experiments.scenario_files import scenario_warnings

    text = (
        "[run]\nyears = 1\nseed = 4\n[[new_centres]]\ncentre_id = 'alta_new'\n"
        "kommunenummer = '5601'\nresidential_units = 4\nopens = 2020-01-01\n"
    )
    plain = load_scenario(write(tmp_path, text), data)
    flagged = load_scenario(write(tmp_path, text + "nationwide_intake = true\n", "f.toml"), data)
    notes = scenario_warnings(flagged)
    assert any("opens on 2020-01-01, before the run starts" in n for n in notes)
    assert any("alta_new: nationwide_intake is recorded but changes nothing" in n for n in notes)
    assert not any("nationwide" in n for n in scenario_warnings(plain))
    _, with_flag = simulate(flagged, data, tables=("yearly", "families"))
    _, without = simulate(plain, data, tables=("yearly", "families"))
    for name in ("yearly", "families"):
        pd.testing.assert_frame_equal(with_flag[name], without[name])
