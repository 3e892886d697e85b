"""The ``isochrones`` layer: every category's walking service area within its life-circle minutes.

Drawn on one raster of the network (:mod:`jlp_geo.analysis.service_areas`); the coverage analysis runs
:func:`isochrone_layer` in a second process while it goes on (:mod:`jlp_geo.analysis.background`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from ..layers.categories import Category
from ..layers.common import finish_layer
from ..network import WalkNetwork
from .service_areas import MIN_HOLE_PIXELS, network_raster, service_area_on_raster

__all__ = ["isochrone_layer"]


def isochrone_layer(
    network: WalkNetwork, categories: list[Category], costs: dict[str, np.ndarray], service_kinds: str = "OSM",
    *, cost_unit: str = "s",
) -> gpd.GeoDataFrame:
    """The ``isochrones`` layer: each category's walking service area within its life-circle minutes.

    Parameters
    ----------
    network
        The walk network.
    categories
        The service categories (those in *costs* get an area).
    costs
        Category id -> walking time per node to its nearest service (inf or NaN: unreachable).
    cost_unit
        ``"s"`` (seconds) or ``"min"`` (minutes, e.g. the node layer's own columns, shared with the
        coverage result: converted one category at a time).
    service_kinds
        Where the services came from (for the ``source`` text).
    """
    rows, geoms = [], []
    raster = network_raster(network) if costs else None  # once for all categories
    for c in categories:
        if c.id not in costs:
            continue
        seconds = costs[c.id] * 60.0 if cost_unit == "min" else costs[c.id]
        geom = service_area_on_raster(network, raster, seconds, c.level_min * 60.0, metric="time")
        rows.append({
            "name_zh": f"{c.name_zh} {c.level_min}分钟服务范围",
            "name_en": f"{c.name_en} {c.level_min}-minute service area",
            "source": f"walk network ({network.source}); services from {service_kinds}; reachable street pieces "
                      f"±{raster.buffer_m:g} m, boundary to {raster.resolution_m:.3g} m (gaps under "
                      f"{MIN_HOLE_PIXELS} pixels filled)",
            "precision": "surveyed",
            "category": c.id,
            "category_zh": c.name_zh,
            "minutes": c.level_min,
            "area_km2": round(geom.area / 1e6, 4) if geom is not None else 0.0,
        })
        geoms.append(geom if geom is not None and not geom.is_empty else None)
    if rows:
        return finish_layer(rows, geoms, crs=network.crs, layer="isochrones")
    empty = gpd.GeoDataFrame(columns=["name_zh", "name_en", "source", "precision", "category", "minutes"], geometry=[], crs=network.crs)
    return finish_layer(empty, layer="isochrones")
