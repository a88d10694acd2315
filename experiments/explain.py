"""Why a municipality did (or did not) use the centres: its cases' paths read from a run's
decision trail (``decisions.parquet``, model/trail.py), and, without a run, the choice a typical
family there would meet and how much each driver would have to change for a centre to become
the likeliest choice (``sfbsim explain``; docs/explain.md).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sfbsim.experiments.errors import ExperimentError

CENTRE_CHOICES = ("residential", "home_centre")
"""The options that are centre assessments (a direct purchase comes only after a refusal)."""
TERM_WORDS = {
    "base": "the general preference for the option (its constant, the same everywhere)",
    "severity": "the severity of the case",
    "travel": "travel to the centre",
    "home_reach": "how many home visits centre staff can make at this distance",
    "own_capacity": "the service's own capacity to assess",
    "wait": "the expected wait for a place",
    "familiarity": "familiarity with the centres",
    "prospect": "the chance the stay goes through (parents agree, family completes)",
    "weekend_risk": "the risk of weekend closures for a vulnerable family",
    "price": "the municipal cost (co-payment)",
}
"""Each utility term in words (model/trail.py UTILITY_TERMS)."""
REACH = "reach"
"""The name of the reason a home-based assessment by centre staff was not an option."""
GAPS_TITLE = "Each term's pull on a residential stay against the option chosen"
GAPS_NOTE = (
    "Utility units, averaged over first choices that were not a centre; negative: the term "
    "pulled against a residential stay. 'national': the same over every municipality."
)
"""What the table of terms (here and national) is: said under it by the CLI and the app."""
NO_GAPS_NOTE = (
    "No first choice here went elsewhere than a centre, so there is no pull against a stay to "
    "set beside the national one; `sfbsim explain --scenario baseline -m ...` shows the choice "
    "a typical family here would meet."
)
"""Said instead of the table when no first choice here went elsewhere than a centre."""


def _municipality_row(municipalities: pd.DataFrame, key: str) -> pd.Series:
    """The municipality named by number (``1875``) or name (case-insensitive)."""
    numbers = municipalities["kommunenummer"].astype(str)
    found = municipalities[numbers == str(key).strip().zfill(4)]
    if found.empty:  # a whole name, or one of the names of a bilingual one ("Hábmer - Hamarøy")
        wanted = str(key).strip().lower()
        names = municipalities["name"].str.lower()
        parts = names.str.split(" - ")
        found = municipalities[(names == wanted) | parts.apply(lambda p: wanted in p)]
    if found.empty:
        raise ExperimentError(
            f"--municipality {key!r}: no such municipality in the data; give its four-digit "
            "number (kommunenummer, e.g. 1875) or its name as in model/data/municipalities.csv"
        )
    return found.iloc[0]


# --- a run's trail ----------------------------------------------------------------------------
@dataclass
class CaseStory:
    """One family's path through the run, step by step in words."""

    family_id: int
    arrival_date: str
    steps: list[str]
    outcome: str


@dataclass
class TermGap:
    """How much a term moved a residential stay against the option the service chose, on
    average over the municipality's first choices that were not a centre (utility units;
    negative: against the centre), here and over all municipalities of the run."""

    term: str
    meaning: str
    here: float
    national: float


@dataclass
class MunicipalityExplanation:
    """``sfbsim explain RUN_DIR --municipality K``: what happened to the cases and why."""

    kommunenummer: str
    name: str
    region: str
    size_class: str
    years: list[int]
    counts: dict[str, int]
    first_choice_shares: dict[str, float]
    leading: list[str]
    gaps: list[TermGap]
    home_based_unavailable: int
    summary: list[str]
    cases: list[CaseStory] = field(default_factory=list)

    @property
    def has_gaps(self) -> bool:
        """Whether any first choice here went elsewhere than a centre (the table has values)."""
        return any(math.isfinite(gap.here) for gap in self.gaps)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value)}")


def read_trail(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The decisions, families and manifest of a run folder (ExperimentError if it has none)."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ExperimentError(
            f"{run_dir} is not a run folder (no manifest.json): give the --out folder of "
            "`sfbsim run`, or explain a scenario without a run: sfbsim explain --scenario NAME "
            "--municipality K"
        )
    decisions = run_dir / "decisions.parquet"
    if not decisions.is_file():
        raise ExperimentError(
            f"{run_dir} has no decision trail (decisions.parquet): it was run without --trace "
            "or by an older sfbsim; rerun it with `sfbsim run ... --trace`"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        trail = pd.read_parquet(decisions)
        families = pd.read_parquet(run_dir / "families.parquet")
    except (OSError, ValueError) as error:
        raise ExperimentError(f"{run_dir}: the run's files cannot be read ({error})") from None
    return trail, families, manifest


def day_date(start_year: int, day: int) -> str:
    """The date of a day number (day 1 = 1 January of the start year)."""
    return (dt.date(start_year, 1, 1) + dt.timedelta(days=int(day) - 1)).isoformat()


def term_gaps(choices: pd.DataFrame) -> pd.DataFrame:
    """Per first choice that was not a centre: each term of the residential option minus the
    same term of the option chosen (a missing term counts 0). One row per decision."""
    terms = [c for c in choices.columns if c.startswith("term_")]
    wanted = choices[choices["stage"] == "first"]
    chosen = wanted[wanted["chosen"]].set_index("decision_id")
    chosen = chosen[~chosen["option"].isin(CENTRE_CHOICES)]
    residential = wanted[(wanted["option"] == "residential") & wanted["available"]]
    residential = residential.set_index("decision_id")
    common = chosen.index.intersection(residential.index)
    if len(common) == 0:
        return pd.DataFrame(columns=terms)
    gap = residential.loc[common, terms].fillna(0.0) - chosen.loc[common, terms].fillna(0.0)
    return gap.rename(columns=lambda c: c.removeprefix("term_"))


def explain_run(
    run_dir: Path, municipality: str, year: int | None = None, family: int | None = None
) -> MunicipalityExplanation:
    """Read a run's trail for one municipality (one year, or one family)."""
    trail, families, manifest = read_trail(run_dir)
    from sfbsim.model.data_loading import load_data

    recorded = manifest.get("data")
    data_dir = Path(recorded["dir"]) if isinstance(recorded, dict) and "dir" in recorded else None
    if data_dir is not None and not (data_dir / "municipalities.csv").is_file():
        data_dir = None  # the data folder has moved: the bundled municipalities name them
    municipalities = load_data(data_dir).municipalities
    return explain_trail(
        trail, families, municipalities, int(manifest["start_year"]), municipality, year, family
    )


def explain_trail(
    trail: pd.DataFrame,
    families: pd.DataFrame,
    municipalities: pd.DataFrame,
    start_year: int,
    municipality: str,
    year: int | None = None,
    family: int | None = None,
) -> MunicipalityExplanation:
    """One municipality's cases (one year, or one family) and why, from a decision trail in
    memory (``decisions`` and ``families`` tables of a traced run, finished or not: the
    app's Explore page explains its live run here; ``explain_run`` a run folder's)."""
    row = _municipality_row(municipalities, municipality)
    number = str(row["kommunenummer"])
    everywhere = trail[trail["decision"] == "assessment_choice"]
    mine = trail[trail["municipality"] == number]
    if year is not None:
        years_run = sorted(trail["year"].unique().tolist())
        if year not in years_run:
            raise ExperimentError(
                f"--year {year}: the run covers {years_run[0]}-{years_run[-1]}; choose one of those"
            )
        mine = mine[mine["year"] == year]
        everywhere = everywhere[everywhere["year"] == year]
    if family is not None:
        if family not in set(mine["family_id"]):
            raise ExperimentError(
                f"--family {family}: no case of {row['name']} ({number}) has that id in this run"
                + (f" in {year}" if year is not None else "")
                + "; the families table (families.csv, family_id) lists them"
            )
        mine = mine[mine["family_id"] == family]
    choices = mine[mine["decision"] == "assessment_choice"]
    first = choices[(choices["stage"] == "first") & choices["chosen"]]
    counts = {
        "cases": int(first["family_id"].nunique()),
        "proposals": int((mine["decision"] == "proposal").sum()),
        "proposals_declined": int(((mine["decision"] == "proposal") & ~mine["chosen"]).sum()),
        "referrals_home_based": int(
            (choices["chosen"] & (choices["option"] == "home_centre")).sum()
        ),
        "offers_refused": int(((mine["decision"] == "offer") & ~mine["chosen"]).sum()),
        "intake_refusals": int(
            ((mine["decision"] == "intake") & (mine["outcome"] == "refused")).sum()
        ),
        "own_assessments_chosen": int((choices["chosen"] & (choices["option"] == "own")).sum()),
        "emergency_placements_chosen": int(
            (choices["chosen"] & (choices["option"] == "emergency")).sum()
        ),
        "follow_ups_chosen": int((choices["chosen"] & (choices["option"] == "follow_up")).sum()),
        "dropouts": int(((mine["decision"] == "dropout") & mine["chosen"]).sum()),
    }
    ids = set(first["family_id"])
    theirs = families[families["family_id"].isin(ids)]
    started = theirs["centre_id"].fillna("").astype(str) != ""
    counts["centre_assessments"] = int(started.sum())
    shares = first["option"].value_counts(normalize=True).round(3).to_dict()
    unavailable = choices[(choices["option"] == "home_centre") & ~choices["available"]]
    n_unavailable = int(unavailable["decision_id"].nunique())
    here = term_gaps(choices).mean()
    national = term_gaps(everywhere).mean()
    gaps = [
        TermGap(name, TERM_WORDS[name], _num(here.get(name)), _num(national.get(name)))
        for name in TERM_WORDS
        if name in here.index or name in national.index
    ]
    leading = leading_terms(gaps, n_unavailable, counts["cases"])
    summary = _summary(row, counts, shares, leading, gaps, n_unavailable, year)
    stories = [
        _story(group, start_year, families)
        for _, group in mine.sort_values(["family_id", "decision_id"]).groupby("family_id")
    ]
    years = sorted(int(y) for y in mine["year"].unique())
    return MunicipalityExplanation(
        number,
        str(row["name"]),
        str(row["region"]),
        str(row["size_class"]),
        years,
        counts,
        {str(k): float(v) for k, v in shares.items()},
        leading,
        gaps,
        n_unavailable,
        summary,
        stories,
    )


def _num(value: Any) -> float:
    return float(value) if value is not None and not pd.isna(value) else float("nan")


def leading_terms(gaps: list[TermGap], unavailable: int, cases: int) -> list[str]:
    """What kept this municipality's cases from a centre more than elsewhere, strongest
    first: no reach for centre staff at home (when it was missing for most cases), then the
    terms that pulled against a residential stay by at least 0.1 utility more here than on
    average over all municipalities (``national``; the constant, the same everywhere, aside)."""
    out = [REACH] if cases and unavailable >= cases / 2 else []
    relative = [
        (g.here - (0.0 if math.isnan(g.national) else g.national), g.term)
        for g in gaps
        if g.term != "base" and not math.isnan(g.here)
    ]
    return out + [term for pull, term in sorted(relative) if pull <= -0.1][:3]


def _summary(
    row: pd.Series,
    counts: dict[str, int],
    shares: dict,
    leading: list[str],
    gaps: list[TermGap],
    unavailable: int,
    year: int | None,
) -> list[str]:
    when = f"in {year}" if year is not None else "over the run"
    lines = [
        f"{row['name']} ({row['kommunenummer']}, {row['size_class']}, region {row['region']}) "
        f"had {counts['cases']} cases {when}; {counts['centre_assessments']} of them were "
        "assessed at a centre or by centre staff."
    ]
    if counts["cases"] == 0:
        return lines + ["No case arrived, so there was nothing to decide."]
    chosen = ", ".join(f"{k} {v:.0%}" for k, v in sorted(shares.items(), key=lambda t: -t[1]))
    lines.append(f"First choices: {chosen}.")
    if counts["proposals"]:
        lines.append(
            f"{counts['proposals']} residential stays were proposed to the parents; "
            f"{counts['proposals_declined']} declined."
        )
    if counts["offers_refused"] or counts["intake_refusals"]:
        lines.append(
            f"Bufetat's intake refused {counts['intake_refusals']} referrals; parents refused "
            f"{counts['offers_refused']} places offered."
        )
    reasons = []
    by_term = {g.term: g for g in gaps}
    for name in leading:
        if name == REACH:
            reasons.append(
                f"centre staff could not work at the families' homes ({unavailable} of "
                f"{counts['cases']} cases had no home-based option: no centre's staff can "
                "reach this far)"
            )
        else:
            g = by_term[name]
            reasons.append(
                f"{name} — {g.meaning} ({g.here:+.2f} utility here, {g.national:+.2f} on "
                f"average nationally: {g.national - g.here:.2f} less for a stay than elsewhere)"
            )
    if reasons:
        lines.append(
            "What kept cases from the centres, strongest first: " + "; ".join(reasons) + "."
        )
    return lines


def _story(rows: pd.DataFrame, start_year: int, families: pd.DataFrame) -> CaseStory:
    """A family's path in words."""
    family_id = int(rows["family_id"].iloc[0])
    steps: list[str] = []
    for _, decision in rows.groupby("decision_id", sort=True):
        steps.append(_step(decision, start_year))
    record = families[families["family_id"] == family_id]
    outcome = ""
    arrival = ""
    if not record.empty:
        r = record.iloc[0]
        arrival = str(r["arrival_date"])
        outcome = f"{r['status']}" + (
            f", {r['decision']}" if str(r["decision"]) not in ("", "None", "nan") else ""
        )
    return CaseStory(family_id, arrival, steps, outcome)


def _step(rows: pd.DataFrame, start_year: int) -> str:
    """One decision (all its rows) in words."""
    first = rows.iloc[0]
    date = day_date(start_year, first["day"])
    kind = first["decision"]
    if kind == "assessment_choice":
        chosen = first["outcome"]
        options = []
        for r in rows.itertuples(index=False):
            if not r.available:
                options.append(f"{r.option} n/a ({r.reason})")
            else:
                options.append(f"{r.option} {r.probability:.0%}")
        text = f"{date} the service chose {chosen} ({first['stage'].replace('_', ' ')}; " + (
            ", ".join(options) + f"; draw {first['draw']:.2f})"
        )
        residential = rows[(rows["option"] == "residential") & rows["available"]]
        picked = rows[rows["chosen"]]
        if chosen not in CENTRE_CHOICES and not residential.empty and not picked.empty:
            terms = [c for c in rows.columns if c.startswith("term_")]
            gap = residential[terms].fillna(0).iloc[0] - picked[terms].fillna(0).iloc[0]
            gap = gap.drop("term_base").sort_values()
            worst = [f"{k.removeprefix('term_')} {v:+.2f}" for k, v in gap.items() if v < -0.05][:3]
            if worst:
                text += "; against a residential stay: " + ", ".join(worst)
        return text
    if kind == "proposal":
        answer = "agreed" if first["chosen"] else "declined"
        return (
            f"{date} a stay at {first['centre'] or 'the nearest centre'} ({first['hours']:.1f} h "
            f"away) was proposed; the parents {answer} (chance of agreeing "
            f"{first['probability']:.0%}, willingness draw {first['draw']:.2f})"
        )
    if kind == "offer":
        answer = "accepted" if first["chosen"] else f"refused ({first['reason'] or 'worse'})"
        start = day_date(start_year, first["start_day"]) if pd.notna(first["start_day"]) else "?"
        return (
            f"{date} {first['stage'].replace('_', ' ')}: a place at {first['centre']} from "
            f"{start}; the parents {answer} (chance {first['probability']:.0%})"
        )
    if kind in ("intake", "direct_purchase"):
        tried = rows[
            rows["stage"].isin(["own_region", "other_regions", "duty_to_assist", "direct_purchase"])
        ]
        result = rows[rows["stage"] == "result"]
        who = "Bufetat's intake" if kind == "intake" else "the service, buying a place directly,"
        text = f"{date} {who} tried {len(tried)} centre(s)"
        if not tried.empty:
            late = tried[~tried["chosen"]]
            if not late.empty and pd.notna(late["latest_day"].iloc[0]):
                latest = day_date(start_year, late["latest_day"].iloc[0])
                text += f" (latest start the deadline allowed {latest}; {len(late)} too late)"
        if not result.empty:
            r = result.iloc[0]
            if r["chosen"]:
                text += (
                    f": {r['outcome']} {r['centre']} from {day_date(start_year, r['start_day'])}"
                )
            else:
                text += f": {r['outcome']} ({r['reason']})"
        return text
    if kind == "dropout":
        if first["chosen"]:
            return (
                f"{date} stay booked at {first['centre']}; the family will leave early on "
                f"{day_date(start_year, first['start_day'])} ({first['reason']}; risk "
                f"{first['probability']:.0%} over {int(first['breaks'])} closure breaks)"
            )
        return (
            f"{date} stay booked at {first['centre']}; it will be completed (drop-out risk "
            f"{first['probability']:.0%} over {int(first['breaks'])} closure breaks)"
        )
    if kind == "after_assessment":
        return f"{date} after the assessment: {first['outcome']} ({first['reason']})"
    return f"{date} {kind}"


# --- a scenario, without a run ------------------------------------------------------------------
@dataclass
class DriverChange:
    """How far one driver would have to move for a centre option to be the likeliest."""

    driver: str
    unit: str
    now: float
    needed: float | None
    note: str


@dataclass
class ScenarioExplanation:
    """``sfbsim explain --scenario S --municipality K``: a typical family's choice there."""

    scenario: str
    kommunenummer: str
    name: str
    date: str
    family: dict[str, Any]
    options: list[dict[str, Any]]
    likeliest: str
    centre_option: str
    gap: float
    leading: list[str]
    """What keeps the family from a residential stay, strongest first (as in a run's
    explanation: ``reach`` when centre staff cannot work at homes here, then the terms)."""
    changes: list[DriverChange]
    summary: list[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=_json_default)


def explain_scenario(scenario: Any, data: Any, municipality: str, year: int | None = None):
    """The first choice a typical family of ``municipality`` meets in ``scenario`` on
    1 January of ``year`` (default: the scenario's first year; the model runs until then),
    each option's terms and probability, and how much each driver (travel, co-payment,
    familiarity, expected wait, home-based reach) would have to change for a centre option to
    become the likeliest choice."""
    from sfbsim.agents.family import Family
    from sfbsim.agents.municipality import FIRST_CHOICE
    from sfbsim.experiments.runner import build_model

    start = scenario.run.start_year
    last = start + scenario.run.years - 1
    year = start if year is None else year
    if not start <= year <= last:
        raise ExperimentError(
            f"--year {year}: scenario {scenario.name!r} runs {start}-{last}; choose one of those"
        )
    model = build_model(scenario, data, details=True)
    row = _municipality_row(data.municipalities, municipality)
    mun = next(m for m in model.municipalities if m.kommunenummer == row["kommunenummer"])
    first_day = model.day_of(dt.date(year, 1, 1))
    while model.today < first_day - 1 and model.running:
        model.step()
    model.start_year_of_cases(year)
    columns = model._arrivals.columns
    arrivals = pd.DataFrame(
        {"severity": columns[6], "parents": columns[3], "children": columns[4],
         "sibling": columns[5], "age": columns[2]}
    )  # fmt: skip
    traits = {
        "severity": float(arrivals["severity"].median()),
        "parents": int(arrivals["parents"].mode().iloc[0]),
        "children": int(arrivals["children"].mode().iloc[0]),
        "sibling_over_6": bool(arrivals["sibling"].mode().iloc[0]),
        "age_group": str(arrivals["age"].mode().iloc[0]),
    }
    family = Family(
        model,
        municipality=mun,
        arrival_day=max(model.today, 1),
        age_group=traits["age_group"],
        parents=traits["parents"],
        children=traits["children"],
        sibling_over_6=traits["sibling_over_6"],
        severity=traits["severity"],
        latent_need=0.0,
        days_used=0,
        luck={},
        row=0,
    )
    options = FIRST_CHOICE

    def table() -> tuple[list[dict[str, Any]], dict[str, float]]:
        available = mun.open_options(options)
        probabilities = dict(zip(options, mun.choice_probabilities(family, options), strict=True))
        terms = dict(zip(available, mun.utility_terms(family, available), strict=True))
        out = []
        utility = {}
        for option in options:
            entry: dict[str, Any] = {"option": str(option), "available": option in terms}
            if option in terms:
                utility[str(option)] = sum(terms[option].values())
                entry.update(
                    utility=utility[str(option)],
                    probability=probabilities[option],
                    terms=terms[option],
                )
            else:
                entry.update(utility=None, probability=0.0, reason=mun.why_unavailable(option))
            out.append(entry)
        return out, utility

    rows, utility = table()
    likeliest = max(utility, key=utility.__getitem__)
    centre = max((o for o in CENTRE_CHOICES if o in utility), key=utility.__getitem__)
    best_other = max(v for k, v in utility.items() if k not in CENTRE_CHOICES)
    gap = best_other - utility[centre]

    def centre_margin() -> float:
        _, u = table()
        return max(u.get(o, -math.inf) for o in CENTRE_CHOICES) - max(
            v for k, v in u.items() if k not in CENTRE_CHOICES
        )

    changes = _driver_changes(model, mun, centre_margin) if gap > 0 else []
    by_option = {r["option"]: r for r in rows}
    unavailable = 0 if by_option["home_centre"]["available"] else 1
    gaps = []
    if likeliest not in CENTRE_CHOICES and by_option["residential"]["available"]:
        here = _pull(by_option["residential"]["terms"], by_option[likeliest]["terms"])
        national = _national_pull(model, family, likeliest)
        gaps = [TermGap(t, TERM_WORDS[t], here[t], national[t]) for t in TERM_WORDS]
    leading = leading_terms(gaps, unavailable, 1)
    summary = [
        f"A typical family in {row['name']} ({row['kommunenummer']}) on {year}-01-01 under "
        f"{scenario.name}: severity {traits['severity']:.2f} (the median of the year's cases), "
        f"{traits['parents']} parent(s), {traits['children']} child(ren)"
        + (", a sibling over 6" if traits["sibling_over_6"] else "")
        + ".",
        "Choice probabilities: "
        + ", ".join(f"{r['option']} {r['probability']:.0%}" for r in rows)
        + ".",
    ]
    if gap <= 0:
        summary.append(f"A centre ({centre}) is already the likeliest choice.")
    else:
        summary.append(
            f"The likeliest choice is {likeliest}; the best centre option ({centre}) is "
            f"{gap:.2f} utility behind. What keeps the family from a stay, strongest first: "
            + ", ".join(leading)
            + ". Each driver that would make a centre the likeliest choice on its own:"
        )
        if all(c.needed is None for c in changes):
            base = {r["option"]: r["terms"].get("base", 0.0) for r in rows if r["available"]}
            summary.append(
                "  no single driver is enough on its own: the options' constants (base) alone "
                f"put {likeliest} {base[likeliest] - base[centre]:+.2f} ahead of {centre}; "
                "several would have to change together."
            )
        for c in changes:
            if c.needed is None:
                summary.append(f"  {c.driver}: {c.note}")
            else:
                summary.append(
                    f"  {c.driver}: from {c.now:.3g} to {c.needed:.3g} {c.unit} ({c.note})"
                )
    return ScenarioExplanation(
        scenario.name,
        str(row["kommunenummer"]),
        str(row["name"]),
        f"{year}-01-01",
        traits,
        rows,
        likeliest,
        centre,
        float(gap),
        leading,
        changes,
        summary,
    )


def _pull(stay: dict[str, float], other: dict[str, float]) -> dict[str, float]:
    """Each term of a residential stay minus the same term of another option (missing: 0)."""
    return {t: stay.get(t, 0.0) - other.get(t, 0.0) for t in TERM_WORDS}


def _national_pull(model: Any, family: Any, other: str) -> dict[str, float]:
    """The same family's pull per term (stay minus ``other``) averaged over every
    municipality where a residential stay is possible."""
    from sfbsim.agents.family import RESIDENTIAL, Option

    own = family.municipality
    pulls = []
    for municipality in model.municipalities:
        family.municipality = municipality
        stay, alternative = municipality.utility_terms(family, (RESIDENTIAL, Option(other)))
        pulls.append(_pull(stay, alternative))
    family.municipality = own
    return {t: float(np.mean([p[t] for p in pulls])) for t in TERM_WORDS}


def _solve(margin, set_value, low: float, high: float, now: float) -> float | None:
    """The value between ``now`` and the far end (``low`` or ``high``, whichever improves the
    margin) nearest ``now`` where the centre's margin reaches 0, by bisection; None if even
    the far end is not enough. Restores ``now``."""
    set_value(low)
    at_low = margin()
    set_value(high)
    at_high = margin()
    set_value(now)
    far = low if at_low > at_high else high
    set_value(far)
    reached = margin() >= 0
    if not reached:
        set_value(now)
        return None
    a, b = now, far
    for _ in range(50):
        mid = (a + b) / 2
        set_value(mid)
        if margin() >= 0:
            b = mid
        else:
            a = mid
    set_value(now)
    return b


def _driver_changes(model: Any, mun: Any, margin) -> list[DriverChange]:
    """Each driver moved alone until a centre option becomes the likeliest."""
    from sfbsim.agents.centre import home_reach_hours

    out = []
    hours_now = mun.nearest_centre_hours
    home_now = mun.home_centre_hours
    centre = mun.expected_centre

    def set_hours(h: float) -> None:
        mun.set_reach(centre, h, home_now)

    needed = _solve(margin, set_hours, 0.0, max(hours_now, 0.01), hours_now)
    out.append(
        DriverChange(
            "travel hours to the expected centre",
            "hours",
            hours_now,
            needed,
            "a nearer centre" if needed is not None else "not enough even with a centre next door",
        )
    )
    levers = model.levers

    def set_copay(m: float) -> None:
        model.levers = levers.model_copy(update={"copay_multiplier": m})

    needed = _solve(margin, set_copay, 0.0, 1.0, levers.copay_multiplier)
    out.append(
        DriverChange(
            "co-payment (multiplier on today's rates)",
            "× today's rates",
            levers.copay_multiplier,
            needed,
            "lower co-payments" if needed is not None else "not enough even with no co-payment",
        )
    )
    model.levers = levers
    familiarity_now = float(model.familiarity[mun.index])

    def set_familiarity(f: float) -> None:
        model.familiarity[mun.index] = f

    needed = _solve(margin, set_familiarity, familiarity_now, 1.0, familiarity_now)
    out.append(
        DriverChange(
            "familiarity with the centres",
            "(0-1)",
            familiarity_now,
            needed,
            "more experience" if needed is not None else "not enough even at full familiarity",
        )
    )
    from sfbsim.agents.family import RESIDENTIAL

    wait_now = float(mun.expected_wait[RESIDENTIAL])

    def set_wait(w: float) -> None:
        mun.expected_wait[RESIDENTIAL] = w

    needed = _solve(margin, set_wait, 0.0, max(wait_now, 0.01), wait_now)
    out.append(
        DriverChange(
            "expected wait for a residential place",
            "days",
            wait_now,
            needed,
            "shorter waits" if needed is not None else "not enough even with no wait",
        )
    )
    if home_now is None:
        reach = home_reach_hours(model.parameters, model.costs.home_centre_hours)

        def set_home(h: float) -> None:
            mun.set_reach(centre, hours_now, h)

        nearest_home = float(
            min(
                (model.travel_hours(mun, c) for c in model.centres if c.home_based_capacity),
                default=math.inf,
            )
        )
        set_home(reach)
        works = margin() >= 0
        mun.set_reach(centre, hours_now, None)
        out.append(
            DriverChange(
                "home-based reach (travel of the nearest centre with home-based staff)",
                "hours",
                nearest_home,
                reach if works else None,
                f"centre staff can work at homes at most {reach:.1f} h away"
                + ("" if works else "; even then a centre would not be the likeliest choice"),
            )
        )
    return out
