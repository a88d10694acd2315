"""Effect by pathway: a reform's effect on admissions and on bed-days split into the pathways
that produced it, from the paired decision trails (issue 17; docs/experiments.md).

Every centre admission in a run is a referral (or a place bought directly) that got through:
counted from the trail over the whole run,

    admissions = proposals − proposals declined + home-based referrals
                 − intake refusals − places refused at the offer + places bought directly
                 − still waiting (referrals not yet allocated, and places booked to start
                   after the run)

(a residential stay is proposed before it is referred; a home-based assessment needs no
consent). The difference of a reform from its baseline, replication by replication, is the
sum of the differences of these parts: the **pathways**. For bed-days (Statistics Norway's
children × days in residential stays) the same split holds for residential admissions, times
the baseline's planned bed-days per admission; the rest is whether stays run their planned
length (fewer drop-outs) and how long they are planned to be (longer or shorter stays):

    bed-days = residential admissions × planned bed-days per admission − bed-days lost to
               drop-outs

    Δ bed-days = Δ admissions × planned per admission (baseline)      [split by pathway]
               + admissions (reform) × Δ planned per admission        [longer or shorter stays]
               − Δ bed-days lost to drop-outs                         [fewer drop-outs]

Both splits are exact: the parts add up to the total effect in every replication (a test
checks it against the recorded admissions and bed-days, which are counted independently of
the trail). Counts are per year of the run, like every outcome.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

SCOPE = "pathway"
"""The ``scope`` of the pathway counts among a replication's outcome rows."""

COUNTS = (
    "proposals",
    "proposals_declined",
    "home_referrals",
    "intake_refusals",
    "intake_refusals_residential",
    "offer_refusals",
    "bought_directly",
    "waiting_at_end",
    "waiting_at_end_residential",
    "admissions",
    "admissions_residential",
    "bed_days",
    "bed_days_lost_to_dropouts",
)
"""What a traced replication reports (per year of the run)."""

ADMISSION_PATHWAYS: dict[str, tuple[str, dict[str, int]]] = {
    "referrals": (
        "more proposals and referrals (the services' choices)",
        {"proposals": 1, "home_referrals": 1},
    ),
    "proposals_declined": ("fewer proposals declined by the parents", {"proposals_declined": -1}),
    "intake_refusals": ("fewer refusals by Bufetat's intake", {"intake_refusals": -1}),
    "offer_refusals": ("fewer places refused at the offer", {"offer_refusals": -1}),
    "bought_directly": ("more places bought directly after a refusal", {"bought_directly": 1}),
    "waiting_at_end": (
        "fewer still waiting at the end of the run (timing)",
        {"waiting_at_end": -1},
    ),
}
"""Pathway → (meaning, the counts whose difference it is, with their signs)."""

RESIDENTIAL_PATHWAYS: dict[str, dict[str, int]] = {
    "referrals": {"proposals": 1},
    "proposals_declined": {"proposals_declined": -1},
    "intake_refusals": {"intake_refusals_residential": -1},
    "offer_refusals": {"offer_refusals": -1},
    "bought_directly": {"bought_directly": 1},
    "waiting_at_end": {"waiting_at_end_residential": -1},
}
"""The same pathways for residential admissions (the bed-days split)."""

BED_DAY_PARTS = {
    "stay_length": "longer or shorter planned stays",
    "dropouts": "fewer drop-outs (stays run their planned length)",
}

TABLE_COLUMNS = [
    "scenario",
    "outcome",
    "pathway",
    "meaning",
    "effect_mean",
    "effect_ci_low",
    "effect_ci_high",
    "share_of_total",
    "reps",
]
"""pathways.csv (docs/experiments.md)."""


def pathway_counts(tables: dict[str, pd.DataFrame], scenario: Any) -> dict[str, float]:
    """The counts of one traced run (per year of the run) that the pathways are made of."""
    decisions = tables["decisions"]
    yearly = tables["yearly"]
    years = int(scenario.run.years)
    start = dt.date(int(scenario.run.start_year), 1, 1)
    last_day = (dt.date(start.year + years, 1, 1) - start).days
    kind = decisions["decision"]
    chosen = decisions["chosen"]
    choices = decisions[(kind == "assessment_choice") & chosen]
    proposals = decisions[kind == "proposal"]
    intake = decisions[(kind == "intake") & (decisions["stage"] == "result")]
    offers = decisions[kind == "offer"]
    bought = decisions[(kind == "direct_purchase") & (decisions["stage"] == "result") & chosen]
    home_referrals = int((choices["option"] == "home_centre").sum())
    agreed = int(proposals["chosen"].sum())
    residential_intake = intake["option"] == "residential"
    # places booked: home-based allocations, and residential offers the parents accepted
    home_booked = intake[(intake["outcome"] == "allocated") & ~residential_intake]
    accepted = offers[offers["chosen"]]
    late_home = int((home_booked["start_day"].astype("float64") > last_day).sum())
    late_residential = int((accepted["start_day"].astype("float64") > last_day).sum())
    queued_home = home_referrals - int((~residential_intake).sum())
    queued_residential = agreed - int(residential_intake.sum())
    dropouts = decisions[(kind == "dropout") & chosen]
    children = tables["families"].set_index("family_id")["children"]
    left = dropouts["start_day"].astype("float64").clip(upper=last_day + 1)
    planned_end = dropouts["latest_day"].astype("float64").clip(upper=last_day + 1)
    lost = (planned_end - left).clip(lower=0) * children.reindex(dropouts["family_id"]).to_numpy()
    counts = {
        "proposals": len(proposals),
        "proposals_declined": len(proposals) - agreed,
        "home_referrals": home_referrals,
        "intake_refusals": int((intake["outcome"] == "refused").sum()),
        "intake_refusals_residential": int(
            ((intake["outcome"] == "refused") & residential_intake).sum()
        ),
        "offer_refusals": int((~offers["chosen"]).sum()),
        "bought_directly": len(bought),
        "waiting_at_end": queued_home + queued_residential + late_home + late_residential,
        "waiting_at_end_residential": queued_residential + late_residential,
        "admissions": float(yearly["admissions"].sum()),
        "admissions_residential": float(
            yearly["admissions_residential"].sum() + yearly["admissions_direct_purchase"].sum()
        ),
        "bed_days": float(yearly["ssb_child_bed_days"].sum()),
        "bed_days_lost_to_dropouts": float(np.nansum(lost)),
    }
    return {name: float(value) / years for name, value in counts.items()}


def pathway_rows(tables: dict[str, pd.DataFrame], scenario: Any) -> pd.DataFrame:
    """The counts as outcome rows (scope ``pathway``, year 0), stored with the replication."""
    counts = pathway_counts(tables, scenario)
    return pd.DataFrame(
        {
            "scope": SCOPE,
            "grp": "",
            "year": 0,
            "outcome": list(counts),
            "value": list(counts.values()),
        }
    )


def split_effects(base: dict[str, float], reform: dict[str, float]) -> dict[str, float]:
    """One replication's pathway parts (``admissions:PATHWAY``, ``bed_days:PATHWAY``) and
    totals (``admissions:total``, ``bed_days:total``, measured, not summed)."""
    out: dict[str, float] = {}
    for name, (_, signs) in ADMISSION_PATHWAYS.items():
        out[f"admissions:{name}"] = sum(s * (reform[c] - base[c]) for c, s in signs.items())
    out["admissions:total"] = reform["admissions"] - base["admissions"]

    def planned_per_admission(counts: dict[str, float]) -> float:
        admitted = counts["admissions_residential"]
        planned = counts["bed_days"] + counts["bed_days_lost_to_dropouts"]
        return planned / admitted if admitted else 0.0

    per_base, per_reform = planned_per_admission(base), planned_per_admission(reform)
    for name, signs in RESIDENTIAL_PATHWAYS.items():
        change = sum(s * (reform[c] - base[c]) for c, s in signs.items())
        out[f"bed_days:{name}"] = change * per_base
    out["bed_days:stay_length"] = reform["admissions_residential"] * (per_reform - per_base)
    out["bed_days:dropouts"] = -(
        reform["bed_days_lost_to_dropouts"] - base["bed_days_lost_to_dropouts"]
    )
    out["bed_days:total"] = reform["bed_days"] - base["bed_days"]
    return out


def meaning_of(outcome: str, pathway: str) -> str:
    """A pathway in words."""
    if pathway == "total":
        return "the total effect (measured)"
    if outcome == "bed_days" and pathway in BED_DAY_PARTS:
        return BED_DAY_PARTS[pathway]
    meaning = ADMISSION_PATHWAYS[pathway][0]
    return meaning if outcome == "admissions" else f"{meaning}, residential"


def pathway_table(
    frame: pd.DataFrame,
    baseline: Any,
    arms: list[Any],
    level: float = 0.95,
    draw_of: Any = None,
) -> pd.DataFrame:
    """pathways.csv: per reform, outcome (admissions, bed_days) and pathway, the mean effect
    over the paired replications with its confidence interval (a t-interval over the pairs,
    or over the posterior draws' means when ``draw_of`` maps seeds to draws), and its share of
    the total. ``frame``: outcome rows of scope ``pathway`` (param_hash, seed, outcome,
    value)."""
    from scipy import stats

    counts = frame[frame["scope"] == SCOPE]
    wide = counts.pivot_table(
        index=["param_hash", "seed"], columns="outcome", values="value", aggfunc="first"
    )
    rows = []
    if baseline.param_hash not in wide.index.get_level_values(0):
        return pd.DataFrame(columns=TABLE_COLUMNS)
    base = wide.loc[baseline.param_hash]
    for arm in arms:
        if arm.param_hash not in wide.index.get_level_values(0):
            continue
        mine = wide.loc[arm.param_hash]
        seeds = sorted(set(base.index) & set(mine.index))
        parts = pd.DataFrame(
            [split_effects(base.loc[s].to_dict(), mine.loc[s].to_dict()) for s in seeds],
            index=seeds,
        )
        if draw_of is not None and len(parts):
            units = parts.groupby([draw_of(int(s)) for s in parts.index]).mean()
        else:
            units = parts
        n = len(units)
        quantile = stats.t.ppf(0.5 + level / 2, max(n - 1, 1))
        for column in parts.columns:
            outcome, pathway = column.split(":")
            mean = float(parts[column].mean()) if len(parts) else np.nan
            sd = float(units[column].std(ddof=1)) if n >= 2 else np.nan
            half = quantile * sd / np.sqrt(n) if n >= 2 else np.nan
            total = float(parts[f"{outcome}:total"].mean()) if len(parts) else np.nan
            rows.append(
                {
                    "scenario": arm.name,
                    "outcome": outcome,
                    "pathway": pathway,
                    "meaning": meaning_of(outcome, pathway),
                    "effect_mean": mean,
                    "effect_ci_low": mean - half,
                    "effect_ci_high": mean + half,
                    "share_of_total": mean / total if total else np.nan,
                    "reps": len(parts),
                }
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
