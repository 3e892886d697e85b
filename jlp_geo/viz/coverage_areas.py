"""The service areas (isochrones) of the coverage map, thinned for display.

The service areas come from a raster of reachable street pieces: at district scale
millions of vertices and hundreds of thousands of pixel-sized holes.  The page draws
one category's area at a time at screen resolution, so :func:`isochrone_data`
thins all of them in one vectorised pass (:func:`jlp_geo.viz.geometry.thin_polygons`)
with a tolerance tied to the display and a vertex budget, and states the tolerance
used in the map's method notes.  The figures (shares, ``area_km2``) are never
computed from the thinned outlines.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from ..crs import to_display
from .escape import escape_text
from .geometry import encode_polygons_many, metres_per_unit, thin_polygons

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.accessibility import CoverageResult

__all__ = ["AREA_DISPLAY_PIXELS", "AREA_MAX_TOLERANCE_M", "AREA_MAX_VERTICES", "isochrone_data"]

#: Service-area outlines are simplified by at least their extent's diagonal / this (under
#: one pixel of a screen showing the whole area).
AREA_DISPLAY_PIXELS = 2000
#: Vertex budget of all drawn service areas together (about 4 bytes each on the page).
AREA_MAX_VERTICES = 400_000
#: The budget never simplifies service areas by more than this (metres).
AREA_MAX_TOLERANCE_M = 100.0


def isochrone_data(
    result: CoverageResult, cats: list[dict[str, Any]], simplify_m: float, min_hole_m2: float
) -> tuple[dict[str, Any], float]:
    """Service area of each category: ``{id: {"r": encoded polygons, "t": escaped caption}}``, and the tolerance used.

    Drawing only (the figures are not affected), vectorised over every ring of every
    area (:func:`~jlp_geo.viz.geometry.thin_polygons`): outlines simplified by at least
    *simplify_m* metres and at least :data:`AREA_DISPLAY_PIXELS`-th of the areas'
    diagonal (under one screen pixel when the whole area is in view), holes smaller
    than *min_hole_m2* (or than the square of twice the tolerance) filled, and the
    tolerance raised further while all areas together keep more than
    :data:`AREA_MAX_VERTICES` vertices (at most :data:`AREA_MAX_TOLERANCE_M`).

    Returns
    -------
    data : dict
        Per category id its encoded polygons and caption.
    tolerance : float
        The simplification tolerance used, metres (0 when nothing is drawn).
    """
    iso = result.isochrones
    if iso is None or len(iso) == 0 or "category" not in iso.columns:
        return {}, 0.0
    iso = iso[~(iso.geometry.isna() | iso.geometry.is_empty)]
    ids = {c["id"] for c in cats}
    iso = iso[iso["category"].isin(ids)]
    if len(iso) == 0:
        return {}, 0.0
    west, south, east, north = iso.total_bounds
    unit_m = metres_per_unit(iso.crs, (south + north) / 2)
    diagonal = math.hypot((east - west) * unit_m[0], (north - south) * unit_m[1])
    geoms, tolerance = thin_polygons(
        iso.geometry.values,
        max(simplify_m, diagonal / AREA_DISPLAY_PIXELS),
        min_hole_m2,
        unit_m=unit_m,
        max_vertices=AREA_MAX_VERTICES,
        max_tolerance=AREA_MAX_TOLERANCE_M,
    )
    shown = to_display(gpd.GeoDataFrame({"category": iso["category"].to_numpy()}, geometry=list(geoms), crs=iso.crs))
    out: dict[str, Any] = {}
    for cat, rings, minutes, area in zip(
        shown["category"],
        encode_polygons_many(shown.geometry.values),
        iso["minutes"] if "minutes" in iso.columns else [None] * len(iso),
        iso["area_km2"] if "area_km2" in iso.columns else [None] * len(iso),
    ):
        out[str(cat)] = {
            "r": rings,
            "t": escape_text(
                f"{minutes}分钟服务范围 {minutes}-minute service area"
                + (f"（{float(area):.2f} 平方公里 km²）" if area is not None and math.isfinite(float(area)) else "")
            ),
        }
    return out, tolerance
