"""Geometry on the page: how shapes get from the analysis CRS into a map's embedded data.

Every map of :mod:`jlp_geo.viz` answers the same question the same way -- *which
coordinates does the page carry?*

* :func:`display_frame` -- simplify lines and polygons in metres (analysis CRS),
  then reproject for display, only through :func:`jlp_geo.crs.to_display`;
* :func:`rounded_geojson`, :func:`geojson_feature`, :func:`feature_collection` --
  GeoJSON with coordinates rounded to :data:`COORD_DECIMALS` (about 1 m);
* :func:`encode_ring`, :func:`encode_polygons` -- the compact Google encoded
  polyline (same precision) used by the coverage map, decoded in the page;
* :func:`drop_small_holes` -- fill holes too small to see before drawing;
* :func:`simplify_each` -- topology-preserving simplification, one geometry per thread.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely

from ..crs import to_analysis, to_display

__all__ = [
    "COORD_DECIMALS",
    "display_frame",
    "drop_small_holes",
    "encode_polygons",
    "encode_ring",
    "feature_collection",
    "geojson_feature",
    "rounded_geojson",
    "simplify_each",
]

#: Decimals of the displayed longitude/latitude (1e-5 degree is about 1 m).
COORD_DECIMALS = 5


def display_frame(
    gdf: gpd.GeoDataFrame | None, simplify_m: float, analysis_crs: object = None
) -> gpd.GeoDataFrame | None:
    """Drop empty geometries, simplify lines/polygons in metres, and reproject for display.

    Parameters
    ----------
    gdf
        Any layer with a CRS; ``None`` or an empty frame is returned unchanged.
    simplify_m
        Douglas-Peucker tolerance in metres (analysis CRS); ``0`` keeps every
        vertex.  Points are never changed.
    analysis_crs
        The metric CRS to simplify in; ``None`` uses the settings default.

    Returns
    -------
    geopandas.GeoDataFrame or None
        The placed rows in the display CRS (EPSG:4326).
    """
    if gdf is None or len(gdf) == 0:
        return gdf
    keep = np.asarray(~(gdf.geometry.isna() | gdf.geometry.is_empty), dtype=bool)
    metric = to_analysis(gdf[keep], analysis_crs)
    if simplify_m > 0:
        is_point = np.asarray(metric.geometry.geom_type.str.contains("Point"), dtype=bool)
        geoms = metric.geometry.copy()
        geoms[~is_point] = metric.geometry[~is_point].simplify(simplify_m, preserve_topology=True)
        metric = metric.set_geometry(geoms)
    return to_display(metric)


def rounded_geojson(geom: shapely.Geometry) -> dict:
    """GeoJSON geometry mapping of *geom* with coordinates rounded to :data:`COORD_DECIMALS`."""
    return shapely.geometry.mapping(shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS)))


def geojson_feature(geom: shapely.Geometry, props: dict) -> dict:
    """One GeoJSON ``Feature`` with a rounded geometry (see :func:`rounded_geojson`)."""
    return {"type": "Feature", "geometry": rounded_geojson(geom), "properties": props}


def feature_collection(features: list[dict]) -> dict:
    """A GeoJSON ``FeatureCollection`` of *features*."""
    return {"type": "FeatureCollection", "features": features}


def encode_ring(coords: np.ndarray) -> str:
    """Encode ``(lon, lat)`` vertices as a Google encoded polyline (precision 5, ``lat,lng`` order).

    Coordinates are rounded to :data:`COORD_DECIMALS` decimals (about 1 m) and
    delta-coded, so a vertex costs 4-8 characters instead of about 20 in JSON.
    The coverage page decodes it with ``decode`` in its runtime (also exposed as
    ``jlpCoverage.decode``).

    Parameters
    ----------
    coords
        ``(n, 2)`` array of longitude, latitude.

    Returns
    -------
    str
        The encoded polyline.

    Examples
    --------
    >>> encode_ring(np.array([[-120.2, 38.5], [-120.95, 40.7], [-126.453, 43.252]]))
    '_p~iF~ps|U_ulLnnqC_mqNvxq`@'
    """
    ints = np.round(np.asarray(coords, dtype=float)[:, ::-1] * 10**COORD_DECIMALS).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for v in np.where(deltas < 0, ~(deltas << 1), deltas << 1).tolist():
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def encode_polygons(geom: shapely.Geometry) -> list[list[str]]:
    """``[[outer, hole, ...], ...]`` encoded rings of a (Multi)Polygon, closing vertex dropped.

    Parameters
    ----------
    geom
        A Polygon or MultiPolygon in the display CRS; other parts are skipped.

    Returns
    -------
    list of list of str
        One list of rings (see :func:`encode_ring`) per polygon.
    """
    polys = list(getattr(geom, "geoms", [geom]))
    out = []
    for poly in polys:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [poly.exterior, *poly.interiors]
        out.append([encode_ring(np.asarray(r.coords)[:-1, :2]) for r in rings])
    return out


def drop_small_holes(geom: shapely.Geometry, min_area: float) -> shapely.Geometry:
    """Remove holes smaller than *min_area* (units of the CRS, m²) from a (Multi)Polygon.

    Parameters
    ----------
    geom
        A Polygon or MultiPolygon in a metric CRS (other parts are dropped).
    min_area
        Smallest hole kept; ``<= 0`` returns *geom* unchanged.

    Returns
    -------
    shapely.Geometry
        A Polygon (one part) or MultiPolygon.
    """
    if min_area <= 0 or geom is None or geom.is_empty:
        return geom
    polys = [
        shapely.Polygon(p.exterior, [h for h in p.interiors if shapely.Polygon(h).area >= min_area])
        for p in getattr(geom, "geoms", [geom])
        if p.geom_type == "Polygon"
    ]
    return shapely.MultiPolygon(polys) if len(polys) != 1 else polys[0]


def simplify_each(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """``shapely.simplify(geoms, tolerance, preserve_topology=True)``, the geometries spread over threads.

    GEOS releases the GIL and simplifies each geometry on its own, so the result is
    the same as the one vectorised call; large service areas (hundreds of thousands
    of vertices) take most of a coverage map's time, so on 2 cores this about
    halves it. Largest first, so that one big geometry does not start last.
    """
    geoms = np.asarray(geoms, dtype=object)
    workers = min(len(geoms), os.cpu_count() or 1, 4)
    if workers <= 1:
        return shapely.simplify(geoms, tolerance, preserve_topology=True)
    order = np.argsort(-shapely.get_num_coordinates(geoms), kind="stable")
    out = np.empty(len(geoms), dtype=object)
    with ThreadPoolExecutor(workers) as pool:
        done = pool.map(lambda g: shapely.simplify(g, tolerance, preserve_topology=True), geoms[order])
        for i, g in zip(order, done):
            out[i] = g
    return out
