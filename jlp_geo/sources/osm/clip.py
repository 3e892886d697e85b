"""Clipping OSM data to a study area: one rule for every channel.

Keep the nodes inside the polygon (boundary included); every way with at least
one node inside, with all its nodes; every relation with at least one kept
member.  ``type=multipolygon`` relations also keep all their member ways and
nodes so their rings can be assembled whole (see :mod:`jlp_geo.sources.osm`).
The file reader streams a superset of this and then applies
:func:`clip_tables`, so every channel gives the same result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ...errors import CRSError, MissingInputError
from .data import OsmData

__all__ = ["as_lonlat_polygon", "clip_osm", "clip_tables", "empty_clip_error"]


def as_lonlat_polygon(polygon: object) -> BaseGeometry:
    """Accept a shapely (Multi)Polygon in lon/lat, or a GeoDataFrame/GeoSeries with a CRS.

    Parameters
    ----------
    polygon
        The study area.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        A (Multi)Polygon in longitude/latitude.

    Raises
    ------
    CRSError
        If *polygon* is of another type, empty, not areal, or looks projected.
    """
    import geopandas as gpd

    if isinstance(polygon, (gpd.GeoDataFrame, gpd.GeoSeries)):
        from ...crs import require_crs, to_storage  # the only reprojection path

        gdf = polygon if isinstance(polygon, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=polygon)
        require_crs(gdf, "study-area polygon")
        geom = to_storage(gdf).geometry.union_all()
    elif isinstance(polygon, BaseGeometry):
        geom = polygon
    else:
        raise CRSError(
            f"the study-area polygon must be a shapely Polygon or a GeoDataFrame, not {type(polygon).__name__}",
            fix="pass the district boundary (e.g. profile.boundary) in lon/lat",
        )
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise CRSError(
            f"the study-area polygon is {'empty' if geom.is_empty else 'a ' + geom.geom_type}",
            fix="pass a Polygon or MultiPolygon covering the study area",
        )
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise CRSError(
            "the study-area polygon has coordinates outside lon/lat range: it looks projected (metres)",
            fix="pass it in EPSG:4326/4490 longitude/latitude, or as a GeoDataFrame that carries its CRS",
        )
    return geom


def _ways_any_node_in(ways: pd.DataFrame, node_ids: np.ndarray) -> np.ndarray:
    """Boolean per way: does any of its refs appear in *node_ids*?"""
    if ways.empty:
        return np.zeros(0, dtype=bool)
    lengths = np.fromiter((len(r) for r in ways["refs"]), dtype=np.int64, count=len(ways))
    flat = np.fromiter((r for refs in ways["refs"] for r in refs), dtype=np.int64, count=int(lengths.sum()))
    hit = np.isin(flat, node_ids)
    owner = np.repeat(np.arange(len(ways)), lengths)
    out = np.zeros(len(ways), dtype=bool)
    out[owner[hit]] = True
    return out


def clip_tables(
    nodes: pd.DataFrame, ways: pd.DataFrame, relations: pd.DataFrame, polygon: BaseGeometry
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Apply the clipping rule to the three canonical tables.

    Parameters
    ----------
    nodes, ways, relations
        Canonical tables (see :class:`~jlp_geo.sources.osm.OsmData`).
    polygon
        Study area in lon/lat (from :func:`as_lonlat_polygon`).

    Returns
    -------
    tuple of pandas.DataFrame
        The kept ``(nodes, ways, relations)``, each with a fresh RangeIndex; may be empty.
    """
    shapely.prepare(polygon)
    inside = shapely.intersects_xy(polygon, nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    inside_ids = nodes["id"].to_numpy()[inside]
    way_keep = _ways_any_node_in(ways, inside_ids)
    kept_way_ids = set(ways["id"].to_numpy()[way_keep].tolist())
    inside_set = set(inside_ids.tolist())

    rel_keep = np.zeros(len(relations), dtype=bool)
    extra_ways: set[int] = set()
    for i, (members, tags) in enumerate(relations[["members", "tags"]].itertuples(index=False)):
        if any((t == "node" and r in inside_set) or (t == "way" and r in kept_way_ids) for t, r, _ in members):
            rel_keep[i] = True
            if tags.get("type") == "multipolygon":
                extra_ways.update(r for t, r, _ in members if t == "way")
    if extra_ways:
        way_keep |= ways["id"].isin(extra_ways).to_numpy()

    ways_out = ways[way_keep].reset_index(drop=True)
    needed = np.fromiter((r for refs in ways_out["refs"] for r in refs), dtype=np.int64)
    node_keep = inside | nodes["id"].isin(needed).to_numpy()
    return nodes[node_keep].reset_index(drop=True), ways_out, relations[rel_keep].reset_index(drop=True)


def clip_osm(osm: OsmData, polygon: object) -> OsmData:
    """Clip OSM data to a study area with the rule every channel uses.

    Parameters
    ----------
    osm
        Data to clip.
    polygon
        Study area: a shapely (Multi)Polygon in lon/lat (EPSG:4326 / 4490), or a
        GeoDataFrame/GeoSeries with a CRS.

    Returns
    -------
    OsmData
        Nodes inside (boundary included); ways with at least one node inside and
        all their nodes; relations with a kept member, multipolygon relations with
        all their member ways and nodes.  Provenance is carried over.

    Raises
    ------
    MissingInputError
        If nothing of *osm* lies inside the polygon.
    """
    geom = as_lonlat_polygon(polygon)
    nodes, ways, rels = clip_tables(osm.nodes, osm.ways, osm.relations, geom)
    if nodes.empty and ways.empty:
        raise empty_clip_error(osm.source, geom)
    return OsmData(nodes, ways, rels, osm.source, osm.date, osm.date_basis, osm.licence)


def empty_clip_error(source: str, geom: BaseGeometry) -> MissingInputError:
    """The error raised when nothing of *source* lies inside the study area *geom*.

    Parameters
    ----------
    source
        Provenance label of the data that was clipped.
    geom
        The study area in lon/lat.

    Returns
    -------
    MissingInputError
        With the study area's bounds in its ``where``.
    """
    b = ", ".join(f"{v:.4f}" for v in geom.bounds)
    return MissingInputError(
        "no OSM data inside the study area — check the file covers Jiulongpo / the boundary",
        where=f"{source}; study-area bounds (lon/lat) {b}",
        fix="use an extract that covers the area (e.g. Geofabrik chongqing-latest.osm.pbf) "
        "and a boundary in longitude/latitude",
    )
