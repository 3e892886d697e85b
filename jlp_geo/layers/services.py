"""Service facilities (公共服务设施) by category, from OSM, for 15-minute coverage.

Answers *where the services are*: every OSM element whose tags match a category
of :mod:`jlp_geo.layers.categories` becomes a facility row with a geometry in
the analysis CRS (:func:`services_from_osm`; a point for point categories, the
area for polygon categories such as parks, with a note when it cannot be
counted); :func:`service_access_points` gives the points from which each one is
reached on foot, and :func:`service_summary` counts them per category.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from ..crs import require_projected, to_analysis
from ..errors import InputDataError
from ..settings import get_settings
from ..sources.osm import OsmData
from .categories import Category, load_categories

__all__ = [
    "SERVICE_COLUMNS",
    "services_from_osm",
    "service_access_points",
    "service_summary",
]

# ---------------------------------------------------------------------------
# geometry from the canonical OSM tables
# ---------------------------------------------------------------------------


class _Geometries:
    """Build lon/lat geometries of OSM elements (cached), with a reason when impossible."""

    def __init__(self, osm: OsmData) -> None:
        self.node_ids = osm.nodes["id"].to_numpy()
        self.node_xy = osm.nodes[["lon", "lat"]].to_numpy(dtype=float)
        self.way_refs = dict(zip(osm.ways["id"].tolist(), osm.ways["refs"].tolist()))
        self._way_cache: dict[int, tuple[BaseGeometry | None, str]] = {}

    def _coords(self, refs: Sequence[int]) -> tuple[np.ndarray, int]:
        ids = np.asarray(refs, dtype=np.int64)
        pos = np.searchsorted(self.node_ids, ids)
        pos = np.clip(pos, 0, max(len(self.node_ids) - 1, 0))
        found = (self.node_ids[pos] == ids) if len(self.node_ids) else np.zeros(len(ids), bool)
        return self.node_xy[pos[found]], int((~found).sum())

    def node(self, xy: tuple[float, float]) -> tuple[BaseGeometry | None, str]:
        return Point(xy), ""

    def way(self, way_id: int) -> tuple[BaseGeometry | None, str]:
        """Polygon if closed and complete, else a line of the nodes present."""
        if way_id in self._way_cache:
            return self._way_cache[way_id]
        refs = self.way_refs.get(way_id)
        if refs is None:
            result: tuple[BaseGeometry | None, str] = (None, "way not in the data")
        else:
            xy, missing = self._coords(refs)
            closed = len(refs) >= 4 and refs[0] == refs[-1]
            if closed and missing == 0:
                poly = shapely.make_valid(Polygon(xy))
                poly = _polygonal(poly)
                result = (poly, "") if poly is not None else (LineString(xy), "area is degenerate")
            elif len(xy) >= 2:
                note = f"{missing} node(s) outside the data (way cut by the extract)" if missing else ""
                result = (LineString(xy), note)
            elif len(xy) == 1:
                result = (Point(xy[0]), f"{missing} node(s) outside the data")
            else:
                result = (None, "none of the way's nodes are in the data")
        self._way_cache[way_id] = result
        return result

    def relation(self, members: Sequence[tuple[str, int, str]], tags: Mapping[str, str]) -> tuple[BaseGeometry | None, str]:
        """Assemble a ``type=multipolygon`` relation (outer and inner rings)."""
        if tags.get("type") != "multipolygon":
            return None, f"relation type={tags.get('type', '?')}: no geometry assembled (only multipolygons)"
        lines = []
        for kind, ref, role in members:
            if kind != "way" or role not in ("outer", "inner", ""):
                continue
            geom, note = self.way(ref)
            if geom is None or note:
                return None, "multipolygon incomplete: a member way is missing or cut by the extract"
            if geom.geom_type == "MultiPolygon":
                return None, "multipolygon member way is self-intersecting"
            lines.append(geom.exterior if isinstance(geom, Polygon) else geom)
        if not lines:
            return None, "multipolygon has no member ways"
        noded = shapely.union_all([LineString(ln.coords) for ln in lines])
        area = _polygonal(shapely.build_area(noded))
        if area is None:
            return None, "multipolygon rings do not close"
        return area, ""


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """Keep only the polygonal part of a (possibly mixed) geometry; None if there is none."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
        if parts:
            return shapely.union_all(parts)
    return None


# ---------------------------------------------------------------------------
# services
# ---------------------------------------------------------------------------

#: the columns of every services layer, whatever its source
SERVICE_COLUMNS = (
    "category",
    "category_zh",
    "name",
    "name_zh",
    "name_en",
    "osm_type",
    "osm_id",
    "area_m2",
    "included",
    "note",
    "source",
    "precision",
    "uncertainty_m",
)


def _match_elements(osm: OsmData, categories: Sequence[Category]) -> list[tuple[str, int, Any, dict[str, str], Category]]:
    """Every (element, category) pair whose tags match; element payload per type."""
    index: dict[str, list[Category]] = {}
    for cat in categories:
        for key in cat.keys:
            index.setdefault(key, []).append(cat)
    hits: list[tuple[str, int, Any, dict[str, str], Category]] = []

    def scan(kind: str, ids: Sequence[int], payloads: Sequence[Any], tag_list: Sequence[dict[str, str]]) -> None:
        for eid, payload, tags in zip(ids, payloads, tag_list):
            if not tags:
                continue
            candidates = {c.id: c for k in tags if k in index for c in index[k]}
            for cat in categories:  # table order, deterministic
                if cat.id in candidates and cat.matches(tags):
                    hits.append((kind, int(eid), payload, tags, cat))

    n = osm.nodes
    scan("node", n["id"].tolist(), list(zip(n["lon"].tolist(), n["lat"].tolist())), n["tags"].tolist())
    scan("way", osm.ways["id"].tolist(), osm.ways["id"].tolist(), osm.ways["tags"].tolist())
    r = osm.relations
    scan("relation", r["id"].tolist(), r["members"].tolist(), r["tags"].tolist())
    return hits


def services_from_osm(
    osm: OsmData,
    categories: Sequence[Category] | None = None,
    crs: object | None = None,
    include_excluded: bool = False,
) -> gpd.GeoDataFrame:
    """Find the service facilities of every category in OSM data.

    One row per (OSM element, category) it matches -- an element can serve
    several categories (a supermarket is both fresh_market and convenience).
    An object mapped twice (a node inside an area with the same tags) gives two
    rows; nearest-service distances are unaffected, counts are upper bounds.

    Parameters
    ----------
    osm
        Canonical OSM data (any channel), ideally clipped to the study area.
    categories
        Default :func:`load_categories`.
    crs
        Metric analysis CRS; default ``get_settings().analysis_crs`` (EPSG:4544,
        right for Chongqing -- pass a local one elsewhere, e.g. EPSG:3067 for Helsinki).
    include_excluded
        Also return matched features that cannot be counted (``included`` False,
        ``note`` says why: below the minimum area, a park mapped only as a point,
        an area cut by the extract, a relation that is not a multipolygon).

    Returns
    -------
    GeoDataFrame
        In *crs*, columns ``category``, ``category_zh``, ``name`` (raw OSM
        ``name`` -- untrusted text, escape before display), ``name_zh``
        (``name:zh`` or ``name``), ``name_en`` (``name:en``), ``osm_type``,
        ``osm_id``, ``area_m2`` (polygons; NaN for points), ``included``,
        ``note``, ``source`` (``'OpenStreetMap via <channel>, <date>'``),
        ``precision`` (``'surveyed'``), ``uncertainty_m`` (NaN), ``geometry``
        (points; polygons for polygon categories).  ``attrs['licence']`` holds the
        ODbL credit.
    """
    cats = load_categories() if categories is None else list(categories)
    target = require_projected(crs or get_settings().analysis_crs, "services_from_osm")
    geoms = _Geometries(osm)
    rows: list[dict[str, Any]] = []
    raw: list[BaseGeometry | None] = []
    for kind, eid, payload, tags, cat in _match_elements(osm, cats):
        if kind == "node":
            geom, note = geoms.node(payload)
        elif kind == "way":
            geom, note = geoms.way(payload)
        else:
            geom, note = geoms.relation(payload, tags)
        rows.append(
            {
                "category": cat.id,
                "category_zh": cat.name_zh,
                "name": tags.get("name", ""),
                "name_zh": tags.get("name:zh") or tags.get("name:zh-Hans") or tags.get("name", ""),
                "name_en": tags.get("name:en", ""),
                "osm_type": kind,
                "osm_id": eid,
                "note": note,
            }
        )
        raw.append(geom)
    df = pd.DataFrame(rows, columns=["category", "category_zh", "name", "name_zh", "name_en", "osm_type", "osm_id", "note"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(raw, crs="EPSG:4326"), crs="EPSG:4326")
    gdf = to_analysis(gdf, target)

    by_id = {c.id: c for c in cats}
    out_geom: list[BaseGeometry | None] = []
    area = np.full(len(gdf), np.nan)
    included = np.zeros(len(gdf), dtype=bool)
    notes = gdf["note"].tolist()
    for i, (cid, geom) in enumerate(zip(gdf["category"], gdf.geometry)):
        cat = by_id[cid]
        if geom is None or geom.is_empty:
            out_geom.append(None)
            continue
        kind = geom.geom_type
        if cat.geometry == "polygon":
            if kind not in ("Polygon", "MultiPolygon"):
                if not notes[i]:
                    notes[i] = "mapped as a point or an open line: area unknown, not counted"
                else:
                    notes[i] = f"{notes[i]}: area unknown, not counted"
                out_geom.append(geom)
                continue
            area[i] = geom.area
            out_geom.append(geom)
            if cat.min_area_m2 is not None and area[i] < cat.min_area_m2:
                notes[i] = f"area {area[i]:.0f} m² < {cat.min_area_m2:.0f} m²"
                continue
            included[i] = True
        else:
            if kind == "Point":
                pt = geom
            elif kind in ("Polygon", "MultiPolygon"):
                pt = geom.point_on_surface()
            else:  # a line: an open way (platform) or an area cut by the extract
                pt = geom.interpolate(0.5, normalized=True)
            out_geom.append(pt)
            included[i] = True
            if notes[i]:
                notes[i] = f"{notes[i]}; located at a point of the part present"
    gdf = gdf.set_geometry(gpd.GeoSeries(out_geom, index=gdf.index, crs=gdf.crs))
    gdf["area_m2"] = area
    gdf["included"] = included
    gdf["note"] = notes
    gdf["source"] = osm.provenance
    gdf["precision"] = "surveyed"
    gdf["uncertainty_m"] = np.nan
    if not include_excluded:
        gdf = gdf[gdf["included"]]
    gdf = gdf[[*SERVICE_COLUMNS, "geometry"]].reset_index(drop=True)
    gdf.attrs["licence"] = osm.licence
    return gdf


def service_access_points(services: gpd.GeoDataFrame, spacing_m: float = 25.0) -> gpd.GeoDataFrame:
    """Points from which each service is reached on foot.

    A point facility is reached at its point.  A polygon facility (a park) is
    reached at its edge: the vertices of its exterior ring(s), densified so that
    no two consecutive points are more than *spacing_m* apart -- the simplest
    honest stand-in for "where the boundary meets the walk network" (snap them to
    the network; the nearest one wins).

    Parameters
    ----------
    services
        Output of :func:`services_from_osm` (metric CRS).  Rows with
        ``included`` False are skipped.
    spacing_m
        Maximum distance between consecutive boundary points, metres.

    Returns
    -------
    GeoDataFrame
        Same CRS; columns ``service_index`` (row label in *services*),
        ``category``, ``osm_type``, ``osm_id``, ``geometry`` (Point).
    """
    require_projected(services.crs, "service_access_points")
    if not spacing_m > 0:
        raise InputDataError(f"spacing_m must be positive, not {spacing_m!r}", fix="use e.g. 25")
    keep = services["included"].to_numpy(bool) if "included" in services.columns else np.ones(len(services), bool)
    rows: list[tuple[Any, str, str, int]] = []
    pts: list[np.ndarray] = []
    for label, cat, kind, oid, geom in zip(
        services.index[keep],
        services["category"][keep],
        services["osm_type"][keep],
        services["osm_id"][keep],
        services.geometry[keep],
    ):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            coords = []
            for part in getattr(geom, "geoms", [geom]):
                ring = shapely.segmentize(part.exterior, spacing_m)
                coords.append(shapely.get_coordinates(ring)[:-1])  # drop the closing repeat
            xy = np.vstack(coords)
        else:
            xy = shapely.get_coordinates(geom)[:1]
        pts.append(xy)
        rows.extend((label, cat, kind, int(oid)) for _ in range(len(xy)))
    xy = np.vstack(pts) if pts else np.zeros((0, 2))
    df = pd.DataFrame(rows, columns=["service_index", "category", "osm_type", "osm_id"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=services.crs)


def service_summary(services: gpd.GeoDataFrame, categories: Sequence[Category] | None = None) -> pd.DataFrame:
    """Count the services found per category, and say which have none.

    Parameters
    ----------
    services
        Output of :func:`services_from_osm` (pass ``include_excluded=True`` there to
        also count and explain the features that could not be used).
    categories
        Default :func:`load_categories`; every category gets a row, found or not.

    Returns
    -------
    DataFrame
        ``category``, ``name_zh``, ``basic``, ``level_min``, ``radius_m``,
        ``verified``, ``n_found`` (usable features), ``n_points``, ``n_areas``,
        ``n_excluded``, ``note`` (``'none found in the study area ...'`` for an
        empty category; the reasons for exclusions).
    """
    cats = load_categories() if categories is None else list(categories)
    inc = services["included"].to_numpy(bool) if "included" in services.columns else np.ones(len(services), bool)
    records = []
    for cat in cats:
        sel = (services["category"] == cat.id).to_numpy()
        used = services[sel & inc]
        dropped = services[sel & ~inc]
        types = used.geometry.geom_type if len(used) else pd.Series([], dtype=str)
        n_areas = int(types.isin(["Polygon", "MultiPolygon"]).sum())
        notes = []
        if len(used) == 0:
            notes.append(
                "none found in the study area — coverage cannot be computed for this category "
                "(OSM may simply not map it here)"
            )
        if len(dropped):
            reasons = Counter(re.sub(r"\d+(\.\d+)?", "N", str(n)) for n in dropped["note"])
            notes.append("excluded: " + "; ".join(f"{k} ×{v}" for k, v in reasons.most_common()))
        records.append(
            {
                "category": cat.id,
                "name_zh": cat.name_zh,
                "basic": cat.basic,
                "level_min": cat.level_min,
                "radius_m": np.nan if cat.radius_m is None else cat.radius_m,
                "verified": cat.verified,
                "n_found": len(used),
                "n_points": len(used) - n_areas,
                "n_areas": n_areas,
                "n_excluded": len(dropped),
                "note": " | ".join(notes),
            }
        )
    return pd.DataFrame(records)
