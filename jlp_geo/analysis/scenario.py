"""The plan scenario (``--scenario plan``): coverage before and after the plan's new facilities.

:func:`analyse_scenario` adds the *located* planned facilities
(:func:`jlp_geo.layers.planned.build_planned_facilities`) of the life-circle
categories to the services of a finished coverage run and recomputes coverage
per category, 镇街, 组团 and the whole area.  Since a new service can only
shorten the way to the nearest one, the after-cost of every node is
``min(before, cost to the nearest new service)``: one multi-source run per
category from the new services only (the same engine), on the same network,
snapping and population weights as the "before" run -- so before and after
differ by the facilities and nothing else.

Planned facilities whose indicative location is less certain than
``max_uncertainty_m`` (e.g. a district-level centre with no site) are listed but
not used: a 15-minute walk cannot be measured from a point ±5 km off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import to_analysis, transform_xy
from ..settings import get_settings
from .accessibility import BASIC, BASIC_ZH, RULES, CoverageResult, group_nodes
from .coverage import nearest_by_category, snap_points
from .population import coverage_shares

__all__ = ["DEFAULT_MAX_UNCERTAINTY_M", "SCENARIO_HEADERS", "ScenarioResult", "analyse_scenario"]

#: planned facilities placed less precisely than this (metres) are not used in the scenario
DEFAULT_MAX_UNCERTAINTY_M = 1500.0
SCENARIO_HEADERS = {
    "unit_level": "统计单元层级",
    "unit": "统计单元",
    "category": "服务类别 category",
    "category_zh": "服务类别",
    "rule": "标准",
    "population": "人口(或节点数) population",
    "share_before": "规划前覆盖率 before",
    "share_after": "规划后覆盖率 after",
    "change": "变化 change",
    "n_added": "新增设施数 added",
}


@dataclass
class ScenarioResult:
    """Before/after coverage of the plan scenario.

    Attributes
    ----------
    table
        One row per unit × category × rule: ``population``, ``share_before``,
        ``share_after``, ``change``, ``n_added`` (see :data:`SCENARIO_HEADERS`).
    used
        The planned facilities added (analysis CRS) with their snapped ``node``.
    skipped
        Planned facilities not added, with ``reason``.
    after_nodes
        Per node ``dist_m_<category>`` / ``time_min_<category>`` after the plan.
    by_hex_after
        Shares after the plan per H3 cell of ``result.by_hex`` (index ``h3_cell``, columns
        ``share_<rule>_<category>`` as in ``by_hex``), for the map's before/after toggle.
    notes
        What was added and what was not, and why.
    """

    table: pd.DataFrame
    used: gpd.GeoDataFrame
    skipped: pd.DataFrame
    after_nodes: pd.DataFrame
    by_hex_after: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _select(planned: gpd.GeoDataFrame, cat_ids: set[str], max_uncertainty_m: float) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    has_geom = ~(planned.geometry.isna() | planned.geometry.is_empty)
    unc = pd.to_numeric(planned.get("uncertainty_m", np.nan), errors="coerce").fillna(0.0)
    reason = np.where(
        ~planned["category"].isin(cat_ids), "不是生活圈服务类别 not a life-circle category",
        np.where(~has_geom, "未定位 not located (the plan gives no site)",
                 np.where(unc > max_uncertainty_m, f"位置过于粗略 location uncertainty > {max_uncertainty_m:g} m", "")))
    ok = reason == ""
    skipped = pd.DataFrame(planned.loc[~ok].drop(columns=planned.geometry.name)).assign(reason=reason[~ok])
    return planned[ok], skipped


def analyse_scenario(
    result: CoverageResult,
    planned: gpd.GeoDataFrame,
    *,
    max_uncertainty_m: float = DEFAULT_MAX_UNCERTAINTY_M,
    snap_max_m: float = 200.0,
    min_component_size: int = 50,
) -> ScenarioResult:
    """Coverage before and after adding the located planned facilities.

    Parameters
    ----------
    result
        The "before" coverage run.
    planned
        Planned facilities with ``category``, ``name_zh``, ``uncertainty_m`` and point
        geometries (None where not located), any CRS.
    max_uncertainty_m
        Facilities placed less precisely than this are listed in ``skipped``.
    snap_max_m, min_component_size
        As in :func:`jlp_geo.analysis.accessibility.analyse_coverage` (use the same values).

    Returns
    -------
    ScenarioResult
    """
    network = result.network
    cats = {c.id: c for c in result.categories}
    used, skipped = _select(planned, set(cats), max_uncertainty_m)
    used = to_analysis(used, network.crs) if len(used) else gpd.GeoDataFrame(used, geometry=used.geometry.name, crs=planned.crs)
    notes = []
    if len(used):
        snapped = snap_points(network, used.geometry.x.to_numpy(), used.geometry.y.to_numpy(), snap_max_m, min_component_size=min_component_size)
        used = used.assign(node=snapped["node"].to_numpy(), snap_dist_m=snapped["dist_m"].to_numpy())
        off = used["node"] < 0
        if off.any():
            skipped = pd.concat([skipped, pd.DataFrame(used[off].drop(columns=used.geometry.name)).assign(
                reason=f"距步行网络超过 {snap_max_m:g} m off the walk network")], ignore_index=True)
            used = used[~off]
    else:
        used = used.assign(node=pd.Series(dtype=int))
    sources = {cid: np.unique(used.loc[used["category"] == cid, "node"].to_numpy(int)) for cid in cats}
    sources = {k: v for k, v in sources.items() if v.size}
    nodes = result.nodes
    after = {}
    new_d = nearest_by_category(network, sources, metric="length") if sources else pd.DataFrame()
    new_t = nearest_by_category(network, sources, metric="time") if sources else pd.DataFrame()
    covered: dict[str, dict[str, dict[str, np.ndarray]]] = {"before": {"time": {}, "dist": {}}, "after": {"time": {}, "dist": {}}}
    for cid, c in cats.items():
        d0 = np.nan_to_num(nodes[f"dist_m_{cid}"].to_numpy(float), nan=np.inf)
        t0 = np.nan_to_num(nodes[f"time_min_{cid}"].to_numpy(float), nan=np.inf)
        d1 = np.minimum(d0, new_d[cid].to_numpy()) if cid in sources else d0
        t1 = np.minimum(t0, new_t[cid].to_numpy() / 60.0) if cid in sources else t0
        after[f"dist_m_{cid}"], after[f"time_min_{cid}"] = np.where(np.isfinite(d1), d1, np.nan), np.where(np.isfinite(t1), t1, np.nan)
        for state, d, t in (("before", d0, t0), ("after", d1, t1)):
            covered[state]["time"][cid] = t <= c.level_min
            if c.radius_m is not None:
                covered[state]["dist"][cid] = d <= c.radius_m
    basic = [c for c in cats if cats[c].basic]
    for state in covered:
        for rule in covered[state]:
            cols = [covered[state][rule][b] for b in basic if b in covered[state][rule]]
            covered[state][rule][BASIC] = np.logical_and.reduce(cols) if cols else np.zeros(network.n_nodes, bool)
    levels: list[tuple[str, np.ndarray | None]] = [("全域 whole area", None)]
    if result.by_cluster is not None:
        levels.append(("组团 cluster", group_nodes(network, result.by_cluster, "name_zh")))
    if result.by_township is not None:
        levels.append(("镇街 township", group_nodes(network, result.by_township, "name_zh")))
    names = {cid: c.name_zh for cid, c in cats.items()} | {BASIC: BASIC_ZH}
    weights = result.population.weights
    frames = []
    for level, labels in levels:
        for rule in ("time", "dist"):
            for cid, cov0 in covered["before"][rule].items():
                s0 = coverage_shares(weights, cov0, labels)
                s1 = coverage_shares(weights, covered["after"][rule][cid], labels)
                frames.append(pd.DataFrame({
                    "unit_level": level,
                    "unit": ["全域 whole area"] if labels is None else list(s0.index),
                    "category": cid,
                    "category_zh": names[cid],
                    "rule": RULES[rule],
                    "population": s0["population"].to_numpy(),
                    "share_before": s0["share"].to_numpy(),
                    "share_after": s1["share"].reindex(s0.index).to_numpy(),
                    "n_added": int(sum(len(sources.get(b, [])) for b in (basic if cid == BASIC else [cid]))),
                }))
    table = pd.concat(frames, ignore_index=True)
    by_hex_after = _hex_shares(result, weights, covered["after"])
    table["change"] = table["share_after"] - table["share_before"]
    notes.append(
        f"规划情景 plan scenario: {len(used)} of {len(planned)} planned facilities added "
        f"(located, a life-circle category, uncertainty ≤ {max_uncertainty_m:g} m); {len(skipped)} listed but not used"
    )
    if len(used):
        notes.append("警告 planned sites are indicative (" + "; ".join(
            f"{n} ±{u:g} m" for n, u in zip(used.get("name_zh", used.index), pd.to_numeric(used.get("uncertainty_m", 0), errors="coerce").fillna(0))
        ) + "): the after-shares show the order of magnitude, not a site study")
    return ScenarioResult(table=table, used=used, skipped=skipped, after_nodes=pd.DataFrame(after),
                          by_hex_after=by_hex_after, notes=notes)


def _hex_shares(result: CoverageResult, weights: np.ndarray, covered: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame | None:
    """Shares per H3 cell of the before run's hex layer (same cells: nodes' CGCS2000 lon/lat, same resolution)."""
    hexes = result.by_hex
    if hexes is None or len(hexes) == 0 or "h3_cell" not in hexes.columns:
        return None
    import h3

    network = result.network
    res = h3.get_resolution(str(hexes["h3_cell"].iloc[0]))
    lon, lat = transform_xy(network.x, network.y, network.crs, get_settings().storage_crs)
    cells = np.array([h3.latlng_to_cell(la, lo, res) for lo, la in zip(lon, lat)])
    cols = {f"share_{rule}_{cid}": coverage_shares(weights, cov, cells)["share"]
            for rule, by_cat in covered.items() for cid, cov in by_cat.items()}
    return pd.DataFrame(cols).rename_axis("h3_cell")
