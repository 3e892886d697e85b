"""How much construction waste each 镇街 generates: the plan's scope and the allocation of its totals.

The plan (第三章) gives district totals only.  :func:`allocate_generation` takes the user's figures per
镇街 when given and otherwise allocates the totals by a stated proxy (:func:`proxy_weights`: area,
population or construction activity) over the 13 directly administered 镇街 of 第二条
(:func:`scope_townships`).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...config import Profile
from ...crs import require_crs, to_analysis
from ...errors import InputDataError
from ...notices import warn
from ...sources.waste_inputs import PopulationData
from .figures import PlanFigures
from .parameters import PROXIES, TYPES, WasteParameters

__all__ = ["allocate_generation", "people_in", "proxy_weights", "scope_townships"]


def scope_townships(townships: gpd.GeoDataFrame, profile: Profile, params: WasteParameters) -> gpd.GeoDataFrame:
    """The 镇街 the plan covers (第二条: the 13 directly administered), in the profile's order.

    Parameters
    ----------
    townships
        镇街 layer with ``name_zh`` (any CRS, but with one).
    profile
        Study-area profile (which 镇街 are administered by whom).
    params
        Stated parameters (``administered_by``).

    Returns
    -------
    GeoDataFrame
        The 镇街 in scope, one row each.

    Raises
    ------
    InputDataError
        If the layer has no ``name_zh`` column or lacks a 镇街 in scope.
    """
    require_crs(townships, "镇街 layer")
    names = [t.name_zh for t in profile.townships if t.administered_by == params.administered_by]
    if "name_zh" not in townships.columns:
        raise InputDataError("the 镇街 layer has no name_zh column", where="镇街 layer", fix="build it with jlp_geo.layers.admin.build_townships")
    missing = [n for n in names if n not in set(townships["name_zh"])]
    if missing:
        raise InputDataError(f"the 镇街 layer lacks {'、'.join(missing)}", where="镇街 layer", fix="give all 13 directly administered 镇街 (第二条)")
    out = townships[townships["name_zh"].isin(names)].copy()
    out["_order"] = out["name_zh"].map({n: i for i, n in enumerate(names)})
    return out.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def people_in(pop: PopulationData, geom_a: shapely.Geometry, towns_a: gpd.GeoDataFrame | None = None) -> float:
    """People inside a polygon (analysis CRS): raster cell centres, or census totals × area share.

    Parameters
    ----------
    pop
        Raster or census population.
    geom_a
        The polygon, in the analysis CRS.
    towns_a
        镇街 polygons in the analysis CRS (census only: each 镇街 total counts by the share of its area
        inside the polygon).

    Returns
    -------
    float
        People inside; NaN for census data without *towns_a*.
    """
    if pop.kind == "raster":
        inside = shapely.contains_xy(geom_a, pop.xs, pop.ys)
        return float(pop.values[inside].sum())
    if towns_a is None:
        return float("nan")
    total = 0.0
    for name, g in zip(towns_a["name_zh"], towns_a.geometry):
        if name in (pop.totals or {}) and g is not None and g.area > 0:
            total += pop.totals[name] * g.intersection(geom_a).area / g.area
    return total


def proxy_weights(
    chosen: str, params: WasteParameters, profile: Profile, scope: gpd.GeoDataFrame, crs: str,
    user_gen: pd.DataFrame | None, pop: PopulationData | None, notes: list[str],
) -> tuple[str, dict[str, float], str]:
    """Resolve the allocation proxy: ``(proxy, {name_zh: weight}, label)``.

    ``auto`` takes the user's activity column when there is one, else population when given, else
    ``params.proxy_fallback``.

    Parameters
    ----------
    chosen
        One of :data:`~jlp_geo.analysis.waste.parameters.PROXIES`.
    params
        Stated parameters (the fallback proxy).
    profile
        Study-area profile (official 镇街 areas).
    scope
        The 镇街 in scope (:func:`scope_townships`).
    crs
        Metric analysis CRS (population rasters).
    user_gen
        Output of :func:`jlp_geo.sources.waste_inputs.read_generation_file`, or None.
    pop
        Population data, or None.
    notes
        Caveats are appended here (e.g. 镇街 missing from the census).

    Returns
    -------
    tuple
        ``(proxy used, {name_zh: weight}, label of the weights)``.

    Raises
    ------
    InputDataError
        If the proxy is unknown or its data is missing.
    """
    names = list(scope["name_zh"])
    if chosen not in PROXIES:
        raise InputDataError(f"unknown proxy {chosen!r}", where="proxy", fix=f"use one of {list(PROXIES)}")
    if chosen == "auto":
        if user_gen is not None and "activity" in user_gen.columns:
            chosen = "activity"
        elif pop is not None:
            chosen = "population"
        else:
            chosen = params.proxy_fallback
    if chosen == "activity":
        if user_gen is None or "activity" not in user_gen.columns:
            raise InputDataError("proxy 'activity' needs a generation file with an activity column", where="--generation")
        return chosen, {n: float(user_gen["activity"].get(n, 0.0)) for n in names}, f"施工活动 construction activity ({user_gen.attrs.get('source')})"
    if chosen == "population":
        if pop is None:
            raise InputDataError("proxy 'population' needs population data", where="--population", fix="give a GeoTIFF or a census CSV")
        if pop.kind == "census":
            weights = {n: float(pop.totals.get(n, 0.0)) for n in names}
        else:
            weights = {n: people_in(pop, g) for n, g in zip(names, to_analysis(scope, crs).geometry)}
        empty = [n for n in names if not weights.get(n, 0.0) > 0]
        if not empty:
            return chosen, weights, f"人口 population ({pop.label})"
        # a population basis that misses some 镇街 would put all their waste on the others: never silently
        fallback = params.proxy_fallback if params.proxy_fallback != "population" else "area"
        line = warn(
            f"人口数据只覆盖 {len(names) - len(empty)}/{len(names)} 个镇街（缺 {'、'.join(empty[:6])}{'…' if len(empty) > 6 else ''}），"
            f"建筑垃圾产生量改按{'镇街官方面积' if fallback == 'area' else fallback}分摊 — the population data ({pop.label}) gives no "
            f"people for {len(empty)} of {len(names)} 镇街 in scope: generation allocated by {fallback} instead"
        )
        notes.append(line)
        chosen = fallback
        if chosen == "activity":
            return proxy_weights(chosen, params, profile, scope, crs, user_gen, None, notes)
    area = {t.name_zh: t.area_km2 for t in profile.townships}
    return chosen, {n: area[n] for n in names}, "镇街官方面积 official 镇街 area"


def allocate_generation(
    townships: gpd.GeoDataFrame,
    figures: PlanFigures,
    weights: Mapping[str, float],
    proxy_label: str,
    *,
    user: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Generation per 镇街: the user's figures per type when given, else the plan total × weight share.

    Parameters
    ----------
    townships
        The 镇街 in scope (``name_zh`` + polygons).
    figures
        The plan's totals (第七条).
    weights
        ``{name_zh: proxy weight}`` (area, population or activity); shares are weight / Σ weights.
    proxy_label
        What the weights are (written into every row).
    user
        Output of :func:`~jlp_geo.analysis.waste.read_generation_file`; its type columns replace the allocation for those types
        (镇街 it does not list get 0).

    Returns
    -------
    GeoDataFrame
        One row per 镇街 with ``proxy``, ``proxy_weight``, ``share``, one column per type of :data:`~jlp_geo.analysis.waste.TYPES`
        (plan units), ``spoil_slurry``, ``construction_demolition``, ``generation_basis`` and the
        provenance columns.  Allocated columns sum exactly to the plan totals.
    """
    names = list(townships["name_zh"])
    w = np.array([float(weights.get(n, 0.0)) for n in names])
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise InputDataError(f"allocation weights must be non-negative with a positive sum ({proxy_label})", where="generation proxy")
    share = w / w.sum()
    out = townships.copy()
    out["proxy"] = proxy_label
    out["proxy_weight"] = w
    out["share"] = share
    user_types = [t for t in TYPES if user is not None and t in user.columns]
    for t in TYPES:
        if t in user_types:
            out[t] = [float(user[t].get(n, 0.0)) if pd.notna(user[t].get(n, np.nan)) else 0.0 for n in names]
        else:
            out[t] = figures.generation[t] * share
    out["spoil_slurry"] = out["spoil"] + out["slurry"]
    out["construction_demolition"] = out["construction"] + out["demolition"]
    allocated = [t for t in TYPES if t not in user_types]
    parts = []
    if user_types:
        parts.append(f"用户数据 user figures ({user.attrs.get('source', 'user file')}): {', '.join(TYPES[t]['zh'] for t in user_types)}")
    if allocated:
        parts.append(f"规划总量按{proxy_label}分摊 plan totals (第七条) allocated by {proxy_label}: {', '.join(TYPES[t]['zh'] for t in allocated)}")
    out["generation_basis"] = "; ".join(parts)
    out.attrs["user_types"] = user_types
    return out
