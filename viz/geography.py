"""The areas the Explore map draws: one cell around each municipality's travel point.

These are **not municipal boundaries**. The project ships no boundary file it may redistribute
(model/data/README.md, "Attribution and licences"), so each municipality is drawn as the part of
Norway nearer to its travel point (``municipalities.csv``: lat, lon) than to any other
municipality's: Voronoi cells (GEOS, through shapely) clipped to Norway's mainland outline from
Natural Earth (public domain; ``model/data/norway_outline.geojson``, derived by
tools/derive_outline.py). The map's caption says so.

Distances are measured on the map as drawn: longitude scaled by cos 65° (ASSUMPTION: an
equirectangular projection at Norway's middle latitude; good enough for "which point is
nearest" at national scale, not for areas or distances).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import shapely
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon, Polygon, shape

from sfbsim.model.data_loading import DEFAULT_DATA_DIR

OUTLINE_FILE: Path = DEFAULT_DATA_DIR / "norway_outline.geojson"
LAT0 = 65.0
"""Latitude whose cosine scales longitude on the map (and for the cells)."""
X_SCALE = math.cos(math.radians(LAT0))
ISLAND_RADIUS_KM = 6.0
"""ASSUMPTION: a municipality whose cell holds less land of the simplified outline than radius²
(a third of a disc of this radius: a small island the outline drops) also gets that disc around
its travel point, within its cell (with the shipped points: Kvitsøy, Utsira, Giske, Træna, Røst,
Værøy, Færder, Fedje)."""
CELLS_CAPTION = (
    "Areas: cells around each municipality's travel point (the land nearer to it than to any "
    "other), clipped to Norway's outline (Natural Earth) — not municipal boundaries"
)


@functools.cache
def outline() -> MultiPolygon:
    """Norway's mainland and coastal islands, lon/lat (Natural Earth, public domain)."""
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    geometry = shape(data["features"][0]["geometry"])
    return geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])


def _to_map(geometry):
    return shapely.transform(geometry, lambda xy: xy * np.array([X_SCALE, 1.0]))


def _from_map(geometry):
    return shapely.transform(geometry, lambda xy: xy / np.array([X_SCALE, 1.0]))


def cells(lon: tuple[float, ...], lat: tuple[float, ...]) -> list[Polygon | MultiPolygon]:
    """One area per point (in the points' order), lon/lat: its Voronoi cell clipped to the
    outline, with a small disc around the point if the cell holds (almost) no land of it."""
    return list(_cells(tuple(map(float, lon)), tuple(map(float, lat))))


@functools.cache
def _cells(lon: tuple[float, ...], lat: tuple[float, ...]) -> tuple:
    points = shapely.points(np.column_stack([np.asarray(lon) * X_SCALE, lat]))
    land = _to_map(outline())
    frame = shapely.box(*land.buffer(2.0).bounds)
    regions = shapely.voronoi_polygons(
        shapely.multipoints(points), extend_to=frame, ordered=True
    ).geoms
    if len(regions) != len(points):
        raise ValueError("two municipalities share a travel point: no cell for each")
    radius = ISLAND_RADIUS_KM / 111.2  # degrees of latitude
    areas = []
    for point, region in zip(points, regions, strict=True):
        if not region.covers(point):
            raise ValueError("a Voronoi cell does not hold its point")
        area = region.intersection(land)
        if area.area < (radius**2):
            area = region.intersection(point.buffer(radius)).union(area)
        areas.append(_from_map(area))
    return tuple(areas)


def path_of(geometry: Polygon | MultiPolygon) -> MplPath:
    """A matplotlib compound path (holes included) of a polygon or multipolygon."""
    vertices, codes = [], []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.is_empty or not isinstance(polygon, Polygon):
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)
            vertices.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    if not vertices:
        return MplPath(np.zeros((1, 2)), [MplPath.MOVETO])
    return MplPath(np.concatenate(vertices), np.concatenate(codes))


@functools.cache
def cell_paths(lon: tuple[float, ...], lat: tuple[float, ...]) -> tuple[MplPath, ...]:
    """The cells as matplotlib paths (built once per set of points)."""
    return tuple(path_of(area) for area in cells(lon, lat))


@functools.cache
def outline_paths() -> tuple[MplPath, ...]:
    return tuple(path_of(polygon) for polygon in outline().geoms)
