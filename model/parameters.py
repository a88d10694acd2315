"""Validated parameters, levers and scenarios.

Every behavioural parameter carries its source in ``json_schema_extra["source"]``. A source
that starts with ``ASSUMPTION`` marks a value we chose, not one we found; docs/ODD.md lists them
all (``tools/render_parameters.py`` writes that table from this file).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sfbsim.model.costs import Costs
from sfbsim.model.sources import ASSUME, MENON, sourced, sources_of

WeekendPolicy = Literal[
    "open_every_weekend",
    "every_other_weekend_closed",
    "all_weekends_closed",
    "weekdays_only",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
WEEKDAY_INDEX: dict[str, int] = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4}

P = sourced  # a behavioural parameter with its source


class Strict(BaseModel):
    """Base for every scenario section: unknown keys and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Parameters(Strict):
    """Behavioural parameters of the model (not levers)."""

    # --- case process -------------------------------------------------------------------------
    case_rate_per_1000_children: float = P(
        4.5,
        f"{ASSUME}: about 1,500 serious-concern cases a year in which a centre assessment is an "
        "option, set against ~5,500 children 0-5 with child welfare measures in 2024 (SSB 09050); "
        "to be calibrated (issue 5)",
        "Serious-concern cases needing an assessment, per 1,000 children aged 0-5 per year",
        ge=0,
    )
    age_0_2_case_weight: float = P(
        1.6,
        f"{ASSUME}: SSB 10661 shows ages 0-2 dominating centre measures (363 in 2016)",
        "Relative case rate of a child aged 0-2 compared with a child aged 3-5",
        gt=0,
    )
    age_6_12_case_ratio: float = P(
        0.25,
        f"{ASSUME}: before 2022 centres also took children 6-12 (SSB 10661's 0-12 series); "
        "their cases relative to cases for children 0-5, while older_children_included is on",
        "Cases for children 6-12 per case for children 0-5 (before the 2022 mandate)",
        ge=0,
    )
    two_parent_share: float = P(
        0.45, ASSUME, "Share of families with two parents taking part", ge=0, le=1
    )
    extra_child_share: float = P(
        0.2, ASSUME, "Share of families with a second child aged 0-6 (adds 0.5 sats)", ge=0, le=1
    )
    sibling_over_6_share: float = P(
        0.3,
        f"{ASSUME}: {MENON} names older siblings as a barrier but gives no share",
        "Share of families with a sibling over 6 whom the centre cannot include",
        ge=0,
        le=1,
    )
    severity_beta_a: float = P(2.0, ASSUME, "Severity ~ Beta(a, b) on 0-1: parameter a", gt=0)
    severity_beta_b: float = P(2.5, ASSUME, "Severity ~ Beta(a, b) on 0-1: parameter b", gt=0)
    urgent_severity: float = P(
        0.8, ASSUME, "Severity at or above which a case is urgent (cannot wait)", ge=0, le=1
    )
    investigation_deadline_days: int = P(
        90, "Child Welfare Act: investigation deadline of 3 months (brief §1)", "Deadline", gt=0
    )
    days_used_before_referral_min: int = P(
        10, ASSUME, "Fewest days of the investigation used before the referral", ge=0
    )
    days_used_before_referral_max: int = P(
        40, ASSUME, "Most days of the investigation used before the referral", ge=0
    )

    # --- municipalities -----------------------------------------------------------------------
    own_capacity_small: float = P(
        0.2,
        f"{ASSUME}: {MENON}: small services often lack capacity and competence to assess",
        "Own capacity index (0-1) to assess small children at home, small municipalities",
        ge=0,
        le=1,
    )
    own_capacity_medium: float = P(0.5, ASSUME, "Own capacity index, medium", ge=0, le=1)
    own_capacity_large: float = P(
        0.85,
        f"{ASSUME}: {MENON}: large services can assess themselves",
        "Own capacity index, large",
        ge=0,
        le=1,
    )
    budget_pressure_small: float = P(
        0.7, ASSUME, "Budget pressure index (0-1), small municipalities", ge=0, le=1
    )
    budget_pressure_medium: float = P(0.55, ASSUME, "Budget pressure index, medium", ge=0, le=1)
    budget_pressure_large: float = P(0.45, ASSUME, "Budget pressure index, large", ge=0, le=1)
    municipality_noise_sd: float = P(
        0.1, ASSUME, "SD of municipal variation around the size-class indices", ge=0
    )
    familiarity_small: float = P(
        0.3,
        f"{ASSUME}: {MENON}: use rises with size; small ones know the offer less",
        "Initial familiarity with the centres (0-1), small municipalities",
        ge=0,
        le=1,
    )
    familiarity_medium: float = P(0.5, ASSUME, "Initial familiarity, medium", ge=0, le=1)
    familiarity_large: float = P(0.7, ASSUME, "Initial familiarity, large", ge=0, le=1)
    familiarity_gain: float = P(
        0.15,
        f"{ASSUME}: {MENON}: services with good experience reuse the offer",
        "Familiarity gained (towards 1) after a completed centre assessment",
        ge=0,
        le=1,
    )
    familiarity_diffusion: float = P(
        0.05,
        f"{ASSUME}: {MENON}: information spreads unevenly between services",
        "Monthly share of the gap to neighbours' mean familiarity that is closed",
        ge=0,
        le=1,
    )
    familiarity_decay: float = P(
        0.01, ASSUME, "Monthly share of familiarity lost without use", ge=0, le=1
    )
    cooperation_edge_prob: float = P(
        0.05,
        f"{ASSUME}: inter-municipal child welfare cooperation is common within counties",
        "Probability of a cooperation link between two municipalities of the same county",
        ge=0,
        le=1,
    )
    expected_wait_initial_days: float = P(
        21, ASSUME, "Initial expected wait for a centre place, days", ge=0
    )
    wait_learning_rate: float = P(
        0.3, ASSUME, "Weight of the latest experienced wait in the expected wait", ge=0, le=1
    )
    refusal_wait_penalty_days: float = P(
        90, ASSUME, "Wait a municipality books as experienced after a Bufetat refusal", ge=0
    )

    # --- the municipality's choice (multinomial logit) ------------------------------------------
    asc_residential: float = P(
        0.6,
        f"{ASSUME}: set so that the 2025 baseline has ~16,000 family bed-days (~20,000 child "
        "bed-days), below SSB's 23,087 in 2022 as use kept falling (brief §5); issue 5 calibrates",
        "Alternative constant: residential via Bufetat",
    )
    asc_home_centre: float = P(-0.2, ASSUME, "Alternative constant: centre staff at home")
    asc_own: float = P(0.6, ASSUME, "Alternative constant: own home assessment")
    asc_emergency: float = P(-3.0, ASSUME, "Alternative constant: emergency placement")
    asc_direct_purchase: float = P(
        -0.5, ASSUME, "Alternative constant: direct purchase after a refusal"
    )
    beta_severity_residential: float = P(
        2.0, ASSUME, "Severity weight for a residential assessment (vs own)"
    )
    beta_severity_home_centre: float = P(0.8, ASSUME, "Severity weight for centre staff at home")
    beta_severity_emergency: float = P(
        3.5, ASSUME, "Severity weight for an emergency placement (vs own)"
    )
    beta_cost_per_100k: float = P(
        -0.8,
        f"{ASSUME}: sign from Deloitte 2019 (where/how responds to price)",
        "Utility per 100,000 NOK of municipal cost",
        le=0,
    )
    price_response_floor: float = P(
        0.25,
        "Deloitte 2019: price moves the choice only where the municipality can organise "
        f"alternatives; {ASSUME} for the value",
        "Share of the price weight felt by a municipality with no own capacity",
        ge=0,
        le=1,
    )
    beta_travel_per_hour: float = P(
        -0.15, f"{ASSUME}: {MENON}: distance makes the offer unreal", "Per hour of travel", le=0
    )
    beta_home_travel_per_hour: float = P(
        -0.1, ASSUME, "Per hour of staff travel for centre staff working at home", le=0
    )
    beta_wait_per_30_days: float = P(
        -0.6, f"{ASSUME}: {MENON}: waits push urgent cases to other measures", "Per 30 days", le=0
    )
    beta_urgent_wait_per_30_days: float = P(
        -1.5, ASSUME, "Extra weight of the expected wait for urgent cases", le=0
    )
    beta_familiarity: float = P(
        1.5, f"{ASSUME}: {MENON}: knowledge and habit", "Per unit of familiarity", ge=0
    )
    beta_own_capacity: float = P(
        2.0, f"{ASSUME}: {MENON}: large services assess at home", "Own option, per capacity", ge=0
    )
    guidance_bonus: float = P(
        0.5,
        f"{ASSUME}: {MENON}: the 2022 assessment-first mandate made centres less attractive",
        "Utility added to centre options when guidance is allowed during assessment",
        ge=0,
    )

    # --- consent to a residential stay --------------------------------------------------------
    consent_intercept: float = P(2.2, ASSUME, "Log-odds of consent at zero travel")
    consent_travel_per_hour: float = P(
        -0.3, f"{ASSUME}: {MENON}: long travel → refusal", "Per hour of travel", le=0
    )
    consent_weekend_trip_per_hour: float = P(
        -0.03,
        f"{ASSUME}: {MENON}: weekend closing means travelling home",
        "Per hour of travel home and back forced by closures, per month of stay",
        le=0,
    )
    consent_sibling_over_6: float = P(
        -0.8, f"{ASSUME}: {MENON}: siblings left out", "When a sibling over 6 cannot come", le=0
    )
    consent_pressure: float = P(
        1.5,
        f"{ASSUME}: {MENON}: 'voluntary coercion' - the alternative may be a care order",
        "Per unit of severity",
        ge=0,
    )

    # --- assessments and stays ----------------------------------------------------------------
    residential_days_median: float = P(
        40,
        f"{MENON}: stays of 2 weeks-3 months, average 1.5 months; presence days (weekends "
        "closed lengthen the calendar stay)",
        "Median presence days of a residential assessment",
        gt=0,
    )
    mandate_familiarity_loss: float = P(
        0.0,
        f"{ASSUME}: {MENON}: the assessment-first mandate made the centres a different offer "
        "from the one services knew (brief §5: mismatch between what municipalities ask for and "
        "the mandate); size calibrated",
        "Share of every municipality's familiarity lost when stays become assessment-only",
        ge=0,
        le=1,
    )
    guidance_stay_factor: float = P(
        1.0,
        f"{ASSUME}: brief §1: before 2022 the centres combined assessment with guidance; "
        "assessment-first stays (2022-) are shorter. Reconciles SSB's ~56 bed-days per measure "
        "(2017) with Menon's 1.5-month stay (2024)",
        "Median residential stay multiplied by this under the guidance_stays lever",
        ge=0.5,
        le=2.0,
    )
    residential_days_min: int = P(14, f"{MENON}: 2 weeks", "Fewest presence days", gt=0)
    residential_days_max: int = P(90, f"{MENON}: 3 months", "Most presence days", gt=0)
    duration_sigma: float = P(0.35, ASSUME, "Log-normal spread of assessment lengths", ge=0)
    home_centre_days_median: float = P(
        56,
        f"{ASSUME}: observations 2-3 days a week over some weeks ({MENON})",
        "Median calendar days of a home-based assessment by centre staff",
        gt=0,
    )
    own_assessment_days_median: float = P(
        60, ASSUME, "Median calendar days of the municipality's own home assessment", gt=0
    )
    home_assessment_days_min: int = P(
        14,
        f"{ASSUME}: as a residential stay ({MENON}: assessments take 2 weeks to 3 months)",
        "Fewest calendar days of an assessment at home (centre staff or own staff)",
        gt=0,
    )
    home_assessment_days_max: int = P(
        180,
        f"{ASSUME}: twice the 3-month investigation deadline, which may be extended",
        "Most calendar days of an assessment at home (centre staff or own staff)",
        gt=0,
    )
    start_lead_days: int = P(
        5,
        "Bufetat standard process: referral meeting within 2 working days, then a start-up "
        f"meeting (brief §2); {ASSUME} for the total",
        "Days from allocation to the earliest start",
        ge=0,
    )
    min_days_before_deadline: int = P(
        14,
        f"{ASSUME}: a place must start early enough to finish a 2-week assessment",
        "A place must start at least this many days before the investigation deadline",
        ge=0,
    )
    max_home_travel_hours: float = P(
        3.0, ASSUME, "Longest one-way staff travel for home-based work by a centre", gt=0
    )
    dropout_per_stay: float = P(
        0.04, ASSUME, "Probability that a family drops out of a stay for other reasons", ge=0, le=1
    )
    dropout_per_break: float = P(
        0.01, ASSUME, "Drop-out probability at each closure break", ge=0, le=1
    )
    dropout_per_break_travel_hour: float = P(
        0.006,
        f"{ASSUME}: {MENON}: breaks are a burden growing with distance",
        "Extra drop-out probability per break per hour of travel home",
        ge=0,
    )

    # --- intake -------------------------------------------------------------------------------
    cross_region_share: float = P(
        0.5,
        "Brief §2: how often Bufetat places a family in another region is not documented; "
        f"{ASSUME}",
        "Probability that an intake looks at other regions' centres when its own are full",
        ge=0,
        le=1,
    )
    cross_region_max_hours: float = P(
        8.0, ASSUME, "Longest travel for a placement in another region", gt=0
    )

    # --- decision after the assessment --------------------------------------------------------
    placement_threshold: float = P(
        0.62,
        f"{ASSUME}: share of assessed 0-5s placed out of home is not public",
        "Latent need above which the right decision is a placement",
        ge=0,
        le=1,
    )
    need_noise_sd: float = P(0.12, ASSUME, "SD of latent need around severity", ge=0)
    accuracy_residential: float = P(
        0.9,
        f"{ASSUME}: {MENON}: a better assessment makes the right decision more likely",
        "Probability that the decision after a residential assessment is right",
        ge=0,
        le=1,
    )
    accuracy_home_centre: float = P(0.85, ASSUME, "Same, centre staff at home", ge=0, le=1)
    accuracy_own: float = P(0.75, ASSUME, "Same, municipality's own assessment", ge=0, le=1)
    institution_share_of_placements: float = P(
        0.04,
        f"{ASSUME}: {MENON}: institutions are rare for small children",
        "Share of placements of a child 0-6 that go to an institution",
        ge=0,
        le=1,
    )

    # --- how the municipality sees costs (the NOK figures are in [costs], model/costs.py) ----
    residential_months_expected: float = P(
        1.5, f"{MENON}: average residential stay 1.5 months", "Months billed, residential", gt=0
    )
    home_centre_months_expected: float = P(
        2.0, ASSUME, "Months billed for centre staff at home", gt=0
    )
    high_risk_severity: float = P(
        0.7,
        f"{ASSUME}: the cut-off for 'high-risk cases' in the co-payment lever",
        "Severity at or above which a case counts as high-risk",
        ge=0,
        le=1,
    )
    emergency_months_expected: float = P(
        3.0, ASSUME, "Months of an emergency foster home billed to the municipality", gt=0
    )

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> Parameters:
        if self.days_used_before_referral_min > self.days_used_before_referral_max:
            raise ValueError(
                "days_used_before_referral_min must not exceed days_used_before_referral_max"
            )
        if self.residential_days_min > self.residential_days_max:
            raise ValueError("residential_days_min must not exceed residential_days_max")
        if self.days_used_before_referral_max >= self.investigation_deadline_days:
            raise ValueError(
                "days_used_before_referral_max must be below investigation_deadline_days"
            )
        return self


CALIBRATED_FILE = Path(__file__).resolve().parent / "calibrated_parameters.toml"
CALIBRATED = "CALIBRATED"
PRIOR_DEFAULTS: dict[str, Any] = {}
"""The defaults in this file before the calibrated values replaced them (the priors)."""


def apply_calibrated_defaults(path: Path = CALIBRATED_FILE) -> dict[str, float]:
    """Make the values in ``[parameters]`` of the calibrated file the defaults of Parameters.

    Written by ``sfbsim calibrate --write-defaults`` (experiments/calibration.py); each source
    then starts with ``CALIBRATED`` and keeps the prior source. See docs/calibration.md.
    """
    if not path.is_file():
        return {}
    values = tomllib.loads(path.read_text(encoding="utf-8")).get("parameters", {})
    for name, value in values.items():
        field = Parameters.model_fields[name]  # an unknown name is an error
        PRIOR_DEFAULTS.setdefault(name, field.default)
        extra = field.json_schema_extra
        prior = extra.get("source", "")  # type: ignore[union-attr]
        if not prior.startswith(CALIBRATED):
            extra["source"] = (  # type: ignore[index]
                f"{CALIBRATED} against SSB series 2013-2024 (docs/calibration.md); prior "
                f"{field.default}: {prior}"
            )
        field.default = int(value) if field.annotation is int else float(value)
    Parameters.model_rebuild(force=True)
    Parameters()  # the calibrated values must pass the validators
    return values


CALIBRATED_VALUES = apply_calibrated_defaults()

NonNegInt = Annotated[int, Field(ge=0)]


class CentreOverride(Strict):
    """Per-centre lever values; anything left out keeps the bundled value."""

    weekend_policy: WeekendPolicy | None = None
    residential_units: NonNegInt | None = None
    home_based_capacity: NonNegInt | None = None
    summer_closure_weeks: Annotated[int, Field(ge=0, le=12)] | None = None
    holidays_open: bool | None = None


class Levers(Strict):
    """Policy levers (brief §6)."""

    weekend_policy: WeekendPolicy | None = Field(
        None, description="Weekend policy for every centre (None keeps each centre's own)"
    )
    holidays_open: bool = Field(False, description="Centres open on public holidays")
    summer_closure_weeks: Annotated[int, Field(ge=0, le=12)] | None = Field(
        None, description="Summer closure weeks for every centre (None keeps each centre's own)"
    )
    copay_multiplier: float = Field(1.0, ge=0, description="Multiplier on all centre co-payments")
    copay_multiplier_residential: float = Field(1.0, ge=0, description="Extra, residential")
    copay_multiplier_home: float = Field(1.0, ge=0, description="Extra, home-based")
    copay_multiplier_high_risk: float = Field(
        1.0, ge=0, description="Extra multiplier on centre co-payments for high-risk cases"
    )
    full_municipal_financing: bool = Field(
        False,
        description="The municipality pays the full cost of centre assessments instead of the "
        "co-payment (the Alta/Færder/Røyken trial, Deloitte 2019)",
    )
    case_rate_multiplier: float = Field(
        1.0,
        ge=0,
        description="Multiplier on the serious-concern case rate (e.g. the pandemic, falling "
        "case volumes)",
    )
    older_children_included: bool = Field(
        False,
        description="Centres also take children 6-12 (the pre-2022 mandate)",
    )
    units_multiplier: float = Field(1.0, ge=0, description="Multiplier on residential units")
    home_capacity_multiplier: float = Field(1.0, ge=0, description="Multiplier, home-based")
    intake_meeting_days: list[Weekday] = Field(
        default_factory=lambda: ["tue", "thu"],
        min_length=1,
        description="Weekdays of intake assessment meetings (standard process: twice a week)",
    )
    fast_track_urgent: bool = Field(
        False, description="Urgent referrals are allocated on the day, not at the next meeting"
    )
    duty_to_assist: bool = Field(False, description="Bufetat may not refuse: it queues instead")
    information_campaign: float = Field(
        0.0, ge=0, le=1, description="Share of the gap to full familiarity closed at the start"
    )
    sibling_flexibility: bool = Field(False, description="Centres take siblings over 6 along")
    guidance_allowed: bool = Field(False, description="Guidance allowed during assessment")
    guidance_stays: bool = Field(
        False,
        description="Residential stays combine assessment with guidance, as before the 2022 "
        "reform: their median length is multiplied by guidance_stay_factor",
    )
    centres: dict[str, CentreOverride] = Field(
        default_factory=dict, description="Per-centre overrides by centre_id"
    )

    @model_validator(mode="after")
    def _unique_days(self) -> Levers:
        if len(set(self.intake_meeting_days)) != len(self.intake_meeting_days):
            raise ValueError("intake_meeting_days lists a weekday twice")
        return self


DATED_LEVERS: tuple[str, ...] = (
    "weekend_policy",
    "holidays_open",
    "copay_multiplier",
    "copay_multiplier_residential",
    "copay_multiplier_home",
    "copay_multiplier_high_risk",
    "case_rate_multiplier",
    "older_children_included",
    "units_multiplier",
    "home_capacity_multiplier",
    "intake_meeting_days",
    "fast_track_urgent",
    "duty_to_assist",
    "information_campaign",
    "sibling_flexibility",
    "guidance_allowed",
    "guidance_stays",
    "full_municipal_financing",
)
"""Levers that a reform may change from a date (``[[changes]]``)."""


class Change(Strict):
    """A lever set to a value, optionally only from ``start`` and/or until ``end`` (exclusive).

    With ``centre`` the change applies to that centre only (weekend_policy, holidays_open,
    residential_units, home_based_capacity).
    """

    lever: str
    value: Any
    start: dt.date | None = None
    end: dt.date | None = None
    centre: str | None = None

    @model_validator(mode="after")
    def _known_lever(self) -> Change:
        allowed = CENTRE_LEVERS if self.centre is not None else DATED_LEVERS
        if self.lever not in allowed:
            raise ValueError(
                f"unknown lever {self.lever!r}"
                + (" for a centre" if self.centre is not None else "")
                + f"; allowed: {', '.join(allowed)}"
            )
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(
                f"change of {self.lever}: end {self.end} is not after start {self.start}"
            )
        return self


CENTRE_LEVERS: tuple[str, ...] = (
    "weekend_policy",
    "holidays_open",
    "residential_units",
    "home_based_capacity",
)


class NewCentre(Strict):
    """A centre that opens during the run (e.g. in the north or in Innlandet)."""

    centre_id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = ""
    kommunenummer: str = Field(pattern=r"^[0-9]{4}$")
    operator: Literal["bufetat", "ideell", "oslo_municipal"] = "bufetat"
    residential_units: NonNegInt = 5
    home_based_capacity: NonNegInt = 3
    weekend_policy: WeekendPolicy = "every_other_weekend_closed"
    summer_closure_weeks: Annotated[int, Field(ge=0, le=12)] = 2
    nationwide_intake: bool = False
    opens: dt.date | None = None


class ClosedCentre(Strict):
    """A centre that closes during the run."""

    centre_id: str
    closes: dt.date


class RunSettings(Strict):
    """When the simulation starts and how long it runs."""

    # 2012 is allowed as a warm-up year for the history replay (docs/calibration.md);
    # co-payment rates before 2013 clamp to 2013, population data starts in 2005.
    start_year: Annotated[int, Field(ge=2012, le=2100)] = 2025
    years: Annotated[int, Field(ge=1, le=100)] = 10
    seed: Annotated[int, Field(ge=0)] = 1


class Scenario(Strict):
    """A scenario file: run settings, parameters, levers, and dated changes.

    A reform names its ``baseline`` (a shipped scenario or a path) and lists only what
    differs; experiments.scenario_files merges it onto the baseline before validation.
    """

    name: str = "baseline"
    description: str = ""
    baseline: str | None = None
    run: RunSettings = Field(default_factory=RunSettings)
    parameters: Parameters = Field(default_factory=Parameters)
    levers: Levers = Field(default_factory=Levers)
    costs: Costs = Field(default_factory=Costs)
    changes: list[Change] = Field(default_factory=list)
    new_centres: list[NewCentre] = Field(default_factory=list)
    closed_centres: list[ClosedCentre] = Field(default_factory=list)

    def with_run(
        self, *, years: int | None = None, seed: int | None = None, start_year: int | None = None
    ) -> Scenario:
        """The same scenario with some run settings replaced (validated: a bad value raises
        pydantic's ValidationError naming the setting and its allowed range)."""
        updates = {
            key: value
            for key, value in (("years", years), ("seed", seed), ("start_year", start_year))
            if value is not None
        }
        if not updates:
            return self
        run = RunSettings.model_validate({**self.run.model_dump(), **updates})
        return self.model_copy(update={"run": run})


def parameter_sources() -> dict[str, str]:
    """Map every behavioural parameter to its documented source."""
    return sources_of(Parameters)
