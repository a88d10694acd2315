"""Every parameter and cost names a source an outside reader can look up.

A source is ``ASSUMPTION: <reason>`` (a value we chose), ``CALIBRATED: ...`` (fitted by
``sfbsim calibrate``, docs/calibration.md), or a citation naming a key of docs/references.md in
square brackets, e.g. ``Menon Economics (2025), Evaluering av sentre for foreldre og barn
[menon2025]``. Internal documents (the domain brief, issue numbers) are never cited.

The files are read relative to this test, so it checks the checkout it lives in.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sfbsim.model.parameter_files import ASSUMPTION, CALIBRATED, SECTIONS, read_entries

REPO = Path(__file__).resolve().parents[1]
REFERENCES = REPO / "docs" / "references.md"
ENTRIES = read_entries(REPO / "model" / "data" / "parameters")

KEY = re.compile(r"\[([a-z][a-z0-9_]*)\]")
DEFINITION = re.compile(r"^\*\*\[([a-z][a-z0-9_]*)\]\*\*", re.MULTILINE)
INTERNAL = re.compile(r"brief|issue \d|§\s*\d+ of the brief", re.IGNORECASE)
# a source that names one of these cites it, so it must give the key to look it up
NAMED = re.compile(r"Menon|Deloitte|SSB|Statistics Norway|R-109|barnevern|Bufdir|Prop\. ")


def defined_keys() -> list[str]:
    return DEFINITION.findall(REFERENCES.read_text(encoding="utf-8"))


def sources(section: str | None = None) -> list[tuple[str, str]]:
    """(where, source) for every entry's source and every prior's source (of one section)."""
    out = []
    for name, entry in ENTRIES.items():
        if section is not None and entry.section != section:
            continue
        out.append((f"{entry.file} [{name}]", entry.source))
        if entry.prior is not None:
            out.append((f"{entry.file} [{name}.prior]", entry.prior.source))
    return out


def problems(source: str, keys: set[str]) -> list[str]:
    """What is wrong with one source string (empty if nothing)."""
    found = []
    if INTERNAL.search(source):
        found.append("cites an internal document (brief / issue)")
    cited = KEY.findall(source)
    found += [f"key [{key}] is not in docs/references.md" for key in cited if key not in keys]
    if source.startswith(CALIBRATED):
        return found
    if source.startswith(ASSUMPTION):
        if not source[len(ASSUMPTION) :].lstrip(": ").strip():
            found.append("ASSUMPTION without a reason (write 'ASSUMPTION: <reason>')")
    elif not cited:
        found.append("neither ASSUMPTION, CALIBRATED nor a citation with a [key]")
    if NAMED.search(source) and not cited:
        found.append("names a public source without its [key]")
    return found


def test_references_define_unique_keys():
    keys = defined_keys()
    assert keys, "docs/references.md defines no **[key]** entries"
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_every_section_is_checked():
    assert {entry.section for entry in ENTRIES.values()} == set(SECTIONS)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_source_is_a_citation_an_assumption_or_calibrated(section):
    keys = set(defined_keys())
    bad = {where: found for where, source in sources(section) if (found := problems(source, keys))}
    assert bad == {}


def test_descriptions_and_units_cite_no_internal_documents():
    bad = [
        name
        for name, entry in ENTRIES.items()
        if INTERNAL.search(entry.description) or INTERNAL.search(entry.unit)
    ]
    assert bad == []


def test_every_key_used_is_defined():
    keys = set(defined_keys())
    used = {key for _, source in sources() for key in KEY.findall(source)}
    assert used - keys == set()


@pytest.mark.parametrize(
    "source, ok",
    [
        ("Menon 2025", False),
        ("Child Welfare Act: investigation deadline of 3 months (brief §1)", False),
        ("ASSUMPTION: to be calibrated (issue 5)", False),
        ("ASSUMPTION", False),
        ("ASSUMPTION: Menon 2025 names older siblings as a barrier", False),
        ("SSB table 09050 [nosuchkey]", False),
        ("ASSUMPTION: Menon Economics (2025) [menon2025] names older siblings as a barrier", True),
        ("Barnevernsloven (2021) § 2-2 [bvl2021]", True),
        ("CALIBRATED: fitted in the history replay (docs/calibration.md)", True),
    ],
)
def test_the_check_refuses_what_it_should(source, ok):
    assert (problems(source, set(defined_keys())) == []) is ok
