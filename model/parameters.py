"""Validated parameters, levers and scenarios.

The behavioural parameters' values, units, plausible ranges and sources are data: the files in
model/data/parameters/ (model.parameter_files); this module declares their types. A source that
starts with ``ASSUMPTION`` marks a value we chose, ``CALIBRATED`` one fitted by
``sfbsim calibrate``; docs/ODD.md lists them all (``tools/render_parameters.py`` writes that
table from the files).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sfbsim.model.costs import Costs
from sfbsim.model.parameter_files import entries, from_file

WeekendPolicy = Literal[
    "open_every_weekend",
    "every_other_weekend_closed",
    "all_weekends_closed",
    "weekdays_only",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
WEEKDAY_INDEX: dict[str, int] = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4}


class Strict(BaseModel):
    """Base for every scenario section: unknown keys, wrong types (strictly: "0.5" is not a
    number, "yes" not a boolean), NaN and infinity are errors."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False, strict=True
    )


class Parameters(Strict):
    """Behavioural parameters of the model (not levers)."""

    # --- case process -------------------------------------------------------------------------
    case_rate_per_1000_children: float = from_file("case_rate_per_1000_children")
    age_0_2_case_weight: float = from_file("age_0_2_case_weight")
    age_6_12_case_ratio: float = from_file("age_6_12_case_ratio")
    two_parent_share: float = from_file("two_parent_share")
    extra_child_share: float = from_file("extra_child_share")
    sibling_over_6_share: float = from_file("sibling_over_6_share")
    severity_beta_a: float = from_file("severity_beta_a")
    severity_beta_b: float = from_file("severity_beta_b")
    urgent_severity: float = from_file("urgent_severity")
    investigation_deadline_days: int = from_file("investigation_deadline_days")
    days_used_before_referral_min: int = from_file("days_used_before_referral_min")
    days_used_before_referral_max: int = from_file("days_used_before_referral_max")

    # --- municipalities -----------------------------------------------------------------------
    own_capacity_small: float = from_file("own_capacity_small")
    own_capacity_medium: float = from_file("own_capacity_medium")
    own_capacity_large: float = from_file("own_capacity_large")
    budget_pressure_small: float = from_file("budget_pressure_small")
    budget_pressure_medium: float = from_file("budget_pressure_medium")
    budget_pressure_large: float = from_file("budget_pressure_large")
    municipality_noise_sd: float = from_file("municipality_noise_sd")
    familiarity_small: float = from_file("familiarity_small")
    familiarity_medium: float = from_file("familiarity_medium")
    familiarity_large: float = from_file("familiarity_large")
    familiarity_gain: float = from_file("familiarity_gain")
    familiarity_diffusion: float = from_file("familiarity_diffusion")
    familiarity_decay: float = from_file("familiarity_decay")
    cooperation_edge_prob: float = from_file("cooperation_edge_prob")
    expected_wait_initial_days: float = from_file("expected_wait_initial_days")
    wait_learning_rate: float = from_file("wait_learning_rate")
    refusal_wait_penalty_days: float = from_file("refusal_wait_penalty_days")
    experience_weight: float = from_file("experience_weight")
    experience_learning_rate: float = from_file("experience_learning_rate")
    own_capacity_sd: float = from_file("own_capacity_sd")
    case_rate_dispersion_shape: float = from_file("case_rate_dispersion_shape")

    # --- the municipality's choice (multinomial logit) ------------------------------------------
    asc_residential: float = from_file("asc_residential")
    asc_home_centre: float = from_file("asc_home_centre")
    asc_own: float = from_file("asc_own")
    asc_emergency: float = from_file("asc_emergency")
    asc_direct_purchase: float = from_file("asc_direct_purchase")
    beta_severity_residential: float = from_file("beta_severity_residential")
    beta_severity_home_centre: float = from_file("beta_severity_home_centre")
    beta_severity_emergency: float = from_file("beta_severity_emergency")
    beta_cost_per_100k: float = from_file("beta_cost_per_100k")
    price_response_floor: float = from_file("price_response_floor")
    beta_travel_per_hour: float = from_file("beta_travel_per_hour")
    beta_home_travel_per_hour: float = from_file("beta_home_travel_per_hour")
    beta_wait_per_30_days: float = from_file("beta_wait_per_30_days")
    beta_urgent_wait_per_30_days: float = from_file("beta_urgent_wait_per_30_days")
    beta_familiarity: float = from_file("beta_familiarity")
    beta_own_capacity: float = from_file("beta_own_capacity")
    guidance_bonus: float = from_file("guidance_bonus")
    beta_anticipation: float = from_file("beta_anticipation")
    beta_weekend_risk: float = from_file("beta_weekend_risk")
    asc_follow_up: float = from_file("asc_follow_up")
    beta_severity_follow_up: float = from_file("beta_severity_follow_up")
    beta_home_visits: float = from_file("beta_home_visits")

    # --- consent to a residential stay --------------------------------------------------------
    consent_intercept: float = from_file("consent_intercept")
    consent_travel_per_hour: float = from_file("consent_travel_per_hour")
    consent_weekend_trip_per_hour: float = from_file("consent_weekend_trip_per_hour")
    consent_sibling_over_6: float = from_file("consent_sibling_over_6")
    consent_pressure: float = from_file("consent_pressure")
    consent_wait_per_30_days: float = from_file("consent_wait_per_30_days")

    # --- assessments and stays ----------------------------------------------------------------
    residential_days_median: float = from_file("residential_days_median")
    mandate_familiarity_loss: float = from_file("mandate_familiarity_loss")
    guidance_stay_factor: float = from_file("guidance_stay_factor")
    residential_days_min: int = from_file("residential_days_min")
    residential_days_max: int = from_file("residential_days_max")
    duration_sigma: float = from_file("duration_sigma")
    home_centre_days_median: float = from_file("home_centre_days_median")
    own_assessment_days_median: float = from_file("own_assessment_days_median")
    home_assessment_days_min: int = from_file("home_assessment_days_min")
    home_assessment_days_max: int = from_file("home_assessment_days_max")
    home_visit_observation_hours: float = from_file("home_visit_observation_hours")
    home_report_hours: float = from_file("home_report_hours")
    home_visits_nominal: int = from_file("home_visits_nominal")
    home_visits_min: int = from_file("home_visits_min")
    start_lead_days: int = from_file("start_lead_days")
    min_days_before_deadline: int = from_file("min_days_before_deadline")
    dropout_per_stay: float = from_file("dropout_per_stay")
    dropout_per_break: float = from_file("dropout_per_break")
    dropout_per_break_travel_hour: float = from_file("dropout_per_break_travel_hour")

    # --- intake -------------------------------------------------------------------------------
    cross_region_share: float = from_file("cross_region_share")
    cross_region_max_hours: float = from_file("cross_region_max_hours")

    # --- decision after the assessment --------------------------------------------------------
    placement_threshold: float = from_file("placement_threshold")
    need_noise_sd: float = from_file("need_noise_sd")
    accuracy_residential: float = from_file("accuracy_residential")
    accuracy_home_centre: float = from_file("accuracy_home_centre")
    accuracy_own: float = from_file("accuracy_own")
    institution_share_of_placements: float = from_file("institution_share_of_placements")

    # --- how the municipality sees costs (the NOK figures are in [costs], model/costs.py) ----
    residential_months_expected: float = from_file("residential_months_expected")
    home_centre_months_expected: float = from_file("home_centre_months_expected")
    high_risk_severity: float = from_file("high_risk_severity")
    emergency_months_expected: float = from_file("emergency_months_expected")

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


NonNegInt = Annotated[int, Field(ge=0)]
Units = Annotated[int, Field(ge=0, le=200)]
"""Residential units or home-based slots of one centre: 0-200 (the largest centre has 13)."""
Multiplier = Annotated[float, Field(ge=0, le=10)]
"""A lever's multiplier: 0-10 (10 times today's rate, capacity or case volume at most)."""


def unit(text: str, none: str | None = None) -> dict[str, str]:
    """A lever's unit, and what leaving it unset (None) means, kept with its field
    (``sfbsim levers``, the report and docs/ODD.md §9 show them)."""
    return {"unit": text} if none is None else {"unit": text, "none": none}


OWN = "each centre's own"
"""What an unset all-centre lever means."""
AS_ALL = "as for every centre"
"""What an unset per-centre override means."""


CENTRE_DATA = "default: the centre's value in model/data/centres.csv"


class CentreOverride(Strict):
    """Per-centre lever values; anything left out keeps the bundled value."""

    weekend_policy: WeekendPolicy | None = Field(
        None,
        description=f"This centre's weekend policy, above the all-centre lever ({CENTRE_DATA})",
        json_schema_extra=unit("policy", AS_ALL),
    )
    residential_units: Units | None = Field(
        None,
        description=f"This centre's residential units (families at a time; {CENTRE_DATA})",
        json_schema_extra=unit("units", AS_ALL),
    )
    home_based_capacity: Units | None = Field(
        None,
        description=f"This centre's home-based assessments at a time by its staff ({CENTRE_DATA})",
        json_schema_extra=unit("families", AS_ALL),
    )
    summer_closure_weeks: Annotated[int, Field(ge=0, le=12)] | None = Field(
        None,
        description=f"This centre's summer closure from ISO week 29 ({CENTRE_DATA})",
        json_schema_extra=unit("weeks", AS_ALL),
    )
    holidays_open: bool | None = Field(
        None,
        description="This centre open on public holidays (default: the all-centre lever)",
        json_schema_extra=unit("on/off", AS_ALL),
    )


class Levers(Strict):
    """Policy levers (brief §6)."""

    weekend_policy: WeekendPolicy | None = Field(
        None,
        description="Weekend policy for every centre (left out: each centre keeps its own)",
        json_schema_extra=unit("policy", OWN),
    )
    holidays_open: bool = Field(
        False, description="Centres open on public holidays", json_schema_extra=unit("on/off")
    )
    summer_closure_weeks: Annotated[int, Field(ge=0, le=12)] | None = Field(
        None,
        description="Summer closure weeks for every centre (left out: each centre keeps its own)",
        json_schema_extra=unit("weeks", OWN),
    )
    copay_multiplier: Multiplier = Field(
        1.0,
        description="Multiplier on all centre co-payments (the Ministry's rates, "
        "model/data/copay_rates.csv)",
        json_schema_extra=unit("× rate"),
    )
    copay_multiplier_residential: Multiplier = Field(
        1.0,
        description="Extra multiplier on the co-payment for residential stays",
        json_schema_extra=unit("× rate"),
    )
    copay_multiplier_home: Multiplier = Field(
        1.0,
        description="Extra multiplier on the co-payment for home-based assessments",
        json_schema_extra=unit("× rate"),
    )
    copay_multiplier_high_risk: Multiplier = Field(
        1.0,
        description="Extra multiplier on centre co-payments for high-risk cases",
        json_schema_extra=unit("× rate"),
    )
    full_municipal_financing: bool = Field(
        False,
        description="The municipality pays the full cost of centre assessments instead of the "
        "co-payment (the Alta/Færder/Røyken trial, Deloitte 2019)",
        json_schema_extra=unit("on/off"),
    )
    case_rate_multiplier: Multiplier = Field(
        1.0,
        description="Multiplier on the serious-concern case rate (e.g. the pandemic, falling "
        "case volumes)",
        json_schema_extra=unit("× rate"),
    )
    older_children_included: bool = Field(
        False,
        description="Centres also take children 6-12 (the pre-2022 mandate)",
        json_schema_extra=unit("on/off"),
    )
    units_multiplier: Multiplier = Field(
        1.0,
        description="Multiplier on every centre's residential units (rounded per centre)",
        json_schema_extra=unit("× units"),
    )
    home_capacity_multiplier: Multiplier = Field(
        1.0,
        description="Multiplier on every centre's home-based capacity (rounded per centre)",
        json_schema_extra=unit("× capacity"),
    )
    intake_meeting_days: list[Weekday] = Field(
        default_factory=lambda: ["tue", "thu"],
        min_length=1,
        description="Weekdays of intake assessment meetings (standard process: twice a week)",
        json_schema_extra=unit("weekdays"),
    )
    fast_track_urgent: bool = Field(
        False,
        description="Urgent referrals are allocated on the day, not at the next meeting",
        json_schema_extra=unit("on/off"),
    )
    duty_to_assist: bool = Field(
        False,
        description="Bufetat may not refuse: it queues instead",
        json_schema_extra=unit("on/off"),
    )
    information_campaign: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the gap to full familiarity closed at the start",
        json_schema_extra=unit("share"),
    )
    sibling_flexibility: bool = Field(
        False,
        description="Centres take siblings over 6 along",
        json_schema_extra=unit("on/off"),
    )
    guidance_allowed: bool = Field(
        False,
        description="Guidance allowed during assessment",
        json_schema_extra=unit("on/off"),
    )
    guidance_stays: bool = Field(
        False,
        description="Residential stays combine assessment with guidance, as before the 2022 "
        "reform: their median length is multiplied by guidance_stay_factor",
        json_schema_extra=unit("on/off"),
    )
    centres: dict[str, CentreOverride] = Field(
        default_factory=dict,
        description="Per-centre overrides by centre_id ([levers.centres.ID], listed below)",
        json_schema_extra=unit("table"),
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
    """A centre that opens during the run (e.g. in the north or in Innlandet).

    Its ``weekend_policy`` is its own: a scenario's all-centre ``weekend_policy`` lever (and a
    dated change of it) overrides it, a per-centre override or change for it overrides both
    (model/reforms.py, ``LeverTimeline.centre_setting``).
    """

    centre_id: str = Field(
        pattern=r"^[a-z0-9_]+$",
        description="Identifier (lower-case letters, digits, _), e.g. for [levers.centres.ID]",
        json_schema_extra=unit("name"),
    )
    name: str = Field(
        "",
        description="Display name",
        json_schema_extra=unit("text", "New centre in MUNICIPALITY"),
    )
    kommunenummer: str = Field(
        pattern=r"^[0-9]{4}$",
        description="The municipality it lies in (2024 numbers, model/data/municipalities.csv)",
        json_schema_extra=unit("4 digits"),
    )
    operator: Literal["bufetat", "ideell", "oslo_municipal"] = Field(
        "bufetat",
        description="Who runs it: Bufetat, a non-profit (ideell) or Oslo municipality",
        json_schema_extra=unit("operator"),
    )
    residential_units: Units = Field(
        5,
        description="Residential units (families at a time); ASSUMPTION 5: Bufetat's centres "
        "have 4-6 (model/data/centres.csv)",
        json_schema_extra=unit("units"),
    )
    home_based_capacity: Units = Field(
        3,
        description="Home-based assessments at a time by its staff; ASSUMPTION 3: the median "
        "Bufetat centre's (model/data/centres.csv)",
        json_schema_extra=unit("families"),
    )
    weekend_policy: WeekendPolicy = Field(
        "every_other_weekend_closed",
        description="Its own weekend policy (the most common one in model/data/centres.csv); "
        "the scenario's weekend_policy lever, when set, overrides it",
        json_schema_extra=unit("policy"),
    )
    summer_closure_weeks: Annotated[int, Field(ge=0, le=12)] = Field(
        2,
        description="Summer closure from ISO week 29; 2 as most centres in "
        "model/data/centres.csv (the scenario's lever, when set, overrides it)",
        json_schema_extra=unit("weeks"),
    )
    nationwide_intake: bool = Field(
        False,
        description="Approved for families from the whole country; recorded only: the "
        "intakes do not use it (any centre takes other regions' families within "
        "cross_region_max_hours)",
        json_schema_extra=unit("on/off"),
    )
    opens: dt.date | None = Field(
        None,
        description="Opening day (default: the first day of the run)",
        json_schema_extra=unit("date", "the run's first day"),
    )


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
    seed: Annotated[int, Field(ge=0, le=10**12)] = 1

    @property
    def first_day(self) -> dt.date:
        """1 January of the first simulated year."""
        return dt.date(self.start_year, 1, 1)

    @property
    def end_day(self) -> dt.date:
        """The day after the last simulated day (1 January after the run)."""
        return dt.date(self.start_year + self.years, 1, 1)


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

    def date_problems(self, own: dict[str, int] | None = None) -> list[str]:
        """Dated entries that cannot take effect in the simulated period, in words: a change
        that ends before the run starts or starts after it ends, a centre that opens after the
        run, a closure outside the run, two closures of one centre.

        ``own`` limits the check to the last ``own[key]`` entries of ``changes``,
        ``new_centres`` and ``closed_centres`` (a reform's own entries; those it inherits from
        a baseline whose run it shortens are not its errors).
        """
        first, end = self.run.first_day, self.run.end_day

        def checked(key: str, items: list) -> list[tuple[int, Any]]:
            start = 0 if own is None else len(items) - own.get(key, 0)
            return [(i, item) for i, item in enumerate(items) if i >= start]

        period = f"the simulated period {first} to {end - dt.timedelta(days=1)}"
        problems = []
        for i, change in checked("changes", self.changes):
            where = f"changes[{i}] ({change.lever})"
            if change.start is not None and change.start >= end:
                problems.append(
                    f"{where}: starts on {change.start}, after {period}, so it would do nothing; "
                    "move the date or lengthen the run ([run] years)"
                )
            if change.end is not None and change.end <= first:
                problems.append(
                    f"{where}: ends on {change.end}, before {period} starts, so it would do "
                    "nothing; move the dates or remove the change"
                )
        for i, centre in checked("new_centres", self.new_centres):
            if centre.opens is not None and centre.opens >= end:
                problems.append(
                    f"new_centres[{i}] ({centre.centre_id}): opens on {centre.opens}, after "
                    f"{period}; move the date or lengthen the run"
                )
        seen: dict[str, int] = {}
        mine = {i for i, _ in checked("closed_centres", self.closed_centres)}
        for i, closure in enumerate(self.closed_centres):
            where = f"closed_centres[{i}] ({closure.centre_id})"
            if i not in mine:
                seen.setdefault(closure.centre_id, i)
                continue
            if closure.centre_id in seen:
                problems.append(
                    f"{where}: the centre is already closed by closed_centres"
                    f"[{seen[closure.centre_id]}]; keep one closure per centre"
                )
            seen.setdefault(closure.centre_id, i)
            if not first <= closure.closes < end:
                problems.append(
                    f"{where}: closes on {closure.closes}, outside {period}; a closure must fall "
                    "within the run (to leave a centre out from the start, close it on "
                    f"{first + dt.timedelta(days=1)})"
                )
        return problems

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
    return {name: entry.source for name, entry in entries("parameters").items()}
