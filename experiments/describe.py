"""A scenario in words, for the report: a title for a comparison, and what a reform changes
against its baseline (lever names, values and units, dated changes, new and closed centres,
with the weekend policy a new centre really has).

Words come from the definitions (experiments/catalogue.py: the levers' descriptions and units;
the parameter files' descriptions and units), never from a copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfbsim.experiments.catalogue import describe_value, lever_field, period
from sfbsim.model.parameters import Change, NewCentre, Scenario

if TYPE_CHECKING:
    from sfbsim.model.data_loading import BundledData


@dataclass(frozen=True)
class Setting:
    """One setting that differs: what it is in words, its key in a scenario file, and its
    value in the baseline and in the reform, in words."""

    label: str
    key: str
    baseline: str
    reform: str


OPERATORS = {"bufetat": "Bufetat", "ideell": "a non-profit", "oslo_municipal": "Oslo municipality"}
"""Who runs a centre, in words (``NewCentre.operator``)."""


# --- titles -----------------------------------------------------------------------------------
def headline(name: str, description: str) -> str:
    """A scenario's short name in words: its description up to the first ``;`` or ``:``
    (``Co-payments halved``), or its name with spaces (``Weekends 2027``)."""
    text = description.strip()
    for mark in (";", ": "):
        text = text.split(mark, 1)[0].strip()
    if not text:
        text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def comparison_title(
    kind: str,
    baseline: str,
    reforms: list[tuple[str, str]],
    start_year: int | None,
    years: int | None,
) -> str:
    """``Co-payments halved compared with the baseline, 2025–2034``; with several reforms
    ``3 reforms compared with the baseline, 2025–2034``; for a sweep or a sensitivity analysis
    ``Sweep of 4 points against the baseline, 2025–2034``. ``reforms`` are (name,
    description)."""
    against = "the baseline" if baseline == "baseline" else f"the baseline {baseline}"
    when = f", {period(start_year, years)}" if start_year and years else ""
    if kind != "compare":
        what = "Sensitivity analysis" if kind == "sensitivity" else kind.capitalize()
        return f"{what} of {len(reforms)} points against {against}{when}"
    if len(reforms) == 1:
        ((name, description),) = reforms
        return f"{headline(name, description)} compared with {against}{when}"
    return f"{len(reforms)} reforms compared with {against}{when}"


# --- settings that differ ---------------------------------------------------------------------
def _lever_words(name: str, value: Any, section: str = "levers") -> str:
    field = lever_field(name, section)
    extra = field.json_schema_extra if field is not None else None
    extra = extra if isinstance(extra, dict) else {}
    return describe_value(value, extra.get("unit", ""), extra.get("none"))


def _lever_label(name: str, section: str = "levers") -> str:
    """The lever's description, up to its first bracket or colon (the rest is detail)."""
    field = lever_field(name, section)
    text = (field.description or name) if field is not None else name
    for mark in (" (", ": "):
        text = text.split(mark, 1)[0]
    return text


def _entry_words(value: Any, unit: str) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    text = (
        f"{value:,g}"
        if isinstance(value, float)
        else f"{value:,}"
        if isinstance(value, int)
        else str(value)
    )
    return f"{text} {unit}".strip() if unit and unit not in ("1", "share") else text


def _names(data: BundledData | None, column: str, key: str) -> dict[str, str]:
    if data is None:
        return {}
    table = getattr(data, column)
    return dict(zip(table[key].astype(str), table["name"].astype(str), strict=True))


def changed_settings(
    baseline: Scenario, reform: Scenario, data: BundledData | None = None
) -> list[Setting]:
    """Every lever, per-centre lever, behavioural parameter and cost whose value differs, in
    words (dated changes, new and closed centres: :func:`dated_entries`); ``data`` gives the
    centres' names."""
    from sfbsim.model.parameter_files import entries

    names = _names(data, "centres", "centre_id")
    out: list[Setting] = []
    if (baseline.run.start_year, baseline.run.years) != (reform.run.start_year, reform.run.years):
        out.append(
            Setting(
                "Simulated period",
                "run",
                period(baseline.run.start_year, baseline.run.years),
                period(reform.run.start_year, reform.run.years),
            )
        )
    for name in type(reform.levers).model_fields:
        if name == "centres":
            continue
        a, b = getattr(baseline.levers, name), getattr(reform.levers, name)
        if a != b:
            out.append(
                Setting(
                    _lever_label(name),
                    f"levers.{name}",
                    _lever_words(name, a),
                    _lever_words(name, b),
                )
            )
    ids = sorted(set(baseline.levers.centres) | set(reform.levers.centres))
    for centre_id in ids:
        a_override = baseline.levers.centres.get(centre_id)
        b_override = reform.levers.centres.get(centre_id)
        for name in type(b_override or a_override).model_fields:
            a = getattr(a_override, name, None)
            b = getattr(b_override, name, None)
            if a != b:
                label = _lever_label(name, "centre")
                label = label.replace("This centre", names.get(centre_id, centre_id), 1)
                out.append(
                    Setting(
                        label,
                        f"levers.centres.{centre_id}.{name}",
                        _lever_words(name, a, "centre"),
                        _lever_words(name, b, "centre"),
                    )
                )
    for section in ("parameters", "costs"):
        a_values, b_values = getattr(baseline, section), getattr(reform, section)
        for name, entry in entries(section).items():
            a, b = getattr(a_values, name, None), getattr(b_values, name, None)
            if a != b:
                out.append(
                    Setting(
                        entry.description,
                        f"{section}.{name}",
                        _entry_words(a, entry.unit),
                        _entry_words(b, entry.unit),
                    )
                )
    return out


def _dump(items: list[Any]) -> list[str]:
    return [item.model_dump_json() for item in items]


def _added(baseline: list[Any], reform: list[Any]) -> list[Any]:
    before = _dump(baseline)
    return [item for item, key in zip(reform, _dump(reform), strict=True) if key not in before]


def describe_change(change: Change, centre_names: dict[str, str] | None = None) -> str:
    """``From 2027-01-01: weekend policy for every centre open every weekend``."""
    section = "centre" if change.centre else "levers"
    label = _lever_label(change.lever, section)
    if change.centre:
        label = label.replace("This centre", (centre_names or {}).get(change.centre, change.centre))
    when = []
    if change.start is not None:
        when.append(f"from {change.start.isoformat()}")
    if change.end is not None:
        when.append(f"until {(change.end - dt.timedelta(days=1)).isoformat()}")
    prefix = " ".join(when) or "throughout the run"
    value = _lever_words(change.lever, change.value, section)
    return f"{prefix[:1].upper()}{prefix[1:]}: {label} → {value} ({change.lever})"


def weekend_policy_in_force(scenario: Scenario, centre: NewCentre) -> str:
    """The weekend policy a new centre has while it is open in the run, in words and with
    where it comes from (the module's precedence: model/reforms.py): its own setting, or the
    scenario's all-centre lever (or a dated change of it) which overrides it, or one set for
    the centre itself; by date when it changes."""
    from sfbsim.model.reforms import LeverTimeline

    first, end = scenario.run.first_day, scenario.run.end_day
    timeline = LeverTimeline.for_period(scenario.levers, scenario.changes, first, end)
    opens = max(centre.opens or first, first)
    open_day = (opens - first).days + 1
    days = [open_day, *(d for d in timeline.boundaries() if d > open_day)]
    spans: list[tuple[int, str, str]] = []
    for day in days:
        value, source = timeline.centre_setting(
            centre.centre_id, "weekend_policy", day, centre.weekend_policy
        )
        if not spans or spans[-1][1:] != (value, source):
            spans.append((day, value, source))
    own = describe_value(centre.weekend_policy, "policy")

    def words(value: str, source: str) -> str:
        policy = describe_value(value, "policy")
        if source == "own":
            return f"{policy} (its own setting)"
        if source == "centre":
            return f"{policy} (set for this centre)"
        if value == centre.weekend_policy:
            return f"{policy} (the scenario's weekend_policy lever; the same as its own)"
        return f"{policy} (the scenario's weekend_policy lever, which overrides its own: {own})"

    if len(spans) == 1:
        return words(*spans[0][1:])
    parts = []
    for day, value, source in spans:
        date = first + dt.timedelta(days=day - 1)
        parts.append(f"from {date.isoformat()} {words(value, source)}")
    return "; ".join(parts)


def dated_entries(
    baseline: Scenario, reform: Scenario, data: BundledData | None = None
) -> list[str]:
    """The reform's dated changes, new centres and closures that the baseline does not have
    (and the baseline's that the reform removes), one sentence each; ``data`` gives the
    centres' and municipalities' names."""
    names = _names(data, "centres", "centre_id")
    places = _names(data, "municipalities", "kommunenummer")

    def new_name(centre: NewCentre) -> str:  # as model/world.py names it
        place = places.get(centre.kommunenummer)
        return centre.name or (f"New centre in {place}" if place else centre.centre_id)

    names.update({c.centre_id: new_name(c) for c in reform.new_centres})
    out = [describe_change(c, names) for c in _added(baseline.changes, reform.changes)]
    for change in _added(reform.changes, baseline.changes):
        sentence = describe_change(change, names)
        out.append("Removed from the baseline's changes: " + sentence[:1].lower() + sentence[1:])
    for centre in _added(baseline.new_centres, reform.new_centres):
        opens = centre.opens.isoformat() if centre.opens else "the first day of the run"
        place = places.get(centre.kommunenummer, "municipality")
        out.append(
            f"New centre: {new_name(centre)} ({centre.centre_id}, in {place} "
            f"{centre.kommunenummer}, "
            f"run by {OPERATORS.get(centre.operator, centre.operator)}) opens on {opens} with "
            f"{describe_value(centre.residential_units, 'units')} for residential stays and "
            f"{describe_value(centre.home_based_capacity, 'families')} in home-based "
            f"assessment at a time; weekends: {weekend_policy_in_force(reform, centre)}"
        )
    for closure in _added(baseline.closed_centres, reform.closed_centres):
        label = names.get(closure.centre_id, closure.centre_id)
        out.append(f"{label} ({closure.centre_id}) closes on {closure.closes.isoformat()}")
    return out


def known_in_advance(baseline: Scenario, reform: Scenario) -> str | None:
    """The note for a reform with changes dated after the run starts: decisions taken before
    the date about stays that run past it already see the change (docs/ODD.md §7.3, an
    ASSUMPTION: a dated reform is announced, and the centres' calendars published, at least a
    stay's length ahead)."""
    first = dt.date(int(reform.run.start_year), 1, 1)
    dates = sorted(
        c.start
        for c in _added(baseline.changes, reform.changes)
        if c.start is not None and c.start > first
    )
    if not dates:
        return None
    return (
        f"Known in advance: a change dated {dates[0].isoformat()} already shapes decisions taken "
        "before that date about stays that run past it — the parents' answer to an offer and a "
        "stay's drop-out risk look at the centre's calendar over the stay, and the intake "
        "offers starts after the date (the services' own expectation of closures changes only "
        "on the date) — so the last weeks before the date can differ a little from the "
        "baseline. This is intended "
        "(the reform is taken to be announced at least a stay's length ahead; docs/ODD.md §7.3)."
    )
