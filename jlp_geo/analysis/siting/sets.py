"""Sparse coverage sets: which candidate sites reach which demand nodes within a threshold.

Built on the coverage engine's CSR graph (:func:`jlp_geo.analysis.coverage.build_csr`), with *bounded*
searches: one Dijkstra per candidate, stopped at the threshold (``limit``), run in chunks so that no
dense candidates × nodes matrix larger than :data:`CHUNK_CELLS` cells ever exists.  The result is a
sparse boolean matrix (candidates × demand), the only input the models need.

Direction is the coverage engine's: a demand node ``x`` is covered by a site ``s`` when the walk
``x -> s`` (home to service) costs at most the threshold; the searches therefore run from each
candidate on the **reversed** graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from ..coverage import build_csr, nearest_distances

__all__ = ["CHUNK_CELLS", "CoverageSets", "coverage_sets", "covered_nodes"]

CHUNK_CELLS: int = 4_000_000
"""Largest number of cells (sources × nodes) of one dense Dijkstra block (32 MB of float64)."""


@dataclass
class CoverageSets:
    """Which candidate covers which demand node.

    Attributes
    ----------
    matrix
        Sparse boolean ``n_candidates × n_demand`` (row = candidate, column = demand node).
    candidate_nodes
        Network node index of each candidate (row order).
    demand_nodes
        Network node index of each demand node (column order).
    threshold
        The cost limit (metres or seconds) the sets were built with.
    costs
        The walk cost of every pair of :attr:`matrix` (same sparsity pattern and order; zeros kept).
    """

    matrix: csr_array
    candidate_nodes: np.ndarray
    demand_nodes: np.ndarray
    threshold: float
    costs: csr_array | None = None

    @property
    def n_pairs(self) -> int:
        """Number of (candidate, demand) pairs within the threshold (non-zeros)."""
        return int(self.matrix.nnz)


def covered_nodes(
    u: np.ndarray, v: np.ndarray, weight: np.ndarray, n_nodes: int, sources: np.ndarray | list[int], threshold: float
) -> np.ndarray:
    """Boolean per node: the nearest of *sources* is within *threshold* (home → service).

    One bounded multi-source Dijkstra (:func:`jlp_geo.analysis.coverage.nearest_distances`).
    """
    if len(np.asarray(sources)) == 0:
        return np.zeros(int(n_nodes), dtype=bool)
    dist = nearest_distances(u, v, weight, n_nodes, sources, limit=float(threshold))
    return np.asarray(dist) <= threshold


def coverage_sets(
    u: np.ndarray,
    v: np.ndarray,
    weight: np.ndarray,
    n_nodes: int,
    candidates: np.ndarray,
    demand: np.ndarray,
    threshold: float,
    *,
    chunk_cells: int = CHUNK_CELLS,
) -> CoverageSets:
    """Sparse coverage sets from bounded searches on the network.

    Parameters
    ----------
    u, v, weight
        Directed edges ``u -> v`` and their cost (metres or seconds), as for the coverage engine.
    n_nodes
        Number of network nodes.
    candidates
        Node index of every candidate site (duplicates allowed; each keeps its own row).
    demand
        Node index of every demand node (columns), e.g. the nodes with people not yet covered.
    threshold
        Largest cost from a demand node to a site for it to count as covered.
    chunk_cells
        Memory bound: candidates are searched in blocks of ``chunk_cells // n_nodes``.

    Returns
    -------
    CoverageSets

    Raises
    ------
    ValueError
        On out-of-range node indices or a non-positive threshold.
    """
    n = int(n_nodes)
    cand = np.asarray(candidates, dtype=np.int64)
    dem = np.asarray(demand, dtype=np.int64)
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    for name, arr in (("candidates", cand), ("demand", dem)):
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValueError(f"{name} node indices must lie in [0, {n})")
    g = build_csr(u, v, weight, n, reverse=True)
    # column of each demand node (-1 = not demand); a node listed twice keeps its last column
    col_of = np.full(n, -1, dtype=np.int64)
    col_of[dem] = np.arange(dem.size)
    uniq, inverse = np.unique(cand, return_inverse=True)
    block = max(1, int(chunk_cells) // max(n, 1))
    rows_parts, cols_parts, cost_parts = [], [], []
    for start in range(0, uniq.size, block):
        src = uniq[start : start + block]
        dist = np.atleast_2d(dijkstra(g, directed=True, indices=src, limit=float(threshold)))
        r, c = np.nonzero(dist <= threshold)
        d = dist[r, c]
        c = col_of[c]
        keep = c >= 0
        rows_parts.append(r[keep] + start)
        cols_parts.append(c[keep])
        cost_parts.append(d[keep])
    rows = np.concatenate(rows_parts) if rows_parts else np.empty(0, np.int64)
    cols = np.concatenate(cols_parts) if cols_parts else np.empty(0, np.int64)
    cost = np.concatenate(cost_parts) if cost_parts else np.empty(0)
    # CSR by hand (rows sorted, columns sorted within rows): explicit zero costs (a site on a demand node) are kept
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows, minlength=uniq.size)[inverse]
    starts = np.r_[0, np.cumsum(np.bincount(rows, minlength=uniq.size))]
    take = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in inverse]) if cand.size else np.empty(0, np.int64)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    indices = cols[order][take].astype(np.int64)
    shape = (cand.size, dem.size)
    matrix = csr_array((np.ones(indices.size, dtype=bool), indices, indptr), shape=shape)
    costs = csr_array((cost[order][take], indices.copy(), indptr.copy()), shape=shape)
    return CoverageSets(matrix=matrix, candidate_nodes=cand, demand_nodes=dem, threshold=float(threshold), costs=costs)
