"""Scoring the units against the service checklist (基础保障 / 品质提升 / 特色引导).

Per unit and category, from the coverage engine's per-node walk times (``access_nodes``):

* ``n_inside`` — facilities of the category inside the unit's territory (OSM, included and on the network);
* ``share_time`` — population-weighted share of the unit's residents within the category's time rule
  (``level_min`` minutes); ``share_dist`` — within its radius (network metres; NaN where no radius);
* ``met`` — ``share_time ≥ met_share`` (有 / 缺); NaN share (no residents) gives no verdict (无数据);
* ``per_10k`` / ``norm_per_10k`` / ``per_capita`` — facilities inside per 10,000 residents against the
  count norm of ``layers/service_norms.csv`` (one per 5/10/15-minute circle, GB 50180-2018; every norm
  there is marked unverified); 无数据 where a category has no norm or the unit no residents.  Norms in
  capacity (seats, beds per 1,000) need facility capacities, which OSM does not hold.

The unit score is the share of the 基础保障 categories met; the gap list names, in plain Chinese, every
category not met with its share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from ...layers.categories import Category
from ..completeness import load_norms
from .parameters import CircleParameters, category_level

__all__ = ["NO_DATA", "gap_text", "score_units"]

NO_DATA = "无数据"


def score_units(
    labels: np.ndarray,
    weights: np.ndarray,
    nodes: pd.DataFrame,
    categories: list[Category],
    territories: list[shapely.Geometry],
    services: pd.DataFrame,
    service_xy: np.ndarray,
    params: CircleParameters,
) -> pd.DataFrame:
    """Long checklist: one row per unit × category.

    Parameters
    ----------
    labels
        Unit per node (-1 = none).
    weights
        Residents per node.
    nodes
        ``access_nodes`` (node order) with ``time_min_<id>`` and ``dist_m_<id>``.
    categories
        Service categories.
    territories
        Territory per unit (analysis CRS).
    services
        Services with ``category``, ``included``, ``off_network``.
    service_xy
        A representative point per service row (analysis CRS), shape (n, 2).
    params
        ``met_share`` and the level names.

    Returns
    -------
    DataFrame
        Columns ``unit``, ``category``, ``category_zh``, ``level``, ``basic``, ``minutes``, ``radius_m``,
        ``n_inside``, ``population``, ``share_time``, ``share_dist``, ``met``, ``per_10k``, ``norm_per_10k``,
        ``per_capita`` (text).
    """
    n_units = len(territories)
    w = np.asarray(weights, dtype=float)
    inside = labels >= 0
    pop = np.bincount(labels[inside], weights=w[inside], minlength=n_units)
    usable = services["included"].astype(bool).to_numpy() & ~services["off_network"].astype(bool).to_numpy()
    unit_of_service = np.full(len(services), -1, dtype=np.int64)
    if len(services) and n_units:
        pts = shapely.points(service_xy)
        tree = shapely.STRtree(np.asarray(territories, dtype=object))
        s_idx, t_idx = tree.query(pts, predicate="within")
        unit_of_service[s_idx] = t_idx
    cats = services["category"].to_numpy()
    norms = load_norms()
    rows = []
    for c in categories:
        t = np.nan_to_num(nodes[f"time_min_{c.id}"].to_numpy(dtype=float), nan=np.inf)
        d = np.nan_to_num(nodes[f"dist_m_{c.id}"].to_numpy(dtype=float), nan=np.inf)
        cov_t = np.bincount(labels[inside], weights=(w * (t <= c.level_min))[inside], minlength=n_units)
        cov_d = np.bincount(labels[inside], weights=(w * (d <= c.radius_m))[inside], minlength=n_units) if c.radius_m else None
        mine = usable & (cats == c.id) & (unit_of_service >= 0)
        n_in = np.bincount(unit_of_service[mine], minlength=n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            share_t = np.where(pop > 0, cov_t / pop, np.nan)
            share_d = np.where(pop > 0, cov_d / pop, np.nan) if cov_d is not None else np.full(n_units, np.nan)
        met = np.where(np.isnan(share_t), None, share_t >= params.met_share - 1e-12)
        norm = float(norms.loc[c.id, "norm_per_10k"]) if c.id in norms.index else np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            per_10k = np.where(pop > 0, n_in / pop * 1e4, np.nan)
        verified = str(norms.loc[c.id, "verified"]) if c.id in norms.index else ""
        per_capita = [
            NO_DATA if not (np.isfinite(v) and np.isfinite(norm)) else
            f"{v:.2f} 处/万人（标准 {norm:g}{'' if verified == 'official' else '，未核实'}）{'✓' if v >= norm - 1e-12 else '✗'}"
            for v in per_10k
        ]
        rows.append(pd.DataFrame({
            "unit": np.arange(n_units),
            "category": c.id,
            "category_zh": c.name_zh,
            "level": category_level(c, params),
            "basic": c.basic,
            "minutes": c.level_min,
            "radius_m": c.radius_m if c.radius_m else np.nan,
            "n_inside": n_in,
            "population": pop,
            "share_time": share_t,
            "share_dist": share_d,
            "met": met,
            "per_10k": per_10k,
            "norm_per_10k": norm,
            "per_capita": per_capita,
        }))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def gap_text(rows: pd.DataFrame) -> str:
    """Plain-Chinese gap list of one unit's checklist rows, 基础保障 first (e.g. ``基础保障缺：幼儿园（5分钟可达 42%）``)."""
    if not rows["met"].notna().any():
        return NO_DATA
    chunks = []
    ordered = rows.sort_values("basic", ascending=False, kind="stable")
    for level in dict.fromkeys(ordered["level"]):
        lack = ordered[(ordered["level"] == level) & ordered["met"].eq(False)]
        if len(lack):
            items = "、".join(f"{r.category_zh}（{int(r.minutes)}分钟可达 {r.share_time:.0%}）" for r in lack.itertuples())
            chunks.append(f"{level}缺：{items}")
    return "；".join(chunks) if chunks else "无缺项"
