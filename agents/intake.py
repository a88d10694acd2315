"""Bufetat's regional intake (enhet for inntak), or Oslo's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sfbsim.agents.centre import home_work_feasible
from sfbsim.agents.family import HOME_CENTRE, RESIDENTIAL, Option

if TYPE_CHECKING:
    from sfbsim.agents.centre import Centre
    from sfbsim.agents.family import Family
    from sfbsim.agents.municipality import Municipality
    from sfbsim.model.model import SfbModel


class Intake(mesa.Agent):
    """Receives referrals and allocates places at its assessment meetings.

    At each meeting it takes the queue in priority order (ages 0-2 first, then severity, then
    arrival), looks for the nearest centre that can start in time, and refuses when none can
    start before the family's investigation deadline, unless the duty-to-assist lever is on,
    in which case it books the earliest place however late.
    """

    def __init__(self, model: SfbModel, region: str) -> None:
        super().__init__(model)
        self.region = region
        self.queue: list[tuple[Family, Option]] = []
        self._decision = 0  # the trail's id of the allocation under way
        self._tried = 0  # centres tried in it
        self._candidates: dict[tuple[int, Option, bool], list[Centre]] = {}

    def receive(self, family: Family, option: Option) -> None:
        """A municipality refers a family; urgent cases go straight to allocation when the
        fast-track lever is on, the rest wait for the next assessment meeting."""
        if self.model.levers.fast_track_urgent and family.urgent:
            self.allocate(family, option)
        else:
            self.queue.append((family, option))

    @staticmethod
    def priority(family: Family) -> tuple[bool, float, int, int]:
        """Sort key: ages 0-2 first, then higher severity, then earlier arrival."""
        return (not family.age_0_2, -family.severity, family.arrival_day, family.unique_id)

    def hold_meeting(self) -> None:
        """Assessment meeting: allocate or refuse every referral in the queue."""
        if not self.queue:
            return
        queue = sorted(self.queue, key=lambda item: self.priority(item[0]))
        self.queue = []
        for family, option in queue:
            self.allocate(family, option)

    # --- allocation -------------------------------------------------------------------------
    def reachable_centres(
        self, municipality: Municipality, option: Option, beyond: bool
    ) -> list[Centre]:
        """Centres this intake may ever use for a family of ``municipality``, nearest first:
        its own centres, or (``beyond``) other regions' centres within
        ``cross_region_max_hours`` (never Oslo's municipal centre). Home-based work needs the
        centre's staff able to make enough visits at that distance (``home_work_feasible``).
        Capacity and opening are checked on the day (``candidate_centres``)."""
        model = self.model
        p = model.parameters
        found = []
        for centre in model.centres:
            hours = model.travel_hours(municipality, centre)
            own = centre.serves_intake == self.region
            if own == beyond:
                continue
            if option is HOME_CENTRE:
                usable = home_work_feasible(hours, p, model.costs.home_centre_hours)
            else:
                usable = not beyond or (
                    hours <= p.cross_region_max_hours and centre.operator != "oslo_municipal"
                )
            if usable:
                found.append((hours, centre.index, centre))
        return [c for _, _, c in sorted(found, key=lambda t: (t[0], t[1]))]

    def candidate_centres(self, family: Family, option: Option, beyond: bool) -> list[Centre]:
        """Centres to try today, nearest first: reachable, with capacity of the kind asked for,
        and open for new stays."""
        key = (family.municipality.index, option, beyond)
        cached = self._candidates.get(key)
        if cached is None:
            cached = self.reachable_centres(family.municipality, option, beyond)
            self._candidates[key] = cached
        today = self.model.today
        if option is RESIDENTIAL:
            return [c for c in cached if c.residential_units and c.accepts_families(today)]
        return [c for c in cached if c.home_based_capacity and c.accepts_families(today)]

    def allocate(self, family: Family, option: Option) -> None:
        """Find a place for the family, or refuse."""
        model = self.model
        today = model.today
        earliest = today + model.parameters.start_lead_days
        latest = family.deadline_day - model.parameters.min_days_before_deadline
        trail = model.trail
        self._decision = trail.new_decision() if trail is not None else 0
        self._tried = 0
        place = self.first_place_in_time(family, option, earliest, latest, beyond=False)
        if place is None:
            draw = family.draw("intake")
            share = model.parameters.cross_region_share
            if trail is not None:
                trail.intake_look_beyond(self._decision, family, option, share, draw)
            if draw < share:
                place = self.first_place_in_time(family, option, earliest, latest, beyond=True)
        if place is None and model.levers.duty_to_assist:
            place = self.earliest_place(family, option, earliest)
        if trail is not None:
            centre, start = (place[0], place[1]) if place is not None else (None, None)
            reason = "" if place is not None else ("capacity" if self._tried else "no_centre")
            trail.intake_result(self._decision, family, option, centre, start, reason)
        if place is None:
            family.intake_refused = True
            self.model.recorder.intake_refusal(family)
            family.municipality.after_intake_refusal(family, option)
            return
        centre, start, slot = place
        if option is RESIDENTIAL:
            self.offer_residential(family, centre, start, slot)
        else:
            self.start_home_based(family, centre, start, slot)

    def first_place_in_time(
        self, family: Family, option: Option, earliest: int, latest: int, beyond: bool
    ) -> tuple[Centre, int, int] | None:
        """The nearest centre whose earliest start is no later than ``latest``."""
        trail = self.model.trail
        for centre in self.candidate_centres(family, option, beyond):
            found = self._earliest(centre, option, earliest)
            if trail is not None:
                self._tried += 1
                stage = "other_regions" if beyond else "own_region"
                start = found[0] if found is not None else None
                trail.intake_centre(self._decision, family, option, stage, centre, start, latest)
            if found is not None and found[0] <= latest:
                return centre, found[0], found[1]
        return None

    def earliest_place(
        self, family: Family, option: Option, earliest: int
    ) -> tuple[Centre, int, int] | None:
        """The earliest start among own centres, or if none has capacity, any centre this
        intake may use (duty to assist: the family queues however long)."""
        best: tuple[Centre, int, int] | None = None
        centres = self.candidate_centres(family, option, beyond=False)
        centres = centres or self.candidate_centres(family, option, beyond=True)
        trail = self.model.trail
        for centre in centres:
            found = self._earliest(centre, option, earliest)
            if trail is not None:
                self._tried += 1
                start = found[0] if found is not None else None
                trail.intake_centre(
                    self._decision, family, option, "duty_to_assist", centre, start, None
                )
            if found is not None and (best is None or found[0] < best[1]):
                best = (centre, found[0], found[1])
        return best

    @staticmethod
    def _earliest(centre: Centre, option: Option, earliest: int) -> tuple[int, int] | None:
        if option is RESIDENTIAL:
            return centre.earliest_residential_start(earliest)
        return centre.earliest_home_start(earliest)

    # --- after allocation -------------------------------------------------------------------
    def offer_residential(self, family: Family, centre: Centre, start: int, unit: int) -> None:
        """Offer a residential place; the parents, who agreed to the proposal, accept it unless
        it is worse than they expected (``Family.accepts_stay_at``); after a refusal the
        municipality chooses among the rest."""
        if family.accepts_stay_at(centre, start):
            centre.book_stay(family, start, unit)
        else:
            family.municipality.after_consent_refusal(family)

    def start_home_based(self, family: Family, centre: Centre, start: int, slot: int) -> None:
        """Book centre staff for a home-based assessment (no consent needed)."""
        centre.book_home_assessment(family, start, slot)
