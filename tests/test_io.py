"""GeoPackage (version, styles, metadata, atomic) and CSV (BOM, Chinese headers)."""

import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from jlp_geo.io import qgis_style_qml, read_gpkg_info, write_csv, write_geopackage
from jlp_geo.layers.common import finish_layer


@pytest.fixture()
def parks_layer():
    return finish_layer(
        [
            {"name_zh": "轻合金应用产业园", "name_en": "Light alloy", "source": "名词解释2", "precision": "indicative",
             "uncertainty_m": 3000, "kind": "九园"},
            {"name_zh": "航空航天产业园", "name_en": "Aerospace", "source": "名词解释2", "precision": "indicative", "kind": "九园"},
            {"name_zh": "重庆枢纽港产业园九龙新城", "name_en": "Port", "source": "名词解释2", "precision": "indicative",
             "uncertainty_m": 8000, "kind": "一港"},
        ],
        [shapely.Point(106.322, 29.333), None, shapely.Point(106.355, 29.36)],
        layer="parks",
    )


def test_geopackage_version_styles_metadata(tmp_path, parks_layer):
    path = write_geopackage(tmp_path / "a.gpkg", {"parks": parks_layer}, dataset_metadata={"source": "十五五规划纲要 名词解释2"})
    info = read_gpkg_info(path)
    assert info["application_id"] == 0x47504B47  # 'GPKG'
    assert info["user_version"] == 10200  # GPKG 1.2
    assert info["layers"] == ["parks"] and info["srs"] == {"parks": 4490}
    assert info["styles"] == {"parks": 1}
    assert any("名词解释2" in m for m in info["metadata"])
    back = pyogrio.read_dataframe(path, layer="parks")
    assert len(back) == 3 and int(back.geometry.isna().sum()) == 1  # unplaced park kept, without geometry
    assert back["uncertainty_m"].tolist()[0] == 3000
    with sqlite3.connect(path) as con:
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name='parks'").fetchone()[0]
    assert 'type="categorizedSymbol"' in qml and 'attr="kind"' in qml and 'value="一港"' in qml
    assert 'fieldName="name_zh"' in qml and 'labelsEnabled="1"' in qml
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_qml_is_well_formed_xml(parks_layer):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(qgis_style_qml("parks", parks_layer).split("\n", 1)[1])
    assert root.tag == "qgis"
    cats = root.find("renderer-v2").find("categories")
    assert [c.get("value") for c in cats] == ["九园", "一港", ""]  # + one catch-all (empty value: every other value, NULL)
    assert cats[-1].get("label") == "其他 other"


def test_failed_write_keeps_old_file(tmp_path, parks_layer):
    path = write_geopackage(tmp_path / "a.gpkg", {"parks": parks_layer})
    before = path.read_bytes()
    no_crs = gpd.GeoDataFrame({"name_zh": ["x"]}, geometry=[shapely.Point(0, 0)])
    with pytest.raises(Exception):
        write_geopackage(path, {"parks": parks_layer, "bad": no_crs})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg"]


def test_csv_has_bom_and_chinese_headers(tmp_path):
    df = pd.DataFrame({"name_zh": ["华岩镇"], "area_km2": [31.84], "custom": [1]})
    path = write_csv(df, tmp_path / "t.csv", {"custom": "自定义"})
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0]
    assert header == "名称,面积(平方千米) area_km2,自定义"
    assert pd.read_csv(path, encoding="utf-8-sig").iloc[0, 1] == 31.84


def test_mixed_layer_written_as_one_layer_per_geometry_type(tmp_path):
    from jlp_geo.io import split_by_geometry

    mixed = gpd.GeoDataFrame(
        {"name_zh": ["线", "点", "未定位", "线2"], "mode": ["rail", "station", "rail", "road"]},
        geometry=[shapely.LineString([(106.3, 29.3), (106.4, 29.4)]), shapely.Point(106.35, 29.35), None,
                  shapely.MultiLineString([[(106.3, 29.4), (106.4, 29.3)]])],
        crs="EPSG:4490",
    )
    parts = split_by_geometry({"transport_projects": mixed})
    # the style says lines: the unlocated row stays listed with the lines
    assert {k: list(v["name_zh"]) for k, v in parts.items()} == {
        "transport_projects_lines": ["线", "未定位", "线2"], "transport_projects_points": ["点"]}
    path = write_geopackage(tmp_path / "m.gpkg", {"transport_projects": mixed})
    kinds = dict(pyogrio.list_layers(path))
    assert kinds["transport_projects_points"] == "Point" and kinds["transport_projects_lines"] in ("LineString", "MultiLineString", "Unknown")
    qml = read_gpkg_info(path)["styles"]
    assert qml == {"transport_projects_lines": 1, "transport_projects_points": 1}
    with sqlite3.connect(path) as con:
        kinds = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles"))
    assert 'type="marker"' in kinds["transport_projects_points"] and 'type="marker"' not in kinds["transport_projects_lines"]


def test_invalid_geometry_repaired_with_a_warning(tmp_path, capsys):
    bowtie = shapely.Polygon([(106.30, 29.30), (106.32, 29.32), (106.32, 29.30), (106.30, 29.32)])  # self-intersecting
    assert not bowtie.is_valid
    gdf = gpd.GeoDataFrame({"name_zh": ["等时圈"]}, geometry=[bowtie], crs="EPSG:4490")
    path = write_geopackage(tmp_path / "v.gpkg", {"isochrones": gdf})
    back = pyogrio.read_dataframe(path, layer="isochrones")
    assert back.geometry.is_valid.all() and back.geom_type.iloc[0] in ("Polygon", "MultiPolygon")
    assert back.geometry.iloc[0].area == pytest.approx(2 * 0.5 * 0.02 * 0.01)  # two triangles of the bow tie
    assert "警告" in capsys.readouterr().err
