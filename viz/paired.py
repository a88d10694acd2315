"""Paired replications of two scenarios and their differences with 95 % t-intervals.

Paired means the same seeds for baseline and reform, so each seed gives one difference and the
common randomness cancels out. Small on purpose (the app's own helper; no dependency on
experiments.compare).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sfbsim.experiments.compare import t_interval  # one paired t-interval for CLI and app
from sfbsim.experiments.runner import simulate
from sfbsim.model.data_loading import BundledData
from sfbsim.model.outputs import METRICS
from sfbsim.model.parameters import Scenario

OUTCOMES: dict[str, str] = {
    "cases": "Cases",
    "referrals": "Referrals to Bufetat",
    "admissions": "Admissions",
    "intake_refusals": "Intake refusals",
    "consent_refusals": "Consent refusals",
    "emergency_placements": "Emergency placements",
    "direct_purchases": "Direct purchases",
    "bed_days": "Bed-days",
    "occupancy": "Residential occupancy",
    "wait_days_p50": "Median wait (days)",
}
"""Yearly national outcomes compared, with their labels."""

ADMITTED = ("residential", "home_centre", "direct_purchase")
"""Options whose start is a centre admission (their waits are compared)."""


def yearly_outcomes(model, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """National outcomes per year of one run."""
    counts = model.recorder.counts.sum(axis=1)
    years = np.arange(model.years) + model.start_year
    frame = pd.DataFrame(counts, columns=list(METRICS))
    frame.insert(0, "year", years)
    frame["referrals"] = frame["referrals_residential"] + frame["referrals_home"]
    centres = tables["centre_yearly"].groupby("year")[["occupied_unit_days", "unit_days"]].sum()
    occupancy = centres["occupied_unit_days"] / centres["unit_days"].where(centres["unit_days"] > 0)
    frame["occupancy"] = frame["year"].map(occupancy)
    families = tables["families"]
    admitted = families[families["option"].isin(ADMITTED) & (families["start_date"] != "")]
    start_year = admitted["start_date"].str.slice(0, 4).astype(int)
    waits = admitted["wait_days"].astype(float).groupby(start_year).median()
    frame["wait_days_p50"] = frame["year"].map(waits)
    return frame[["year", *OUTCOMES]]


def run_paired(
    baseline: Scenario,
    reform: Scenario,
    data: BundledData,
    seeds: list[int],
    years: int,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Both scenarios for every seed: one row per arm × seed × year (long by outcome columns).

    ``progress(done, total)`` is called after every single run.
    """
    frames = []
    total = 2 * len(seeds)
    done = 0
    for seed in seeds:
        for arm, scenario in (("baseline", baseline), ("reform", reform)):
            model, tables = simulate(scenario.with_run(seed=seed, years=years), data)
            frame = yearly_outcomes(model, tables)
            frame.insert(0, "seed", seed)
            frame.insert(0, "arm", arm)
            frames.append(frame)
            done += 1
            if progress is not None:
                progress(done, total)
    return pd.concat(frames, ignore_index=True)


def paired_differences(results: pd.DataFrame, by_year: bool = True) -> pd.DataFrame:
    """Reform minus baseline per seed (and year), from ``run_paired``'s table."""
    keys = ["seed", "year"] if by_year else ["seed"]
    outcomes = list(OUTCOMES)
    if by_year:
        wide = results.set_index(["arm", *keys])[outcomes]
    else:
        sums = [o for o in outcomes if o not in ("occupancy", "wait_days_p50")]
        grouped = results.groupby(["arm", "seed"])
        wide = grouped[sums].sum().join(grouped[["occupancy", "wait_days_p50"]].mean())[outcomes]
    return (wide.loc["reform"] - wide.loc["baseline"]).reset_index()


def summarise(results: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The comparison table: per outcome over the whole run (totals; rates as yearly means),
    the mean of each arm and the mean paired difference with its t-interval."""
    diffs = paired_differences(results, by_year=False)
    sums = [o for o in OUTCOMES if o not in ("occupancy", "wait_days_p50")]
    per_arm = results.groupby(["arm", "seed"])
    arms = per_arm[sums].sum().join(per_arm[["occupancy", "wait_days_p50"]].mean())
    means = arms.groupby("arm").mean()
    rows = []
    for outcome, label in OUTCOMES.items():
        mean, low, high = t_interval(diffs[outcome].to_numpy(), level)
        base = means.loc["baseline", outcome]
        rows.append(
            {
                "outcome": label,
                "baseline": base,
                "reform": means.loc["reform", outcome],
                "difference": mean,
                "ci_low": low,
                "ci_high": high,
                "relative": mean / base if base else np.nan,
            }
        )
    return pd.DataFrame(rows)


def yearly_bands(results: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per outcome and year: mean paired difference and its t-interval (for the CI bands)."""
    diffs = paired_differences(results, by_year=True)
    rows = []
    for year, group in diffs.groupby("year"):
        for outcome in OUTCOMES:
            mean, low, high = t_interval(group[outcome].to_numpy(), level)
            rows.append(
                {"year": year, "outcome": outcome, "mean": mean, "ci_low": low, "ci_high": high}
            )
    return pd.DataFrame(rows)
