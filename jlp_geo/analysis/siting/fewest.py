"""The fewest new sites: for a covered-population target (MCLP turned round) and LSCP; exact (HiGHS) and greedy.

* :func:`min_sites_exact` — ``min Σ x_j`` s.t. ``Σ w_g y_g ≥ need``, ``y_g ≤ Σ_{j covers g} x_j``;
* :func:`lscp_exact` — ``min Σ x_j`` s.t. ``Σ_{j covers g} x_j ≥ 1`` for every group a candidate reaches;
* greedy counterparts (set-cover greedy: within ``H(max set size) ≤ 1 + ln n`` of the fewest sites).

When HiGHS stops at its time limit, ``bound`` is the lower bound on the number of sites from its dual bound.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import LinearConstraint
from scipy.sparse import csr_array, hstack, identity

from .models import (
    DEFAULT_TIME_LIMIT_S,
    CoverProblem,
    Solution,
    lazy_greedy,
    milp_status,
    rank_sites,
    solve_milp,
)

__all__ = ["lscp_exact", "lscp_greedy", "min_sites_exact", "min_sites_greedy"]


def min_sites_exact(
    problem: CoverProblem, need: float, *, time_limit: float = DEFAULT_TIME_LIMIT_S
) -> Solution:
    """The fewest new sites whose newly covered weight is at least *need* (exact, HiGHS).

    ``min Σ x_j`` s.t. ``Σ w_g y_g ≥ need``, ``y_g ≤ Σ_{j covers g} x_j``.  ``status = 'infeasible'``
    when *need* exceeds :attr:`CoverProblem.reachable_weight`.
    """
    t0 = time.perf_counter()
    n, m = problem.n_candidates, problem.n_groups
    empty = np.empty(0, np.int64)
    if need <= 0:
        return Solution(empty, np.empty(0), 0.0, 0.0, 0.0, "optimal", "HiGHS MILP", time.perf_counter() - t0)
    if need > problem.reachable_weight * (1 + 1e-12):
        return Solution(empty, np.empty(0), 0.0, math.nan, math.nan, "infeasible", "HiGHS MILP", time.perf_counter() - t0,
                        [f"the candidates reach at most {problem.reachable_weight:,.1f}, less than the {need:,.1f} needed"])
    c = np.concatenate([np.ones(n), np.zeros(m)])
    link = hstack([-csr_array(problem.matrix.T, dtype=float), identity(m, format="csr")], format="csr")
    target = csr_array(np.concatenate([np.zeros(n), problem.weight])[None, :])
    # a hair of slack so that rounding in the weights cannot make an exact target infeasible
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(target, need * (1 - 1e-9), np.inf)]
    res = solve_milp(c, np.concatenate([np.ones(n), np.zeros(m)]), cons, time_limit, 0.0)
    if res.x is None:
        greedy = min_sites_greedy(problem, need)
        greedy.notes.append("HiGHS found no solution within the time limit: the greedy answer is given")
        return greedy
    return _count_solution(problem, res, n, t0)


def _count_solution(problem: CoverProblem, res, n: int, t0: float) -> Solution:
    """A minimisation MILP's answer: sites ranked, lower bound on their number from the HiGHS dual bound."""
    status = milp_status(res)
    order, gains = rank_sites(problem, np.flatnonzero(res.x[:n] > 0.5))
    bound = math.ceil(float(res.mip_dual_bound) - 1e-6) if getattr(res, "mip_dual_bound", None) is not None else order.size
    bound = order.size if status == "optimal" else min(bound, order.size)
    gap = (order.size - bound) / order.size if order.size else 0.0
    return Solution(order, gains, float(gains.sum()), float(bound), gap, status, "HiGHS MILP", time.perf_counter() - t0)


def min_sites_greedy(problem: CoverProblem, need: float) -> Solution:
    """Greedy sites until the newly covered weight reaches *need* (an upper bound on the fewest sites)."""
    t0 = time.perf_counter()
    picked, gains = lazy_greedy(problem, candidates=None, max_sites=problem.n_candidates, stop_at=need)
    ok = gains.sum() >= need * (1 - 1e-9)
    return Solution(picked, gains, float(gains.sum()), math.nan, math.nan, "heuristic" if ok else "infeasible",
                    "lazy greedy", time.perf_counter() - t0)


def lscp_exact(problem: CoverProblem, *, time_limit: float = DEFAULT_TIME_LIMIT_S) -> Solution:
    """LSCP: the fewest new sites covering every group some candidate reaches (exact, HiGHS).

    ``min Σ x_j`` s.t. ``Σ_{j covers g} x_j ≥ 1`` for every group.
    """
    t0 = time.perf_counter()
    n, m = problem.n_candidates, problem.n_groups
    if m == 0:
        return Solution(np.empty(0, np.int64), np.empty(0), 0.0, 0.0, 0.0, "optimal", "HiGHS MILP", time.perf_counter() - t0)
    cons = [LinearConstraint(csr_array(problem.matrix.T, dtype=float), 1.0, np.inf)]
    res = solve_milp(np.ones(n), np.ones(n), cons, time_limit, 0.0)
    if res.x is None:
        greedy = lscp_greedy(problem)
        greedy.notes.append("HiGHS found no solution within the time limit: the greedy answer is given")
        return greedy
    return _count_solution(problem, res, n, t0)


def lscp_greedy(problem: CoverProblem) -> Solution:
    """Greedy set cover (within a factor ``H(max set size) ≤ 1 + ln n`` of the fewest sites)."""
    return min_sites_greedy(problem, problem.reachable_weight * (1 - 1e-12))
