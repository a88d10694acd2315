"""Any grouping of municipalities, computed after the run from the rows stored per municipality.

Every replication stores its outcomes per municipality (experiments.outcomes.
MUNICIPALITY_OUTCOMES, table ``municipality`` of results.duckdb) and its admitted families'
waits per municipality (table ``waits``). A *grouping* puts municipalities in groups: by one or
more columns of model/data/municipalities.csv (``region``, ``size_class``, ``county``,
``municipality``; several columns give crossed groups, e.g. nord × small) and/or by named lists
of municipality numbers (``--group NAME=1875,1804``). A group's outcome in a replication is
then computed from its municipalities' rows:

* counts, costs and values: the sum over the group's municipalities;
* ``residential_share``: residential admissions / admissions, pooled over the group;
* ``occupancy``: occupied / available unit-days of the centres located in the group (none for a
  group without a centre);
* ``return_per_krone_*``: the group's value / the group's cost;
* ``median_wait`` and ``wait_p90``: the median and 90th percentile of the waits of the group's
  admitted families (never an average of medians); left out, with a note, for an experiment
  stored before the waits were.

The groups' rows are then summarised with the same paired statistics as the national table
(experiments.compare.paired_summary). compare, ``sfbsim results --by`` and the scripting API
all call :func:`grouped_comparison`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sfbsim.experiments.errors import ExperimentError
from sfbsim.experiments.outcomes import (
    COUNT_OUTCOMES,
    MUNICIPALITY_OUTCOMES,
    RETURN_OUTCOMES,
)

BY_COLUMNS = ("region", "size_class", "county", "municipality")
"""The columns a comparison can be grouped by (model/data/municipalities.csv)."""
NAMED = "named_group"
"""The column of the named groups (``--group NAME=...``)."""
SEPARATOR = " × "
WAIT_OUTCOMES = ("median_wait", "wait_p90")
PER_MUNICIPALITY_VERSION = 1
"""Stored in an experiment's spec when every outcome is stored per municipality (older
experiments stored admissions only)."""


@dataclass(frozen=True)
class Grouping:
    """Columns to cross and named lists of municipality numbers."""

    by: tuple[str, ...] = ()
    named: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.by or self.named)

    @property
    def columns(self) -> list[str]:
        return [*self.by, *([NAMED] if self.named else [])]

    @property
    def scope(self) -> str:
        """The ``scope`` of the groups' rows, e.g. ``region×size_class``."""
        return "×".join(self.columns)

    @property
    def slug(self) -> str:
        return "-".join(c if c != NAMED else "groups" for c in self.columns)

    def words(self) -> str:
        return SEPARATOR.join(c if c != NAMED else "named group" for c in self.columns)


def parse_grouping(
    by: str | Sequence[str] | None,
    groups: Mapping[str, Any] | Sequence[str] | None,
    municipalities: pd.DataFrame,
    by_name: str = "--by",
    group_name: str = "--group",
) -> Grouping:
    """Check ``by`` (column names, each item possibly ``a,b``) and ``groups`` (``NAME=1875,1804``
    strings, or a mapping of names to municipality numbers) against the municipalities.

    Raises ExperimentError naming the fix for an unknown column, a group without a name or
    without municipalities, a name given twice, or an unknown municipality number."""
    items = [by] if isinstance(by, str) else list(by or ())
    chosen: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip().replace("-", "_")
            if not part:
                continue
            if part not in BY_COLUMNS:
                raise ExperimentError(
                    f"{by_name} {part!r}: not a column to group by; allowed: "
                    f"{', '.join(BY_COLUMNS)} (several, comma-separated, give crossed groups), "
                    f"or name your own groups with {group_name} NAME=1875,1804"
                )
            if part not in chosen:
                chosen.append(part)
    pairs: list[tuple[str, Any]] = []
    if isinstance(groups, Mapping):
        pairs = list(groups.items())
    else:
        for item in groups or ():
            text = str(item)
            if "=" not in text:
                raise ExperimentError(
                    f"{group_name} {text!r}: give NAME=NUMBER,NUMBER,... (municipality numbers), "
                    f"e.g. {group_name} salten=1804,1875"
                )
            name, _, numbers = text.partition("=")
            pairs.append((name, numbers))
    known = set(municipalities["kommunenummer"].astype(str))
    named: list[tuple[str, tuple[str, ...]]] = []
    for name, numbers in pairs:
        name = str(name).strip()
        if not name:
            raise ExperimentError(
                f"{group_name}: a group needs a name before '=', e.g. {group_name} salten=1804,1875"
            )
        if any(name == other for other, _ in named):
            raise ExperimentError(f"{group_name} {name}: given twice; give each group once")
        if isinstance(numbers, str):
            numbers = numbers.split(",")
        cleaned = [str(n).strip() for n in numbers if str(n).strip()]
        if not cleaned:
            raise ExperimentError(
                f"{group_name} {name}=: the group is empty; list its municipality numbers, e.g. "
                f"{group_name} {name}=1804,1875"
            )
        numbers_out: list[str] = []
        for number in cleaned:
            padded = number.zfill(4) if number.isdigit() else number
            if padded not in known:
                raise ExperimentError(
                    f"{group_name} {name}: no municipality {number!r} in the data "
                    "(model/data/municipalities.csv); give four-digit municipality numbers "
                    "(kommunenummer) of 2024, e.g. 1804 for Bodø"
                )
            if padded not in numbers_out:
                numbers_out.append(padded)
        named.append((name, tuple(numbers_out)))
    return Grouping(tuple(chosen), tuple(named))


def membership(grouping: Grouping, municipalities: pd.DataFrame) -> pd.DataFrame:
    """One row per municipality × group it belongs to: kommunenummer, grp (the group's label,
    its values joined by `` × ``) and one column per grouping column."""
    places = municipalities.assign(kommunenummer=municipalities["kommunenummer"].astype(str))
    frame = pd.DataFrame({"kommunenummer": places["kommunenummer"]})
    labels = pd.DataFrame(index=frame.index)
    for column in grouping.by:
        if column == "municipality":
            frame[column] = places["kommunenummer"]
            labels[column] = places["kommunenummer"] + " " + places["name"].astype(str)
        else:
            frame[column] = places[column].astype(str)
            labels[column] = frame[column]
    if grouping.named:
        parts = []
        for name, numbers in grouping.named:
            chosen = frame["kommunenummer"].isin(numbers)
            parts.append(
                (frame[chosen].assign(**{NAMED: name}), labels[chosen].assign(**{NAMED: name}))
            )
        frame = pd.concat([p[0] for p in parts], ignore_index=True)
        labels = pd.concat([p[1] for p in parts], ignore_index=True)
    frame["grp"] = labels[grouping.columns].agg(SEPARATOR.join, axis=1) if len(frame) else []
    return frame[["kommunenummer", "grp", *grouping.columns]]


def group_rows(
    municipality: pd.DataFrame,
    waits: pd.DataFrame | None,
    grouping: Grouping,
    municipalities: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Outcome rows per replication and group (param_hash, seed, scope, grp, year = 0, outcome,
    value) from the rows per municipality, and the outcomes left out with why."""
    members = membership(grouping, municipalities)[["kommunenummer", "grp"]]
    stored = set(municipality["outcome"])
    missing: dict[str, str] = {}
    older = (
        "this experiment was stored before sfbsim kept it per municipality; run the "
        "comparison again (a new --out) to group it"
    )
    mun = municipality.assign(kommunenummer=municipality["kommunenummer"].astype(str))
    merged = mun.merge(members, on="kommunenummer")
    sums = merged.groupby(["param_hash", "seed", "grp", "outcome"], sort=True)["value"].sum()
    wide = sums.unstack("outcome")
    keys = (
        mun[["param_hash", "seed"]]
        .drop_duplicates()
        .merge(pd.DataFrame({"grp": members["grp"].unique()}), how="cross")
    )
    wide = wide.reindex(pd.MultiIndex.from_frame(keys[["param_hash", "seed", "grp"]]))
    wide = wide.reindex(columns=sorted(stored))
    out: dict[str, pd.Series] = {}
    for name in COUNT_OUTCOMES:
        if name in stored:
            out[name] = wide[name].fillna(0.0)
        else:
            missing[name] = older
    if {"residential_admissions", "admissions"} <= stored:
        out["residential_share"] = _ratio(wide["residential_admissions"], wide["admissions"])
    else:
        missing["residential_share"] = older
    if waits is None or not {"residential_admissions"} <= stored:
        for name in WAIT_OUTCOMES:
            missing[name] = "the families' waits are not stored per municipality in " + older[5:]
    else:
        quantiles = _wait_quantiles(waits, members)
        for name in WAIT_OUTCOMES:
            out[name] = quantiles[name].reindex(wide.index)
    if "unit_days" in stored:
        out["occupancy"] = _ratio(
            wide.get("occupied_unit_days", pd.Series(0.0, index=wide.index)).fillna(0.0),
            wide["unit_days"].fillna(0.0),
        )
    else:
        missing["occupancy"] = older
    money = [n for n in MUNICIPALITY_OUTCOMES if n.endswith(("_cost", "_value"))]
    for name in money:
        if name in stored:
            out[name] = wide[name].fillna(0.0)
        else:
            missing[name] = older
    for name, (value, cost) in RETURN_OUTCOMES.items():
        if value in stored and cost in stored:
            out[name] = _ratio(wide[value].fillna(0.0), wide[cost].fillna(0.0))
        else:
            missing[name] = older
    if not out:
        return pd.DataFrame(
            columns=["param_hash", "seed", "scope", "grp", "year", "outcome", "value"]
        ), missing
    frame = pd.DataFrame(out)
    frame.columns.name = "outcome"
    rows = frame.stack(future_stack=True).rename("value").reset_index()
    rows.insert(2, "scope", grouping.scope)
    rows.insert(4, "year", 0)
    rows["seed"] = rows["seed"].astype("int64")
    return rows[["param_hash", "seed", "scope", "grp", "year", "outcome", "value"]], missing


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).astype("float64")


def _wait_quantiles(waits: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The median and 90th percentile (linear, as pandas) of every group's waits."""
    frame = waits.assign(kommunenummer=waits["kommunenummer"].astype(str)).merge(
        members, on="kommunenummer"
    )
    result = {}
    for key, part in frame.groupby(["param_hash", "seed", "grp"], sort=True):
        days = np.repeat(part["wait_days"].to_numpy("float64"), part["families"].to_numpy("int64"))
        if days.size:
            result[key] = (float(np.median(days)), float(np.quantile(days, 0.9)))
    index = pd.MultiIndex.from_tuples(list(result), names=["param_hash", "seed", "grp"])
    values = np.array(list(result.values()), dtype="float64").reshape(-1, 2)
    return pd.DataFrame(values, index=index, columns=list(WAIT_OUTCOMES))


# --- notes on groups a reform cannot change --------------------------------------------------
OPENING_LEVERS = ("weekend_policy", "summer_closure_weeks", "holidays_open")
"""Levers of when a centre is open: all-centre levers, with a value per centre."""
POLICY_WORDS = {
    "open_every_weekend": "opens every weekend",
    "every_other_weekend_closed": "closes every other weekend",
    "all_weekends_closed": "closes every weekend",
    "weekdays_only": "opens on weekdays only",
}


def serving_centres(data: Any, regions: set[str], start_year: int, years: int) -> pd.DataFrame:
    """The centres of the intakes of ``regions`` (model agents.centre.serves_intake) that
    operate at some time during the run."""
    centres = data.centres
    serves = np.where(
        centres["operator"] == "oslo_municipal",
        "oslo",
        np.where(centres["region"] == "oslo", "øst", centres["region"]),
    )
    closed = pd.to_numeric(centres["closed_year"], errors="coerce")
    operating = (centres["opened_year"].astype(int) <= start_year + years - 1) & (
        closed.isna() | (closed >= start_year)
    )
    return centres[np.isin(serves, list(regions)) & operating.to_numpy()]


def _effective(levers: dict, row: Any, lever: str) -> Any:
    override = (levers.get("centres") or {}).get(row.centre_id) or {}
    if override.get(lever) is not None:
        return override[lever]
    if lever == "holidays_open":
        return bool(levers.get("holidays_open"))
    if levers.get(lever) is not None:
        return levers[lever]
    return getattr(row, lever)


def idle_levers(base: Any, reform: Any, data: Any, regions: set[str]) -> str:
    """Why some of the reform's levers cannot act in a group of ``regions``, in words, or "".

    Only opening levers (weekend policy, summer closure, holidays) are judged, and only when the
    reform differs from the baseline in its levers alone (no other parameters, costs, timed
    changes or centres): a lever whose value is, at every centre of the group's intakes, the
    one the centre has in the baseline already changes nothing there."""
    exclude = {"name", "description", "baseline", "run"}
    b = base.model_dump(mode="json", exclude=exclude)
    r = reform.model_dump(mode="json", exclude=exclude)
    if any(b[key] != r[key] for key in b if key != "levers"):
        return ""
    bl, rl = b["levers"], r["levers"]
    changed = [k for k in rl if k != "centres" and bl.get(k) != rl.get(k)]
    overrides = set(bl.get("centres") or {}) | set(rl.get("centres") or {})
    for centre in overrides:
        old = (bl.get("centres") or {}).get(centre) or {}
        new = (rl.get("centres") or {}).get(centre) or {}
        changed += [
            f"centres.{centre}.{k}" for k in set(old) | set(new) if old.get(k) != new.get(k)
        ]
    if not changed:
        return ""
    run = reform.run
    centres = serving_centres(data, regions, int(run.start_year), int(run.years))
    if centres.empty:
        return ""
    idle: list[str] = []
    for lever in OPENING_LEVERS:
        touched = [c for c in changed if c == lever or c.endswith(f".{lever}")]
        if not touched:
            continue
        rows = list(centres.itertuples(index=False))
        if all(_effective(bl, row, lever) == _effective(rl, row, lever) for row in rows):
            idle.append(lever)
            changed = [c for c in changed if c not in touched]
    if not idle:
        return ""
    names = ", ".join(str(n) for n in centres["name"])
    where = " and ".join(sorted(regions))
    parts = []
    for lever in idle:
        value = _effective(rl, next(centres.itertuples(index=False)), lever)
        if lever == "weekend_policy":
            already = POLICY_WORDS.get(value, f"has weekend policy {value}")
        elif lever == "holidays_open":
            already = "opens on public holidays" if value else "closes on public holidays"
        else:
            already = f"closes {value} weeks in summer"
        many = "every centre" if len(centres) > 1 else "the only centre"
        parts.append(
            f"{lever} = {value!r} changes nothing here: {many} of the intake of {where} "
            f"({names}) already {already}"
        )
    text = "; ".join(parts)
    if changed:
        text += f"; any effect here comes from its other changes ({', '.join(changed)})"
    else:
        text += "; the reform changes nothing else"
    return text


# --- the grouped comparison -------------------------------------------------------------------
def zero_keys(frame: pd.DataFrame, baseline: Any, arm: Any) -> set[tuple[str, str, str]]:
    """(scope, grp, outcome) whose paired difference is exactly zero in every replication."""
    keys = ["seed", "scope", "grp", "year", "outcome"]
    base = frame[frame["param_hash"] == baseline.param_hash][[*keys, "value"]]
    mine = frame[frame["param_hash"] == arm.param_hash][[*keys, "value"]]
    paired = mine.merge(base, on=keys, suffixes=("", "_base"))
    paired = paired.dropna(subset=["value", "value_base"])
    paired["same"] = paired["value"] == paired["value_base"]
    same = paired.groupby(["scope", "grp", "outcome"], sort=False)["same"].all()
    return {key for key, flag in same.items() if flag}


@dataclass
class GroupedComparison:
    table: pd.DataFrame
    notes: list[str]


def grouped_comparison(
    national: pd.DataFrame,
    municipality: pd.DataFrame | None,
    waits: pd.DataFrame | None,
    grouping: Grouping,
    baseline: Any,
    arms: list[Any],
    order: list[Any] | None,
    data: Any,
    draw_of: Callable[[int], int | None] | None = None,
    uncertainty: str = "fixed",
    level: float = 0.95,
    per_municipality: bool = True,
) -> GroupedComparison:
    """comparison.csv: the national rows and, with a ``grouping``, the rows of every group, with
    the same paired statistics (experiments.compare.paired_summary) and a ``note`` column; also
    the notes to print (outcomes left out, groups a reform cannot change)."""
    from sfbsim.experiments.compare import TABLE_COLUMNS, paired_summary

    frame = national[national["scope"] == "national"]
    notes: list[str] = []
    members = None
    if grouping:
        if municipality is None or municipality.empty:
            raise ExperimentError(
                "this experiment stored no outcomes per municipality; run the comparison again "
                "(a new --out) to group it"
            )
        if not per_municipality:
            municipality = municipality[municipality["outcome"] == "admissions"]
        members = membership(grouping, data.municipalities)
        rows, missing = group_rows(municipality, waits, grouping, data.municipalities)
        frame = pd.concat([frame, rows], ignore_index=True)
        reasons: dict[str, list[str]] = {}
        for name, why in missing.items():
            reasons.setdefault(why, []).append(name)
        for why, names in reasons.items():
            notes.append(f"left out of the groups: {', '.join(names)}: {why}")
    table = paired_summary(frame, baseline, arms, order, level, draw_of, uncertainty)
    table["note"] = ""
    if members is not None:
        bare = table[(table["scope"] != "national") & (table["outcome"] == "occupancy")]
        bare = bare.loc[bare["reps"] == 0, "group"].drop_duplicates()
        if len(bare):
            notes.append(
                "occupancy is that of the centres located in a group: "
                + (
                    f"1 group ({bare.iloc[0]}) has no centre and shows none (–)"
                    if len(bare) == 1
                    else f"{len(bare)} groups have no centre and show none (–)"
                )
            )
    labels = {"": "national"}
    regions_of: dict[str, set[str]] = {"": set(data.municipalities["region"].astype(str))}
    if members is not None:
        region = data.municipalities.set_index(data.municipalities["kommunenummer"].astype(str))[
            "region"
        ].astype(str)
        for grp, part in members.groupby("grp", sort=False):
            labels[grp] = grp
            regions_of[grp] = set(region.reindex(part["kommunenummer"]))
    outcome_total = len(set(table["outcome"]))
    for arm in arms:
        zeros = zero_keys(frame, baseline, arm)
        mine = table["scenario"] == arm.name
        group_notes: list[str] = []
        partly: list[str] = []
        for grp in table.loc[mine, "group"].drop_duplicates():
            why = idle_levers(baseline.scenario, arm.scenario, data, regions_of.get(grp, set()))
            here = mine & (table["group"] == grp)
            zero = [
                i
                for i, row in table[here].iterrows()
                if (row["scope"], grp, row["outcome"]) in zeros
            ]
            for i in table[here].index:
                parts = []
                if i in zero:
                    parts.append("exactly zero in every replication")
                if why:
                    parts.append(why)
                table.loc[i, "note"] = "; ".join(parts)
            if zero and not why and len(zero) < outcome_total:
                partly.append(labels.get(grp, grp))
            elif why or zero:
                outcomes = table.loc[zero, "outcome"].tolist()
                text = f"{arm.name} in {labels.get(grp, grp)}: "
                if len(outcomes) == outcome_total:
                    text += "every outcome is the same as the baseline's in every replication"
                elif outcomes:
                    text += (
                        f"{len(outcomes)} of {outcome_total} outcomes are exactly zero in every "
                        f"replication ({', '.join(outcomes)})"
                    )
                else:
                    text = text.rstrip(": ")
                if why:
                    text += ("; " if outcomes else ": ") + why
                group_notes.append(text)
        shown = 12
        notes.extend(group_notes[:shown])
        if len(group_notes) > shown:
            notes.append(
                f"{arm.name}: {len(group_notes) - shown} more groups the reform leaves unchanged "
                "in part; the note column of the table has them all"
            )
        if partly:
            listed = ", ".join(partly[:6]) + (
                f" and {len(partly) - 6} more" if len(partly) > 6 else ""
            )
            notes.append(
                f"{arm.name}: some outcomes are exactly zero in every replication in {listed}; "
                "the note column of the table says which"
            )
    if members is None:
        return GroupedComparison(table[[*TABLE_COLUMNS, "note"]].reset_index(drop=True), notes)
    columns = members.drop(columns="kommunenummer").drop_duplicates("grp")
    table = table.merge(columns.rename(columns={"grp": "group"}), on="group", how="left")
    for column in grouping.columns:
        table[column] = table[column].fillna("")
    ordered = [*TABLE_COLUMNS[:2], "scope", "group", *grouping.columns, *TABLE_COLUMNS[2:], "note"]
    return GroupedComparison(table[ordered].reset_index(drop=True), notes)
