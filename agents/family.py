"""A family with a child aged 0-6 about whom there is serious concern."""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sfbsim.agents.centre import Centre
    from sfbsim.agents.municipality import Municipality
    from sfbsim.model.model import SfbModel
    from sfbsim.model.parameters import Parameters


class Status(IntEnum):
    """Where a family is on a given day; every arrived family is in exactly one."""

    WAITING = 0
    IN_ASSESSMENT = 1
    FINISHED = 2
    DROPPED_OUT = 3


class Option(StrEnum):
    """The ways a municipality can get a case assessed (or placed, or left at follow-up)."""

    RESIDENTIAL = "residential"
    HOME_CENTRE = "home_centre"
    OWN = "own"
    EMERGENCY = "emergency"
    DIRECT_PURCHASE = "direct_purchase"
    FOLLOW_UP = "follow_up"
    """Nothing beyond the service's ordinary follow-up (after the parents decline a proposed
    stay or refuse an offered place)."""


class Decision(StrEnum):
    """The municipality's decision after the assessment."""

    HOME_WITH_SUPPORT = "home_with_support"
    FOSTER_HOME = "foster_home"
    INSTITUTION = "institution"
    EMERGENCY_FOSTER_HOME = "emergency_foster_home"


# Module-level aliases: attribute access on an Enum class is slow on the hot path.
WAITING, IN_ASSESSMENT, FINISHED, DROPPED_OUT = (
    Status.WAITING,
    Status.IN_ASSESSMENT,
    Status.FINISHED,
    Status.DROPPED_OUT,
)
RESIDENTIAL, HOME_CENTRE, OWN, EMERGENCY, DIRECT_PURCHASE, FOLLOW_UP = (
    Option.RESIDENTIAL,
    Option.HOME_CENTRE,
    Option.OWN,
    Option.EMERGENCY,
    Option.DIRECT_PURCHASE,
    Option.FOLLOW_UP,
)
STATUS_NAMES = [status.name.lower() for status in Status]
CENTRE_OPTIONS = (RESIDENTIAL, HOME_CENTRE, DIRECT_PURCHASE)
"""Options whose start is an admission to a centre (residential, home-based, bought)."""


def logistic(x: float) -> float:
    """The logistic function."""
    return 1.0 / (1.0 + math.exp(-x))


class Family(mesa.Agent):
    """A family referred into the model by a serious concern.

    ``luck[stream]`` is ``(values, width)``: the uniforms drawn from one of the model's named
    streams for all of the year's arrivals, ``width`` per family, and this family's are
    ``values[row * width:(row + 1) * width]``; so the same family meets the same luck in every
    scenario.
    """

    # Defaults until the family's path sets them (class attributes: cheap for many families).
    status: Status = WAITING
    option: Option | None = None
    options_tried: tuple[Option, ...] = ()
    centre: Centre | None = None
    unit: int | None = None
    start_day: int | None = None
    end_day: int | None = None
    decision: Decision | None = None
    decision_correct: bool | None = None
    consent_refused: bool = False
    intake_refused: bool = False
    proposal_declined: bool = False
    _consent_u: float | None = None

    def __init__(
        self,
        model: SfbModel,
        municipality: Municipality,
        arrival_day: int,
        age_group: str,
        parents: int,
        children: int,
        sibling_over_6: bool,
        severity: float,
        latent_need: float,
        days_used: int,
        luck: dict[str, tuple[list[float], int]],
        row: int,
        second_child_0_2: bool = False,
    ) -> None:
        super().__init__(model)
        self.municipality = municipality
        self.arrival_day = arrival_day
        self.age_group = age_group  # "0-2", "3-5" or "6-12" (6-12 only before 2022)
        self.age_0_2 = age_group == "0-2"
        self.parents = parents
        self.children = children
        self.sibling_over_6 = sibling_over_6
        self.second_child_0_2 = second_child_0_2  # the age group of a second child 0-6
        self.severity = severity
        self.latent_need = latent_need
        self.deadline_day = arrival_day + model.parameters.investigation_deadline_days - days_used
        self.luck = luck
        self.row = row
        self._luck_used: dict[str, int] = {}

    # --- traits ---------------------------------------------------------------------------
    @property
    def sats(self) -> float:
        """Co-payment units: 1 for one parent and one child, 1.5 for two parents and one child,
        plus 0.5 per extra child (the Ministry's rate circulars; brief §4)."""
        return 1.0 + 0.5 * (self.parents - 1) + 0.5 * (self.children - 1)

    @property
    def urgent(self) -> bool:
        """A case that cannot wait for a place."""
        return self.severity >= self.model.parameters.urgent_severity

    def draw(self, stream: str) -> float:
        """The family's next draw from one of its streams (uniform; for ``duration`` the
        standard-normal score of a uniform)."""
        used = self._luck_used
        count = used.get(stream, 0)
        used[stream] = count + 1
        values, width = self.luck[stream]
        return values[self.row * width + count % width]

    # --- the family's decisions ---------------------------------------------------------------
    def consent_probability(
        self, travel_hours: float, breaks_per_month: float, wait_days: float = 0.0
    ) -> float:
        """Probability that the parents agree to a residential stay at a centre this far away,
        starting after this wait (``consent_log_odds``)."""
        sibling_left_out = self.sibling_over_6 and not self.model.levers.sibling_flexibility
        return logistic(
            consent_log_odds(
                self.model.parameters,
                travel_hours,
                breaks_per_month,
                wait_days,
                sibling_left_out,
                self.severity,
            )
        )

    def consent_terms(
        self, travel_hours: float, breaks_per_month: float, wait_days: float = 0.0
    ) -> dict[str, float]:
        """The consent log-odds split into its named terms (model.trail.CONSENT_TERMS), for the
        decision trail: they add up to ``consent_log_odds``."""
        p = self.model.parameters
        sibling_left_out = self.sibling_over_6 and not self.model.levers.sibling_flexibility
        return {
            "intercept": p.consent_intercept,
            "travel": p.consent_travel_per_hour * travel_hours,
            "weekend_trips": p.consent_weekend_trip_per_hour
            * breaks_per_month
            * 2.0
            * travel_hours,
            "sibling": p.consent_sibling_over_6 * sibling_left_out,
            "pressure": p.consent_pressure * self.severity,
            "wait": p.consent_wait_per_30_days * wait_days / 30.0,
        }

    def consent_draw(self) -> float:
        """The parents' willingness (one uniform from the *consent* stream, drawn at the
        proposal and kept): they agree to any stay whose consent probability exceeds it."""
        if self._consent_u is None:
            self._consent_u = self.draw("consent")
        return self._consent_u

    def accepts_proposal(self, travel_hours: float, breaks_per_month: float, wait: float) -> bool:
        """The parents' answer when the service proposes a residential stay, before it applies
        to Bufetat: at the centre it expects (travel, closures), after the wait it expects."""
        draw = self.consent_draw()
        agreed = draw < self.consent_probability(travel_hours, breaks_per_month, wait)
        trail = self.model.trail
        if trail is not None:
            terms = self.consent_terms(travel_hours, breaks_per_month, wait)
            centre = self.municipality.expected_centre
            trail.consent(
                self, "proposal", "proposal", centre, travel_hours, None, breaks_per_month,
                terms, draw, agreed,
            )  # fmt: skip
        return agreed

    def accepts_stay_at(self, centre: Centre, start: int, stage: str = "intake_offer") -> bool:
        """The parents' answer to the offer of a place at ``centre`` from ``start``. They agreed
        to the proposal, so with the same willingness (``consent_draw``) they refuse only what
        changed for the worse since: another centre farther away or with more closures, a later
        start. A refusal is recorded; the caller decides what happens next."""
        travel = self.model.travel_hours(self.municipality, centre)
        wait = start - self.arrival_day
        breaks = centre.calendar.breaks_per_month(start, self.model.stay_window_days)
        draw = self.consent_draw()
        agreed = draw < self.consent_probability(travel, breaks, wait)
        trail = self.model.trail
        if trail is not None:
            terms = self.consent_terms(travel, breaks, wait)
            trail.consent(self, "offer", stage, centre, travel, start, breaks, terms, draw, agreed)
        if agreed:
            return True
        self.consent_refused = True
        self.model.recorder.consent_refusal(self)
        return False

    def assessment_days(self, option: Option) -> int:
        """The length of the family's assessment of this kind (its own duration draw):
        presence days of a residential stay, calendar days of an assessment at home."""
        p = self.model.parameters
        if option is RESIDENTIAL or option is DIRECT_PURCHASE:
            median = p.residential_days_median
            if self.model.levers.guidance_stays:
                median *= p.guidance_stay_factor  # assessment combined with guidance runs longer
            low, high = p.residential_days_min, p.residential_days_max
        else:
            median = (
                p.home_centre_days_median if option is HOME_CENTRE else p.own_assessment_days_median
            )
            low, high = p.home_assessment_days_min, p.home_assessment_days_max
        return lognormal_days(self.draw("duration"), median, p.duration_sigma, low, high)

    def dropout_probability(self, breaks: int, travel_hours: float) -> float:
        """Probability of leaving a stay that has ``breaks`` closure breaks
        (``dropout_probability``)."""
        return dropout_probability(self.model.parameters, breaks, travel_hours)

    def dropout_day(
        self, start: int, end: int, breaks: int, travel_hours: float, centre: Centre | None = None
    ) -> int | None:
        """The day the family leaves a stay early, or None if it completes it."""
        draw = self.draw("dropout")
        probability = self.dropout_probability(breaks, travel_hours)
        day = None
        if draw < probability:
            day = start + 1 + int(self.draw("dropout") * max(end - start - 1, 1))
        trail = self.model.trail
        if trail is not None and centre is not None:
            p = self.model.parameters
            per_break = min(
                1.0, p.dropout_per_break + p.dropout_per_break_travel_hour * travel_hours
            )
            trail.dropout(
                self, centre, travel_hours, breaks, probability, draw, day, p.dropout_per_stay,
                per_break, end,
            )  # fmt: skip
        return day

    # --- life cycle ---------------------------------------------------------------------------
    def book(
        self,
        option: Option,
        centre: Centre | None,
        start: int,
        end: int,
        dropout_day: int | None,
    ) -> None:
        """An assessment is booked: its start and its end (or drop-out) go into the model's
        calendar of due work; the municipality learns the wait for a place at a centre."""
        model = self.model
        self.option = option
        self.centre = centre
        self.start_day = start
        self.end_day = dropout_day if dropout_day is not None else end
        if option is RESIDENTIAL or option is HOME_CENTRE:
            self.municipality.learn_wait(option, start - self.arrival_day)
        if start <= model.today:
            self.start_assessment()
        else:
            model.on_day(start, self.start_assessment)
        model.on_day(self.end_day, self.drop_out if dropout_day is not None else self.complete)

    def start_assessment(self) -> None:
        """The assessment starts today: at a centre it is an admission."""
        counts = self.model.status_counts
        counts[WAITING] -= 1
        counts[IN_ASSESSMENT] += 1
        self.status = IN_ASSESSMENT
        if self.centre is not None:
            self.centre.admit(self)
            self.model.recorder.admission(self)

    def complete(self) -> None:
        """The assessment ends today as planned; the municipality decides."""
        self.municipality.decide_after_assessment(self)
        self.finish(FINISHED)

    def drop_out(self) -> None:
        """The family leaves the stay early today."""
        self.finish(DROPPED_OUT)

    def finish(self, status: Status) -> None:
        """The family's path ends today (assessed, dropped out, or placed in an emergency): it
        leaves the centre, is recorded, and leaves the model."""
        counts = self.model.status_counts
        counts[self.status] -= 1
        counts[status] += 1
        self.status = status
        recorder = self.model.recorder
        if status is DROPPED_OUT:
            recorder.dropout(self)
        if self.centre is not None:
            self.centre.discharge(self, early=status is DROPPED_OUT)
        if self.decision is not None:
            recorder.decision(self)
        recorder.family_done(self)
        self.remove()


def consent_log_odds(
    p: Parameters,
    travel_hours: float,
    breaks_per_month: float,
    wait_days: float,
    sibling_left_out: bool,
    severity: float,
) -> float:
    """Log-odds that parents agree to a residential stay.

    Falls with travel time, falls further when closures send the family home over that
    distance (two trips per break), falls when an older sibling cannot come and with a long
    wait, and rises with the pressure of the case (the alternative may be a care order:
    "voluntary coercion", Menon 2025).
    """
    return (
        consent_log_odds_of_place(p, travel_hours, breaks_per_month)
        + p.consent_sibling_over_6 * sibling_left_out
        + p.consent_pressure * severity
        + p.consent_wait_per_30_days * wait_days / 30.0
    )


def consent_log_odds_of_place(p: Parameters, travel_hours: float, breaks_per_month: float) -> float:
    """The part of the consent log-odds that depends only on the centre: the intercept, the
    travel, and the trips home forced by closures."""
    return (
        p.consent_intercept
        + p.consent_travel_per_hour * travel_hours
        + p.consent_weekend_trip_per_hour * breaks_per_month * 2.0 * travel_hours
    )


def dropout_probability(p: Parameters, breaks: int, travel_hours: float) -> float:
    """Probability of leaving a stay with ``breaks`` closure breaks: a risk per stay, and one
    per break that grows with the journey home and back."""
    per_break = min(1.0, p.dropout_per_break + p.dropout_per_break_travel_hour * travel_hours)
    return 1.0 - (1.0 - p.dropout_per_stay) * (1.0 - per_break) ** breaks


def lognormal_days(z: float, median: float, sigma: float, low: int, high: int) -> int:
    """A log-normal length in days from a standard-normal score ``z``, clipped to [low, high]."""
    return int(min(max(round(median * math.exp(sigma * z)), low), high))
