"""Benchmark: delineating life-circle units on a district-sized walk network.

On one synthetic street-like network (a jittered grid in metres with 15 % of the edges removed;
synthetic data, for benchmarking only) split into 20 nesting units (镇街) with a gamma-distributed
population (~2.4 million people), this times, in the same process:

1. ``jlp_geo.analysis.circles.delineate_nodes`` -- the whole delineation (seeds, 5 network-Lloyd
   rounds, up to 30 balancing rounds, merging), every 镇街;
2. ``jlp_geo.analysis.circles.territory.territories`` -- the polygons (Voronoi cells dissolved per unit);
3. the baseline: **one** network-Voronoi assignment with ``networkx.voronoi_cells`` (multi-source
   Dijkstra in pure Python) per 镇街 with the same number of seeds -- the delineation runs up to 36
   such growth rounds per 镇街; the ratio printed is one networkx round over the whole delineation.

Usage::

    python scripts/bench_circles.py [--side 400] [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def make_network(side: int, seed: int = 7, spacing: float = 50.0):
    """Jittered grid (metres), 15 % of edges removed, both directions; population per node (gamma)."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(side) * spacing, np.arange(side) * spacing)
    x = gx.ravel() + rng.normal(0, spacing * 0.1, side * side)
    y = gy.ravel() + rng.normal(0, spacing * 0.1, side * side)
    idx = np.arange(side * side).reshape(side, side)
    a = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    b = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    keep = rng.random(a.size) > 0.15
    a, b = a[keep], b[keep]
    u, v = np.r_[a, b], np.r_[b, a]
    cost = np.hypot(x[u] - x[v], y[u] - y[v])  # seconds at 60 m/min = 1 m/s
    w = rng.gamma(0.5, 30.0, side * side)
    span = side * spacing
    group = (np.floor(x / (span / 5)).clip(0, 4) + 5 * np.floor(y / (span / 4)).clip(0, 3)).astype(np.int64)
    return x, y, u, v, cost, w, group


def main() -> None:
    import networkx as nx
    import shapely

    from jlp_geo.analysis.circles import delineate_nodes
    from jlp_geo.analysis.circles.delineate import unit_count, weighted_kmeans_seeds
    from jlp_geo.analysis.circles.territory import territories

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=400, help="grid side (nodes = side²; default 400 -> 160,000)")
    ap.add_argument("--quick", action="store_true", help="side 150, for a smoke run")
    args = ap.parse_args()
    side = 150 if args.quick else args.side
    x, y, u, v, cost, w, group = make_network(side)
    print(f"network: {x.size:,} nodes, {u.size // 2:,} segments, {int(np.unique(group).size)} 镇街, {w.sum():,.0f} people (synthetic)")

    t0 = time.perf_counter()
    d = delineate_nodes(x, y, w, group, u, v, cost, pop_min=50_000, pop_max=100_000)
    t_del = time.perf_counter() - t0
    pops = np.bincount(d.labels[d.labels >= 0], weights=w[d.labels >= 0])
    print(f"jlp_geo delineate_nodes: {t_del:.2f} s -> {pops.size} units, population {pops.min():,.0f} – {pops.max():,.0f}")

    polys = {int(g): shapely.box(x[group == g].min() - 25, y[group == g].min() - 25, x[group == g].max() + 25, y[group == g].max() + 25)
             for g in np.unique(group)}
    t0 = time.perf_counter()
    terr = territories(x, y, d.labels, group, d.group, polys)
    t_ter = time.perf_counter() - t0
    print(f"jlp_geo territories:     {t_ter:.2f} s -> {len(terr)} polygons")

    t0 = time.perf_counter()
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        k = unit_count(float(w[idx].sum()), 50_000, 100_000, idx.size)
        seeds = idx[weighted_kmeans_seeds(x[idx], y[idx], w[idx], k)]
        inside = np.zeros(x.size, bool)
        inside[idx] = True
        m = inside[u] & inside[v]
        graph = nx.DiGraph()
        graph.add_weighted_edges_from(zip(v[m].tolist(), u[m].tolist(), cost[m].tolist()))
        graph.add_nodes_from(idx.tolist())
        nx.voronoi_cells(graph, set(seeds.tolist()), weight="weight")
    t_nx = time.perf_counter() - t0
    print(f"baseline networkx.voronoi_cells, ONE round (graph build included): {t_nx:.2f} s")
    print(f"ratio: one networkx round / the whole jlp_geo delineation (up to 36 growth rounds per 镇街) = {t_nx / t_del:.1f}x")


if __name__ == "__main__":
    main()
