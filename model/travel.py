"""Approximate travel times from municipalities to centres.

Road travel is the great-circle distance between two travel points times a detour factor, driven
at an average speed. In the far north a journey may instead be a flight, and municipalities whose
travel involves a ferry (island or fjord municipalities) get a fixed surcharge. Every constant is
an assumption unless a source is named; see model/data/README.md ("Travel times").

A user who has a real travel-time matrix can put it in ``travel_times.csv`` in a data directory
(same columns as the bundled file) and load that directory instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG); source: standard geodesy constant
ROAD_DETOUR_FACTOR = 1.35  # assumption: road km per straight-line km in Norway's fjord terrain
ROAD_SPEED_KMH = 65.0  # assumption: average door-to-door car speed incl. towns and rural roads
MIN_TRIP_HOURS = 0.25  # assumption: a trip inside one municipality takes at least 15 minutes
FERRY_SURCHARGE_HOURS = 1.0  # assumption: waiting plus crossing for one ferry leg (per island end)
FAR_NORTH_COUNTIES = frozenset({"18", "55", "56"})  # Nordland, Troms, Finnmark (2024 counties)
FLIGHT_MIN_STRAIGHT_KM = 350.0  # assumption: below this straight-line distance families drive
FLIGHT_FIXED_HOURS = 3.0  # assumption: to/from airports, check-in, waiting, often a transfer
FLIGHT_SPEED_KMH = 450.0  # assumption: block speed of regional flights (Widerøe-type routes)

TRAVEL_COLUMNS = ["kommunenummer", "centre_id", "distance_km", "hours", "mode"]


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km; accepts scalars or numpy arrays (broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _travel(straight_km, far_north, ferry_legs):
    """Vectorised core: returns (distance_km, hours, mode) arrays."""
    straight_km = np.asarray(straight_km, dtype=float)
    road_km = straight_km * ROAD_DETOUR_FACTOR
    road_h = road_km / ROAD_SPEED_KMH + FERRY_SURCHARGE_HOURS * np.asarray(ferry_legs)
    road_h = np.maximum(road_h, MIN_TRIP_HOURS)
    flight_h = FLIGHT_FIXED_HOURS + straight_km / FLIGHT_SPEED_KMH
    fly = np.asarray(far_north, dtype=bool) & (straight_km > FLIGHT_MIN_STRAIGHT_KM)
    fly &= flight_h < road_h
    hours = np.where(fly, flight_h, road_h)
    distance = np.where(fly, straight_km, road_km)
    mode = np.where(fly, "flight", np.where(np.asarray(ferry_legs) > 0, "road_ferry", "road"))
    return distance, hours, mode


def travel_hours(
    lat1: float,
    lon1: float,
    lat2: float,
    lon2: float,
    far_north: bool = False,
    ferry_legs: int = 0,
) -> float:
    """Hours from point 1 to point 2 by road (or by air when ``far_north`` and far enough)."""
    _, hours, _ = _travel(haversine_km(lat1, lon1, lat2, lon2), far_north, ferry_legs)
    return float(hours)


def travel_matrix(municipalities: pd.DataFrame, centres: pd.DataFrame) -> pd.DataFrame:
    """Long-format travel table (columns as travel_times.csv) for every municipality x centre.

    ``municipalities`` needs kommunenummer, lat, lon; optional county_number and island_or_fjord.
    ``centres`` needs centre_id, kommunenummer and lat/lon (if lat/lon are missing, the centre's
    municipality's travel point is used). Rows are ordered municipality-major, then centre order.
    """
    mun = municipalities.reset_index(drop=True)
    kn = mun["kommunenummer"].astype(str).to_numpy()
    m_lat = mun["lat"].to_numpy(dtype=float)
    m_lon = mun["lon"].to_numpy(dtype=float)
    if "county_number" in mun:
        m_county = mun["county_number"].astype(str).str.zfill(2).to_numpy()
    else:
        m_county = np.array([k[:2] for k in kn])
    m_island = (
        mun["island_or_fjord"].to_numpy(dtype=int)
        if "island_or_fjord" in mun
        else np.zeros(len(mun), dtype=int)
    )
    pos = {k: i for i, k in enumerate(kn)}

    cen = centres.reset_index(drop=True)
    c_kn = cen["kommunenummer"].astype(str).str.zfill(4).to_numpy()
    c_idx = np.array([pos.get(k, -1) for k in c_kn], dtype=int)
    if "lat" in cen and "lon" in cen:
        c_lat = cen["lat"].to_numpy(dtype=float)
        c_lon = cen["lon"].to_numpy(dtype=float)
    else:
        if (c_idx < 0).any():
            raise ValueError("centre kommunenummer not among the municipalities")
        c_lat, c_lon = m_lat[c_idx], m_lon[c_idx]
    c_county = np.array([k[:2] for k in c_kn])
    c_island = np.where(c_idx >= 0, m_island[np.maximum(c_idx, 0)], 0)

    straight = haversine_km(m_lat[:, None], m_lon[:, None], c_lat[None, :], c_lon[None, :])
    north = (
        np.isin(m_county, list(FAR_NORTH_COUNTIES))[:, None]
        | np.isin(c_county, list(FAR_NORTH_COUNTIES))[None, :]
    )
    same = kn[:, None] == c_kn[None, :]
    ferry = np.where(same, 0, m_island[:, None] + c_island[None, :])
    distance, hours, mode = _travel(straight, north, ferry)

    n_m, n_c = straight.shape
    return pd.DataFrame(
        {
            "kommunenummer": np.repeat(kn, n_c),
            "centre_id": np.tile(cen["centre_id"].astype(str).to_numpy(), n_m),
            "distance_km": np.round(distance.ravel(), 1),
            "hours": np.round(hours.ravel(), 3),
            "mode": mode.ravel(),
        },
        columns=TRAVEL_COLUMNS,
    )
