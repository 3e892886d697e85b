"""Nearest-service costs per category, point snapping and service areas.

The core works on plain arrays (edge lists + source node indices) and never
touches geopandas; :func:`nearest_by_category`, :func:`snap_points` and
:func:`service_area` are thin adapters over a :class:`~jlp_geo.network.WalkNetwork`.

Direction.  Coverage asks "how long from *home* to the nearest service".  With
anisotropic (hill-aware) times, ``d(home -> service) != d(service -> home)``,
so one multi-source Dijkstra is run *from all services of a category at once*
on the **reversed** graph: a path ``s -> x`` in the reversed graph is the path
``x -> s`` in the real one.  One run per category, not one per facility.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from ..crs import to_analysis
from ..network import WalkNetwork
from ..progress import track

DEFAULT_SNAP_M: float = 200.0
"""Default largest distance (m) from a point to its network node before it is flagged off-network."""

DEFAULT_BUFFER_M: float = 25.0
"""Default half-width (m) of the corridor drawn around reachable street segments."""


class CoverageWarning(UserWarning):
    """A coverage result is degenerate (e.g. a category without any service)."""


def build_csr(
    u: np.ndarray, v: np.ndarray, weight: np.ndarray, n_nodes: int, *, reverse: bool = False
) -> csr_array:
    """Directed graph as a CSR matrix, keeping the *smallest* weight of parallel edges.

    ``scipy.sparse`` would *sum* duplicate entries; here parallel edges
    ``(u, v)`` collapse to their minimum, self-loops are dropped and zero
    weights are kept as real (zero-cost) edges.

    Parameters
    ----------
    u, v
        Edge endpoints (node indices in ``[0, n_nodes)``).
    weight
        Non-negative finite edge costs.
    n_nodes
        Number of nodes.
    reverse
        Build the transpose (edge ``u -> v`` becomes ``v -> u``).

    Returns
    -------
    scipy.sparse.csr_array
        ``n_nodes x n_nodes``, float64 data, int32 indices.

    Raises
    ------
    ValueError
        On mismatched lengths, out-of-range nodes, negative or non-finite weights.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    w = np.asarray(weight, dtype=np.float64)
    if not (u.shape == v.shape == w.shape) or u.ndim != 1:
        raise ValueError(f"u, v and weight must be 1-D of equal length, got {u.shape}, {v.shape}, {w.shape}")
    n_nodes = int(n_nodes)
    if u.size:
        lo = min(u.min(), v.min())
        hi = max(u.max(), v.max())
        if lo < 0 or hi >= n_nodes:
            raise ValueError(f"edge endpoints must lie in [0, {n_nodes}), found range [{lo}, {hi}]")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("edge weights must be finite and non-negative")
    rows, cols = (v, u) if reverse else (u, v)
    keep = rows != cols
    # one int64 sort key per (row, col); parallel edges become adjacent and
    # collapse to their minimum weight
    key = rows[keep].astype(np.int64) * n_nodes + cols[keep].astype(np.int64)
    w = w[keep]
    order = np.argsort(key, kind="stable")
    key, w = key[order], w[order]
    if key.size:
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        if starts.size < key.size:
            w = np.minimum.reduceat(w, starts)
            key = key[starts]
    rows, cols = np.divmod(key, n_nodes)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_nodes), out=indptr[1:])
    idx_dtype = np.int32 if max(n_nodes, rows.size) < np.iinfo(np.int32).max else np.int64
    return csr_array((w, cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n_nodes, n_nodes))


def _check_sources(sources: np.ndarray | list[int], n_nodes: int) -> np.ndarray:
    src = np.asarray(sources)
    if src.size == 0:
        return np.empty(0, dtype=np.int32)
    if src.ndim != 1 or not np.issubdtype(src.dtype, np.integer):
        raise ValueError("sources must be a 1-D array of integer node indices")
    if src.min() < 0 or src.max() >= n_nodes:
        bad = src[(src < 0) | (src >= n_nodes)][:5].tolist()
        raise ValueError(
            f"source node indices must lie in [0, {n_nodes}); got e.g. {bad} "
            "(drop off-network points, node == -1 from snap_points, first)"
        )
    return np.unique(src).astype(np.int32)


def _nearest_on_csr(
    reversed_csr: csr_array, sources: np.ndarray, limit: float, return_sources: bool
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    n = reversed_csr.shape[0]
    if sources.size == 0:
        dist = np.full(n, np.inf)
        return (dist, np.full(n, -1, dtype=np.int64)) if return_sources else dist
    if return_sources:
        dist, _pred, src = dijkstra(
            reversed_csr, directed=True, indices=sources, limit=limit, min_only=True, return_predecessors=True
        )
        src = np.where(np.isfinite(dist), src, -1).astype(np.int64)
        return dist, src
    return dijkstra(reversed_csr, directed=True, indices=sources, limit=limit, min_only=True)


def nearest_distances(
    u: np.ndarray,
    v: np.ndarray,
    weight: np.ndarray,
    n_nodes: int,
    sources: np.ndarray | list[int],
    *,
    limit: float = np.inf,
    return_sources: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Cost from every node *to* its nearest source, in one multi-source Dijkstra.

    Parameters
    ----------
    u, v, weight
        Directed edges ``u -> v`` with non-negative cost (parallel edges: the
        cheapest counts).
    n_nodes
        Number of nodes.
    sources
        Node indices of the services (duplicates are fine).  Empty: all costs
        are ``inf`` (the caller should warn).
    limit
        Stop searching beyond this cost; nodes farther than *limit* get ``inf``.
        Coverage needs costs only up to its largest threshold, so a limit of
        e.g. twice that threshold saves time on large networks.
    return_sources
        Also return the index of the nearest source per node (-1 where unreachable).

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        Float64 cost per node (``inf`` where no source is reachable within
        *limit*), and optionally the nearest source per node.

    Raises
    ------
    ValueError
        If an edge or a source index is out of range, or a weight is negative.

    Notes
    -----
    The cost of ``x`` is ``min_s d(x -> s)`` along edge directions, computed
    as a single ``scipy.sparse.csgraph.dijkstra(..., min_only=True)`` run from
    all sources on the transposed graph.
    """
    src = _check_sources(sources, int(n_nodes))
    g = build_csr(u, v, weight, n_nodes, reverse=True)
    return _nearest_on_csr(g, src, float(limit), return_sources)


def nearest_by_category(
    network: WalkNetwork,
    sources_by_category: Mapping[str, np.ndarray | list[int]],
    metric: str = "length",
    *,
    limit: float | None = None,
    return_sources: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Cost from every network node to the nearest service of each category.

    The reversed CSR graph is built once; then one multi-source Dijkstra runs
    per category.

    Parameters
    ----------
    network
        The walk network.
    sources_by_category
        Category name -> node indices of its services (e.g. the ``node`` column
        of :func:`snap_points`, off-network rows removed).
    metric
        ``"length"`` (network metres, the distance rule) or ``"time"``
        (seconds at the network's speed, hill-aware if it was built with a DEM).
    limit
        Optional search cutoff in the metric's unit (see :func:`nearest_distances`).
    return_sources
        Also return, per category, the node index of the nearest service (-1 if none).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
        Costs: index = node index, one float column per category (metres or
        seconds; ``inf`` = unreachable).  With *return_sources*, a second frame
        of the same shape holding nearest-source node indices.

    Warns
    -----
    CoverageWarning
        For a category without any service (its column is all ``inf``).
    """
    w = network.weight(metric)
    n = network.n_nodes
    g = build_csr(network.u, network.v, w, n, reverse=True)
    lim = np.inf if limit is None else float(limit)
    costs: dict[str, np.ndarray] = {}
    nearest: dict[str, np.ndarray] = {}
    for cat, sources in track(list(sources_by_category.items()), "逐类最短路径 per-category search"):
        src = _check_sources(sources, n)
        if src.size == 0:
            warnings.warn(
                f"category {cat!r} has no service on the network: every node is reported as not covered",
                CoverageWarning,
                stacklevel=2,
            )
        res = _nearest_on_csr(g, src, lim, return_sources)
        if return_sources:
            costs[cat], nearest[cat] = res  # type: ignore[misc]
        else:
            costs[cat] = res  # type: ignore[assignment]
    index = pd.RangeIndex(n, name="node")
    cost_df = pd.DataFrame(costs, index=index)
    if return_sources:
        return cost_df, pd.DataFrame(nearest, index=index)
    return cost_df


def snap_points(
    network: WalkNetwork,
    xs: np.ndarray,
    ys: np.ndarray,
    max_dist_m: float = DEFAULT_SNAP_M,
    *,
    min_component_size: int = 1,
) -> pd.DataFrame:
    """Snap points (analysis CRS) to their nearest network node.

    Parameters
    ----------
    network
        The walk network.
    xs, ys
        Point coordinates in ``network.crs`` (metres).
    max_dist_m
        Points farther than this from every candidate node are flagged
        ``off_network`` and get ``node = -1`` -- they are not silently snapped.
    min_component_size
        Only nodes in components with at least this many nodes are candidates
        (e.g. 100 keeps services off tiny isolated footway fragments).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``node`` (int64, -1 if off-network), ``nearest_node``
        (the nearest candidate regardless of distance), ``dist_m`` (distance to
        it) and ``off_network`` (bool).  The snap distance is *not* added to
        network costs; add ``dist_m`` yourself if an access leg is wanted.
    """
    from scipy.spatial import cKDTree

    xs = np.asarray(xs, dtype=float).ravel()
    ys = np.asarray(ys, dtype=float).ravel()
    if xs.shape != ys.shape:
        raise ValueError("xs and ys must have the same length")
    cand = np.flatnonzero(network.component_size >= min_component_size)
    if cand.size == 0 or xs.size == 0:
        return pd.DataFrame(
            {
                "node": np.full(xs.size, -1, np.int64),
                "nearest_node": np.full(xs.size, -1, np.int64),
                "dist_m": np.full(xs.size, np.inf),
                "off_network": np.ones(xs.size, dtype=bool),
            }
        )
    tree = cKDTree(np.column_stack([network.x[cand], network.y[cand]]))
    finite = np.isfinite(xs) & np.isfinite(ys)
    dist = np.full(xs.size, np.inf)
    nearest = np.full(xs.size, -1, dtype=np.int64)
    if finite.any():
        d, i = tree.query(np.column_stack([xs[finite], ys[finite]]))
        dist[finite] = d
        nearest[finite] = cand[i]
    off = ~(dist <= max_dist_m)
    return pd.DataFrame(
        {"node": np.where(off, -1, nearest), "nearest_node": nearest, "dist_m": dist, "off_network": off}
    )


def snap_layer(
    network: WalkNetwork,
    gdf: gpd.GeoDataFrame,
    max_dist_m: float = DEFAULT_SNAP_M,
    *,
    min_component_size: int = 1,
) -> gpd.GeoDataFrame:
    """Snap a point/polygon layer (any CRS) to the network; adds ``node``, ``snap_dist_m``, ``off_network``.

    Polygons are snapped by their representative point.  The returned layer
    keeps the input's CRS and rows.
    """
    proj = to_analysis(gdf, network.crs)
    pts = shapely.point_on_surface(proj.geometry.values)
    xy = shapely.get_coordinates(pts, include_z=False) if len(pts) else np.empty((0, 2))
    xs = np.full(len(gdf), np.nan)
    ys = np.full(len(gdf), np.nan)
    has = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)
    xs[has], ys[has] = xy[:, 0], xy[:, 1]
    snap = snap_points(network, xs, ys, max_dist_m, min_component_size=min_component_size)
    out = gdf.copy()
    out["node"] = snap["node"].to_numpy()
    out["snap_dist_m"] = snap["dist_m"].to_numpy()
    out["off_network"] = snap["off_network"].to_numpy()
    return out


def reachable_segments(
    network: WalkNetwork, node_cost: np.ndarray, threshold: float, metric: str = "length"
) -> np.ndarray:
    """Street pieces from which the nearest source is within *threshold*, partial edges included.

    For each directed edge ``p -> q`` (length ``L``, cost ``w``) with
    ``cost(q) < threshold``, a walker anywhere on the last
    ``min(L, (threshold - cost(q)) * L / w)`` metres before ``q`` reaches a
    source in time, walking towards ``q``; that piece is returned.  Both
    directions of a street contribute, so a street reached from both ends is
    covered from both ends.

    Parameters
    ----------
    network
        The walk network.
    node_cost
        Cost per node to the nearest source (from :func:`nearest_by_category`), in *metric* units.
    threshold
        Largest acceptable cost (metres or seconds).
    metric
        ``"length"`` or ``"time"``; must match *node_cost*.

    Returns
    -------
    numpy.ndarray
        Shapely LineStrings (analysis CRS), possibly overlapping.
    """
    cost = np.asarray(node_cost, dtype=float)
    if cost.shape != (network.n_nodes,):
        raise ValueError(f"node_cost must have one value per node ({network.n_nodes}), got shape {cost.shape}")
    w = network.weight(metric)
    L = network.length_m
    cq = cost[network.v]
    sel = np.flatnonzero(cq < threshold)
    if sel.size == 0:
        return np.empty(0, dtype=object)
    slack = threshold - cq[sel]
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(w[sel] > 0, slack * L[sel] / w[sel], np.inf)
    frac = np.clip(np.where(L[sel] > 0, reach / np.where(L[sel] > 0, L[sel], 1.0), 1.0), 0.0, 1.0)
    p, q = network.u[sel], network.v[sel]
    qx, qy = network.x[q], network.y[q]
    sx = qx + (network.x[p] - qx) * frac
    sy = qy + (network.y[p] - qy) * frac
    keep = L[sel] > 0
    coords = np.stack([np.column_stack([sx, sy]), np.column_stack([qx, qy])], axis=1)[keep]
    return shapely.linestrings(coords)


def service_area(
    network: WalkNetwork,
    node_cost: np.ndarray,
    threshold: float,
    buffer_m: float = DEFAULT_BUFFER_M,
    metric: str = "length",
) -> shapely.Geometry:
    """Service area (服务范围) as a polygon: reachable street pieces, buffered.

    Not a convex hull: only streets from which the service is within
    *threshold* count, partial edges included (see :func:`reachable_segments`);
    the union of those pieces is buffered by *buffer_m* to give a polygon that
    covers the buildings along them.

    Parameters
    ----------
    network, node_cost, threshold, metric
        As for :func:`reachable_segments`.
    buffer_m
        Half-width of the corridor around reachable streets (default 25 m).

    Returns
    -------
    shapely.Geometry
        (Multi)Polygon in ``network.crs``; an empty polygon if nothing is reachable.
    """
    segs = reachable_segments(network, node_cost, threshold, metric)
    if segs.size == 0:
        return shapely.Polygon()
    # node the pieces, merge them into long lines, buffer each line and union the
    # corridors: ~5x faster than buffering one big MultiLineString in GEOS
    lines = shapely.get_parts(shapely.line_merge(shapely.union_all(segs)))
    return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
