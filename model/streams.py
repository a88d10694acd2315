"""Named random streams: one per kind of random decision.

Each stream is a numpy Generator seeded from the run's seed and the stream's fixed index, so
a lever that changes how often one kind of decision is taken never shifts the draws of another
kind. Family-level uniforms are drawn once per year for all that year's arrivals, in arrival
order: a family meets the same luck in every scenario (common random numbers).
"""

from __future__ import annotations

import numpy as np

STREAM_NAMES: tuple[str, ...] = (
    "arrivals",  # how many cases, when and where
    "traits",  # family composition and severity
    "municipality",  # municipal variation around size-class indices
    "network",  # cooperation links between municipalities
    "choice",  # the municipality's discrete choice
    "consent",  # the family's consent to a residential stay
    "intake",  # the intake's search beyond its own region
    "duration",  # assessment lengths
    "dropout",  # drop-out from stays
    "outcome",  # the decision after the assessment
    "municipality_rates",  # each municipality's case-rate factor (over-dispersion)
)


class RandomStreams:
    """A numpy Generator per named stream, all derived from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._generators = {
            name: np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(i,)))
            for i, name in enumerate(STREAM_NAMES)
        }

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self._generators[name]
        except KeyError:
            raise AttributeError(f"no random stream named {name!r}") from None
