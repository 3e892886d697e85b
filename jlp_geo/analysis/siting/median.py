"""p-median siting of one category (``--model pmedian``): the p new sites that cut residents' total walk most.

Costs are capped at ``pmedian_cap_factor`` (``layers/siting.yml``, 2) times the category's threshold so that
bounded searches suffice
(truncated p-median, see :mod:`.pmedian`); existing facilities stay open.  The answer is checked by one
independent multi-source search with the new sites added: the weighted walk after must equal the walk before
minus the model's saving.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...layers.categories import Category
from ..accessibility import CoverageResult
from ..coverage import nearest_distances
from .pmedian import median_problem, pmedian_exact, pmedian_greedy
from .result import CategorySiting, site_layer
from .sets import coverage_sets

__all__ = ["pmedian_category"]


def _capped(coverage: CoverageResult, w_edge: np.ndarray, sources: np.ndarray, cap: float) -> np.ndarray:
    net = coverage.network
    if len(sources) == 0:
        return np.full(net.n_nodes, cap)
    return np.minimum(np.asarray(nearest_distances(net.u, net.v, w_edge, net.n_nodes, sources, limit=cap)), cap)


def _prefix_coverage(sets, selected: np.ndarray, before: np.ndarray, weights: np.ndarray, limit: float) -> np.ndarray:
    """People covered (≤ *limit*) after opening the first k ranked sites, k = 0 … len(selected)."""
    covered = before.copy()
    out = [float(weights[covered].sum())]
    costs = sets.costs
    for row in selected:
        lo, hi = costs.indptr[row], costs.indptr[row + 1]
        cols = costs.indices[lo:hi][costs.data[lo:hi] <= limit]
        covered[sets.demand_nodes[cols]] = True
        out.append(float(weights[covered].sum()))
    return np.asarray(out)


def pmedian_category(coverage: CoverageResult, cat: Category, *, rule: str, threshold: float, unit: str, limit: float,
                     w_edge: np.ndarray, rule_text: str, existing: np.ndarray, before: np.ndarray, cands: pd.DataFrame,
                     p: int, curve_max_p: int, cap_factor: float, time_limit: float, notes: list[str]) -> CategorySiting:
    """Truncated p-median for one category (arguments as prepared by :func:`.analyse.analyse_siting`)."""
    net = coverage.network
    weights = np.asarray(coverage.population.weights, dtype=float)
    scale = 60.0 if rule == "time" else 1.0  # report minutes, not seconds
    cap = cap_factor * limit
    base = _capped(coverage, w_edge, existing, cap)
    demand = np.flatnonzero(weights > 0)
    sets = coverage_sets(net.u, net.v, w_edge, net.n_nodes, cands["node"].to_numpy(dtype=np.int64), demand, cap)
    problem = median_problem(sets.costs, weights[demand], base[demand])
    sol = pmedian_exact(problem, p, time_limit=time_limit)
    greedy = pmedian_greedy(problem, p)
    notes.extend(sol.notes)
    after_cost = _capped(coverage, w_edge, np.r_[existing, sets.candidate_nodes[sol.selected]], cap)
    total_w = float(weights.sum())
    walk_before, walk_after = float(weights @ base), float(weights @ after_cost)
    if abs((walk_before - walk_after) - sol.objective) > 1e-6 * max(1.0, walk_before):
        raise RuntimeError(f"p-median check failed for {cat.id}")  # pragma: no cover - a programming error
    after = after_cost <= limit
    pops = _prefix_coverage(sets, sol.selected, before, weights, limit)
    saving_unit = "person_min" if rule == "time" else "person_m"
    sites = site_layer(coverage, sets.candidate_nodes, cands, sol, cat, pops[0], total_w, "pmedian", rule_text,
                       gains=np.diff(pops), savings=sol.marginal / scale, saving_unit=saving_unit)
    # curve: the greedy sequence (nested) and the exact answer at the chosen p
    upto = min(max(p, curve_max_p), problem.savings.shape[0])
    gseq = pmedian_greedy(problem, upto)
    gpops = _prefix_coverage(sets, gseq.selected, before, weights, limit)
    walk = walk_before - np.r_[0.0, np.cumsum(gseq.marginal)]
    rows = [{"category": cat.id, "category_zh": cat.name_zh, "p": k, "method": "lazy greedy",
             "population_covered": gpops[k], "share": gpops[k] / total_w if total_w > 0 else np.nan,
             "mean_cost": walk[k] / total_w / scale if total_w > 0 else np.nan, "status": "heuristic", "gap": np.nan}
            for k in range(gseq.n_sites + 1)]
    rows.append({"category": cat.id, "category_zh": cat.name_zh, "p": sol.n_sites, "method": sol.method,
                 "population_covered": pops[-1], "share": pops[-1] / total_w if total_w > 0 else np.nan,
                 "mean_cost": walk_after / total_w / scale if total_w > 0 else np.nan, "status": sol.status, "gap": sol.gap})
    notes.append(f"{cat.name_zh}: p-median 截断于 {cap_factor:g} 倍阈值 — walks are capped at {cap_factor:g} × the threshold "
                 f"({cap / scale:g} {unit}); mean walk {walk_before / total_w / scale:.2f} → {walk_after / total_w / scale:.2f} {unit}"
                 if total_w > 0 else f"{cat.name_zh}: no population")
    mean = (walk_before / total_w / scale, walk_after / total_w / scale) if total_w > 0 else None
    unreachable = float(weights[demand][np.diff(problem.savings.tocsc().indptr) == 0].sum())
    return CategorySiting(cat, rule, threshold, unit, "pmedian", f"新增 p = {p}（p-median，最小化总步行）", sol, greedy, existing,
                          cands, sites, pd.DataFrame(rows), before, after, weights, sets.n_pairs, int(problem.savings.nnz),
                          unreachable, notes, mean)
