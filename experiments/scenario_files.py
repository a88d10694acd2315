"""Scenario files: TOML data (never executed), validated with clear messages."""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sfbsim.model.data_loading import BundledData
from sfbsim.model.parameters import CentreOverride, Levers, Scenario
from sfbsim.model.reforms import check_overlaps

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``messages`` says what and how to fix it."""

    def __init__(self, source: str, messages: list[str]) -> None:
        self.source = source
        self.messages = messages
        super().__init__("\n".join(f"{source}: {m}" for m in messages))


def shipped_scenarios() -> list[str]:
    """Names of the scenario files that ship with sfbsim."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def resolve_scenario(name_or_path: str | Path) -> Path:
    """A path to a scenario file, or the shipped scenario of that name.

    A name that looks like a path (it holds ``/`` or ``..`` or ends in ``.toml``) is only ever
    a file, never looked up among the shipped scenarios.
    """
    text = str(name_or_path)
    path = Path(name_or_path)
    if path.is_file():
        return path
    looks_like_path = "/" in text or "\\" in text or ".." in text or text.endswith(".toml")
    if not looks_like_path and text in shipped_scenarios():
        return SCENARIO_DIR / f"{text}.toml"
    if looks_like_path:
        reason = "no such file" if not path.exists() else "not a file"
        raise ScenarioError(text, [f"{reason}; give the path to a scenario .toml file"])
    raise ScenarioError(
        text,
        [
            "no such file and no shipped scenario of that name; give a path to a .toml file "
            f"or one of: {', '.join(shipped_scenarios())}"
        ],
    )


def load_scenario(name_or_path: str | Path, data: BundledData | None = None) -> Scenario:
    """Read, merge onto its baseline, validate, and (given data) check a scenario file."""
    path = resolve_scenario(name_or_path)
    raw = merged_raw(path)
    own = None
    if "baseline" in raw:
        mine = read_toml(path)
        own = {key: len(mine.get(key) or []) for key in APPENDED_LISTS}
    scenario = parse_scenario(raw, str(path), own)
    if data is not None:
        check_against_data(scenario, data, str(path))
    return scenario


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file (data only: nothing in it is executed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), ["not a UTF-8 text file"]) from None
    except OSError as error:
        raise ScenarioError(str(path), [f"cannot be read: {error.strerror or error}"]) from None
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(str(path), [f"is larger than {MAX_SCENARIO_BYTES:,} bytes"])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(str(path), [f"not valid TOML: {error}"]) from None
    except RecursionError:
        raise ScenarioError(str(path), ["nests tables or arrays too deeply to be read"]) from None
    depth = _depth(raw)
    if depth > MAX_DEPTH:
        raise ScenarioError(
            str(path), [f"nests tables or arrays {depth} levels deep; at most {MAX_DEPTH} are used"]
        )
    return raw


MAX_SCENARIO_BYTES = 1_000_000
MAX_DEPTH = 8
"""A scenario nests at most levers.centres.<id>.<key> (4) or a change's list value (3)."""


def _depth(value: Any, level: int = 0) -> int:
    """How deeply tables and arrays nest (iteratively: a hostile file cannot exhaust the stack)."""
    deepest, stack = level, [(value, level)]
    while stack:
        item, at = stack.pop()
        deepest = max(deepest, at)
        if deepest > MAX_DEPTH:
            return deepest
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, at + 1) for child in children)
    return deepest


def merged_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's tables merged onto its ``baseline`` (recursively), before validation.

    Tables merge key by key; ``new_centres`` and ``closed_centres`` are appended to the
    baseline's. A reform's dated ``[[changes]]`` of a lever (for one centre, with ``centre``)
    replace the baseline's changes of that lever within the reform change's window (from its
    ``start``, until its ``end`` if it has one), and ``[[remove_changes]]`` (``lever``,
    optional ``centre``, ``start`` and ``end``) removes the baseline's changes of a lever within
    a window, so that the lever keeps the scenario's ``[levers]`` value there. ``name`` and
    ``description`` are the reform's own.
    """
    raw = read_toml(path)
    base_name = raw.get("baseline")
    removals = raw.pop("remove_changes", None)
    if base_name is None:
        if removals is not None:
            raise ScenarioError(
                str(path), ["remove_changes: only a reform (a file with a baseline) can remove"]
            )
        return raw
    if not isinstance(base_name, str):
        raise ScenarioError(str(path), ["baseline: must be a scenario name or a path (text)"])
    if path.resolve() in seen:
        raise ScenarioError(str(path), ["baseline: scenarios name each other in a circle"])
    base_path = Path(base_name)
    if not base_path.is_absolute() and not base_path.is_file():
        relative = path.parent / base_name
        base_path = relative if relative.is_file() else base_path
    base = merged_raw(resolve_scenario(base_path), (*seen, path.resolve()))
    base.pop("name", None)
    base.pop("description", None)
    windows = _windows(removals, "remove_changes", str(path))
    windows += _windows(raw.get("changes"), "changes", str(path))
    if windows and isinstance(base.get("changes"), list):
        base["changes"] = without_windows(base["changes"], windows)
    return deep_merge(base, raw)


def _windows(items: Any, key: str, source: str) -> list[tuple[str, Any, Any, Any]]:
    """(lever, centre, start, end) of each entry of a reform's changes or removals."""
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ScenarioError(source, [f"{key}: must be a list of tables ([[{key}]])"])
    out = []
    for i, item in enumerate(items):
        if key == "remove_changes":
            unknown = set(item) - {"lever", "centre", "start", "end"}
            if unknown or not isinstance(item.get("lever"), str):
                raise ScenarioError(
                    source,
                    [
                        f"{key}[{i}]: give lever (and centre, start, end); unknown keys: "
                        f"{', '.join(sorted(unknown)) or 'none'}"
                    ],
                )
        for bound in ("start", "end"):
            if item.get(bound) is not None and not isinstance(item[bound], dt.date):
                raise ScenarioError(source, [f"{key}[{i}].{bound}: must be a date (YYYY-MM-DD)"])
        out.append((item.get("lever"), item.get("centre"), item.get("start"), item.get("end")))
    return out


def without_windows(
    changes: list[dict[str, Any]], windows: list[tuple[str, Any, Any, Any]]
) -> list[dict[str, Any]]:
    """Baseline changes with the windows taken out: a change of the same lever (and centre)
    keeps only its parts before and after each window."""
    out = list(changes)
    for lever, centre, start, end in windows:
        kept = []
        for change in out:
            if change.get("lever") != lever or change.get("centre") != centre:
                kept.append(change)
                continue
            c_start, c_end = change.get("start"), change.get("end")
            if start is not None and (c_start is None or c_start < start):
                before_end = start if c_end is None or c_end > start else c_end
                kept.append({**change, "end": before_end})
            if end is not None and (c_end is None or c_end > end):
                after_start = end if c_start is None or c_start < end else c_start
                kept.append({**change, "start": after_start})
        out = kept
    return out


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Merge ``update`` onto ``base``: tables key by key, lists of changes appended."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        elif key in APPENDED_LISTS and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


APPENDED_LISTS = ("changes", "new_centres", "closed_centres")


def parse_scenario(
    raw: dict[str, Any], source: str = "scenario", own: dict[str, int] | None = None
) -> Scenario:
    """Validate a scenario given as a dict (e.g. parsed TOML), dated changes included; dated
    entries must fall within the run (of a reform: its ``own`` entries, see
    ``Scenario.date_problems``)."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(source, describe_errors(error)) from None
    messages = check_changes(scenario) or scenario.date_problems(own)
    if messages:
        raise ScenarioError(source, messages)
    return scenario


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What a valid scenario does that a reader may not expect (printed as notes): dated
    entries outside a run shortened on the command line, centres opening before the run, a
    new centre's nationwide_intake (recorded, not used)."""
    notes = [
        f"{problem.split(':')[0]} falls outside this run (shortened by --years or a baseline's "
        "run) and does nothing here"
        for problem in scenario.date_problems()
    ]
    first = scenario.run.first_day
    for centre in scenario.new_centres:
        if centre.nationwide_intake:
            notes.append(
                f"new centre {centre.centre_id}: nationwide_intake is recorded but changes "
                "nothing: every intake already uses other regions' centres within "
                "cross_region_max_hours (docs/ODD.md §7.4)"
            )
        if centre.opens is not None and centre.opens < first:
            notes.append(
                f"new centre {centre.centre_id} opens on {centre.opens}, before the run starts: "
                "it is open from the first day"
            )
    return notes


def check_changes(scenario: Scenario) -> list[str]:
    """Dated windows must not conflict, and every changed value must be allowed."""
    try:
        check_overlaps(scenario.changes)
    except ValueError as error:
        return [f"changes: {error}"]
    messages = []
    for i, change in enumerate(scenario.changes):
        target = CentreOverride if change.centre is not None else Levers
        base = {} if change.centre is not None else scenario.levers.model_dump()
        try:
            target.model_validate({**base, change.lever: change.value})
        except ValidationError as error:
            for item in error.errors():
                messages.append(
                    f"changes[{i}] ({change.lever}): {item['msg']} (got {change.value!r})"
                )
    return messages


def check_against_data(scenario: Scenario, data: BundledData, source: str) -> None:
    """Names in the scenario must exist in the data."""
    known = set(data.centres["centre_id"])
    municipalities = set(data.municipalities["kommunenummer"])
    messages = []
    for centre in scenario.new_centres:
        if centre.centre_id in known:
            messages.append(f"new_centres: centre_id {centre.centre_id!r} already exists")
        if centre.kommunenummer not in municipalities:
            messages.append(
                f"new_centres.{centre.centre_id}.kommunenummer: no municipality "
                f"{centre.kommunenummer} in the data (use a 2024 kommunenummer, e.g. 5601)"
            )
        known = known | {centre.centre_id}
    allowed = ", ".join(sorted(known))
    named = [(f"levers.centres.{name}", name) for name in scenario.levers.centres]
    named += [(f"changes[{i}].centre", c.centre) for i, c in enumerate(scenario.changes)]
    named += [(f"closed_centres[{i}]", c.centre_id) for i, c in enumerate(scenario.closed_centres)]
    for key, name in named:
        if name is not None and name not in known:
            messages.append(f"{key}: no centre with centre_id {name!r}; allowed: {allowed}")
    if messages:
        raise ScenarioError(source, messages)


def describe_errors(error: ValidationError) -> list[str]:
    """One line per problem: the key, what is wrong, and what is allowed."""
    messages = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        key = ".".join(loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            allowed = allowed_keys(item["loc"][:-1])
            near = difflib.get_close_matches(loc[-1], allowed, n=1)
            guess = f" (did you mean {near[0]}?)" if near else ""
            messages.append(f"{key}: unknown key{guess}; allowed keys here: {', '.join(allowed)}")
        else:
            given = item.get("input")
            shown = "" if isinstance(given, dict) else f" (got {given!r})"
            messages.append(f"{key}: {item['msg']}{shown}{_hint(item['loc'])}")
    return messages


def allowed_keys(loc: tuple) -> list[str]:
    """The keys a scenario section accepts."""
    model: type[BaseModel] | None = Scenario
    skip_key = False
    for part in loc:
        if model is None:
            break
        if skip_key:  # a key of a per-name table such as levers.centres.<centre_id>
            skip_key = False
            continue
        if isinstance(part, int):  # an entry of a list such as changes[0]: its model's keys
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        skip_key = typing.get_origin(field.annotation) is dict
        model = _section_model(field.annotation)
    return sorted(model.model_fields) if model is not None else []


def _section_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _section_model(arg)
        if found is not None:
            return found
    return None


def _hint(loc: tuple) -> str:
    """Where a field has a description, repeat it as the allowed meaning."""
    model: type[BaseModel] | None = Scenario
    field = None
    skip_key = False
    for part in loc:
        if skip_key:
            skip_key = False
            continue
        if model is None:
            return ""
        if isinstance(part, int):  # an entry of a list such as changes[0]
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return ""
        skip_key = typing.get_origin(field.annotation) is dict
        model = _section_model(field.annotation)
    if field is not None and field.description:
        return f"; {field.description}"
    return ""
