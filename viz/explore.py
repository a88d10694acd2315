"""Explore page: Mesa's run controls around one live national run per browser session.

Mesa's ModelController (the Reset, ▶ and Step buttons of SolaraViz, without SolaraViz's
developer controls) re-creates its model as ``type(model)(**levers)`` on Reset, so the model it
holds is an ``ExploreRun``: it takes the side panel's lever values, validates them (a bad value
becomes a message, never an exception), builds the SfbModel the levers describe and steps it one
day at a time, keeping a small daily history for the charts.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import solara  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402
from solara.toestand import KernelStoreFactory  # noqa: E402

from sfbsim.experiments.explain import (  # noqa: E402
    GAPS_NOTE,
    GAPS_TITLE,
    NO_GAPS_NOTE,
    REACH,
    TERM_WORDS,
    MunicipalityExplanation,
    explain_trail,
)
from sfbsim.experiments.runner import build_model  # noqa: E402
from sfbsim.model.model import SfbModel  # noqa: E402
from sfbsim.model.outputs import DAILY_COLUMNS, METRIC_INDEX  # noqa: E402
from sfbsim.viz import geography  # noqa: E402
from sfbsim.viz.levers import (  # noqa: E402
    DEFAULTS,
    NO_NEW_CENTRE,
    WEEKEND_CHOICES,
    LeverError,
    bundled_data,
    lever_scenario,
    levers_toml,
    municipality_choices,
)

HISTORY = (
    "day",
    "admissions",
    "intake_refusals",
    "consent_refusals",
    "occupancy",
    "waiting",
    "wait_p50",
)
"""Columns of the daily history an ExploreRun keeps (cumulative counts; state of the day)."""

MAP_COLOURS = {
    "referrals / 1,000 children": "referrals",
    "consent refusals / 1,000": "consent_refusals",
}


class ExploreRun:
    """One session's run: lever values in, a stepping SfbModel (or a message) out.

    Duck-typed for Mesa's ModelController: ``step()``, ``running`` and ``time``.
    """

    def __init__(
        self,
        weekend_policy: str = DEFAULTS["weekend_policy"],
        copay_multiplier: float = DEFAULTS["copay_multiplier"],
        units_multiplier: float = DEFAULTS["units_multiplier"],
        intake_meeting_days: str = DEFAULTS["intake_meeting_days"],
        duty_to_assist: bool = DEFAULTS["duty_to_assist"],
        information_campaign: float = DEFAULTS["information_campaign"],
        new_centre: str = DEFAULTS["new_centre"],
        seed: str | int = DEFAULTS["seed"],
        years: int = DEFAULTS["years"],
    ) -> None:
        self.settings: dict[str, Any] = {
            "weekend_policy": weekend_policy,
            "copay_multiplier": copay_multiplier,
            "units_multiplier": units_multiplier,
            "intake_meeting_days": intake_meeting_days,
            "duty_to_assist": duty_to_assist,
            "information_campaign": information_campaign,
            "new_centre": new_centre,
            "seed": seed,
            "years": years,
        }
        self.model: SfbModel | None = None
        self.error: str | None = None
        self.running = False
        self.history: list[tuple[float, ...]] = []
        self._waits_seen = 0
        self._recent_waits: list[tuple[int, int]] = []
        try:
            self.run_scenario = lever_scenario(self.settings)
            # traced, so a click on the map can explain a municipality's cases so far
            self.model = build_model(self.run_scenario, bundled_data(), trace=True)
        except LeverError as error:
            self.error = "; ".join(error.messages)
        except (ValueError, KeyError) as error:
            self.error = f"These levers cannot be run: {error}"
        else:
            self.running = True
            self._record()

    # --- what Mesa's controller uses -------------------------------------------------------
    @property
    def time(self) -> int:
        """Days simulated so far."""
        return self.day

    def step(self) -> None:
        """One simulated day (a model error becomes a message and stops the run)."""
        if self.model is None or not self.running:
            self.running = False
            return
        try:
            self.model.step()
        except Exception as error:  # noqa: BLE001 - shown to the user, never a traceback
            self.error = f"The run stopped: {type(error).__name__}: {error}"
            self.running = False
            return
        self.running = bool(self.model.running) and self.day < self.model.calendar.n_days
        self._record()

    # --- state for the components ---------------------------------------------------------
    @property
    def day(self) -> int:
        """The last simulated day (0 before the first step)."""
        if self.model is None:
            return 0
        return min(max(int(self.model.time), 0), self.model.calendar.n_days)

    @property
    def date(self) -> dt.date | None:
        if self.model is None or self.day < 1:
            return None
        return pd.Timestamp(self.model.calendar.dates[self.day]).date()

    def _record(self) -> None:
        model = self.model
        assert model is not None
        day = self.day
        totals = model.recorder.counts.sum(axis=(0, 1))
        row = model.recorder.day_row(day)
        units = row[DAILY_COLUMNS.index("residential_units")]
        occupied = row[DAILY_COLUMNS.index("residential_units_occupied")]
        waits = model.recorder.waits
        for record in waits[self._waits_seen :]:
            self._recent_waits.append((day, int(record[3])))
        self._waits_seen = len(waits)
        self._recent_waits = [(d, w) for d, w in self._recent_waits if d > day - 90]
        wait_p50 = (
            float(np.median([w for _, w in self._recent_waits])) if self._recent_waits else np.nan
        )
        self.history.append(
            (
                day,
                totals[METRIC_INDEX["admissions"]],
                totals[METRIC_INDEX["intake_refusals"]],
                totals[METRIC_INDEX["consent_refusals"]],
                occupied / units if units else np.nan,
                row[DAILY_COLUMNS.index("waiting")],
                wait_p50,
            )
        )

    def history_frame(self) -> pd.DataFrame:
        """The daily history, one row per simulated day."""
        return pd.DataFrame(self.history, columns=list(HISTORY)).drop_duplicates("day", keep="last")

    def municipality_frame(self) -> pd.DataFrame:
        """Per municipality so far: children, referrals and consent refusals (also per 1,000)."""
        municipalities = bundled_data().municipalities
        frame = municipalities[
            ["kommunenummer", "name", "region", "lat", "lon", "children_0_5_2024"]
        ].copy()
        if self.model is None:
            counts = np.zeros((len(frame), len(METRIC_INDEX)))
        else:
            counts = self.model.recorder.counts.sum(axis=0)
        frame["cases"] = counts[:, METRIC_INDEX["cases"]]
        frame["referrals"] = (
            counts[:, METRIC_INDEX["referrals_residential"]]
            + counts[:, METRIC_INDEX["referrals_home"]]
        )
        frame["admissions"] = counts[:, METRIC_INDEX["admissions"]]
        frame["intake_refusals"] = counts[:, METRIC_INDEX["intake_refusals"]]
        frame["consent_refusals"] = counts[:, METRIC_INDEX["consent_refusals"]]
        children = frame["children_0_5_2024"].clip(lower=1)
        for column in ("referrals", "consent_refusals"):
            frame[f"{column}_per_1000"] = 1000 * frame[column] / children
        return frame

    def explanation(self, municipality: str) -> MunicipalityExplanation | None:
        """A municipality's cases so far and why, from the run's decision trail: the same
        explanation as ``sfbsim explain RUN_DIR -m K`` (experiments.explain.explain_trail)."""
        model = self.model
        if model is None or model.trail is None:
            return None
        return explain_trail(
            model.trail.table(),
            model.recorder.family_table(so_far=True),
            bundled_data().municipalities,
            self.run_scenario.run.start_year,
            municipality,
        )

    def centre_frame(self) -> pd.DataFrame:
        """Per centre now: where, residential units and occupancy today."""
        columns = ["centre_id", "name", "region", "lat", "lon", "units", "residents", "occupancy"]
        model = self.model
        if model is None:
            return pd.DataFrame(columns=columns)
        rows = getattr(model, "centre_rows", model.data.centres)
        units_now = getattr(model, "units_now", None)
        records = []
        for centre in model.centres:
            row = rows.iloc[centre.index]
            units = int(units_now[centre.index]) if units_now is not None else 0
            units = units or int(centre.residential_units)
            residents = int(model.residents[centre.index])
            records.append(
                (
                    centre.centre_id,
                    row["name"],
                    row["region"],
                    float(row["lat"]),
                    float(row["lon"]),
                    units,
                    residents,
                    residents / units if units else np.nan,
                )
            )
        return pd.DataFrame(records, columns=columns)

    def region_frame(self) -> pd.DataFrame:
        """The table per region so far."""
        mun = self.municipality_frame()
        table = mun.groupby("region", sort=True)[
            [
                "children_0_5_2024",
                "cases",
                "referrals",
                "admissions",
                "intake_refusals",
                "consent_refusals",
            ]
        ].sum()
        table["referrals per 1,000"] = 1000 * table["referrals"] / table["children_0_5_2024"]
        centres = self.centre_frame()
        if len(centres):
            occupancy = centres.groupby("region")[["residents", "units"]].sum()
            table["occupancy today"] = occupancy["residents"] / occupancy["units"].where(
                occupancy["units"] > 0
            )
        else:
            table["occupancy today"] = np.nan
        table = table.rename(
            columns={
                "children_0_5_2024": "children 0-5",
                "intake_refusals": "intake refusals",
                "consent_refusals": "consent refusals",
            }
        )
        table.loc["Norway"] = table.sum(numeric_only=True)
        total = table.loc["Norway"]
        table.loc["Norway", "referrals per 1,000"] = (
            1000 * total["referrals"] / total["children 0-5"]
        )
        if len(centres) and centres["units"].sum() > 0:
            table.loc["Norway", "occupancy today"] = (
                centres["residents"].sum() / centres["units"].sum()
            )
        else:
            table.loc["Norway", "occupancy today"] = np.nan
        return table.reset_index()


# --- per-session state ---------------------------------------------------------------------
explore_run: solara.Reactive[ExploreRun] = solara.Reactive(
    KernelStoreFactory(ExploreRun, key="sfbsim.viz.explore_run")
)
"""The session's run: created lazily for each browser session, never shared between them."""

map_colour = solara.reactive(next(iter(MAP_COLOURS)))
selected_municipality: solara.Reactive[str | None] = solara.reactive(None)
"""The municipality clicked on the map in this session (kommunenummer), or None."""
CASES_SHOWN = 3
"""How many case paths the explanation shows (``sfbsim explain --cases``)."""


def lever_inputs() -> dict[str, dict[str, Any]]:
    """The levers of the side panel: widget type, label, default and range; sliders also say
    how their value is shown (``format``) and in what ``unit`` (``lever_label``)."""
    return {
        "weekend_policy": {
            "type": "Select",
            "label": "Weekend policy",
            "value": DEFAULTS["weekend_policy"],
            "values": list(WEEKEND_CHOICES),
        },
        "copay_multiplier": {
            "type": "SliderFloat",
            "label": "Co-payment",
            "value": DEFAULTS["copay_multiplier"],
            "min": 0.0,
            "max": 3.0,
            "step": 0.1,
            "format": "×{:.1f}",
            "unit": "the Ministry's rates",
        },
        "units_multiplier": {
            "type": "SliderFloat",
            "label": "Residential units per centre",
            "value": DEFAULTS["units_multiplier"],
            "min": 0.0,
            "max": 3.0,
            "step": 0.1,
            "format": "×{:.1f}",
            "unit": "today's",
        },
        "intake_meeting_days": {
            "type": "InputText",
            "label": "Intake meeting days (mon-fri, comma-separated)",
            "value": DEFAULTS["intake_meeting_days"],
        },
        "duty_to_assist": {
            "type": "Checkbox",
            "label": "Duty to assist (Bufetat queues families instead of refusing them)",
            "value": DEFAULTS["duty_to_assist"],
        },
        "information_campaign": {
            "type": "SliderFloat",
            "label": "Information campaign",
            "value": DEFAULTS["information_campaign"],
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "format": "{:.0%}",
            "unit": "of the familiarity gap closed",
        },
        "new_centre": {
            "type": "Select",
            "label": "New centre in municipality",
            "value": NO_NEW_CENTRE,
            "values": [NO_NEW_CENTRE, *municipality_choices()],
        },
        "seed": {"type": "InputText", "label": "Seed", "value": DEFAULTS["seed"]},
        "years": {
            "type": "SliderInt",
            "label": "Run length",
            "value": DEFAULTS["years"],
            "min": 1,
            "max": 10,
            "step": 1,
            "format": "{:d}",
            "unit": "years",
            "unit_one": "year",
        },
    }


def lever_label(spec: dict[str, Any], value: Any) -> str:
    """A slider's label with its value and unit, e.g. 'Co-payment: ×0.5 the Ministry's rates'."""
    number = int(value) if spec["type"] == "SliderInt" else float(value)
    unit = spec.get("unit_one", spec["unit"]) if number == 1 else spec["unit"]
    return f"{spec['label']}: {spec['format'].format(number)} {unit}"


# --- figures (plain functions: testable without a browser) ---------------------------------
def map_figure(run: ExploreRun, colour: str = "referrals", selected: str | None = None) -> Figure:
    """Norway: one area per municipality coloured by ``colour`` (per 1,000 children 0-5 so far);
    centres as squares coloured by occupancy; the ``selected`` municipality (kommunenummer)
    outlined in red. The areas are cells around each municipality's travel point clipped to
    Natural Earth's outline of Norway, not boundaries (viz/geography.py); nothing is fetched
    from outside."""
    mun = run.municipality_frame()
    centres = run.centre_frame()
    fig = Figure(figsize=(5.2, 6.6), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    values = mun[f"{colour}_per_1000"].to_numpy(dtype=float)
    label = next(k for k, v in MAP_COLOURS.items() if v == colour) + " (so far)"
    paths = geography.cell_paths(tuple(mun["lon"]), tuple(mun["lat"]))
    areas = PathCollection(
        list(paths),
        array=values,
        cmap="viridis",
        edgecolors="white",
        linewidths=0.2,
    )
    top = float(np.nanpercentile(values, 95)) if len(values) else 0.0
    areas.set_clim(0, top if top > 0 else 1.0)  # nothing yet: a scale of 0-1, not 0-1e-9
    areas.set_gid("sfb-municipality-areas")
    ax.add_collection(areas)
    fig.colorbar(areas, ax=ax, label=label, shrink=0.6, location="bottom", pad=0.02)
    chosen = np.flatnonzero(mun["kommunenummer"].astype(str).to_numpy() == str(selected))
    if len(chosen):
        outline = PathCollection(
            [paths[int(chosen[0])]], facecolors="none", edgecolors="red", linewidths=1.6
        )
        outline.set_gid("sfb-selected-municipality")
        ax.add_collection(outline)
    if len(centres):
        occupancy = centres["occupancy"].fillna(0).clip(0, 1)
        marks = ax.scatter(
            centres["lon"],
            centres["lat"],
            s=70,
            marker="s",
            c=occupancy,
            cmap="Reds",
            vmin=0,
            vmax=1,
            edgecolors="black",
            linewidths=0.8,
        )
        fig.colorbar(marks, ax=ax, label="centre occupancy today", shrink=0.6, pad=0.01)
        new = centres[centres["centre_id"].str.startswith("new_")]
        if len(new):
            ax.scatter(new["lon"], new["lat"], s=220, marker="*", c="gold", edgecolors="black")
    ax.set_aspect(1 / geography.X_SCALE)
    ax.set_xlim(3.5, 31.5)
    ax.set_ylim(57.7, 71.4)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        "Municipalities (cells around travel points, not boundaries) and centres (squares)",
        fontsize=8,
    )
    return fig


def map_png(fig: Figure) -> str:
    """The map as a PNG data URL, drawn at the figure's own size (so a click's position on
    the picture maps back to longitude and latitude: ``municipality_at``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def map_position(fig: Figure, lon: float, lat: float) -> tuple[float, float]:
    """Where a point is on the drawn map, as shares of the picture's width and height (from
    its top left corner). The figure must have been drawn (``map_png``)."""
    x, y = fig.axes[0].transData.transform((lon, lat))
    return float(x / fig.bbox.width), float(1 - y / fig.bbox.height)


def municipality_at(fig: Figure, run: ExploreRun, x: float, y: float) -> str | None:
    """The municipality (kommunenummer) whose area is at ``x``, ``y`` on the drawn map
    (shares of the picture's width and height from its top left corner): the cell that holds
    the point, else the nearest cell within 0.15° (a click on the coast); None at sea or
    outside the map."""
    import shapely

    lon, lat = (
        fig.axes[0].transData.inverted().transform((x * fig.bbox.width, (1 - y) * fig.bbox.height))
    )
    mun = run.municipality_frame()
    areas = geography.cells(tuple(mun["lon"]), tuple(mun["lat"]))
    point = shapely.Point(lon, lat)
    distances = np.array([area.distance(point) for area in areas])
    nearest = int(np.argmin(distances))
    if distances[nearest] > 0.15:
        return None
    return str(mun["kommunenummer"].iloc[nearest])


def charts_figure(run: ExploreRun) -> Figure:
    """Admissions, occupancy, waits and refusals over the days simulated so far."""
    history = run.history_frame()
    fig = Figure(figsize=(6.4, 5.4), dpi=90, layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    days = history["day"].to_numpy(dtype=float)
    start = run.model.calendar.dates[1] if run.model is not None else None
    x = pd.to_datetime(start) + pd.to_timedelta(days - 1, unit="D") if start is not None else days

    def per_30_days(column: str) -> np.ndarray:
        cumulative = history[column].to_numpy(dtype=float)
        if not len(days):
            return cumulative
        earlier = np.interp(days - 30, days, cumulative, left=0.0)
        return cumulative - earlier

    axes[0].plot(x, per_30_days("admissions"), color="tab:blue")
    axes[0].set_title("Admissions (last 30 days)", fontsize=9)
    axes[1].plot(x, 100 * history["occupancy"], color="tab:red")
    axes[1].set_title("Residential occupancy today (%)", fontsize=9)
    axes[1].set_ylim(0, 105)
    axes[2].plot(x, history["wait_p50"], color="tab:purple", label="median wait, days")
    axes[2].plot(x, history["waiting"], color="tab:grey", label="families waiting")
    axes[2].set_title("Waits (admissions in last 90 days)", fontsize=9)
    axes[2].legend(fontsize=7, loc="upper left")
    axes[3].plot(x, per_30_days("intake_refusals"), label="intake refusals", color="tab:orange")
    axes[3].plot(x, per_30_days("consent_refusals"), label="consent refusals", color="tab:green")
    axes[3].set_title("Refusals (last 30 days)", fontsize=9)
    axes[3].legend(fontsize=7, loc="upper left")
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if run.model is not None:
        dates = run.model.calendar.dates
        for ax in axes:
            ax.set_xlim(pd.Timestamp(dates[1]), pd.Timestamp(dates[run.model.calendar.n_days]))
    fig.autofmt_xdate()
    return fig


def region_table_html(run: ExploreRun) -> str:
    """The table per region as HTML."""
    table = run.region_frame()
    formats = {
        "referrals per 1,000": "{:.2f}".format,
        "occupancy today": lambda v: "–" if pd.isna(v) else f"{v:.0%}",
    }
    for column in table.columns:
        if column not in formats and column != "region":
            table[column] = table[column].map(lambda v: f"{int(v):,}")
    return table.to_html(
        index=False, classes="sfb-region-table", formatters=formats, border=0, na_rep="–"
    )


TABLE_STYLE = """
.sfb-region-table { border-collapse: collapse; font-size: 13px; }
.sfb-region-table th, .sfb-region-table td { padding: 2px 8px; text-align: right; }
.sfb-region-table th:first-child, .sfb-region-table td:first-child { text-align: left; }
.sfb-region-table tr:last-child { font-weight: bold; border-top: 1px solid #888; }
.sfb-explain-table { border-collapse: collapse; font-size: 13px; }
.sfb-explain-table caption { text-align: left; font-weight: bold; }
.sfb-explain-table th, .sfb-explain-table td { padding: 2px 8px; text-align: right; }
.sfb-explain-table th:first-child, .sfb-explain-table td:first-child,
.sfb-explain-table th:last-child, .sfb-explain-table td:last-child { text-align: left; }
.sfb-explain p, .sfb-explain li { font-size: 13px; margin: 2px 0; }
"""


def reason_words(name: str) -> str:
    """A leading reason in words (a utility term, or the missing home-based reach)."""
    if name == REACH:
        return "centre staff could not work at the families' homes (out of reach)"
    return f"{name}: {TERM_WORDS.get(name, name)}"


def explanation_html(explanation: MunicipalityExplanation, cases: int = CASES_SHOWN) -> str:
    """A municipality's explanation as HTML, as ``sfbsim explain RUN_DIR -m K`` prints it:
    the summary lines, the leading reasons, each term here and nationally, the first cases'
    paths."""
    e = html.escape
    parts = [f"<p class='sfb-explain-summary'>{e(line)}</p>" for line in explanation.summary]
    if explanation.leading:
        items = "".join(f"<li>{e(reason_words(name))}</li>" for name in explanation.leading)
        parts.append(f"<b>Leading reasons, strongest first</b><ol class='sfb-reasons'>{items}</ol>")
    if explanation.has_gaps:
        rows = "".join(
            f"<tr><td>{e(g.term)}</td><td>{g.here:+.2f}</td><td>{g.national:+.2f}</td>"
            f"<td>{e(g.meaning)}</td></tr>"
            for g in explanation.gaps
        )
        parts.append(
            f"<table class='sfb-explain-table'><caption>{e(GAPS_TITLE)}</caption>"
            "<tr><th>term</th><th>here</th><th>national</th><th>meaning</th></tr>"
            f"{rows}</table><p class='sfb-explain-note'>{e(GAPS_NOTE)}</p>"
        )
    elif explanation.cases:
        parts.append(f"<p class='sfb-explain-note'>{e(NO_GAPS_NOTE)}</p>")
    for story in explanation.cases[:cases]:
        steps = "".join(f"<li>{e(step)}</li>" for step in story.steps)
        outcome = f"<li>→ {e(story.outcome)}</li>" if story.outcome else ""
        parts.append(
            f"<div class='sfb-case'><b>family {story.family_id}</b> (arrived "
            f"{e(story.arrival_date)}):<ul>{steps}{outcome}</ul></div>"
        )
    if len(explanation.cases) > cases:
        parts.append(
            f"<p>{len(explanation.cases) - cases} more cases: "
            f"<code>sfbsim run --trace</code> and <code>sfbsim explain RUN_DIR -m "
            f"{e(explanation.kommunenummer)} --cases N</code> list them all.</p>"
        )
    return "".join(parts)


def lever_summary(settings: dict[str, Any]) -> str:
    """The levers of a run in one line."""
    parts = [
        f"weekend: {settings['weekend_policy']}",
        f"co-payment ×{float(settings['copay_multiplier']):.2f}",
        f"units ×{float(settings['units_multiplier']):.2f}",
        f"intake meetings: {settings['intake_meeting_days']}",
        f"duty to assist: {'yes' if settings['duty_to_assist'] else 'no'}",
        f"campaign: {float(settings['information_campaign']):.0%}",
        f"new centre: {settings['new_centre']}",
        f"seed {settings['seed']}",
    ]
    return " · ".join(parts)


# --- components ----------------------------------------------------------------------------
@solara.component
def RunStatus(run: ExploreRun, tick: int = 0):
    """Where the run is, and any message about the levers."""
    if run.error:
        solara.Error(run.error, classes=["sfb-error"])
        return
    date = run.date
    when = f"{date:%d %b %Y}" if date else "not started: press Step or ▶"
    years = run.run_scenario.run.years
    solara.Text(
        f"Day {run.day} of {run.model.calendar.n_days} ({years} years from "
        f"{run.run_scenario.run.start_year}) · {when}",
        classes=["sfb-status"],
    )
    solara.Text(f"Levers: {lever_summary(run.settings)}", classes=["sfb-levers"])


def Figure_(builder, *args) -> None:
    """A matplotlib figure, or a short message if it cannot be drawn (never a traceback)."""
    try:
        figure = builder(*args)
    except Exception as error:  # noqa: BLE001 - shown to the user instead of a traceback
        solara.Warning(f"This view cannot be drawn: {type(error).__name__}: {error}")
        return
    solara.FigureMatplotlib(figure, format="png")


@solara.component_vue("map_image.vue")
def MapImage(src: str, alt: str = "", event_pick: Callable[[dict], None] | None = None):
    """The map's picture; a click sends where it landed (shares of width and height)."""


@solara.component
def MapPicture(run: ExploreRun, colour: str, selected: str | None, tick: int = 0):
    """The map as a picture: a click on a municipality's area selects it."""
    try:
        fig = map_figure(run, colour, selected)
        src = map_png(fig)
    except Exception as error:  # noqa: BLE001 - shown to the user instead of a traceback
        solara.Warning(f"This view cannot be drawn: {type(error).__name__}: {error}")
        return

    def pick(where: dict) -> None:
        try:
            number = municipality_at(fig, run, float(where["x"]), float(where["y"]))
        except (KeyError, TypeError, ValueError):
            return
        if number is not None:
            selected_municipality.set(number)

    MapImage(src=src, alt="Map of municipalities and centres", event_pick=pick)


@solara.component
def MapView(run: ExploreRun, tick: int = 0):
    """The map, with the user's choice of colour; click a municipality to explain it."""
    with solara.Column(classes=["sfb-map"], style={"min-width": "420px", "flex": "1 1 420px"}):
        solara.ToggleButtonsSingle(
            value=map_colour,
            values=list(MAP_COLOURS),
            dense=True,
            style={"flex-wrap": "wrap", "max-width": "100%"},
            classes=["sfb-map-colour"],
        )
        MapPicture(run, MAP_COLOURS[map_colour.value], selected_municipality.value, tick)
        solara.Text(geography.CELLS_CAPTION + ".", classes=["sfb-map-caption"])


@solara.component
def ExplainView(run: ExploreRun, tick: int = 0):
    """The clicked municipality's cases so far and why (``sfbsim explain``), or a hint."""
    number = selected_municipality.value
    with solara.Column(classes=["sfb-explain"], style={"max-width": "1100px"}):
        if number is None:
            solara.Info(
                "Click a municipality on the map to see its cases so far and why they did or "
                "did not use the centres.",
                classes=["sfb-explain-hint"],
            )
            return
        try:
            explanation = run.explanation(number)
        except Exception as error:  # noqa: BLE001 - shown to the user instead of a traceback
            problem = f"{type(error).__name__}: {error}"
            solara.Warning(f"This municipality cannot be explained: {problem}")
            return
        if explanation is None:
            solara.Info("No run to explain: fix the levers and press Reset.")
            return
        when = f"day {run.day}" if run.day else "before the first step"
        with solara.Row(style={"align-items": "center"}):
            solara.HTML(
                tag="b",
                unsafe_innerHTML=html.escape(
                    f"Why: {explanation.name} ({explanation.kommunenummer}), so far ({when})"
                ),
                classes=["sfb-explain-title"],
            )
            solara.Button(
                "Clear", text=True, on_click=lambda: selected_municipality.set(None), small=True
            )
        solara.HTML(tag="div", unsafe_innerHTML=explanation_html(explanation))


@solara.component
def ChartsView(run: ExploreRun, tick: int = 0):
    """The charts over time."""
    with solara.Column(classes=["sfb-charts"], style={"min-width": "480px", "flex": "1 1 480px"}):
        Figure_(charts_figure, run)


@solara.component
def RegionTable(run: ExploreRun, tick: int = 0):
    """The table per region."""
    with solara.Column(classes=["sfb-region"]):
        solara.Style(TABLE_STYLE)
        solara.HTML(tag="b", unsafe_innerHTML="Per region, so far")
        try:
            table = region_table_html(run)
        except Exception as error:  # noqa: BLE001 - shown to the user instead of a traceback
            solara.Warning(f"The table cannot be drawn: {type(error).__name__}: {error}")
        else:
            solara.HTML(tag="div", unsafe_innerHTML=table)


@solara.component
def ExploreView():
    """The main view: status, map, charts and the table; redrawn whenever the run steps."""
    tick = update_counter.get()  # the run object stays the same: pass the tick to redraw
    run = explore_run.value
    with solara.Column(style={"padding": "8px"}, classes=["sfb-explore"]):
        RunStatus(run, tick)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            MapView(run, tick)
            ChartsView(run, tick)
        solara.Style(TABLE_STYLE)
        ExplainView(run, tick)
        RegionTable(run, tick)


lever_values: solara.Reactive[dict[str, Any]] = solara.reactive(
    {name: spec["value"] for name, spec in lever_inputs().items()}
)
"""The side panel's lever values in this session (Reset builds a run from them)."""

PANEL_STYLE = """
/* Solara's drawer takes its width from its content when the page loads (400 px) and does not
   move the page when content grows later: a fixed width keeps the panel off the page. */
.sfb-sidebar { width: 360px; max-width: 360px; min-width: 0; overflow-wrap: anywhere; }
.sfb-lever { width: 100%; }
.sfb-lever .v-input__slider, .sfb-lever .v-slider { min-width: 120px; width: 100%; }
.sfb-lever-label { font-size: 14px; color: rgba(0, 0, 0, 0.75); margin-top: 6px; }
"""


@solara.component
def LeverInput(name: str, spec: dict[str, Any]):
    """One lever. A slider's label sits above its track (so a long label never squeezes the
    track) and shows the value with its unit."""
    value = lever_values.value.get(name, spec["value"])

    def set_value(new: Any) -> None:
        lever_values.set({**lever_values.value, name: new})

    kind = spec["type"]
    with solara.Column(gap="0px", classes=["sfb-lever", f"sfb-lever-{name}"]):
        if kind in ("SliderFloat", "SliderInt"):
            solara.Text(lever_label(spec, value), classes=["sfb-lever-label"])
            slider = solara.SliderFloat if kind == "SliderFloat" else solara.SliderInt
            slider(
                "",
                value=value,
                on_value=set_value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                thumb_label=False,
            )
        elif kind == "Select":
            solara.Select(spec["label"], value=value, values=spec["values"], on_value=set_value)
        elif kind == "Checkbox":
            solara.Checkbox(label=spec["label"], value=bool(value), on_value=set_value)
        else:
            solara.InputText(spec["label"], value=str(value), on_value=set_value)


@solara.component
def SaveLevers():
    """Save the side panel's levers as a scenario file for `sfbsim run --scenario FILE`."""
    try:
        text, problem = levers_toml(lever_values.value), ""
    except LeverError as error:
        text, problem = "", "These levers cannot be saved: " + "; ".join(error.messages)
    with solara.Column(gap="4px", classes=["sfb-save-levers"]):
        if problem:
            solara.Warning(problem, classes=["sfb-save-error"])
            return
        solara.FileDownload(text, filename="sfbsim-levers.toml", label="Save levers (TOML)")
        solara.Text(
            "A reform of the baseline: run it with sfbsim run --scenario FILE, or upload it on "
            "the Compare page.",
            classes=["sfb-save-note"],
        )


@solara.component
def ExploreSidebar():
    """Run controls (Mesa's ModelController: Reset, ▶, Step) and the levers.

    Mesa's SolaraViz always draws its developer controls (play interval, render interval,
    threads) and has no option to hide them, so the page composes Mesa's own ModelController
    (mesa.visualization.solara_viz) with the app's lever panel instead: the controls are not
    hidden by CSS, they are never drawn. One Step is 31 simulated days; ▶ steps every 20 ms.
    """
    from mesa.visualization.solara_viz import ModelController

    # fixed settings (ModelController reads them as reactive values): 20 ms, 31 days, no threads
    play_interval = solara.use_reactive(20)
    render_interval = solara.use_reactive(31)
    use_threads = solara.use_reactive(False)
    with solara.Column(classes=["sfb-sidebar"]):
        solara.Style(PANEL_STYLE)
        with solara.Card("Run", classes=["sfb-controls"]):
            ModelController(
                explore_run,
                model_parameters=lever_values,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            solara.Text("Step: 31 days. Reset applies the levers below.")
        with solara.Card("Levers", classes=["sfb-levers-card"]):
            for name, spec in lever_inputs().items():
                LeverInput(name, spec)
        with solara.Card("Scenario file", classes=["sfb-save"]):
            SaveLevers()


@solara.component
def ExplorePage():
    """The session's own run: Mesa's run controls and the levers in the side panel, the
    status, map, charts and table in the main view."""
    solara.Title("sfbsim · Explore")
    with solara.Sidebar():
        ExploreSidebar()
    ExploreView()
