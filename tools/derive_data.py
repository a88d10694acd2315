"""Derive the bundled tables in model/data/ from the sources in ../shared/data.

Rerun with ``.venv/bin/python tools/derive_data.py [--source DIR] [--out DIR]``. The output is
deterministic (sorted rows, fixed rounding). Every choice made here is documented in
model/data/README.md; change both together.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sfbsim.model.travel import haversine_km, travel_matrix  # noqa: E402

DEFAULT_SOURCE = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "model" / "data"
DEFAULT_PLOT = REPO / "docs" / "region_capacity.png"

FIRST_RATE_YEAR, LAST_RATE_YEAR = 2013, 2026

COUNTY_NAMES = {
    "03": "Oslo",
    "11": "Rogaland",
    "15": "Møre og Romsdal",
    "18": "Nordland",
    "31": "Østfold",
    "32": "Akershus",
    "33": "Buskerud",
    "34": "Innlandet",
    "39": "Vestfold",
    "40": "Telemark",
    "42": "Agder",
    "46": "Vestland",
    "50": "Trøndelag",
    "55": "Troms",
    "56": "Finnmark",
}
REGION_ORDER = ("nord", "midt", "vest", "sør", "øst", "oslo")  # as model.data_loading.REGIONS
# Bufetat regions by 2024 county (domain brief, section 2); Oslo runs its own intake.
COUNTY_REGION = {
    "18": "nord",
    "55": "nord",
    "56": "nord",
    "15": "midt",
    "50": "midt",
    "11": "vest",
    "46": "vest",
    "33": "sør",
    "39": "sør",
    "40": "sør",
    "42": "sør",
    "31": "øst",
    "32": "øst",
    "34": "øst",
    "03": "oslo",
}

# Town-centre coordinates for the municipalities that host a centre (general geographic
# knowledge, about +-1 km). Used as travel point only if the point lies inside the municipality.
TOWN_CENTRES = {
    "0301": ("Oslo", 59.9127, 10.7461),
    "1103": ("Stavanger", 58.9700, 5.7331),
    "1106": ("Haugesund", 59.4138, 5.2680),
    "1506": ("Molde", 62.7375, 7.1591),
    "3107": ("Fredrikstad", 59.2181, 10.9298),
    "3203": ("Asker", 59.8331, 10.4392),
    "3205": ("Lillestrøm", 59.9560, 11.0500),
    "3301": ("Drammen", 59.7439, 10.2045),
    "3407": ("Gjøvik", 60.7957, 10.6916),
    "3901": ("Horten", 59.4172, 10.4836),
    "3905": ("Tønsberg", 59.2675, 10.4076),
    "4003": ("Skien", 59.2096, 9.6090),
    "4203": ("Arendal", 58.4617, 8.7720),
    "4601": ("Bergen", 60.3913, 5.3221),
    "4647": ("Førde", 61.4522, 5.8572),
    "5001": ("Trondheim", 63.4305, 10.3951),
    "5035": ("Stjørdal", 63.4690, 10.9170),
    "5501": ("Tromsø", 69.6492, 18.9553),
}

# Consumer price index, annual average, 2015 = 100 (Statistics Norway table 03014). Only the
# years needed to move the 2021 rates from 2023 NOK to nominal NOK and to extend back to 2013.
CPI = {2013: 95.9, 2014: 97.8, 2021: 116.1, 2023: 129.6}
RATE_GROWTH_AFTER_LAST = 0.03  # assumption: nominal rate growth per year after the last stated


# --------------------------------------------------------------------------------------------
# geometry helpers (no shapely)


def load_polygons(path: Path) -> dict[str, list[list[np.ndarray]]]:
    """kommunenummer -> polygons, each a list of (n, 2) lon/lat rings, exterior first."""
    gj = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[list[np.ndarray]]] = {}
    for feat in gj["features"]:
        kn = str(feat["properties"]["kommunenummer"]).zfill(4)
        geom = feat["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        out[kn] = [[np.asarray(ring, dtype=float)[:, :2] for ring in poly] for poly in polys]
    return out


def _in_ring(lon: float, lat: float, ring: np.ndarray) -> bool:
    x, y = ring[:, 0], ring[:, 1]
    x2, y2 = np.roll(x, -1), np.roll(y, -1)
    cond = (y > lat) != (y2 > lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        xcross = x + (lat - y) * (x2 - x) / (y2 - y)
    return bool(np.count_nonzero(cond & (lon < xcross)) % 2)


def point_in_municipality(lon: float, lat: float, polys: list[list[np.ndarray]]) -> bool:
    """Even-odd point-in-polygon test over all parts, holes excluded."""
    for rings in polys:
        if _in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, h) for h in rings[1:]):
            return True
    return False


def border_pairs(polys: dict[str, list[list[np.ndarray]]], ndigits: int = 5) -> pd.DataFrame:
    """Pairs of municipalities sharing >= 2 boundary vertices (rounded to ``ndigits``)."""
    owners: dict[tuple[float, float], set[str]] = {}
    for kn, parts in polys.items():
        seen = set()
        for rings in parts:
            for ring in rings:
                for x, y in np.round(ring, ndigits):
                    seen.add((float(x), float(y)))
        for v in seen:
            owners.setdefault(v, set()).add(kn)
    counts: dict[tuple[str, str], int] = {}
    for kns in owners.values():
        if len(kns) > 1:
            s = sorted(kns)
            for i in range(len(s)):
                for j in range(i + 1, len(s)):
                    counts[(s[i], s[j])] = counts.get((s[i], s[j]), 0) + 1
    rows = [(a, b) for (a, b), n in counts.items() if n >= 2]
    return pd.DataFrame(rows, columns=["kommunenummer_a", "kommunenummer_b"])


# --------------------------------------------------------------------------------------------
# tables


def derive_municipalities(src: Path, polys: dict) -> pd.DataFrame:
    """357 municipalities with region, size class, travel point and island flag."""
    pop = pd.read_csv(src / "kommuner_2024_befolkning_sentroide.csv", dtype={"kommunenummer": str})
    cen = pd.read_csv(src / "kommune_sentroider_b2024.csv", dtype={"kommunenummer": str})
    df = pop.merge(
        cen[["kommunenummer", "kommunenavn_kartverket", "centroid_inside", "n_polygon_parts"]],
        on="kommunenummer",
        validate="one_to_one",
    )
    df["kommunenummer"] = df["kommunenummer"].str.zfill(4)
    df["county_number"] = df["kommunenummer"].str[:2]
    df["county"] = df["county_number"].map(COUNTY_NAMES)
    df["region"] = df["county_number"].map(COUNTY_REGION)
    df["size_class"] = np.select(
        [df["pop_2024"] < 5000, df["pop_2024"] < 20000], ["small", "medium"], "large"
    )
    lats, lons, methods = [], [], []
    for r in df.itertuples():
        parts = polys[r.kommunenummer]
        town = TOWN_CENTRES.get(r.kommunenummer)
        if town and point_in_municipality(town[2], town[1], parts):
            lats.append(town[1])
            lons.append(town[2])
            methods.append(f"town_centre:{town[0]}")
        else:
            if not point_in_municipality(r.pointonsurface_lon, r.pointonsurface_lat, parts):
                print(f"warning: point on surface outside {r.kommunenummer} (simplified outline)")
            lats.append(r.pointonsurface_lat)
            lons.append(r.pointonsurface_lon)
            methods.append("point_on_surface")
    df["lat"] = np.round(lats, 5)
    df["lon"] = np.round(lons, 5)
    df["point_method"] = methods
    df["point_shift_km"] = np.round(
        haversine_km(df["centroid_lat"], df["centroid_lon"], df["lat"], df["lon"]), 1
    )
    # Proxy for "journeys need a ferry": the area centroid lies outside the municipality. A
    # town-centre travel point is on the road network of its town, so it is never flagged.
    town = df["point_method"].str.startswith("town_centre")
    df["island_or_fjord"] = ((df["centroid_inside"] == 0) & ~town).astype(int)
    df = df.rename(
        columns={
            "kommunenavn_kartverket": "name",
            "pop_2024": "population_2024",
            "pop_0_5_2024": "children_0_5_2024",
            "area_km2_clipped": "area_km2",
            "centroid_lat": "centroid_lat",
        }
    )
    cols = [
        "kommunenummer",
        "name",
        "county_number",
        "county",
        "region",
        "size_class",
        "population_2024",
        "children_0_5_2024",
        "lat",
        "lon",
        "point_method",
        "area_km2",
        "island_or_fjord",
        "centroid_lat",
        "centroid_lon",
        "point_shift_km",
    ]
    return df[cols].sort_values("kommunenummer").reset_index(drop=True)


def derive_population(src: Path) -> pd.DataFrame:
    """Population 2005-2026 by municipality; repairs Ålesund/Haram and fills the 2005 gaps."""
    raw = pd.read_csv(
        src / "kommune_befolkning_alder_b2024_2005_2026.csv", dtype={"kommunenummer": str}
    )
    raw["kommunenummer"] = raw["kommunenummer"].str.zfill(4)
    ages = [f"age_{a}" for a in range(7)]
    df = raw.rename(columns={f"pop_age{a}": f"age_{a}" for a in range(7)})
    df = df.rename(columns={"pop_total": "population", "split_weighted_estimate": "split_estimate"})
    df = df[["kommunenummer", "year", "population", *ages, "split_estimate"]].copy()
    df["repaired"] = 0
    vals = ["population", *ages]

    # Ålesund (1508) / Haram (1580): before 2024 both rows are 50/50 of old Ålesund. Re-split
    # the pair's sum by the real 2024 shares, variable by variable.
    a24 = df[(df.kommunenummer == "1508") & (df.year == 2024)][vals].iloc[0].astype(float)
    h24 = df[(df.kommunenummer == "1580") & (df.year == 2024)][vals].iloc[0].astype(float)
    share_a = a24 / (a24 + h24)
    for year in sorted(df.loc[(df.kommunenummer == "1508") & (df.year < 2024), "year"]):
        ia = df.index[(df.kommunenummer == "1508") & (df.year == year)][0]
        ih = df.index[(df.kommunenummer == "1580") & (df.year == year)][0]
        total = df.loc[ia, vals].astype(float) + df.loc[ih, vals].astype(float)
        new_a = (total * share_a).round().astype(int)
        df.loc[ia, vals] = new_a.to_numpy()
        df.loc[ih, vals] = (total.astype(int) - new_a).to_numpy()
        df.loc[[ia, ih], "repaired"] = 1

    # Vindafjord and Aure have no 2005 row (formed 2006): carry 2006 back, flagged repaired.
    present = set(zip(df.kommunenummer, df.year, strict=True))
    fills = []
    for kn in sorted(df.kommunenummer.unique()):
        for year in range(2005, 2027):
            if (kn, year) not in present:
                nxt = df[(df.kommunenummer == kn) & (df.year > year)].sort_values("year").iloc[0]
                row = nxt.copy()
                row["year"] = year
                row["repaired"] = 1
                fills.append(row)
    if fills:
        df = pd.concat([df, pd.DataFrame(fills)], ignore_index=True)
    df["children_0_5"] = df[[f"age_{a}" for a in range(6)]].sum(axis=1)
    cols = ["kommunenummer", "year", "population", "children_0_5", *ages, "repaired"]
    cols.append("split_estimate")
    df = df[cols].astype({c: int for c in cols if c != "kommunenummer"})
    return df.sort_values(["kommunenummer", "year"]).reset_index(drop=True)


def _components(nodes: list[str], pairs: pd.DataFrame) -> list[set[str]]:
    """Connected components of the neighbour graph (plain union-find)."""
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs["kommunenummer_a"], pairs["kommunenummer_b"], strict=True):
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for n in nodes:
        groups.setdefault(find(n), set()).add(n)
    return list(groups.values())


def derive_neighbours(mun: pd.DataFrame, polys: dict) -> pd.DataFrame:
    """Border pairs from shared vertices; islands get their nearest municipality."""
    pairs = border_pairs(polys)
    pairs["kind"] = "border"
    has = set(pairs.kommunenummer_a) | set(pairs.kommunenummer_b)
    lat, lon = mun["lat"].to_numpy(), mun["lon"].to_numpy()
    extra = []
    for i, kn in enumerate(mun["kommunenummer"]):
        if kn in has:
            continue
        d = haversine_km(lat[i], lon[i], lat, lon)
        d[i] = np.inf
        other = mun["kommunenummer"].iloc[int(np.argmin(d))]
        a, b = sorted((kn, other))
        extra.append((a, b, "nearest"))
    if extra:
        pairs = pd.concat([pairs, pd.DataFrame(extra, columns=pairs.columns)], ignore_index=True)
    # Island groups that border only each other: link each group to the rest of the country by
    # its closest pair of travel points, so the graph is connected (kind "nearest").
    idx = {k: i for i, k in enumerate(mun["kommunenummer"])}
    while True:
        comp = _components(list(mun["kommunenummer"]), pairs)
        if len(comp) == 1:
            break
        small = min(comp, key=lambda c: (len(c), min(c)))
        inside = np.array([idx[k] for k in sorted(small)])
        outside = np.array(
            [i for i in range(len(mun)) if mun["kommunenummer"].iloc[i] not in small]
        )
        d = haversine_km(lat[inside][:, None], lon[inside][:, None], lat[outside], lon[outside])
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        a, b = sorted((mun["kommunenummer"].iloc[inside[i]], mun["kommunenummer"].iloc[outside[j]]))
        pairs = pd.concat(
            [pairs, pd.DataFrame([(a, b, "nearest")], columns=pairs.columns)], ignore_index=True
        )
    pairs = pairs.drop_duplicates(["kommunenummer_a", "kommunenummer_b"])
    return pairs.sort_values(["kommunenummer_a", "kommunenummer_b"]).reset_index(drop=True)


# Centres: one dict per row of the bundled table. "src" names the row in ../shared/data/centres.csv
# (None for rows that are assumptions). Rule (issue 14): every site's capacity is continuous over
# 2012-2026 unless a dated public source says it opened or closed; such a row names that source in
# `capacity_change_source`. The one undated change, Førde's places moving to Bergen in 2017, is a
# capacity-neutral relocation within region vest and is marked "relocation: ..." there. Counts of
# "centres" differ by how departments and sections are counted, so they are not forced by opening
# years: 18 in 2025 = 14 Bufetat + 3 non-profit + 1 Oslo (Menon 2025) is matched, 15 in 2017
# (Bufdir) is not (20 rows). See model/data/README.md ("Centres", "Capacity history").
FIRST_CAPACITY_YEAR, LAST_CAPACITY_YEAR = 2012, 2026  # warm-up year of the history .. last rate
PRE = "operating before the simulated period; opened_year is the earliest dated source"
RECONCILE = (
    "count reconciliation (flagged): no dated source for an opening, so operating throughout is "
    "assumed (capacity continuous); an earlier table opened it in 2018 only to match Bufdir's "
    "count of 15 centres in 2017, which counted departments and sections differently"
)
CLOSED_2023 = (
    "Menon 2025: two non-profit centres closed in 2023 when their framework agreements were not "
    "renewed (which two is not public: Aglo and Vilde assumed)"
)
RELOCATION = (
    "relocation: Førde's 3 units and 2 home-based slots move to Bergen (row bergen_forde_places) "
    "on 1 January 2017; no dated source (assumption, flagged): the 2014 plan to concentrate "
    "region vest's places in Bergen (NRK 2014), whose closure of Førde the minister stopped in "
    "2014; region vest's capacity is unchanged"
)
WEEKEND_DEFAULT = "weekend policy not stated: assumed every_other_weekend_closed (brief: varies)"
SUMMER_DEFAULT = "summer closure not stated: assumed 2 weeks (brief: most close ~2 weeks)"
HOME_DEFAULT = "home-based capacity not stated: assumed round(0.75 x residential units)"
CENTRES: list[dict] = [
    dict(
        centre_id="solbakken",
        src="Solbakken barne- og familiesenter",
        residential_units=5,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                "only centre in the north (brief); opened before 2013 assumed (first dated source "
                "2021) so that nord has a centre in every year",
                "weekends not stated: open every weekend assumed because families travel far",
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="viktoria",
        src="Viktoria familiesenter",
        residential_units=6,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join([PRE, WEEKEND_DEFAULT, SUMMER_DEFAULT, HOME_DEFAULT]),
    ),
    dict(
        centre_id="molde",
        src="Senter for foreldre og barn Molde",
        residential_units=4,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                PRE,
                "weekends not stated; source says staff drive families to airport/bus/ferry only "
                "at move-in and move-out: open every weekend assumed",
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="stavanger",
        src="Region vest senter for foreldre og barn - Stavanger",
        residential_units=3,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        home_based_capacity=3,
        assumption="; ".join(
            [
                PRE,
                WEEKEND_DEFAULT,
                SUMMER_DEFAULT,
                "home-based work stated; capacity assumed 3",
            ]
        ),
    ),
    dict(
        centre_id="bergen",
        src="Region vest senter for foreldre og barn - Bergen (Bergen barn og familiesenter)",
        residential_units=5,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                PRE,
                "units not stated (nine places in 2013 split across departments): 5 residential "
                "assumed",
                "site status after 2014 not verified: assumed open (2014 plan concentrated the "
                "region's places in Bergen)",
                WEEKEND_DEFAULT,
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="forde",
        src="Sogn og Fjordane barn- og foreldresenter",
        residential_units=3,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=2017,
        capacity_change_source=RELOCATION,
        assumption="; ".join(
            [
                PRE,
                "status after 2014 not found (closure proposed March 2014 and stopped by the "
                "minister): its places are assumed to move to Bergen on 1 January 2017 and to "
                "continue there (row bergen_forde_places), not to disappear (flagged relocation; "
                "the year is that of the calibrated history, not of a source)",
                WEEKEND_DEFAULT,
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="agder",
        src="Agder barne- og familiesenter",
        residential_units=4,
        weekend_policy="all_weekends_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                "location Arendal not confirmed (source)",
                "units not stated: 4 assumed",
                RECONCILE,
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="telemark",
        src="Telemark barne- og familiesenter (seksjon Svaleveien)",
        residential_units=4,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                "units not stated: 4 assumed",
                RECONCILE + " (first dated source: inspection 2019)",
                WEEKEND_DEFAULT,
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="vestfold",
        src="Vestfold barne- og familiesenter (seksjon Holtanløkka)",
        kommunenummer="3905",
        residential_units=4,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                "municipality not found: Tønsberg (3905), Vestfold's largest central town, assumed",
                "units not stated: 4 assumed",
                PRE,
                WEEKEND_DEFAULT,
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="buskerud",
        src="Buskerud barne- og familiesenter",
        residential_units=3,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join(
            [
                "units derived: about 12 families a year x 3 months = 3 concurrent families",
                RECONCILE,
                WEEKEND_DEFAULT,
                SUMMER_DEFAULT,
                HOME_DEFAULT,
            ]
        ),
    ),
    dict(
        centre_id="gullhella",
        src="Gullhella barne- og familiesenter",
        residential_units=5,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        home_based_capacity=4,
        assumption="; ".join(
            [PRE, WEEKEND_DEFAULT, SUMMER_DEFAULT, "home-based work stated; capacity assumed 4"]
        ),
    ),
    dict(
        centre_id="borg",
        src="Borg barne- og familiesenter avd. Moringen",
        residential_units=6,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=1992,
        closed_year=None,
        assumption="; ".join([WEEKEND_DEFAULT, SUMMER_DEFAULT, HOME_DEFAULT]),
    ),
    dict(
        centre_id="seljelia",
        src="Seljelia barne- og familiesenter",
        residential_units=5,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption="; ".join([PRE, WEEKEND_DEFAULT, SUMMER_DEFAULT, HOME_DEFAULT]),
    ),
    dict(
        centre_id="bufetat_ost_unnamed",
        src=None,
        name="Bufetat øst unnamed site (assumption)",
        operator="bufetat",
        kommunenummer="3205",
        residential_units=4,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        assumption=(
            "whole row assumed: Menon 2025 counts 14 Bufetat centres, sources name 12 active in "
            "2025 besides Førde's places in Bergen; placed in Lillestrøm (Romerike, the largest "
            "population in øst without a centre); count reconciliation (flagged): operating "
            "throughout assumed (capacity continuous; an earlier table opened it in 2019 only to "
            "match Bufdir's 15 centres in 2017); units, weekends (every other closed), summer "
            "(2 weeks) and home-based capacity assumed"
        ),
        confidence="assumption",
    ),
    dict(
        centre_id="bergen_forde_places",
        src=None,
        name="Bergen, Førde's places (assumption)",
        operator="bufetat",
        kommunenummer="4601",
        residential_units=3,
        weekend_policy="every_other_weekend_closed",
        summer_closure_weeks=2,
        opened_year=2017,
        closed_year=None,
        capacity_change_source=RELOCATION,
        assumption=(
            "whole row assumed: Sogn og Fjordane's (Førde's) 3 units and 2 home-based slots "
            "continue as a department in Bergen from 1 January 2017 (flagged relocation: no dated "
            "source; the 2014 plan concentrated region vest's places in Bergen, NRK 2014; the "
            "year is that of the calibrated history); replaces the earlier table's unnamed second "
            "Bergen department (bufetat_vest_unnamed, opened 2019 to match the centre counts); "
            "also one of Menon's 14 Bufetat centres in 2025; weekends, summer and home-based "
            "capacity as Førde"
        ),
        source="NRK 2014; inspection report 2012 (Førde); assumption (see model/data/README.md)",
        confidence="assumption",
    ),
    dict(
        centre_id="aglo",
        src="Aglo barne- og familiesenter (Blå Kors)",
        residential_units=5,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=0,
        opened_year=2012,
        closed_year=2023,
        capacity_change_source=CLOSED_2023,
        home_based_capacity=0,
        assumption="; ".join(
            [
                PRE,
                "which two non-profit centres closed in 2023 is not public: Aglo assumed (it lost "
                "its framework agreement in the 2020 tender)",
                "home-based capacity for the state intake assumed 0 (framework places are "
                "residential)",
            ]
        ),
    ),
    dict(
        centre_id="vilde",
        src="Stiftelsen Vilde / CRUX Vilde",
        residential_units=3,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=2023,
        capacity_change_source=CLOSED_2023,
        home_based_capacity=0,
        assumption="; ".join(
            [
                PRE,
                "2.5 places (2020) rounded to 3; 8 places in the 2015 contract",
                "closure in 2023 assumed (smallest non-profit offer; which two closed is not "
                "public)",
                "weekends not stated: non-profit centres assumed open every weekend (as Aglo "
                "states)",
                SUMMER_DEFAULT,
                "home-based capacity for the state intake assumed 0",
            ]
        ),
    ),
    dict(
        centre_id="solstrand",
        src="CRUX foreldre og barn - Solstrand",
        residential_units=6,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        home_based_capacity=0,
        assumption="; ".join(
            [
                "operating before 2013 assumed (first dated source 2020) so that five non-profit "
                "centres operate until 2022",
                "still open assumed (one of the three non-profit centres in 2025)",
                "weekends not stated: non-profit centres assumed open every weekend",
                SUMMER_DEFAULT,
                "home-based capacity for the state intake assumed 0",
            ]
        ),
    ),
    dict(
        centre_id="sebbelow",
        src="Sebbelow senter for foreldre og barn",
        residential_units=6,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        home_based_capacity=0,
        nationwide_intake=1,
        assumption="; ".join(
            [
                PRE,
                "13 apartments stated; 6 assumed available to the public intakes so that the five "
                "non-profit centres are about 25 % of the national offer in 2022 (brief)",
                "still open assumed",
                "weekends not stated: non-profit centres assumed open every weekend",
                SUMMER_DEFAULT,
                "home-based capacity for the state intake assumed 0",
            ]
        ),
    ),
    dict(
        centre_id="nanna_marie",
        src="Kirkens Bymisjon Nanna-Marie senter for foreldre og barn",
        residential_units=5,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=2,
        opened_year=2012,
        closed_year=None,
        home_based_capacity=0,
        nationwide_intake=1,
        assumption="; ".join(
            [
                PRE,
                "10 families approved; 5 assumed available to the public intakes (25 % share "
                "in 2022, brief)",
                "still open assumed",
                "weekends not stated: non-profit centres assumed open every weekend",
                SUMMER_DEFAULT,
                "home-based capacity for the state intake assumed 0",
            ]
        ),
    ),
    dict(
        centre_id="aline_frydenberg",
        src="Aline og Frydenberg familieavdeling (Oslo Barne- og familieetaten)",
        residential_units=8,
        weekend_policy="open_every_weekend",
        summer_closure_weeks=0,
        opened_year=2012,
        closed_year=None,
        home_based_capacity=4,
        assumption="; ".join(
            [
                "merged 2016 from two older municipal departments: treated as one centre from "
                "before 2013",
                "staffed round the clock (source): open every weekend and all summer assumed",
                "home-based work stated (support measures); capacity assumed 4",
            ]
        ),
    ),
]


def derive_centres(src: Path, mun: pd.DataFrame) -> pd.DataFrame:
    """Centres table from the source rows plus the documented assumptions above."""
    raw = pd.read_csv(src / "centres.csv", dtype={"kommunenummer_2024": str}).set_index("centre")
    pos = mun.set_index("kommunenummer")
    used = set()
    rows = []
    for spec in CENTRES:
        s = dict(spec)
        src_name = s.pop("src")
        if src_name is not None:
            r = raw.loc[src_name]
            used.add(src_name)
            s.setdefault("name", src_name)
            s.setdefault("operator", r["operator"])
            s.setdefault("region", r["region"])
            if not s.get("kommunenummer"):
                s["kommunenummer"] = str(r["kommunenummer_2024"]).zfill(4)
            s.setdefault("confidence", r["confidence"])
            s.setdefault("source", r["source"])
        else:
            s.setdefault("source", "assumption (see model/data/README.md)")
        kn = s["kommunenummer"]
        s.setdefault("region", pos.loc[kn, "region"])
        s["lat"] = pos.loc[kn, "lat"]
        s["lon"] = pos.loc[kn, "lon"]
        s.setdefault("nationwide_intake", 0)
        s.setdefault("capacity_change_source", "")
        units = s["residential_units"]
        s.setdefault("home_based_capacity", max(2, round(0.75 * units)))
        rows.append(s)
    missing = set(raw.index) - used
    if missing:
        raise SystemExit(f"source centres not represented: {sorted(missing)}")
    cols = [
        "centre_id",
        "name",
        "operator",
        "region",
        "kommunenummer",
        "lat",
        "lon",
        "residential_units",
        "home_based_capacity",
        "weekend_policy",
        "summer_closure_weeks",
        "opened_year",
        "closed_year",
        "capacity_change_source",
        "nationwide_intake",
        "confidence",
        "assumption",
        "source",
    ]
    df = pd.DataFrame(rows)[cols]
    df["closed_year"] = df["closed_year"].astype("Int64")
    check_capacity_continuity(df)
    return df


def _changes_in(centres: pd.DataFrame, year: int) -> pd.DataFrame:
    """Rows that open or close on 1 January of ``year``."""
    return centres[(centres.opened_year == year) | (centres.closed_year == year).fillna(False)]


def check_capacity_continuity(centres: pd.DataFrame) -> None:
    """Every opening or closing inside the capacity years names its dated source; a flagged
    relocation ("relocation: ...") must leave its region's units and home-based slots unchanged."""
    problems = []
    for y in range(FIRST_CAPACITY_YEAR + 1, LAST_CAPACITY_YEAR + 1):
        ch = _changes_in(centres, y)
        for r in ch.itertuples():
            if not r.capacity_change_source:
                problems.append(f"{r.centre_id} opens or closes in {y} without a dated source")
        moves = ch[ch.capacity_change_source.str.startswith("relocation")]
        for region, g in moves.groupby("region"):
            sign = np.where(g.opened_year == y, 1, -1)
            for col in ("residential_units", "home_based_capacity"):
                if int((sign * g[col]).sum()) != 0:
                    problems.append(f"relocation in {region} {y} changes {col}")
    if problems:
        raise SystemExit("capacity history: " + "; ".join(problems))


def _cited(sources: pd.Series) -> str:
    """Sources of the rows behind one region-year change, without repeats, in table order."""
    return " | ".join(dict.fromkeys(s for s in sources if s))


def derive_region_capacity(centres: pd.DataFrame) -> pd.DataFrame:
    """Capacity per Bufetat region and year as the centre table gives it (before scenario levers).

    A centre counts in year Y if it is open on 1 January of Y (opened_year <= Y < closed_year);
    the model opens and closes centres on 1 January, so this is also the year's average.
    ``change_source`` names the dated source of any change from the previous year (empty when
    units and home-based slots are unchanged); ``note`` names capacity-neutral relocations.
    """
    rows = []
    for region in REGION_ORDER:
        cen = centres[centres.region == region]
        prev = None
        for y in range(FIRST_CAPACITY_YEAR, LAST_CAPACITY_YEAR + 1):
            act = cen[(cen.opened_year <= y) & (cen.closed_year.isna() | (y < cen.closed_year))]
            cur = (int(act.residential_units.sum()), int(act.home_based_capacity.sum()))
            ch = _changes_in(cen, y) if prev is not None else cen.iloc[:0]
            moved = ch.capacity_change_source.str.startswith("relocation")
            changed = prev is not None and cur != prev
            rows.append(
                dict(
                    region=region,
                    year=y,
                    centres=len(act),
                    residential_units=cur[0],
                    home_based_capacity=cur[1],
                    change_source=_cited(ch.loc[~moved, "capacity_change_source"])
                    if changed
                    else "",
                    note="; ".join(
                        f"{r.centre_id} {'opens' if r.opened_year == y else 'closes'} "
                        "(relocation within the region, capacity unchanged)"
                        for r in ch[moved].itertuples()
                    ),
                )
            )
            prev = cur
    return pd.DataFrame(rows)


def plot_region_capacity(table: pd.DataFrame, path: Path) -> None:
    """Step plot of residential units and home-based slots per region and year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for ax, col, title in (
        (axes[0], "residential_units", "Residential units (families at a time)"),
        (axes[1], "home_based_capacity", "Home-based slots (concurrent assessments)"),
    ):
        for k, region in enumerate(REGION_ORDER):
            g = table[table.region == region]
            years = [*g.year, LAST_CAPACITY_YEAR + 1]  # the last year drawn a full year wide
            values = [*g[col], g[col].iloc[-1]]
            ax.step(years, values, where="post", label=region, lw=1.8, ls=("-", "--")[k % 2])
        prev = table.groupby("region")[col].shift()
        for r in table[
            (table.change_source != "") & prev.notna() & (table[col] != prev)
        ].itertuples():
            ax.annotate(
                r.change_source.split(":")[0],
                (r.year, getattr(r, col)),
                textcoords="offset points",
                xytext=(4, -12),
                fontsize=7,
            )
        for r in table[table.note != ""].itertuples():
            ax.annotate(
                "relocation (flagged),\ncapacity unchanged",
                (r.year, getattr(r, col)),
                textcoords="offset points",
                xytext=(4, 5),
                fontsize=7,
            )
        ax.set_title(title, fontsize=10)
        ax.set_xlim(FIRST_CAPACITY_YEAR, LAST_CAPACITY_YEAR + 1)
        ax.set_ylim(0, None)
        ax.grid(alpha=0.3)
        ax.set_xlabel("year (centres open on 1 January; the model opens and closes on that day)")
    axes[0].legend(title="region", fontsize=8, ncol=2)
    fig.suptitle(
        "Capacity by Bufetat region in model/data/centres.csv (before scenario levers such as "
        "staff-years)",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


RATE_MEASURES = [
    "centre_residential",
    "centre_home_based",
    "institution",
    "specialised_foster_home",
]


def derive_copay(src: Path) -> pd.DataFrame:
    """Nominal NOK per month per sats, 2013-2026, with documented imputation."""
    raw = pd.read_csv(src / "copay_rates.csv")
    raw["measure"] = raw["measure"].replace(
        {"specialised_or_emergency_foster_home": "specialised_foster_home"}
    )
    # Deloitte 2019's 2018 "foster_home" rate continues the specialised foster home series
    # (32,370 x 1.023 = 33,110), so it is read as that measure.
    raw["measure"] = raw["measure"].replace({"foster_home": "specialised_foster_home"})
    raw = raw[raw["measure"].isin(RATE_MEASURES)]
    table: dict[tuple[int, str], tuple[float, int, str, str]] = {}
    for r in raw.itertuples():
        if r.basis == "nominal":
            table[(r.year, r.measure)] = (float(r.nok_per_month), 0, "stated", r.source)
        else:  # 2021 rates in 2023 NOK -> nominal 2021 with the CPI
            v = r.nok_per_month * CPI[2021] / CPI[2023]
            table[(r.year, r.measure)] = (
                round(v),
                1,
                "2023 NOK converted to nominal 2021 with CPI 2021/2023 (SSB 03014)",
                r.source,
            )

    def put(year, measure, value, method, source="derived (see model/data/README.md)"):
        if (year, measure) not in table:
            table[(year, measure)] = (round(value), 1, method, source)

    # Before 2022 every measure is a fixed share of the institution rate in the circulars:
    # centre_residential = institution (brief: billed as institution), home-based 0.3617,
    # specialised foster home 0.4708 (ratios identical in 2016, 2017, 2018 and 2021).
    inst = {
        y: table[(y, "institution")][0] for y in range(2013, 2022) if (y, "institution") in table
    }
    put(2013, "institution", inst[2014] * CPI[2013] / CPI[2014], "2014 rate deflated by CPI")
    inst[2013] = table[(2013, "institution")][0]
    for y in range(2019, 2021):  # geometric interpolation 2018 -> 2021
        v = inst[2018] * (inst[2021] / inst[2018]) ** ((y - 2018) / 3)
        put(y, "institution", v, "geometric interpolation between 2018 and 2021")
        inst[y] = table[(y, "institution")][0]
    ratios = {}
    for m in ("centre_home_based", "specialised_foster_home"):
        rs = [table[(y, m)][0] / inst[y] for y in range(2016, 2022) if (y, m) in table]
        ratios[m] = float(np.mean(rs))
    for y in range(2013, 2022):
        put(y, "centre_residential", inst[y], "equal to the institution rate before 2022 (brief)")
        for m, q in ratios.items():
            put(y, m, inst[y] * q, f"{q:.4f} x institution rate (constant ratio before 2022)")
    # From 2022: stated 2022, 2023 and 2025 (not foster home). 2024 geometric interpolation;
    # specialised foster home = 0.5 x institution (85,000/170,000 and 87,500/175,000).
    for m in ("institution", "centre_residential", "centre_home_based"):
        v23, v25 = table[(2023, m)][0], table[(2025, m)][0]
        put(2024, m, math.sqrt(v23 * v25), "geometric interpolation between 2023 and 2025")
    for y in range(2024, LAST_RATE_YEAR + 1):
        if y == LAST_RATE_YEAR:
            for m in ("institution", "centre_residential", "centre_home_based"):
                put(
                    y,
                    m,
                    table[(y - 1, m)][0] * (1 + RATE_GROWTH_AFTER_LAST),
                    f"previous year x {1 + RATE_GROWTH_AFTER_LAST:.2f} (assumed price growth)",
                )
        put(
            y,
            "specialised_foster_home",
            0.5 * table[(y, "institution")][0],
            "0.5 x institution rate (ratio in 2022 and 2023)",
        )
    rows = [
        dict(year=y, measure=m, nok_per_month=int(v), imputed=imp, method=meth, source=s)
        for (y, m), (v, imp, meth, s) in table.items()
        if FIRST_RATE_YEAR <= y <= LAST_RATE_YEAR
    ]
    df = pd.DataFrame(rows)
    df["measure"] = pd.Categorical(df["measure"], RATE_MEASURES, ordered=True)
    df = df.sort_values(["year", "measure"]).reset_index(drop=True)
    df["measure"] = df["measure"].astype(str)
    return df


def main(argv: list[str] | None = None) -> None:
    """Derive every bundled table and write it to the output directory."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="where to draw the regional capacity plot (default docs/region_capacity.png when "
        "--out is the default, no plot otherwise)",
    )
    args = ap.parse_args(argv)
    src, out = args.source, args.out
    plot = args.plot or (DEFAULT_PLOT if out.resolve() == DEFAULT_OUT.resolve() else None)
    out.mkdir(parents=True, exist_ok=True)
    polys = load_polygons(src / "kommuner-2024-S.geojson")
    mun = derive_municipalities(src, polys)
    pop = derive_population(src)
    nb = derive_neighbours(mun, polys)
    centres = derive_centres(src, mun)
    rates = derive_copay(src)
    travel = travel_matrix(mun, centres)
    capacity = derive_region_capacity(centres)

    def write(df: pd.DataFrame, name: str) -> None:
        df.to_csv(out / name, index=False, lineterminator="\n")
        print(f"wrote {name}: {len(df)} rows")

    write(
        mun.drop(columns=["centroid_lat", "centroid_lon", "point_shift_km"]), "municipalities.csv"
    )
    write(pop, "municipality_population.csv")
    write(nb, "municipality_neighbours.csv")
    write(centres, "centres.csv")
    write(rates, "copay_rates.csv")
    write(travel, "travel_times.csv")
    write(capacity, "region_capacity.csv")
    if plot is not None:
        plot_region_capacity(capacity, plot)
        print(f"drew {plot}")
    top = mun.nlargest(10, "point_shift_km")[["kommunenummer", "name", "point_shift_km"]]
    print("largest moves of the travel point from the area centroid (km):")
    print(top.to_string(index=False))
    wide = capacity.pivot(index="year", columns="region", values="residential_units")
    print("residential units by region and year:")
    print(wide[list(REGION_ORDER)].to_string())
    for y in (2013, 2017, 2022, 2023, 2024, 2025):
        act = centres[
            (centres.opened_year <= y) & (centres.closed_year.isna() | (y < centres.closed_year))
        ]
        print(
            y,
            len(act),
            act.groupby("operator").size().to_dict(),
            "units",
            int(act.residential_units.sum()),
            "home",
            int(act.home_based_capacity.sum()),
        )


if __name__ == "__main__":
    main()
