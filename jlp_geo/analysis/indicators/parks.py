"""公园绿化活动场地服务半径覆盖率: who lives within a park's service radius.

:func:`park_service_coverage` marks the walk-network nodes within each park tier's
radius, by network distance and in a straight line; :func:`park_rows` turns that into
population shares per unit, plus the 城市体检 basis -- the share of OSM residential
land within the straight-line radii.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...crs import to_analysis
from ...errors import InputDataError
from ...layers.services import service_access_points, services_from_osm
from ..accessibility import DEFAULT_MIN_COMPONENT, DEFAULT_SNAP_M, RESIDENTIAL_LAND
from ..coverage import CoverageWarning, nearest_by_category, snap_points
from .definitions import LEVEL_WHOLE, WHOLE_AREA, IndicatorDef
from .table import IndicatorRows
from .units import CoverageContext, NodeUnits, add_shares

__all__ = ["park_rows", "park_service_coverage"]


def park_service_coverage(coverage: Any, tiers: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Which walk-network nodes lie within a park tier's service radius.

    Parameters
    ----------
    coverage
        A :class:`~jlp_geo.analysis.accessibility.CoverageResult` (its network, services in the
        analysis CRS and nodes).
    tiers
        Dicts with ``id``, ``categories`` (service-category ids whose features count),
        ``min_area_m2`` and ``radius_m`` (``layers/indicators.yml``).

    Returns
    -------
    DataFrame
        One row per node: ``net_<tier>`` / ``line_<tier>`` (bool) per tier, and
        ``network`` / ``straight_line`` (covered by any tier).  ``attrs['parks']``
        holds the parks of each tier (GeoDataFrame, analysis CRS) and
        ``attrs['counts']`` the number per tier (all / on the network).

    Notes
    -----
    *Network*: parks are reached at their edge -- boundary points every 25 m
    (:func:`~jlp_geo.layers.services.service_access_points`), snapped to the network
    with the coverage analysis' defaults (≤ 200 m, network parts ≥ 50 nodes), then
    one multi-source Dijkstra per tier on network metres.  *Straight line*: the
    Euclidean distance from the node to the park polygon (0 inside).
    """
    net = coverage.network
    services = coverage.services
    if services.crs is not None and services.crs != net.crs:
        services = to_analysis(services, net.crs)
    pts = shapely.points(net.x, net.y)
    cols: dict[str, np.ndarray] = {}
    parks_by_tier: dict[str, gpd.GeoDataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    included = services["included"].astype(bool) if "included" in services.columns else pd.Series(True, index=services.index)
    for tier in tiers:
        tid = str(tier["id"])
        sel = services[services["category"].isin(list(tier["categories"])) & included]
        sel = sel[sel.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        sel = sel[sel.geometry.area >= float(tier["min_area_m2"])]
        parks = sel.drop_duplicates(subset=["osm_type", "osm_id"]).reset_index(drop=True)
        parks_by_tier[tid] = parks
        radius = float(tier["radius_m"])
        # network distance
        access = service_access_points(parks) if len(parks) else None
        sources = np.array([], dtype=np.int64)
        if access is not None and len(access):
            snapped = snap_points(net, access.geometry.x.to_numpy(), access.geometry.y.to_numpy(), DEFAULT_SNAP_M,
                                  min_component_size=DEFAULT_MIN_COMPONENT)
            sources = np.unique(snapped.loc[~snapped["off_network"], "node"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            dist = nearest_by_category(net, {tid: sources}, metric="length")[tid].to_numpy()
        cols[f"net_{tid}"] = dist <= radius
        # straight line
        line = np.zeros(net.n_nodes, dtype=bool)
        if len(parks):
            tree = shapely.STRtree(parks.geometry.to_numpy())
            idx = tree.query(pts, predicate="dwithin", distance=radius)
            line[np.unique(idx[0])] = True
        cols[f"line_{tid}"] = line
        n_on = 0
        if access is not None and len(access):
            acc_ok = ~snapped["off_network"].to_numpy(dtype=bool)
            n_on = int(pd.Series(acc_ok).groupby(access["service_index"].to_numpy()).any().sum())
        counts[tid] = {"parks": len(parks), "on_network": n_on}
    out = pd.DataFrame(cols)
    out["network"] = out[[c for c in out.columns if c.startswith("net_")]].any(axis=1)
    out["straight_line"] = out[[c for c in out.columns if c.startswith("line_")]].any(axis=1)
    out.attrs["parks"] = parks_by_tier
    out.attrs["counts"] = counts
    return out


def _residential_area_shares(
    residential: gpd.GeoDataFrame,
    parks_by_tier: Mapping[str, gpd.GeoDataFrame],
    tiers: Sequence[Mapping[str, Any]],
    units: NodeUnits,
    boundary: shapely.Geometry | None,
) -> dict[str, pd.DataFrame]:
    """Share of residential area within the straight-line radii, whole area and per unit (m² and %)."""
    res = residential[residential.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    land = shapely.union_all(shapely.make_valid(res.geometry.to_numpy())) if len(res) else shapely.Polygon()
    if boundary is not None:
        land = land.intersection(boundary)
    buffers = []
    for tier in tiers:
        parks = parks_by_tier.get(str(tier["id"]))
        if parks is not None and len(parks):
            buffers.append(shapely.union_all(parks.geometry.buffer(float(tier["radius_m"]), quad_segs=16).to_numpy()))
    reach = shapely.union_all(buffers) if buffers else shapely.Polygon()
    covered_land = land.intersection(reach)

    def share(area_geom: shapely.Geometry | None) -> tuple[float, float]:
        total = land if area_geom is None else land.intersection(area_geom)
        cov = covered_land if area_geom is None else covered_land.intersection(area_geom)
        return float(cov.area), float(total.area)

    out = {LEVEL_WHOLE: pd.DataFrame([share(None)], index=[WHOLE_AREA], columns=["covered_m2", "total_m2"])}
    for level, polys in units.polygons.items():
        vals = [share(g) for g in polys.geometry]
        out[level] = pd.DataFrame(vals, index=[str(n) for n in polys["name_zh"]], columns=["covered_m2", "total_m2"])
    return out


def park_rows(rows: IndicatorRows, ctx: CoverageContext, d: IndicatorDef, osm: Any, boundary: shapely.Geometry | None,
              extra: dict[str, pd.DataFrame], gaps: list[str]) -> None:
    """Rows of 公园绿化活动场地服务半径覆盖率: network, straight line and residential-area basis.

    Parameters
    ----------
    rows
        The row collector to add to.
    ctx
        The coverage result with its weights and units.
    d
        The indicator's definition (``parameters.tiers``).
    osm
        :class:`~jlp_geo.sources.osm.OsmData` for the residential land, or None (that
        measure is then "not computed").
    boundary
        District polygon in the analysis CRS the residential land is clipped to, or None.
    extra
        Supporting tables; ``park_tiers`` is added.
    gaps
        Data gaps; appended to.

    Raises
    ------
    InputDataError
        If a tier names a service category the coverage result does not have.
    """
    tiers = d.parameters.get("tiers") or []
    known = {c.id for c in ctx.coverage.categories}
    unknown = sorted({c for t in tiers for c in t["categories"]} - known)
    if unknown:
        raise InputDataError(f"park tiers name unknown service categories {unknown}",
                             where=f"layers/indicators.yml, indicator {d.id}, parameters.tiers",
                             fix=f"use ids of layers/service_categories.csv, e.g. {sorted(known & {'park_small', 'park_large'})}")
    pc = park_service_coverage(ctx.coverage, tiers)
    counts = pc.attrs["counts"]
    tier_text = "；".join(f"{t.get('name_zh', t['id'])}" for t in tiers)
    none_found = all(c["parks"] == 0 for c in counts.values())
    status = "no_facility" if none_found else "computed"
    add_shares(rows, ctx, d.id, "network", f"路网距离（{tier_text}）", pc["network"].to_numpy(), status=status)
    add_shares(rows, ctx, d.id, "straight_line", f"直线距离（{tier_text}）", pc["straight_line"].to_numpy(), status=status)
    extra["park_tiers"] = pd.DataFrame(
        [
            {
                "tier": str(t["id"]),
                "name_zh": t.get("name_zh", ""),
                "categories": "、".join(t["categories"]),
                "min_area_m2": float(t["min_area_m2"]),
                "radius_m": float(t["radius_m"]),
                "parks": counts[str(t["id"])]["parks"],
                "parks_on_network": counts[str(t["id"])]["on_network"],
                "share_network_pct": 100.0 * float(np.average(pc[f"net_{t['id']}"], weights=ctx.weights)) if ctx.weights.sum() > 0 else np.nan,
                "share_straight_pct": 100.0 * float(np.average(pc[f"line_{t['id']}"], weights=ctx.weights)) if ctx.weights.sum() > 0 else np.nan,
            }
            for t in tiers
        ]
    )
    # residential-area basis (the 城市体检 indicator's own): needs the OSM data itself
    measure_zh = f"直线距离，居住用地面积口径（{tier_text}）"
    if osm is None:
        rows.add(d.id, "straight_line_residential_area", measure_zh, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note="未计算：未提供OSM数据本身（居住用地） not computed: the OSM data itself (residential land) was not given",
                 source=ctx.source, date=ctx.date)
        gaps.append("居住用地面积口径未计算：未提供OSM数据 (residential-area basis of the park indicator: no OSM data given)")
        return
    residential = services_from_osm(osm, [RESIDENTIAL_LAND], crs=ctx.crs)
    if len(residential) == 0:
        rows.add(d.id, "straight_line_residential_area", measure_zh, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                 note="未计算：OSM中无居住用地 not computed: no residential land mapped in the OSM data", source=ctx.source, date=ctx.date)
        gaps.append("OSM中无居住用地，公园指标的居住用地面积口径未计算 (no residential land in the OSM data)")
        return
    shares = _residential_area_shares(residential, pc.attrs["parks"], tiers, ctx.units, boundary)
    basis = "OSM居住用地面积（平方米） residential land area, m² (OSM landuse=residential, residential buildings)"
    for level, table in shares.items():
        for name, r in table.iterrows():
            ok = r["total_m2"] > 0
            rows.add(d.id, "straight_line_residential_area", measure_zh, level, str(name),
                     100.0 * r["covered_m2"] / r["total_m2"] if ok else np.nan,
                     status="no_facility" if none_found and ok else ("computed" if ok else "no_nodes"),
                     note="" if ok else "单元内无OSM居住用地 no residential land mapped in the unit",
                     covered=r["covered_m2"], population=r["total_m2"], basis=basis, source=ctx.source, date=ctx.date)
