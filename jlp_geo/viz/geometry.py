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
* :func:`simplify_each` -- topology-preserving simplification, one geometry per thread;
* :func:`thin_polygons` -- the same two for large raster-made outlines, vectorised over
  every ring (small holes filled, each ring simplified on its own, within a vertex budget);
* :func:`encode_rings` -- :func:`encode_ring` of many rings at once;
* :func:`metres_per_unit` -- the length of one CRS unit near a latitude (tolerances in metres).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from ..crs import to_analysis, to_display

__all__ = [
    "COORD_DECIMALS",
    "display_frame",
    "drop_small_holes",
    "encode_polygons",
    "encode_polygons_many",
    "encode_ring",
    "encode_rings",
    "feature_collection",
    "geojson_feature",
    "metres_per_unit",
    "rounded_geojson",
    "simplify_each",
    "thin_polygons",
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
    coords = np.asarray(coords, dtype=float).reshape(-1, 2)
    return encode_rings(coords, np.array([len(coords)]))[0]


def encode_rings(coords: np.ndarray, counts: np.ndarray) -> list[str]:
    """:func:`encode_ring` of many rings at once, vectorised (same strings).

    Parameters
    ----------
    coords
        ``(n, 2)`` longitude, latitude of every ring, one after the other.
    counts
        Number of vertices of each ring (sums to ``n``; zeros give ``""``).

    Returns
    -------
    list of str
        One encoded polyline per ring.

    Examples
    --------
    >>> encode_rings(np.array([[-120.2, 38.5], [-120.95, 40.7], [1.0, 2.0]]), np.array([2, 0, 1]))
    ['_p~iF~ps|U_ulLnnqC', '', '_seK_ibE']
    """
    coords = np.asarray(coords, dtype=float).reshape(-1, 2)
    counts = np.asarray(counts, dtype=np.int64)
    ints = np.round(coords[:, ::-1] * 10**COORD_DECIMALS).astype(np.int64)
    starts = np.cumsum(counts) - counts
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    first = starts[counts > 0]
    deltas[first] = ints[first]  # every ring starts from zero
    values = deltas.ravel()
    zigzag = np.where(values < 0, ~(values << 1), values << 1)
    n_chunks = np.ones(len(zigzag), dtype=np.int64)
    rest = zigzag >> 5
    while rest.any():
        n_chunks += rest > 0
        rest >>= 5
    width = int(n_chunks.max()) if len(zigzag) else 1
    chars = np.empty((len(zigzag), width), dtype=np.uint8)
    for j in range(width):  # 5 bits per character, 0x20 = "more follows", offset 63
        more = (j < n_chunks - 1).astype(np.int64) << 5
        chars[:, j] = (((zigzag >> (5 * j)) & 0x1F) | more) + 63
    text = chars[np.arange(width)[None, :] < n_chunks[:, None]].tobytes().decode("ascii")
    ends = np.concatenate([[0], np.cumsum(n_chunks.reshape(-1, 2).sum(axis=1))])
    bounds = ends[np.concatenate([starts, [len(coords)]])]
    return [text[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


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


def encode_polygons_many(geoms: np.ndarray) -> list[list[list[str]]]:
    """:func:`encode_polygons` of every geometry of *geoms*, all rings encoded in one vectorised pass.

    Examples
    --------
    >>> sq = shapely.Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    >>> encode_polygons_many(np.array([sq, None])) == [encode_polygons(sq), []]
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polygon = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, owner = parts[polygon], owner[polygon]
    rings = shapely.get_rings(parts)
    per_part = shapely.get_num_interior_rings(parts) + 1
    counts = shapely.get_num_coordinates(rings)
    xy = shapely.get_coordinates(rings)
    closing = np.zeros(len(xy), dtype=bool)
    closing[np.cumsum(counts)[counts > 0] - 1] = True  # the repeated first vertex
    encoded = encode_rings(xy[~closing], np.maximum(counts - 1, 0))
    out: list[list[list[str]]] = [[] for _ in range(len(geoms))]
    start = 0
    for geom, n in zip(owner.tolist(), per_part.tolist()):
        out[geom].append(encoded[start:start + n])
        start += n
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


def metres_per_unit(crs: object, latitude: float) -> tuple[float, float]:
    """Metres per unit of *crs* along x and y near *latitude* (degrees).

    For a geographic CRS the lengths of one degree of longitude and latitude on the
    WGS84/CGCS2000 ellipsoid (within 0.1 % over a city); for a projected CRS its
    linear unit (1.0 for metres), the same along both axes.

    Examples
    --------
    >>> [round(v) for v in metres_per_unit("EPSG:4490", 29.5)]
    [96966, 110844]
    >>> metres_per_unit("EPSG:4544", 29.5)
    (1.0, 1.0)
    """
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        lat = math.radians(latitude)
        along_lat = 111132.92 - 559.82 * math.cos(2 * lat) + 1.175 * math.cos(4 * lat)
        along_lon = 111412.84 * math.cos(lat) - 93.5 * math.cos(3 * lat)
        return along_lon, along_lat
    factor = float(crs.axis_info[0].unit_conversion_factor)
    return factor, factor


def _ring_areas(xy: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Unsigned area of each closed ring, rings given as their coordinates one after the other (shoelace)."""
    if len(xy) == 0:
        return np.zeros(len(counts))
    x = xy[:, 0] - xy[0, 0]  # small numbers: no cancellation for degrees
    y = xy[:, 1] - xy[0, 1]
    cross = np.empty(len(xy))
    np.subtract(x[:-1] * y[1:], x[1:] * y[:-1], out=cross[:-1])
    ends = np.cumsum(counts)
    cross[ends[counts > 0] - 1] = 0.0  # the step from one ring's last vertex to the next ring
    sums = np.add.reduceat(cross, np.minimum(ends - counts, len(xy) - 1))
    return np.where(counts > 0, np.abs(sums) / 2.0, 0.0)


def _simplify_rings(rings: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker of every ring on its own, in two threads when there is much to do (GEOS frees the GIL)."""
    counts = shapely.get_num_coordinates(rings)
    if counts.sum() < 200_000 or (os.cpu_count() or 1) < 2:
        return shapely.simplify(rings, tolerance, preserve_topology=False)
    cut = int(np.searchsorted(np.cumsum(counts), counts.sum() / 2))
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(lambda r: shapely.simplify(r, tolerance, preserve_topology=False), (rings[:cut], rings[cut:])))
    return np.concatenate(halves)


def thin_polygons(
    geoms: np.ndarray,
    tolerance: float,
    min_hole_area: float,
    *,
    unit_m: tuple[float, float] = (1.0, 1.0),
    max_vertices: int | None = None,
    max_tolerance: float | None = None,
) -> tuple[np.ndarray, float]:
    """(Multi)Polygons thinned for drawing: small holes filled, each ring simplified on its own.

    Service areas drawn from a raster carry hundreds of thousands of vertices and
    tens of thousands of pixel-sized holes; :func:`drop_small_holes` (a Python loop)
    and topology-preserving simplification (minutes on such polygons) do not scale.
    Here everything is one vectorised pass over all rings of all geometries: hole
    areas by the shoelace formula, holes smaller than ``max(min_hole_area, (2 *
    tolerance)²)`` dropped, every remaining ring simplified by Douglas-Peucker on its
    own (rings may then touch or cross by up to the tolerance -- invisible at the
    drawn scale); a hole that collapses is dropped, an outer ring that would collapse
    is kept as it was, so no part disappears.

    Parameters
    ----------
    geoms
        Polygons / MultiPolygons (other parts are skipped; None or empty gives None).
    tolerance
        Simplification tolerance in metres.
    min_hole_area
        Holes smaller than this (m²) are filled.
    unit_m
        Metres per CRS unit along x and y (:func:`metres_per_unit`); the tolerance is
        applied in CRS units as ``tolerance / max(unit_m)``, never coarser than asked.
    max_vertices
        Vertex budget of the result: while it is exceeded the tolerance is raised in
        proportion to the excess (at least 1.5 times; simplifying the original rings
        again each time) up to *max_tolerance*.
    max_tolerance
        Largest tolerance the budget may lead to (metres); None: no limit.

    Returns
    -------
    geometries : numpy.ndarray
        One MultiPolygon (or None) per input, same CRS.
    tolerance : float
        The tolerance used (metres).

    Examples
    --------
    >>> sq = shapely.Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(10, 10), (12, 10), (12, 12), (10, 12)]])
    >>> out, tol = thin_polygons(np.array([sq]), 5.0, 100.0)
    >>> out[0].geoms[0].equals(shapely.Polygon(sq.exterior)), tol
    (True, 5.0)
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polygon = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, owner = parts[polygon], owner[polygon]
    per_part = shapely.get_num_interior_rings(parts) + 1
    rings = shapely.get_rings(parts)
    ring_part = np.repeat(np.arange(len(parts)), per_part)
    shell = np.zeros(len(rings), dtype=bool)
    shell[np.cumsum(per_part) - per_part] = True
    area = _ring_areas(shapely.get_coordinates(parts), shapely.get_num_coordinates(rings)) * unit_m[0] * unit_m[1]
    scale = max(unit_m)
    while True:
        keep = shell | (area >= max(min_hole_area, (2.0 * tolerance) ** 2))
        kept = rings[keep]
        simple = _simplify_rings(kept, tolerance / scale)
        collapsed = shapely.get_num_coordinates(simple) < 4
        simple[collapsed & shell[keep]] = kept[collapsed & shell[keep]]
        usable = ~collapsed | shell[keep]
        n_vertices = int(shapely.get_num_coordinates(simple[usable]).sum())
        if max_vertices is None or n_vertices <= max_vertices or (max_tolerance is not None and tolerance >= max_tolerance):
            break
        # vertices fall about in proportion to the tolerance (faster, as holes go too): one more pass is usually enough
        tolerance *= max(1.5, n_vertices / max_vertices)
        tolerance = tolerance if max_tolerance is None else min(tolerance, max_tolerance)
    out = np.full(len(geoms), None, dtype=object)
    if len(parts):
        final = simple[usable]
        odd = np.flatnonzero(shapely.get_type_id(final) != 2)  # not a LinearRing any more (not seen in practice)
        final[odd] = [shapely.LinearRing(shapely.get_coordinates(g)) for g in final[odd]]
        polys = shapely.polygons(final, indices=ring_part[keep][usable])
        shapely.multipolygons(polys, indices=owner, out=out)
    return out, tolerance
