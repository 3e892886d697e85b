"""Facility lists (CSV / XLSX / GeoJSON) as services: exact datum conversion, columns, errors, merging."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point

from jlp_geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from jlp_geo.errors import CRSError, InputDataError
from jlp_geo.layers.external import services_from_facilities
from jlp_geo.layers.merge import merge_services, name_similarity
from jlp_geo.sources.facilities import read_facilities, split_facility_spec

GEOD = Geod(ellps="WGS84")
# WGS84 truth: points spread over Jiulongpo (杨家坪 … 西彭)
TRUTH = [(106.511, 29.508), (106.527, 29.487), (106.455, 29.532), (106.322, 29.333), (106.401, 29.447), (106.489, 29.518)]


def _error_m(gdf: gpd.GeoDataFrame, truth) -> np.ndarray:
    lon, lat = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    _, _, d = GEOD.inv(lon, lat, [t[0] for t in truth], [t[1] for t in truth])
    return np.abs(d)


def _offset_m(a, b) -> float:
    return abs(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def test_gcj02_csv_lands_within_1m(tmp_path: Path) -> None:
    obf = [wgs84_to_gcj02(*p) for p in TRUTH]
    assert min(_offset_m(a, b) for a, b in zip(obf, TRUTH)) > 300  # the datum shift is real (≈480 m here)
    df = pd.DataFrame({"名称": [f"幼儿园{i}" for i in range(len(TRUTH))], "经度": [f"{x:.8f}" for x, _ in obf],
                       "纬度": [f"{y:.8f}" for _, y in obf], "学位": [90, 120, "", 60, 30, 45], "状态": ["现状"] * 5 + ["规划"]})
    path = tmp_path / "kindergartens.csv"
    df.to_csv(path, index=False, encoding="utf-8-sig")
    gdf = read_facilities(f"{path}:kindergarten", input_crs="gcj02")
    assert gdf.crs.to_epsg() == 4490
    err = _error_m(gdf, TRUTH)
    assert err.max() < 1.0, err
    assert gdf["category"].eq("kindergarten").all()
    assert gdf["capacity"].iloc[:2].tolist() == [90.0, 120.0] and np.isnan(gdf["capacity"].iloc[2])
    assert gdf["capacity_unit"].eq("seats").all()
    assert gdf["status"].tolist() == ["existing"] * 5 + ["planned"]
    assert gdf["source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    svc = services_from_facilities(gdf, crs="EPSG:4544")
    assert svc["included"].tolist() == [True] * 5 + [False]  # 规划: not an existing service
    assert svc["note"].iloc[5].startswith("规划/在建")
    # read without the datum: every point is off by hundreds of metres
    raw = read_facilities(f"{path}:kindergarten")
    assert _error_m(raw, TRUTH).min() > 300


def test_bd09_xlsx_lands_within_1m_and_category_column(tmp_path: Path) -> None:
    obf = [wgs84_to_bd09(*p) for p in TRUTH]
    assert min(_offset_m(a, b) for a, b in zip(obf, TRUTH)) > 600  # BD-09 ≈ 1 km off
    df = pd.DataFrame({"name": [f"站{i}" for i in range(len(TRUTH))], "lng": [x for x, _ in obf], "lat": [y for _, y in obf],
                       "category": ["elderly_care", "托儿所/托育", "elderly_care", "community_health", "elderly_care", "childcare"],
                       "床位": [30, 0, 12, 50, 8, ""], "year": ["2024", "", "", "2027", "", ""]})
    path = tmp_path / "elderly.xlsx"
    df.to_excel(path, index=False)
    gdf = read_facilities(path, input_crs="bd09")
    assert _error_m(gdf, TRUTH).max() < 1.0
    svc = services_from_facilities(gdf, crs="EPSG:4544")
    assert svc["category"].tolist() == ["elderly_care", "childcare", "elderly_care", "community_health", "elderly_care", "childcare"]
    assert svc["source_kind"].eq("file").all() and svc["capacity_unit"].eq("beds").all()
    assert svc["source_ref"].iloc[3] == "elderly.xlsx row 5"
    assert svc.crs.to_epsg() == 4544


def test_geojson_and_location_column(tmp_path: Path) -> None:
    gj = gpd.GeoDataFrame({"name": ["A", "B"], "category": ["pharmacy", "pharmacy"]},
                          geometry=[Point(TRUTH[0]), Point(TRUTH[1])], crs="EPSG:4326")
    gj.to_file(tmp_path / "ph.geojson", driver="GeoJSON")
    gdf = read_facilities(tmp_path / "ph.geojson")
    assert _error_m(gdf, TRUTH[:2]).max() < 0.01
    pd.DataFrame({"名称": ["C"], "location": [f"{TRUTH[2][0]},{TRUTH[2][1]}"]}).to_csv(tmp_path / "loc.csv", index=False)
    assert _error_m(read_facilities(tmp_path / "loc.csv", category="culture"), TRUTH[2:3]).max() < 0.01


def test_spec_split_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame({"name": ["a", "b", "c"], "lon": ["106.5", "", "106.51"], "lat": ["29.5", "", "29.51"]}).to_csv(p, index=False)
    assert split_facility_spec(f"{p}:kindergarten") == (p, "kindergarten")
    assert split_facility_spec(str(p)) == (p, None)
    gdf = read_facilities(f"{p}:kindergarten")
    assert len(gdf) == 2 and gdf.attrs["notes"][0].startswith("警告") and "rows 3" in gdf.attrs["notes"][0]
    with pytest.raises(InputDataError, match="no category"):
        read_facilities(p)
    with pytest.raises(InputDataError, match="unknown service categor"):
        services_from_facilities(read_facilities(f"{p}:schools"))
    q = tmp_path / "swapped.csv"
    pd.DataFrame({"name": ["a"], "lon": ["24.94"], "lat": ["60.17"]}).to_csv(q, index=False)
    with pytest.raises(CRSError, match="outside the study area"):
        read_facilities(f"{q}:kindergarten")
    r = tmp_path / "bad.csv"
    pd.DataFrame({"name": ["a"], "lon": ["106°30'"], "lat": ["29.5"], "status": ["maybe"]}).to_csv(r, index=False)
    with pytest.raises(InputDataError, match="row\\(s\\) 2"):
        read_facilities(f"{r}:kindergarten")
    s = tmp_path / "nocoord.csv"
    pd.DataFrame({"name": ["a"], "addr": ["x"]}).to_csv(s, index=False)
    with pytest.raises(InputDataError, match="no longitude/latitude"):
        read_facilities(f"{s}:kindergarten")


def _svc(name, x, y, kind, source, ref, cat="kindergarten"):
    return {"category": cat, "name": name, "source_kind": kind, "source": source, "source_ref": ref, "included": True,
            "geometry": Point(x, y)}


def test_merge_keeps_every_source_and_respects_both_parameters() -> None:
    x0, y0 = 500_000.0, 3_265_000.0
    rows = [
        _svc("培苗幼儿园", x0, y0, "osm", "OpenStreetMap", "node/1"),
        _svc("培苗幼儿园(华盛路)", x0 + 40, y0, "file", "facility list k.xlsx", "k.xlsx row 2"),
        _svc("培苗幼儿园", x0, y0 + 60, "poi", "高德 Amap POI export a.json", "a.json row 2"),
        _svc("阳光幼儿园", x0 + 30, y0 + 10, "poi", "高德 Amap POI export a.json", "a.json row 3"),  # name differs
        _svc("培苗幼儿园", x0 + 150, y0 + 0, "poi", "高德 Amap POI export b.json", "b.json row 2"),  # too far
        _svc("培苗幼儿园", x0 + 40, y0 + 15, "file", "facility list k.xlsx", "k.xlsx row 3"),  # same source as row 2
        _svc("培苗幼儿园", x0 + 5, y0, "osm", "OpenStreetMap", "node/9", cat="primary_school"),  # other category
    ]
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:4544")
    out = merge_services([gdf.iloc[[0, 6]], gdf.iloc[[1, 5]], gdf.iloc[[2, 3, 4]]], max_distance_m=100)
    assert len(out) == 5
    assert out.attrs["merge"]["merged_rows"] == 2
    big = out[out["n_sources"] == 3]
    assert len(big) == 1
    b = big.iloc[0]
    assert b["source_kind"] == "file" and b["source_kinds"] == "file+osm+poi"  # the official list's geometry wins
    assert (b.geometry.x, b.geometry.y) == (x0 + 40, y0)
    assert b["sources"] == "facility list k.xlsx: k.xlsx row 2 | OpenStreetMap: node/1 | 高德 Amap POI export a.json: a.json row 2"
    assert out["n_sources"].sum() == len(rows)  # nothing lost
    # a looser distance merges the far one too; a stricter similarity none of the bracketed name
    assert len(merge_services([gdf.iloc[[0, 6]], gdf.iloc[[1, 5]], gdf.iloc[[2, 3, 4]]], max_distance_m=200)) == 4
    assert name_similarity("培苗幼儿园(华盛路)", "培苗幼儿园") == 1.0
    assert name_similarity("阳光幼儿园", "培苗幼儿园") == pytest.approx(0.6)
    assert len(merge_services([gdf.iloc[[0]], gdf.iloc[[3]]])) == 2  # 0.6 < default 0.75
    assert len(merge_services([gdf.iloc[[0]], gdf.iloc[[3]]], min_name_similarity=0.6)) == 1
