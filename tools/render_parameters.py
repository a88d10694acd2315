"""Write the parameter and lever tables of docs/ODD.md from the parameter files
(model/data/parameters/*.toml) and the levers (model/parameters.py).

The tables sit between the markers ``<!-- parameters:start -->`` / ``<!-- parameters:end -->``
and ``<!-- levers:start -->`` / ``<!-- levers:end -->``; everything else in ODD.md is prose.

    .venv/bin/python tools/render_parameters.py          # rewrite the tables
    .venv/bin/python tools/render_parameters.py --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sfbsim.model.parameter_files import entries
from sfbsim.model.parameters import Levers

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def parameter_table() -> str:
    """Markdown tables, one per parameter file: name, value, unit, plausible range, meaning,
    source (assumptions and calibrated values marked)."""
    lines: list[str] = []
    group = None
    for name, entry in entries("parameters").items():
        if entry.group != group:
            group = entry.group
            lines += ["" if lines else "", f"`{entry.file}`", ""]
            lines += ["| parameter | value | unit | range | meaning | source |"]
            lines += ["|---|---|---|---|---|---|"]
        source = entry.source
        for mark in ("ASSUMPTION", "CALIBRATED"):
            if source.startswith(mark):
                source = f"**{mark}**" + source[len(mark) :]
        if entry.prior is not None:
            source += f" (prior {entry.prior.value}: {entry.prior.source})"
        span = "" if entry.low is None else f"{entry.low:g}–{entry.high:g}"
        lines.append(
            f"| `{name}` | {entry.value} | {entry.unit} | {span} | {entry.description} | {source} |"
        )
    return "\n".join(lines).strip()


def allowed(field) -> str:
    """The values a lever allows, in words (from its type and bounds)."""
    import types
    import typing

    annotation = field.annotation
    inner = annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = next(a for a in typing.get_args(annotation) if a is not type(None))
    metadata = list(field.metadata)
    if typing.get_origin(inner) is typing.Annotated:
        metadata += list(inner.__metadata__)
        inner = typing.get_args(inner)[0]
    metadata += [m for info in metadata for m in getattr(info, "metadata", [])]
    low = next((m.ge for m in metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in metadata if hasattr(m, "le")), None)
    if typing.get_origin(inner) is typing.Literal:
        return ", ".join(str(v) for v in typing.get_args(inner))
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        return "list of " + ", ".join(str(v) for v in typing.get_args(item))
    if inner is bool:
        return "true, false"
    if typing.get_origin(inner) is dict:
        return "a table per centre_id (CentreOverride)"
    if low is not None or high is not None:
        return f"{low if low is not None else '−∞'}–{high if high is not None else '∞'}"
    return getattr(inner, "__name__", str(inner))


def lever_table() -> str:
    """Markdown table of the levers a scenario can set, with the values each allows."""
    lines = ["| lever | default | allowed | meaning |", "|---|---|---|---|"]
    for name, field in Levers.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()
        lines.append(f"| `{name}` | {default} | {allowed(field)} | {field.description} |")
    return "\n".join(lines)


def render(text: str) -> str:
    """ODD.md with fresh tables between the markers."""
    for marker, table in (("parameters", parameter_table()), ("levers", lever_table())):
        start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{table}\n{end}{tail}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the tables are stale")
    args = parser.parse_args()
    current = ODD.read_text(encoding="utf-8")
    fresh = render(current)
    if args.check:
        sys.exit(0 if fresh == current else 1)
    ODD.write_text(fresh, encoding="utf-8")


if __name__ == "__main__":
    main()
