"""The app without a browser: levers, the live run, the paired helper, and the components
rendered with solara.render (the browser tests are in test_app_browser.py)."""

from __future__ import annotations

import dataclasses
import json
import re

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import shapely
import solara
from matplotlib.figure import Figure

from sfbsim.cli import app as cli_app
from sfbsim.experiments.compare import Arm, paired_summary, t_interval
from sfbsim.experiments.outcomes import format_value
from sfbsim.experiments.scenario_files import load_scenario
from sfbsim.viz import compare as compare_page
from sfbsim.viz import geography, server
from sfbsim.viz.compare import (
    CompareControls,
    CompareResults,
    Comparison,
    accept_upload,
    compare,
    table_html,
)
from sfbsim.viz.explore import (
    ExplainView,
    ExplorePage,
    ExploreRun,
    RunStatus,
    charts_figure,
    explanation_html,
    explore_run,
    lever_inputs,
    lever_label,
    map_figure,
    map_png,
    map_position,
    municipality_at,
    region_table_html,
    selected_municipality,
)
from sfbsim.viz.levers import (
    CURRENT_LEVERS,
    LeverError,
    bundled_data,
    lever_scenario,
    levers_toml,
    municipality_choices,
    uploaded_scenario,
)


# --- levers ---------------------------------------------------------------------------------
def test_default_levers_are_the_baseline_for_two_years():
    scenario = lever_scenario()
    assert scenario.levers.intake_meeting_days == ["tue", "thu"]
    assert scenario.levers.weekend_policy is None
    assert (scenario.run.years, scenario.run.seed) == (2, 1)
    assert scenario.new_centres == []


def test_levers_become_a_scenario_with_a_new_centre():
    label = next(k for k, n in municipality_choices().items() if n == "5501")
    scenario = lever_scenario(
        {
            "weekend_policy": "all weekends closed",
            "copay_multiplier": 0.5,
            "units_multiplier": 1.5,
            "intake_meeting_days": "Mon, wed;fri",
            "duty_to_assist": True,
            "information_campaign": 0.4,
            "new_centre": label,
            "seed": " 9 ",
            "years": 3,
        }
    )
    levers = scenario.levers
    assert levers.weekend_policy == "all_weekends_closed"
    assert levers.intake_meeting_days == ["mon", "wed", "fri"]
    assert (levers.copay_multiplier, levers.units_multiplier) == (0.5, 1.5)
    assert levers.duty_to_assist and levers.information_campaign == 0.4
    assert (scenario.run.seed, scenario.run.years) == (9, 3)
    assert [c.kommunenummer for c in scenario.new_centres] == ["5501"]


def test_bad_levers_are_listed_not_raised_as_tracebacks():
    with pytest.raises(LeverError) as error:
        lever_scenario(
            {
                "intake_meeting_days": "tue, someday",
                "seed": "abc",
                "copay_multiplier": -1,
                "new_centre": "Atlantis (9999)",
            }
        )
    text = str(error.value)
    assert "intake meeting days: someday" in text
    assert "seed: 'abc' is not a whole number" in text
    assert "copay_multiplier" in text and "greater than or equal to 0" in text
    assert "Atlantis" in text
    assert len(error.value.messages) == 4


def test_lever_inputs_cover_the_issue_levers():
    assert set(lever_inputs()) == {
        "weekend_policy",
        "copay_multiplier",
        "units_multiplier",
        "intake_meeting_days",
        "duty_to_assist",
        "information_campaign",
        "new_centre",
        "seed",
        "years",
    }
    # every default is accepted by ExploreRun (SolaraViz calls it with these on Reset)
    run = ExploreRun(**{k: spec["value"] for k, spec in lever_inputs().items()})
    assert run.error is None


# --- the live run ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stepped() -> ExploreRun:
    run = ExploreRun(years=1, units_multiplier=0.8)
    for _ in range(60):
        run.step()
    return run


def test_explore_run_steps_days_and_keeps_history(stepped):
    assert stepped.day == stepped.time == 60
    assert stepped.running
    history = stepped.history_frame()
    assert history["day"].tolist() == list(range(61))
    assert history["admissions"].is_monotonic_increasing
    assert history["admissions"].iloc[-1] > 0
    assert history["occupancy"].iloc[-1] > 0


def test_region_table_adds_up_to_norway(stepped):
    table = stepped.region_frame().set_index("region")
    assert set(table.index) == {"nord", "midt", "vest", "sør", "øst", "oslo", "Norway"}
    regions = table.drop(index="Norway")
    assert table.loc["Norway", "admissions"] == regions["admissions"].sum()
    assert table.loc["Norway", "cases"] == stepped.model.recorder.counts[..., 0].sum()
    html = region_table_html(stepped)
    assert "sfb-region-table" in html and "Norway" in html


def test_figures_draw_for_a_run_and_for_bad_levers(stepped):
    for colour in ("referrals", "consent_refusals"):
        assert isinstance(map_figure(stepped, colour), Figure)
    assert isinstance(charts_figure(stepped), Figure)
    bad = ExploreRun(intake_meeting_days="nope")
    assert bad.error and "intake meeting days" in bad.error
    bad.step()  # a run that could not be built does nothing
    assert bad.day == 0 and not bad.running
    assert isinstance(map_figure(bad), Figure) and isinstance(charts_figure(bad), Figure)
    region_table_html(bad)


def test_a_run_reaches_its_end_and_stops():
    run = ExploreRun(years=1)
    steps = 0
    while run.running and steps < 400:
        run.step()
        steps += 1
    assert not run.running
    assert run.day == run.model.calendar.n_days


def test_new_centre_is_on_the_map_when_the_model_has_it():
    label = next(k for k, n in municipality_choices().items() if n == "5501")
    run = ExploreRun(new_centre=label, years=1)
    assert run.error is None, run.error
    centres = run.centre_frame()
    assert "new_5501" in set(centres["centre_id"])


# --- components -----------------------------------------------------------------------------
def test_explore_page_renders_steps_and_resets_without_a_browser():
    box, rc = solara.render(solara.AppLayout(children=[ExplorePage()]), handle_error=False)
    try:
        status = rc.find(v.Html, class_="sfb-status")
        assert "Day 0 of 730" in status.widget.children[0]
        rc.find(v.Btn, children=["Step"]).widget.click()
        status = rc.find(v.Html, class_="sfb-status")
        assert "Day 31 of 730" in status.widget.children[0]
        assert explore_run.value.day == 31
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert explore_run.value.day == 0
        assert "Day 0 of" in rc.find(v.Html, class_="sfb-status").widget.children[0]
    finally:
        rc.close()


def test_run_status_shows_a_message_for_bad_levers():
    box, rc = solara.render(RunStatus(ExploreRun(seed="x")), handle_error=False)
    try:
        text = str(box.children)
        assert "seed: 'x' is not a whole number" in text
        assert "Traceback" not in text
    finally:
        rc.close()


# --- paired replications ---------------------------------------------------------------------
def test_t_interval():
    mean, low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert (low, high) == pytest.approx((2 - 2.4843, 2 + 2.4843), abs=1e-3)
    assert np.isnan(t_interval(np.array([4.0]))[1])
    assert np.isnan(t_interval(np.array([]))[0])


def synthetic_rows() -> pd.DataFrame:
    rows = []
    for seed in (1, 2, 3):
        for year in (0, 2025, 2026):
            for arm, shift in (("b", 0.0), ("r", float(seed))):
                rows.append(
                    {
                        "param_hash": arm,
                        "seed": seed,
                        "scope": "national",
                        "grp": "",
                        "year": year,
                        "outcome": "admissions",
                        "value": 10.0 + seed + shift,
                    }
                )
    return pd.DataFrame(rows)


def test_paired_summary_pairs_replications_by_seed():
    base = Arm("baseline", "baseline", None, param_hash="b")
    reform = Arm("reform", "reform", None, param_hash="r")
    table = paired_summary(synthetic_rows(), base, [reform])
    assert set(table["year"]) == {0, 2025, 2026}
    row = table[table["year"] == 0].iloc[0]
    assert row["diff_mean"] == pytest.approx(2.0)  # differences 1, 2, 3
    assert row["baseline_mean"] == pytest.approx(12.0)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx(
        (2 - 2.4843, 2 + 2.4843), abs=1e-3
    )


def test_compare_runs_paired_seeds_and_renders():
    comparison = compare(
        "baseline", CURRENT_LEVERS, 2, 1, "3", levers={"duty_to_assist": True, "years": 1}
    )
    assert isinstance(comparison, Comparison)
    assert comparison.seeds == (3, 4)
    results = comparison.results
    assert sorted(results.groupby("arm")["seed"].unique().map(list).to_dict()["reform"]) == [3, 4]
    # same seeds, same cases: the draws of cases do not depend on the levers
    cases = results[results["outcome"] == "cases"].pivot_table(
        index=["seed", "year"], columns="arm", values="value"
    )
    assert (cases["baseline"] == cases["reform"]).all()
    csv = comparison.results_csv()
    assert csv.splitlines()[0] == "baseline_scenario,reform_scenario,arm,seed,year,outcome,value"
    assert "95 % CI low" in table_html(comparison)
    box, rc = solara.render(CompareResults(comparison), handle_error=False)
    rc.close()


def test_the_compare_page_shows_costs_in_mnok_with_the_price_year_and_what_is_left_out():
    import html as html_module

    from sfbsim.experiments.outcomes import NOT_IN_LEDGER
    from sfbsim.viz.compare import costs_note

    comparison = compare("baseline", "weekends_open", 2, 1, "1", uncertainty="fixed")
    assert comparison.price_year == 2025
    rows = comparison.table.set_index("outcome")
    staff = rows.loc["state_cost_weekend_staff", "diff_mean"]
    assert staff > 0 and rows.loc["state_cost", "diff_mean"] > 0
    assert rows.loc["municipal_cost", "baseline_mean"] > 1e6  # the download keeps NOK
    page = table_html(comparison)
    unit = "<td>MNOK per year, 2025 prices</td>"
    assert "<td>state_cost_weekend_staff</td>" in page and unit in page
    assert f"<td>{format_value(staff / 1e6)}</td>" in page
    assert "<td>per year</td>" in page  # admissions keep their unit
    note = costs_note(comparison)
    assert "MNOK (million NOK) per year at 2025 prices" in note
    assert html_module.escape(NOT_IN_LEDGER) in note
    counts = dataclasses.replace(
        comparison, table=comparison.table[comparison.table["outcome"] == "admissions"]
    )
    assert costs_note(counts) == "" and "MNOK" not in table_html(counts)
    box, rc = solara.render(CompareResults(comparison), handle_error=False)
    rc.close()


def test_app_and_cli_give_the_same_numbers(tmp_path):
    """The Compare page and `sfbsim compare` run the same engine with the same definitions."""
    from typer.testing import CliRunner

    out = tmp_path / "cmp"
    args = ["compare", "baseline", "duty_to_assist", "--years", "1", "--reps", "4"]
    args += ["--seed", "3", "--workers", "0", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out / "comparison.csv").set_index("outcome")
    app = compare("baseline", "duty_to_assist", 4, 1, "3").table.set_index("outcome")
    assert (cli["draws"] == 2).all()  # over the posterior: two draws, two seeds each
    columns = ("baseline_mean", "reform_mean", "diff_mean", "diff_ci_low", "diff_ci_high")
    columns += ("sd_parameter", "sd_noise", "same_sign_share")
    for outcome in ("admissions", "median_wait", "municipal_cost", "intake_refusals"):
        for column in columns:
            expected = pytest.approx(cli.loc[outcome, column], nan_ok=True)
            assert app.loc[outcome, column] == expected, (outcome, column)


def test_the_app_breaks_down_by_region_as_sfbsim_compare_by_region(tmp_path):
    """'Break down by region' gives the rows `sfbsim compare --by region` writes in
    comparison.csv for the same inputs (experiments.groups from the rows per municipality),
    shown in MNOK with the price year and the note; the download is that comparison.csv."""
    import io

    from typer.testing import CliRunner

    from sfbsim.viz.compare import (
        GroupedResults,
        break_down_by,
        grouped_outcome_names,
        grouped_outcomes,
        grouped_table_html,
    )

    out = tmp_path / "cmp"
    args = ["compare", "baseline", "weekends_open", "--years", "1", "--reps", "2"]
    args += ["--seed", "3", "--uncertainty", "fixed", "--by", "region", "--workers", "0"]
    args += ["--out", str(out), "--quiet"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    cli = cli[cli["scope"] == "region"].set_index(["group", "outcome"])
    comparison = compare("baseline", "weekends_open", 2, 1, "3", uncertainty="fixed")
    app = comparison.grouped("region").table
    assert list(app.columns) == list(pd.read_csv(out / "comparison.csv").columns)
    app = app[app["scope"] == "region"].set_index(["group", "outcome"])
    assert sorted(app.index) == sorted(cli.index)
    assert {"nord", "oslo"} <= set(app.index.get_level_values("group"))
    for outcome in ("admissions", "median_wait", "municipal_cost", "state_cost"):
        for column in ("baseline_mean", "reform_mean", "diff_mean", "diff_ci_low", "reps"):
            np.testing.assert_allclose(
                app.xs(outcome, level="outcome")[column].to_numpy(dtype=float),
                cli.xs(outcome, level="outcome")
                .loc[app.xs(outcome, level="outcome").index, column]
                .to_numpy(dtype=float),
                err_msg=f"{outcome} {column}",
            )
    assert (app["note"].fillna("") == cli.loc[app.index, "note"].fillna("")).all()
    assert "changes nothing here" in app.loc[("nord", "admissions"), "note"]
    # the national rows are the national table's
    national = comparison.grouped("region").table.query("scope == 'national'")
    np.testing.assert_allclose(
        national.set_index("outcome").loc[comparison.table["outcome"], "diff_mean"],
        comparison.table["diff_mean"],
    )
    # shown: costs in MNOK with the price year, the region first, the note last
    page = grouped_table_html(comparison, "region")
    cost = app.loc[("nord", "municipal_cost"), "baseline_mean"]
    assert f"<td>{format_value(cost / 1e6)}</td>" in page
    assert "<td>MNOK per year, 2025 prices</td>" in page and "<th>note</th>" in page
    assert page.index("<th>region</th>") < page.index("<th>outcome</th>")
    assert "<td>national</td>" not in page
    # the download is comparison.csv of --by region (costs in NOK)
    download = pd.read_csv(io.StringIO(comparison.grouped_csv("region")))
    assert list(download.columns) == list(pd.read_csv(out / "comparison.csv").columns)
    assert len(download) == len(pd.read_csv(out / "comparison.csv"))
    for choice in ("size class", "county", "region × size class"):
        by = compare_page.BREAK_DOWN[choice]
        assert len(comparison.grouped(by).table) > len(comparison.table)
    crossed = grouped_table_html(comparison, "region,size_class")
    assert "<th>size class</th>" in crossed and "nord × small" not in crossed  # columns, not labels
    # the outcome filter: only the chosen outcomes' rows, one per group; none chosen: all
    names = grouped_outcome_names(comparison, "region")
    assert set(names) == set(app.index.get_level_values("outcome")) and "admissions" in names
    regions = app.index.get_level_values("group").unique()

    def outcome_cells(page: str) -> list[str]:  # the second cell of each body row
        body = page.split("<tbody>")[1]
        rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
        return [re.findall(r"<td>(.*?)</td>", row, flags=re.S)[1] for row in rows]

    one = outcome_cells(grouped_table_html(comparison, "region", ["admissions"]))
    assert one == ["admissions"] * len(regions)
    every = outcome_cells(grouped_table_html(comparison, "region"))
    assert len(every) == len(app) and set(every) == set(names)
    break_down_by.set("region")
    try:
        box, rc = solara.render(GroupedResults(comparison), handle_error=False)
        try:
            text = str(box.children)
            assert "Download table by region (CSV)" in text and "--by municipality" in text
            assert f"{len(names)} of {len(names)} outcomes shown" in text
        finally:
            rc.close()
        grouped_outcomes.set(["admissions", "no_such_outcome"])
        box, rc = solara.render(GroupedResults(comparison), handle_error=False)
        try:
            text = str(box.children)
            assert f"1 of {len(names)} outcomes shown" in text
        finally:
            rc.close()
    finally:
        break_down_by.set("none")
        grouped_outcomes.set([])


def test_compare_splits_by_pathway_as_sfbsim_compare_pathways(tmp_path):
    """'Split by pathway' gives the numbers `sfbsim compare --pathways` writes in pathways.csv
    for the same inputs, and leaves the comparison table as comparison.csv has it."""
    from typer.testing import CliRunner

    from sfbsim.viz.compare import pathway_caption, pathway_figure, pathway_table_html

    out = tmp_path / "cmp"
    args = ["compare", "baseline", "duty_to_assist", "--years", "1", "--reps", "2"]
    args += ["--seed", "3", "--workers", "0", "--out", str(out), "--quiet"]
    args += ["--uncertainty", "fixed", "--pathways"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out / "pathways.csv").set_index(["outcome", "pathway"])
    app = compare("baseline", "duty_to_assist", 2, 1, "3", uncertainty="fixed", pathways=True)
    split = app.pathways.set_index(["outcome", "pathway"])
    assert sorted(split.index) == sorted(cli.index)
    assert {"referrals", "total", "dropouts"} <= set(split.index.get_level_values(1))
    for column in ("effect_mean", "effect_ci_low", "effect_ci_high", "share_of_total", "reps"):
        np.testing.assert_allclose(
            split.loc[cli.index, column].to_numpy(dtype=float),
            cli[column].to_numpy(dtype=float),
            err_msg=column,
        )
    assert (split.loc[cli.index, "meaning"] == cli["meaning"]).all()
    # the pathway counts are not outcomes of the comparison table or the runs
    table = pd.read_csv(out / "comparison.csv").set_index("outcome")
    mine = app.table.set_index("outcome")
    assert mine.index.is_unique and sorted(mine.index) == sorted(table.index)
    np.testing.assert_allclose(mine.loc[table.index, "diff_mean"], table["diff_mean"])
    assert "waiting_at_end_residential" not in set(app.results["outcome"])
    text = pathway_table_html(app)
    assert "sfb-pathway-table" in text and "more proposals and referrals" in text
    assert "run-to-run noise only" in pathway_caption(app)
    assert isinstance(pathway_figure(app), Figure)
    box, rc = solara.render(CompareResults(app), handle_error=False)
    try:
        assert "Effect by pathway" in str(box.children)
    finally:
        rc.close()


def test_compare_reports_bad_choices():
    with pytest.raises(LeverError) as error:
        compare("no-such-scenario", CURRENT_LEVERS, 2, 1, "-1", levers={"seed": "x"})
    text = str(error.value)
    assert "first seed" in text and "baseline:" in text and "reform: seed" in text
    with pytest.raises(LeverError, match="start in the same year"):
        compare("history", "baseline", 2, 1, "1")


# --- server ---------------------------------------------------------------------------------
def test_server_listens_on_localhost_and_stays_offline():
    args = server.solara_arguments()
    assert args[:2] == ["run", "sfbsim.viz.app"]
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert args[args.index("--port") + 1] == "8765"
    assert "--no-check-version" in args and "--production" in args
    env = server.offline_environment({})
    assert env["SOLARA_ASSETS_PROXY"] == "True"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_bundled_assets_hold_the_page_scripts():
    """solara-assets puts Solara's JavaScript where the assets proxy serves it from."""
    import solara.server.settings as settings

    cdn = settings.assets.proxy_cache_dir
    assert (cdn / "requirejs@2.3.6" / "require.js").exists()
    assert any((cdn / "@widgetti").glob("solara-vuetify-app@*/dist/solara-vuetify-app*.js"))


def test_app_module_has_two_pages():
    import sfbsim.viz.app

    assert [r.label for r in sfbsim.viz.app.routes] == ["Explore", "Compare"]
    assert [r.path for r in sfbsim.viz.app.routes] == ["/", "compare"]


# --- the side panel's labels, the map's areas -----------------------------------------------
def test_every_slider_label_shows_its_value_and_unit():
    specs = {k: s for k, s in lever_inputs().items() if s["type"].startswith("Slider")}
    assert set(specs) == {"copay_multiplier", "units_multiplier", "information_campaign", "years"}
    assert lever_label(specs["copay_multiplier"], 0.5) == "Co-payment: ×0.5 the Ministry's rates"
    units = lever_label(specs["units_multiplier"], 1.5)
    assert units == "Residential units per centre: ×1.5 today's"
    assert (
        lever_label(specs["information_campaign"], 0.35)
        == "Information campaign: 35% of the familiarity gap closed"
    )
    assert lever_label(specs["years"], 1) == "Run length: 1 year"
    assert lever_label(specs["years"], 4) == "Run length: 4 years"


def test_outline_is_natural_earth_and_small():
    data = json.loads(geography.OUTLINE_FILE.read_text(encoding="utf-8"))
    properties = data["features"][0]["properties"]
    assert "Natural Earth" in properties["source"] and "public domain" in properties["licence"]
    assert geography.OUTLINE_FILE.stat().st_size < 150_000
    outline = geography.outline()
    assert outline.is_valid
    west, south, east, north = outline.bounds
    assert 4 < west < 5.5 and 57.5 < south < 58.5 and 30.5 < east < 31.5 and 70.5 < north < 71.5


def test_one_area_per_municipality_that_tile_the_outline():
    import shapely
    from shapely.geometry import Point

    municipalities = bundled_data().municipalities
    areas = geography.cells(tuple(municipalities["lon"]), tuple(municipalities["lat"]))
    assert len(areas) == len(municipalities) == 357
    assert all(not a.is_empty and a.area > 0 for a in areas)
    # the cells do not overlap, and together cover the outline (plus a few small islands)
    union = shapely.union_all(areas)
    assert sum(a.area for a in areas) == pytest.approx(union.area, rel=1e-6)
    assert union.area == pytest.approx(geography.outline().area, rel=0.01)
    # each municipality's area lies at or next to its travel point (within 30 km)
    for row, area in zip(municipalities.itertuples(), areas, strict=True):
        point = Point(row.lon, row.lat)
        assert area.distance(point) < 30 / 111, row.name


def test_map_draws_areas_not_dots(stepped):
    from matplotlib.collections import PathCollection

    figure = map_figure(stepped)
    ax = figure.axes[0]
    (areas,) = [c for c in ax.collections if c.get_gid() == "sfb-municipality-areas"]
    assert isinstance(areas, PathCollection) and len(areas.get_paths()) == 357
    values = stepped.municipality_frame()["referrals_per_1000"].to_numpy()
    assert np.allclose(areas.get_array(), values)
    assert "not boundaries" in ax.get_title()


# --- a click on the map explains the municipality (sfbsim explain) -------------------------
def test_a_click_on_an_area_finds_its_municipality(stepped):
    figure = map_figure(stepped, selected="5001")
    assert map_png(figure).startswith("data:image/png;base64,")
    (outline,) = [
        c for c in figure.axes[0].collections if c.get_gid() == "sfb-selected-municipality"
    ]
    mun = stepped.municipality_frame().set_index("kommunenummer")
    for number in ("0301", "5001", "5612", "1813"):
        x, y = map_position(figure, mun.loc[number, "lon"], mun.loc[number, "lat"])
        assert 0 < x < 1 and 0 < y < 1
        assert municipality_at(figure, stepped, x, y) == number
    x, y = map_position(figure, 4.0, 70.5)  # the Norwegian Sea
    assert municipality_at(figure, stepped, x, y) is None
    assert municipality_at(figure, stepped, 0.001, 0.001) is None


def test_explore_explains_a_municipality_as_sfbsim_explain_does(tmp_path):
    """The Explore page's explanation of its live, traced run is `sfbsim explain RUN_DIR -m K`
    of the same run written to a folder (one implementation: explain_trail)."""
    import html

    from sfbsim.experiments.explain import explain_run
    from sfbsim.experiments.runner import run_to_folder

    run = ExploreRun(years=1, seed="5")
    assert run.model.trail is not None
    while run.running:
        run.step()
    out = tmp_path / "run"
    run_to_folder(run.run_scenario, bundled_data(), out, trace=True)
    explained_gaps = False
    for municipality in ("Brønnøy", "0301", "Tromsø"):
        app = run.explanation(municipality)
        cli = explain_run(out, municipality)
        assert app.summary == cli.summary
        assert app.leading == cli.leading and app.counts == cli.counts
        assert [g.term for g in app.gaps] == [g.term for g in cli.gaps]
        for side in ("here", "national"):
            np.testing.assert_allclose(
                [getattr(g, side) for g in app.gaps], [getattr(g, side) for g in cli.gaps]
            )
        assert [(c.family_id, c.steps, c.outcome) for c in app.cases] == [
            (c.family_id, c.steps, c.outcome) for c in cli.cases
        ]
        text = explanation_html(app)
        for line in cli.summary:
            assert html.escape(line) in text
        for story in cli.cases[:3]:
            assert all(html.escape(step) in text for step in story.steps)
        if cli.has_gaps:
            assert "sfb-explain-table" in text and "national" in text
            explained_gaps = True
    assert explained_gaps, "neither municipality had a first choice elsewhere than a centre"


def test_explain_view_hints_then_explains_the_selected_municipality(stepped):
    selected_municipality.set(None)
    box, rc = solara.render(ExplainView(stepped), handle_error=False)
    try:
        assert "Click a municipality" in str(box.children)
        selected_municipality.set("0301")
        text = str(box.children)
        assert "Why: Oslo (0301), so far (day 60)" in text
        assert stepped.explanation("0301").summary[0] in text
    finally:
        rc.close()
        selected_municipality.set(None)


# --- the levers as a scenario file, an uploaded scenario ------------------------------------
LEVERS = {
    "weekend_policy": "open every weekend",
    "copay_multiplier": 0.5,
    "units_multiplier": 1.2,
    "intake_meeting_days": "mon, thu",
    "duty_to_assist": True,
    "information_campaign": 0.35,
    "seed": "7",
    "years": 1,
}


def comparable(scenario) -> dict:
    raw = scenario.model_dump(mode="json")
    for key in ("name", "description", "baseline"):
        raw.pop(key, None)
    return raw


def test_saved_levers_load_with_sfbsim_run(tmp_path):
    from typer.testing import CliRunner

    label = next(k for k, n in municipality_choices().items() if n == "5601")
    settings = {**LEVERS, "new_centre": label}
    path = tmp_path / "levers.toml"
    path.write_text(levers_toml(settings), encoding="utf-8")
    assert comparable(load_scenario(path)) == comparable(lever_scenario(settings))
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli_app, ["run", "--scenario", str(path), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "duty_to_assist = true" in json.dumps(manifest)
    # the default levers save as the baseline (weekend policy left to each centre)
    assert comparable(uploaded_scenario("d.toml", levers_toml().encode())) == comparable(
        lever_scenario()
    )


def test_bad_levers_are_not_saved():
    with pytest.raises(LeverError, match="seed"):
        levers_toml({"seed": "x"})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00n", "not a UTF-8 text file"),
        (b"name = ", "not valid TOML"),
        (b'name = "x"\nbaseline = "/etc/passwd"\n', "is not a shipped scenario"),
        (b'name = "x"\nbaseline = "../baseline.toml"\n', "is not a shipped scenario"),
        (b'name = "x"\n[levers]\ncopay_multiplier = "0.5"\n', "levers.copay_multiplier"),
        (b'name = "x"\n[levers]\nwings = 1\n', "levers.wings: unknown key"),
        (b'name = "x"\n[run]\nyears = 1000\n', "run.years"),
        (b"x" * 1_000_001, "larger than 1,000,000 bytes"),
    ],
)
def test_bad_uploads_give_one_clear_message(data, expected):
    with pytest.raises(LeverError) as error:
        uploaded_scenario("../up/bad.toml", data)
    text = "; ".join(error.value.messages)
    assert expected in text and text.startswith("bad.toml: ")
    assert "Traceback" not in text


def test_accept_upload_offers_the_file_or_says_why_not():
    box, rc = solara.render(CompareControls(), handle_error=False)
    try:
        accept_upload("mine.toml", 40, lambda: b'name = "mine"\n[levers]\ncopay = 1\n')
        assert "mine.toml" in compare_page.upload_error.value
        assert "uploaded: mine.toml" not in compare_page.uploaded_scenarios.value
        accept_upload("huge.toml", 2_000_000, lambda: pytest.fail("must not be read"))
        assert "larger than" in compare_page.upload_error.value
        accept_upload("boom.toml", 10, lambda: 1 / 0)
        assert "could not be read: ZeroDivisionError" in compare_page.upload_error.value
        text = levers_toml(LEVERS).encode()
        accept_upload("mine.toml", len(text), lambda: text)
        assert compare_page.upload_error.value == ""
        assert "uploaded: mine.toml" in compare_page.uploaded_scenarios.value
        assert compare_page.reform_choice.value == "uploaded: mine.toml"
        choices = compare_page.scenario_choices(compare_page.uploaded_scenarios.value)
        assert choices[-1] == "uploaded: mine.toml"
    finally:
        rc.close()


def test_an_uploaded_file_runs_in_compare_as_baseline_or_reform():
    uploaded = {"uploaded: mine.toml": uploaded_scenario("mine.toml", levers_toml(LEVERS).encode())}
    comparison = compare(
        "baseline", "uploaded: mine.toml", 2, 1, "3", uploaded=uploaded, uncertainty="fixed"
    )
    assert comparison.reform == "uploaded: mine.toml" and comparison.seeds == (3, 4)
    swapped = compare(
        "uploaded: mine.toml", "baseline", 2, 1, "3", uploaded=uploaded, uncertainty="fixed"
    )
    table = comparison.table.set_index("outcome")["diff_mean"]
    back = swapped.table.set_index("outcome")["diff_mean"]
    assert table["admissions"] == pytest.approx(-back["admissions"])
    with pytest.raises(LeverError, match="not uploaded in this session"):
        compare("baseline", "uploaded: other.toml", 2, 1, "3", uploaded=uploaded)


def test_derive_outline_keeps_the_mainland_of_a_topology(tmp_path):
    """tools/derive_outline.py on a tiny world-atlas-like topology: Norway's polygons inside the
    mainland box are kept (delta-encoded, quantized arcs decoded; rings joined from several arcs,
    some reversed), Svalbard and islands under MIN_AREA dropped, other countries ignored, and a
    second run writes the same bytes."""
    from tools import derive_outline

    def square(x, y, size):  # one closed ring as a delta-encoded arc, in 0.01-degree steps
        return [[x, y], [size, 0], [0, size], [-size, 0], [0, -size]]

    topology = {
        "type": "Topology",
        "transform": {"scale": [0.01, 0.01], "translate": [0, 0]},
        "arcs": [
            [[1000, 6000], [500, 0], [0, 500]],  # mainland, lon 10-15, lat 60-65: south, east
            square(1500, 7800, 300),  # Svalbard: lat 78-81, outside the box
            square(2500, 6800, 3),  # 0.03 x 0.03 degrees: under MIN_AREA
            square(2000, 6900, 5),  # 0.05 x 0.05 degrees: just over MIN_AREA
            square(1200, 6200, 100),  # a lake in the mainland, used reversed as its hole
            [[1000, 6000], [0, 500], [500, 0]],  # mainland's west and north, used reversed
        ],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "id": "752", "arcs": [[2]]},  # Sweden: ignored
                    {
                        "type": "MultiPolygon",
                        "id": "578",
                        "arcs": [[[0, ~5], [~4]], [[1]], [[2]], [[3]]],
                    },
                ],
            }
        },
    }
    assert 0.03**2 < derive_outline.MIN_AREA < 0.05**2
    source = tmp_path / "countries.json"
    source.write_text(json.dumps(topology), encoding="utf-8")
    out = tmp_path / "outline.geojson"
    derive_outline.main([str(source), "--out", str(out)])
    first = out.read_bytes()
    collection = json.loads(first)
    (feature,) = collection["features"]
    assert "Natural Earth" in feature["properties"]["source"]
    assert feature["geometry"]["type"] == "MultiPolygon"
    mainland, island = feature["geometry"]["coordinates"]  # largest first

    def bounds(ring):
        xs, ys = [x for x, _ in ring], [y for _, y in ring]
        return min(xs), max(xs), min(ys), max(ys)

    exterior, hole = mainland
    assert bounds(exterior) == (10.0, 15.0, 60.0, 65.0)
    assert bounds(hole) == (12.0, 13.0, 62.0, 63.0)
    assert shapely.Polygon(exterior, [hole]).area == pytest.approx(25 - 1)
    (island_ring,) = island
    assert bounds(island_ring) == (20.0, 20.05, 69.0, 69.05)
    derive_outline.main([str(source), "--out", str(out)])
    assert out.read_bytes() == first  # deterministic


def test_compare_controls_render_with_the_split_by_pathway_checkbox():
    box, rc = solara.render(CompareControls(), handle_error=False)
    try:
        assert rc.find(v.Checkbox, label="Split by pathway").widget is not None
    finally:
        rc.close()


def test_compare_page_says_when_two_replications_are_one_posterior_draw():
    """Two replications over the posterior are one draw: the page says the intervals are empty
    and what to give; with the fixed uncertainty, or three replications, nothing is said."""
    from sfbsim.viz.compare import CompareResults, one_draw_note

    one = compare("baseline", "weekends_open", 2, 1, "1", uncertainty="posterior")
    note = one_draw_note(one)
    assert note is not None and "single draw" in note and "'fixed' uncertainty" in note
    assert one.table["diff_ci_low"].isna().all()
    box, rc = solara.render(CompareResults(one), handle_error=False)
    try:
        assert "single draw" in str(box.children)
    finally:
        rc.close()
    assert (
        one_draw_note(compare("baseline", "weekends_open", 2, 1, "1", uncertainty="fixed")) is None
    )
    assert one_draw_note(compare("baseline", "weekends_open", 3, 1, "1")) is None


def test_compare_table_units_for_shares_and_within_noise_as_the_cli_says():
    """Shares are shown in % with differences in pp, and the unit says so; over the posterior
    an empty 90 % interval reads 'within noise' (as the CLI prints it), but with a single draw
    it stays empty; the caption points to sd_parameter and sd_noise in the CSV."""
    from sfbsim.viz.compare import interval_caption, shown_table

    two_draws = compare("baseline", "weekends_open", 4, 1, "1")
    shown = shown_table(two_draws, two_draws.table).set_index("outcome")
    assert shown.loc["occupancy", "unit"] == "% (differences: pp)"
    assert "sd_noise are in the downloaded CSV" in interval_caption(two_draws)
    table = two_draws.table.copy()
    table.loc[table["outcome"] == "admissions", ["effect_p05", "effect_p95"]] = float("nan")
    shown = shown_table(two_draws, table).set_index("outcome")
    assert shown.loc["admissions", "90 % over posterior low"] == "within noise"
    # no data at all (a group without a centre has no occupancy) is not 'within noise'
    table.loc[table["outcome"] == "admissions", "sd_parameter"] = float("nan")
    shown = shown_table(two_draws, table).set_index("outcome")
    assert shown.loc["admissions", "90 % over posterior low"] == "–"
    one_draw = compare("baseline", "weekends_open", 2, 1, "1")
    shown = shown_table(one_draw, one_draw.table).set_index("outcome")
    assert shown.loc["admissions", "90 % over posterior low"] == "–"
    assert set(shown["sign"]) == {"–"}  # one draw agrees with itself: no sign to read
    fixed = compare("baseline", "weekends_open", 2, 1, "1", uncertainty="fixed")
    assert "sd_noise" not in interval_caption(fixed)
