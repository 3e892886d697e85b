"""The indicator funnel: every plan indicator the data allows, and the gap where it does not.

:func:`analyse_indicators` reads the inputs once (OSM file, district boundary, CRS),
hands the coverage result to the row functions of each indicator family and ranks the
组团 / 镇街 by their basic-service coverage.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ...config import Profile, load_profile
from ...crs import metric_crs_for, to_analysis, to_storage
from ...layers.admin import build_district
from ...sources.osm import read_osm
from .definitions import LEVEL_CLUSTER, LEVEL_TOWNSHIP, LEVEL_WHOLE, WHOLE_AREA, IndicatorDef, load_indicator_definitions
from .life_circle import group_rows, life_circle_rows
from .parks import park_rows
from .plan_targets import plan_target_rows
from .rail import rail_rows, station_rows
from .table import IndicatorResult, IndicatorRows, date_of
from .units import CoverageContext, node_units
from .waste import waste_rows

__all__ = ["OSM_INDICATORS", "analyse_indicators"]

#: indicators computed from the OSM data: judged against a target only where the data covers the whole unit
OSM_INDICATORS = ("park_service_radius", "life_circle_15min", "fitness_15min", "elderly_young", "rail_length", "rail_station_catchment")


def _not_computed_coverage(rows: IndicatorRows, defs: Mapping[str, IndicatorDef], reason: str) -> None:
    heads = {
        "park_service_radius": [("network", "路网距离"), ("straight_line", "直线距离"), ("straight_line_residential_area", "直线距离，居住用地面积口径")],
        "life_circle_15min": [("basic_all:time", "全部基本服务，各按5/10/15分钟步行"), ("basic_all:dist", "全部基本服务，各按服务半径（路网）")],
        "fitness_15min": [("any:time", "15分钟步行内有任一体育或健身设施")],
        "elderly_young": [("elderly_care:time", "养老 5分钟步行"), ("childcare:time", "托育 5分钟步行"), ("kindergarten:time", "幼儿园 5分钟步行")],
    }
    for ind, measures in heads.items():
        if ind in defs:
            for m, mz in measures:
                rows.add(ind, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=reason)


def analyse_indicators(
    *,
    profile: Profile | None = None,
    coverage: Any = None,
    osm: Any = None,
    waste: Any = None,
    townships: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    rail_stations: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    definitions: Mapping[str, IndicatorDef] | str | Path | None = None,
) -> IndicatorResult:
    """Compute every plan indicator the data allows, and state the gap where it does not.

    Parameters
    ----------
    profile
        Study-area profile (document citations, analysis CRS, district polygon); default
        ``layers/jiulongpo.yml``.
    coverage
        :class:`~jlp_geo.analysis.accessibility.CoverageResult`, or None (the coverage indicators are
        then rows with status "not computed: no OSM data" -- not zeros).
    osm
        :class:`~jlp_geo.sources.osm.OsmData` or a path to an OSM file (read clipped to
        *boundary*): rail length and the residential-area basis of the park indicator.
    waste
        The construction-waste analysis: any object with a ``.balance`` DataFrame; optional
        ``.rates`` (mapping with keys naming 资源化/resource and 综合/comprehensive, in %
        or as fractions), ``.targets`` (DataFrame), ``.landfill_life`` (years: a number, a
        mapping/Series per landfill, or a DataFrame), ``.notes``, ``.source``.  None = the
        waste rows say "not computed".
    townships, clusters
        镇街 / 组团 polygons (``name_zh``; 镇街 with ``cluster``); default the coverage
        result's own.
    rail_stations
        Station points replacing the OSM stations for the 800 m catchment.
    boundary
        District polygon for clipping rail and residential land; default the profile's
        district (cnmaps) when OSM data is given.
    definitions
        Indicator definitions (mapping or YAML path); default ``layers/indicators.yml``.

    Returns
    -------
    IndicatorResult
    """
    profile = profile or load_profile()
    defs = dict(definitions) if isinstance(definitions, Mapping) else load_indicator_definitions(definitions)
    rows = IndicatorRows(defs, profile)
    extra: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    gaps: list[str] = []
    provenance: dict[str, str] = {
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "profile": f"{profile.name_zh} {profile.name_en}",
    }

    if coverage is not None:
        crs = str(coverage.network.crs)
    else:
        crs = profile.analysis_crs
    if osm is not None and not hasattr(osm, "ways"):
        if boundary is None:
            boundary = build_district(profile)
        osm = read_osm(osm, polygon=to_storage(boundary).geometry.union_all())
    if osm is not None and coverage is None:
        lon, lat = float(osm.nodes["lon"].median()), float(osm.nodes["lat"].median())
        crs, crs_note = metric_crs_for(lon, lat, profile.analysis_crs)
        if crs_note:
            notes.append(crs_note)
    if osm is not None and boundary is None:
        boundary = build_district(profile)
    boundary_poly = to_analysis(boundary, crs).geometry.union_all() if boundary is not None else None
    if osm is not None:
        provenance["osm"] = f"{osm.provenance} ({osm.licence})"
    elif coverage is None:
        provenance["osm"] = "无 none — 覆盖类指标未计算 (coverage indicators not computed)"
    provenance["waste"] = (str(getattr(waste, "source", "") or "jlp_geo.waste") if waste is not None
                           else "无 none — 建筑垃圾指标未计算 (waste indicators not computed)")
    provenance["crs"] = f"lengths and areas measured in {crs}"

    ctx = None
    reason = ""
    if coverage is not None:
        towns = townships if townships is not None else coverage.by_township
        clus = clusters if clusters is not None else coverage.by_cluster
        net = coverage.network
        units = node_units(net.x, net.y, str(net.crs), towns, clus)
        ctx = CoverageContext(
            coverage=coverage,
            weights=np.asarray(coverage.population.weights, dtype=float),
            basis=coverage.population.label,
            source=coverage.provenance.get("osm", net.source),
            date=date_of(coverage.provenance.get("osm", "")),
            units=units,
            crs=str(net.crs),
        )
        provenance["coverage_osm"] = ctx.source
        provenance["population"] = ctx.basis
        provenance["walk"] = f"{net.speed_m_per_min:g} m/min on level ground; DEM: {coverage.provenance.get('dem', 'none')}"
        if units.schematic:
            provenance["townships"] = "镇街边界为示意（按面积的近似边界，非法定边界） schematic 镇街 boundaries, not legal ones"
        if coverage.population.method == "unweighted":
            gaps.append("无人口数据：覆盖率为路网节点占比，不代表人口比例 (no population data: shares are of walk-network nodes, not people)")
        if "park_service_radius" in defs:
            park_rows(rows, ctx, defs["park_service_radius"], osm, boundary_poly, extra, gaps)
        if "life_circle_15min" in defs:
            life_circle_rows(rows, ctx, defs["life_circle_15min"], extra, gaps)
        for ind in ("fitness_15min", "elderly_young"):
            if ind in defs:
                group_rows(rows, ctx, defs[ind])
        notes.extend(coverage.notes)
    else:
        if osm is None:
            reason = ("未计算：无OSM数据 not computed: no OSM data — give --osm FILE.osm.pbf "
                      "(e.g. Geofabrik chongqing-latest.osm.pbf) or run jlp-geo fetch when online")
        else:
            reason = ("未计算：未提供覆盖分析结果 not computed: no coverage analysis was given "
                      "(jlp_geo.report.run_report computes it from the OSM data)")
        _not_computed_coverage(rows, defs, reason)
        gaps.append("15分钟生活圈、公园覆盖、健身圈、一老一小与站点覆盖未计算：" + reason.split("：", 1)[1])
    if "rail_length" in defs:
        rail_rows(rows, defs["rail_length"], osm, boundary_poly, crs, profile, extra, gaps, notes)
    if "rail_station_catchment" in defs:
        station_rows(rows, ctx, defs["rail_station_catchment"], rail_stations, gaps, reason)
    waste_rows(rows, defs, waste, extra, gaps, notes)
    plan_target_rows(rows, defs, osm, boundary_poly, crs, profile, waste, gaps,  # 人均公园绿地, 路网密度, 避难, 80 %, the rest
                     population=coverage.population if coverage is not None else None)

    table = rows.frame()
    partial = getattr(getattr(coverage, "data_coverage", None), "partial_units", dict)()
    if partial:  # figures from data that covers only part of a unit are marked and never judged against the target
        from_osm = table["indicator"].isin(OSM_INDICATORS) | table["data_source"].fillna("").astype(str).str.contains("OpenStreetMap")
        osm_based = from_osm & table["value"].notna()
        for unit, label in partial.items():
            hit = osm_based & (table["unit"] == unit)
            table.loc[hit, "meets"] = "未判定（数据不全）not judged: partial data"
            table.loc[hit, "note"] = [f"{n}；{label}" if n else label for n in table.loc[hit, "note"]]
        gaps.append(f"数据不全：{len(partial)} 个统计单元的覆盖类指标只基于部分数据，未判定是否达标 (partial data: not judged against targets)")
    basic = [c.id for c in coverage.categories if c.basic] if coverage is not None else []
    extra["ranking"] = _ranking(table, basic)
    return IndicatorResult(table=table, definitions=defs, extra=extra, notes=notes, gaps=list(dict.fromkeys(gaps)),
                           provenance=provenance, profile=profile)


def _ranking(table: pd.DataFrame, basic: Sequence[str]) -> pd.DataFrame:
    """组团 and 镇街 ranked by the share covered by all basic services (time rule), then by the mean basic share."""
    cols = ["unit_level", "unit", "rank", "share_basic_all", "mean_basic_share", "population"]
    lc = table[(table["indicator"] == "life_circle_15min") & table["unit_level"].isin([LEVEL_CLUSTER, LEVEL_TOWNSHIP])]
    if lc.empty:
        return pd.DataFrame(columns=cols)
    head = lc[lc["measure"] == "basic_all:time"].set_index(["unit_level", "unit"])
    out = head[["value", "population"]].rename(columns={"value": "share_basic_all"})
    per = lc[lc["measure"].isin([f"{b}:time" for b in basic])]
    out = out.join(per.groupby(["unit_level", "unit"])["value"].mean().rename("mean_basic_share")).reset_index()
    out = out.sort_values(["unit_level", "share_basic_all", "mean_basic_share"], ascending=[True, False, False], na_position="last")
    out["rank"] = out.groupby("unit_level").cumcount() + 1
    out.loc[out["share_basic_all"].isna(), "rank"] = np.nan
    return out[cols].reset_index(drop=True)
