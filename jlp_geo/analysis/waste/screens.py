"""Who lives near the facilities and along the haul routes: the 邻避 siting screens.

People and sensitive receptors (schools, hospitals, care homes, residential land) within configurable
buffers of each located facility (:func:`siting_screens`, 第四条（五）), the screening circles and nearby
receptors as layers, and how much of a haul route runs through residential land or dense population
(:func:`route_residential_length`, :func:`route_dense_share`; 第十四条（二）: routes avoiding 人口密集区).
The facility points are town-level estimates, so every screen is indicative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from ...crs import to_analysis
from ...layers.common import finish_layer
from ...settings import get_settings
from ...sources.waste_inputs import PopulationData
from .generation import people_in
from .parameters import WasteParameters
from .result import layer_from_rows

__all__ = [
    "buffer_layer",
    "receptor_layer",
    "receptors_from_osm",
    "route_dense_share",
    "route_residential_length",
    "siting_screens",
]


def receptors_from_osm(osm: Any, params: WasteParameters, crs: str) -> gpd.GeoDataFrame:
    """Sensitive receptors (schools, hospitals, care homes, residential land) from OSM, in *crs*.

    Parameters
    ----------
    osm
        :class:`~jlp_geo.sources.osm.OsmData`.
    params
        Stated parameters (the receptor categories and their OSM tag rules).
    crs
        CRS of the result.

    Returns
    -------
    GeoDataFrame
        The matched features with ``receptor`` / ``receptor_zh`` (the category id and label).
    """
    from ...layers.services import services_from_osm

    rec = services_from_osm(osm, categories=list(params.receptors), crs=crs)
    rec = rec.rename(columns={"category": "receptor", "category_zh": "receptor_zh"})
    return rec


def siting_screens(
    facilities: gpd.GeoDataFrame,
    buffers_m: Sequence[float],
    *,
    receptors: gpd.GeoDataFrame | None = None,
    receptor_names: Mapping[str, str] | None = None,
    population: PopulationData | None = None,
    townships: gpd.GeoDataFrame | None = None,
    crs: str | None = None,
    data_extent: shapely.Geometry | None = None,
    full_share: float = 0.98,
) -> pd.DataFrame:
    """邻避 screens (第四条（五）): people and sensitive receptors near each located facility.

    Parameters
    ----------
    facilities
        Located facilities (any CRS) with ``facility_id``, ``name_zh``, ``uncertainty_m``.
    buffers_m
        Screening distances.
    receptors
        Receptor features (``receptor`` category column) from :func:`receptors_from_osm`, or None.
    receptor_names
        ``{receptor id: Chinese label}`` (also the categories reported when *receptors* is None).
    population
        Raster or census population; None = not assessed.
    townships
        镇街 polygons (for census totals).
    crs
        Metric CRS (default: settings' analysis CRS).
    data_extent
        Footprint of the OSM data (in *crs*).  Where it covers less than *full_share* of a screening circle
        the receptor counts are NaN and the note says ``无数据 no data`` (a count there would be a false 0).
    full_share
        Share of a circle the data must cover for its counts to be given.

    Returns
    -------
    DataFrame
        One row per facility × buffer: ``facility_id, name_zh, buffer_m, possible_radius_m`` (buffer +
        position uncertainty), ``population`` / ``population_possible`` and ``population_method``; per
        receptor category ``n_<id>``, ``n_<id>_possible``, ``nearest_m_<id>`` and ``names_<id>`` (up to
        10, untrusted OSM text), ``area_ha_residential`` for residential land; ``note``.
    """
    crs = crs or get_settings().analysis_crs
    fac = to_analysis(facilities, crs)
    towns = to_analysis(townships, crs) if townships is not None else None
    rec = to_analysis(receptors, crs) if receptors is not None and len(receptors) else receptors
    rnames = dict(receptor_names or {})
    rows = []
    for _, f in fac.iterrows():
        unc = float(f.get("uncertainty_m")) if pd.notna(f.get("uncertainty_m")) else 0.0
        for b in buffers_m:
            circle = f.geometry.buffer(b, 64)
            wide = f.geometry.buffer(b + unc, 64)
            row: dict[str, Any] = {
                "facility_id": f["facility_id"], "name_zh": f["name_zh"], "buffer_m": float(b), "possible_radius_m": float(b + unc),
            }
            if population is None:
                row.update(population=np.nan, population_possible=np.nan, population_method="未评估：没有人口数据 not assessed (no population data)")
            else:
                if population.kind == "raster":  # exact circles: cell centres closer than the radius
                    d = np.hypot(population.xs - f.geometry.x, population.ys - f.geometry.y)
                    people, possible = float(population.values[d < b].sum()), float(population.values[d < b + unc].sum())
                else:
                    people, possible = people_in(population, circle, towns), people_in(population, wide, towns)
                row.update(population=people, population_possible=possible, population_method=population.label)
            notes = []
            share = 1.0 if data_extent is None or rec is None else float(shapely.intersection(wide, data_extent).area / wide.area)
            row["data_coverage_osm"] = round(share, 4) if rec is not None else np.nan
            no_data = share < full_share
            if no_data:
                notes.append(f"无数据 no data：OSM 数据只覆盖此筛查范围的 {share:.0%}，敏感目标数量未给出 (the OSM extract covers "
                             f"{share:.0%} of this circle: counts would be a false 0)")
            for rid in rnames:
                if rec is None or no_data:
                    row.update({f"n_{rid}": np.nan, f"n_{rid}_possible": np.nan, f"nearest_m_{rid}": np.nan, f"names_{rid}": ""})
                    continue
                sub = rec[rec["receptor"] == rid]
                geoms = sub.geometry.values
                d = shapely.distance(f.geometry, geoms) if len(sub) else np.array([])
                within = d <= b
                row[f"n_{rid}"] = int(within.sum())
                row[f"n_{rid}_possible"] = int((d <= b + unc).sum())
                row[f"nearest_m_{rid}"] = float(d.min()) if d.size else np.nan
                names = [str(x) for x in sub.loc[within, "name_zh"] if str(x)]
                row[f"names_{rid}"] = "、".join(names[:10]) + ("…" if len(names) > 10 else "")
                if rid == "residential":
                    row["area_ha_residential"] = float(shapely.area(shapely.intersection(geoms[within], circle)).sum() / 1e4) if within.any() else 0.0
            if rec is None:
                notes.append("敏感目标未评估：没有OSM数据 receptors not assessed (no OSM data)")
            if unc > 0:
                notes.append(f"设施位置为估计点（±{unc:.0f} 米）：'possible' 列按 {b:.0f}+{unc:.0f} 米计 — indicative screen, not a site survey")
            row["note"] = "；".join(notes)
            rows.append(row)
    return pd.DataFrame(rows)


def route_residential_length(route: LineString | None, residential: shapely.Geometry | None) -> float:
    """Length of *route* through residential land, in the CRS unit (metres in the analysis CRS).

    Parameters
    ----------
    route
        Haul route, or None.
    residential
        Union of the residential-land polygons (same CRS), or None.

    Returns
    -------
    float
        The length inside; NaN without a route or residential land.
    """
    if route is None or residential is None or residential.is_empty:
        return float("nan")
    return float(route.intersection(residential).length)


def route_dense_share(route: LineString | None, pop: PopulationData | None, threshold: float, step_m: float = 50.0) -> float:
    """Share of *route* length through raster cells with density ≥ *threshold* (people/km²).

    Parameters
    ----------
    route
        Haul route in the analysis CRS, or None.
    pop
        Population data; only a raster gives a share.
    threshold
        Density counted as dense (people/km², ``dense_residential_per_km2``).
    step_m
        Spacing of the points sampled along the route.

    Returns
    -------
    float
        Share in [0, 1] of the sample points in a dense cell; NaN without route or raster.
    """
    if route is None or pop is None or pop.kind != "raster" or route.length == 0 or not pop.values.size:
        return float("nan")
    from scipy.spatial import cKDTree

    n = max(int(route.length // step_m), 1)
    pts = shapely.line_interpolate_point(route, (np.arange(n) + 0.5) / n, normalized=True)
    xy = shapely.get_coordinates(pts)
    tree = cKDTree(np.column_stack([pop.xs, pop.ys]))
    dist, idx = tree.query(xy)
    half_diag = math.sqrt(pop.cell_km2 * 1e6 / 2)
    dense = (pop.values[idx] / pop.cell_km2 >= threshold) & (dist <= half_diag)
    return float(dense.mean())


def buffer_layer(placed: gpd.GeoDataFrame, params: WasteParameters, crs: str) -> gpd.GeoDataFrame:
    """Screening circles around the located facilities.

    Parameters
    ----------
    placed
        Located facilities (any CRS) with ``facility_id``, ``name_zh``, ``source``, ``uncertainty_m``.
    params
        Stated parameters (``buffers_m``).
    crs
        Metric analysis CRS the circles are drawn in.

    Returns
    -------
    GeoDataFrame
        The ``waste_buffers`` layer, one circle per facility and buffer.
    """
    rows, geoms = [], []
    for _, f in to_analysis(placed, crs).iterrows():
        unc = float(f["uncertainty_m"]) if pd.notna(f["uncertainty_m"]) else 0.0
        for b in params.buffers_m:
            rows.append({"name_zh": f"{f['name_zh']} {b:.0f} 米", "name_en": f"{b:.0f} m screen", "source": f"{f['source']}; buffer {b:.0f} m (parameter)",
                         "precision": "indicative", "uncertainty_m": unc, "facility_id": f["facility_id"], "buffer_m": b})
            geoms.append(f.geometry.buffer(b, 64))
    return layer_from_rows(rows, geoms, crs, "waste_buffers")


def receptor_layer(receptors: gpd.GeoDataFrame | None, placed: gpd.GeoDataFrame, params: WasteParameters, crs: str) -> gpd.GeoDataFrame | None:
    """Receptors within the widest screen plus the facilities' position uncertainty (None without OSM).

    Parameters
    ----------
    receptors
        Output of :func:`receptors_from_osm` (in *crs*), or None.
    placed
        Located facilities (any CRS).
    params
        Stated parameters (``buffers_m``).
    crs
        Metric analysis CRS.

    Returns
    -------
    GeoDataFrame or None
        The ``waste_receptors`` layer.
    """
    if receptors is None:
        return None
    pa = to_analysis(placed, crs)
    near = receptors
    if len(pa) and len(receptors):
        unc = float(pa["uncertainty_m"].max()) if pa["uncertainty_m"].notna().any() else 0.0
        zone = shapely.union_all(pa.geometry.buffer(max(params.buffers_m) + unc).values)
        near = receptors[shapely.intersects(receptors.geometry.values, zone)]
    return finish_layer(near.assign(name_en=near["name_en"].fillna("")), layer="waste_receptors")
