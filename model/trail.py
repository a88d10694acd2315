"""The decision trail: one row per decision (per option of a choice) in a run, with the terms
that decided it (issue 17; OpenFisca's trace is the model).

Every decision rule of the actors tells the trail what it weighed and what it drew, when the
model traces (``SfbModel(trace=True)``; ``sfbsim run --trace``, ``sfbsim compare --pathways``; a
calibration run never does).
The trail only listens: it draws nothing and changes nothing, so a run gives the same results
traced or not, and the same seed gives the same trail. docs/ODD.md §7.10 describes the table;
docs/outputs.md defines its columns.

Decisions (``decision`` column) and who makes them (``actor``):

- ``assessment_choice`` (municipality): how a case gets assessed. One row per option offered
  (``available`` False for an option the municipality lacks, e.g. centre staff at home where no
  centre's staff can reach), with each term of its utility (``term_*``), the utility, the logit
  probability, the uniform ``draw`` (the same on every row) and ``chosen``. The option chosen is
  the first whose cumulative probability exceeds the draw, in the rows' order.
- ``proposal`` (family): the parents' answer to a proposed residential stay: the terms of the
  consent log-odds at the centre the service expects, the probability, the draw (the parents'
  willingness, kept for the offer), ``outcome`` agreed or declined.
- ``offer`` (family): the answer to a place offered (``stage``: intake_offer or
  direct_purchase), the same terms at the centre and start offered; ``reason`` names what got
  worse since the proposal when the parents refuse.
- ``intake`` (intake): Bufetat's allocation. One row per centre tried (``stage`` own_region,
  other_regions or duty_to_assist; ``start_day`` its earliest start, ``latest_day`` the latest
  start the deadline allows; ``outcome`` in_time or too_late), one row for the draw of whether
  to look beyond the region (``stage`` look_beyond), and the result (``stage`` result:
  ``outcome`` allocated or refused, ``reason`` capacity — every centre tried is taken until
  after the latest start — or no_centre — no centre with that kind of capacity is open within
  the intake's reach).
- ``direct_purchase`` (municipality): a non-profit centre tried for a place bought at full cost
  after a refusal (``outcome`` in_time or too_late), and the result (bought or none_in_time).
- ``dropout`` (family): decided when a stay is booked: the hazards of leaving (per stay, per
  closure break over the journey home: ``term_per_stay`` + ``term_closure_breaks`` =
  −log(1 − probability)), the draw, ``outcome`` drops_out or completes, ``reason`` the larger
  hazard when it drops out; ``start_day`` the day it leaves, ``latest_day`` the planned end.
- ``after_assessment`` (municipality): home with support, foster home or institution:
  ``probability`` the assessment's accuracy, the draw, ``reason`` whether the child needed a
  placement and whether the decision was right.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sfbsim.agents.centre import Centre
    from sfbsim.agents.family import Family, Option
    from sfbsim.agents.municipality import Municipality
    from sfbsim.model.model import SfbModel

UTILITY_TERMS = (
    "base",
    "severity",
    "travel",
    "home_reach",
    "own_capacity",
    "wait",
    "familiarity",
    "prospect",
    "weekend_risk",
    "price",
)
"""The terms of a municipality's utility (Municipality.utility_terms): they add up to it."""
CONSENT_TERMS = ("intercept", "travel", "weekend_trips", "sibling", "pressure", "wait")
"""The terms of the parents' consent log-odds (Family.consent_terms): they add up to it."""
DROPOUT_TERMS = ("per_stay", "closure_breaks")
"""The hazards of leaving a stay: they add up to −log(1 − drop-out probability)."""
TERMS = tuple(dict.fromkeys((*UTILITY_TERMS, *CONSENT_TERMS, *DROPOUT_TERMS)))

COLUMNS = (
    "decision_id",
    "family_id",
    "day",
    "step",
    "year",
    "municipality",
    "actor",
    "decision",
    "stage",
    "option",
    "available",
    "chosen",
    "utility",
    "probability",
    "draw",
    "outcome",
    "reason",
    "centre",
    "hours",
    "start_day",
    "latest_day",
    "breaks",
    *(f"term_{t}" for t in TERMS),
)
"""The columns of the ``decisions`` table, in order (docs/outputs.md)."""
_AT = {name: i for i, name in enumerate(COLUMNS)}
_TERM_AT = {t: _AT[f"term_{t}"] for t in TERMS}
NAN = float("nan")
_TEXTS = ("stage", "option", "outcome", "reason", "centre")
_EMPTY = [NAN] * len(COLUMNS)
for _name in _TEXTS:
    _EMPTY[_AT[_name]] = ""
for _name in ("available", "chosen"):
    _EMPTY[_AT[_name]] = False
for _name in ("start_day", "latest_day"):
    _EMPTY[_AT[_name]] = None


class DecisionTrail:
    """Collects the decisions of one run as rows (``table()`` makes the DataFrame)."""

    def __init__(self, model: SfbModel) -> None:
        self.model = model
        self.rows: list[list[Any]] = []
        self.next_id = 0
        self._proposal_terms: dict[int, dict[str, float]] = {}

    # --- helpers ----------------------------------------------------------------------------
    def _new(self) -> int:
        self.next_id += 1
        return self.next_id

    def _row(self, decision_id: int, family: Family, actor: str, decision: str, **fields) -> None:
        model = self.model
        row = _EMPTY.copy()
        row[:8] = (
            decision_id,
            family.unique_id,
            model.today,
            model.steps,
            model.current_year,
            family.municipality.kommunenummer,
            actor,
            decision,
        )
        terms = fields.pop("terms", None)
        if terms:
            for name, value in terms.items():
                row[_TERM_AT[name]] = value
        for name, value in fields.items():
            row[_AT[name]] = value
        self.rows.append(row)

    # --- what the actors report -------------------------------------------------------------
    def assessment_choice(
        self,
        municipality: Municipality,
        family: Family,
        options: tuple[Option, ...],
        available: tuple[Option, ...],
        weights: list[float],
        draw: float,
        chosen: Option,
        stage: str,
    ) -> None:
        """A municipality's logit choice (Municipality.choose)."""
        decision_id = self._new()
        terms = dict(zip(available, municipality.utility_terms(family, available), strict=True))
        total = sum(weights)
        weight_of = dict(zip(available, weights, strict=True))
        for option in options:
            if option not in weight_of:
                self._row(
                    decision_id,
                    family,
                    "municipality",
                    "assessment_choice",
                    stage=stage,
                    option=str(option),
                    available=False,
                    chosen=False,
                    probability=0.0,
                    draw=draw,
                    outcome=str(chosen),
                    reason=municipality.why_unavailable(option),
                )
                continue
            self._row(
                decision_id,
                family,
                "municipality",
                "assessment_choice",
                stage=stage,
                option=str(option),
                available=True,
                chosen=option is chosen,
                utility=sum(terms[option].values()),
                probability=weight_of[option] / total,
                draw=draw,
                outcome=str(chosen),
                terms=terms[option],
            )

    def consent(
        self,
        family: Family,
        decision: str,
        stage: str,
        centre: Centre | None,
        hours: float,
        start_day: int | None,
        breaks_per_month: float,
        terms: dict[str, float],
        draw: float,
        agreed: bool,
    ) -> None:
        """The parents' answer to a proposal or an offer (Family.accepts_proposal /
        accepts_stay_at)."""
        probability = 1.0 / (1.0 + math.exp(-sum(terms.values())))
        reason = ""
        if decision == "proposal":
            self._proposal_terms[family.unique_id] = terms
            outcome = "agreed" if agreed else "declined"
        else:
            outcome = "accepted" if agreed else "refused"
            before = self._proposal_terms.get(family.unique_id)
            if not agreed and before is not None:
                worse = {name: terms[name] - before.get(name, 0.0) for name in terms}
                name = min(worse, key=worse.__getitem__)
                reason = f"{name} worse than at the proposal ({worse[name]:+.2f} log-odds)"
        self._row(
            self._new(),
            family,
            "family",
            decision,
            stage=stage,
            option="residential",
            available=True,
            chosen=agreed,
            probability=probability,
            draw=draw,
            outcome=outcome,
            reason=reason,
            centre=centre.centre_id if centre is not None else "",
            hours=hours,
            start_day=start_day,
            breaks=breaks_per_month,
            terms=terms,
        )

    def intake_centre(
        self,
        decision_id: int,
        family: Family,
        option: Option,
        stage: str,
        centre: Centre,
        start: int | None,
        latest: int | None,
    ) -> None:
        """A centre the intake (or the municipality, buying directly) tried for a family."""
        in_time = start is not None and (latest is None or start <= latest)
        self._row(
            decision_id,
            family,
            "municipality" if stage == "direct_purchase" else "intake",
            "direct_purchase" if stage == "direct_purchase" else "intake",
            stage=stage,
            option=str(option),
            available=True,
            chosen=in_time,
            outcome="in_time" if in_time else "too_late",
            centre=centre.centre_id,
            hours=self.model.travel_hours(family.municipality, centre),
            start_day=start,
            latest_day=latest,
        )

    def intake_look_beyond(
        self, decision_id: int, family: Family, option: Option, share: float, draw: float
    ) -> None:
        """The draw of whether the intake looks beyond its region for a place."""
        looked = draw < share
        self._row(
            decision_id,
            family,
            "intake",
            "intake",
            stage="look_beyond",
            option=str(option),
            available=True,
            chosen=looked,
            probability=share,
            draw=draw,
            outcome="looked" if looked else "not_looked",
        )

    def intake_result(
        self,
        decision_id: int,
        family: Family,
        option: Option,
        centre: Centre | None,
        start: int | None,
        reason: str,
        decision: str = "intake",
    ) -> None:
        """What the intake decided (or what a direct purchase found)."""
        if decision == "direct_purchase":
            outcome = "bought" if centre is not None else "none_in_time"
        else:
            outcome = "allocated" if centre is not None else "refused"
        self._row(
            decision_id,
            family,
            "municipality" if decision == "direct_purchase" else "intake",
            decision,
            stage="result",
            option=str(option),
            available=True,
            chosen=centre is not None,
            outcome=outcome,
            reason=reason,
            centre=centre.centre_id if centre is not None else "",
            start_day=start,
        )

    def new_decision(self) -> int:
        """A decision id for a decision reported in several rows (intake, direct purchase)."""
        return self._new()

    def dropout(
        self,
        family: Family,
        centre: Centre,
        hours: float,
        breaks: int,
        probability: float,
        draw: float,
        day: int | None,
        p_stay: float,
        p_break: float,
        end: int,
    ) -> None:
        """Whether a booked stay ends early (Family.dropout_day); ``end`` its planned end."""
        terms = {
            "per_stay": -math.log1p(-p_stay) if p_stay < 1 else math.inf,
            "closure_breaks": -breaks * math.log1p(-p_break) if p_break < 1 else math.inf,
        }
        reason = ""
        if day is not None:
            reason = (
                "closure breaks and the journey home"
                if terms["closure_breaks"] > terms["per_stay"]
                else "the risk of any stay"
            )
        self._row(
            self._new(),
            family,
            "family",
            "dropout",
            stage="at_booking",
            option=str(family.option or "residential"),
            available=True,
            chosen=day is not None,
            probability=probability,
            draw=draw,
            outcome="drops_out" if day is not None else "completes",
            reason=reason,
            centre=centre.centre_id,
            hours=hours,
            start_day=day,
            latest_day=end,
            breaks=float(breaks),
            terms=terms,
        )

    def after_assessment(
        self, family: Family, accuracy: float, draw: float, needs_placement: bool, correct: bool
    ) -> None:
        """The municipality's decision after the assessment."""
        need = "needed a placement" if needs_placement else "did not need a placement"
        self._row(
            self._new(),
            family,
            "municipality",
            "after_assessment",
            stage=str(family.option),
            option=str(family.option),
            available=True,
            chosen=correct,
            probability=accuracy,
            draw=draw,
            outcome=str(family.decision),
            reason=f"the child {need}; the decision was {'right' if correct else 'wrong'}",
        )

    # --- the table --------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """The ``decisions`` table (columns ``COLUMNS``; missing numbers NaN, texts empty)."""
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(COLUMNS)
        data: dict[str, Any] = {}
        for name, values in zip(COLUMNS, columns, strict=True):
            if name in _TEXTS or name in ("municipality", "actor", "decision"):
                data[name] = pd.array(values, dtype=object) if values else []
            elif name in ("available", "chosen"):
                data[name] = np.array(values, dtype=bool)
            elif name in ("decision_id", "family_id", "day", "step", "year"):
                data[name] = np.array(values, dtype=np.int64)
            elif name in ("start_day", "latest_day"):
                data[name] = pd.array(values, dtype="Int64")
            else:
                data[name] = np.array(values, dtype=np.float64)
        return pd.DataFrame(data, columns=list(COLUMNS))
