"""The cost and value parameters of the ledger (model/ledger.py, docs/ledger.md).

Their values, units, plausible ranges and sources are data (model/data/parameters/costs.toml,
read by model.parameter_files); a scenario file can change them under ``[costs]``. Kept apart
from model/ledger.py so that model/parameters.py can import it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from sfbsim.model.parameter_files import entries, from_file

ValueLevel = Literal["low", "medium", "mean"]


class Costs(BaseModel):
    """Every cost and value parameter of the ledger (NOK in ``price_year`` prices)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    price_year: int = from_file("price_year")

    # --- assessments --------------------------------------------------------------------------
    residential_full_cost: float = from_file("residential_full_cost")
    residential_reference_months: float = from_file("residential_reference_months")
    hourly_rate: float = from_file("hourly_rate")
    home_centre_hours: float = from_file("home_centre_hours")
    home_centre_reference_months: float = from_file("home_centre_reference_months")
    own_assessment_hours: float = from_file("own_assessment_hours")
    scale_full_cost_with_months: bool = from_file("scale_full_cost_with_months")
    direct_purchase_price_factor: float = from_file("direct_purchase_price_factor")
    tax_financing_cost: float = from_file("tax_financing_cost")

    # --- running the centres ------------------------------------------------------------------
    weekend_staff_cost_per_day: float = from_file("weekend_staff_cost_per_day")

    # --- measures after the assessment --------------------------------------------------------
    support_at_home_per_year: float = from_file("support_at_home_per_year")
    foster_home_per_year: float = from_file("foster_home_per_year")
    institution_per_year: float = from_file("institution_per_year")
    support_at_home_years: float = from_file("support_at_home_years")
    measure_horizon_years: float = from_file("measure_horizon_years")
    institution_years: float = from_file("institution_years")
    discount_rate: float = from_file("discount_rate")
    support_at_home_municipal_share: float = from_file("support_at_home_municipal_share")
    foster_home_municipal_share: float = from_file("foster_home_municipal_share")
    institution_copay_per_month: float = from_file("institution_copay_per_month")
    emergency_counts_as_foster_home: bool = from_file("emergency_counts_as_foster_home")

    # --- value of avoided social exclusion ---------------------------------------------------
    exclusion_value_low: float = from_file("exclusion_value_low")
    exclusion_value_medium: float = from_file("exclusion_value_medium")
    exclusion_value_mean: float = from_file("exclusion_value_mean")
    exclusion_value_level: ValueLevel = from_file("exclusion_value_level")
    exclusion_risk_wrong_decision: float = from_file("exclusion_risk_wrong_decision")
    exclusion_counts_all_children: bool = from_file("exclusion_counts_all_children")
    exclusion_delay_years: float = from_file("exclusion_delay_years")
    municipal_tax_share: float = from_file("municipal_tax_share")
    municipal_health_share: float = from_file("municipal_health_share")
    exclusion_tax_fraction: float = from_file("exclusion_tax_fraction")
    exclusion_health_fraction: float = from_file("exclusion_health_fraction")

    # --- Menon's five cases -------------------------------------------------------------------
    menon_copay_per_month: float = from_file("menon_copay_per_month")
    menon_sats: float = from_file("menon_sats")
    menon_exclusion_value_level: ValueLevel = from_file("menon_exclusion_value_level")

    # --- derived ------------------------------------------------------------------------------
    @property
    def own_assessment_cost(self) -> float:
        """The municipality's own home assessment (150 hours at 390 NOK = 58,500)."""
        return self.own_assessment_hours * self.hourly_rate

    @property
    def home_centre_full_cost(self) -> float:
        """Centre staff at home (200 hours at 390 NOK = 78,000)."""
        return self.home_centre_hours * self.hourly_rate

    def exclusion_value(self, level: str | None = None) -> float:
        """The value of one avoided case of exclusion at ``level`` (default: the headline)."""
        level = level or self.exclusion_value_level
        value = {
            "low": self.exclusion_value_low,
            "medium": self.exclusion_value_medium,
            "mean": self.exclusion_value_mean,
        }[level]
        return value / (1 + self.discount_rate) ** self.exclusion_delay_years

    @property
    def municipal_value_fraction(self) -> float:
        """Share of the exclusion value that accrues to the municipality."""
        return (
            self.municipal_tax_share * self.exclusion_tax_fraction
            + self.municipal_health_share * self.exclusion_health_fraction
        )

    @property
    def state_value_fraction(self) -> float:
        """Share of the exclusion value that accrues to the state."""
        return (1 - self.municipal_tax_share) * self.exclusion_tax_fraction + (
            1 - self.municipal_health_share
        ) * self.exclusion_health_fraction


def cost_sources() -> dict[str, str]:
    """Map every cost parameter to its documented source."""
    return {name: entry.source for name, entry in entries("costs").items()}
