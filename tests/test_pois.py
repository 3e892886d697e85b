"""Amap / Baidu POI exports: formats, exact datum conversion, the typecode table, unknown codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from jlp_geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from jlp_geo.errors import InputDataError
from jlp_geo.layers.external import load_poi_categories, services_from_pois
from jlp_geo.sources.pois import read_pois

GEOD = Geod(ellps="WGS84")

# (name, typecode, type, WGS84 truth, expected categories -- written out from layers/poi_categories.csv by hand)
AMAP = [
    ("杨家坪幼儿园", "141204", "科教文化服务;学校;幼儿园", (106.511, 29.508), {"kindergarten"}),
    ("谢家湾小学", "141203", "科教文化服务;学校;小学", (106.520, 29.515), {"primary_school"}),
    ("育才中学", "141202", "科教文化服务;学校;中学", (106.470, 29.530), {"middle_school"}),
    ("杨家坪高级中学", "141202", "科教文化服务;学校;中学", (106.500, 29.505), set()),  # senior only: none
    ("黄桷坪社区卫生服务站", "090300", "医疗保健服务;诊所;诊所", (106.527, 29.487), {"community_health", "clinic"}),
    ("张氏诊所", "090300", "医疗保健服务;诊所;诊所", (106.528, 29.488), {"clinic"}),
    ("永辉超市", "060400", "购物服务;超级市场;超市", (106.505, 29.512), {"fresh_market", "convenience"}),
    ("杨家坪(公交站)", "150700", "交通设施服务;公交车站;公交车站相关", (106.512, 29.509), {"bus_stop"}),
    ("杨家坪站A口", "150501", "交通设施服务;地铁站;出入口", (106.513, 29.507), set()),  # entrance: none
    ("九龙坡区第一人民医院", "090100", "医疗保健服务;综合医院;综合医院", (106.515, 29.500), {"hospital"}),
    ("福寿养老院", "120302", "商务住宅;住宅区;住宅小区", (106.490, 29.520), {"elderly_care"}),  # by name
    ("某公司", "170200", "公司企业;公司;公司", (106.480, 29.520), set()),  # unknown code
    ("另一公司", "170200", "公司企业;公司;公司", (106.481, 29.521), set()),  # unknown code (count 2)
    ("无码幼儿园", "", "科教文化服务;学校;幼儿园", (106.460, 29.460), {"kindergarten"}),  # type text fallback
    ("多码医院", "999999|090102", "医疗保健服务;综合医院;卫生院", (106.461, 29.461), {"community_health"}),
]


def _amap_response(rows) -> dict:
    pois = []
    for i, (name, code, typ, (lon, lat), _) in enumerate(rows):
        glon, glat = wgs84_to_gcj02(lon, lat)
        pois.append({"id": f"B0FF{i:06d}", "name": name, "type": typ, "typecode": code, "biz_type": [],
                     "address": [] if i % 3 == 0 else "某路1号", "location": f"{glon:.6f},{glat:.6f}",
                     "pname": "重庆市", "cityname": "重庆市", "adname": "九龙坡区"})
    return {"status": "1", "count": str(len(pois)), "info": "OK", "infocode": "10000", "pois": pois}


def test_amap_json_maps_exactly_as_the_table_says(tmp_path: Path) -> None:
    path = tmp_path / "amap_export.json"
    path.write_text(json.dumps(_amap_response(AMAP), ensure_ascii=False), encoding="utf-8")
    pois = read_pois(path, source="amap")
    assert len(pois) == len(AMAP)
    # Amap's 6-decimal GCJ-02 (≈0.1 m rounding) back to WGS84 within 1 m
    _, _, d = GEOD.inv(pois.geometry.x.to_numpy(), pois.geometry.y.to_numpy(), [r[3][0] for r in AMAP], [r[3][1] for r in AMAP])
    assert np.abs(d).max() < 1.0
    assert pois["address"].iloc[0] == ""  # Amap's [] for empty
    svc, unknown = services_from_pois(pois, crs="EPSG:4544")
    got = [set(svc.loc[svc["name"] == r[0], "category"]) for r in AMAP]
    assert got == [r[4] for r in AMAP]
    assert unknown[["typecode", "type", "count"]].values.tolist() == [["170200", "公司企业;公司;公司", 2]]
    assert svc["source_kind"].eq("poi").all() and svc["source"].str.startswith("高德 Amap POI export amap_export.json").all()
    assert svc.loc[svc["name"] == "杨家坪幼儿园", "source_ref"].iloc[0] == "amap_export.json row 2, id B0FF000000"


def test_chinese_crawler_columns_with_levels_and_wgs84(tmp_path: Path) -> None:
    df = pd.DataFrame({
        "名称": ["甲幼儿园", "乙药房"], "大类": ["科教文化服务", "医疗保健服务"], "中类": ["学校", "医药保健销售店"],
        "小类": ["幼儿园", "药房"], "经度": [106.50, 106.51], "纬度": [29.50, 29.51], "地址": ["x", "y"],
    })
    path = tmp_path / "crawl.xlsx"
    df.to_excel(path, index=False)
    pois = read_pois(path, source="amap", input_crs="wgs84")
    assert pois["type"].tolist() == ["科教文化服务;学校;幼儿园", "医疗保健服务;医药保健销售店;药房"]
    assert np.allclose(pois.geometry.x, [106.50, 106.51]) and np.allclose(pois.geometry.y, [29.50, 29.51])
    svc, unknown = services_from_pois(pois, crs="EPSG:4544")
    assert svc["category"].tolist() == ["kindergarten", "pharmacy"] and len(unknown) == 0


def test_excel_drops_leading_zero_of_typecode(tmp_path: Path) -> None:
    lon, lat = wgs84_to_gcj02(106.5, 29.5)
    pd.DataFrame({"name": ["某医院"], "typecode": [90100], "location": [f"{lon},{lat}"]}).to_csv(tmp_path / "a.csv", index=False)
    svc, _ = services_from_pois(read_pois(tmp_path / "a.csv"), crs="EPSG:4544")
    assert svc["category"].tolist() == ["hospital"]


def test_baidu_json_bd09_within_1m(tmp_path: Path) -> None:
    truth = [(106.511, 29.508), (106.455, 29.532)]
    results = []
    for i, ((lon, lat), tag, name) in enumerate(zip(truth, ["教育培训;幼儿园", "医疗;诊所"], ["丙幼儿园", "某社区卫生服务站"])):
        blon, blat = wgs84_to_bd09(lon, lat)
        results.append({"name": name, "location": {"lat": blat, "lng": blon}, "address": "路", "uid": f"u{i}",
                        "detail_info": {"tag": tag, "type": "x"}})
    path = tmp_path / "baidu.json"
    path.write_text(json.dumps({"status": 0, "message": "ok", "results": results}, ensure_ascii=False), encoding="utf-8")
    pois = read_pois(path, source="baidu")
    _, _, d = GEOD.inv(pois.geometry.x.to_numpy(), pois.geometry.y.to_numpy(), [t[0] for t in truth], [t[1] for t in truth])
    assert np.abs(d).max() < 1.0
    svc, _ = services_from_pois(pois, crs="EPSG:4544")
    assert sorted(svc["category"]) == ["clinic", "community_health", "kindergarten"]
    assert svc["source"].str.startswith("百度 Baidu").all()


def test_poi_errors(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputDataError, match="not valid JSON"):
        read_pois(tmp_path / "x.json")
    pd.DataFrame({"name": ["a"], "经度": [106.5], "纬度": [29.5]}).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(InputDataError, match="no type information"):
        read_pois(tmp_path / "n.csv")
    with pytest.raises(InputDataError, match="unknown POI source"):
        read_pois(tmp_path / "n.csv", source="tencent")


def test_table_is_consistent() -> None:
    rules = load_poi_categories()
    codes = [r for r in rules if r.provider == "amap" and r.match == "typecode"]
    assert all(len(r.key) == 6 and r.key.isdigit() for r in codes)
    # within one code, a row without a name rule must come last (later rows would never apply)
    by_code: dict[str, list] = {}
    for r in codes:
        by_code.setdefault(r.key, []).append(r)
    for rows in by_code.values():
        assert all(r.name_regex is not None for r in rows[:-1])
