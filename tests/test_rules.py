"""The direction of every decision rule, one small named method at a time."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from sfbsim.agents.family import Family, Option
from sfbsim.agents.municipality import FIRST_CHOICE
from sfbsim.model.model import SfbModel
from sfbsim.model.parameters import Change, Levers, Parameters


def make_model(data, **levers) -> SfbModel:
    return SfbModel(data=data, years=1, levers=Levers(**levers), rng=3)


def make_family(model: SfbModel, kommunenummer: str = "3403", **traits) -> Family:
    """A family with neutral luck (every uniform 0.5) in the given municipality."""
    municipality = next(m for m in model.municipalities if m.kommunenummer == kommunenummer)
    values = {
        "age_group": "0-2",
        "parents": 1,
        "children": 1,
        "sibling_over_6": False,
        "severity": 0.5,
        "latent_need": 0.5,
        "days_used": 20,
    }
    values.update(traits)
    streams = ("choice", "consent", "intake", "duration", "dropout", "outcome")
    luck = {name: ([0.5] * 6, 6) for name in streams}
    return Family(model, municipality=municipality, arrival_day=1, luck=luck, row=0, **values)


@pytest.fixture(scope="module")
def model(data) -> SfbModel:
    return make_model(data)


# --- the family's consent -----------------------------------------------------------------------
def test_more_travel_means_less_consent(model):
    family = make_family(model)
    near = family.consent_probability(travel_hours=0.5, breaks_per_month=0)
    far = family.consent_probability(travel_hours=6.0, breaks_per_month=0)
    assert far < near


def test_weekend_closure_lowers_consent_most_for_distant_families(model):
    family = make_family(model)
    closed, open_ = 4.3, 0.0  # every weekend closed vs open every weekend
    near_drop = family.consent_probability(0.5, open_) - family.consent_probability(0.5, closed)
    far_drop = family.consent_probability(6.0, open_) - family.consent_probability(6.0, closed)
    assert near_drop > 0
    assert far_drop > near_drop


def test_older_sibling_left_out_lowers_consent_unless_centres_take_siblings(data):
    model = make_model(data)
    alone = make_family(model).consent_probability(2.0, 2.0)
    with_sibling = make_family(model, sibling_over_6=True).consent_probability(2.0, 2.0)
    assert with_sibling < alone
    flexible = make_model(data, sibling_flexibility=True)
    assert make_family(flexible, sibling_over_6=True).consent_probability(2.0, 2.0) == alone


def test_pressure_of_the_case_raises_consent(model):
    mild = make_family(model, severity=0.2).consent_probability(2.0, 2.0)
    serious = make_family(model, severity=0.9).consent_probability(2.0, 2.0)
    assert serious > mild


def test_dropout_rises_with_breaks_and_distance(model):
    family = make_family(model)
    assert family.dropout_probability(0, 3.0) < family.dropout_probability(6, 3.0)
    assert family.dropout_probability(6, 0.5) < family.dropout_probability(6, 5.0)


def test_sats_rule(model):
    assert make_family(model).sats == 1.0
    assert make_family(model, parents=2).sats == 1.5
    assert make_family(model, parents=2, children=2).sats == 2.0


# --- the municipality's choice ------------------------------------------------------------------
def residential_share(model: SfbModel, kommunenummer: str, **traits) -> float:
    family = make_family(model, kommunenummer, **traits)
    probabilities = family.municipality.choice_probabilities(family, FIRST_CHOICE)
    return probabilities[FIRST_CHOICE.index(Option.RESIDENTIAL)]


def test_higher_copayment_means_fewer_residential_referrals(data):
    cheap = residential_share(make_model(data, copay_multiplier=0.5), "4601")
    dear = residential_share(make_model(data, copay_multiplier=2.0), "4601")
    assert dear < cheap


def residential_log_odds(model: SfbModel, kommunenummer: str, **traits) -> float:
    """log(P(residential) / P(own)): in a logit model this moves exactly by the utility change."""
    family = make_family(model, kommunenummer, **traits)
    probabilities = family.municipality.choice_probabilities(family, FIRST_CHOICE)
    return math.log(
        probabilities[FIRST_CHOICE.index(Option.RESIDENTIAL)]
        / probabilities[FIRST_CHOICE.index(Option.OWN)]
    )


def test_price_moves_the_choice_more_where_the_service_can_do_it_itself(data):
    """Deloitte 2019: where/how responds to price only with capacity to organise alternatives.

    Compared on the log-odds against the own assessment, which a price change moves by the price
    weight times the cost change, whatever the shares are at."""
    cheap, dear = make_model(data, copay_multiplier=0.5), make_model(data, copay_multiplier=2.0)
    for model in (cheap, dear):
        low, high = model.municipalities[0], model.municipalities[1]
        low.own_capacity, high.own_capacity = 0.0, 1.0
        low.budget_pressure = high.budget_pressure = 0.5
        for m in (low, high):
            m.price_weight = m.price_weight_per_100k() / 100_000
            m.set_reach(m.expected_centre, m.nearest_centre_hours, m.home_centre_hours)
    kn_low, kn_high = cheap.municipalities[0].kommunenummer, cheap.municipalities[1].kommunenummer
    drop_low = residential_log_odds(cheap, kn_low) - residential_log_odds(dear, kn_low)
    drop_high = residential_log_odds(cheap, kn_high) - residential_log_odds(dear, kn_high)
    assert 0 < drop_low < drop_high


def test_severity_pulls_towards_centres_and_emergency(model):
    """Severity alone: no expected wait, so urgency (which weighs the wait more) plays no part."""
    family_mild = make_family(model, severity=0.1)
    family_grave = make_family(model, severity=0.95)
    municipality = family_mild.municipality
    saved = dict(municipality.expected_wait)
    municipality.expected_wait.update({Option.RESIDENTIAL: 0.0, Option.HOME_CENTRE: 0.0})
    mild = municipality.choice_probabilities(family_mild, FIRST_CHOICE)
    grave = municipality.choice_probabilities(family_grave, FIRST_CHOICE)
    municipality.expected_wait.update(saved)
    own, emergency = FIRST_CHOICE.index(Option.OWN), FIRST_CHOICE.index(Option.EMERGENCY)
    assert grave[own] < mild[own]
    assert grave[emergency] > mild[emergency]


def test_longer_expected_wait_means_fewer_residential_referrals(model):
    family = make_family(model)
    municipality = family.municipality
    before = municipality.choice_probabilities(family, FIRST_CHOICE)[0]
    municipality.expected_wait[Option.RESIDENTIAL] = 80.0
    after = municipality.choice_probabilities(family, FIRST_CHOICE)[0]
    municipality.expected_wait[Option.RESIDENTIAL] = model.parameters.expected_wait_initial_days
    assert after < before


def test_familiarity_raises_centre_use_and_spreads_and_fades(data):
    model = make_model(data)
    family = make_family(model)
    municipality = family.municipality
    model.familiarity[municipality.index] = 0.1
    low = municipality.choice_probabilities(family, FIRST_CHOICE)[0]
    model.familiarity[municipality.index] = 0.9
    high = municipality.choice_probabilities(family, FIRST_CHOICE)[0]
    assert high > low
    municipality.remember_good_experience()
    assert model.familiarity[municipality.index] > 0.9
    # spreading: an isolated high value pulls its neighbours up
    model.familiarity[:] = 0.2
    model.familiarity[municipality.index] = 1.0
    neighbours = list(model.graph.neighbors(municipality.index))
    model.update_familiarity()
    assert all(
        model.familiarity[n] > 0.2 * (1 - model.parameters.familiarity_decay) for n in neighbours
    )
    # fading: with everyone equal, familiarity only decays
    model.familiarity[:] = 0.5
    model.update_familiarity()
    assert model.familiarity.max() < 0.5


def test_information_campaign_raises_familiarity(data):
    base = make_model(data)
    campaign = make_model(data, information_campaign=0.5)
    assert (campaign.familiarity >= base.familiarity).all()
    assert campaign.familiarity.mean() > base.familiarity.mean()


def test_urgent_cases_go_first_at_intake(model):
    intake = model.intakes["øst"]
    older = make_family(model, age_group="3-5", severity=0.9)
    infant_mild = make_family(model, age_group="0-2", severity=0.2)
    infant_grave = make_family(model, age_group="0-2", severity=0.9)
    ordered = sorted([older, infant_mild, infant_grave], key=intake.priority)
    assert ordered == [infant_grave, infant_mild, older]


def test_better_assessments_decide_right_more_often(model):
    municipality = model.municipalities[0]
    p = model.parameters
    assert municipality.assessment_accuracy(Option.RESIDENTIAL) == p.accuracy_residential
    assert p.accuracy_residential > p.accuracy_home_centre > p.accuracy_own


def test_stays_run_longer_when_they_combine_assessment_with_guidance(data):
    parameters = Parameters(guidance_stay_factor=1.2)
    days = {}
    for allowed in (False, True):
        model = SfbModel(
            data=data, years=1, parameters=parameters, levers=Levers(guidance_stays=allowed)
        )
        family = make_family(model)  # the same duration score (0.5) in both
        days[allowed] = family.assessment_days(Option.RESIDENTIAL)
    assert days[True] > days[False]
    assert days[True] / days[False] == pytest.approx(1.2, abs=0.03)


def familiarity_ratio_on_switch(data, guidance_stays_after: bool) -> float:
    """Total familiarity after / before the day ``guidance_stays`` switches (12 March: not a
    month start, so no monthly update that day), with ``mandate_familiarity_loss`` 0.4."""
    change = Change(lever="guidance_stays", value=guidance_stays_after, start=dt.date(2025, 3, 12))
    model = SfbModel(
        data=data,
        years=1,
        parameters=Parameters(mandate_familiarity_loss=0.4),
        levers=Levers(guidance_stays=not guidance_stays_after),
        changes=[change],
        rng=3,
    )
    switch = (change.start - model.calendar.start).days + 1  # day 1 is 1 January
    while model.today < switch - 1:
        model.step()
    before = float(model.familiarity.sum())
    model.step()
    return float(model.familiarity.sum()) / before


def test_municipalities_lose_familiarity_when_stays_become_assessment_only(data):
    # a completed assessment that day may add a little, hence the tolerance
    assert familiarity_ratio_on_switch(data, guidance_stays_after=False) == pytest.approx(
        0.6, rel=0.01
    )
    assert familiarity_ratio_on_switch(data, guidance_stays_after=True) == pytest.approx(
        1.0, rel=0.01
    )  # bringing guidance back (the guidance_allowed reform) costs nothing


# --- capacity and intake, whole-model directions ------------------------------------------------
def yearly_totals(data, years: int = 2, **levers) -> dict[str, float]:
    model = SfbModel(data=data, years=years, levers=Levers(**levers), rng=11)
    model.run_years()
    tables = model.recorder.tables()
    totals = tables["year_region"].sum(numeric_only=True).to_dict()
    waits = tables["families"]["wait_days"].dropna()
    totals["mean_wait"] = float(waits[tables["families"]["option"] == "residential"].mean())
    return totals


def test_fewer_units_mean_more_refusals(data):
    normal = yearly_totals(data)
    scarce = yearly_totals(data, units_multiplier=0.3)
    assert scarce["intake_refusals"] > normal["intake_refusals"]


def test_duty_to_assist_means_no_refusals_and_longer_waits(data):
    scarce = yearly_totals(data, units_multiplier=0.3)
    duty = yearly_totals(data, units_multiplier=0.3, duty_to_assist=True)
    assert scarce["intake_refusals"] > 0
    assert duty["intake_refusals"] == 0
    assert duty["mean_wait"] > scarce["mean_wait"]


def test_cases_follow_the_number_of_children(data):
    low = SfbModel(data=data, years=1, parameters=Parameters(case_rate_per_1000_children=2.0))
    high = SfbModel(data=data, years=1, parameters=Parameters(case_rate_per_1000_children=8.0))
    low.run_years()
    high.run_years()
    assert 3.0 < high.arrived / low.arrived < 5.0


def test_free_centres_for_high_risk_cases_move_only_high_risk_cases(data):
    base = make_model(data)
    free = make_model(data, copay_multiplier_high_risk=0.0)
    grave, mild = {"severity": 0.9}, {"severity": 0.3}
    assert residential_share(free, "4601", **grave) > residential_share(base, "4601", **grave)
    assert residential_share(free, "4601", **mild) == residential_share(base, "4601", **mild)


def test_full_municipal_financing_means_fewer_centre_referrals(data):
    """The municipality pays 300,000 NOK instead of the co-payment (the Alta trial)."""
    base = residential_share(make_model(data), "4601")
    full = residential_share(make_model(data, full_municipal_financing=True), "4601")
    assert full < base


# --- issue 14: consent before the referral, anticipation, decay, municipal variation ----------
def test_a_farther_expected_centre_lowers_the_answer_to_a_proposal(model):
    family = make_family(model)
    near_p = family.consent_probability(0.5, 0.0, 0.0)
    far_p = family.consent_probability(8.0, 4.3, 60.0)
    assert far_p < near_p
    family._consent_u = (near_p + far_p) / 2  # parents whose willingness lies between the two
    assert family.accepts_proposal(0.5, 0.0, 0.0)
    far = make_family(model)
    far._consent_u = (near_p + far_p) / 2
    assert not far.accepts_proposal(8.0, 4.3, 60.0)


def test_open_weekends_raise_the_answer_to_an_offer_far_away(data):
    """Open weekends spare a distant family the trips home: the closures over the stay the
    centre offers fall, and with them the weekend-trip term of the parents' consent."""
    closed = make_model(data, weekend_policy="all_weekends_closed")
    opened = make_model(data, weekend_policy="open_every_weekend")
    start, window = 40, closed.stay_window_days
    breaks_closed = closed.centres[0].calendar.breaks_per_month(start, window)
    breaks_open = opened.centres[0].calendar.breaks_per_month(start, window)
    assert breaks_open < breaks_closed
    family = make_family(closed, "5601")  # Alta, far from most centres
    assert family.consent_probability(6.0, breaks_open) > family.consent_probability(
        6.0, breaks_closed
    )


def test_longer_waits_lower_consent(model):
    family = make_family(model)
    assert family.consent_probability(2.0, 2.0, 90.0) < family.consent_probability(2.0, 2.0, 0.0)


def test_opening_weekends_raises_the_chance_a_family_is_referred(data):
    """The municipality anticipates: fewer closures mean more parents agree, fewer drop out,
    and less risk for a vulnerable family, so more residential referrals for the same family."""
    closed = residential_share(make_model(data), "3403", severity=0.7)
    open_ = residential_share(
        make_model(data, weekend_policy="open_every_weekend"), "3403", severity=0.7
    )
    assert open_ > closed


def test_sibling_flexibility_raises_the_chance_a_family_is_referred(data):
    left_out = residential_share(make_model(data), "3403", sibling_over_6=True)
    flexible = residential_share(
        make_model(data, sibling_flexibility=True), "3403", sibling_over_6=True
    )
    assert flexible > left_out


def test_anticipation_follows_what_the_service_sees_and_what_it_learned(model):
    family = make_family(model)
    municipality = family.municipality
    before = municipality.anticipated_acceptance(family)
    saved = float(model.expected_acceptance[municipality.index])
    for _ in range(5):
        municipality.learn_acceptance(False)  # parents kept declining
    assert model.expected_acceptance[municipality.index] < saved
    assert municipality.anticipated_acceptance(family) < before
    model.expected_acceptance[municipality.index] = saved
    completion = municipality.anticipated_completion(family)
    assert 0 < completion <= 1
    municipality.learn_completion(False)
    assert municipality.anticipated_completion(family) < completion


def test_a_declined_proposal_leads_to_another_option_never_lost(data):
    # no parents agree, and the services do not see it coming
    parameters = Parameters(consent_intercept=-20.0, beta_anticipation=0.0, experience_weight=0.0)
    model = SfbModel(data=data, years=1, parameters=parameters, rng=4)
    model.run_years()
    tables = model.recorder.tables(("families", "daily"))
    families = tables["families"]
    declined = families[families["proposal_declined"]]
    assert len(declined) > 0
    assert not declined["option"].isin(["residential", "direct_purchase"]).any()
    assert set(declined["option"]) <= {"home_centre", "own", "emergency", "follow_up"}
    last = tables["daily"].iloc[-1]
    assert last["arrived"] == last[["waiting", "in_assessment", "finished", "dropped_out"]].sum()


def test_an_offer_is_refused_only_if_it_is_worse_than_the_proposal(model):
    family = make_family(model)
    family._consent_u = 0.5
    near = next(c for c in model.centres if model.travel_hours(family.municipality, c) < 1.0)
    probability = family.consent_probability(model.travel_hours(family.municipality, near), 0.0)
    assert probability > 0.5  # agreed at the proposal
    assert family.accepts_stay_at(near, start=family.arrival_day)  # the same offer: agreed
    far = max(model.centres, key=lambda c: model.travel_hours(family.municipality, c))
    hesitant = make_family(model)
    hesitant._consent_u = 0.999
    assert not hesitant.accepts_stay_at(far, start=hesitant.arrival_day + 120)


def test_following_up_only_is_right_only_when_no_placement_was_needed(model):
    low = make_family(model, latent_need=0.2)
    high = make_family(model, latent_need=0.9)
    for family in (low, high):
        family.municipality.leave_to_follow_up(family)
    assert low.decision_correct and not high.decision_correct
    assert low.decision == high.decision == "home_with_support"


def test_home_visits_decay_with_distance_and_the_reach_follows_from_the_hours(model):
    from sfbsim.agents.centre import home_reach_hours, home_visit_shortfall, home_visits

    p, hours = model.parameters, model.costs.home_centre_hours
    visits = [home_visits(t, p, hours) for t in (0.5, 2.0, 3.0, 4.0)]
    assert visits == sorted(visits, reverse=True) and visits[0] == p.home_visits_nominal
    assert home_visit_shortfall(0.5, p, hours) == 0.0 > home_visit_shortfall(3.0, p, hours)
    reach = home_reach_hours(p, hours)
    assert home_visits(reach, p, hours) == pytest.approx(p.home_visits_min)
    more_hours = home_reach_hours(p, hours * 1.5)
    assert more_hours > reach  # more staff hours reach farther: no fixed distance


def test_home_based_choice_weakens_smoothly_with_distance(data):
    """Municipalities farther from a centre's staff prefer centre staff at home less."""
    model = make_model(data)
    reachable = [m for m in model.municipalities if m.home_centre_hours is not None]
    near = min(reachable, key=lambda m: m.home_centre_hours)
    far = max(reachable, key=lambda m: m.home_centre_hours)
    assert near._utility_base[Option.HOME_CENTRE] > far._utility_base[Option.HOME_CENTRE]


def test_case_rates_differ_between_municipalities_and_stay_within_a_run(data):
    model = make_model(data)
    factor = model.case_rate_factor
    shape = model.parameters.case_rate_dispersion_shape
    assert factor.mean() == pytest.approx(1.0, abs=0.15)
    assert factor.std() == pytest.approx(1 / math.sqrt(shape), rel=0.25)
    assert (make_model(data).case_rate_factor == factor).all()  # same seed, same factors
    even = SfbModel(
        data=data, years=1, parameters=Parameters(case_rate_dispersion_shape=1000.0), rng=3
    )
    assert even.case_rate_factor.std() < 0.1
