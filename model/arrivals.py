"""The year's serious-concern cases: how many, where, when, who, and each family's own luck.

Drawn once per year for all municipalities (vectorised), from the *arrivals* and *traits*
streams, and each family's uniforms per decision stream, in arrival order: the same family meets
the same luck in every scenario of a paired comparison (docs/ODD.md §4, stochasticity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

if TYPE_CHECKING:
    from sfbsim.model.calendar import Calendar
    from sfbsim.model.data_loading import BundledData
    from sfbsim.model.parameters import Parameters
    from sfbsim.model.reforms import LeverTimeline
    from sfbsim.model.streams import RandomStreams

LUCK_WIDTH: dict[str, int] = {
    "choice": 6,
    "consent": 2,
    "intake": 2,
    "duration": 2,
    "dropout": 4,
    "outcome": 2,
}
"""Uniforms drawn per family per stream (more than any family can use)."""

ARRIVAL_COLUMNS: tuple[str, ...] = (
    "day",
    "municipality",
    "age_group",
    "parents",
    "children",
    "sibling_over_6",
    "severity",
    "latent_need",
    "days_used",
    "second_child_0_2",
)


@dataclass
class Arrivals:
    """One year's cases, column by column (Python lists, in arrival order), and their luck:
    ``luck[stream]`` is ``(values, width)``, family ``row`` owning
    ``values[row * width:(row + 1) * width]``."""

    columns: list[list]
    luck: dict[str, tuple[list[float], int]]

    @classmethod
    def none(cls) -> Arrivals:
        """No cases (before the first year is drawn)."""
        return cls([[] for _ in ARRIVAL_COLUMNS], {})

    def __len__(self) -> int:
        return len(self.columns[0])


def draw_year(
    year: int,
    *,
    calendar: Calendar,
    data: BundledData,
    parameters: Parameters,
    timeline: LeverTimeline,
    streams: RandomStreams,
    case_rate_factor: np.ndarray | None = None,
) -> Arrivals:
    """Every case of ``year``.

    The case rate follows each municipality's children 0-5 in that year times its case-rate
    factor, scaled day by day by the ``case_rate_multiplier`` lever (e.g. the pandemic); while
    ``older_children_included`` is on (before the 2022 mandate) cases for children 6-12 arrive
    as well. A second child 0-6 is aged 0-2 with the municipality's share of children 0-5 who
    are 0-2.
    """
    p = parameters
    first = calendar.first_day_of_year(year)
    last = min(calendar.first_day_of_year(year + 1) - 1, calendar.n_days)
    days_in_year = calendar.first_day_of_year(year + 1) - first
    children = data.children_by_age(year)
    c02 = children[:, 0:3].sum(axis=1).astype(float)
    c35 = children[:, 3:6].sum(axis=1).astype(float)
    weights = timeline.series("case_rate_multiplier", first, last).astype(float)
    older = weights * timeline.series("older_children_included", first, last)
    factor = np.ones(len(c02)) if case_rate_factor is None else case_rate_factor
    rate = p.case_rate_per_1000_children / 1000.0 / days_in_year * factor
    arrivals = streams.arrivals
    young_counts = arrivals.poisson(rate * weights.sum() * (c02 + c35))
    older_counts = arrivals.poisson(rate * older.sum() * p.age_6_12_case_ratio * (c02 + c35))
    young_days = days_from_weights(arrivals.random(young_counts.sum()), weights, first)
    older_days = days_from_weights(arrivals.random(older_counts.sum()), older, first)
    municipalities = np.arange(len(c02))
    municipality = np.concatenate(
        [np.repeat(municipalities, young_counts), np.repeat(municipalities, older_counts)]
    )
    is_older = np.repeat([False, True], [young_counts.sum(), older_counts.sum()])
    day = np.concatenate([young_days, older_days])
    order = np.lexsort((is_older, municipality, day))
    municipality, day, is_older = municipality[order], day[order], is_older[order]
    n = municipality.size
    traits = streams.traits
    weighted = p.age_0_2_case_weight * c02
    share_0_2 = np.divide(weighted, weighted + c35, out=np.zeros_like(c02), where=c35 + c02 > 0)
    age_0_2 = traits.random(n) < share_0_2[municipality]
    severity = traits.beta(p.severity_beta_a, p.severity_beta_b, size=n)
    columns = {
        "day": day,
        "municipality": municipality,
        "age_group": np.where(is_older, "6-12", np.where(age_0_2, "0-2", "3-5")),
        "parents": 1 + (traits.random(n) < p.two_parent_share),
        "children": 1 + (traits.random(n) < p.extra_child_share),
        "sibling_over_6": traits.random(n) < p.sibling_over_6_share,
        "severity": severity,
        "latent_need": severity + traits.normal(0.0, p.need_noise_sd, size=n),
        "days_used": traits.integers(
            p.days_used_before_referral_min, p.days_used_before_referral_max + 1, size=n
        ),
    }
    share_young = np.divide(c02, c02 + c35, out=np.zeros_like(c02), where=c35 + c02 > 0)
    columns["second_child_0_2"] = traits.random(n) < share_young[municipality]
    luck = {
        stream: getattr(streams, stream).random((n, width)) for stream, width in LUCK_WIDTH.items()
    }
    luck["duration"] = ndtri(np.clip(luck["duration"], 1e-9, 1 - 1e-9))  # normal scores
    return Arrivals(
        columns=[columns[name].tolist() for name in ARRIVAL_COLUMNS],
        luck={
            stream: (values.ravel().tolist(), LUCK_WIDTH[stream]) for stream, values in luck.items()
        },
    )


def days_from_weights(uniforms: np.ndarray, weights: np.ndarray, first: int) -> np.ndarray:
    """Days drawn in proportion to ``weights`` (one per day from ``first``), by inverse CDF."""
    if uniforms.size == 0:
        return np.zeros(0, dtype=np.int64)
    cumulative = np.cumsum(weights)
    index = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    return first + np.minimum(index, len(weights) - 1)
