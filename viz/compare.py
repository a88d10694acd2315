"""Compare page: a baseline and a reform run with K paired replications (same seeds), their
differences with 95 % t-interval bands, the comparison table, and the results as CSV."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
import traitlets  # noqa: E402
from ipyvuetify.extra.file_input import FileInput, load_template  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sfbsim.experiments.compare import (  # noqa: E402
    TABLE_COLUMNS,
    Arm,
    paired_summary,
    replicate_in_memory,
    within_noise,
)
from sfbsim.experiments.errors import ExperimentError  # noqa: E402
from sfbsim.experiments.execution import Executor  # noqa: E402
from sfbsim.experiments.groups import (  # noqa: E402
    GroupedComparison,
    grouped_comparison,
    parse_grouping,
)
from sfbsim.experiments.outcomes import (  # noqa: E402
    COST_SPLIT_NOTE,
    MONEY_OUTCOMES,
    NOT_IN_LEDGER,
    OUTCOMES,
    format_value,
    in_mnok,
    price_year,
    shown_unit,
)
from sfbsim.experiments.pathways import SCOPE as PATHWAY_SCOPE  # noqa: E402
from sfbsim.experiments.pathways import pathway_table  # noqa: E402
from sfbsim.experiments.scenario_files import (  # noqa: E402
    MAX_SCENARIO_BYTES,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
)
from sfbsim.experiments.uncertainty import (  # noqa: E402
    draw_index,
    draw_values,
    explicit_parameters,
    load_posterior,
    too_few_draws,
    what_intervals_cover,
)
from sfbsim.model.parameters import Scenario  # noqa: E402
from sfbsim.viz.explore import Figure_, explore_run  # noqa: E402
from sfbsim.viz.levers import (  # noqa: E402
    CURRENT_LEVERS,
    LeverError,
    bundled_data,
    lever_scenario,
    uploaded_scenario,
)

BAND_OUTCOMES = ("admissions", "occupancy", "median_wait", "intake_refusals")
"""The outcomes drawn with CI bands (all are in the table and the CSV)."""
BAND_LABELS = {
    "admissions": "Admissions per year",
    "occupancy": "Residential occupancy",
    "median_wait": "Median wait (days)",
    "intake_refusals": "Intake refusals per year",
}
PERCENT_OUTCOMES = ("occupancy", "residential_share")
"""Outcomes that are shares, shown in per cent (differences in percentage points)."""


UNCERTAINTY_CHOICES = ("posterior", "fixed")
UNCERTAINTY_LABELS = {
    "posterior": "Parameters and noise (over the posterior)",
    "fixed": "Noise only (fixed parameters)",
}


def interval_caption(comparison: Comparison) -> str:
    """What the intervals shown cover (said next to the table and figure); the page's table
    leaves sd_parameter and sd_noise to the downloaded CSV."""
    text = what_intervals_cover(comparison.uncertainty)
    if comparison.uncertainty == "posterior":
        text += " sd_parameter and sd_noise are in the downloaded CSV."
    return text


UPLOADED = "uploaded: "
"""Prefix of the choice an uploaded scenario file becomes (``uploaded: FILENAME``)."""


def file_scenario(choice: str, uploaded: dict[str, Scenario] | None = None) -> Scenario:
    """The scenario file behind a choice (the baseline for the current levers; an uploaded
    file itself): which parameters it sets itself."""
    if uploaded and choice in uploaded:
        return uploaded[choice]
    return load_scenario("baseline" if choice == CURRENT_LEVERS else choice)


def scenario_choices(uploaded: dict[str, Scenario] | None = None) -> list[str]:
    """The shipped scenario files, the levers set on the Explore page, then uploaded files."""
    return [*shipped_scenarios(), CURRENT_LEVERS, *(uploaded or {})]


def resolve_choice(
    choice: str, levers: dict | None, uploaded: dict[str, Scenario] | None = None
) -> Scenario:
    """A shipped scenario by name, the current levers on top of the baseline, or an uploaded
    file (already validated when it was uploaded).

    Raises LeverError with readable messages.
    """
    if choice == CURRENT_LEVERS:
        return lever_scenario(levers or {})
    if uploaded and choice in uploaded:
        return uploaded[choice]
    if choice.startswith(UPLOADED):
        raise LeverError([f"{choice}: not uploaded in this session; upload the file again"])
    try:
        return load_scenario(choice, bundled_data())
    except ScenarioError as error:
        raise LeverError(error.messages) from None


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What one press of 'Run comparison' produced: the outcome rows of every replication and
    their paired summary, computed by the same engine and definitions as ``sfbsim compare``."""

    baseline: str
    reform: str
    seeds: tuple[int, ...]
    years: int
    results: pd.DataFrame
    """One row per scenario × seed × year × outcome (year 0: the run, per year)."""
    table: pd.DataFrame
    """Per outcome over the run (per year, as comparison.csv): means, difference, 95 % CI."""
    bands: pd.DataFrame
    """Per outcome and calendar year: the mean paired difference and its 95 % CI."""
    uncertainty: str = "posterior"
    """"posterior": replications over the posterior draws (two seeds each); "fixed": the
    parameter files' values."""
    price_year: int | None = None
    """The price year of the baseline's costs (``costs.price_year``); None: the ledger's."""
    pathways: pd.DataFrame | None = None
    """With 'Split by pathway': the effect on admissions and bed-days by pathway, as
    ``sfbsim compare --pathways`` writes pathways.csv (experiments.pathways); else None."""
    national: pd.DataFrame | None = dataclasses.field(default=None, repr=False)
    """The national outcome rows over the run (param_hash, seed, scope, grp, year = 0, outcome,
    value): what the grouped tables pair with the groups' rows."""
    municipality: pd.DataFrame | None = dataclasses.field(default=None, repr=False)
    """Every replication's outcomes per municipality (param_hash, seed, kommunenummer, outcome,
    value), from which any grouping is computed (experiments.groups)."""
    waits: pd.DataFrame | None = dataclasses.field(default=None, repr=False)
    """The admitted families' waits per replication and municipality (param_hash, seed,
    kommunenummer, wait_days, families): the groups' median and 90th-percentile waits."""
    arms: tuple[Arm, ...] = dataclasses.field(default=(), repr=False)
    """The baseline and the reform as they ran."""
    draw_of: Callable[[int], int] | None = dataclasses.field(default=None, repr=False)
    """Over the posterior: a replication's seed → its draw; None with fixed parameters."""
    _grouped: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
    """The grouped comparisons computed so far, by grouping."""

    def grouped(self, by: str) -> GroupedComparison:
        """comparison.csv broken down ``by`` (``region``, ``size_class``, ``county``,
        ``region,size_class``; experiments.groups): the numbers of ``sfbsim compare --by`` for
        the same inputs, computed once per grouping from the rows per municipality."""
        if by not in self._grouped:
            data = bundled_data()
            grouping = parse_grouping(by, None, data.municipalities)
            if not grouping or self.national is None or self.municipality is None:
                raise LeverError([f"break down by: {by!r} is not a grouping of this comparison"])
            base, reform = self.arms
            self._grouped[by] = grouped_comparison(
                self.national,
                self.municipality,
                self.waits,
                grouping,
                base,
                [reform],
                list(self.arms),
                data,
                self.draw_of,
                self.uncertainty,
            )
        return self._grouped[by]

    def grouped_csv(self, by: str) -> str:
        """The grouped table as ``sfbsim compare --by`` writes comparison.csv (costs in NOK)."""
        return self.grouped(by).table.to_csv(index=False, lineterminator="\n")

    def results_csv(self) -> str:
        frame = self.results.copy()
        frame.insert(0, "reform_scenario", self.reform)
        frame.insert(0, "baseline_scenario", self.baseline)
        return frame.to_csv(index=False, lineterminator="\n")

    def table_csv(self) -> str:
        return self.table.to_csv(index=False, lineterminator="\n")

    def pathways_csv(self) -> str:
        assert self.pathways is not None
        return self.pathways.to_csv(index=False, lineterminator="\n")


def compare(
    baseline_choice: str,
    reform_choice: str,
    replications: int,
    years: int,
    first_seed: str,
    levers: dict | None = None,
    progress=None,
    uncertainty: str = "posterior",
    uploaded: dict[str, Scenario] | None = None,
    pathways: bool = False,
) -> Comparison:
    """Run the comparison (LeverError for unusable choices), by the same engine, draws and
    definitions as ``sfbsim compare`` (``uncertainty``: over the posterior, or fixed).

    ``progress(done, total)`` is called after every single run. ``uploaded``: the scenario files
    uploaded in this session, by choice (``uploaded: FILENAME``). ``pathways``: trace every
    replication (about 2x slower) and split the effect on admissions and bed-days by
    pathway, as ``sfbsim compare --pathways``.
    """
    messages = []
    try:
        seed = int(str(first_seed).strip())
        if seed < 0:
            raise ValueError
    except ValueError:
        messages.append(f"first seed: {first_seed!r} is not a whole number of 0 or more")
        seed = 0
    if not 1 <= int(replications) <= 100:
        messages.append(f"replications: {replications} is out of range; allowed: 1 to 100")
    if not 1 <= int(years) <= 50:
        messages.append(f"years: {years} is out of range; allowed: 1 to 50")
    scenarios = {}
    for arm, choice in (("baseline", baseline_choice), ("reform", reform_choice)):
        try:
            scenarios[arm] = resolve_choice(choice, levers, uploaded)
        except LeverError as error:
            messages.extend(f"{arm}: {m}" for m in error.messages)
    if len(scenarios) == 2 and (
        scenarios["baseline"].run.start_year != scenarios["reform"].run.start_year
    ):
        messages.append(
            f"the baseline starts in {scenarios['baseline'].run.start_year} and the reform in "
            f"{scenarios['reform'].run.start_year}: choose two scenarios that start"
            " in the same year"
        )
    if messages:
        raise LeverError(messages)
    if uncertainty not in UNCERTAINTY_CHOICES:
        raise LeverError([f"uncertainty: {uncertainty!r} is not one of {UNCERTAINTY_CHOICES}"])
    seeds = list(range(seed, seed + int(replications)))
    keep = {
        arm: explicit_parameters(file_scenario(choice, uploaded))
        for arm, choice in (("baseline", baseline_choice), ("reform", reform_choice))
    }
    base = Arm(
        "baseline",
        "baseline",
        scenarios["baseline"].with_run(years=int(years)),
        keep=keep["baseline"],
    )
    reform = Arm(
        "reform", "reform", scenarios["reform"].with_run(years=int(years)), keep=keep["reform"]
    )
    try:
        draws = load_posterior() if uncertainty == "posterior" else None
    except ExperimentError as error:
        raise LeverError([str(error)]) from None

    def draw_of(s: int) -> int:
        return draw_index(s - seed, len(draws))

    def draw_json(s: int) -> str:
        return "" if draws is None else json.dumps(draw_values(draws, draw_of(s)))

    total = len(seeds) * (1 if reform.param_hash == base.param_hash else 2)
    done = [0]

    def count(_result) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    sink: dict[str, list[pd.DataFrame]] = {}
    with Executor(workers=0) as executor:
        rows = replicate_in_memory(
            [base, reform],
            seeds,
            executor,
            on_done=count,
            draw_json=draw_json,
            pathways=pathways,
            sink=sink,
        )
    frames = {key: pd.concat(parts, ignore_index=True) for key, parts in sink.items() if parts}
    by_draw = draw_of if draws is not None else None
    split = pathway_table(rows, base, [reform], draw_of=by_draw) if pathways else None
    rows = rows[rows["scope"] != PATHWAY_SCOPE]
    table = paired_summary(
        rows[rows["year"] == 0], base, [reform], None, 0.95, by_draw, uncertainty
    )
    bands = paired_summary(
        rows[rows["year"] != 0], base, [reform], None, 0.95, by_draw, uncertainty
    )
    names = {base.param_hash: "baseline", reform.param_hash: "reform"}
    results = rows.assign(arm=rows["param_hash"].map(names)).drop(columns=["param_hash", "scope"])
    results = results.rename(columns={"grp": "group"})[["arm", "seed", "year", "outcome", "value"]]
    return Comparison(
        baseline=baseline_choice,
        reform=reform_choice,
        seeds=tuple(seeds),
        years=int(years),
        results=results,
        uncertainty=uncertainty,
        price_year=int(scenarios["baseline"].costs.price_year),
        table=table[TABLE_COLUMNS[1:]],
        bands=bands[["year", "outcome", "diff_mean", "diff_ci_low", "diff_ci_high", "reps"]],
        pathways=split,
        national=rows[(rows["year"] == 0) & (rows["scope"] == "national")].reset_index(drop=True),
        municipality=frames.get("municipality"),
        waits=frames.get("waits"),
        arms=(base, reform),
        draw_of=by_draw,
    )


def bands_figure(comparison: Comparison) -> Figure:
    """Reform minus baseline per year: mean paired difference with its 95 % band."""
    fig = Figure(figsize=(7.5, 5.0), dpi=90, layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for ax, outcome in zip(axes, BAND_OUTCOMES, strict=True):
        band = comparison.bands[comparison.bands["outcome"] == outcome].sort_values("year")
        scale = 100.0 if outcome in PERCENT_OUTCOMES else 1.0
        years = band["year"].to_numpy()
        ax.axhline(0, color="black", linewidth=0.8)
        ax.fill_between(
            years,
            scale * band["diff_ci_low"].to_numpy(dtype=float),
            scale * band["diff_ci_high"].to_numpy(dtype=float),
            alpha=0.25,
            color="tab:blue",
            label="95 % CI",
        )
        ax.plot(years, scale * band["diff_mean"], marker="o", color="tab:blue", label="mean")
        unit = " (percentage points)" if outcome in PERCENT_OUTCOMES else ""
        ax.set_title(f"{BAND_LABELS[outcome]}{unit}", fontsize=9)
        ax.set_xticks(years)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(
        f"Reform minus baseline per year ({len(comparison.seeds)} paired replications)",
        fontsize=10,
    )
    return fig


def comparison_price_year(comparison: Comparison) -> int:
    """The price year of a comparison's money (the ledger's when it does not say)."""
    return price_year() if comparison.price_year is None else int(comparison.price_year)


def costs_note(comparison: Comparison) -> str:
    """Under the table: the unit and price year of money, how costs split, what is left out
    ("" when the table has no money outcome)."""
    if not comparison.table["outcome"].isin(MONEY_OUTCOMES).any():
        return ""
    year = comparison_price_year(comparison)
    return (
        f"<p class='sfb-costs-note'><b>Costs and values</b> are in MNOK (million NOK) per year "
        f"at {year} prices (co-payments at the nominal rate of their year); the downloaded "
        f"table has them in NOK. {html.escape(COST_SPLIT_NOTE)}</p>"
        f"<p class='sfb-costs-note'>{html.escape(NOT_IN_LEDGER)}</p>"
    )


def shown_table(
    comparison: Comparison, table: pd.DataFrame, lead: tuple[str, ...] = (), note: bool = False
) -> pd.DataFrame:
    """A comparison.csv table as the page shows it: the outcome's meaning and unit, costs and
    values in MNOK with the price year in the unit column, shares in per cent, three
    significant digits, the columns named in words; ``lead``: the grouping's columns, first;
    ``note``: the ``note`` column (groups a reform cannot change), last."""
    year = comparison_price_year(comparison)
    table = in_mnok(table)
    # an empty 90 % interval that says the draws differ no more than noise explains (as the
    # CLI says); with a single draw, or no data in a group, it is simply not there
    posterior = comparison.uncertainty == "posterior"
    unresolved = within_noise(table) if posterior else pd.Series(False, index=table.index)

    def fmt(value: float, outcome: str, unit: str) -> str:
        if pd.isna(value):
            return "–"
        if outcome in PERCENT_OUTCOMES:
            return f"{100 * value:.1f} {unit}"
        return format_value(value)  # three significant digits: a return per krone is not 0.0

    numbers = ("baseline_mean", "reform_mean", "diff_mean", "diff_ci_low", "diff_ci_high")
    numbers += ("effect_p05", "effect_p95")
    for column in numbers:
        unit = "%" if column in ("baseline_mean", "reform_mean") else "pp"
        table[column] = [
            fmt(v, o, unit) for v, o in zip(table[column], table["outcome"], strict=True)
        ]
    table.loc[unresolved, "effect_p05"] = "within noise"
    table.loc[unresolved, "effect_p95"] = ""
    table["meaning"] = table["outcome"].map(OUTCOMES).fillna("")
    table["unit"] = [
        "% (differences: pp)" if name in PERCENT_OUTCOMES else shown_unit(name, year)
        for name in table["outcome"]
    ]
    shown = [*lead, "outcome", "meaning", "unit", "baseline_mean", "reform_mean", "diff_mean"]
    shown += ["diff_ci_low", "diff_ci_high"]
    if comparison.uncertainty == "posterior":
        one_draw = one_draw_note(comparison) is not None  # one draw agrees with itself
        table["sign"] = [
            "–" if pd.isna(share) or one_draw else ("robust" if share >= 0.9 else "flips")
            for share in table["same_sign_share"]
        ]
        shown += ["effect_p05", "effect_p95", "sign"]
    shown += ["reps", *(["note"] if note else [])]
    return table[shown].rename(
        columns={
            "diff_ci_low": "95 % CI low",
            "diff_ci_high": "95 % CI high",
            "diff_mean": "difference (reform − baseline)",
            "baseline_mean": "baseline (mean)",
            "reform_mean": "reform (mean)",
            "effect_p05": "90 % over posterior low",
            "effect_p95": "90 % over posterior high",
            **GROUP_COLUMN_WORDS,
        }
    )


def table_html(comparison: Comparison) -> str:
    """The comparison table as HTML (the same numbers as sfbsim compare's comparison.csv,
    costs and values in MNOK with the price year in the unit column)."""
    table = shown_table(comparison, comparison.table)
    return table.to_html(index=False, classes="sfb-compare-table", border=0)


BREAK_DOWN = {
    "none": "",
    "region": "region",
    "size class": "size_class",
    "county": "county",
    "region × size class": "region,size_class",
}
"""The Compare page's 'Break down by' choices → ``sfbsim compare --by``."""
GROUP_COLUMN_WORDS = {"region": "region", "size_class": "size class", "county": "county"}
BREAK_DOWN_NOTE = (
    "Each group's outcomes are computed from its municipalities' rows, as "
    "`sfbsim compare --by` does (experiments/groups.py): counts, costs and values summed; the "
    "median and 90th-percentile wait of the group's admitted families; the occupancy of the "
    "centres located in the group (none: –). note: outcomes exactly zero in every replication "
    "and levers that cannot act in a group. By municipality (357 groups) is too long for a "
    "page: run `sfbsim compare ... --by municipality`, or `sfbsim results DIR --by "
    "municipality` on a stored comparison (also named groups: --group NAME=1875,1804)."
)


def grouped_table_html(comparison: Comparison, by: str, outcomes: Sequence[str] = ()) -> str:
    """The groups' rows of the comparison broken down ``by`` as HTML (the national rows are
    the table above): the group's columns, then the national table's columns and the note;
    only the rows of ``outcomes`` (none given: every outcome)."""
    table = comparison.grouped(by).table
    table = table[table["scope"] != "national"]
    if outcomes:
        table = table[table["outcome"].isin(list(outcomes))]
    lead = tuple(c for c in by.split(",") if c)
    shown = shown_table(comparison, table, lead, note=True)
    classes = f"sfb-compare-table sfb-grouped-table sfb-grouped-{len(lead)}"
    return shown.to_html(index=False, classes=classes, border=0)


def one_draw_note(comparison: Comparison) -> str | None:
    """Over the posterior, 2 replications are one draw: the intervals are empty (why)."""
    few = too_few_draws(comparison.uncertainty, len(comparison.seeds))
    if few is None:
        return None
    return few.replace("(or --uncertainty fixed,", "(or the 'fixed' uncertainty,")


def grouped_outcome_names(comparison: Comparison, by: str) -> list[str]:
    """The outcomes of the groups' rows of the comparison broken down ``by``, in its table's
    order (the national rows, the table above, have more)."""
    table = comparison.grouped(by).table
    return list(dict.fromkeys(table.loc[table["scope"] != "national", "outcome"]))


PATHWAY_OUTCOMES = {
    "admissions": "Admissions per year",
    "bed_days": "Bed-days per year (children × days in residential stays)",
}
PATHWAY_NOTE = (
    "Reform minus baseline per year, split by the pathway that produced it "
    "(docs/experiments.md, experiments/pathways.py): in every replication the parts add up to "
    "the measured total. share: the part's share of the total effect."
)


def pathway_caption(comparison: Comparison) -> str:
    """What the effect by pathway is and what its intervals cover."""
    extra = ""
    if comparison.uncertainty == "posterior":
        extra = (
            " For the pathways only the 95 % CI is given (over the draws' means), not the "
            "interval over the posterior."
        )
    return f"{PATHWAY_NOTE} {interval_caption(comparison)}{extra}"


def pathway_table_html(comparison: Comparison) -> str:
    """The effect by pathway as HTML (the numbers of ``sfbsim compare --pathways``'s
    pathways.csv); the total first, then its parts."""
    assert comparison.pathways is not None
    table = comparison.pathways.copy()
    table["order"] = (table["pathway"] != "total").astype(int)
    table = table.sort_values(["outcome", "order"], kind="stable")

    def fmt(value: float) -> str:
        return "–" if pd.isna(value) else format_value(value)

    shown = pd.DataFrame(
        {
            "outcome": table["outcome"],
            "pathway": table["pathway"],
            "meaning": table["meaning"],
            "effect (reform − baseline)": table["effect_mean"].map(fmt),
            "95 % CI low": table["effect_ci_low"].map(fmt),
            "95 % CI high": table["effect_ci_high"].map(fmt),
            "share of total": table["share_of_total"].map(
                lambda v: "–" if pd.isna(v) else f"{v:.0%}"
            ),
            "reps": table["reps"],
        }
    )
    return shown.to_html(index=False, classes="sfb-compare-table sfb-pathway-table", border=0)


def pathway_figure(comparison: Comparison) -> Figure:
    """Horizontal bars: each pathway's part of the effect (with its 95 % CI), and the total."""
    assert comparison.pathways is not None
    fig = Figure(figsize=(7.5, 5.2), dpi=90, layout="constrained")
    axes = fig.subplots(2, 1)
    for ax, (outcome, title) in zip(axes, PATHWAY_OUTCOMES.items(), strict=True):
        rows = comparison.pathways[comparison.pathways["outcome"] == outcome]
        rows = pd.concat([rows[rows["pathway"] != "total"], rows[rows["pathway"] == "total"]])
        rows = rows.iloc[::-1]  # the total at the top
        mean = rows["effect_mean"].to_numpy(dtype=float)
        low = rows["effect_ci_low"].to_numpy(dtype=float)
        high = rows["effect_ci_high"].to_numpy(dtype=float)
        errors = [(mean - low), (high - mean)]
        colours = ["tab:grey" if p == "total" else "tab:blue" for p in rows["pathway"]]
        ax.barh(rows["pathway"], mean, xerr=errors, color=colours, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("Effect by pathway (reform − baseline; bars: 95 % CI)", fontsize=10)
    return fig


SIDEBAR_STYLE = """
/* Solara's drawer takes its width from its content when the page loads (400 px) and does not
   move the page when content grows later: a fixed width keeps the panel off the page. */
.sfb-compare-controls { width: 360px; max-width: 360px; min-width: 0; overflow-wrap: anywhere; }
.sfb-compare-controls .v-select__selections, .sfb-compare-controls .v-file-input__text {
  min-width: 0; overflow: hidden; }
.sfb-compare-controls .v-select__selection, .sfb-compare-controls .v-chip {
  max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.sfb-upload, .sfb-upload .v-input { min-width: 0; max-width: 100%; }
.sfb-upload .v-input__control, .sfb-upload .v-text-field__slot { min-width: 0; flex: 1 1 0; }
.sfb-upload .v-chip__content { overflow: hidden; text-overflow: ellipsis; display: block; }
"""
"""Long names (an uploaded file's) never widen the side panel over the page."""

TABLE_STYLE = """
.sfb-compare-table { border-collapse: collapse; font-size: 13px; }
.sfb-compare-table th, .sfb-compare-table td { padding: 2px 8px; text-align: right; }
.sfb-compare-table th:first-child, .sfb-compare-table td:first-child { text-align: left; }
.sfb-compare-table td:nth-child(2), .sfb-compare-table td:nth-child(3) { text-align: left; }
.sfb-costs-note { font-size: 13px; color: #444; max-width: 900px; }
.sfb-grouped-table th { text-align: left; }
.sfb-grouped-1 td:nth-child(-n+4), .sfb-grouped-2 td:nth-child(-n+5) { text-align: left; }
.sfb-grouped-table td { white-space: nowrap; }
.sfb-grouped-1 td:nth-child(3), .sfb-grouped-2 td:nth-child(4) {
  white-space: normal; min-width: 220px; }
.sfb-grouped-table td:last-child {
  text-align: left; white-space: normal; min-width: 260px; font-size: 12px; }
.sfb-grouped-scroll { max-height: 640px; overflow: auto; }
.sfb-grouped-scroll thead th { position: sticky; top: 0; background: white; }
"""

# --- per-session state ---------------------------------------------------------------------
baseline_choice = solara.reactive("baseline")
reform_choice = solara.reactive(CURRENT_LEVERS)
replications = solara.reactive(5)
years = solara.reactive(3)
first_seed = solara.reactive("1")
uncertainty_choice = solara.reactive("posterior")
split_by_pathway = solara.reactive(False)
break_down_by = solara.reactive("none")
grouped_outcomes: solara.Reactive[list[str]] = solara.reactive([])
"""The outcomes the grouped table shows (none chosen: every outcome)."""
"""The Compare page's 'Break down by' choice (BREAK_DOWN); computed after the run, no rerun."""
"""Trace the replications and split the effect by pathway (about 2x slower)."""
message = solara.reactive("")
uploaded_scenarios: solara.Reactive[dict[str, Scenario]] = solara.reactive({})
"""Scenario files uploaded in this session, by choice label (``uploaded: FILENAME``)."""
upload_message = solara.reactive("")
upload_error = solara.reactive("")


@solara.lab.task(prefer_threaded=True)
def comparison_task(
    baseline: str,
    reform: str,
    k: int,
    n_years: int,
    seed: str,
    levers: dict,
    mode: str,
    uploaded: dict | None = None,
    pathways: bool = False,
) -> Comparison | None:
    """Runs in a thread; reports progress; a bad choice becomes a message."""
    message.set("")

    def progress(done: int, total: int) -> None:
        comparison_task.progress = 100.0 * done / total

    comparison_task.progress = 0.0
    try:
        return compare(
            baseline, reform, k, n_years, seed, levers, progress, mode, uploaded, pathways
        )
    except LeverError as error:
        message.set("; ".join(error.messages))
    except (ValueError, KeyError) as error:
        message.set(f"The comparison could not run: {error}")
    return None


def accept_upload(filename: str, size: int, read) -> None:
    """Validate an uploaded scenario file and offer it as a choice (and pick it as the reform);
    anything wrong becomes a message, never a traceback. ``read()`` gives the file's bytes."""
    upload_message.set("")
    upload_error.set("")
    shown = str(filename or "upload").replace("/", "_").replace("\\", "_")
    if len(shown) > 60:
        shown = shown[:28] + "…" + shown[-28:]
    try:
        if size > MAX_SCENARIO_BYTES:
            raise LeverError([f"{shown}: is larger than {MAX_SCENARIO_BYTES:,} bytes"])
        scenario = uploaded_scenario(shown, read())
    except LeverError as error:
        upload_error.set("The file cannot be used: " + "; ".join(error.messages))
        return
    except Exception as error:  # noqa: BLE001 - shown to the user, never a traceback
        upload_error.set(f"The file could not be read: {type(error).__name__}: {error}")
        return
    label = UPLOADED + shown
    uploaded_scenarios.set({**uploaded_scenarios.value, label: scenario})
    reform_choice.set(label)
    upload_message.set(
        f"Loaded '{scenario.name}' (starts in {scenario.run.start_year}; the comparison runs "
        f"the years set here): it is now the reform; choose '{label}' as the baseline or the "
        "reform above."
    )


class ScenarioFileInput(FileInput):
    """ipyvuetify's file input (a file picker; also takes a dropped file), labelled, for one
    .toml file."""

    template = traitlets.Unicode(
        load_template("file_input.vue")
        .replace(
            "<v-file-input",
            '<v-file-input label="Upload a scenario file (.toml)" class="sfb-upload-input"',
        )
        .replace("modules.export =", "module.exports =")
    ).tag(sync=True)


@solara.component
def ScenarioUpload():
    """Upload a scenario TOML file: it becomes a choice of baseline or reform.

    The picker is ipyvuetify's FileInput, read as solara's FileDrop reads it
    (solara/components/file_drop.py): the browser sends the file's name and size, then Python
    reads the bytes in a thread."""
    picker = solara.use_memo(
        lambda: ScenarioFileInput(multiple=False, accept=".toml", show_progress=False), []
    )
    files, set_files = solara.use_state(None)

    def watch():
        def changed(change) -> None:
            if change["new"]:
                set_files(picker.get_files())

        picker.observe(changed, "file_info")

        def cleanup() -> None:
            picker.unobserve(changed, "file_info")
            picker.close()

        return cleanup

    solara.use_effect(watch, [])

    def handle(cancel) -> None:  # noqa: ARG001 - use_thread's signature
        if not files:
            return
        info = files[0]
        accept_upload(info["name"], int(info["size"]), info["file_obj"].read)

    solara.use_thread(handle, [files])
    with solara.Column(gap="4px", classes=["sfb-upload"], children=[picker]) as main:
        if upload_error.value:
            solara.Error(upload_error.value, classes=["sfb-upload-error"])
        elif upload_message.value:
            solara.Success(upload_message.value, classes=["sfb-upload-ok"])
    return main


@solara.component
def CompareControls():
    choices = scenario_choices(uploaded_scenarios.value)
    solara.Style(SIDEBAR_STYLE)
    with solara.Card("Scenarios", classes=["sfb-compare-controls"]), solara.Column(gap="8px"):
        solara.Select("Baseline", value=baseline_choice, values=choices)
        solara.Select("Reform", value=reform_choice, values=choices)
        # labels above the tracks (a label beside a track squeezes it), with value and unit
        with solara.Column(gap="0px", classes=["sfb-lever", "sfb-lever-replications"]):
            solara.Text(f"Replications: {replications.value} paired seeds")
            solara.SliderInt("", value=replications, min=2, max=20, thumb_label=False)
        with solara.Column(gap="0px", classes=["sfb-lever", "sfb-lever-years"]):
            solara.Text(f"Run length: {years.value} year{'' if years.value == 1 else 's'}")
            solara.SliderInt("", value=years, min=1, max=10, thumb_label=False)
        solara.InputText("First seed", value=first_seed)
        solara.ToggleButtonsSingle(
            value=uncertainty_choice,
            values=list(UNCERTAINTY_CHOICES),
            classes=["sfb-uncertainty"],
        )
        solara.Text(f"Intervals cover: {UNCERTAINTY_LABELS[uncertainty_choice.value]}.")
        solara.Checkbox(label="Split by pathway", value=split_by_pathway)
        solara.Text(
            "Splits the effect on admissions and bed-days by pathway (sfbsim compare "
            "--pathways); traces every run, about 2× slower."
        )
        solara.Text(
            f"'{CURRENT_LEVERS}' uses the levers of the Explore page's last Reset on top of "
            "the baseline file."
        )
        ScenarioUpload()

        def run() -> None:
            comparison_task(
                baseline_choice.value,
                reform_choice.value,
                replications.value,
                years.value,
                first_seed.value,
                dict(explore_run.value.settings),
                uncertainty_choice.value,
                dict(uploaded_scenarios.value),
                split_by_pathway.value,
            )

        solara.Button(
            "Run comparison",
            color="primary",
            on_click=run,
            disabled=comparison_task.pending,
            classes=["sfb-run-compare"],
        )
        if comparison_task.pending:
            solara.ProgressLinear(comparison_task.progress or True)
            arms = 1 if baseline_choice.value == reform_choice.value else 2
            solara.Text(f"Running {arms * replications.value} simulations …")


@solara.component
def PathwayResults(comparison: Comparison):
    """The effect by pathway: what it is, the bars, the table, the CSV."""
    with solara.Column(classes=["sfb-pathways"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Effect by pathway")
        solara.HTML(
            tag="p",
            unsafe_innerHTML=html.escape(pathway_caption(comparison)),
            classes=["sfb-pathway-caption"],
        )
        Figure_(pathway_figure, comparison)
        solara.HTML(tag="div", unsafe_innerHTML=pathway_table_html(comparison))
        solara.FileDownload(
            comparison.pathways_csv(),
            filename="sfbsim-pathways.csv",
            label="Download pathways (CSV)",
        )


@solara.component
def GroupedResults(comparison: Comparison):
    """'Break down by': the comparison by region, size class, county or region × size class,
    computed from the replications' rows per municipality (no rerun), with its CSV."""
    with solara.Column(classes=["sfb-grouped"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Break down by")
        solara.ToggleButtonsSingle(
            value=break_down_by, values=list(BREAK_DOWN), classes=["sfb-break-down"]
        )
        by = BREAK_DOWN.get(break_down_by.value, "")
        if not by:
            solara.Text(
                "Pick a grouping to see the comparison for each group (as sfbsim compare "
                "--by). By municipality: sfbsim compare --by municipality (too long for a page)."
            )
            return
        try:
            grouped = comparison.grouped(by)
        except (LeverError, ExperimentError) as error:
            solara.Error(f"The comparison cannot be broken down by {break_down_by.value}: {error}")
            return
        solara.HTML(
            tag="p",
            unsafe_innerHTML=html.escape(
                f"{BREAK_DOWN_NOTE} Costs and values as in the table above (MNOK per year at "
                f"{comparison_price_year(comparison)} prices; NOK in the CSV)."
            ),
            classes=["sfb-costs-note", "sfb-grouped-caption"],
        )
        for text in grouped.notes:
            solara.HTML(tag="p", unsafe_innerHTML=html.escape(text), classes=["sfb-costs-note"])
        outcomes = grouped_outcome_names(comparison, by)
        chosen = [o for o in grouped_outcomes.value if o in outcomes]
        solara.SelectMultiple(
            "Outcomes shown (none chosen: all)",
            values=grouped_outcomes,
            all_values=outcomes,
            dense=True,
            classes=["sfb-grouped-outcomes"],
        )
        solara.Text(
            f"{len(chosen) or len(outcomes)} of {len(outcomes)} outcomes shown; the download "
            "has every outcome.",
            classes=["sfb-grouped-count"],
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=grouped_table_html(comparison, by, chosen),
            classes=["sfb-grouped-scroll"],
        )
        slug = by.replace(",", "-").replace("_", "-")
        solara.FileDownload(
            comparison.grouped_csv(by),
            filename=f"sfbsim-comparison-by-{slug}.csv",
            label=f"Download table by {break_down_by.value} (CSV)",
        )


@solara.component
def CompareResults(comparison: Comparison):
    with solara.Column(classes=["sfb-compare-results"]):
        solara.HTML(
            tag="p",
            unsafe_innerHTML=(
                f"<b>{html.escape(comparison.reform)}</b> compared with "
                f"<b>{html.escape(comparison.baseline)}</b>: {len(comparison.seeds)} paired "
                f"replications (seeds {comparison.seeds[0]}–{comparison.seeds[-1]}), "
                f"{comparison.years} year{'' if comparison.years == 1 else 's'} each. "
                "Differences are reform minus baseline. "
                + html.escape(interval_caption(comparison))
            ),
        )
        few = one_draw_note(comparison)
        if few:
            solara.Warning(few, classes=["sfb-one-draw"])
        Figure_(bands_figure, comparison)
        solara.Style(TABLE_STYLE)
        solara.HTML(tag="div", unsafe_innerHTML=table_html(comparison))
        note = costs_note(comparison)
        if note:
            solara.HTML(tag="div", unsafe_innerHTML=note, classes=["sfb-costs"])
        GroupedResults(comparison)
        if comparison.pathways is not None:
            PathwayResults(comparison)
        with solara.Row():
            solara.FileDownload(
                comparison.results_csv(),
                filename="sfbsim-comparison-runs.csv",
                label="Download runs (CSV)",
            )
            solara.FileDownload(
                comparison.table_csv(),
                filename="sfbsim-comparison-table.csv",
                label="Download table (CSV)",
            )


@solara.component
def ComparePage():
    solara.Title("sfbsim · Compare")
    with solara.Sidebar():
        CompareControls()
    with solara.Column(style={"padding": "12px"}):
        solara.HTML(tag="h2", unsafe_innerHTML="Compare a baseline and a reform")
        if message.value:
            solara.Error(message.value, classes=["sfb-error"])
        if comparison_task.error:
            solara.Error(f"The comparison failed: {comparison_task.exception}")
        result = comparison_task.value if comparison_task.finished else None
        if result is None and comparison_task.pending:
            result = comparison_task.latest
        if result is not None:
            CompareResults(result)
        elif not comparison_task.pending and not message.value:
            solara.Info("Choose two scenarios and press 'Run comparison'.")
