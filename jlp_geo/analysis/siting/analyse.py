"""补短板 siting per category on top of a coverage analysis: where to add facilities, and how many.

:func:`analyse_siting` takes a :class:`~jlp_geo.analysis.accessibility.CoverageResult` — the walk network,
the population per node and the existing facilities found for each category — so demand, rule and
existing coverage are exactly those of ``jlp-geo coverage``.  For each category:

1. existing facilities (snapped as the coverage engine snaps them) are fixed: what they already cover is
   removed from the demand, and their nodes are never candidates;
2. candidates come from the planner's file or are generated (:mod:`.candidates`);
3. sparse coverage sets from bounded searches (:mod:`.sets`), merged demand groups, then the model
   (:mod:`.models`): MCLP with ``p`` sites, the fewest sites reaching a target share, or LSCP;
4. the answer is checked by one independent multi-source search with the new sites added: the covered
   population reported is that search's, not the model's own count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ...errors import InputDataError
from ...layers.categories import Category
from ...layers.common import finish_layer
from ...layers.services import service_access_points
from ..accessibility import DEFAULT_MIN_COMPONENT, DEFAULT_SNAP_M, CoverageResult
from ..coverage import snap_points
from .candidates import candidates_from_land, thin_to_grid
from .fewest import lscp_exact, lscp_greedy, min_sites_exact, min_sites_greedy
from .median import pmedian_category
from .models import (
    CoverProblem,
    Solution,
    cover_problem,
    greedy_guarantee,
    mclp_exact,
    mclp_greedy,
)
from .parameters import MODELS, SitingParameters, load_siting_parameters
from .result import DEMAND_STATUS_ZH, CategorySiting, SitingResult, site_layer
from .sets import coverage_sets, covered_nodes

__all__ = ["analyse_siting", "existing_nodes"]


def existing_nodes(coverage: CoverageResult, category: str) -> np.ndarray:
    """Network nodes of the existing facilities of *category*, snapped as the coverage engine snaps them."""
    services = coverage.services
    mine = services[(services["category"] == category) & services["included"].astype(bool)]
    if len(mine) == 0:
        return np.empty(0, dtype=np.int64)
    access = service_access_points(mine)
    snap = snap_points(coverage.network, access.geometry.x.to_numpy(), access.geometry.y.to_numpy(), DEFAULT_SNAP_M,
                       min_component_size=DEFAULT_MIN_COMPONENT)
    nodes = snap["node"].to_numpy()
    return np.unique(nodes[nodes >= 0]).astype(np.int64)


def _rule(category: Category, rule: str, notes: list[str]) -> tuple[str, float, str]:
    if rule == "dist" and category.radius_m is None:
        notes.append(f"{category.name_zh}: 无服务半径 (no radius in layers/service_categories.csv): 改用时间标准 time rule")
        rule = "time"
    if rule == "dist":
        return "dist", float(category.radius_m), "m"
    return "time", float(category.level_min), "min"


def _solve(problem: CoverProblem, model: str, p: int | None, need: float | None, time_limit: float) -> tuple[Solution, Solution]:
    if model == "lscp":
        return lscp_exact(problem, time_limit=time_limit), lscp_greedy(problem)
    if need is not None:
        return min_sites_exact(problem, need, time_limit=time_limit), min_sites_greedy(problem, need)
    return mclp_exact(problem, int(p), time_limit=time_limit), mclp_greedy(problem, int(p))


def _curve(problem: CoverProblem, cat: Category, upto: int, before: float, total: float, exact: bool, time_limit: float,
           known: dict[int, Solution], notes: list[str]) -> pd.DataFrame:
    """p → people covered: the greedy sequence, and exact solves while the time budget (*time_limit* in all) lasts."""
    t0 = time.perf_counter()
    greedy = mclp_greedy(problem, upto)
    cum = np.concatenate([[0.0], np.cumsum(greedy.marginal)])
    rows = []
    for k in range(upto + 1):
        g = cum[min(k, cum.size - 1)]
        rows.append({"category": cat.id, "category_zh": cat.name_zh, "p": k, "method": "lazy greedy",
                     "population_covered": before + g, "share": (before + g) / total if total > 0 else np.nan,
                     "status": "heuristic", "gap": np.nan, "greedy_guarantee": greedy_guarantee(k) if k else 1.0})
        if exact and k > 0:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                notes.append(f"{cat.name_zh}: p ≥ {k} 的曲线点只有贪心解 — the exact curve stopped at its time budget "
                             f"({time_limit:g} s in all); the greedy points continue")
                exact = False
                continue
            s = known[k] if k in known else mclp_exact(problem, k, time_limit=left)
            rows.append({"category": cat.id, "category_zh": cat.name_zh, "p": k, "method": s.method,
                         "population_covered": before + s.objective,
                         "share": (before + s.objective) / total if total > 0 else np.nan,
                         "status": s.status, "gap": s.gap, "greedy_guarantee": np.nan})
    return pd.DataFrame(rows)


def _one_category(coverage: CoverageResult, cat: Category, *, model: str, p: int | None, target: float | None,
                  rule: str, candidates: pd.DataFrame | None, land: gpd.GeoDataFrame | None,
                  params: SitingParameters, time_limit: float) -> CategorySiting:
    net, notes = coverage.network, []
    rule, threshold, unit = _rule(cat, rule, notes)
    w_edge = net.time_s if rule == "time" else net.length_m
    limit = threshold * 60.0 if rule == "time" else threshold
    rule_text = (f"步行 ≤ {threshold:g} 分钟 (walk ≤ {threshold:g} min at {net.speed_m_per_min:g} m/min)" if rule == "time"
                 else f"路网距离 ≤ {threshold:g} m (network distance ≤ {threshold:g} m)")
    weights = np.asarray(coverage.population.weights, dtype=float)
    existing = existing_nodes(coverage, cat.id)
    before = covered_nodes(net.u, net.v, w_edge, net.n_nodes, existing, limit)
    if existing.size == 0:
        notes.append(f"{cat.name_zh}: 现状无设施 (no existing facility found in the data) — 不代表实际没有 (a data gap is not a service gap)")
    eligible = ~before & (net.component_size >= DEFAULT_MIN_COMPONENT)
    if candidates is None:
        if land is not None:
            cands, more = candidates_from_land(net, land, eligible, spacing_m=params.spacing_m, land_buffer_m=params.land_buffer_m)
        else:
            idx = np.flatnonzero(eligible)
            keep = idx[thin_to_grid(net.x[idx], net.y[idx], params.spacing_m)]
            cands = pd.DataFrame({"node": keep, "name": "", "origin": "generated",
                                  "reason": f"现有设施未覆盖的路网节点；每 {params.spacing_m:g} m 网格取一个"})
            more = ["没有提供候选用地: 候选点取自全部未覆盖的路网节点 (no candidate land given)"]
        notes.extend(more)
    else:
        fixed = np.isin(candidates["node"].to_numpy(), existing)
        if fixed.any():
            notes.append(f"{cat.name_zh}: {int(fixed.sum())} 个候选点与现有设施重合，已去除 — candidates at existing facilities dropped")
        cands = candidates[~fixed].reset_index(drop=True)
    cands = cands.reset_index(drop=True)
    if model == "pmedian":
        return pmedian_category(coverage, cat, rule=rule, threshold=threshold, unit=unit, limit=limit, w_edge=w_edge,
                                rule_text=rule_text, existing=existing, before=before, cands=cands, p=int(p),
                                curve_max_p=params.curve_max_p, cap_factor=params.pmedian_cap_factor,
                                time_limit=time_limit, notes=notes)
    demand = np.flatnonzero(~before & (weights > 0))
    sets = coverage_sets(net.u, net.v, w_edge, net.n_nodes, cands["node"].to_numpy(dtype=np.int64), demand, limit)
    problem = cover_problem(sets.matrix, weights[demand])
    total, covered0 = float(weights.sum()), float(weights[before].sum())
    need = None
    if model == "lscp":
        request = "覆盖全部可达人口 (cover all reachable residents)"
    elif target is not None:
        request = f"目标覆盖率 {target:.0%} (target share)"
        need = target * total - covered0
        if need > problem.reachable_weight:
            notes.append(f"{cat.name_zh}: 目标 {target:.0%} 不可达 — with every candidate at most "
                         f"{(covered0 + problem.reachable_weight) / total:.1%} is reached; the sites reaching that are proposed")
            need = problem.reachable_weight
        model = "mclp_target"
    else:
        request = f"新增 p = {p}"
    sol, greedy = _solve(problem, "lscp" if model == "lscp" else "mclp", p, need, time_limit)
    notes.extend(sol.notes)
    chosen_nodes = sets.candidate_nodes[sol.selected]
    after = covered_nodes(net.u, net.v, w_edge, net.n_nodes, np.concatenate([existing, chosen_nodes]), limit)
    check = float(weights[after].sum()) - covered0
    if abs(check - sol.objective) > 1e-6 * max(1.0, total):
        raise RuntimeError(f"siting check failed for {cat.id}: model {sol.objective} vs network {check}")  # pragma: no cover
    upto = min(max(sol.n_sites, params.curve_max_p if model != "lscp" else sol.n_sites), problem.n_candidates)
    known = {int(p): sol} if model == "mclp" else {}
    curve = _curve(problem, cat, upto, covered0, total, params.curve_exact, time_limit, known, notes)
    sites = site_layer(coverage, sets.candidate_nodes, cands, sol, cat, covered0, total, model, rule_text)
    return CategorySiting(cat, rule, threshold, unit, model, request, sol, greedy, existing, cands, sites, curve,
                          before, after, weights, sets.n_pairs, problem.n_groups, problem.unreachable_weight, notes)


def _demand_layer(coverage: CoverageResult, results: list[CategorySiting]) -> gpd.GeoDataFrame:
    net = coverage.network
    rows = []
    for r in results:
        nodes = np.flatnonzero(r.weights > 0)
        status = np.where(r.covered_before[nodes], "existing", np.where(r.covered_after[nodes], "new", "uncovered"))
        rows.append(pd.DataFrame({
            "name_zh": [DEMAND_STATUS_ZH[s] for s in status], "name_en": status,
            "source": f"walk network ({net.source}); population: {coverage.population.label}",
            "precision": "surveyed", "category": r.category.id, "category_zh": r.category.name_zh,
            "node": nodes, "population": r.weights[nodes], "status": status,
            "x": net.x[nodes], "y": net.y[nodes],
        }))
    df = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["name_zh", "name_en", "source", "precision", "x", "y"])
    gdf = gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df["x"], df["y"]), crs=net.crs)
    return finish_layer(gdf, layer="siting_demand")


def _points_layer(coverage: CoverageResult, frames: list[pd.DataFrame], layer: str, name: str) -> gpd.GeoDataFrame:
    net = coverage.network
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"node": [], "category": []})
    nodes = df["node"].to_numpy(dtype=np.int64)
    df = df.assign(name_zh=df.get("name_zh", name), name_en=layer, precision="indicative" if layer == "siting_candidates" else "surveyed",
                   source=f"walk-network node ({net.source})", osm_node_id=net.node_ids[nodes] if nodes.size else [])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(net.x[nodes], net.y[nodes]), crs=net.crs)
    return finish_layer(gdf, layer=layer)


def analyse_siting(
    coverage: CoverageResult,
    categories: Sequence[str],
    *,
    p: int | None = None,
    target: float | None = None,
    model: str | None = None,
    rule: str | None = None,
    candidates: pd.DataFrame | None = None,
    land: gpd.GeoDataFrame | None = None,
    params: SitingParameters | None = None,
    time_limit: float | None = None,
) -> SitingResult:
    """Where to add facilities of each category (补短板), with the existing ones fixed.

    Parameters
    ----------
    coverage
        A coverage analysis of the same area (network, population, existing facilities).
    categories
        Category ids (``layers/service_categories.csv``); each must be in *coverage*.
    p
        MCLP: the number of new sites.
    target
        MCLP: the share of residents (0–1] to reach with the fewest new sites (instead of *p*).
    model
        ``mclp`` (default), ``lscp`` (fewest sites covering every reachable resident) or ``pmedian`` (p sites
        cutting the residents' total walk most; walks capped at twice the threshold).
    rule
        ``time`` (minutes ≤ the category's level) or ``dist`` (metres ≤ its radius); default from ``layers/siting.yml``.
    candidates
        Candidate sites (``node``, ``name``, ``reason``, ``origin``; from
        :func:`~jlp_geo.analysis.siting.candidates.candidates_from_file`); None = generate them on *land*.
    land
        Candidate land (from :func:`~jlp_geo.analysis.siting.candidates.candidate_land_from_osm`).
    params
        Defaults (``layers/siting.yml``).
    time_limit
        Seconds per exact solve; default from the parameters.

    Returns
    -------
    SitingResult

    Raises
    ------
    InputDataError
        For an unknown category, a missing or contradictory p/target, or a target outside (0, 1].
    """
    params = params or load_siting_parameters()
    model = model or params.model
    rule = rule or params.rule
    known = {c.id: c for c in coverage.categories}
    unknown = [c for c in categories if c not in known]
    if unknown or not categories:
        raise InputDataError(f"unknown service category {', '.join(unknown) or '(none given)'}", where="--category",
                             fix="use ids from layers/service_categories.csv, e.g. " + ", ".join(list(known)[:6]))
    if model not in MODELS:
        raise InputDataError(f"unknown model {model!r}", where="--model", fix="use " + ", ".join(MODELS))
    if model == "mclp" and (p is None) == (target is None):
        raise InputDataError("MCLP needs exactly one of p and target", where="--p / --target", fix="give --p N or --target 95%")
    if model == "pmedian" and p is None:
        raise InputDataError("p-median needs the number of new sites", where="--p", fix="give --p N with --model pmedian")
    if p is not None and p < 1:
        raise InputDataError(f"p must be at least 1, got {p}", where="--p", fix="give --p 1 or more")
    if target is not None and not 0 < target <= 1:
        raise InputDataError(f"target share must lie in (0, 100 %], got {target}", where="--target", fix="e.g. --target 95%")
    limit = float(time_limit or params.time_limit_s)
    results = [_one_category(coverage, known[c], model=model, p=p, target=target, rule=rule, candidates=candidates,
                             land=land, params=params, time_limit=limit) for c in categories]
    existing = _points_layer(coverage, [pd.DataFrame({"node": r.existing_nodes, "category": r.category.id,
                                                       "category_zh": r.category.name_zh}) for r in results],
                             "siting_existing", "现有设施")
    cands = _points_layer(coverage, [r.candidates.assign(category=r.category.id, category_zh=r.category.name_zh)
                                     for r in results], "siting_candidates", "候选点")
    notes = [f"{r.category.name_zh}: {n}" if not n.startswith(r.category.name_zh) else n for r in results for n in r.notes]
    provenance = dict(coverage.provenance) | {"siting_parameters": params.source, "model": model, "rule": rule}
    return SitingResult(coverage, results, _demand_layer(coverage, results), existing, cands, notes, provenance)
