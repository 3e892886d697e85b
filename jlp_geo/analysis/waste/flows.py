"""What flows where, stream by stream: origins, capacities, catchments and the optimal allocation.

For each stream of :data:`~jlp_geo.analysis.waste.parameters.STREAMS`, :func:`haul_stream` takes the
origins (镇街 centroids, or the user's construction sites), the capacity of each located facility, the
haul distances and the optimal allocation, and adds the haul, flow, catchment and facility-load rows to a
:class:`HaulContext`.  Facilities the plan does not place are listed but nothing is hauled to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ...crs import to_analysis
from ...sources.waste_inputs import PopulationData
from .figures import PlanFigures, format_plan_number
from .haul import network_costs, solve_transport, straight_line_costs, straight_line_label
from .parameters import Stream, WasteParameters
from .screens import route_dense_share, route_residential_length

__all__ = ["HaulContext", "haul_stream"]


def _township_origins(generation: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """One origin per 镇街: its centroid if inside, else a point on its surface (analysis CRS)."""
    g = to_analysis(generation, crs).geometry
    cent = g.centroid
    inside = g.contains(cent)
    pts = cent.where(inside, g.representative_point())
    return pts.x.to_numpy(), pts.y.to_numpy()


@dataclass
class HaulContext:
    """Inputs shared by the streams and the rows they produce.

    Attributes
    ----------
    fig, params
        The plan's figures and the stated parameters.
    crs
        Metric analysis CRS.
    fac, fac_a
        All plan facilities with ``located`` (storage CRS) and the same in the analysis CRS.
    generation
        镇街 in scope with generation per type (:func:`~jlp_geo.analysis.waste.generation.allocate_generation`).
    sites
        User construction sites (``attrs['types']``: the types they give), or None.
    network
        Drive network, or None (straight line × detour factor).
    haul_label
        How the haul distances were measured.
    residential
        Union of residential land (analysis CRS), or None.
    pop
        Population data, or None.
    haul_rows, flow_rows, flow_geoms, catch_rows, catch_geoms, load_rows
        Rows (and geometries) of the haul table, the flow and catchment layers and the facility load,
        filled by :func:`haul_stream`.
    site_assign
        ``{site index: {stream id: facility_id}}``: the catchment of each user site.
    notes
        Caveats found on the way.
    """

    fig: PlanFigures
    params: WasteParameters
    crs: str
    fac: gpd.GeoDataFrame
    fac_a: gpd.GeoDataFrame
    generation: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None
    network: Any
    haul_label: str
    residential: shapely.Geometry | None
    pop: PopulationData | None
    haul_rows: list[dict[str, Any]] = field(default_factory=list)
    flow_rows: list[dict[str, Any]] = field(default_factory=list)
    flow_geoms: list[Any] = field(default_factory=list)
    catch_rows: list[dict[str, Any]] = field(default_factory=list)
    catch_geoms: list[Any] = field(default_factory=list)
    load_rows: list[dict[str, Any]] = field(default_factory=list)
    site_assign: dict[int, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _stream_origins(stream: Stream, ctx: HaulContext) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, bool]:
    """Origins of a stream: the user's sites when they give one of its types, else the 镇街 centroids."""
    sites = ctx.sites
    if sites is not None and any(t in sites.attrs["types"] for t in stream.types):
        xy = to_analysis(sites, ctx.crs).geometry
        supply = sites[[t for t in stream.types if t in sites.columns]].sum(axis=1).to_numpy(float)
        return (list(sites["name_zh"].astype(str)), xy.x.to_numpy(), xy.y.to_numpy(), supply,
                sites["uncertainty_m"].to_numpy(float), "construction site 工地", True)
    gen = ctx.generation
    ox, oy = _township_origins(gen, ctx.crs)
    return (list(gen["name_zh"]), ox, oy, gen[list(stream.types)].sum(axis=1).to_numpy(float),
            gen["uncertainty_m"].to_numpy(float), "镇街 centroid 镇街形心", False)


def _stream_capacities(stream: Stream, ids: list[str], placed: list[str], supply: np.ndarray, ctx: HaulContext) -> tuple[list[float], list[str]]:
    """Capacity per located facility, per year in the stream's unit, and how it was obtained."""
    fig, params = ctx.fig, ctx.params
    if stream.id != "spoil_slurry":
        caps = [fig.capacity.get(fid, np.inf) for fid in placed]
        basis = [f"处理规模 {format_plan_number(fig.capacity[fid])} 万吨/年（{fig.capacity_clauses[fid]}）" if fid in fig.capacity else "规划未给出规模 no capacity stated"
                 for fid in placed]
        return caps, basis

    def fill(fid: str) -> float:
        vals = fig.fill_values(fid)
        return params.yandongwan_fill_for_allocation if (fid == "landfill_yandongwan" and len(vals) > 1) else vals[0]

    total = sum(fill(f) for f in ids if f in fig.fill)
    horizon = params.horizon_years or (total / supply.sum() if supply.sum() > 0 else np.inf)
    how = "参数 horizon" if params.horizon_years else "两座合计寿命 combined life"
    return [fill(f) / horizon for f in placed], [f"填方量 {format_plan_number(fill(f))} 万立方米 ÷ {horizon:.3f} 年（{how}）" for f in placed]


def haul_stream(stream: Stream, ctx: HaulContext) -> None:
    """Haul distances, catchments and the optimal allocation of one stream; rows go into *ctx*.

    Parameters
    ----------
    stream
        The stream (one of :data:`~jlp_geo.analysis.waste.parameters.STREAMS`).
    ctx
        Shared inputs; the stream's haul, flow, catchment and load rows and its notes are appended to it.
    """
    fig, params, fac = ctx.fig, ctx.params, ctx.fac
    ids = [fid for fid in stream.facilities if fid in set(fac["facility_id"])]
    placed = [fid for fid in ids if bool(fac.loc[fac["facility_id"] == fid, "located"].iloc[0])]
    for fid in ids:
        if fid in placed:
            continue
        f = fac[fac["facility_id"] == fid].iloc[0]
        ctx.load_rows.append({
            "facility_id": fid, "facility_zh": f["name_zh"], "stream": stream.id, "stream_zh": stream.name_zh, "located": False,
            "capacity": fig.capacity.get(fid, np.nan), "capacity_unit": "万吨/年" if fid in fig.capacity else "",
            "capacity_basis": "未定位，不参加运距分析 not located: excluded from the haul analysis", "intake": np.nan, "utilisation": np.nan,
            "cost": np.nan, "cost_unit": stream.cost_unit, "tonne_km": np.nan, "mean_haul_km": np.nan, "max_haul_km": np.nan,
            "haul_pm_km": np.nan, "n_origins": 0, "method": "", "note": f"{f.get('site_text', '') or '无场址'}",
        })
    if not placed:
        ctx.notes.append(f"{stream.name_zh}：接收设施均未定位，运距、服务范围和分配无法计算 — no located facility for {stream.name_en}")
        return
    names, ox, oy, supply, o_unc, kind, use_sites = _stream_origins(stream, ctx)
    if stream.id == "spoil_slurry":
        supply = supply * params.landfilled_share
    caps, cap_basis = _stream_capacities(stream, ids, placed, supply, ctx)
    mask = fac["facility_id"].isin(placed).to_numpy()
    pf = ctx.fac_a[mask].set_index(fac["facility_id"][mask].to_numpy()).loc[placed]
    fx, fy = pf.geometry.x.to_numpy(), pf.geometry.y.to_numpy()
    f_unc = np.nan_to_num(pf["uncertainty_m"].to_numpy(float), nan=0.0)
    if ctx.network is not None:
        hc = network_costs(ctx.network, ox, oy, fx, fy, detour=params.detour_factor, snap_max_m=params.snap_max_m)
    else:
        hc = straight_line_costs(ox, oy, fx, fy, params.detour_factor)
    pm = f_unc[None, :] / 1000.0 * np.where(hc.method == "network", 1.0, params.detour_factor)
    sol = solve_transport(supply, np.asarray(caps, float) * (1 + 1e-9), hc.km)
    nearest = np.argmin(np.where(np.isfinite(hc.km), hc.km, np.inf), axis=1)
    to_t = params.density_t_per_m3 if stream.volume else 1.0
    t_basis = f"×{format_plan_number(params.density_t_per_m3)} 吨/立方米（密度参数 density parameter）" if stream.volume else "规划单位为万吨 (plan unit 万吨)"
    basis = "user sites" if use_sites else ctx.generation["generation_basis"].iloc[0]
    ambiguous: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        order = np.argsort(hc.km[i])
        robust = True
        if len(order) > 1:
            robust = bool(hc.km[i, order[1]] - hc.km[i, order[0]] > pm[i, order[0]] + pm[i, order[1]])
        if not robust:
            ambiguous.setdefault(placed[int(nearest[i])], []).append(name)
        for j, fid in enumerate(placed):
            ctx.haul_rows.append({
                "stream": stream.id, "stream_zh": stream.name_zh, "origin": name, "origin_kind": kind, "facility_id": fid,
                "facility_zh": pf["name_zh"].iloc[j], "haul_km": hc.km[i, j], "haul_pm_km": pm[i, j], "method": hc.method[i, j],
                "nearest": bool(j == nearest[i]), "robust": robust, "quantity": supply[i], "quantity_unit": stream.unit,
                "allocated": float(sol.flow[i, j]), "unserved": float(sol.unserved[i]),
            })
            q = sol.flow[i, j]
            if q <= 1e-9:
                continue
            cost = q * hc.km[i, j]
            route = hc.routes[i][j]
            res_km = route_residential_length(route, ctx.residential) / 1000.0
            ctx.flow_rows.append({
                "name_zh": f"{name} → {pf['name_zh'].iloc[j]}", "name_en": f"{stream.name_en} haul",
                "source": f"{fig.document} {stream.clause}; {basis}; {ctx.haul_label if hc.method[i, j] == 'network' else hc.method[i, j]}",
                "precision": "schematic", "uncertainty_m": f_unc[j],
                "stream": stream.id, "stream_zh": stream.name_zh, "origin": name, "origin_kind": kind, "facility_id": fid,
                "facility_zh": pf["name_zh"].iloc[j], "quantity": q, "quantity_unit": stream.unit, "haul_km": hc.km[i, j],
                "haul_pm_km": pm[i, j], "method": hc.method[i, j], "cost": cost, "cost_unit": stream.cost_unit,
                "tonne_km": cost * to_t, "tonne_km_basis": t_basis, "route_km_residential": res_km,
                "route_share_residential": res_km / (route.length / 1000.0) if route.length > 0 and math.isfinite(res_km) else np.nan,
                "route_share_dense": route_dense_share(route, ctx.pop, params.dense_residential_per_km2),
                "origin_uncertainty_m": o_unc[i],
            })
            ctx.flow_geoms.append(route)
        if use_sites:
            ctx.site_assign.setdefault(i, {})[stream.id] = placed[int(nearest[i])]
    if sol.unserved.sum() > 1e-6:
        ctx.notes.append(f"{stream.name_zh}：能力不足，{sol.unserved.sum():.2f} {stream.unit} 未能分配 (unserved: capacity exhausted or no route)")
    for j, fid in enumerate(placed):
        q = sol.flow[:, j]
        cost = float((q * hc.km[:, j]).sum())
        all_network = bool((hc.method[:, j] == "network").all())
        ctx.load_rows.append({
            "facility_id": fid, "facility_zh": pf["name_zh"].iloc[j], "stream": stream.id, "stream_zh": stream.name_zh, "located": True,
            "capacity": caps[j], "capacity_unit": stream.unit, "capacity_basis": cap_basis[j], "intake": float(q.sum()),
            "utilisation": float(q.sum() / caps[j]) if caps[j] > 0 and math.isfinite(caps[j]) else np.nan,
            "cost": cost, "cost_unit": stream.cost_unit, "tonne_km": cost * to_t,
            "mean_haul_km": cost / q.sum() if q.sum() > 0 else np.nan,
            "max_haul_km": float(hc.km[q > 1e-9, j].max()) if (q > 1e-9).any() else np.nan,
            "haul_pm_km": float(f_unc[j] / 1000.0 * (1.0 if all_network else params.detour_factor)),
            "n_origins": int((q > 1e-9).sum()), "method": ctx.haul_label if all_network else straight_line_label(params.detour_factor),
            "note": f"位置不确定 ±{f_unc[j]:.0f} 米 (indicative point)" if f_unc[j] > 0 else "",
        })
    if use_sites:
        return
    gen = ctx.generation
    for j, fid in enumerate(placed):
        members = [n for i, n in enumerate(names) if nearest[i] == j]
        if not members:
            continue
        amb = ambiguous.get(fid, [])
        ctx.catch_rows.append({
            "name_zh": f"{pf['name_zh'].iloc[j]} 服务范围（{stream.name_zh}）", "name_en": f"Catchment of {fid} ({stream.name_en})",
            "source": f"nearest located facility by haul distance ({ctx.haul_label}); 镇街: {gen['source'].iloc[0]}",
            "precision": "schematic", "uncertainty_m": f_unc[j],
            "stream": stream.id, "stream_zh": stream.name_zh, "facility_id": fid, "facility_zh": pf["name_zh"].iloc[j],
            "members": "、".join(members), "n_origins": len(members),
            "quantity": float(supply[nearest == j].sum()), "quantity_unit": stream.unit,
            "ambiguous": "、".join(amb), "method": ctx.haul_label,
            "note": ("服务范围不稳健（运距差小于设施位置不确定）: " + "、".join(amb)) if amb else "",
        })
        parts = shapely.get_parts(shapely.union_all(gen.loc[gen["name_zh"].isin(members)].geometry.values))
        ctx.catch_geoms.append(shapely.multipolygons([g for g in parts if g.geom_type == "Polygon"]))  # one geometry type per layer
