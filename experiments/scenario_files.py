"""Scenario files: TOML data (never executed), validated with clear messages."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from model.data_loading import BundledData
from model.parameters import Scenario

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
    """A path to a scenario file, or the shipped scenario of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = SCENARIO_DIR / f"{name_or_path}.toml"
    if shipped.is_file():
        return shipped
    raise ScenarioError(
        str(name_or_path),
        [
            "no such file and no shipped scenario of that name; give a path to a .toml file "
            f"or one of: {', '.join(shipped_scenarios())}"
        ],
    )


def load_scenario(name_or_path: str | Path, data: BundledData | None = None) -> Scenario:
    """Read, parse and validate a scenario file (and check it against the data if given)."""
    path = resolve_scenario(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(str(path), [f"not valid TOML: {error}"]) from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), ["not a UTF-8 text file"]) from None
    scenario = parse_scenario(raw, str(path))
    if data is not None:
        check_against_data(scenario, data, str(path))
    return scenario


def parse_scenario(raw: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a scenario given as a dict (e.g. parsed TOML)."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(source, describe_errors(error)) from None


def check_against_data(scenario: Scenario, data: BundledData, source: str) -> None:
    """Names in the scenario must exist in the data."""
    known = set(data.centres["centre_id"])
    unknown = sorted(set(scenario.levers.centres) - known)
    if unknown:
        raise ScenarioError(
            source,
            [
                f"levers.centres.{name}: no centre with that centre_id; "
                f"allowed: {', '.join(sorted(known))}"
                for name in unknown
            ],
        )


def describe_errors(error: ValidationError) -> list[str]:
    """One line per problem: the key, what is wrong, and what is allowed."""
    messages = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        key = ".".join(loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            allowed = allowed_keys(item["loc"][:-1])
            messages.append(f"{key}: unknown key; allowed keys here: {', '.join(allowed)}")
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
        field = model.model_fields.get(str(part))
        if field is None:
            return ""
        skip_key = typing.get_origin(field.annotation) is dict
        model = _section_model(field.annotation)
    if field is not None and field.description:
        return f"; {field.description}"
    return ""
