"""The whole construction-waste analysis in one call, computed in memory.

:func:`analyse_waste` reads every input first (profile, 镇街, generation file, construction sites,
population, OSM), then allocates the generation (:mod:`.generation`), builds the drive network, hauls each
stream (:mod:`.flows`), screens the located facilities (:mod:`.screens`) and recomputes the balance
(:mod:`.balance`); it returns a :class:`~jlp_geo.analysis.waste.result.WasteResult` and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...config import Profile, load_profile
from ...crs import to_analysis, to_storage
from ...errors import InputDataError
from ...layers.common import finish_layer, user_layer
from ...notices import warn
from ...sources.plausibility import check_in_study_area, tolerances
from ...sources.waste_inputs import read_generation_file, read_population
from ..data_coverage import footprint_from_lonlat
from .balance import balance_table, landfill_life_table
from .facilities import facilities_from_user
from .figures import format_plan_number, plan_figures
from .flows import HaulContext, haul_stream
from .generation import allocate_generation, proxy_weights, scope_townships
from .haul import straight_line_label
from .parameters import STREAMS, TYPES, WasteParameters, load_parameters
from .result import WasteResult, layer_from_rows
from .screens import buffer_layer, receptor_layer, receptors_from_osm, siting_screens

__all__ = ["analyse_waste"]


def _load_osm(osm: Any, polygon: shapely.Geometry | None) -> Any:
    """OSM data clipped to *polygon*: an OsmData as given, or read from a file; None without OSM."""
    from ...sources.osm import OsmData, clip_osm

    if osm is None:
        return None
    if isinstance(osm, OsmData):
        return clip_osm(osm, polygon) if polygon is not None else osm
    from ...sources.osm import read_osm

    return read_osm(osm, polygon=polygon)


def _read_sites(sites: str | Path | gpd.GeoDataFrame, input_crs: str | None) -> gpd.GeoDataFrame:
    """The user's construction sites as points with non-negative quantities per type (``attrs['types']``)."""
    from ...sources.userfile import read_user_layer

    if isinstance(sites, gpd.GeoDataFrame):
        gdf = to_storage(sites)
        where = "sites layer"
    else:
        gdf = read_user_layer(sites, what="--sites", required=("name_zh",), input_crs=input_crs)
        where = f"--sites {sites}"
    cols = [t for t in TYPES if t in gdf.columns]
    if not cols:
        raise InputDataError(f"no quantity column; give any of {list(TYPES)} (plan units: spoil/slurry 万立方米/年, others 万吨/年)", where=where)
    for c in cols:
        num = pd.to_numeric(gdf[c], errors="coerce")
        bad = num.isna() & gdf[c].notna() | (num < 0)
        if bad.any():
            raise InputDataError(f"column {c}: not a non-negative number in feature(s) {[int(i) + 1 for i in np.flatnonzero(bad.to_numpy())][:10]}", where=where)
        gdf[c] = num.fillna(0.0)
    geoms = gdf.geometry
    gdf = gdf.set_geometry(geoms.where(geoms.geom_type == "Point", geoms.representative_point()))
    out = user_layer(gdf, "waste_sites", "indicative")
    out.attrs["types"] = cols
    return out


def analyse_waste(
    profile: Profile | str | Path | None = None,
    *,
    osm: Any = None,
    townships: str | Path | gpd.GeoDataFrame | None = None,
    generation_file: str | Path | None = None,
    sites_file: str | Path | gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    params: WasteParameters | None = None,
    proxy: str | None = None,
    input_crs: str | None = None,
) -> WasteResult:
    """Run the whole construction-waste analysis in memory.

    Parameters
    ----------
    profile
        Study-area profile or its YAML path (default ``layers/jiulongpo.yml``).
    osm
        ``.osm.pbf``/``.osm``/Overpass JSON path or :class:`~jlp_geo.sources.osm.OsmData`; enables the
        drive network and the receptor screens.  Without it: straight line × detour factor, labelled.
    townships
        Official 镇街 file or layer (default: the labelled approximation of :mod:`jlp_geo.layers.admin`).
    generation_file
        CSV of generation per 镇街 (see :func:`~jlp_geo.analysis.waste.read_generation_file`).
    sites_file
        Construction sites (GeoPackage/GeoJSON/Shapefile points, ``name_zh`` + quantity columns per type);
        the types they give are hauled from the sites instead of the 镇街.
    population
        Population GeoTIFF or census CSV (``name_zh,population``).
    facilities
        Facilities layer (default :func:`jlp_geo.layers.waste.build_waste_facilities`); needs ``facility_id``.
    params
        Stated parameters (default :func:`~jlp_geo.analysis.waste.load_parameters`).
    proxy
        Override of ``params.proxy``.
    input_crs
        ``gcj02``/``bd09`` for user files in Chinese web-map coordinates.

    Returns
    -------
    WasteResult
    """
    from ...layers import admin
    from ...layers.waste import build_waste_facilities
    from ...sources.userfile import read_user_layer

    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    params = params or load_parameters()
    crs = profile.analysis_crs
    fig = plan_figures(profile)
    notes: list[str] = []

    # ---- read every input first
    district = None
    if isinstance(townships, gpd.GeoDataFrame):
        towns_all = townships
    else:
        official = read_user_layer(townships, what="--townships", required=(), input_crs=input_crs) if townships is not None else None
        district = admin.build_district(profile)
        towns_all = admin.build_townships(profile, district, official=official)
    scope = scope_townships(towns_all, profile, params)
    scope_names = list(scope["name_zh"])
    user_gen = read_generation_file(generation_file, scope_names) if generation_file is not None else None
    sites = _read_sites(sites_file, input_crs) if sites_file is not None else None
    if sites is not None:  # sites must be in the district (tolerance: the profile's plausibility block)
        check_in_study_area(sites, to_storage(towns_all).geometry.union_all(), what=f"--sites {sites_file}", analysis_crs=crs,
                            tolerance_km=tolerances(profile)["user_layer_tolerance_km"], area_name=profile.name_zh)
    pop = read_population(population, crs) if population is not None else None
    polygon = to_storage(scope).geometry.union_all().buffer(0.05) if osm is not None else None  # ~5 km margin for routes
    data = _load_osm(osm, polygon)
    fac = facilities if facilities is not None else build_waste_facilities(profile)
    if facilities is not None and "facility_id" not in fac.columns and "name_zh" in fac.columns:
        fac = facilities_from_user(fac, build_waste_facilities(profile))  # a user's file: matched to the plan's facilities
    if "facility_id" not in fac.columns:
        raise InputDataError("the facilities layer has no facility_id column", where="waste facilities",
                             fix="use the ids of layers/waste_plan_facilities.csv (sorting_huayan, landfill_yandongwan, ...)")
    fac = to_storage(fac).reset_index(drop=True)

    # ---- generation by 镇街
    chosen, weights, proxy_label = proxy_weights(proxy or params.proxy, params, profile, scope, crs, user_gen, pop, notes)
    generation = allocate_generation(scope, fig, weights, proxy_label, user=user_gen)
    if user_gen is not None:
        for t in generation.attrs["user_types"]:
            diff = float(generation[t].sum()) - fig.generation[t]
            notes.append(f"用户{TYPES[t]['zh']}合计 {generation[t].sum():.2f} vs 规划 {fig.generation[t]} {TYPES[t]['unit']}（差 {diff:+.2f}）")
    if any(t not in generation.attrs["user_types"] for t in TYPES):
        notes.append(
            f"镇街产生量为估算：第三章只给全区总量，按{proxy_label}分摊到第二条的13个直管镇街 — generation per 镇街 is the plan total "
            f"allocated by {proxy_label}, an estimate, not data."
        )
    if bool(scope.get("is_schematic", pd.Series(False)).any()):
        notes.append("镇街边界为示意（非官方）；运距起点为镇街形心 — 镇街 boundaries are schematic; haul origins are 镇街 centroids.")

    # ---- network
    network = None
    if data is not None:
        from ...network import drive_network_from_osm

        try:
            network = drive_network_from_osm(data.nodes, data.ways, crs, source=data.provenance)
        except InputDataError as exc:
            notes.append(f"OSM 数据中没有可用的车行道路：运距改用直线估算 — no drivable road in the OSM data ({exc.what}); straight-line fallback used.")
    haul_label = (
        f"OSM车行路网最短距离 shortest distance on the OSM drive network ({data.provenance})" if network is not None
        else straight_line_label(params.detour_factor)
    )
    if network is None:
        notes.insert(0, f"运距为估算：没有OSM路网数据，采用{straight_line_label(params.detour_factor)}（参数 detour.factor，{params.detour_note}）")

    # ---- facilities: which are located
    fac_a = to_analysis(fac, crs)
    fac = fac.assign(located=np.asarray(~(fac_a.geometry.isna() | fac_a.geometry.is_empty), dtype=bool))
    stream_of = {fid: s.id for s in STREAMS for fid in s.facilities}
    fac["stream"] = fac["facility_id"].map(stream_of).fillna("")
    for _, f in fac[~fac["located"]].iterrows():
        notes.append(f"未定位 not located: {f['name_zh']} — 规划未给出可定位的场址，不参加运距分析 (excluded from haul; no site invented)")
    receptors = residential = None
    if data is not None:
        receptors = receptors_from_osm(data, params, crs)
        res = receptors[receptors["receptor"] == "residential"]
        residential = shapely.union_all(res.geometry.values) if len(res) else None
        if len(receptors) == 0:
            notes.append("OSM 数据中没有学校、医院、养老机构或居住用地 — no receptor found in the OSM data")

    # ---- haul, catchments and allocation per stream
    ctx = HaulContext(fig=fig, params=params, crs=crs, fac=fac, fac_a=fac_a, generation=generation, sites=sites,
                       network=network, haul_label=haul_label, residential=residential, pop=pop)
    for stream in STREAMS:
        haul_stream(stream, ctx)
    notes.extend(ctx.notes)
    if network is not None and ctx.haul_rows:  # the headline says how many pairs the network really served
        n_pairs = len(ctx.haul_rows)
        n_fell = sum(r["method"] != "network" for r in ctx.haul_rows)
        if n_fell:
            haul_label = (f"{haul_label}；其中 {n_fell}/{n_pairs} 对起讫点路网不通或超出数据范围，改用{straight_line_label(params.detour_factor)}"
                          f" — {n_fell} of {n_pairs} origin–facility pairs fell back to the straight-line estimate")
            line = warn(f"建筑垃圾运距：{n_fell}/{n_pairs} 对起讫点没有用上OSM路网（回退为直线×{params.detour_factor:g}） — "
                        f"waste haul: {n_fell} of {n_pairs} pairs fell back from the OSM drive network to straight line")
            notes.insert(0, line)

    # ---- assemble
    placed_fac = fac[fac["located"]]
    extent = None
    if data is not None:  # where the OSM extract does not reach, a screen says 无数据, never 0
        hull = footprint_from_lonlat(data.nodes["lon"].to_numpy(), data.nodes["lat"].to_numpy())
        extent = to_analysis(gpd.GeoDataFrame(geometry=[hull], crs="EPSG:4326"), crs).geometry.iloc[0] if hull is not None else shapely.Point()
    siting = siting_screens(placed_fac, params.buffers_m, receptors=receptors, receptor_names={c.id: c.name_zh for c in params.receptors},
                            population=pop, townships=scope if pop is not None and pop.kind == "census" else None, crs=crs,
                            data_extent=extent)
    if extent is not None and "data_coverage_osm" in siting.columns and (siting["data_coverage_osm"] < 0.98).any():
        n_nd = int((siting["data_coverage_osm"] < 0.98).sum())
        notes.insert(0, warn(f"邻避筛查：{n_nd}/{len(siting)} 个筛查范围不在OSM数据范围内，敏感目标数量记为 无数据 no data — "
                             f"{n_nd} of {len(siting)} screening circles lie outside the OSM extract: counts not given"))
    site_layer = None
    if sites is not None:
        site_layer = sites.copy()
        for st in STREAMS:
            site_layer[f"catchment_{st.id}"] = [ctx.site_assign.get(i, {}).get(st.id, "") for i in range(len(site_layer))]
        site_layer = finish_layer(site_layer, layer="waste_sites")
    method = {
        "haul": "network" if network is not None else "straight_line", "haul_label": haul_label, "proxy": chosen, "proxy_label": proxy_label,
        "population": pop.label if pop is not None else "未提供人口数据 no population data",
        "osm": data.provenance if data is not None else "未提供OSM数据 no OSM data",
    }
    if len(fig.fill_values("landfill_yandongwan")) > 1:
        notes.append("规划内部矛盾 Plan conflict — 岩洞湾填方量 312 万方（第十九条、附表4）vs 326 万立方米（第二十七条（二））：两值分别计算 both kept and computed.")
        if "landfill_yandongwan" in set(placed_fac["facility_id"]):
            notes.append(f"运量分配采用岩洞湾填方量 {format_plan_number(params.yandongwan_fill_for_allocation)} 万立方米（参数；寿命表两值并列）")
    notes.append(
        "设施位置为镇级估计点（±3–4 公里），运距、服务范围和邻避筛查均为示意；规划第二十七条的场址为“暂定”。"
        " Facility points are town-level estimates (±3–4 km): haul figures, catchments and screens are indicative."
    )
    return WasteResult(
        balance=balance_table(profile, params), landfill_life=landfill_life_table(profile, params),
        generation=finish_layer(generation, layer="waste_generation"), facilities=finish_layer(fac, layer="waste_facilities"),
        haul=pd.DataFrame(ctx.haul_rows), flows=layer_from_rows(ctx.flow_rows, ctx.flow_geoms, crs, "waste_flows"),
        catchments=layer_from_rows(ctx.catch_rows, ctx.catch_geoms, generation.crs, "waste_catchments"),
        facility_load=pd.DataFrame(ctx.load_rows), siting=siting, buffers=buffer_layer(placed_fac, params, crs),
        receptors=receptor_layer(receptors, placed_fac, params, crs), sites=site_layer, method=method, notes=notes,
        params=params, figures=fig,
    )
