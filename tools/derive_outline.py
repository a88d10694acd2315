"""Derive Norway's mainland outline (model/data/norway_outline.geojson) from Natural Earth.

Source: Natural Earth 1:10m Admin 0 countries, version 4.1.0 (public domain,
https://www.naturalearthdata.com/about/terms-of-use/), as redistributed in TopoJSON by the npm
package ``world-atlas`` 2.0.2 (ISC licence, https://github.com/topojson/world-atlas). Get it with

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    .venv/bin/python tools/derive_outline.py package/countries-10m.json

The script decodes Norway's geometry (ISO 3166-1 numeric 578), keeps the mainland and the
coastal islands (drops Svalbard and Jan Mayen, which have no municipality), simplifies it and
writes a small GeoJSON file. Deterministic: the same input gives the same bytes.

It never reads the simplified municipal boundary file in ../shared/data (no stated licence).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "model" / "data" / "norway_outline.geojson"
NORWAY = "578"
MAINLAND = (4.0, 57.5, 31.5, 71.5)
"""lon/lat box of mainland Norway and its coastal islands (Svalbard and Jan Mayen lie outside)."""
TOLERANCE = 0.01
"""Simplification in degrees (about 1 km north-south): enough for a national map."""
MIN_AREA = 0.002
"""Islands smaller than this (square degrees, about 5 km²) are dropped."""
DECIMALS = 3


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON arcs (delta-encoded, quantized) as lists of lon/lat points."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indices: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """One ring from arc indices (a negative index ~i is arc i reversed)."""
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def norway(topology: dict) -> MultiPolygon:
    """Norway's geometry from a world-atlas countries topology."""
    arcs = decode_arcs(topology)
    (geometry,) = [
        g for g in topology["objects"]["countries"]["geometries"] if g.get("id") == NORWAY
    ]
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    return MultiPolygon(
        [Polygon(ring(p[0], arcs), [ring(h, arcs) for h in p[1:]]) for p in polygons]
    )


def mainland_outline(country: MultiPolygon) -> MultiPolygon:
    """Mainland and coastal islands, simplified, small islands dropped, rounded."""
    box = shapely.box(*MAINLAND)
    parts = [p for p in country.geoms if box.contains(p)]
    simplified = shapely.simplify(MultiPolygon(parts), TOLERANCE, preserve_topology=True)
    kept = [p for p in getattr(simplified, "geoms", [simplified]) if p.area >= MIN_AREA]
    rounded = shapely.set_precision(MultiPolygon(kept), 10**-DECIMALS)
    polygons = [p for p in getattr(rounded, "geoms", [rounded]) if isinstance(p, Polygon)]
    polygons.sort(key=lambda p: (-p.area, p.bounds))
    return MultiPolygon([shapely.geometry.polygon.orient(p) for p in polygons])


def feature_collection(outline: MultiPolygon) -> dict:
    geometry = mapping(outline)
    geometry["coordinates"] = [
        [[[round(x, DECIMALS), round(y, DECIMALS)] for x, y in r] for r in polygon]
        for polygon in geometry["coordinates"]
    ]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "Norway (mainland and coastal islands)",
                    "source": "Natural Earth 1:10m Admin 0 countries v4.1.0 (public domain), "
                    "via world-atlas 2.0.2 (countries-10m.json)",
                    "licence": "public domain (Natural Earth terms of use)",
                    "derivation": f"tools/derive_outline.py: box {MAINLAND}, simplified "
                    f"{TOLERANCE} deg, islands under {MIN_AREA} sq deg dropped, "
                    f"{DECIMALS} decimals",
                },
                "geometry": geometry,
            }
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("countries", type=Path, help="world-atlas countries-10m.json")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    topology = json.loads(args.countries.read_text(encoding="utf-8"))
    outline = mainland_outline(norway(topology))
    text = json.dumps(feature_collection(outline), separators=(",", ":")) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(outline.geoms)} polygons, {len(text):,} bytes")


if __name__ == "__main__":
    main()
