"""Fields that carry their source: used by the parameters (model/parameters.py) and the ledger's
costs (model/costs.py), so that docs and tests can list every value with where it comes from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

MENON = "Menon 2025"
ASSUME = "ASSUMPTION"


def sourced(default: Any, source: str, description: str, **constraints: Any) -> Any:
    """A pydantic field with its default, its source and a description."""
    return Field(
        default, description=description, json_schema_extra={"source": source}, **constraints
    )


def sources_of(model: type[BaseModel]) -> dict[str, str]:
    """Map every field of ``model`` to its documented source."""
    return {
        name: (field.json_schema_extra or {}).get("source", "")  # type: ignore[union-attr]
        for name, field in model.model_fields.items()
    }
