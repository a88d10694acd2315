"""A municipality's child welfare service (barneverntjenesten)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from sfbsim.agents.centre import home_visit_shortfall
from sfbsim.agents.family import (
    CENTRE_OPTIONS,
    DIRECT_PURCHASE,
    EMERGENCY,
    FINISHED,
    FOLLOW_UP,
    HOME_CENTRE,
    OWN,
    RESIDENTIAL,
    Decision,
    Family,
    Option,
    consent_log_odds_of_place,
    dropout_probability,
    logistic,
)
from sfbsim.model.prices import high_risk_multiplier

if TYPE_CHECKING:
    from sfbsim.agents.centre import Centre
    from sfbsim.model.model import SfbModel

FIRST_CHOICE = (Option.RESIDENTIAL, Option.HOME_CENTRE, Option.OWN, Option.EMERGENCY)
AFTER_DECLINED_PROPOSAL = (Option.HOME_CENTRE, Option.OWN, Option.EMERGENCY, Option.FOLLOW_UP)
AFTER_RESIDENTIAL_REFUSAL = (Option.DIRECT_PURCHASE, Option.OWN, Option.EMERGENCY)
AFTER_HOME_REFUSAL = (Option.OWN, Option.EMERGENCY)
AFTER_CONSENT_REFUSAL = (Option.HOME_CENTRE, Option.OWN, Option.EMERGENCY, Option.FOLLOW_UP)


class Municipality(mesa.Agent):
    """Decides, case by case, how a serious concern about a small child gets assessed.

    How a case is assessed is a multinomial-logit choice over severity, the municipal cost for
    that family in that year, budget pressure, travel, the wait the service expects, its
    familiarity with the centres, its own capacity, and — for a residential stay — the chance
    it goes through: that the parents agree and the family completes the stay, as the service
    anticipates them from the family's situation and from its own and its neighbours'
    experience, and the risk that weekend closures pose to a vulnerable family. A residential
    stay is first proposed to the parents; if they decline, the service chooses among the rest.
    """

    def __init__(
        self,
        model: SfbModel,
        index: int,
        kommunenummer: str,
        name: str,
        region: str,
        size_class: str,
        own_capacity: float,
        budget_pressure: float,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.kommunenummer = kommunenummer
        self.name = name
        self.region = region
        self.size_class = size_class
        self.own_capacity = own_capacity
        self.budget_pressure = budget_pressure
        self.expected_centre: Centre | None = None
        self.set_reach(None, 0.0, None)  # the model sets the real values (world.refresh_reach)
        self.price_weight = self.price_weight_per_100k() / 100_000
        initial = model.parameters.expected_wait_initial_days
        self.expected_wait = {Option.RESIDENTIAL: initial, Option.HOME_CENTRE: initial}

    @property
    def familiarity(self) -> float:
        """Familiarity with the centres, 0-1 (held by the model for network diffusion)."""
        return float(self.model.familiarity[self.index])

    # --- what the service knows -------------------------------------------------------------
    def price_weight_per_100k(self) -> float:
        """Utility per 100,000 NOK: felt fully only where the service can organise alternatives
        (Deloitte 2019), and more under budget pressure."""
        p = self.model.parameters
        capacity_share = p.price_response_floor + (1 - p.price_response_floor) * self.own_capacity
        return p.beta_cost_per_100k * capacity_share * (0.5 + self.budget_pressure)

    def set_reach(
        self, expected_centre: Centre | None, centre_hours: float, home_hours: float | None
    ) -> None:
        """The residential centre a stay would most likely be at (the nearest of its own
        intake with units) and its travel hours, and the travel of the nearest centre whose
        staff can work at its families' homes (None: none can). The parts of the utilities
        that depend only on these and on constants are kept ready."""
        p = self.model.parameters
        self.expected_centre = expected_centre
        self.nearest_centre_hours = centre_hours
        self.home_centre_hours = home_hours
        self.home_centre_reachable = home_hours is not None
        model = self.model
        if expected_centre is None:
            self.expected_breaks_per_month = 0.0
        else:  # the closures of a stay starting today (the run's first day or a change day)
            self.expected_breaks_per_month = expected_centre.calendar.breaks_per_month(
                max(model.today, 1), model.stay_window_days
            )
        breaks = round(self.expected_breaks_per_month * p.residential_months_expected)
        self._seen_completion = 1.0 - dropout_probability(p, breaks, centre_hours)
        self._place_log_odds = consent_log_odds_of_place(
            p, centre_hours, self.expected_breaks_per_month
        )
        self._keep = 1 - p.experience_weight  # the weight of what the service sees
        home = home_hours if home_hours is not None else centre_hours
        self._utility_base = {
            RESIDENTIAL: p.asc_residential + p.beta_travel_per_hour * centre_hours,
            HOME_CENTRE: p.asc_home_centre
            + p.beta_home_travel_per_hour * home
            + p.beta_home_visits
            * home_visit_shortfall(home, p, self.model.costs.home_centre_hours),
            OWN: p.asc_own + p.beta_own_capacity * self.own_capacity,
            EMERGENCY: p.asc_emergency,
            DIRECT_PURCHASE: p.asc_direct_purchase + p.beta_travel_per_hour * centre_hours,
            FOLLOW_UP: p.asc_follow_up,
        }

    # --- the choice -------------------------------------------------------------------------
    def anticipated_acceptance(self, family: Family) -> float:
        """The service's expectation that these parents agree to a stay at the centre it
        expects: what it sees of the family (travel, closures, siblings, severity, the expected
        wait; ``Family.consent_probability``) weighed with its experience of how often parents
        agree (``expected_acceptance``, learned from its own proposals and its neighbours')."""
        p = self.model.parameters
        sibling_left_out = family.sibling_over_6 and not self.model.levers.sibling_flexibility
        seen = logistic(
            self._place_log_odds
            + p.consent_sibling_over_6 * sibling_left_out
            + p.consent_pressure * family.severity
            + p.consent_wait_per_30_days * self.expected_wait[RESIDENTIAL] / 30.0
        )  # = family.consent_probability at the expected centre, place terms kept ready
        learned = self.model.expected_acceptance[self.index]
        return self._keep * seen + p.experience_weight * learned

    def anticipated_completion(self, family: Family) -> float:
        """The service's expectation that the family completes a stay at the expected centre
        (a family that drops out wastes the assessment): the drop-out risk it sees over an
        expected stay's closures (``Family.dropout_probability``) weighed with its experience
        (``expected_completion``)."""
        # the drop-out risk seen over an expected stay depends on the place only: kept ready
        learned = self.model.expected_completion[self.index]
        return (
            self._keep * self._seen_completion + self.model.parameters.experience_weight * learned
        )

    def residential_prospect(self, family: Family) -> float:
        """Utility of a residential stay from its prospects: the log of the chance it goes
        through (a logit weight multiplied by that chance at ``beta_anticipation`` = 1), and
        the risk closures pose to a vulnerable family (more for more severe cases)."""
        p = self.model.parameters
        success = self.anticipated_acceptance(family) * self.anticipated_completion(family)
        risk = p.beta_weekend_risk * self.expected_breaks_per_month * family.severity
        return p.beta_anticipation * math.log(max(success, 1e-9)) + risk

    def utilities(self, family: Family, options: tuple[Option, ...]) -> list[float]:
        """Systematic utilities of several options (see docs/ODD.md §7.2)."""
        model = self.model
        p = model.parameters
        levers = model.levers
        option_costs = model.prices.option_costs(model.current_year, levers)
        severity = family.severity
        # the high-risk multiplier scales the co-payments (the part per sats) only
        sats = family.sats * high_risk_multiplier(severity, levers, p.high_risk_severity)
        wait_weight = (
            p.beta_wait_per_30_days + family.urgent * p.beta_urgent_wait_per_30_days
        ) / 30
        centre_pull = p.beta_familiarity * self.familiarity
        if levers.guidance_allowed:
            centre_pull += p.guidance_bonus
        price = self.price_weight
        base = self._utility_base
        values = []
        for option in options:
            value = base[option]
            if option is RESIDENTIAL:
                value += (
                    p.beta_severity_residential * severity
                    + wait_weight * self.expected_wait[RESIDENTIAL]
                    + centre_pull
                    + self.residential_prospect(family)
                )
            elif option is HOME_CENTRE:
                value += (
                    p.beta_severity_home_centre * severity
                    + wait_weight * self.expected_wait[HOME_CENTRE]
                    + centre_pull
                )
            elif option is EMERGENCY:
                value += p.beta_severity_emergency * severity
            elif option is DIRECT_PURCHASE:
                value += p.beta_severity_residential * severity + centre_pull
            elif option is FOLLOW_UP:
                value += p.beta_severity_follow_up * severity
                values.append(value)  # ordinary follow-up costs nothing extra
                continue
            per_sats, fixed = option_costs[option]
            values.append(value + price * (fixed + per_sats * sats))
        return values

    def utility_terms(self, family: Family, options: tuple[Option, ...]) -> list[dict[str, float]]:
        """Each option's utility split into its named terms (model.trail.UTILITY_TERMS), for
        the decision trail and ``sfbsim explain``: they add up to ``utilities`` (a test checks
        it on every logged choice)."""
        model = self.model
        p = model.parameters
        levers = model.levers
        option_costs = model.prices.option_costs(model.current_year, levers)
        severity = family.severity
        sats = family.sats * high_risk_multiplier(severity, levers, p.high_risk_severity)
        wait_weight = (
            p.beta_wait_per_30_days + family.urgent * p.beta_urgent_wait_per_30_days
        ) / 30
        centre_pull = p.beta_familiarity * self.familiarity
        if levers.guidance_allowed:
            centre_pull += p.guidance_bonus
        centre_travel = p.beta_travel_per_hour * self.nearest_centre_hours
        home = self.home_centre_hours
        home = home if home is not None else self.nearest_centre_hours
        out = []
        for option in options:
            if option is RESIDENTIAL:
                success = self.anticipated_acceptance(family) * self.anticipated_completion(family)
                terms = {
                    "base": p.asc_residential,
                    "travel": centre_travel,
                    "severity": p.beta_severity_residential * severity,
                    "wait": wait_weight * self.expected_wait[RESIDENTIAL],
                    "familiarity": centre_pull,
                    "prospect": p.beta_anticipation * math.log(max(success, 1e-9)),
                    "weekend_risk": p.beta_weekend_risk * self.expected_breaks_per_month * severity,
                }
            elif option is HOME_CENTRE:
                terms = {
                    "base": p.asc_home_centre,
                    "travel": p.beta_home_travel_per_hour * home,
                    "home_reach": p.beta_home_visits
                    * home_visit_shortfall(home, p, model.costs.home_centre_hours),
                    "severity": p.beta_severity_home_centre * severity,
                    "wait": wait_weight * self.expected_wait[HOME_CENTRE],
                    "familiarity": centre_pull,
                }
            elif option is OWN:
                terms = {"base": p.asc_own, "own_capacity": p.beta_own_capacity * self.own_capacity}
            elif option is EMERGENCY:
                terms = {"base": p.asc_emergency, "severity": p.beta_severity_emergency * severity}
            elif option is DIRECT_PURCHASE:
                terms = {
                    "base": p.asc_direct_purchase,
                    "travel": centre_travel,
                    "severity": p.beta_severity_residential * severity,
                    "familiarity": centre_pull,
                }
            else:  # FOLLOW_UP: ordinary follow-up costs nothing extra
                out.append(
                    {"base": p.asc_follow_up, "severity": p.beta_severity_follow_up * severity}
                )
                continue
            per_sats, fixed = option_costs[option]
            terms["price"] = self.price_weight * (fixed + per_sats * sats)
            out.append(terms)
        return out

    def why_unavailable(self, option: Option) -> str:
        """Why an option is not open to this municipality (the trail's reason)."""
        if option is HOME_CENTRE and not self.home_centre_reachable:
            return "no centre's staff can reach this municipality for home-based work"
        return ""

    def open_options(self, options: tuple[Option, ...]) -> tuple[Option, ...]:
        """The options that exist for this municipality (centre staff must reach it)."""
        if self.home_centre_reachable or HOME_CENTRE not in options:
            return options
        return tuple(o for o in options if o is not HOME_CENTRE)

    def choice_probabilities(self, family: Family, options: tuple[Option, ...]) -> list[float]:
        """Logit probabilities of the options (zero for an option this municipality lacks)."""
        available = self.open_options(options)
        weights = _logit_weights(self.utilities(family, available))
        total = sum(weights)
        by_option = dict(zip(available, weights, strict=True))
        return [by_option.get(o, 0.0) / total for o in options]

    def choose(self, family: Family, options: tuple[Option, ...], stage: str = "first") -> Option:
        """Draw an option from the logit probabilities with the family's choice uniform
        (``stage``: where in the case's path the choice falls, for the decision trail)."""
        available = self.open_options(options)
        weights = _logit_weights(self.utilities(family, available))
        draw = family.draw("choice")
        remaining = draw * sum(weights)
        chosen = available[-1]
        for option, weight in zip(available, weights, strict=True):
            remaining -= weight
            if remaining < 0:
                chosen = option
                break
        trail = self.model.trail
        if trail is not None:
            trail.assessment_choice(self, family, options, available, weights, draw, chosen, stage)
        return chosen

    # --- acting on the choice ---------------------------------------------------------------
    def handle_case(self, family: Family) -> None:
        """A new serious-concern case: choose how it gets assessed."""
        self.act_on(family, self.choose(family, FIRST_CHOICE), first_choice=True)

    def act_on(self, family: Family, option: Option, first_choice: bool = False) -> None:
        """Propose a stay, refer, assess, place, buy or follow up, as chosen."""
        family.option = option
        family.options_tried += (option,)
        if option is RESIDENTIAL:
            self.propose_stay(family)
        elif option is HOME_CENTRE:
            self.refer(family, option)
        elif option is OWN:
            self.start_own_assessment(family, first_choice)
        elif option is EMERGENCY:
            self.place_in_emergency(family, first_choice)
        elif option is FOLLOW_UP:
            self.leave_to_follow_up(family)
        elif not self.buy_place_directly(family):
            self.act_on(family, self.choose(family, (OWN, EMERGENCY), "after_no_direct_purchase"))

    def propose_stay(self, family: Family) -> None:
        """A residential stay is voluntary: propose it to the parents before applying to
        Bufetat. If they agree, refer; if not, choose among the rest (centre staff at home,
        which needs no consent, an own assessment, an emergency placement, or nothing beyond
        ordinary follow-up). Either answer is experience."""
        recorder = self.model.recorder
        recorder.proposal(family)
        agreed = family.accepts_proposal(
            self.nearest_centre_hours,
            self.expected_breaks_per_month,
            self.expected_wait[RESIDENTIAL],
        )
        self.learn_acceptance(agreed)
        if agreed:
            self.refer(family, RESIDENTIAL)
            return
        family.proposal_declined = True
        recorder.proposal_declined(family)
        self.act_on(family, self.choose(family, AFTER_DECLINED_PROPOSAL, "after_declined_proposal"))

    def refer(self, family: Family, option: Option) -> None:
        """Apply to Bufetat's intake (Oslo: its own intake) for a centre assessment."""
        self.model.recorder.referral(family, option)
        self.model.intake_for(self).receive(family, option)

    def start_own_assessment(self, family: Family, first_choice: bool = False) -> None:
        """Assess at home with the service's own staff, starting today."""
        self.model.recorder.own_assessment(family, first_choice)
        if not self.model.details:  # a calibration run: its targets count nothing of the rest
            family.finish(FINISHED)
            return
        today = self.model.today
        family.book(OWN, None, today, today + family.assessment_days(OWN), None)

    def place_in_emergency(self, family: Family, first_choice: bool = False) -> None:
        """An emergency foster home now, instead of waiting for an assessment."""
        self.model.recorder.emergency_placement(family, first_choice)
        family.decision = Decision.EMERGENCY_FOSTER_HOME
        family.start_day = family.end_day = self.model.today
        family.finish(FINISHED)

    def leave_to_follow_up(self, family: Family) -> None:
        """Nothing beyond the service's ordinary follow-up: the child stays at home with the
        support it has; that is right only if the child did not need a placement."""
        self.model.recorder.follow_up(family)
        family.decision = Decision.HOME_WITH_SUPPORT
        family.decision_correct = family.latent_need <= self.model.parameters.placement_threshold
        family.start_day = family.end_day = self.model.today
        family.finish(FINISHED)

    def buy_place_directly(self, family: Family) -> bool:
        """After a Bufetat refusal: buy a residential place from a non-profit centre at full
        cost, the nearest that can start in time; False if none can or the parents refuse."""
        model = self.model
        today = model.today
        earliest = today + model.parameters.start_lead_days
        latest = family.deadline_day - model.parameters.min_days_before_deadline
        candidates = sorted(
            (
                c
                for c in model.centres
                if c.operator == "ideell" and c.residential_units and c.accepts_families(today)
            ),
            key=lambda c: (model.travel_hours(self, c), c.index),
        )
        trail = model.trail
        decision_id = trail.new_decision() if trail is not None else 0
        for centre in candidates:
            found = centre.earliest_residential_start(earliest)
            if trail is not None:
                start = found[0] if found is not None else None
                trail.intake_centre(
                    decision_id, family, DIRECT_PURCHASE, "direct_purchase", centre, start, latest
                )
            if found is None or found[0] > latest:
                continue
            if trail is not None:
                trail.intake_result(
                    decision_id, family, DIRECT_PURCHASE, centre, found[0], "", "direct_purchase"
                )
            if not family.accepts_stay_at(centre, found[0], "direct_purchase"):
                return False
            model.recorder.direct_purchase(family)
            centre.book_stay(family, found[0], found[1], DIRECT_PURCHASE)
            return True
        if trail is not None:
            reason = (
                "no non-profit centre can start before the deadline"
                if candidates
                else ("no non-profit centre with residential units is open")
            )
            trail.intake_result(
                decision_id, family, DIRECT_PURCHASE, None, None, reason, "direct_purchase"
            )
        return False

    def after_intake_refusal(self, family: Family, option: Option) -> None:
        """Bufetat refused: learn the lesson and choose again."""
        self.learn_wait(option, self.model.parameters.refusal_wait_penalty_days)
        fallback = AFTER_RESIDENTIAL_REFUSAL if option is RESIDENTIAL else AFTER_HOME_REFUSAL
        self.act_on(family, self.choose(family, fallback, "after_intake_refusal"))

    def after_consent_refusal(self, family: Family) -> None:
        """The parents refused the place offered: choose among the rest."""
        self.act_on(family, self.choose(family, AFTER_CONSENT_REFUSAL, "after_offer_refused"))

    # --- learning ---------------------------------------------------------------------------
    def learn_wait(self, option: Option, wait_days: float) -> None:
        """Move the expected wait for a centre option towards the latest experience."""
        if option in self.expected_wait:
            rate = self.model.parameters.wait_learning_rate
            self.expected_wait[option] += rate * (wait_days - self.expected_wait[option])

    def learn_acceptance(self, agreed: bool) -> None:
        """Parents agreed to a proposed stay, or declined: move the expected acceptance."""
        rate = self.model.parameters.experience_learning_rate
        expected = self.model.expected_acceptance
        expected[self.index] += rate * (float(agreed) - expected[self.index])

    def learn_completion(self, completed: bool) -> None:
        """A residential stay ended, completed or dropped out: move the expected completion."""
        rate = self.model.parameters.experience_learning_rate
        expected = self.model.expected_completion
        expected[self.index] += rate * (float(completed) - expected[self.index])

    def remember_good_experience(self) -> None:
        """A completed centre assessment raises familiarity towards 1."""
        gain = self.model.parameters.familiarity_gain
        self.model.familiarity[self.index] += gain * (1.0 - self.model.familiarity[self.index])

    # --- after the assessment ---------------------------------------------------------------
    def assessment_accuracy(self, option: Option) -> float:
        """Probability that the decision after this kind of assessment is right."""
        p = self.model.parameters
        if option is RESIDENTIAL or option is DIRECT_PURCHASE:
            return p.accuracy_residential
        if option is HOME_CENTRE:
            return p.accuracy_home_centre
        return p.accuracy_own

    def decide_after_assessment(self, family: Family) -> None:
        """Home with support, foster home or institution.

        The right decision is a placement when the family's latent need exceeds the threshold;
        the assessment gets it right with an accuracy that depends on its kind.
        """
        p = self.model.parameters
        accuracy = self.assessment_accuracy(family.option)
        needs_placement = family.latent_need > p.placement_threshold
        draw = family.draw("outcome")
        correct = draw < accuracy
        place = needs_placement if correct else not needs_placement
        if not place:
            family.decision = Decision.HOME_WITH_SUPPORT
        elif family.draw("outcome") < p.institution_share_of_placements:
            family.decision = Decision.INSTITUTION
        else:
            family.decision = Decision.FOSTER_HOME
        family.decision_correct = correct
        if self.model.trail is not None:
            self.model.trail.after_assessment(family, accuracy, draw, needs_placement, correct)
        if family.option in CENTRE_OPTIONS:
            self.remember_good_experience()


def _logit_weights(utilities: list[float]) -> list[float]:
    """exp(utility), shifted by the largest for numerical safety."""
    top = max(utilities)
    return [math.exp(u - top) for u in utilities]
