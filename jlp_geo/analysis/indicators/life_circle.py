"""15分钟高品质生活服务圈, 15分钟健身圈 and 一老一小: shares within walking time of services.

Read from the coverage result's per-node walk times and network distances:
:func:`life_circle_rows` (every category, all basic categories together, the walk-time
distribution and the worst-served H3 cells) and :func:`group_rows` (a group of
categories, any or all of them).
"""

from __future__ import annotations

from typing import Any

import h3
import numpy as np
import pandas as pd

from ...errors import InputDataError
from ..accessibility import BASIC
from .definitions import IndicatorDef
from .table import IndicatorRows
from .units import CoverageContext, add_shares, nan_to_inf, township_of

__all__ = ["group_rows", "life_circle_rows"]


def life_circle_rows(rows: IndicatorRows, ctx: CoverageContext, d: IndicatorDef, extra: dict[str, pd.DataFrame], gaps: list[str]) -> None:
    """Rows of 15分钟高品质生活服务圈, and its supporting tables.

    Parameters
    ----------
    rows
        The row collector to add to.
    ctx
        The coverage result with its weights and units.
    d
        The indicator's definition (``parameters.walk_time_bands_min``, ``worst_served_n``).
    extra
        Supporting tables; ``walk_time``, ``services`` and (with H3 cells and basic
        categories) ``worst_served`` are added.
    gaps
        Data gaps; appended to (categories with no facility found, or none on the network).
    """
    cov = ctx.coverage
    nodes = cov.nodes
    cats = cov.categories
    basic = [c for c in cats if c.basic]
    time_cov: dict[str, np.ndarray] = {}
    dist_cov: dict[str, np.ndarray] = {}
    empty: list[str] = []
    for c in cats:
        t = nan_to_inf(nodes[f"time_min_{c.id}"])
        time_cov[c.id] = t <= c.level_min
        if not np.isfinite(t).any():
            empty.append(c.id)
        if c.radius_m is not None:
            dist_cov[c.id] = nan_to_inf(nodes[f"dist_m_{c.id}"]) <= c.radius_m
    names_zh = "、".join(c.name_zh for c in basic)
    all_t = np.logical_and.reduce([time_cov[c.id] for c in basic]) if basic else np.zeros(len(nodes), bool)
    all_d = np.logical_and.reduce([dist_cov[c.id] for c in basic if c.id in dist_cov]) if basic else np.zeros(len(nodes), bool)
    basic_empty = [c.name_zh for c in basic if c.id in empty]
    status = "no_facility" if basic_empty else "computed"
    note = ("路网上无以下基本服务设施（覆盖率因而为0，多为OSM数据缺失） no such facility on the walk network: " + "、".join(basic_empty)) if basic_empty else ""
    note = "; ".join(x for x in (f"基本服务 basic categories: {names_zh}", note) if x)
    add_shares(rows, ctx, d.id, f"{BASIC}:time", "全部基本服务，各按5/10/15分钟步行", all_t, status, note)
    add_shares(rows, ctx, d.id, f"{BASIC}:dist", "全部基本服务，各按服务半径（路网）", all_d, status, note)
    for c in cats:
        st = "no_facility" if c.id in empty else "computed"
        add_shares(rows, ctx, d.id, f"{c.id}:time", f"{c.name_zh} {c.level_min}分钟步行", time_cov[c.id], st)
        if c.id in dist_cov:
            add_shares(rows, ctx, d.id, f"{c.id}:dist", f"{c.name_zh} 路网{c.radius_m:g}米", dist_cov[c.id], st)
    found = dict(zip(cov.service_summary["category"], cov.service_summary["n_found"]))
    absent = [c.name_zh for c in cats if c.id in empty and found.get(c.id, 0) == 0]
    off = [c.name_zh for c in cats if c.id in empty and found.get(c.id, 0) > 0]
    if absent:
        gaps.append("OSM中未找到以下类别的设施，其覆盖率为0（多为未绘制）: " + "、".join(absent)
                    + " (no facility of these categories in the OSM data: 0% usually means unmapped)")
    if off:
        gaps.append("以下类别的设施均不在步行网络上（距路网过远或位于孤立路段），其覆盖率为0: " + "、".join(off)
                    + " (facilities found but none on the walk network)")

    # walk-time distribution (population-weighted)
    bands = [float(b) for b in d.parameters.get("walk_time_bands_min", [5, 10, 15, 30])]
    show = [c for c in cats if c.basic or c.id in ("childcare", "sports", "fitness", "park_large", "rail_station")]
    recs = []
    w = ctx.weights
    total = w.sum()
    for c in show:
        t = nan_to_inf(nodes[f"time_min_{c.id}"])
        rec: dict[str, Any] = {"category": c.id, "name_zh": c.name_zh, "level_min": c.level_min}
        lo = -np.inf
        for b in bands:
            rec[f"≤{b:g}分钟" if lo == -np.inf else f"{lo:g}–{b:g}分钟"] = 100.0 * w[(t > lo) & (t <= b)].sum() / total if total else np.nan
            lo = b
        rec[f">{lo:g}分钟"] = 100.0 * w[np.isfinite(t) & (t > lo)].sum() / total if total else np.nan
        rec["不可达 unreachable"] = 100.0 * w[~np.isfinite(t)].sum() / total if total else np.nan
        recs.append(rec)
    extra["walk_time"] = pd.DataFrame(recs)

    # services found
    extra["services"] = cov.service_summary.copy()

    # worst-served places: H3 cells with the most person-category gaps among the basic categories
    hexes = cov.by_hex
    n_worst = int(d.parameters.get("worst_served_n", 10))
    if len(hexes) and basic:
        h = pd.DataFrame(hexes.drop(columns=hexes.geometry.name))
        h = h[h["population"] > 0].copy()
        shares = {c.id: h[f"share_time_{c.id}"].fillna(0.0) for c in basic}
        h["deficit"] = sum(h["population"] * (1.0 - s) for s in shares.values())
        h["share_basic_all"] = 100.0 * h[f"share_time_{BASIC}"].fillna(0.0)
        h["missing_zh"] = [
            "、".join(c.name_zh for c in basic if shares[c.id].loc[i] < 0.5) for i in h.index
        ]
        h = h.sort_values(["deficit", "population"], ascending=[False, False]).head(n_worst)
        lat_lon = [h3.cell_to_latlng(cell) for cell in h["h3_cell"]]
        h["lat"] = [round(a, 6) for a, _ in lat_lon]
        h["lon"] = [round(b, 6) for _, b in lat_lon]
        h["township"] = township_of(h["lon"].to_numpy(), h["lat"].to_numpy(), ctx.units)
        h.insert(0, "rank", np.arange(1, len(h) + 1))
        extra["worst_served"] = h[["rank", "h3_cell", "township", "lon", "lat", "population", "share_basic_all", "missing_zh", "deficit"]].reset_index(drop=True)


def group_rows(rows: IndicatorRows, ctx: CoverageContext, d: IndicatorDef) -> None:
    """15分钟健身圈 and 一老一小: per category and all together.

    Parameters
    ----------
    rows
        The row collector to add to.
    ctx
        The coverage result with its weights and units.
    d
        The indicator's definition: ``parameters.categories``, and ``minutes`` /
        ``radius_m`` when any one category within that walk counts (健身圈); without
        ``minutes`` every category must be within its own walking level (一老一小).

    Raises
    ------
    InputDataError
        If a category is not one of the coverage result's.
    """
    nodes = ctx.coverage.nodes
    by_id = {c.id: c for c in ctx.coverage.categories}
    ids = [c for c in d.parameters.get("categories", []) if c in by_id]
    missing = [c for c in d.parameters.get("categories", []) if c not in by_id]
    if missing:
        raise InputDataError(f"unknown service categories {missing}", where=f"layers/indicators.yml, indicator {d.id}",
                             fix="use ids of layers/service_categories.csv")
    times = {c: nan_to_inf(nodes[f"time_min_{c}"]) for c in ids}
    dists = {c: nan_to_inf(nodes[f"dist_m_{c}"]) for c in ids}
    empty = {c for c in ids if not np.isfinite(times[c]).any()}
    names = "、".join(by_id[c].name_zh for c in ids)
    if "minutes" in d.parameters:  # nearest of any category within one time / distance (健身圈)
        minutes = float(d.parameters["minutes"])
        radius = float(d.parameters.get("radius_m", np.inf))
        st = "no_facility" if empty == set(ids) else "computed"
        t_any = np.min(np.vstack([times[c] for c in ids]), axis=0) <= minutes
        d_any = np.min(np.vstack([dists[c] for c in ids]), axis=0) <= radius
        note = f"设施 facilities: {names}"
        add_shares(rows, ctx, d.id, "any:time", f"{minutes:g}分钟步行内有任一体育或健身设施", t_any, st, note)
        add_shares(rows, ctx, d.id, "any:dist", f"路网{radius:g}米内有任一体育或健身设施", d_any, st, note)
    else:  # every category at its own level (一老一小)
        st = "no_facility" if empty else "computed"
        t_all = np.logical_and.reduce([times[c] <= by_id[c].level_min for c in ids])
        d_all = np.logical_and.reduce([dists[c] <= (by_id[c].radius_m or np.inf) for c in ids])
        note = "; ".join(x for x in (f"设施 facilities: {names}", ("路网上无 none on the walk network: " + "、".join(by_id[c].name_zh for c in sorted(empty))) if empty else "") if x)
        add_shares(rows, ctx, d.id, "all:time", "三类同时覆盖，各按其步行层级", t_all, st, note)
        add_shares(rows, ctx, d.id, "all:dist", "三类同时覆盖，各按服务半径（路网）", d_all, st, note)
    for c in ids:
        cat = by_id[c]
        st = "no_facility" if c in empty else "computed"
        add_shares(rows, ctx, d.id, f"{c}:time", f"{cat.name_zh} {cat.level_min}分钟步行", times[c] <= cat.level_min, st)
        if cat.radius_m is not None:
            add_shares(rows, ctx, d.id, f"{c}:dist", f"{cat.name_zh} 路网{cat.radius_m:g}米", dists[c] <= cat.radius_m, st)
