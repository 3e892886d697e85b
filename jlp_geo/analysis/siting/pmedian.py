"""p-median (least total walking) on sparse costs with existing facilities fixed: exact (HiGHS) and lazy greedy.

Truncated p-median: each demand node's walk is capped at ``cap`` (the search limit, e.g. twice the category's
threshold) so that sparse, bounded searches suffice.  With ``b_i = min(cap, cost to the nearest existing
facility)``, opening candidate ``j`` saves ``s_ij = max(0, b_i − d_ij)`` for demand ``i``, and

    minimise Σ_i w_i · min(b_i, min_{j open} d_ij)   ⇔   maximise Σ_i w_i · max_{j open} s_ij,

a monotone submodular function of the open set: the lazy greedy is within ``1 − (1 − 1/p)^p`` of the optimal
saving.  Exact: ``max Σ w_i s_ij z_ij`` s.t. ``Σ_j z_ij ≤ 1``, ``z_ij ≤ x_j``, ``Σ x_j ≤ p`` (HiGHS).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, hstack, identity

from .models import DEFAULT_TIME_LIMIT_S, Solution, greedy_guarantee

__all__ = ["MedianProblem", "median_problem", "pmedian_exact", "pmedian_greedy", "saving"]


@dataclass
class MedianProblem:
    """Savings per (candidate, demand) pair, the demand weights and base costs."""

    savings: csr_array
    weight: np.ndarray
    base: np.ndarray

    @property
    def base_total(self) -> float:
        """Σ w_i b_i: the weighted (capped) walk with the existing facilities only."""
        return float(self.weight @ self.base)


def median_problem(costs: csr_array, weight: np.ndarray, base: np.ndarray) -> MedianProblem:
    """Keep the pairs that save walking: ``s_ij = b_i − d_ij > 0``.

    Parameters
    ----------
    costs
        Candidate × demand walk costs (:attr:`CoverageSets.costs`, zeros kept).
    weight
        People per demand column.
    base
        Capped cost of each demand column to its nearest existing facility.
    """
    c = csr_array(costs)
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    s = np.asarray(base, dtype=float)[c.indices] - c.data
    keep = s > 0
    sav = csr_array((s[keep], (rows[keep], c.indices[keep])), shape=c.shape)
    sav.sort_indices()
    return MedianProblem(sav, np.asarray(weight, dtype=float), np.asarray(base, dtype=float))


def saving(problem: MedianProblem, selected: np.ndarray) -> float:
    """Weighted walk saved by opening *selected* (an independent recount)."""
    sel = np.asarray(selected, dtype=np.int64)
    if sel.size == 0:
        return 0.0
    best = np.asarray(problem.savings[sel].max(axis=0).toarray()).ravel()
    return float(problem.weight @ best)


def _greedy(problem: MedianProblem, rows: np.ndarray, p: int, keep_zero: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, w = problem.savings, problem.weight
    cur = np.zeros(a.shape[1])
    heap = [(-float(g), int(j)) for g, j in zip((a[rows] @ w) if rows.size else [], rows)]
    heapq.heapify(heap)
    picked, gains = [], []
    while heap and len(picked) < p:
        _, j = heapq.heappop(heap)
        cols, vals = a.indices[a.indptr[j] : a.indptr[j + 1]], a.data[a.indptr[j] : a.indptr[j + 1]]
        g = float(np.maximum(vals - cur[cols], 0.0) @ w[cols])
        if heap and g < -heap[0][0] - 1e-12 * max(1.0, g):
            heapq.heappush(heap, (-g, j))
            continue
        if g <= 0 and not keep_zero:
            break
        cur[cols] = np.maximum(cur[cols], vals)
        picked.append(j)
        gains.append(g)
    return np.asarray(picked, dtype=np.int64), np.asarray(gains), cur


def pmedian_greedy(problem: MedianProblem, p: int) -> Solution:
    """Lazy greedy: each new site the largest marginal saving; ``bound`` = f(S) + the p largest residual gains."""
    t0 = time.perf_counter()
    picked, gains, cur = _greedy(problem, np.arange(problem.savings.shape[0]), int(p))
    a = problem.savings
    resid = csr_array((np.maximum(a.data - cur[a.indices], 0.0) * problem.weight[a.indices], a.indices, a.indptr), shape=a.shape)
    top = float(np.sort(np.asarray(resid.sum(axis=1)).ravel())[::-1][: int(p)].sum())
    obj = float(gains.sum())
    bound = obj + top
    if obj > 0:
        bound = min(bound, obj / greedy_guarantee(int(p)))
    gap = (bound - obj) / bound if bound > 0 else 0.0
    return Solution(picked, gains, obj, bound, gap, "heuristic", "lazy greedy", time.perf_counter() - t0)


def pmedian_exact(problem: MedianProblem, p: int, *, time_limit: float = DEFAULT_TIME_LIMIT_S) -> Solution:
    """Exact truncated p-median (as savings) with HiGHS; the greedy answer is kept if the time-limited MILP is worse."""
    t0 = time.perf_counter()
    greedy = pmedian_greedy(problem, p)
    a = problem.savings.tocoo()
    n, k = problem.savings.shape[0], a.nnz
    if k == 0 or p <= 0:
        return Solution(np.empty(0, np.int64), np.empty(0), 0.0, 0.0, 0.0, "optimal", "HiGHS MILP", time.perf_counter() - t0)
    z = np.arange(k)
    c = np.concatenate([np.zeros(n), -problem.weight[a.col] * a.data])
    one = csr_array((np.ones(k), (a.col, n + z)), shape=(problem.savings.shape[1], n + k))
    link = hstack([-csr_array((np.ones(k), (z, a.row)), shape=(k, n)), identity(k, format="csr")], format="csr")
    budget = csr_array(np.r_[np.ones(n), np.zeros(k)][None, :])
    res = milp(c, integrality=np.r_[np.ones(n), np.zeros(k)], bounds=Bounds(np.zeros(n + k), np.ones(n + k)),
               constraints=[LinearConstraint(one, -np.inf, 1.0), LinearConstraint(link, -np.inf, 0.0),
                            LinearConstraint(budget, 0.0, float(p))],
               options={"time_limit": float(time_limit), "mip_rel_gap": 0.0, "disp": False})
    status = {0: "optimal", 1: "time_limit"}.get(res.status, "infeasible")
    chosen = np.flatnonzero(res.x[:n] > 0.5) if res.x is not None else greedy.selected
    obj = saving(problem, chosen)
    notes = []
    if greedy.objective > obj:
        notes.append("the time-limited MILP was worse than the greedy solution, which is kept")
        chosen, obj = greedy.selected, greedy.objective
    bound = obj if status == "optimal" else max(obj, min(greedy.bound, -float(res.mip_dual_bound or -np.inf)))
    order, gains, _ = _greedy(problem, np.unique(chosen), int(np.unique(chosen).size), keep_zero=True)
    gap = (bound - obj) / bound if bound > 0 else 0.0
    return Solution(order, gains, obj, bound, gap, status, "HiGHS MILP", time.perf_counter() - t0, notes)
