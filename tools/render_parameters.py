"""Write the parameter and lever tables of docs/ODD.md from the parameter files
(model/data/parameters/*.toml, the ledger's costs.toml included) and the levers
(model/parameters.py, read by experiments/catalogue.py as for ``sfbsim levers``).

The tables sit between the markers ``<!-- parameters:start -->`` / ``<!-- parameters:end -->``
and ``<!-- levers:start -->`` / ``<!-- levers:end -->``; everything else in ODD.md is prose.

    .venv/bin/python tools/render_parameters.py          # rewrite the tables
    .venv/bin/python tools/render_parameters.py --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sfbsim.experiments.catalogue import lever_catalogue
from sfbsim.model.parameter_files import SECTIONS, entries

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def parameter_table() -> str:
    """Markdown tables, one per parameter file (the behavioural parameters, then the ledger's
    costs, which a scenario sets under ``[costs]``): name, value, unit, plausible range,
    meaning, source (assumptions and calibrated values marked)."""
    lines: list[str] = []
    group = None
    every = [item for section in SECTIONS for item in entries(section).items()]
    for name, entry in every:
        if entry.group != group:
            group = entry.group
            head = f"`{entry.file}`"
            if entry.section == "costs":
                head += " (the ledger's costs, docs/ledger.md; a scenario sets them in `[costs]`)"
            lines += ["" if lines else "", head, ""]
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


def lever_table() -> str:
    """Markdown tables of the levers a scenario can set, section by section, with the values
    each allows (experiments.catalogue: the same list as ``sfbsim levers``)."""
    lines: list[str] = []
    section = None
    for lever in lever_catalogue():
        if lever["section"] != section:
            section = lever["section"]
            lines += ["" if lines else "", f"`{lever['table']}`", ""]
            lines += ["| lever | default | allowed | unit | dated | meaning |"]
            lines += ["|---|---|---|---|---|---|"]
        dated = "yes" if lever["dated"] else ""
        lines.append(
            f"| `{lever['name']}` | {lever['default_text']} | {lever['allowed']} | "
            f"{lever['unit']} | {dated} | {lever['meaning']} |"
        )
    return "\n".join(lines).strip()


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
