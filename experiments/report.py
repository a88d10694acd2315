"""One self-contained HTML report of a stored comparison (plots embedded as PNG data URIs).

Sections: what was compared and which parameters changed; the comparison table; differences
with 95 % CI bands over time; differences by region and size class; a map of the change in
use (admissions per year) per municipality. The title and the settings are in words
(experiments/describe.py).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sfbsim.experiments.compare import Arm, Experiment, paired_table
from sfbsim.experiments.describe import (
    changed_settings,
    comparison_title,
    dated_entries,
    known_in_advance,
)
from sfbsim.experiments.files import atomic_write_text, check_file_target
from sfbsim.experiments.outcomes import (
    COST_SPLIT_NOTE,
    MONEY_OUTCOMES,
    NOT_IN_LEDGER,
    OUTCOMES,
    in_mnok,
    shown_unit,
)
from sfbsim.experiments.store import Store, StoreError
from sfbsim.experiments.uncertainty import too_few_draws, what_intervals_cover

if TYPE_CHECKING:
    from sfbsim.model.data_loading import BundledData

GENERATOR = '<meta name="generator" content="sfbsim">'
"""Marks a report as sfbsim's own: only such a file is replaced by a new report."""
PLOT_OUTCOMES = (
    "admissions",
    "residential_share",
    "intake_refusals",
    "consent_refusals",
    "median_wait",
    "ssb_child_bed_days",
    "occupancy",
    "emergency_placements",
)


def load_experiment(folder: Path) -> tuple[Experiment, list[int]]:
    """The experiment stored in ``folder`` (read-only)."""
    from sfbsim.model.parameters import Scenario

    store = Store(folder, read_only=True)
    frame = store.experiments()
    if frame.empty:
        store.close()
        raise StoreError(f"{folder} holds no experiment")
    info = store.experiment(frame["experiment_id"].iloc[-1])
    assert info is not None
    scenarios = store.scenarios(info["experiment_id"]).set_index("name")
    spec = info["spec"]
    arms = []
    recorded = store.scenario_order(info["experiment_id"])
    names = [n for n in recorded if n in spec["arms"]]
    names += [n for n in spec["arms"] if n not in names]
    for name in names:
        param_hash = spec["arms"][name]
        row = scenarios.loc[name]
        arm = Arm(
            name,
            spec["roles"][name],
            Scenario.model_validate_json(row["scenario_json"]),
            text=row["scenario_text"],
            param_hash=param_hash,
        )
        arms.append(arm)
    seeds = sorted({s for _, s in store.done(info["experiment_id"])})
    return Experiment(
        store,
        info["experiment_id"],
        info["kind"],
        spec,
        arms,
        spec["base_seed"],
        None,
        info["code_version"],
        groups=spec.get("groups", True),
        resumed=True,
        pathways=bool(spec.get("pathways", False)),
        uncertainty=spec.get("uncertainty", "fixed"),
    ), seeds


def report_title(experiment: Experiment) -> str:
    """The report's title in words, e.g. ``Co-payments halved compared with the baseline,
    2025–2034`` (experiments/describe.py)."""
    spec = experiment.spec
    return comparison_title(
        experiment.kind,
        experiment.baseline.name,
        [(arm.name, arm.scenario.description) for arm in experiment.others],
        spec.get("start_year"),
        spec.get("years"),
    )


def settings_html(baseline: Arm, arm: Arm, data: BundledData | None = None) -> str:
    """A reform's section of "What was compared": its description, the settings that differ
    from the baseline in words (lever, values with units, the key in the scenario file), its
    dated changes, new centres (with the weekend policy in force) and closures, and its file."""
    settings = changed_settings(baseline.scenario, arm.scenario, data)
    dated = dated_entries(baseline.scenario, arm.scenario, data)
    rows = "".join(
        f"<tr><td>{html.escape(s.label)}<br><code>{html.escape(s.key)}</code></td>"
        f"<td>{html.escape(s.baseline)}</td><td>{html.escape(s.reform)}</td></tr>"
        for s in settings
    )
    table = (
        "<table class='settings'><thead><tr><th>setting</th><th>baseline</th><th>reform</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    items = "".join(f"<li>{html.escape(text)}</li>" for text in dated)
    listed = f"<ul>{items}</ul>" if items else ""
    advance = known_in_advance(baseline.scenario, arm.scenario)
    if advance:
        listed += f"<p class='note'>{html.escape(advance)}</p>"
    if not table and not listed:
        table = "<p>No setting differs from the baseline.</p>"
    description = arm.scenario.description.strip()
    return (
        f"<h3>{html.escape(arm.name)}</h3>"
        + (f"<p>{html.escape(description)}</p>" if description else "")
        + f"{table}{listed}"
        f"<details><summary>scenario file</summary><pre>{html.escape(arm.text)}</pre>"
        "</details>"
    )


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _time_plots(table: pd.DataFrame) -> str:
    import matplotlib.pyplot as plt

    outcomes = [o for o in PLOT_OUTCOMES if o in set(table["outcome"])]
    cols = 2
    rows = max(1, (len(outcomes) + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.8 * rows), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        part = table[table["outcome"] == outcome]
        for scenario, rows_ in part.groupby("scenario", sort=False):
            rows_ = rows_.sort_values("year")
            line = ax.plot(rows_["year"], rows_["diff_mean"], marker="o", ms=3, label=scenario)
            ax.fill_between(
                rows_["year"],
                rows_["diff_ci_low"],
                rows_["diff_ci_high"],
                alpha=0.2,
                color=line[0].get_color(),
            )
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"{outcome}: reform − baseline", fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(outcomes) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _group_plots(table: pd.DataFrame, scope: str) -> str:
    import matplotlib.pyplot as plt

    outcomes = [
        o
        for o in ("admissions", "median_wait", "intake_refusals", "ssb_child_bed_days")
        if o in set(table["outcome"])
    ]
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.2 * len(outcomes), 3.2), squeeze=False)
    scenarios = list(dict.fromkeys(table["scenario"]))
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        part = table[(table["outcome"] == outcome) & (table["scope"] == scope)]
        groups = sorted(set(part["group"]))
        width = 0.8 / max(1, len(scenarios))
        for i, scenario in enumerate(scenarios):
            rows = part[part["scenario"] == scenario].set_index("group").reindex(groups)
            x = np.arange(len(groups)) + i * width
            err = np.vstack(
                [rows["diff_mean"] - rows["diff_ci_low"], rows["diff_ci_high"] - rows["diff_mean"]]
            )
            ax.bar(x, rows["diff_mean"], width, yerr=np.nan_to_num(err), capsize=2, label=scenario)
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups, rotation=45, fontsize=8)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(outcome, fontsize=10)
        ax.tick_params(labelsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def _pathway_plots(table: pd.DataFrame) -> str:
    """Each reform's effect on admissions and bed-days by pathway: one horizontal bar per
    pathway with its 95 % interval, the measured total last (pathways.csv)."""
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(table["scenario"]))
    outcomes = [o for o in ("admissions", "bed_days") if o in set(table["outcome"])]
    fig, axes = plt.subplots(
        len(scenarios), len(outcomes), figsize=(5.5 * len(outcomes), 3.0 * len(scenarios)),
        squeeze=False,
    )  # fmt: skip
    for row, scenario in enumerate(scenarios):
        for col, outcome in enumerate(outcomes):
            ax = axes[row][col]
            part = table[(table["scenario"] == scenario) & (table["outcome"] == outcome)]
            part = pd.concat([part[part["pathway"] != "total"], part[part["pathway"] == "total"]])
            y = np.arange(len(part))[::-1]
            err = np.vstack(
                [
                    part["effect_mean"] - part["effect_ci_low"],
                    part["effect_ci_high"] - part["effect_mean"],
                ]
            )
            colours = ["#444" if p == "total" else "#3b75af" for p in part["pathway"]]
            ax.barh(y, part["effect_mean"], xerr=np.nan_to_num(err), color=colours, capsize=2)
            ax.set_yticks(y, part["pathway"], fontsize=8)
            ax.axvline(0, color="black", lw=0.6)
            unit = "admissions a year" if outcome == "admissions" else "child bed-days a year"
            ax.set_title(f"{scenario}: {unit}, by pathway", fontsize=10)
            ax.tick_params(labelsize=8)
    fig.tight_layout()
    return _png(fig)


def _pathways_html(experiment: Experiment, seeds: list[int]) -> str:
    """The section on where each effect comes from, when the comparison was run with
    --pathways (otherwise nothing)."""
    if not experiment.pathways:
        return ""
    from sfbsim.experiments.compare import pathways_table

    table = pathways_table(experiment, len(seeds))
    if table.empty:
        return ""
    return (
        "<h2>Where the effects come from</h2><p>Each reform's effect on admissions and on "
        "Statistics Norway's child bed-days split by pathway, from the decision trails of the "
        "paired replications (the parts add up to the measured total, the dark bar): more "
        "proposals and referrals, fewer proposals declined by the parents, fewer refusals by "
        "Bufetat's intake or at the offer, more places bought directly, fewer still waiting at "
        "the end; for bed-days also longer or shorter planned stays and fewer drop-outs. Bars "
        "are 95 % t-intervals of the mean effect over the replications (over the posterior "
        "draws' means when the comparison ran over the posterior; what that covers is said at "
        "the top). `sfbsim compare --pathways` writes the numbers to pathways.csv.</p>"
        f'<img alt="effects by pathway" src="{_pathway_plots(table)}">'
    )


def _maps(experiment: Experiment, seeds: list[int]) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    from sfbsim.model.data_loading import load_data

    mun = experiment.store.municipality(experiment.experiment_id, seeds, ["admissions"])
    if mun.empty:
        return []
    places = load_data().municipalities.set_index("kommunenummer")[["lat", "lon", "name"]]
    base = mun[mun["param_hash"] == experiment.baseline.param_hash]
    base = base.set_index(["seed", "kommunenummer"])["value"]
    out = []
    for arm in experiment.others:
        mine = mun[mun["param_hash"] == arm.param_hash].set_index(["seed", "kommunenummer"])
        diff = (mine["value"] - base.reindex(mine.index)).groupby("kommunenummer").mean()
        frame = places.join(diff.rename("change"), how="inner")
        if frame.empty:
            continue
        fig, ax = plt.subplots(figsize=(5.5, 7))
        limit = max(float(frame["change"].abs().max()), 1e-9)
        points = ax.scatter(
            frame["lon"],
            frame["lat"],
            c=frame["change"],
            cmap="RdBu_r",
            norm=TwoSlopeNorm(0, -limit, limit),
            s=14,
            edgecolors="grey",
            linewidths=0.2,
        )
        fig.colorbar(points, ax=ax, shrink=0.6, label="change in admissions per year")
        ax.set_title(f"{arm.name}: change in use per municipality", fontsize=10)
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.set_aspect(2.0)
        out.append((arm.name, _png(fig)))
    return out


POSTERIOR_COLUMNS = ["draws", "sd_parameter", "effect_p05", "effect_p95", "same_sign_share"]
"""comparison.csv's columns that only replications over the posterior fill."""


def _robustness_html(flipped: pd.DataFrame) -> str:
    """Which conclusions hold over the posterior: the effects whose sign flips, named."""
    if flipped.empty:
        return (
            "<h2>Which conclusions are robust</h2><p>For every reform and outcome at least 90 % "
            "of the posterior draws give the effect the same sign as its mean.</p>"
        )
    items = "".join(
        f"<li>{html.escape(str(row.scenario))}: {html.escape(str(row.outcome))} — "
        f"{row.same_sign_share:.0%} of the draws agree on the sign of {row.diff_mean:+,.3g}</li>"
        for row in flipped.itertuples(index=False)
    )
    return (
        "<h2>Which conclusions are robust</h2><p>Effects whose sign flips over the posterior "
        "(fewer than 90 % of the draws agree on the direction); do not report their direction "
        f"as a finding:</p><ul>{items}</ul>"
    )


def _costs_note(year: int) -> str:
    """What the costs in the table are, in which unit, and what they leave out."""
    return (
        f"<p class='note'><b>Costs and values</b> are in MNOK (million NOK) per year at {year} "
        "prices (co-payments at the nominal rate of their year); comparison.csv has them in "
        f"NOK. {html.escape(COST_SPLIT_NOTE)}</p>"
        f"<p class='note'>{html.escape(NOT_IN_LEDGER)}</p>"
    )


def _table_html(table: pd.DataFrame) -> str:
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            if np.isnan(value):
                return "–"
            return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0} td:first-child,td:nth-child(2),td:nth-child(3){text-align:left}
.note{font-size:13px;color:#444;max-width:900px}
pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto}
img{max-width:100%}
table.settings td{text-align:left;vertical-align:top} code{font-size:11px;color:#555}
.id{color:#666;margin-top:-0.6em}
"""


def write_report(folder: Path, target: Path | None = None) -> Path:
    """Write ``folder/report.html`` (or ``target``) for the experiment stored in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    target = check_file_target(
        Path(target) if target is not None else Path(folder) / "report.html", GENERATOR
    )
    experiment, seeds = load_experiment(folder)
    try:
        sections = []
        spec = experiment.spec
        base = experiment.baseline
        title = report_title(experiment)
        sections.append(
            f"<h1>{html.escape(title)}</h1>"
            f"<p class='id'>sfbsim {html.escape(experiment.kind)} "
            f"{html.escape(experiment.experiment_id)}</p>"
            f"<p>{len(seeds)} paired replication{'' if len(seeds) == 1 else 's'} (seeds "
            f"{seeds[0] if seeds else '–'}–{seeds[-1] if seeds else '–'}), {spec.get('years')} "
            f"year{'' if spec.get('years') == 1 else 's'} from "
            f"{spec.get('start_year')}; code {html.escape(experiment.code_version)}; data "
            f"{html.escape(str(spec.get('data') or 'bundled'))}. Differences are reform − "
            "baseline on common random numbers; bands and bars are 95 % confidence intervals "
            "of the mean difference. Counts are per year.</p>"
            f"<p><b>What the intervals cover.</b> "
            f"{html.escape(what_intervals_cover(experiment.uncertainty))}</p>"
        )
        sections.append("<h2>What was compared</h2>")
        sections.append(
            f"<p><b>Baseline:</b> {html.escape(base.name)} — "
            f"{html.escape(base.scenario.description)}</p>"
        )
        from sfbsim.model.data_loading import load_data

        bundled = load_data()
        for arm in experiment.others:
            sections.append(settings_html(base, arm, bundled))
        if not seeds:
            sections.append("<p>No replication has finished yet.</p>")
        else:
            period = paired_table(experiment, seeds)
            year = int(base.scenario.costs.price_year)
            shown = in_mnok(period.drop(columns=["scope", "group", "year"]))
            shown.insert(2, "unit", [shown_unit(name, year) for name in shown["outcome"]])
            shown = shown.assign(meaning=shown["outcome"].map(OUTCOMES))
            if experiment.uncertainty == "posterior":
                few = too_few_draws(experiment.uncertainty, len(seeds))
                shown["sign"] = [
                    "–" if pd.isna(share) or few else "robust" if robust else f"flips ({share:.0%})"
                    for share, robust in zip(shown["same_sign_share"], shown["robust"], strict=True)
                ]
                shown = shown.drop(columns=["robust"])
                flipped = shown[shown["sign"].str.startswith("flips")]
                sections.append(
                    f"<h2>Which conclusions are robust</h2><p>{html.escape(few)}. With one "
                    "draw the direction of an effect over the posterior cannot be judged "
                    "either.</p>"
                    if few
                    else _robustness_html(flipped)
                )
            else:
                shown = shown.drop(columns=[*POSTERIOR_COLUMNS, "robust"])
            sections.append("<h2>Differences over the whole run</h2>" + _table_html(shown))
            if shown["outcome"].isin(MONEY_OUTCOMES).any():
                sections.append(_costs_note(year))
            yearly = paired_table(experiment, seeds, years="yearly")
            if not yearly.empty:
                sections.append(
                    "<h2>Differences over time</h2>"
                    f'<img alt="differences over time" src="{_time_plots(yearly)}">'
                )
            sections.append(_pathways_html(experiment, seeds))
            groups = paired_table(experiment, seeds, scopes=("region", "size_class"))
            if not groups.empty:
                sections.append("<h2>By region and size class</h2>")
                for scope in ("region", "size_class"):
                    if (groups["scope"] == scope).any():
                        sections.append(
                            f"<h3>{scope.replace('_', ' ')}</h3>"
                            f'<img alt="by {scope}" src="{_group_plots(groups, scope)}">'
                        )
            maps = _maps(experiment, seeds)
            if maps:
                sections.append(
                    "<h2>Change in use per municipality</h2><p>Mean change in centre "
                    "admissions per year (reform − baseline), one dot per municipality at its "
                    "centre point; red more use, blue less.</p>"
                )
                for name, image in maps:
                    sections.append(f'<img alt="map {html.escape(name)}" src="{image}">')
        page = (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{GENERATOR}"
            f"<title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>" + "\n".join(sections) + "</body></html>"
        )
        atomic_write_text(target, page)
        return target
    finally:
        experiment.close()
