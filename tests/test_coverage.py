"""Tests of jlp_geo.coverage: multi-source costs vs networkx, direction, snapping, service areas."""

from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from jlp_geo.analysis.coverage import (
    CoverageWarning,
    build_csr,
    nearest_by_category,
    nearest_distances,
    reachable_segments,
    service_area,
    snap_layer,
    snap_points,
)
from jlp_geo.network import walk_network_from_osm

METRIC = "EPSG:4544"
X0, Y0 = 500_000.0, 3_300_000.0


def build(coords, ways, **kw):
    nodes = pd.DataFrame({"id": list(coords), "lon": [c[0] for c in coords.values()],
                          "lat": [c[1] for c in coords.values()]})
    ways_df = pd.DataFrame({"id": [w[0] for w in ways], "refs": [w[1] for w in ways], "tags": [w[2] for w in ways]})
    return walk_network_from_osm(nodes, ways_df, crs=METRIC, node_crs=METRIC, **kw)


def path_network(n=11, spacing=100.0):
    """A straight east-west footpath of n nodes, ids 0..n-1 (node index == id)."""
    coords = {i: (X0 + i * spacing, Y0) for i in range(n)}
    return build(coords, [(1, list(range(n)), {"highway": "footway"})])


def random_digraph(seed, n=150, m=600):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    w = rng.uniform(0.5, 100.0, m)
    # repeat some edges with other weights (parallel edges)
    k = m // 10
    u = np.r_[u, u[:k]]
    v = np.r_[v, v[:k]]
    w = np.r_[w, rng.uniform(0.5, 100.0, k)]
    return u, v, w


@pytest.mark.parametrize("seed", range(6))
def test_nearest_distances_equal_networkx_multi_source(seed):
    u, v, w = random_digraph(seed, n=150)
    n = 160  # 10 isolated nodes: unreachable for sure
    rng = np.random.default_rng(100 + seed)
    sources = rng.choice(150, size=4, replace=False)
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    for a, b, c in zip(u, v, w):
        g.add_edge(int(a), int(b), weight=float(c))
    # cost from x TO the nearest source = multi-source Dijkstra on the reversed graph
    ref = nx.multi_source_dijkstra_path_length(g.reverse(copy=True), set(sources.tolist()), weight="weight")
    ref_arr = np.array([ref.get(i, np.inf) for i in range(n)])
    got, near = nearest_distances(u, v, w, n, sources, return_sources=True)
    assert np.isinf(ref_arr).any() and np.isfinite(ref_arr).sum() > n // 2  # both cases occur
    assert np.array_equal(np.isinf(got), np.isinf(ref_arr))
    fin = np.isfinite(ref_arr)
    np.testing.assert_allclose(got[fin], ref_arr[fin], rtol=0, atol=1e-9)
    # the reported nearest source is a source, and its own distance is the minimum
    assert set(near[fin].tolist()) <= set(sources.tolist())
    assert (near[~fin] == -1).all()
    for x in np.flatnonzero(fin)[::10]:
        d = nx.dijkstra_path_length(g, int(x), int(near[x]), weight="weight")
        assert d == pytest.approx(got[x], abs=1e-9)


def test_parallel_edges_keep_the_minimum_not_the_sum():
    u = np.array([0, 0, 0])
    v = np.array([1, 1, 1])
    w = np.array([5.0, 2.0, 7.0])
    csr = build_csr(u, v, w, 2)
    assert csr.nnz == 1 and csr[0, 1] == 2.0
    np.testing.assert_array_equal(nearest_distances(u, v, w, 2, [1]), [2.0, 0.0])


def test_direction_is_home_to_service_on_asymmetric_graph():
    # 0 -> 1 -> 2 costs 1 and 2 (downhill); 2 -> 1 -> 0 costs 20 and 10 (uphill)
    u = np.array([0, 1, 2, 1])
    v = np.array([1, 2, 1, 0])
    w = np.array([1.0, 2.0, 20.0, 10.0])
    # service at node 2: from home 0 walk 0->1->2 = 3, from home 1: 2
    np.testing.assert_array_equal(nearest_distances(u, v, w, 3, [2]), [3.0, 2.0, 0.0])
    # service at node 0: from 2 walk 2->1->0 = 30
    np.testing.assert_array_equal(nearest_distances(u, v, w, 3, [0]), [0.0, 10.0, 30.0])


def test_unreachable_empty_and_bad_sources():
    u = np.array([0, 1])
    v = np.array([1, 0])
    w = np.array([1.0, 1.0])
    np.testing.assert_array_equal(nearest_distances(u, v, w, 4, [0]), [0.0, 1.0, np.inf, np.inf])
    np.testing.assert_array_equal(nearest_distances(u, v, w, 4, []), [np.inf] * 4)
    with pytest.raises(ValueError, match="source node indices"):
        nearest_distances(u, v, w, 4, [4])
    with pytest.raises(ValueError, match="source node indices"):
        nearest_distances(u, v, w, 4, [-1])
    with pytest.raises(ValueError, match="non-negative"):
        nearest_distances(u, v, np.array([1.0, -1.0]), 4, [0])
    with pytest.raises(ValueError, match="endpoints"):
        nearest_distances(u, np.array([1, 9]), w, 4, [0])


def test_limit_cuts_off_far_nodes_only():
    u, v, w = random_digraph(3)
    full = nearest_distances(u, v, w, 150, [0, 1])
    lim = float(np.median(full[np.isfinite(full)]))
    cut = nearest_distances(u, v, w, 150, [0, 1], limit=lim)
    near = full <= lim
    np.testing.assert_array_equal(cut[near], full[near])
    assert np.isinf(cut[~near]).all()


def test_nearest_by_category_on_network():
    net = path_network()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        costs, near = nearest_by_category(net, {"school": [0, 10], "clinic": [4], "none": []},
                                          metric="length", return_sources=True)
    assert any(issubclass(r.category, CoverageWarning) and "'none'" in str(r.message) for r in rec)
    np.testing.assert_allclose(costs["school"], [0, 100, 200, 300, 400, 500, 400, 300, 200, 100, 0])
    np.testing.assert_allclose(costs["clinic"], 100.0 * np.abs(np.arange(11) - 4))
    assert np.isinf(costs["none"]).all()
    assert near["school"].tolist() == [0] * 5 + [near["school"][5]] + [10] * 5
    t = nearest_by_category(net, {"clinic": [4]}, metric="time")
    np.testing.assert_allclose(t["clinic"], 100.0 * np.abs(np.arange(11) - 4))  # 60 m/min = 1 m/s


def test_time_metric_uses_reversed_graph_on_a_hill(tmp_path):
    import rasterio
    from affine import Affine

    # 10 % slope rising east; service at the top (x = 500)
    size, res = 120, 10.0
    cols = X0 + (np.arange(size) + 0.5) * res
    data = np.tile(0.1 * (cols - X0), (size, 1)).astype("float32")
    with rasterio.open(tmp_path / "d.tif", "w", driver="GTiff", height=size, width=size, count=1,
                       dtype="float32", crs=METRIC, transform=Affine(res, 0, X0, 0, -res, Y0 + size * res)) as ds:
        ds.write(data, 1)
    coords = {i: (X0 + 100.0 * i, Y0 + 600.0) for i in range(1, 6)}
    net = build(coords, [(1, [1, 2, 3, 4, 5], {"highway": "footway"})], dem=tmp_path / "d.tif")
    top = int(np.flatnonzero(net.node_ids == 5)[0])
    bottom = int(np.flatnonzero(net.node_ids == 1)[0])
    t = nearest_by_category(net, {"s": [top]}, metric="time")["s"]
    # home at the bottom walks 400 m uphill at 10 %: 400 / exp(-0.35) s, not 400 s (downhill)
    assert t[bottom] == pytest.approx(400.0 / math.exp(-0.35), rel=1e-5)
    t2 = nearest_by_category(net, {"s": [bottom]}, metric="time")["s"]
    assert t2[top] == pytest.approx(400.0, rel=1e-5)


# ---------------------------------------------------------------- snapping


def test_snap_points_flags_far_points():
    net = path_network()
    xs = np.array([X0 + 130.0, X0 + 990.0, X0 + 500.0, X0 + 2000.0, np.nan])
    ys = np.array([Y0 + 40.0, Y0 - 5.0, Y0 + 300.0, Y0, Y0])
    snap = snap_points(net, xs, ys, max_dist_m=200.0)
    assert snap["node"].tolist() == [1, 10, -1, -1, -1]
    assert snap["nearest_node"].tolist()[:4] == [1, 10, 5, 10]
    np.testing.assert_allclose(snap["dist_m"][:4], [math.hypot(30, 40), math.hypot(10, 5), 300.0, 1000.0])
    assert snap["off_network"].tolist() == [False, False, True, True, True]


def test_snap_min_component_size_and_layer():
    import geopandas as gpd

    coords = {i: (X0 + 100.0 * i, Y0) for i in range(5)}
    coords.update({10: (X0 + 200.0, Y0 + 30.0), 11: (X0 + 210.0, Y0 + 35.0)})  # 2-node island near node 2
    net = build(coords, [(1, [0, 1, 2, 3, 4], {"highway": "footway"}), (2, [10, 11], {"highway": "path"})])
    island = int(np.flatnonzero(net.node_ids == 10)[0])
    main2 = int(np.flatnonzero(net.node_ids == 2)[0])
    pt = ([X0 + 200.0], [Y0 + 25.0])
    assert snap_points(net, *pt)["node"].tolist() == [island]
    assert snap_points(net, *pt, min_component_size=3)["node"].tolist() == [main2]
    gdf = gpd.GeoDataFrame({"name": ["a", "b"]},
                           geometry=[shapely.Point(X0 + 200.0, Y0 + 25.0).buffer(5), shapely.Point(X0, Y0 + 900)],
                           crs=METRIC)
    out = snap_layer(net, gdf, min_component_size=3)
    assert out["node"].tolist() == [main2, -1]
    assert out["off_network"].tolist() == [False, True]
    assert out.crs == gdf.crs


# ---------------------------------------------------------------- service areas


def corridor_length(area: shapely.Geometry, buffer_m: float, n_ends: int = 2) -> float:
    """Centre-line length of a buffered straight line: area = 2 b L + pi b^2 (round caps)."""
    return (area.area - math.pi * buffer_m**2 * n_ends / 2) / (2 * buffer_m)


def test_partial_edges_give_analytic_reachable_length():
    net = path_network()  # 1 km, nodes every 100 m
    cost = nearest_by_category(net, {"s": [0]})["s"].to_numpy()
    segs = reachable_segments(net, cost, 450.0)
    # 4 full edges reached from their east end... plus 50 m of edge 4-5
    union = shapely.union_all(segs)
    assert union.length == pytest.approx(450.0, abs=1e-9)
    b = 10.0
    area = service_area(net, cost, 450.0, buffer_m=b)
    assert corridor_length(area, b) == pytest.approx(450.0, rel=2e-3)  # quad_segs=4 caps
    assert area.covers(shapely.Point(X0 + 445.0, Y0)) and not area.covers(shapely.Point(X0 + 465.0, Y0))
    # source in the middle: 250 m each way
    cost = nearest_by_category(net, {"s": [5]})["s"].to_numpy()
    assert shapely.union_all(reachable_segments(net, cost, 250.0)).length == pytest.approx(500.0)
    # threshold inside the first edge
    assert shapely.union_all(reachable_segments(net, cost, 30.0)).length == pytest.approx(60.0)
    assert service_area(net, cost, 0.0).is_empty


def test_service_area_follows_streets_not_hull():
    # L-shaped street: 500 m east then 500 m north; the hull would cover the corner triangle
    coords = {i: (X0 + 100.0 * i, Y0) for i in range(6)}
    coords.update({10 + i: (X0 + 500.0, Y0 + 100.0 * i) for i in range(1, 6)})
    net = build(coords, [(1, [0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15], {"highway": "footway"})])
    src = int(np.flatnonzero(net.node_ids == 5)[0])
    cost = nearest_by_category(net, {"s": [src]})["s"].to_numpy()
    area = service_area(net, cost, 1000.0, buffer_m=20.0)
    assert area.covers(shapely.Point(X0 + 10, Y0)) and area.covers(shapely.Point(X0 + 500, Y0 + 490))
    assert not area.covers(shapely.Point(X0 + 250, Y0 + 250))  # inside the hull, far from streets
    assert shapely.union_all(reachable_segments(net, cost, 1000.0)).length == pytest.approx(1000.0)


def test_partial_edge_on_hill_uses_direction_of_travel(tmp_path):
    import rasterio
    from affine import Affine

    size, res = 120, 10.0
    cols = X0 + (np.arange(size) + 0.5) * res
    data = np.tile(0.1 * (cols - X0), (size, 1)).astype("float32")  # 10 % rising east
    with rasterio.open(tmp_path / "d.tif", "w", driver="GTiff", height=size, width=size, count=1,
                       dtype="float32", crs=METRIC, transform=Affine(res, 0, X0, 0, -res, Y0 + size * res)) as ds:
        ds.write(data, 1)
    coords = {1: (X0 + 100.0, Y0 + 600), 2: (X0 + 500.0, Y0 + 600), 3: (X0 + 900.0, Y0 + 600)}
    net = build(coords, [(1, [1, 2, 3], {"highway": "footway"})], dem=tmp_path / "d.tif")
    mid = int(np.flatnonzero(net.node_ids == 2)[0])
    cost = nearest_by_category(net, {"s": [mid]}, metric="time")["s"].to_numpy()
    segs = reachable_segments(net, cost, 100.0, metric="time")
    # 100 s: west of the service people walk uphill (speed exp(-0.35) m/s), east of it downhill (1 m/s)
    west = sum(s.length for s in segs if s.bounds[0] < X0 + 500 - 1e-6)
    east = sum(s.length for s in segs if s.bounds[2] > X0 + 500 + 1e-6)
    assert west == pytest.approx(100.0 * math.exp(-0.35), rel=1e-5)
    assert east == pytest.approx(100.0, rel=1e-5)
