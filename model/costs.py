"""The cost and value parameters of the ledger (issue 6), with their sources.

Kept apart from model/ledger.py so that a scenario file can hold them under ``[costs]``
(model/parameters.py imports this module; the ledger imports both).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from sfbsim.model.sources import ASSUME, MENON, sourced, sources_of

RECON = "Menon 2025 (reconstructed)"
ValueLevel = Literal["low", "medium", "mean"]


C = sourced  # a cost or value with its source


class Costs(BaseModel):
    """Every cost and value parameter of the ledger (NOK in ``price_year`` prices)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    price_year: int = C(2025, MENON, "Price year of the NOK values below", ge=2000, le=2100)

    # --- assessments --------------------------------------------------------------------------
    residential_full_cost: float = C(
        300_000,
        f"{MENON}: settles on ~300,000 NOK per case (bottom-up 142,500; top-down higher)",
        "Full cost of a residential centre assessment of reference length",
        ge=0,
    )
    residential_reference_months: float = C(
        1.5, f"{MENON}: average residential stay 1.5 months", "Months the full cost covers", gt=0
    )
    hourly_rate: float = C(390, MENON, "NOK per staff hour (assessments at home)", ge=0)
    home_centre_hours: float = C(
        200, f"{MENON}: centre staff at home, 200 hours", "Staff hours, centre staff at home", ge=0
    )
    home_centre_reference_months: float = C(
        2.0,
        f"{ASSUME}: as Parameters.home_centre_months_expected",
        "Months the home-based full cost covers",
        gt=0,
    )
    own_assessment_hours: float = C(
        150, f"{MENON}: own home assessment, 150 hours", "Staff hours, own assessment", ge=0
    )
    scale_full_cost_with_months: bool = C(
        True,
        f"{ASSUME}: full cost per case is for a stay of reference length; longer or shorter "
        "stays (and drop-outs) cost pro rata",
        "Scale the full cost of centre assessments by months of stay / reference months",
    )
    direct_purchase_price_factor: float = C(
        1.0,
        f"{ASSUME}: a non-profit centre bought directly charges Bufetat's full cost",
        "Price of a direct purchase relative to residential_full_cost",
        ge=0,
    )
    tax_financing_cost: float = C(
        0.20,
        f"{MENON}; Ministry of Finance circular R-109 (skattefinansieringskostnad)",
        "Extra societal cost per NOK of public spending",
        ge=0,
    )

    # --- measures after the assessment --------------------------------------------------------
    support_at_home_per_year: float = C(
        274_600, MENON, "Yearly cost of support measures at home (2025 NOK)", ge=0
    )
    foster_home_per_year: float = C(324_300, MENON, "Yearly cost of a foster home", ge=0)
    institution_per_year: float = C(2_675_800, MENON, "Yearly cost of an institution", ge=0)
    support_at_home_years: float = C(
        3.0, f"{ASSUME}: not given by {MENON}", "Years of support at home after the decision", ge=0
    )
    measure_horizon_years: float = C(
        15.0,
        f"{ASSUME}: a child placed at 0-5 stays in care until about 18",
        "Years of an out-of-home placement (foster home, or institution then foster home)",
        ge=0,
    )
    institution_years: float = C(
        2.0,
        f"{ASSUME}: institutions are rare and short for small children ({MENON})",
        "Years in an institution before a foster home (within the horizon)",
        ge=0,
    )
    discount_rate: float = C(0.04, f"{MENON}; circular R-109", "Yearly discount rate", ge=0)
    support_at_home_municipal_share: float = C(
        1.0,
        f"{ASSUME}: support measures at home are municipal (Child Welfare Act)",
        "Share of support at home paid by the municipality",
        ge=0,
        le=1,
    )
    foster_home_municipal_share: float = C(
        1.0,
        f"{MENON}: foster homes are in practice paid by the municipality",
        "Share of foster home costs paid by the municipality",
        ge=0,
        le=1,
    )
    institution_copay_per_month: float = C(
        190_190,
        f"{MENON}: institution co-payment 2025 (rate circular)",
        "Municipal co-payment per month for an institution place; the state pays the rest",
        ge=0,
    )
    emergency_counts_as_foster_home: bool = C(
        True,
        f"{ASSUME}: an emergency foster home is followed by an ordinary foster home",
        "Cost an emergency placement as a foster home over the horizon",
    )

    # --- value of avoided social exclusion ---------------------------------------------------
    exclusion_value_low: float = C(4.7e6, MENON, "Value of avoided exclusion per child, low", ge=0)
    exclusion_value_medium: float = C(9.7e6, MENON, "Same, medium", ge=0)
    exclusion_value_mean: float = C(15.3e6, MENON, "Same, mean", ge=0)
    exclusion_value_level: ValueLevel = C(
        "medium", ASSUME, "Value level used for the headline totals (ledger_totals)"
    )
    exclusion_risk_wrong_decision: float = C(
        0.10,
        f"{ASSUME}: a wrong decision after the assessment (home when a placement was needed, or "
        "the reverse) raises the child's probability of later social exclusion by this much "
        "compared with a right one; no source gives it, vary it",
        "Probability points of exclusion avoided by a right decision",
        ge=0,
        le=1,
    )
    exclusion_counts_all_children: bool = C(
        False,
        f"{ASSUME}: only the index child is valued (conservative)",
        "Value every small child of the family, not only the index child",
    )
    exclusion_delay_years: float = C(
        0.0,
        f"{ASSUME}: {MENON}'s values are taken as present values at the assessment",
        "Years to discount the exclusion value over",
        ge=0,
    )
    municipal_tax_share: float = C(
        0.0486, MENON, "Share of extra tax income the municipality keeps", ge=0, le=1
    )
    municipal_health_share: float = C(
        0.5, MENON, "Share of health costs the municipality bears", ge=0, le=1
    )
    exclusion_tax_fraction: float = C(
        0.35,
        f"{ASSUME}: lost tax revenue and transfers as a share of the exclusion value (not given)",
        "Tax part of the exclusion value",
        ge=0,
        le=1,
    )
    exclusion_health_fraction: float = C(
        0.05,
        f"{ASSUME}: health and care costs as a share of the exclusion value (not given)",
        "Health part of the exclusion value",
        ge=0,
        le=1,
    )

    # --- Menon's five cases -------------------------------------------------------------------
    menon_copay_per_month: float = C(
        79_335, f"{MENON}: residential co-payment 2025", "Co-payment used in the five cases", ge=0
    )
    menon_sats: float = C(1.0, RECON, "Sats of the family in the five cases", gt=0)
    menon_exclusion_value_level: ValueLevel = C(
        "mean", RECON, "Exclusion value level used in the five cases"
    )

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
    return sources_of(Costs)
