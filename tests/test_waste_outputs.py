"""`run_waste` end to end: files, labels, the allocation on the real plan figures, escaping, and the
map and report in headless Chromium with no network.

Two runs share the same (schematic) 镇街: one without OSM data (straight line × detour factor, which
must be labelled everywhere) and one with a SYNTHETIC OSM street grid, receptors with hostile names,
a synthetic population raster and two user construction sites (test data only, never mapped).
"""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from jlp_geo.config import load_profile
from jlp_geo.errors import InputDataError
from jlp_geo.io import read_gpkg_info
from jlp_geo.layers import admin
from jlp_geo.viz import escape_text, external_references
from jlp_geo.analysis.waste import analyse_waste
from jlp_geo.pipeline import run_waste

HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "</script><script>window.__pwned=1</script>",
    "`${window.__pwned=1}`",
]
FACILITY_HUAYAN = (106.443, 29.478)  # gazetteer estimate of 华岩装修垃圾分选场
METRIC = "EPSG:4544"


def _write_osm(path: Path) -> Path:
    """A synthetic 1 km street grid over the district, schools/hospital near 华岩 and two residential areas."""
    nodes, ways = [], []
    lons = np.round(np.arange(106.24, 106.571, 0.01), 5)
    lats = np.round(np.arange(29.24, 29.571, 0.01), 5)
    nid, k = {}, 1
    for i, la in enumerate(lats):
        for j, lo in enumerate(lons):
            nid[(i, j)] = k
            nodes.append((k, lo, la, {}))
            k += 1
    w = 1
    for i in range(len(lats)):
        ways.append((w, [nid[(i, j)] for j in range(len(lons))], {"highway": "secondary", "name": HOSTILE[1] if i == 5 else f"横{i}路"}))
        w += 1
    for j in range(len(lons)):
        ways.append((w, [nid[(i, j)] for i in range(len(lats))], {"highway": "tertiary"}))
        w += 1
    for lo, la, t in [
        (106.446, 29.478, {"amenity": "school", "name": HOSTILE[0]}),  # ≈ 290 m east of the point
        (106.443, 29.4855, {"amenity": "kindergarten", "name": "华岩幼儿园"}),  # ≈ 830 m north
        (106.463, 29.478, {"amenity": "hospital", "name": HOSTILE[2]}),  # ≈ 1.9 km: only "possibly within"
    ]:
        nodes.append((k, lo, la, t))
        k += 1
    for name, corners in [
        ("华岩小区", [(106.445, 29.476), (106.452, 29.476), (106.452, 29.482), (106.445, 29.482)]),
        ("东部居住区", [(106.455, 29.49), (106.52, 29.49), (106.52, 29.53), (106.455, 29.53)]),
    ]:
        ring = []
        for lo, la in corners:
            nodes.append((k, lo, la, {}))
            ring.append(k)
            k += 1
        ways.append((w, ring + [ring[0]], {"landuse": "residential", "name": name}))
        w += 1
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="jlp_geo synthetic test">\n')
        f.write('<meta osm_base="2026-01-05T00:00:00Z"/>\n')
        for i, lo, la, t in nodes:
            tags = "".join(f"<tag k={quoteattr(a)} v={quoteattr(b)}/>" for a, b in t.items())
            f.write(f'<node id="{i}" version="1" lat="{la}" lon="{lo}">{tags}</node>\n')
        for i, refs, t in ways:
            body = "".join(f'<nd ref="{r}"/>' for r in refs) + "".join(f"<tag k={quoteattr(a)} v={quoteattr(b)}/>" for a, b in t.items())
            f.write(f'<way id="{i}" version="1">{body}</way>\n')
        f.write("</osm>\n")
    return path


def _write_population(path: Path) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    """60×60 cells of 0.001° around 华岩, 200 people each (synthetic)."""
    import rasterio
    from rasterio.transform import from_origin

    n, cell, west, north = 60, 0.001, 106.413, 29.508
    data = np.full((n, n), 200.0, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=n, width=n, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(west, north, cell, cell), nodata=-1) as dst:
        dst.write(data, 1)
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    lon = west + (cols.ravel() + 0.5) * cell
    lat = north - (rows.ravel() + 0.5) * cell
    return path, lon, lat, data.ravel()


@pytest.fixture(scope="module")
def towns():
    profile = load_profile()
    return admin.build_townships(profile, admin.build_district(profile))


@pytest.fixture(scope="module")
def plain(tmp_path_factory, towns):
    out = tmp_path_factory.mktemp("waste_plain")
    result, files = run_waste(out, townships=towns)
    return out, result, files


@pytest.fixture(scope="module")
def withosm(tmp_path_factory, towns):
    base = tmp_path_factory.mktemp("waste_osm_in")
    osm = _write_osm(base / "synthetic.osm")
    pop, lon, lat, values = _write_population(base / "pop.tif")
    sites = gpd.GeoDataFrame(
        {"name_zh": [HOSTILE[0], "工地B"], "decoration": [2.0, 1.5], "source": ["测试 test", HOSTILE[2]]},
        geometry=[Point(106.50, 29.52), Point(106.33, 29.34)], crs="EPSG:4490",
    )
    sites_path = base / "sites.geojson"
    sites.to_file(sites_path, driver="GeoJSON")
    out = tmp_path_factory.mktemp("waste_osm")
    result, files = run_waste(out, townships=towns, osm=osm, population=pop, sites_file=sites_path, proxy="area", tianditu_token="t<k>")
    return out, result, files, (lon, lat, values)


def _csv(out: Path, name: str) -> pd.DataFrame:
    raw = (out / "tables" / f"{name}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel on Chinese Windows
    return pd.read_csv(out / "tables" / f"{name}.csv", encoding="utf-8-sig")


# --------------------------------------------------------------------------- files and labels


def test_outputs_and_straight_line_label_without_osm(plain) -> None:
    out, result, files = plain
    rel = sorted(str(f.relative_to(out)) for f in files)
    assert rel == sorted(
        ["waste.gpkg", "maps/waste.html", "waste_report.html"]
        + [f"tables/waste_{n}.csv" for n in ("balance", "landfill_life", "generation", "haul", "flows", "facility_load", "siting")]
    )
    assert not list(out.glob(".staging-*"))
    info = read_gpkg_info(out / "waste.gpkg")
    assert info["layers"] == ["waste_facilities", "waste_generation", "waste_catchments", "waste_flows", "waste_buffers"]
    assert set(info["srs"].values()) == {4490}
    import pyogrio

    kinds = dict(pyogrio.list_layers(out / "waste.gpkg"))
    assert kinds["waste_catchments"] == "MultiPolygon" and kinds["waste_flows"] == "LineString" and kinds["waste_facilities"] == "Point"
    assert "学校/幼儿园（缓冲内）" in _csv(out, "waste_siting").columns
    haul = _csv(out, "waste_haul")
    assert "运距算法" in haul.columns and len(haul) == 13 * 2 + 13  # 13 镇街 × (2 landfills + 1 sorting plant)
    assert haul["运距算法"].str.contains("直线距离×1.4").all() and haul["运距算法"].str.contains("straight line").all()
    assert _csv(out, "waste_flows")["运距算法"].str.contains("直线距离×1.4").all()
    assert result.method["haul"] == "straight_line"
    page = (out / "maps" / "waste.html").read_text(encoding="utf-8")
    assert "直线距离估算 straight-line estimate" in page and "直线距离×1.4（估算，无路网）" in page
    report = (out / "waste_report.html").read_text(encoding="utf-8")
    assert "直线距离×1.4（估算，无路网）" in report and "没有OSM路网数据" in report
    assert external_references(page) == [] and external_references(report) == []
    assert "<script" not in report.lower()


def test_balance_csv_carries_the_plan_arithmetic(plain) -> None:
    out, _, _ = plain
    b = _csv(out, "waste_balance").set_index("编号")
    assert b.loc["ss_years_total_712", "数值"] == pytest.approx(712 / 173.54)
    assert b.loc["ss_years_total_726", "数值"] == pytest.approx(726 / 173.54)
    assert b.loc["ss_years_landfill_luogudong_400", "数值"] == pytest.approx(400 / 173.54)
    assert b.loc["dec_balance", "数值"] == pytest.approx(35 - 31.2)
    assert b.loc["cd_gap_cover", "数值"] == pytest.approx(20 - 17.3)
    assert bool(b.loc["ss_conflict_effect", "需关注"]) and "312" in b.loc["ss_fill_landfill_yandongwan_326", "说明"]
    assert b.loc["ss_generation", "单位"] == "万立方米/年" and b.loc["dec_generation", "单位"] == "万吨/年"


def test_unplaced_facilities_are_excluded_not_invented(plain) -> None:
    out, result, _ = plain
    load = result.facility_load.set_index("facility_id")
    for fid in ("recycling_plant", "xinqi_base"):
        assert not load.loc[fid, "located"] and np.isnan(load.loc[fid, "intake"])
        assert fid not in set(result.flows["facility_id"]) and fid not in set(result.haul["facility_id"])
    fac = result.facilities.set_index("facility_id")
    assert fac.loc["recycling_plant"].geometry is None and fac.loc["xinqi_base"].geometry is None
    assert any("工程垃圾及拆除垃圾" in n and "no located facility" in n for n in result.notes)
    page = (out / "maps" / "waste.html").read_text(encoding="utf-8")
    assert "另有 2 项无法定位" in page
    assert "建筑垃圾综合利用厂" in (out / "waste_report.html").read_text(encoding="utf-8")


def _networkx_cost(supply: np.ndarray, capacity: np.ndarray, cost: np.ndarray, scale: float = 1e4) -> float:
    """Min-cost flow on scaled integers (a second solver) -> cost in the original units."""
    g = nx.DiGraph()
    s = np.round(supply * scale).astype(int)
    k = np.floor(capacity * scale).astype(int)
    shortfall = max(0, int(s.sum() - k.sum()))
    for i in range(len(s)):
        g.add_node(f"o{i}", demand=-int(s[i]))
        for j in range(len(k)):
            g.add_edge(f"o{i}", f"f{j}", weight=round(cost[i, j] * 1000), capacity=int(s[i]))
    for j in range(len(k)):
        g.add_edge(f"f{j}", "t", weight=0, capacity=int(k[j]) + shortfall)
    g.add_node("t", demand=int(s.sum()))
    flow = nx.min_cost_flow(g)
    return sum(flow[f"o{i}"][f"f{j}"] * cost[i, j] for i in range(len(s)) for j in range(len(k))) / scale


@pytest.mark.parametrize("run", ["plain", "withosm"])
def test_allocation_respects_capacities_and_is_optimal(run, request) -> None:
    result = request.getfixturevalue(run)[1]
    load = result.facility_load[result.facility_load["located"].astype(bool)]
    assert (load["intake"] <= load["capacity"] * (1 + 1e-6)).all()
    ss = load[load["stream"] == "spoil_slurry"].set_index("facility_id")
    assert ss["intake"].sum() == pytest.approx(173.54, rel=1e-6)  # everything absorbed: capacity = fill / combined life
    horizon = (400 + 312) / 173.54
    assert ss.loc["landfill_luogudong", "capacity"] == pytest.approx(400 / horizon)
    assert ss.loc["landfill_yandongwan", "capacity"] == pytest.approx(312 / horizon)
    dec = load[load["stream"] == "decoration"].iloc[0]
    assert dec["capacity"] == 35 and dec["intake"] == pytest.approx(result.haul.loc[result.haul["stream"] == "decoration"].drop_duplicates("origin")["quantity"].sum())
    for stream, sub in result.haul.groupby("stream"):
        supply = sub.drop_duplicates("origin").set_index("origin")["quantity"]
        served = sub.groupby("origin")["allocated"].sum() + sub.groupby("origin")["unserved"].first()
        np.testing.assert_allclose(served.loc[supply.index].to_numpy(), supply.to_numpy(), rtol=1e-6)
        got = result.flows[result.flows["stream"] == stream].groupby("origin")["quantity"].sum()
        np.testing.assert_allclose(got.reindex(supply.index).fillna(0).to_numpy(), supply.to_numpy(), rtol=1e-6, atol=1e-9)
        # optimality against a second solver on the real instance
        fids = list(dict.fromkeys(sub["facility_id"]))
        cost = sub.pivot(index="origin", columns="facility_id", values="haul_km").loc[supply.index, fids].to_numpy()
        caps = load[load["stream"] == stream].set_index("facility_id").loc[fids, "capacity"].to_numpy()
        ours = result.flows[result.flows["stream"] == stream]["cost"].sum()
        assert ours == pytest.approx(_networkx_cost(supply.to_numpy(), caps, cost), rel=1e-3)
    # catchments: every origin of a stream belongs to exactly one catchment, its nearest facility
    for stream, sub in result.haul[result.haul["nearest"]].groupby("stream"):
        assert sub["origin"].is_unique
        best = result.haul[result.haul["stream"] == stream].groupby("origin")["haul_km"].min()
        np.testing.assert_allclose(sub.set_index("origin")["haul_km"].loc[best.index], best.to_numpy())


# --------------------------------------------------------------------------- with OSM data


def test_osm_run_uses_the_drive_network_and_screens(withosm, towns) -> None:
    out, result, _files, (lon, lat, values) = withosm
    assert result.method["haul"] == "network"
    assert (result.haul["method"] == "network").all()
    info = read_gpkg_info(out / "waste.gpkg")
    assert "waste_sites" in info["layers"]  # receptors with points and areas: one layer per geometry type (QGIS)
    assert {n for n in info["layers"] if n.startswith("waste_receptors")} & {"waste_receptors", "waste_receptors_points", "waste_receptors_polygons"}
    s = result.siting.set_index(["facility_id", "buffer_m"])
    hy = s.loc[("sorting_huayan", 500.0)]
    assert hy["n_school"] == 1 and hy["names_school"] == HOSTILE[0] and hy["n_residential"] == 1
    assert s.loc[("sorting_huayan", 1000.0), "n_school"] == 2  # + the kindergarten at ≈ 830 m
    assert s.loc[("sorting_huayan", 1000.0), "n_hospital"] == 0 and s.loc[("sorting_huayan", 1000.0), "n_hospital_possible"] == 1
    assert s.loc[("landfill_luogudong", 1000.0), "n_school"] == 0
    # people within 500 m / 1 km: an independent count of raster cell centres
    t = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    fx, fy = Transformer.from_crs("EPSG:4490", METRIC, always_xy=True).transform(*FACILITY_HUAYAN)
    cx, cy = t.transform(lon, lat)
    for b in (500.0, 1000.0):
        expected = values[np.hypot(cx - fx, cy - fy) < b].sum()
        assert s.loc[("sorting_huayan", b), "population"] == expected
    assert "人口栅格" in hy["population_method"]
    # routes from the east cross the synthetic 东部居住区; all routes end at their facility
    fl = result.flows
    assert (fl["route_share_residential"].between(0, 1)).all()
    assert fl.loc[(fl["origin"] == "谢家湾街道") & (fl["stream"] == "spoil_slurry"), "route_km_residential"].iloc[0] > 0
    assert fl.loc[fl["facility_id"] == "sorting_huayan", "route_share_dense"].gt(0).all()  # they end inside the dense raster
    # decoration hauled from the two user sites, spoil from the 镇街
    dec = result.haul[result.haul["stream"] == "decoration"]
    assert set(dec["origin"]) == {HOSTILE[0], "工地B"} and dec["origin_kind"].str.contains("site").all()
    assert dec.drop_duplicates("origin")["quantity"].sum() == pytest.approx(3.5)
    assert set(result.sites["catchment_decoration"]) == {"sorting_huayan"}
    assert (result.haul.loc[result.haul["stream"] == "spoil_slurry", "origin_kind"].str.contains("镇街")).all()


def test_census_population_as_allocation_proxy(tmp_path: Path, towns) -> None:
    census = tmp_path / "census.csv"
    census.write_text("name_zh,population,source\n陶家镇,30000,测试\n西彭镇,90000,测试\n", encoding="utf-8")
    # a census of 2 of the 13 镇街 in scope would put all the waste on those two (issue 9): area instead, with a 警告
    r = analyse_waste(townships=towns, population=census)
    assert r.method["proxy"] == "area"
    assert any(n.startswith("警告") and "2/13" in n and "allocated by area" in n for n in r.notes)
    # a census of every 镇街 in scope is used: generation in proportion to residents
    scope = list(r.generation["name_zh"])
    people = {n: 1000.0 for n in scope} | {"西彭镇": 11000.0}  # 12 × 1000 + 11000 = 23000
    census.write_text("name_zh,population\n" + "".join(f"{n},{v}\n" for n, v in people.items()), encoding="utf-8")
    r = analyse_waste(townships=towns, population=census)
    assert r.method["proxy"] == "population"
    gen = r.generation.set_index("name_zh")
    assert gen.loc["西彭镇", "spoil"] == pytest.approx(157.76 * 11000 / 23000)


def test_bad_input_writes_nothing(tmp_path: Path, towns) -> None:
    bad = tmp_path / "gen.csv"
    bad.write_text("name_zh,spoil\n不存在镇,1\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(InputDataError, match="不存在镇"):
        run_waste(out, townships=towns, generation_file=bad)
    assert not out.exists()


# --------------------------------------------------------------------------- escaping and the browser


def test_pages_are_escaped(withosm) -> None:
    out = withosm[0]
    page = (out / "maps" / "waste.html").read_text(encoding="utf-8")
    report = (out / "waste_report.html").read_text(encoding="utf-8")
    for raw in HOSTILE:
        assert raw not in page and raw not in report
    assert escape_text(HOSTILE[0]) in report
    assert external_references(page) == [] and external_references(report) == []
    assert "tk=t%3Ck%3E" in page and "t<k>" not in page
    assert "OSM车行路网最短距离" in page and "直线距离估算" not in page
    calls = re.findall(r"jlpWaste\.add(?:Facilities)?\(\w+, (\{.*?\})(?:, \"\w+\")?\);\n", page)
    fcs = [json.loads(c) for c in calls]
    lines = [f for fc in fcs for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(withosm[1].flows)
    widths = sorted(f["properties"]["w"] for f in lines)
    assert 1.5 <= widths[0] and widths[-1] == 14.0  # √-scaled, the largest flow at the maximum width


def _open_every_popup(page) -> list[str]:
    return page.evaluate(
        """(() => {
            const map = Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map).map(k => window[k])[0];
            const out = [];
            map.eachLayer(l => {
                if (l.feature && l.getPopup && l.getPopup()) {
                    l.openPopup();
                    out.push(l.getPopup().getElement().querySelector('.leaflet-popup-content').innerText);
                    l.closePopup();
                }
            });
            return out;
        })()"""
    )


@pytest.mark.browser
@pytest.mark.parametrize("run", ["plain", "withosm"])
def test_map_and_report_in_chromium_offline(run, request, browser_page) -> None:
    out, result = request.getfixturevalue(run)[:2]
    rep = browser_page(out / "maps" / "waste.html")
    page = rep.page
    assert rep.external_requests == [] and rep.page_errors == [] and rep.console_errors == []
    groups = [g.strip() for g in page.locator(".leaflet-control-layers-group-name").all_inner_texts()]
    assert groups == ["行政区划 Administrative", "运输流向 Flows", "服务范围 Catchments", "设施与邻避 Facilities & screens"]
    assert page.locator(".leaflet-jlpWasteLines-pane path.leaflet-interactive").count() == len(result.flows)
    legend = page.locator(".jlp-legend").inner_text()
    assert result.method["haul_label"][:10] in legend
    texts = _open_every_popup(page)
    assert len(texts) >= len(result.flows) + 13
    joined = "\n".join(texts)
    if run == "withosm":
        assert HOSTILE[0] in joined and HOSTILE[2] in joined  # shown as text
    else:
        assert "直线距离×1.4" in joined
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"

    rep2 = browser_page(out / "waste_report.html")
    assert rep2.external_requests == [] and rep2.page_errors == [] and rep2.console_errors == []
    p2 = rep2.page
    assert p2.locator("svg").count() == 2
    assert p2.locator("svg").nth(1).locator("circle").count() == 4  # 2 absorption scenarios × 2 fill volumes
    text = p2.inner_text("body")
    assert "4.10 年" in text and "4.18 年" in text and "主要结论" in text
    assert p2.evaluate("typeof window.__pwned") == "undefined"
    assert htmllib.unescape(escape_text(HOSTILE[0])) == HOSTILE[0]
