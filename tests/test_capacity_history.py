"""Capacity history without invention (issue 14): no region gains or loses capacity in a year
without a dated source, and the published regional series is what the centre table implies.

The centre table is read through the loader (model/data/centres.csv); the regional series is
model/data/region_capacity.csv, derived from it by tools/derive_data.py (model/data/README.md,
"Capacity history by region").
"""

from __future__ import annotations

import pandas as pd
import pytest

from sfbsim.model.data_loading import DEFAULT_DATA_DIR, REGIONS

YEARS = range(2012, 2027)  # the history's warm-up year .. the last year with rates
MAX_UNSOURCED_CHANGE = 0.20  # a larger change from one year to the next needs a cited source
CAPACITY = ("residential_units", "home_based_capacity")


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(
        DEFAULT_DATA_DIR / "region_capacity.csv", dtype={"change_source": str, "note": str}
    ).fillna({"change_source": "", "note": ""})


def implied(centres: pd.DataFrame) -> pd.DataFrame:
    """Region x year sums of the centres open on 1 January (opened_year <= Y < closed_year), with
    the `capacity_change_source` of the rows that open or close in the year."""
    closed = centres["closed_year"].astype("Float64")
    rows = []
    for region in REGIONS:
        for year in YEARS:
            mine = (centres["region"] == region).to_numpy()
            active = mine & (centres["opened_year"] <= year).to_numpy()
            active &= (closed.isna() | (closed > year)).fillna(False).to_numpy(dtype=bool)
            moved = mine & ((centres["opened_year"] == year) | (closed == year).fillna(False))
            rows.append(
                dict(
                    region=region,
                    year=year,
                    centres=int(active.sum()),
                    residential_units=int(centres.loc[active, "residential_units"].sum()),
                    home_based_capacity=int(centres.loc[active, "home_based_capacity"].sum()),
                    row_sources=[s for s in centres.loc[moved, "capacity_change_source"] if s],
                )
            )
    return pd.DataFrame(rows)


def cites_a_source(text: str) -> bool:
    """A dated source, not an assumption or a flagged relocation."""
    text = text.strip().lower()
    return bool(text) and not text.startswith(("assumption", "relocation"))


def unsourced_jumps(table: pd.DataFrame) -> list[str]:
    """Region-years whose units or home-based slots change by more than MAX_UNSOURCED_CHANGE
    from the previous year without a cited source in ``change_source``."""
    out = []
    for region, g in table.sort_values("year").groupby("region"):
        prev = None
        for r in g.itertuples():
            if prev is not None:
                for col in CAPACITY:
                    before, now = getattr(prev, col), getattr(r, col)
                    big = abs(now - before) > MAX_UNSOURCED_CHANGE * before if before else now > 0
                    if big and not cites_a_source(r.change_source):
                        out.append(f"{region} {r.year} {col}: {before} -> {now}")
            prev = r
    return out


def test_region_capacity_equals_what_the_centre_table_implies(data, published):
    want = implied(data.centres)
    cols = ["region", "year", "centres", *CAPACITY]
    assert list(published.columns) == [*cols, "change_source", "note"]
    got = published[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want[cols], check_dtype=False)


def test_change_source_names_every_change_and_only_changes(data, published):
    want = implied(data.centres).set_index(["region", "year"])
    for r in published.itertuples():
        first = r.year == YEARS[0]
        if first:
            assert r.change_source == "", r
            continue
        before = published[(published.region == r.region) & (published.year == r.year - 1)]
        changed = any(int(before[c].item()) != getattr(r, c) for c in CAPACITY)
        if not changed:
            assert r.change_source == "", (r.region, r.year, r.change_source)
            continue
        cited = set(r.change_source.split(" | "))
        rows = {s for s in want.loc[(r.region, r.year), "row_sources"] if cites_a_source(s)}
        assert cited == rows, (r.region, r.year)


def test_no_region_changes_by_more_than_20_percent_without_a_source(data, published):
    assert unsourced_jumps(published) == []
    # the same on the table implied by the loaded centres, with their own sources
    table = implied(data.centres)
    table["change_source"] = [" | ".join(s) for s in table["row_sources"]]
    assert unsourced_jumps(table) == []


def test_every_site_is_continuous_unless_a_dated_source_says_otherwise(data):
    cen = data.centres
    closed = cen["closed_year"].astype("Float64")
    inside = (cen["opened_year"] > YEARS[0]) | closed.between(YEARS[0] + 1, YEARS[-1]).fillna(False)
    changing = cen[inside.to_numpy(dtype=bool)]
    assert set(changing["centre_id"]) == {"aglo", "vilde", "forde", "bergen_forde_places"}
    for r in changing.itertuples():
        assert r.capacity_change_source, r.centre_id
    # a flagged relocation leaves its region's capacity unchanged in its year
    moves = changing[changing["capacity_change_source"].str.startswith("relocation")]
    assert len(moves) == 2
    for year in YEARS[1:]:
        opens = moves[moves["opened_year"] == year]
        closes = moves[(moves["closed_year"].astype("Float64") == year).fillna(False)]
        for region in set(opens["region"]) | set(closes["region"]):
            for col in CAPACITY:
                gained = opens.loc[opens["region"] == region, col].sum()
                lost = closes.loc[closes["region"] == region, col].sum()
                assert gained == lost, (region, year, col)


def test_the_check_catches_an_opening_chosen_to_reconcile_a_count(data):
    """The earlier table opened Agder, Telemark and Buskerud in 2018 to match Bufdir's 2017 count:
    region sør's units rose from 7 to 18 with no source. The check must flag it."""
    cen = data.centres.copy()
    cen.loc[cen["centre_id"].isin(["agder", "telemark", "buskerud"]), "opened_year"] = 2018
    table = implied(cen)
    table["change_source"] = [" | ".join(s) for s in table["row_sources"]]
    jumps = unsourced_jumps(table)
    assert "sør 2018 residential_units: 7 -> 18" in jumps
    assert "sør 2018 home_based_capacity: 3 -> 11" in jumps


def test_the_2023_closures_are_the_only_regional_changes(published):
    changes = published[published["change_source"] != ""]
    assert sorted(zip(changes.region, changes.year, strict=True)) == [("midt", 2023), ("sør", 2023)]
    assert changes["change_source"].str.contains("Menon 2025").all()
    vest = published[published.region == "vest"]
    assert vest["residential_units"].nunique() == 1  # Førde's places move within the region
    assert vest.loc[vest.year == 2017, "note"].str.contains("relocation").item()
