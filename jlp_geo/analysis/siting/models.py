"""Location-coverage models on sparse coverage sets: the covering instance and MCLP, exact and greedy.

All models take a :class:`CoverProblem` — a sparse boolean matrix *candidates × demand groups* and a
weight (people) per group — and return a :class:`Solution`.

* **MCLP** (maximal covering, Church & ReVelle 1974): at most *p* new sites, maximise the people newly
  covered.  Exact: a MILP solved by HiGHS through :func:`scipy.optimize.milp` with a time limit; when
  the limit stops it, the HiGHS dual bound gives the reported optimality gap.  Heuristic: lazy greedy
  (Minoux 1978), which is within ``1 − (1 − 1/p)^p ≥ 1 − 1/e ≈ 63.2 %`` of the optimum (Nemhauser,
  Wolsey & Fisher 1978) — the objective is a weighted coverage function, monotone and submodular — and,
  usually much tighter, within the a-posteriori bound ``f(S) + (sum of the p largest marginal gains
  given S)`` (Leskovec et al. 2007), which is reported as ``bound``.
* **LSCP** (location set covering, Toregas et al. 1971) and the **smallest p for a target** share are in
  :mod:`.fewest`; the truncated **p-median** is in :mod:`.pmedian`.

Existing facilities are not variables: their demand is removed before the problem is built (it is
already covered), so they can never be "proposed".

Reductions (exact, no loss): demand nodes reached by exactly the same candidates are merged into one
group with their summed weight (:func:`cover_problem`; on the benchmark network 50,174 demand nodes become
19,978 groups); candidates whose set lies inside another's are dropped (:func:`undominated`); a group
that only one candidate covers needs no variable of its own.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, hstack, identity

__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "GREEDY_GUARANTEE",
    "CoverProblem",
    "Solution",
    "cover_problem",
    "covered_weight",
    "greedy_guarantee",
    "lazy_greedy",
    "mclp_exact",
    "mclp_greedy",
    "milp_status",
    "rank_sites",
    "solve_milp",
    "undominated",
]

DEFAULT_TIME_LIMIT_S: float = 60.0
"""Default time limit of one exact (HiGHS) solve, seconds."""

GREEDY_GUARANTEE: float = 1.0 - 1.0 / math.e
"""Worst-case share of the optimum the greedy MCLP reaches for any p (≈ 0.632)."""


def greedy_guarantee(p: int) -> float:
    """``1 − (1 − 1/p)^p``: the greedy MCLP's worst-case share of the optimum with *p* sites (≥ 1 − 1/e)."""
    return 1.0 if p <= 1 else 1.0 - (1.0 - 1.0 / p) ** p


@dataclass
class CoverProblem:
    """A covering instance after merging identical demand columns.

    Attributes
    ----------
    matrix
        Sparse boolean ``n_candidates × n_groups``.
    weight
        People (or node count) per group.
    group_of
        Group index of every original demand column (-1: no candidate reaches it).
    unreachable_weight
        Weight of demand that no candidate reaches.
    """

    matrix: csr_array
    weight: np.ndarray
    group_of: np.ndarray
    unreachable_weight: float

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites (rows)."""
        return int(self.matrix.shape[0])

    @property
    def n_groups(self) -> int:
        """Number of merged demand groups (columns)."""
        return int(self.matrix.shape[1])

    @property
    def reachable_weight(self) -> float:
        """Weight that at least one candidate reaches (the most any model can cover)."""
        return float(self.weight.sum())


@dataclass
class Solution:
    """A model's answer.

    Attributes
    ----------
    selected
        Candidate row indices, ranked by marginal weight gained (largest first).
    marginal
        Weight each ranked site adds given the sites ranked before it.
    objective
        Weight newly covered by the selected sites.
    bound
        For MCLP, an upper bound on the optimum; for the minimisation models, a lower bound on the number
        of sites.  Equal to the objective (or site count) when proven optimal.
    gap
        Relative optimality gap ``|bound − value| / |bound|`` (0 when proven optimal).
    status
        ``optimal``, ``time_limit``, ``heuristic`` or ``infeasible``.
    method
        ``HiGHS MILP`` or ``lazy greedy``.
    seconds
        Wall time of the solve.
    """

    selected: np.ndarray
    marginal: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def n_sites(self) -> int:
        """Number of selected sites."""
        return int(self.selected.size)


def cover_problem(matrix: csr_array, weight: np.ndarray) -> CoverProblem:
    """Merge demand columns with identical candidate sets; drop unreachable and zero-weight demand.

    Parameters
    ----------
    matrix
        Sparse boolean ``n_candidates × n_demand`` (e.g. :attr:`CoverageSets.matrix`).
    weight
        Weight per demand column (non-negative).
    """
    w = np.asarray(weight, dtype=float)
    a = csr_array(matrix, dtype=bool)
    if a.shape[1] != w.size:
        raise ValueError(f"weight has {w.size} values for {a.shape[1]} demand columns")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("demand weights must be finite and non-negative")
    at = csr_array(a.T)
    at.sort_indices()
    keys: dict[bytes, int] = {}
    group_of = np.full(w.size, -1, dtype=np.int64)
    indptr, indices = at.indptr, at.indices
    for i in range(w.size):
        lo, hi = indptr[i], indptr[i + 1]
        if lo == hi or w[i] <= 0:
            continue
        key = indices[lo:hi].tobytes()
        group_of[i] = keys.setdefault(key, len(keys))
    n_groups = len(keys)
    gw = np.zeros(n_groups)
    ok = group_of >= 0
    np.add.at(gw, group_of[ok], w[ok])
    unreachable = float(w[(np.diff(indptr) == 0)].sum())
    # rows of the merged matrix: candidate j covers group g if it covers any (= every) member column
    coo = a.tocoo()
    g = group_of[coo.col]
    keep = g >= 0
    merged = csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (coo.row[keep], g[keep])), shape=(a.shape[0], n_groups), dtype=bool
    )
    merged.sum_duplicates()
    merged.sort_indices()
    return CoverProblem(matrix=merged, weight=gw, group_of=group_of, unreachable_weight=unreachable)


def covered_weight(problem: CoverProblem, selected: np.ndarray) -> float:
    """Weight of the groups covered by the *selected* candidate rows (an independent recount)."""
    sel = np.asarray(selected, dtype=np.int64)
    if sel.size == 0 or problem.n_groups == 0:
        return 0.0
    hit = np.zeros(problem.n_groups, dtype=bool)
    hit[problem.matrix[sel].indices] = True
    return float(problem.weight[hit].sum())


def rank_sites(problem: CoverProblem, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order a chosen set greedily: largest marginal weight first."""
    chosen = np.unique(np.asarray(chosen, dtype=np.int64))
    order, gains = lazy_greedy(problem, candidates=chosen, max_sites=chosen.size, stop_at=None, keep_zero=True)
    return order, gains


def _row(problem: CoverProblem, j: int) -> np.ndarray:
    a = problem.matrix
    return a.indices[a.indptr[j] : a.indptr[j + 1]]


def lazy_greedy(
    problem: CoverProblem,
    *,
    candidates: np.ndarray | None,
    max_sites: int,
    stop_at: float | None,
    keep_zero: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Lazy greedy on weighted coverage; returns (picked rows, marginal gains)."""
    w = problem.weight
    rows = np.arange(problem.n_candidates) if candidates is None else np.asarray(candidates, dtype=np.int64)
    gains0 = problem.matrix[rows] @ w if rows.size else np.empty(0)
    heap = [(-float(g), int(j)) for g, j in zip(gains0, rows)]
    heapq.heapify(heap)
    covered = np.zeros(problem.n_groups, dtype=bool)
    picked: list[int] = []
    gains: list[float] = []
    total = 0.0
    while heap and len(picked) < max_sites:
        if stop_at is not None and total >= stop_at:
            break
        _, j = heapq.heappop(heap)
        cols = _row(problem, j)
        g = float(w[cols[~covered[cols]]].sum())
        if heap and g < -heap[0][0] - 1e-12 * max(1.0, g):
            heapq.heappush(heap, (-g, j))  # stale: its true gain is smaller than the next upper bound
            continue
        if g <= 0 and not keep_zero:
            break
        covered[cols] = True
        picked.append(j)
        gains.append(g)
        total += g
    return np.asarray(picked, dtype=np.int64), np.asarray(gains, dtype=float)


def mclp_greedy(problem: CoverProblem, p: int) -> Solution:
    """Lazy-greedy MCLP: at most *p* sites, each the largest marginal gain.

    ``bound`` is the a-posteriori upper bound ``f(S) + sum of the p largest marginal gains given S``
    (never looser than ``f(S) / (1 − (1 − 1/p)^p)`` is guaranteed to be).
    """
    t0 = time.perf_counter()
    picked, gains = lazy_greedy(problem, candidates=None, max_sites=int(p), stop_at=None)
    obj = float(gains.sum())
    covered = np.zeros(problem.n_groups, dtype=bool)
    if picked.size:
        covered[problem.matrix[picked].indices] = True
    residual = problem.matrix @ (problem.weight * ~covered) if problem.n_candidates else np.empty(0)
    top = np.sort(residual)[::-1][: int(p)].sum() if residual.size else 0.0
    bound = min(obj + float(top), problem.reachable_weight)
    guarantee = greedy_guarantee(int(p))
    bound = min(bound, obj / guarantee) if obj > 0 else bound
    gap = (bound - obj) / bound if bound > 0 else 0.0
    return Solution(picked, gains, obj, bound, gap, "heuristic", "lazy greedy", time.perf_counter() - t0)


def solve_milp(c, integrality, constraints, time_limit: float, rel_gap: float):
    """``scipy.optimize.milp`` (HiGHS) with 0–1 bounds, a time limit and a relative gap."""
    n = c.size
    return milp(
        c,
        integrality=integrality,
        bounds=Bounds(np.zeros(n), np.ones(n)),
        constraints=constraints,
        options={"time_limit": float(time_limit), "mip_rel_gap": float(rel_gap), "disp": False},
    )


def milp_status(res) -> str:
    """``optimal`` / ``time_limit`` / ``infeasible`` from a :func:`scipy.optimize.milp` result."""
    if res.status == 0:
        return "optimal"
    if res.status == 1:
        return "time_limit"
    return "infeasible"


def undominated(matrix: csr_array) -> np.ndarray:
    """Boolean per candidate: its set is not contained in another's (ties: the lowest index is kept).

    Dropping dominated candidates keeps an optimal MCLP / LSCP solution (swap each for its dominator).
    """
    a = csr_array(matrix, dtype=np.int32)
    size = np.diff(a.indptr)
    ov = (a @ a.T).tocoo()
    r, c, v = ov.row, ov.col, ov.data
    inside = (v == size[r]) & (r != c) & ((size[c] > size[r]) | ((size[c] == size[r]) & (c < r)))
    keep = size > 0
    keep[r[inside]] = False
    return keep


def mclp_exact(
    problem: CoverProblem, p: int, *, time_limit: float = DEFAULT_TIME_LIMIT_S, rel_gap: float = 0.0
) -> Solution:
    """MCLP solved as a MILP by HiGHS (:func:`scipy.optimize.milp`).

    ``max Σ w_g y_g`` s.t. ``y_g ≤ Σ_{j covers g} x_j``, ``Σ x_j ≤ p``, ``x ∈ {0,1}``, ``0 ≤ y ≤ 1``
    (``y`` need not be integer: at an optimum with integer ``x`` it is 0 or 1).  The lazy-greedy
    solution is computed too and kept if the time-limited MILP returns something worse.

    Parameters
    ----------
    problem
        The covering instance.
    p
        Largest number of new sites.
    time_limit
        Seconds for HiGHS; when reached, ``status = 'time_limit'`` and ``gap`` is from HiGHS's dual bound.
    rel_gap
        Relative gap at which HiGHS may stop (0 = prove optimality).
    """
    t0 = time.perf_counter()
    greedy = mclp_greedy(problem, p)
    n, m = problem.n_candidates, problem.n_groups
    if m == 0 or n == 0 or p <= 0:
        return Solution(np.empty(0, np.int64), np.empty(0), 0.0, 0.0, 0.0, "optimal", "HiGHS MILP", time.perf_counter() - t0)
    # exact reductions: drop candidates whose set lies inside another's; a group only one kept candidate covers
    # needs no variable (its weight joins that candidate's objective coefficient)
    rows = np.flatnonzero(undominated(problem.matrix))
    a = csr_array(problem.matrix[rows], dtype=float)
    per_group = np.asarray(a.sum(axis=0)).ravel()
    single, multi = per_group == 1, per_group >= 2
    k, mm = rows.size, int(multi.sum())
    c = np.concatenate([-(a[:, single] @ problem.weight[single]), -problem.weight[multi]])
    link = hstack([-csr_array(a[:, multi].T), identity(mm, format="csr")], format="csr")
    budget = csr_array(np.concatenate([np.ones(k), np.zeros(mm)])[None, :])
    cons = [LinearConstraint(budget, 0.0, float(p))] + ([LinearConstraint(link, -np.inf, 0.0)] if mm else [])
    res = solve_milp(c, np.concatenate([np.ones(k), np.zeros(mm)]), cons, time_limit, rel_gap)
    status = milp_status(res)
    notes: list[str] = []
    chosen = rows[np.flatnonzero(res.x[:k] > 0.5)] if res.x is not None else np.empty(0, np.int64)
    obj = covered_weight(problem, chosen)
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else obj
    bound = min(bound, greedy.bound)
    if greedy.objective > obj:
        notes.append(f"the time-limited MILP found {obj:,.1f}; the greedy solution {greedy.objective:,.1f} is kept")
        chosen, obj = greedy.selected, greedy.objective
    bound = max(bound, obj)
    if status == "optimal":
        bound = obj
    order, gains = rank_sites(problem, chosen)
    gap = (bound - obj) / bound if bound > 0 else 0.0
    return Solution(order, gains, obj, bound, gap, status, "HiGHS MILP", time.perf_counter() - t0, notes)
