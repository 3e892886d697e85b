"""Plan layers: 一港九园三区, construction-waste facilities and figures, 专栏19 transport.

Numbers are checked against the plan text itself (the seed document, parsed here with
regular expressions), against the gazetteer CSVs read independently of the builders,
and — for the metro lines — against geodesic lengths (pyproj.Geod) and the cnmaps
district polygon.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

import jlp_geo
from jlp_geo.errors import CRSError, InputDataError, MissingInputError
from jlp_geo.layers import parks as parks_mod
from jlp_geo.layers import transport as transport_mod
from jlp_geo.layers import waste as waste_mod
from jlp_geo.layers.common import PRECISIONS
from jlp_geo.layers.parks import build_parks
from jlp_geo.layers.transport import (
    STATUS_CLASSES,
    build_transport_projects,
    build_urban_rail_existing,
    transport_items_table,
)
from jlp_geo.layers.waste import (
    build_waste_facilities,
    waste_figures_table,
    waste_forecast_table,
    waste_targets_table,
)
from jlp_geo.settings import configure, get_settings
from jlp_geo.styles import style_for

LAYERS = get_settings().layers_dir
# the seed documents sit in ../shared beside the repository (as on CI); JLP_GEO_SEED overrides
SEED = Path(os.environ.get("JLP_GEO_SEED", Path(__file__).resolve().parents[2] / "shared" / "seeds" / "004_0e5ab62d54747a3f.txt"))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def profile():
    return jlp_geo.load_profile()


@pytest.fixture(scope="module")
def parks(profile):
    return build_parks(profile)


@pytest.fixture(scope="module")
def waste(profile):
    return build_waste_facilities(profile).set_index("facility_id", drop=False)


@pytest.fixture(scope="module")
def transport(profile):
    return build_transport_projects(profile).set_index("project_id", drop=False)


@pytest.fixture(scope="module")
def rail(profile):
    return build_urban_rail_existing(profile).set_index("project_id", drop=False)


@pytest.fixture(scope="module")
def seed() -> str:
    if not SEED.is_file():
        pytest.skip(f"plan text not available at {SEED} (set JLP_GEO_SEED)")
    return SEED.read_text(encoding="utf-8")


def _norm(text: str) -> str:
    """Drop whitespace and markdown emphasis so quotes compare with the seed's layout."""
    return re.sub(r"[\s*]+", "", text)


def _csv(name: str) -> list[dict]:
    with open(LAYERS / name, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _has_geom(gdf):
    return gdf.geometry.notna() & ~gdf.geometry.is_empty


# --------------------------------------------------------------------------- 一港九园三区


def test_parks_has_13_plan_features_grouped_1_9_3(parks):
    plan = parks[parks["in_plan"]]
    assert len(plan) == 13
    assert Counter(plan["kind"]) == {"一港": 1, "九园": 9, "三区": 3}
    assert set(plan["role"]) == {"plan item"}


def test_parks_names_are_those_of_glossary_2(parks, seed):
    m = re.search(r"“一港”指(.+?)，“九园”指(.+?)，“三区”指(.+?)。", seed)
    assert m, "名词解释 2 not found in the plan text"
    expected = {"一港": [m.group(1)], "九园": m.group(2).split("、"), "三区": m.group(3).split("、")}
    assert [len(v) for v in expected.values()] == [1, 9, 3]
    plan = parks[parks["in_plan"]]
    for kind, names in expected.items():
        assert list(plan.loc[plan["kind"] == kind, "name_zh"]) == names
    # the full sentence carried on every plan feature is the plan's own
    assert _norm(plan["plan_text"].iloc[0]) in _norm(seed)
    assert plan["plan_text"].nunique() == 1


def test_parks_located_count_matches_gazetteer(parks):
    rows = [r for r in _csv("parks.csv") if r["kind"] in ("一港", "九园", "三区")]
    with_xy = {r["name_zh"] for r in rows if r["lon_wgs84"].strip() and r["lat_wgs84"].strip()}
    plan = parks[parks["in_plan"]]
    located = set(plan.loc[_has_geom(plan), "name_zh"])
    assert located == with_xy
    # what parks.csv supports today: 7 indicative points, 6 without a location
    # (issue 15: 陆海新通道物流（保税）产业园 placed by the plan's own hint, 保税 logistics at 黄磛港)
    assert (len(located), len(plan) - len(located)) == (7, 6)
    for name in plan.loc[~_has_geom(plan), "name_zh"]:
        status = plan.loc[plan["name_zh"] == name, "location_status"].iloc[0]
        assert status.startswith("not located") and "NOT FOUND" in status


def test_parks_points_and_uncertainty_are_the_gazetteers(parks):
    gaz = {r["name_zh"]: r for r in _csv("parks.csv")}
    for row in parks[_has_geom(parks)].itertuples():
        g = gaz[row.name_zh]
        assert row.geometry.x == pytest.approx(float(g["lon_wgs84"]), abs=1e-9)
        assert row.geometry.y == pytest.approx(float(g["lat_wgs84"]), abs=1e-9)
        assert row.uncertainty_m == float(g["uncertainty_m"])
        assert row.location_evidence == g["evidence"] and g["source"] in row.location_source
    assert parks.loc[~_has_geom(parks), "uncertainty_m"].isna().all()
    # four features share the 西彭 town estimate; each lists the other three
    shared = parks.loc[parks["name_zh"] == "轻合金应用产业园", "co_located_with"].iloc[0].split("、")
    assert sorted(shared) == sorted(["智能网联汽车配套产业园", "食品加工产业园", "西彭园区（西彭工业园区）"])


def test_parks_context_rows(parks, seed):
    ctx = parks[~parks["in_plan"]]
    assert sorted(ctx["name_zh"]) == sorted(["西彭园区（西彭工业园区）", "西部氢谷"])
    assert set(ctx["role"]) == {"context"} and set(ctx["kind"]) == {"existing park"}
    hydrogen = ctx[ctx["name_zh"] == "西部氢谷"].iloc[0]
    assert hydrogen["plan_text"] in seed
    # fidelity (issue 15): news feature 001 places 西部氢谷 in the 陶家板块 (3 km²) — located at the 陶家 estimate
    towns = {r["name_zh"]: r for r in _csv("townships.csv")}
    assert hydrogen.geometry.x == pytest.approx(float(towns["陶家镇"]["lon_wgs84"]))
    assert hydrogen.geometry.y == pytest.approx(float(towns["陶家镇"]["lat_wgs84"]))
    assert "3 km²" in hydrogen["area_stated"] and "news feature 001" in hydrogen["location_source"]


def test_parks_user_file_replaces_defaults(profile):
    user = gpd.GeoDataFrame(
        {"name_zh": ["甲园", "乙园"], "area_ha": [12.5, 3.0], "precision": ["surveyed", None]},
        geometry=[Point(106.40, 29.40), Point(106.45, 29.45)],
        crs="EPSG:4326",
    )
    user.attrs["source_file"] = "/data/official_parks.gpkg"
    out = build_parks(profile, user=user)
    assert len(out) == 2 and out.crs.to_epsg() == 4490
    assert list(out["source"]) == ["user file official_parks.gpkg"] * 2
    assert list(out["precision"]) == ["surveyed", "indicative"]
    assert list(out["area_ha"]) == [12.5, 3.0]
    assert out["uncertainty_m"].isna().all()


def test_parks_user_file_errors():
    pt = [Point(106.4, 29.4)]
    with pytest.raises(InputDataError, match="name_zh"):
        build_parks(None, user=gpd.GeoDataFrame({"name": ["x"]}, geometry=pt, crs="EPSG:4490"))
    with pytest.raises(InputDataError, match="precision"):
        build_parks(None, user=gpd.GeoDataFrame({"name_zh": ["x"], "precision": ["exact"]}, geometry=pt, crs="EPSG:4490"))
    with pytest.raises(InputDataError, match="uncertainty_m"):
        build_parks(None, user=gpd.GeoDataFrame({"name_zh": ["x"], "uncertainty_m": ["~1km"]}, geometry=pt, crs="EPSG:4490"))
    with pytest.raises(CRSError):
        build_parks(None, user=gpd.GeoDataFrame({"name_zh": ["x"]}, geometry=pt))


# --------------------------------------------------------------------------- construction waste


def test_waste_fill_volumes_equal_plan_and_conflict_only_at_yandongwan(waste, seed):
    stated = {int(v) for v in re.findall(r"填方量?为\s*(\d+)\s*万", seed)}
    assert stated == {312, 326, 400}
    in_layer = set(waste["fill_volume_wm3_art19_table4"].dropna()) | set(waste["fill_volume_wm3_art27"].dropna())
    assert in_layer == stated
    ydw, lgd = waste.loc["landfill_yandongwan"], waste.loc["landfill_luogudong"]
    assert (ydw["fill_volume_wm3_art19_table4"], ydw["fill_volume_wm3_art27"]) == (312, 326)
    assert (lgd["fill_volume_wm3_art19_table4"], lgd["fill_volume_wm3_art27"]) == (400, 400)
    assert list(waste.index[waste["conflict"]]) == ["landfill_yandongwan"]
    assert "312" in ydw["conflict_note"] and "326" in ydw["conflict_note"]
    assert "万方" in ydw["fill_volume_text"] and "万立方米" in ydw["fill_volume_text"]


def test_waste_capacity_and_area_equal_plan(waste, seed):
    capacities = {float(v) for v in re.findall(r"处理规模\s*([\d.]+)\s*万吨/年", seed)}
    assert capacities == {35.0, 20.0}
    assert set(waste["capacity_value"].dropna()) == capacities
    assert set(waste["capacity_unit"]) - {""} == {"万吨/年"}
    areas = {float(v) for v in re.findall(r"面积(?:为|约)\s*([\d.]+)\s*公顷", seed)}
    assert areas == {2.7, 20.41, 23.36, 3.0}
    assert set(waste["land_area_ha"].dropna()) == areas
    approx = {float(v) for v in re.findall(r"占地面积约\s*([\d.]+)\s*公顷", seed)}
    assert set(waste.loc[waste["land_area_approx"], "land_area_ha"]) == approx == {2.7, 3.0}
    periods = sorted(re.findall(r"建设时序(\d{4}—\d{4}年)", seed))
    got = sorted(re.sub(r"（.*）$", "", p) for p in waste["construction_period"] if p)
    assert got == periods and len(periods) == 4


def test_waste_annex_tables_match_layer(waste, seed):
    for table, ids in (("附表2", ["sorting_huayan"]), ("附表3", ["recycling_plant"]),
                       ("附表4", ["landfill_luogudong", "landfill_yandongwan"])):
        block = re.split(r"\n#", seed.split(f"### {table}", 1)[1], maxsplit=1)[0]
        rows = [line.split("\t") for line in block.splitlines() if "\t" in line and not line.startswith("设施名称")]
        assert len(rows) == len(ids)
        for cells, fid in zip(rows, ids):
            f = waste.loc[fid]
            assert cells[0] == f["name_zh"] and cells[3] == "规划新增" == f["plan_status"]
            if table == "附表4":
                assert float(cells[1]) == f["land_area_ha"] and float(cells[2]) == f["fill_volume_wm3_art19_table4"]
            else:
                assert float(cells[1]) == f["capacity_value"] and float(cells[2]) == f["land_area_ha"]


def test_waste_every_quote_is_in_the_plan(profile, seed):
    figures = waste_figures_table(profile)
    norm_seed = _norm(seed)
    for r in figures.itertuples():
        if r.clause.startswith("附表"):
            assert r.quote.replace(" | ", "\t") in seed, r
        else:
            assert _norm(r.quote) in norm_seed, r
        if r.quantity in ("capacity", "land_area", "fill_volume"):
            assert r.value in r.quote and r.unit_std in ("万吨/年", "公顷", "万立方米")
    assert set(figures.loc[figures["quantity"] == "fill_volume", "unit"]) == {"万方", "万立方米"}


def test_waste_counts_names_and_locations(waste, seed):
    m = re.search(r"(\d)座建筑垃圾分选场、(\d)座建筑垃圾填埋场、(\d)座建筑垃圾综合利用厂", seed)
    planned = waste[waste["plan_status"] == "规划新增"]
    assert len(planned) == sum(map(int, m.groups())) == 4
    assert Counter(planned["kind"]) == {"sorting plant": 1, "spoil landfill": 2, "recycling plant": 1}
    plant = waste.loc["recycling_plant"]
    assert "建筑垃圾资源化利用厂" in plant["name_variants"] and "建筑垃圾综合利用厂" in plant["name_variants"]
    assert plant["site_text"] == "场址暂定为九龙坡区直管范围西部片区"
    # located = the gazetteer rows with a coordinate; the plant and 新启 have none
    assert set(waste.index[_has_geom(waste)]) == {"sorting_huayan", "landfill_yandongwan", "landfill_luogudong"}
    gaz = {r["name_zh"]: r for r in _csv("waste_facilities.csv")}
    for fid in ("sorting_huayan", "landfill_yandongwan", "landfill_luogudong"):
        f, g = waste.loc[fid], gaz[waste.loc[fid, "name_zh"]]
        assert (f.geometry.x, f.geometry.y) == (float(g["lon_wgs84"]), float(g["lat_wgs84"]))
        assert f["uncertainty_m"] == float(g["uncertainty_m"])
    assert waste.loc["landfill_yandongwan", "source"] == "建筑垃圾规划 (2026-01) 第十九条, 第二十七条, 附表4"


def test_waste_forecast_equals_plan_and_balances(profile, seed):
    fc = waste_forecast_table(profile).set_index("item_id")
    assert len(fc) == 9
    for r in fc.itertuples():
        assert _norm(r.quote) in _norm(seed)
        m = re.search(r"为([\d.]+)(万立方米/年|万吨/年)", r.quote)
        assert float(m.group(1)) == r.value and m.group(2) == r.unit
    expected = {"gen_spoil": (157.76, "万立方米/年"), "gen_slurry": (15.78, "万立方米/年"),
                "gen_construction": (15.6, "万吨/年"), "gen_demolition": (20.77, "万吨/年"),
                "gen_decoration": (31.20, "万吨/年"), "proc_sorting_gap": (31.2, "万吨/年"),
                "proc_recycling_gap": (17.3, "万吨/年"), "proc_landfill_solid": (20.27, "万吨/年"),
                "proc_spoil_slurry": (173.54, "万立方米/年")}
    assert {k: (fc.loc[k, "value"], fc.loc[k, "unit"]) for k in expected} == expected
    # 第八条（四）: spoil + slurry of 第七条 all need disposal
    assert round(fc.loc["gen_spoil", "value"] + fc.loc["gen_slurry", "value"], 2) == fc.loc["proc_spoil_slurry", "value"]
    # 第八条（一）: the sorting gap equals all decoration waste of 第七条（五）
    assert fc.loc["gen_decoration", "value"] == fc.loc["proc_sorting_gap", "value"]
    # the planned plant capacities cover the gaps (35 ≥ 31.2; 20 ≥ 17.3)
    assert 35 >= fc.loc["proc_sorting_gap", "value"] and 20 >= fc.loc["proc_recycling_gap", "value"]
    assert fc["source"].str.startswith("建筑垃圾规划 (2026-01) 第").all()


def test_waste_targets_equal_annex_1(profile, seed):
    t = waste_targets_table(profile)
    assert list(t["target_value"]) == [70.0, 73.0, 100.0]
    for r in t.itertuples():
        assert "\t".join([r.indicator_zh, r.method_zh, r.target_text]) in seed
    assert "资源化利用率达到70%，综合利用率达到73%，区级智能监管平台应用比例达100%" in seed


def test_known_plan_figures_without_the_seed(profile, parks, waste):
    """The figures read from the plan, hard-coded: runs even where the seed text is absent."""
    plan = parks[parks["in_plan"]]
    assert list(plan.loc[plan["kind"] == "三区", "name_zh"]) == ["智汇产教社区", "产业孵化社区", "科创未来社区"]
    expected = {  # facility: (capacity 万吨/年, land ha, fill 第十九条/附表4, fill 第二十七条, 建设时序)
        "sorting_huayan": (35.0, 2.7, None, None, "2026—2027年"),
        "landfill_yandongwan": (None, 20.41, 312.0, 326.0, "2025—2026年"),
        "landfill_luogudong": (None, 23.36, 400.0, 400.0, "2026—2027年"),
        "recycling_plant": (20.0, 3.0, None, None, "2025—2026年"),
    }
    nan_to_none = lambda v: None if (isinstance(v, float) and math.isnan(v)) else v  # noqa: E731
    for fid, (cap, area, fill19, fill27, period) in expected.items():
        f = waste.loc[fid]
        assert nan_to_none(f["capacity_value"]) == cap
        assert f["land_area_ha"] == area
        assert nan_to_none(f["fill_volume_wm3_art19_table4"]) == fill19
        assert nan_to_none(f["fill_volume_wm3_art27"]) == fill27
        assert f["construction_period"].startswith(period)
    assert list(waste.index[waste["conflict"]]) == ["landfill_yandongwan"]
    fc = waste_forecast_table(profile)
    assert dict(zip(fc["item_id"], fc["value"]))["proc_spoil_slurry"] == 173.54
    assert list(waste_targets_table(profile)["target_text"]) == ["70%", "73%", "100%"]


# --------------------------------------------------------------------------- 专栏19 transport

ITEM_NAMES = {  # project names as 专栏19 writes them (read from the plan), per item
    1: ["渝贵高铁", "成渝铁路与兴珞铁路连接线", "九龙坡至重庆东站枢纽直通线", "黄磛货运站", "中梁山货运站"],
    2: ["绕城高速扩能改造", "渝泸高速复线"],
    3: ["27号线", "轨道19号线", "轨道21号线", "轨道24号线", "26号快线（九龙坡区段）"],
    4: ["黄桷坪长江大桥", "八横线", "白市驿隧道", "科学大道九龙坡区段", "支坪长江大桥"],
    5: ["白市驿隧道", "陶家隧道", "枢纽港沿江快速通道", "沿山货运通道", "土湾大桥", "铜罐驿大桥"],
    8: ["长江漫步道", "黄桷坪—杨家坪—石新路—彩云湖—华岩寺山城步道", "跳蹬河健身步道", "中梁山山林步道",
        "铜罐驿—西彭—陶家山水步道"],
}


def test_transport_items_1_to_10_with_plan_text(profile, transport, seed):
    items = transport_items_table(profile, transport.reset_index(drop=True))
    assert list(items["item"]) == list(range(1, 11))
    for r in items.itertuples():
        assert _norm(f"{r.item}.{r.title_zh}。{r.text_zh}") in _norm(seed)
        assert r.n_drawn + r.n_without_geometry >= 1
    by_item = items.set_index("item")
    for n in (6, 7, 9, 10):
        assert by_item.loc[n, "n_drawn"] == 0 and by_item.loc[n, "projects_without_geometry"] == by_item.loc[n, "title_zh"]
    assert "白市驿隧道" in by_item.loc[4, "projects_drawn"] and "白市驿隧道" in by_item.loc[5, "projects_drawn"]


def test_transport_every_named_project_is_mapped_to_its_item(transport):
    for item, names in ITEM_NAMES.items():
        rows = transport[transport["plan_item"].map(lambda v, n=item: str(n) in v.split(";"))]
        text = rows["plan_text"].iloc[0]
        for name in names:
            assert name in text, (item, name)
            assert name in set(rows["name_in_plan"]), (item, name)
    assert transport.loc["D04", "plan_item"] == "4;5"
    assert transport.loc["D01", "plan_item"] == "4"
    assert {transport.loc[i, "plan_item"] for i in ("R01", "R02", "R03", "F01", "F02")} == {"1"}
    for pid in ("H01", "H02"):
        assert transport.loc[pid, "plan_item"] == "2"
    assert transport.loc["H02"].geometry is None


def test_transport_related_and_context_rows(transport):
    projects = {r["id"]: r for r in _csv("transport_projects.csv")}
    related = [k for k, r in projects.items() if r["plan_item"].startswith("related")]
    assert sorted(related) == ["H05", "M07", "R07"]
    for pid in related:
        assert transport.loc[pid, "role"] == "related" and transport.loc[pid, "plan_item"] == ""
    existing = {r["project_id"] for r in _csv("metro_km_in_jiulongpo.csv")}
    assert existing == {"E00", "E01", "E02", "E05", "E18", "EJT"}
    assert not existing & set(transport.index)
    # every other project of the gazetteer is in the layer, plus one row for each of items 6, 7, 9, 10
    assert set(transport.index) == (set(projects) - existing) | {"ITEM06", "ITEM07", "ITEM09", "ITEM10"}
    assert set(transport["status_class"]) <= set(STATUS_CLASSES)
    assert transport.loc["F01", "name_in_plan"] == "黄磛货运站"  # the plan's spelling kept


def test_transport_geometry_follows_waypoints(transport):
    wps: dict[str, list[dict]] = {}
    for r in _csv("transport_waypoints.csv"):
        wps.setdefault(r["project_id"], []).append(r)
    for pid, row in transport.iterrows():
        pts = sorted(wps.get(pid, []), key=lambda r: int(r["seq"]))
        geom = row.geometry
        if len(pts) == 0:
            assert geom is None and math.isnan(row["uncertainty_m"])
            assert row["line_note"].startswith("not drawn")
            continue
        assert not row["line_note"].startswith("not drawn")
        expected = [(float(p["lon_wgs84"]), float(p["lat_wgs84"])) for p in pts]
        assert geom.geom_type == ("LineString" if len(pts) >= 2 else "Point")
        coords = list(geom.coords)
        assert len(coords) == len(pts) == row["n_waypoints"]
        assert np.allclose(coords, expected, atol=1e-9)
        assert row["uncertainty_m"] == max(float(p["uncertainty_m"]) for p in pts)
    assert len(transport.loc["D03"].geometry.coords) == 6
    assert len(transport.loc["T02"].geometry.coords) == 5
    assert "NOT" in transport.loc["R03", "line_note"]


def test_urban_rail_chords_against_geod_and_district_polygon(rail):
    from cnmaps import get_adm_maps
    from pyproj import Geod
    from shapely.geometry import shape

    district = get_adm_maps(province="重庆市", district="九龙坡区", only_polygon=True, record="first")
    district = shape(district.__geo_interface__) if hasattr(district, "__geo_interface__") else district
    geod = Geod(ellps="GRS80")
    assert sorted(rail.index) == ["E00", "E01", "E02", "E05", "E18", "EJT"]
    assert len(rail.loc["E05"].geometry.coords) == rail.loc["E05", "n_waypoints"] == 14
    for pid, row in rail.iterrows():
        total = geod.geometry_length(row.geometry) / 1000
        inside = geod.geometry_length(row.geometry.intersection(district)) / 1000
        assert total == pytest.approx(row["chord_km_total"], abs=0.05), pid
        assert inside == pytest.approx(row["chord_km_in_jiulongpo"], abs=0.05), pid
    assert set(rail["status_class"]) == {"open"} and set(rail["role"]) == {"context"}
    assert rail.loc["E18", "stations_in_jiulongpo"].count(";") == 7  # 8 stations


# --------------------------------------------------------------------------- contract, styles, columns


@pytest.mark.parametrize("name", ["parks", "waste", "transport", "rail"])
def test_provenance_on_every_feature(name, request):
    gdf = request.getfixturevalue(name)
    assert gdf.crs.to_epsg() == 4490
    for col in ("name_zh", "name_en", "source", "precision"):
        assert (gdf[col].astype(str).str.strip() != "").all(), col
    assert set(gdf["precision"]) <= set(PRECISIONS)
    located = _has_geom(gdf)
    assert (gdf.loc[located, "uncertainty_m"] > 0).all()
    assert gdf.loc[~located, "uncertainty_m"].isna().all()
    assert (gdf.loc[located, "location_source"].str.strip() != "").all()


def test_precision_per_layer(parks, waste, transport, rail):
    assert set(parks["precision"]) == {"indicative"} and set(waste["precision"]) == {"indicative"}
    assert set(transport["precision"]) == {"schematic"} and set(rail["precision"]) == {"schematic"}


def test_chinese_headers_cover_every_column(profile, parks, waste, transport, rail):
    cases = [
        (parks_mod.COLUMNS_ZH, [parks]),
        (waste_mod.COLUMNS_ZH, [waste, waste_figures_table(profile), waste_forecast_table(profile),
                                 waste_targets_table(profile)]),
        (transport_mod.COLUMNS_ZH, [transport, rail, transport_items_table(profile, transport.reset_index(drop=True))]),
    ]
    for mapping, frames in cases:
        for df in frames:
            cols = [c for c in df.columns if c != "geometry"]
            assert not [c for c in cols if c not in mapping]


def test_every_category_has_a_colour(parks, waste, transport):
    for layer, gdf, field in (("parks", parks, "kind"), ("waste_facilities", waste, "kind"),
                              ("transport_projects", transport, "mode")):
        style = style_for(layer)
        assert style.category_field == field
        assert set(gdf[field]) <= set(style.categories), layer


# --------------------------------------------------------------------------- data-file errors


@pytest.fixture
def layers_copy(tmp_path):
    original = get_settings().layers_dir
    target = tmp_path / "layers"
    shutil.copytree(original, target)
    configure(layers_dir=target)
    yield target
    configure(layers_dir=original)


def test_missing_table_is_a_clear_error(profile, layers_copy):
    (layers_copy / "waste_plan_figures.csv").unlink()
    with pytest.raises(MissingInputError, match="waste_plan_figures.csv"):
        build_waste_facilities(profile)


def test_bad_link_table_is_a_clear_error(profile, layers_copy):
    path = layers_copy / "transport_plan_links.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("D04,4;5,", "D04,4;11,"), encoding="utf-8")
    with pytest.raises(InputDataError, match="plan items"):
        build_transport_projects(profile)


def test_mixed_units_for_one_figure_are_refused(profile, layers_copy):
    path = layers_copy / "waste_plan_figures.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("fill_volume,326,万立方米,万立方米", "fill_volume,326,万吨,万吨/年"), encoding="utf-8")
    with pytest.raises(InputDataError, match="units"):
        build_waste_facilities(profile)
