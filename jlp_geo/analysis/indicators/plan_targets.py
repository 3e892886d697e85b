"""The plan's other spatial targets: 人均公园绿地, 路网密度, 人均避难面积, 建筑垃圾 80 %, and those no data supports.

Each indicator of ``layers/indicators.yml`` whose ``parameters.kind`` is one of
:data:`KINDS` is computed here:

* ``park_green_per_capita`` -- area of OSM park polygons (union, clipped to the district)
  ÷ residents, plus the figure a news feature gives (公园绿地面积 ÷ residents);
* ``road_density`` -- length of OSM roads of the given classes ÷ area, both for the whole
  district and inside OSM urban land use (a stand-in for the plan's 建成区);
* ``shelter_per_capita`` -- area of OSM emergency-shelter polygons ÷ residents;
* ``waste_recovery_15th`` -- the 十五五 80 % target beside the waste plan's own 70 % arithmetic;
* ``not_computable`` -- a row saying why the target cannot be computed.

Whole-district values from partial data (OSM) or another definition carry the status
``partial`` / ``definition_differs`` and are never judged "met / 是".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from ...config import Profile
from ...crs import to_analysis
from ...layers.shelters import load_shelter_tags
from .definitions import LEVEL_WHOLE, WHOLE_AREA, IndicatorDef
from .table import IndicatorRows
from .waste import plan_recovery_from_balance

__all__ = ["KINDS", "osm_area_m2", "osm_line_length_m", "plan_target_rows"]

KINDS = ("park_green_per_capita", "road_density", "shelter_per_capita", "waste_recovery_15th", "not_computable")
_NO_OSM = "未计算：无OSM数据 not computed: no OSM data (give --osm FILE.osm.pbf)"


def _matches(tags: object, rules: Mapping[str, list]) -> bool:
    if not isinstance(tags, dict):
        return False
    if str(tags.get("access", "")) == "private":
        return False
    return any(str(tags.get(k, "")) in [str(v) for v in vals] for k, vals in rules.items())


def _way_geoms(osm: Any, rules: Mapping[str, list], closed: bool) -> gpd.GeoSeries:
    """Polygons (closed ways) or lines of the ways whose tags match *rules*, in WGS84."""
    coords = dict(zip(osm.nodes["id"].to_numpy(), zip(osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy())))
    out = []
    for refs, tags in zip(osm.ways["refs"], osm.ways["tags"]):
        if not _matches(tags, rules):
            continue
        pts = [coords[r] for r in refs if r in coords]
        if closed:
            if len(refs) >= 4 and refs[0] == refs[-1] and len(pts) == len(refs):
                out.append(shapely.make_valid(Polygon(pts)))
        elif len(pts) >= 2:
            out.append(LineString(pts))
    return gpd.GeoSeries(out, crs="EPSG:4326")


def _metric(geoms: gpd.GeoSeries, crs: str) -> gpd.GeoSeries:
    return to_analysis(gpd.GeoDataFrame(geometry=geoms), crs).geometry


def osm_area_m2(osm: Any, rules: Mapping[str, list], crs: str, boundary: Any = None) -> float:
    """Area (m²) of the union of OSM closed ways matching *rules*, clipped to *boundary* (analysis CRS)."""
    g = _metric(_way_geoms(osm, rules, closed=True), crs)
    if not len(g):
        return 0.0
    u = shapely.union_all(g.to_numpy())
    return float((u.intersection(boundary) if boundary is not None else u).area)


def osm_line_length_m(osm: Any, rules: Mapping[str, list], crs: str, within: Any = None) -> float:
    """Length (m) of the OSM ways matching *rules*, clipped to *within* (analysis CRS)."""
    g = _metric(_way_geoms(osm, rules, closed=False), crs)
    if not len(g):
        return 0.0
    if within is not None:
        g = g.intersection(within)
    return float(g.length.sum())


def _shelter_tags() -> dict[str, list[str]]:
    """The emergency-shelter tag rules of ``layers/shelter_tags.csv`` (shared with the layer)."""
    out: dict[str, list[str]] = {}
    for k, v in load_shelter_tags():
        out.setdefault(k, []).append(v)
    return out


def _residents(profile: Profile) -> tuple[float, str]:
    pop = profile.population or {}
    n = pop.get("resident_end_2023")
    return (float(n), f"常住人口 {float(n) / 1e4:g} 万（{pop.get('source', '')}）") if n else (np.nan, "无人口数据 no population")


def plan_target_rows(rows: IndicatorRows, defs: Mapping[str, IndicatorDef], osm: Any, boundary: Any, crs: str,
                     profile: Profile, waste: Any, gaps: list[str], population: Any = None) -> None:
    """Rows of every indicator whose ``parameters.kind`` is one of :data:`KINDS`.

    Parameters
    ----------
    rows
        The row collector to add to.
    defs
        All indicator definitions.
    osm
        :class:`~jlp_geo.sources.osm.OsmData` clipped to the district, or None.
    boundary
        District polygon in *crs*, or None.
    crs
        Metric CRS for lengths and areas.
    profile
        Study-area profile (residents, with their source).
    waste
        The construction-waste analysis (its ``balance``), or None.
    gaps
        Data gaps; appended to.
    population
        The coverage result's :class:`~jlp_geo.analysis.population.PopulationWeights`: its total is the
        denominator when it counts people (raster or census); otherwise the profile's residents are used.
    """
    district = residents, pop_text = _residents(profile)
    if population is not None and getattr(population, "method", "unweighted") != "unweighted":
        residents, pop_text = float(np.sum(population.weights)), str(population.label)
    src = f"{osm.provenance} ({osm.licence})" if osm is not None else ""
    date = (osm.date or "unknown") if osm is not None else ""
    not_computable: list[str] = []
    for d in defs.values():
        p = d.parameters
        kind = p.get("kind")
        if kind not in KINDS:
            continue
        if kind == "not_computable":
            rows.add(d.id, "not_computable", "无法计算 not computable", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computable",
                     note=f"{p.get('reason_zh', '')} {p.get('reason_en', '')}".strip())
            not_computable.append(d.name_zh)
        elif kind == "park_green_per_capita":
            _park_rows(rows, d, osm, boundary, crs, residents, pop_text, src, date, gaps, district)
        elif kind == "road_density":
            _road_rows(rows, d, osm, boundary, crs, src, date, gaps)
        elif kind == "shelter_per_capita":
            if osm is None:
                rows.add(d.id, "osm_areas", "OSM避难场所面积 ÷ 人口", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=_NO_OSM)
                gaps.append(f"{d.name_zh}：{_NO_OSM}")
                continue
            tags = p.get("osm_tags") or _shelter_tags()
            area = osm_area_m2(osm, tags, crs, boundary)
            if area == 0:
                rows.add(d.id, "osm_areas", "OSM避难场所面积 ÷ 人口", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                         note="未计算：OSM中区内没有以面绘制的应急避难场所 not computed: no emergency shelter mapped as an area in OSM",
                         source=src, date=date)
                gaps.append(f"{d.name_zh}：OSM中无以面绘制的避难场所 (no shelter areas in OSM)")
                continue
            rows.add(d.id, "osm_areas", "OSM避难场所面积 ÷ 人口", LEVEL_WHOLE, WHOLE_AREA, area / residents, status="partial",
                     covered=area, population=residents, basis=pop_text, source=src, date=date,
                     note=f"{area:,.0f} m² ÷ {residents:,.0f} 人；OSM只含部分避难场所 (OSM holds only some shelters)")
        elif kind == "waste_recovery_15th":
            balance = getattr(waste, "balance", None) if waste is not None else None
            implied = plan_recovery_from_balance(balance) if balance is not None else None
            if implied is None:
                rows.add(d.id, "waste_plan_2027", "建筑垃圾规划2027年设计值", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed",
                         note="未计算：无建筑垃圾分析结果 not computed: no construction-waste analysis")
                continue
            pct, formula = implied
            rows.add(d.id, "waste_plan_2027", "建筑垃圾规划2027年设计值（直管范围）", LEVEL_WHOLE, WHOLE_AREA, pct,
                     status="definition_differs", source="jlp_geo.waste — 建筑垃圾规划 第七条、第八条（三）",
                     note=(f"{formula} = {pct:.2f}%：建筑垃圾规划按70%设计（2027年，直管范围）；十五五纲要要求“城市建筑垃圾资源化利用率达80%”"
                           "（2030年），范围与口径未说明是否相同 — the waste plan is designed for 70 % (2027, directly administered "
                           "area); the 十五五 plan asks 80 % (2030) without saying whether scope and definition are the same"))
    if not_computable:
        gaps.append(f"规划目标无法用现有数据计算（{len(not_computable)}项，原因见指标表） plan targets the data cannot support: "
                    + "、".join(not_computable))


def _park_rows(rows: IndicatorRows, d: IndicatorDef, osm: Any, boundary: Any, crs: str, residents: float, pop_text: str,
               src: str, date: str, gaps: list[str], district: tuple[float, str]) -> None:
    p = d.parameters
    fig = p.get("news_figure") or {}
    if fig and np.isfinite(district[0]):  # a figure for the whole district: divided by the district's residents
        area, people = float(fig["area_m2"]), district[0]
        rows.add(d.id, "news_figure", "新闻所载公园绿地面积 ÷ 全区常住人口", LEVEL_WHOLE, WHOLE_AREA, area / people,
                 status="definition_differs", covered=area, population=people, basis=district[1],
                 source=f"{fig.get('source', '')}（来源类别 news）", date=str(fig.get("date", "")),
                 note=(f"{area / 1e4:,.0f} 万m² ÷ {people / 1e4:g} 万人；规划“保持17平方米”应按城区人口计，全区常住人口口径不同 "
                       "(the plan's 17 m² is kept, so its denominator must be another population, e.g. urban residents)"))
    if osm is None:
        rows.add(d.id, "osm_parks", "OSM公园绿地面积 ÷ 人口", LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=_NO_OSM)
        gaps.append(f"{d.name_zh}（OSM）：{_NO_OSM}")
        return
    area = osm_area_m2(osm, p["osm_tags"], crs, boundary)
    rows.add(d.id, "osm_parks", "OSM公园绿地面积 ÷ 人口", LEVEL_WHOLE, WHOLE_AREA,
             area / residents if np.isfinite(residents) else np.nan, status="partial", covered=area, population=residents,
             basis=pop_text, source=src, date=date,
             note=f"{area:,.0f} m²（OSM公园面，合并后按区界裁剪）÷ {residents:,.0f} 人（{pop_text}）；OSM只含部分公园 (OSM maps only some parks)")


def _road_rows(rows: IndicatorRows, d: IndicatorDef, osm: Any, boundary: Any, crs: str, src: str, date: str,
               gaps: list[str]) -> None:
    p = d.parameters
    if osm is None:
        for m, mz in (("district", "全区道路长度 ÷ 区域面积"), ("urban_landuse", "OSM城镇用地内道路长度 ÷ 其面积（建成区近似）")):
            rows.add(d.id, m, mz, LEVEL_WHOLE, WHOLE_AREA, np.nan, status="not_computed", note=_NO_OSM)
        gaps.append(f"{d.name_zh}：{_NO_OSM}")
        return
    roads = {"highway": list(p["road_classes"])}
    area_km2 = boundary.area / 1e6 if boundary is not None else np.nan
    km = osm_line_length_m(osm, roads, crs, boundary) / 1000
    rows.add(d.id, "district", "全区道路长度 ÷ 区域面积", LEVEL_WHOLE, WHOLE_AREA, km / area_km2 if area_km2 else np.nan,
             status="definition_differs", covered=km, population=area_km2, basis="km / km²", source=src, date=date,
             note=f"{km:,.1f} km ÷ {area_km2:,.1f} km²；规划口径为建成区 (the plan's basis is the built-up area)")
    landuse = _metric(_way_geoms(osm, {"landuse": list(p["urban_landuse"])}, closed=True), crs)
    if not len(landuse):
        rows.add(d.id, "urban_landuse", "OSM城镇用地内道路长度 ÷ 其面积（建成区近似）", LEVEL_WHOLE, WHOLE_AREA, np.nan,
                 status="not_computed", note="未计算：OSM中无城镇用地面 not computed: no urban land use in OSM", source=src, date=date)
        gaps.append(f"{d.name_zh}：OSM中无城镇用地，建成区近似未计算 (no urban land use in OSM)")
        return
    built = shapely.union_all(landuse.buffer(float(p.get("landuse_buffer_m", 0))).to_numpy())
    if boundary is not None:
        built = built.intersection(boundary)
    bkm2 = built.area / 1e6
    bkm = osm_line_length_m(osm, roads, crs, built) / 1000
    rows.add(d.id, "urban_landuse", "OSM城镇用地内道路长度 ÷ 其面积（建成区近似）", LEVEL_WHOLE, WHOLE_AREA, bkm / bkm2 if bkm2 else np.nan,
             status="partial", covered=bkm, population=bkm2, basis="km / km²", source=src, date=date,
             note=f"{bkm:,.1f} km ÷ {bkm2:,.2f} km²（OSM城镇用地外扩{p.get('landuse_buffer_m', 0)}米）")
