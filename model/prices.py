"""What a municipality pays for each way of getting a case assessed: the co-payment rule, once.

The municipality pays Bufetat a co-payment (egenandel) per month and per *sats* when Bufetat
provides a centre assessment (the Ministry's yearly rate circulars; the sats rule is
``Family.sats``); Bufetat pays the rest. The co-payment levers multiply the rate of the year;
the high-risk lever multiplies it again for a family whose severity is at or above
``high_risk_severity``; under full municipal financing (the Alta/Færder/Røyken trial, Deloitte
2019) the municipality pays the full cost instead. The model (the municipality's choice) and the
ledger (what a run cost) both price through these functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfbsim.agents.family import DIRECT_PURCHASE, EMERGENCY, HOME_CENTRE, OWN, RESIDENTIAL, Option

if TYPE_CHECKING:
    from sfbsim.model.costs import Costs
    from sfbsim.model.data_loading import BundledData
    from sfbsim.model.parameters import Levers, Parameters

CENTRE_MEASURE: dict[str, str] = {
    "residential": "centre_residential",
    "home_centre": "centre_home_based",
}
"""The co-payment measure (copay_rates.csv) of each centre assessment billed by Bufetat."""


def copay_per_month(base_rate: float, measure: str, levers: Levers) -> float:
    """The co-payment per month and sats for ``measure`` (NOK, nominal) under ``levers``.

    Centre measures are multiplied by ``copay_multiplier`` and by the residential or home-based
    multiplier; other measures (institution, specialised foster home) are not changed by the
    centre co-payment levers.
    """
    rate = base_rate
    if measure.startswith("centre_"):
        rate *= levers.copay_multiplier
        if measure == "centre_residential":
            rate *= levers.copay_multiplier_residential
        else:
            rate *= levers.copay_multiplier_home
    return rate


def high_risk_multiplier(severity: float, levers: Levers, high_risk_severity: float) -> float:
    """The extra multiplier on centre co-payments for a family of this severity (the
    ``copay_multiplier_high_risk`` lever, for severity at or above ``high_risk_severity``)."""
    if severity >= high_risk_severity:
        return levers.copay_multiplier_high_risk
    return 1.0


class Prices:
    """The municipal cost of each option in a run's current year, cached per year and levers."""

    def __init__(self, data: BundledData, parameters: Parameters, costs: Costs) -> None:
        self.data = data
        self.parameters = parameters
        self.costs = costs
        self._rates: dict[tuple[int, str], float] = {}
        self._options: tuple[int, dict[Option, tuple[float, float]]] | None = None

    def levers_changed(self) -> None:
        """Forget the cached prices (the co-payment levers may have changed)."""
        self._rates.clear()
        self._options = None

    def copay(self, year: int, measure: str, levers: Levers) -> float:
        """The co-payment per month and sats in ``year`` (NOK, nominal), levers applied."""
        key = (year, measure)
        rate = self._rates.get(key)
        if rate is None:
            rate = self._rates[key] = copay_per_month(
                self.data.copay(year, measure), measure, levers
            )
        return rate

    def option_costs(self, year: int, levers: Levers) -> dict[Option, tuple[float, float]]:
        """(cost per sats, fixed cost) of each option to the municipality in ``year``.

        Centre assessments cost the co-payment per month and sats for the expected months
        (``residential_months_expected``, ``home_centre_months_expected``); under full
        municipal financing their full cost instead. An own assessment costs its staff hours,
        an emergency placement the specialised foster home rate for
        ``emergency_months_expected``, a direct purchase the full cost of a residential stay.
        The high-risk multiplier applies per family (``high_risk_multiplier``) to the part per
        sats.
        """
        cached = self._options
        if cached is not None and cached[0] == year:
            return cached[1]
        p, costs = self.parameters, self.costs
        if levers.full_municipal_financing:
            residential = (0.0, costs.residential_full_cost)
            home = (0.0, costs.home_centre_full_cost)
        else:
            residential = (
                self.copay(year, "centre_residential", levers) * p.residential_months_expected,
                0.0,
            )
            home = (
                self.copay(year, "centre_home_based", levers) * p.home_centre_months_expected,
                0.0,
            )
        table = {
            RESIDENTIAL: residential,
            HOME_CENTRE: home,
            OWN: (0.0, costs.own_assessment_cost),
            EMERGENCY: (
                0.0,
                self.copay(year, "specialised_foster_home", levers) * p.emergency_months_expected,
            ),
            DIRECT_PURCHASE: (
                0.0,
                costs.residential_full_cost * costs.direct_purchase_price_factor,
            ),
        }
        self._options = (year, table)
        return table
