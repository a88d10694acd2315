"""What exists, read from the definitions themselves: the shipped scenarios (their files), the
levers (the pydantic models of model/parameters.py: type, bounds, default, unit, description)
and the outcomes (experiments/outcomes.py).

``sfbsim scenarios``, ``sfbsim levers`` and ``sfbsim outcomes`` print these lists (``--json``
for scripts); tools/render_parameters.py writes docs/ODD.md §9 from :func:`lever_catalogue`;
the report (experiments/report.py) describes a reform's settings with :func:`describe_value`.
Nothing here is a copy: a new lever, scenario or outcome shows up by itself.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

LEVER_TABLES: dict[str, str] = {
    "levers": "[levers]",
    "centre": "[levers.centres.CENTRE_ID]",
    "new_centre": "[[new_centres]]",
}
"""Where each section of levers goes in a scenario file."""


# --- scenarios --------------------------------------------------------------------------------
def first_comment(text: str) -> str:
    """The first comment line of a TOML file (its ``#`` and spaces removed), or ``""``."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if comment:
                return comment
        elif stripped:
            break
    return ""


def period(start_year: int, years: int) -> str:
    """``2025–2034`` for a run of ten years from 2025."""
    last = start_year + years - 1
    return str(start_year) if years == 1 else f"{start_year}–{last}"


def scenario_catalogue() -> list[dict[str, Any]]:
    """Every shipped scenario: name, description, first comment line, baseline, period, file.

    A shipped file that does not load is listed with its ``problem`` (never hidden)."""
    from sfbsim.experiments.scenario_files import (
        SCENARIO_DIR,
        ScenarioError,
        load_scenario,
        shipped_scenarios,
    )

    out = []
    for name in shipped_scenarios():
        path = SCENARIO_DIR / f"{name}.toml"
        entry: dict[str, Any] = {
            "name": name,
            "description": "",
            "comment": first_comment(path.read_text(encoding="utf-8")),
            "baseline": None,
            "start_year": None,
            "years": None,
            "period": "",
            "file": str(path),
        }
        try:
            scenario = load_scenario(path)
        except (ScenarioError, ValueError) as error:
            entry["problem"] = str(error)
        else:
            entry.update(
                description=scenario.description,
                baseline=scenario.baseline,
                start_year=scenario.run.start_year,
                years=scenario.run.years,
                period=period(scenario.run.start_year, scenario.run.years),
            )
        out.append(entry)
    return out


# --- levers -----------------------------------------------------------------------------------
def _constraints(field: FieldInfo) -> tuple[Any, list[Any]]:
    """The field's inner type (``None`` and ``Annotated`` taken off) and its metadata."""
    annotation = field.annotation
    inner = annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = next(a for a in typing.get_args(annotation) if a is not type(None))
    metadata = list(field.metadata)
    if typing.get_origin(inner) is typing.Annotated:
        metadata += list(inner.__metadata__)
        inner = typing.get_args(inner)[0]
    metadata += [m for info in metadata for m in getattr(info, "metadata", [])]
    return inner, metadata


def allowed(field: FieldInfo) -> dict[str, Any]:
    """What a field allows, from its type and bounds: ``kind`` (number, whole number, on/off,
    choice, weekdays, date, text, table), ``min``/``max`` and ``choices`` where they apply, and
    ``text``, the same in words."""
    inner, metadata = _constraints(field)
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    pattern = next((m.pattern for m in metadata if getattr(m, "pattern", None)), None)
    out: dict[str, Any] = {"kind": "", "min": None, "max": None, "choices": None}
    if typing.get_origin(inner) is typing.Literal:
        choices = [str(v) for v in typing.get_args(inner)]
        out.update(kind="choice", choices=choices, text="one of " + ", ".join(choices))
    elif typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        choices = [str(v) for v in typing.get_args(item)]
        out.update(kind="weekdays", choices=choices, text="list of " + ", ".join(choices))
    elif inner is bool:
        out.update(kind="on/off", text="true, false")
    elif typing.get_origin(inner) is dict:
        out.update(kind="table", text="a table per centre_id")
    elif inner is dt.date:
        out.update(kind="date", text="a date, e.g. 2026-08-01")
    elif inner is str:
        out.update(kind="text", text=f"text matching {pattern}" if pattern else "text")
    else:
        kind = "whole number" if inner is int else "number"
        lowest = _number(low) if low is not None else "−∞"
        span = f"{lowest}–{_number(high) if high is not None else '∞'}"
        out.update(kind=kind, min=low, max=high, text=span)
    return out


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default(field: FieldInfo) -> Any:
    if field.is_required():
        return None
    return field.default if field.default_factory is None else field.default_factory()


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def lever_catalogue() -> list[dict[str, Any]]:
    """Every lever a scenario file can set, section by section (``[levers]``, per centre
    ``[levers.centres.ID]``, ``[[new_centres]]``): name, unit, what it allows, its default (in
    JSON terms, and ``default_text`` in words), whether a dated ``[[changes]]`` entry may set
    it, and its meaning (the field's description)."""
    from sfbsim.model.parameters import (
        CENTRE_LEVERS,
        DATED_LEVERS,
        CentreOverride,
        Levers,
        NewCentre,
    )

    sections: list[tuple[str, type[BaseModel], tuple[str, ...]]] = [
        ("levers", Levers, DATED_LEVERS),
        ("centre", CentreOverride, CENTRE_LEVERS),
        ("new_centre", NewCentre, ()),
    ]
    out = []
    for section, model, dated in sections:
        for name, field in model.model_fields.items():
            if section == "levers" and name == "centres":
                continue  # the per-centre section below
            extra = _extra(field)
            default = _default(field)
            values = allowed(field)
            out.append(
                {
                    "section": section,
                    "table": LEVER_TABLES[section],
                    "name": name,
                    "unit": extra.get("unit", ""),
                    "allowed": values["text"],
                    "kind": values["kind"],
                    "min": values["min"],
                    "max": values["max"],
                    "choices": values["choices"],
                    "required": field.is_required(),
                    "default": _jsonable(default),
                    "default_text": (
                        "required"
                        if field.is_required()
                        else describe_value(default, extra.get("unit", ""), extra.get("none"))
                    ),
                    "dated": name in dated,
                    "meaning": field.description or "",
                }
            )
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def lever_field(name: str, section: str = "levers") -> FieldInfo | None:
    """The pydantic field of a lever (``section``: levers, centre or new_centre)."""
    from sfbsim.model.parameters import CentreOverride, Levers, NewCentre

    model = {"levers": Levers, "centre": CentreOverride, "new_centre": NewCentre}[section]
    return model.model_fields.get(name)


UNITS_AFTER_VALUE = {"weeks", "units", "families"}
"""Units written after a number (``4 weeks``); the others follow in brackets or not at all."""


def describe_value(value: Any, unit: str = "", none: str | None = None) -> str:
    """A lever's value in words: ``on``/``off``, ``× 1.5``, ``4 weeks``, ``open every
    weekend``, ``Tue, Thu``; ``none`` (or ``not set``) for None or empty text."""
    if value is None or value == "":
        return none or "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        text = _number(value) if not isinstance(value, float) else f"{value:g}"
        if unit.startswith("×"):
            return f"× {text}"
        if unit in UNITS_AFTER_VALUE:
            return f"{text} {unit[:-1] if value == 1 else unit}"
        return text
    if isinstance(value, list):
        return ", ".join(str(v).capitalize() if unit == "weekdays" else str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if unit in ("policy", "operator"):
        return str(value).replace("_", " ")
    return str(value)


# --- outcomes ---------------------------------------------------------------------------------
def outcome_catalogue() -> list[dict[str, Any]]:
    """Every outcome a comparison reports: name, unit (NOK with the price year), meaning
    (experiments/outcomes.py)."""
    from sfbsim.experiments.outcomes import OUTCOMES, outcome_unit, price_year

    year = price_year()
    return [
        {"name": name, "unit": outcome_unit(name, year), "meaning": meaning}
        for name, meaning in OUTCOMES.items()
    ]
