"""The app's levers: the values a person sets in the side panel, turned into a Scenario.

Every lever arrives as the widget gives it (text, a label, a number) and is validated here, so a
bad value becomes a ``LeverError`` with one readable line per problem, never a traceback.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import ValidationError

from sfbsim.experiments.scenario_files import ScenarioError, describe_errors, load_scenario
from sfbsim.model.data_loading import BundledData, load_data
from sfbsim.model.parameters import WEEKDAY_INDEX, NewCentre, Scenario

KEEP = "each centre's own"
WEEKEND_CHOICES: dict[str, str | None] = {
    KEEP: None,
    "open every weekend": "open_every_weekend",
    "every other weekend closed": "every_other_weekend_closed",
    "all weekends closed": "all_weekends_closed",
    "weekdays only": "weekdays_only",
}
NO_NEW_CENTRE = "none"
CURRENT_LEVERS = "current levers (Explore page)"

DEFAULTS: dict[str, Any] = {
    "weekend_policy": KEEP,
    "copay_multiplier": 1.0,
    "units_multiplier": 1.0,
    "intake_meeting_days": "tue, thu",
    "duty_to_assist": False,
    "information_campaign": 0.0,
    "new_centre": NO_NEW_CENTRE,
    "seed": "1",
    "years": 2,
}
"""Lever values of a fresh session (the shipped baseline, two years)."""


class LeverError(ValueError):
    """Lever values that cannot be used; ``messages`` says what and how to fix it."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


@functools.cache
def bundled_data() -> BundledData:
    """The bundled data, read once per server process and shared read-only by all sessions."""
    return load_data()


@functools.cache
def municipality_choices() -> dict[str, str]:
    """Label shown in the new-centre list → kommunenummer, alphabetical by name."""
    rows = bundled_data().municipalities.sort_values("name", kind="stable")
    return {f"{r.name} ({r.kommunenummer})": r.kommunenummer for r in rows.itertuples()}


def parse_weekdays(text: str) -> list[str]:
    """'tue, thu' → ['tue', 'thu']; unknown names are left for validation to report."""
    return [part for part in re.split(r"[\s,;]+", str(text).strip().lower()) if part]


def parse_int(name: str, text: Any, low: int, high: int | None = None) -> tuple[int | None, str]:
    """An integer from a widget, or the message saying why not."""
    try:
        value = int(str(text).strip())
    except ValueError:
        return None, f"{name}: {text!r} is not a whole number"
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else ""
        return None, f"{name}: {value} is out of range; allowed: between {low}{upper}"
    return value, ""


def lever_scenario(
    settings: dict[str, Any] | None = None, base: Scenario | str = "baseline"
) -> Scenario:
    """The scenario the levers describe, on top of ``base`` (a Scenario or a shipped name).

    Raises LeverError listing every bad value.
    """
    values = {**DEFAULTS, **(settings or {})}
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise LeverError([f"unknown lever(s): {', '.join(unknown)}"])
    if isinstance(base, str):
        try:
            base = load_scenario(base)
        except ScenarioError as error:
            raise LeverError(error.messages) from None
    messages: list[str] = []

    weekend = values["weekend_policy"]
    if weekend not in WEEKEND_CHOICES:
        messages.append(
            f"weekend policy: {weekend!r} is not a choice; allowed: {', '.join(WEEKEND_CHOICES)}"
        )
    days = parse_weekdays(values["intake_meeting_days"])
    bad_days = [d for d in days if d not in WEEKDAY_INDEX]
    if bad_days or not days:
        messages.append(
            f"intake meeting days: {', '.join(bad_days) or 'none given'} not understood; "
            f"give one or more of {', '.join(WEEKDAY_INDEX)} separated by commas"
        )
    elif len(set(days)) != len(days):
        messages.append("intake meeting days: a weekday is listed twice")
    seed, message = parse_int("seed", values["seed"], 0)
    if message:
        messages.append(message)
    years, message = parse_int("years", values["years"], 1, 50)
    if message:
        messages.append(message)
    new_centres = list(base.new_centres)
    choice = values["new_centre"]
    if choice and choice != NO_NEW_CENTRE:
        kommunenummer = municipality_choices().get(choice)
        if kommunenummer is None and re.fullmatch(r"[0-9]{4}", str(choice)):
            kommunenummer = str(choice)
        if kommunenummer is None:
            messages.append(f"new centre: {choice!r} is not a municipality in the data")
        else:
            name = choice.split(" (")[0]
            new_centres.append(
                NewCentre(
                    centre_id=f"new_{kommunenummer}",
                    name=f"New centre in {name}",
                    kommunenummer=kommunenummer,
                )
            )
    levers_update = {
        "copay_multiplier": values["copay_multiplier"],
        "units_multiplier": values["units_multiplier"],
        "duty_to_assist": values["duty_to_assist"],
        "information_campaign": values["information_campaign"],
    }
    if weekend in WEEKEND_CHOICES:
        levers_update["weekend_policy"] = WEEKEND_CHOICES[weekend]
    if not bad_days and days:
        levers_update["intake_meeting_days"] = days
    raw = base.model_dump(mode="python")
    raw["levers"].update(levers_update)
    raw["new_centres"] = [c.model_dump(mode="python") for c in new_centres]
    if seed is not None:
        raw["run"]["seed"] = seed
    if years is not None:
        raw["run"]["years"] = years
    raw["name"] = "levers"
    raw["description"] = f"levers set in the app on top of {base.name}"
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        messages.extend(describe_errors(error))
        scenario = None
    if messages or scenario is None:
        raise LeverError(messages)
    return scenario


# --- the levers as a scenario file ------------------------------------------------------------
SAVED_NAME = "app_levers"


def levers_toml(settings: dict[str, Any] | None = None, base: str = "baseline") -> str:
    """The levers as a reform file on the shipped ``base`` that ``sfbsim run --scenario FILE``
    accepts (and that loads to the same scenario as ``lever_scenario(settings, base)``).

    Raises LeverError listing every bad value (nothing is saved then).
    """
    import tomlkit

    scenario = lever_scenario(settings, base)  # validates every value first
    values = {**DEFAULTS, **(settings or {})}
    levers = scenario.levers
    document = tomlkit.document()
    document.add(tomlkit.comment("Levers saved from the sfbsim app (Explore page)."))
    document.add(tomlkit.comment("Run it with: sfbsim run --scenario THIS_FILE.toml"))
    document.add("name", SAVED_NAME)
    document.add("baseline", base)
    document.add("description", f"levers set in the app on top of {base}: {summary(values)}")
    run = tomlkit.table()
    run.add("years", scenario.run.years)
    run.add("seed", scenario.run.seed)
    document.add("run", run)
    table = tomlkit.table()
    if levers.weekend_policy is not None:
        table.add("weekend_policy", levers.weekend_policy)
    else:
        table.add(tomlkit.comment("weekend_policy: each centre's own (as in the baseline)"))
    table.add("copay_multiplier", float(levers.copay_multiplier))
    table.add("units_multiplier", float(levers.units_multiplier))
    table.add("intake_meeting_days", list(levers.intake_meeting_days))
    table.add("duty_to_assist", bool(levers.duty_to_assist))
    table.add("information_campaign", float(levers.information_campaign))
    document.add("levers", table)
    base_ids = {c.centre_id for c in load_scenario(base).new_centres}
    added = tomlkit.aot()
    for centre in scenario.new_centres:
        if centre.centre_id in base_ids:
            continue
        entry = tomlkit.table()
        entry.add("centre_id", centre.centre_id)
        entry.add("name", centre.name)
        entry.add("kommunenummer", centre.kommunenummer)
        added.append(entry)
    if len(added):
        document.add("new_centres", added)
    return tomlkit.dumps(document)


def summary(values: dict[str, Any]) -> str:
    """The lever values in one short line (for a saved file's description)."""
    parts = [f"weekend: {values['weekend_policy']}"]
    parts.append(f"co-payment x{float(values['copay_multiplier']):.2f}")
    parts.append(f"units x{float(values['units_multiplier']):.2f}")
    parts.append(f"intake meetings: {values['intake_meeting_days']}")
    parts.append(f"duty to assist: {'yes' if values['duty_to_assist'] else 'no'}")
    parts.append(f"campaign {float(values['information_campaign']):.0%}")
    parts.append(f"new centre: {values['new_centre']}")
    return ", ".join(parts)


# --- an uploaded scenario file ----------------------------------------------------------------
def uploaded_scenario(filename: str, data: bytes) -> Scenario:
    """A scenario file a person uploaded, validated like ``sfbsim run --scenario FILE``.

    A reform may name only a shipped scenario as its baseline (never a path: an upload must
    not read files on the server). Raises LeverError with readable messages.
    """
    import tempfile
    import tomllib
    from pathlib import Path

    from sfbsim.experiments.scenario_files import MAX_SCENARIO_BYTES, shipped_scenarios

    shown = Path(str(filename or "upload")).name or "upload"
    if len(data) > MAX_SCENARIO_BYTES:
        raise LeverError([f"{shown}: is larger than {MAX_SCENARIO_BYTES:,} bytes"])
    if not data.strip():
        raise LeverError([f"{shown}: the file is empty; upload a scenario .toml file"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        message = f"{shown}: not a UTF-8 text file; upload a scenario .toml file"
        raise LeverError([message]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LeverError([f"{shown}: not valid TOML: {error}"]) from None
    except RecursionError:
        raise LeverError([f"{shown}: nests tables or arrays too deeply to be read"]) from None
    base = raw.get("baseline")
    if base is not None and (not isinstance(base, str) or base not in shipped_scenarios()):
        raise LeverError(
            [
                f"{shown}: baseline: {base!r} is not a shipped scenario; an uploaded file can "
                f"build only on one of: {', '.join(shipped_scenarios())}"
            ]
        )
    with tempfile.TemporaryDirectory(prefix="sfbsim-upload-") as folder:
        path = Path(folder) / "uploaded.toml"
        path.write_bytes(data)
        try:
            scenario = load_scenario(path, bundled_data())
        except ScenarioError as error:
            raise LeverError([f"{shown}: {m}" for m in error.messages]) from None
    return scenario
