"""Delineating life-circle units on the walk network: seeded network-Voronoi growth with a population target.

Core on arrays (node coordinates, population per node, a nesting group per node, directed edges with a
cost); no geopandas.  Per nesting unit (镇街):

1. ``k`` units: the count whose mean population is nearest the middle of the stated range, clamped
   to ``[ceil(population / pop_max), floor(population / pop_min)]`` and at least one (:func:`unit_count`);
2. seeds: a deterministic weighted k-means on node coordinates (greedy k-means++ start: first the node
   nearest the population centroid, then the node maximising ``population × distance²``; 20 Lloyd steps);
3. network-Voronoi growth: every node joins the seed it reaches first along the walk network (walking
   time plus the barrier penalties); up to 5 rounds move every seed to the node nearest its unit's
   population centroid (a network Lloyd step); then, seeds fixed, up to ``n_iter`` rounds give each
   seed an additive offset -- larger for overpopulated units (they shrink), smaller for underpopulated
   ones -- with a decaying step; the round with the smallest population spread is kept;
4. a unit below ``pop_min`` is merged into its smallest neighbour (sharing a walk segment) when the
   sum stays within ``pop_max``; units that stay outside the range (a 镇街 holding fewer residents than
   ``pop_min``, allowed for 镇) are kept and flagged by the caller.

Seeds and centres lie on *eligible* nodes (the main network), never on a disconnected fragment.

Nodes no seed reaches (a network fragment) join the unit of the nearest reached node (straight line).
The result is deterministic: no random numbers, ties broken by node index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..coverage import build_csr

__all__ = ["Delineation", "centre_nodes", "delineate_nodes", "unit_count", "weighted_kmeans_seeds"]

_EPS_W = 1e-6  # weight of a node without residents, so empty areas still have a centre
LLOYD_ROUNDS = 5  # seed moves before balancing
BALANCE_TOLERANCE = 0.02  # stop balancing when every unit is within 2 % of the mean
STEP_DECAY = 0.85  # offset step shrinks by this factor each round


@dataclass
class Delineation:
    """Node labels of the delineated units.

    Attributes
    ----------
    labels
        Unit index per node (-1: outside every nesting unit).
    seeds
        Seed (growth centre) node per unit.
    group
        Nesting unit (group code) per unit.
    """

    labels: np.ndarray
    seeds: np.ndarray
    group: np.ndarray


def weighted_kmeans_seeds(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, n_iter: int = 20, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Indices of *k* nodes near the centres of a population-weighted k-means (deterministic).

    Seeds are snapped to *eligible* nodes only (e.g. nodes of the main network, not of a fragment).
    """
    n = x.size
    ok = np.ones(n, dtype=bool) if eligible is None or not np.any(eligible) else np.asarray(eligible, bool)
    k = max(1, min(int(k), n))
    ww = w + _EPS_W
    xy = np.column_stack([x, y])
    cx, cy = np.average(x, weights=ww), np.average(y, weights=ww)
    first = int(np.argmin((x - cx) ** 2 + (y - cy) ** 2))
    centres = [xy[first]]
    d2 = ((xy - xy[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(ww * d2))
        centres.append(xy[nxt])
        d2 = np.minimum(d2, ((xy - xy[nxt]) ** 2).sum(axis=1))
    c = np.array(centres, dtype=float)
    for _ in range(n_iter):
        lab = cKDTree(c).query(xy)[1]
        new = c.copy()
        for j in range(k):
            m = lab == j
            if m.any():
                new[j] = np.average(xy[m], axis=0, weights=ww[m])
        if np.allclose(new, c):
            break
        c = new
    cand = np.flatnonzero(ok)
    k = min(k, cand.size)
    seeds = cand[cKDTree(xy[cand]).query(c[:k])[1]]
    # distinct seeds (two centres may snap to one node)
    out: list[int] = []
    for s in seeds.tolist():
        if s in out:
            d = ((xy - xy[s]) ** 2).sum(axis=1)
            d[~ok] = np.inf
            d[out] = np.inf
            s = int(np.argmin(d))
        out.append(int(s))
    return np.asarray(out, dtype=np.int64)


def _grow(g: csr_array, n: int, seeds: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label per node (the seed reached first, cost + offset; -1 where none) and that cost."""
    sup = n  # a super source joined to every seed by an edge of weight offset
    rows = np.concatenate([g.indptr[1:] - g.indptr[:-1], [seeds.size]])
    indptr = np.zeros(n + 2, dtype=np.int64)
    np.cumsum(rows, out=indptr[1:])
    order = np.argsort(seeds, kind="stable")
    indices = np.concatenate([g.indices.astype(np.int64), seeds[order]])
    data = np.concatenate([g.data, offsets[order] + 1e-6])
    big = csr_array((data, indices, indptr), shape=(n + 1, n + 1))
    dist, pred = dijkstra(big, directed=True, indices=sup, return_predecessors=True)
    root = pred.astype(np.int64)
    root = root[:n]
    root[seeds] = seeds
    root[root < 0] = -1
    for _ in range(64):
        nxt = np.where(root >= 0, root[np.maximum(root, 0)], -1)
        if np.array_equal(nxt, root):
            break
        root = nxt
    lab = np.full(n, -1, dtype=np.int64)
    seed_pos = np.full(n, -1, dtype=np.int64)
    seed_pos[seeds] = np.arange(seeds.size)
    ok = root >= 0
    lab[ok] = seed_pos[root[ok]]
    return lab, dist[:n]


def _fill_unreached(lab: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    miss = lab < 0
    if miss.any() and (~miss).any():
        tree = cKDTree(np.column_stack([x[~miss], y[~miss]]))
        nearest = tree.query(np.column_stack([x[miss], y[miss]]))[1]
        lab = lab.copy()
        lab[miss] = lab[~miss][nearest]
    return lab


def centre_nodes(
    lab: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Per unit 0..k-1: the (eligible) member node nearest the unit's population-weighted centroid (-1 if empty)."""
    seeds = np.zeros(k, dtype=np.int64)
    ww = w + _EPS_W
    for j in range(k):
        m = np.flatnonzero(lab == j)
        if m.size == 0:
            seeds[j] = -1
            continue
        cx, cy = np.average(x[m], weights=ww[m]), np.average(y[m], weights=ww[m])
        if eligible is not None and eligible[m].any():
            m = m[eligible[m]]
        seeds[j] = m[int(np.argmin((x[m] - cx) ** 2 + (y[m] - cy) ** 2))]
    return seeds


def _merge_small(lab: np.ndarray, w: np.ndarray, u: np.ndarray, v: np.ndarray, pop_min: float, pop_max: float) -> np.ndarray:
    """Merge units below *pop_min* into their smallest neighbour while the sum stays ≤ *pop_max*."""
    lab = lab.copy()
    tried: set[int] = set()
    while True:
        ids = np.unique(lab)
        if ids.size <= 1:
            break
        pops = {int(j): float(w[lab == j].sum()) for j in ids}
        small = sorted((p, j) for j, p in pops.items() if p < pop_min and j not in tried)
        if not small:
            break
        p, j = small[0]
        lu, lv = lab[u], lab[v]
        nb = np.unique(lv[(lu == j) & (lv != j)])
        fits = sorted((pops[int(b)], int(b)) for b in nb if pops[int(b)] + p <= pop_max)
        if not fits:
            tried.add(j)
            continue
        lab[lab == j] = fits[0][1]
    _, lab = np.unique(lab, return_inverse=True)
    return lab.astype(np.int64)


def unit_count(total: float, pop_min: float, pop_max: float, n_nodes: int | None = None) -> int:
    """Number of units for *total* residents: the count whose mean is nearest the middle of the range.

    ``round(total / mid)`` clamped to ``[ceil(total / pop_max), floor(total / pop_min)]`` (so the mean lies in
    the range whenever any count allows it), at least 1 and at most *n_nodes*.
    """
    if not total > 0:
        return 1
    lo = math.ceil(total / pop_max)
    hi = max(lo, math.floor(total / pop_min))
    k = min(max(round(total / ((pop_min + pop_max) / 2)), lo), hi)
    return int(max(1, min(k, n_nodes if n_nodes is not None else k)))


def _group_units(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, u: np.ndarray, v: np.ndarray, cost: np.ndarray,
    pop_min: float, pop_max: float, n_iter: int, eligible: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    n = x.size
    total = float(w.sum())
    k = unit_count(total, pop_min, pop_max, n)
    # the growth runs outward from the seeds along the reversed edges: the cost of a node is its walk *to* the seed
    g = build_csr(u, v, cost, n, reverse=True)
    seeds = weighted_kmeans_seeds(x, y, w, k, eligible=eligible)
    k = seeds.size
    if k == 1:
        lab = _fill_unreached(_grow(g, n, seeds, np.zeros(1))[0], x, y)
        return lab, seeds
    # phase 1: network Lloyd rounds -- each seed moves to the node nearest its unit's population centroid
    for _ in range(LLOYD_ROUNDS):
        lab = _fill_unreached(_grow(g, n, seeds, np.zeros(k))[0], x, y)
        if not np.bincount(lab, minlength=k).all():
            break
        moved = centre_nodes(lab, x, y, w, k, eligible)
        if np.array_equal(moved, seeds) or np.unique(moved).size < k:
            break
        seeds = moved
    # phase 2: seeds fixed; additive offsets shrink overpopulated units and grow underpopulated ones,
    # with a step that decays so the offsets settle; the round with the smallest spread is kept
    target = total / k
    offsets = np.zeros(k)
    lab, dist = _grow(g, n, seeds, offsets)
    reached = np.isfinite(dist)
    step = 0.5 * float(np.median(dist[reached])) if reached.any() else 60.0
    best, best_spread = None, np.inf
    for _ in range(n_iter):
        lab = _fill_unreached(lab, x, y)
        pops = np.bincount(lab, weights=w, minlength=k)
        spread = float(np.abs(pops / target - 1).max())
        if spread < best_spread - 1e-12 and np.bincount(lab, minlength=k).all():
            best, best_spread = lab, spread
        if spread < BALANCE_TOLERANCE:
            break
        offsets = offsets + step * np.clip(pops / target - 1, -1, 1)
        offsets -= offsets.min()
        step *= STEP_DECAY
        lab = _grow(g, n, seeds, offsets)[0]
    lab = best if best is not None else lab
    lab = _merge_small(lab, w, u, v, pop_min, pop_max)
    _, lab = np.unique(lab, return_inverse=True)
    lab = lab.astype(np.int64)
    return lab, centre_nodes(lab, x, y, w, int(lab.max()) + 1, eligible)


def delineate_nodes(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    group: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    cost: np.ndarray,
    *,
    pop_min: float,
    pop_max: float,
    eligible: np.ndarray | None = None,
    n_iter: int = 30,
) -> Delineation:
    """Label every node with a life-circle unit nested in its group (see the module docstring).

    Parameters
    ----------
    x, y
        Node coordinates (metres).
    weights
        Residents per node.
    group
        Nesting unit per node (int ≥ 0; -1 = outside every nesting unit, left unlabelled).
    u, v, cost
        Directed edges and their cost (seconds, barrier penalties included).
    pop_min, pop_max
        Population range of a unit.
    eligible
        Nodes that may be seeds or centres (default all; pass the main network's nodes so that no
        unit grows from a disconnected fragment).
    n_iter
        Rounds of offset updates (population balancing).

    Returns
    -------
    Delineation
        Units numbered group by group, within a group north to south then west to east (by seed).
    """
    labels = np.full(x.size, -1, dtype=np.int64)
    all_seeds: list[int] = []
    all_groups: list[int] = []
    for gcode in np.unique(group[group >= 0]):
        idx = np.flatnonzero(group == gcode)
        local = np.full(x.size, -1, dtype=np.int64)
        local[idx] = np.arange(idx.size)
        keep = (local[u] >= 0) & (local[v] >= 0)
        lab, seeds = _group_units(
            x[idx], y[idx], np.asarray(weights, float)[idx], local[u[keep]], local[v[keep]], cost[keep],
            pop_min, pop_max, n_iter, np.ones(idx.size, bool) if eligible is None else np.asarray(eligible, bool)[idx],
        )
        # stable order: north to south, then west to east (1 m grid)
        order = np.lexsort((np.round(x[idx][seeds]), -np.round(y[idx][seeds])))
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        labels[idx] = len(all_seeds) + rank[lab]
        all_seeds.extend(idx[seeds[order]].tolist())
        all_groups.extend([int(gcode)] * order.size)
    return Delineation(labels=labels, seeds=np.asarray(all_seeds, dtype=np.int64), group=np.asarray(all_groups, dtype=np.int64))
