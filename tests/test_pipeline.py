"""End to end: `jlp-geo build` on the embedded data, and failures that write nothing."""

import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from jlp_geo.cli import main
from jlp_geo.io import read_gpkg_info

LAYERS = ["district", "townships", "clusters", "parks", "waste_facilities", "transport_projects", "urban_rail_existing"]
LAYERS += ["planned_facilities"]  # issue 10: the plan's new public-service facilities (专栏21–23 …)
# in the GeoPackage a mixed-geometry layer is one layer per geometry type (QGIS draws each with its own symbol)
LAYERS += ["urban_renewal", "green_system", "ecological_pattern", "jiulong_new_city", "utilities", "emergency_shelters"]  # issue 15
MIXED = {"transport_projects", "urban_renewal", "ecological_pattern", "jiulong_new_city"}  # points and schematic lines
GPKG_LAYERS = [x for n in LAYERS for x in ([f"{n}_lines", f"{n}_points"] if n in MIXED else [n])]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    assert main(["build", "--out", str(out)]) == 0
    return out


def test_geopackage_layers_styles_crs_counts(built):
    gpkg = built / "jiulongpo.gpkg"
    info = read_gpkg_info(gpkg)
    assert info["user_version"] == 10200  # GPKG 1.2
    assert info["layers"] == GPKG_LAYERS
    assert set(info["srs"].values()) == {4490}
    assert info["styles"] == {name: 1 for name in GPKG_LAYERS}
    counts = {name: len(pyogrio.read_dataframe(gpkg, layer=name)) for name in GPKG_LAYERS}
    # 1 district, 19 镇街, 4 clusters + 高新区 unit, 13 parks + 2 context parks, 4 planned + 新启
    assert counts["district"] == 1 and counts["townships"] == 19 and counts["clusters"] == 5
    assert counts["parks"] == 15 and counts["waste_facilities"] == 5 and counts["urban_rail_existing"] == 6
    towns = pyogrio.read_dataframe(gpkg, layer="townships")
    assert towns["label_zh"].str.endswith("（示意）").all()
    metadata = "\n".join(info["metadata"])
    assert "示意" in metadata and "ODbL" in metadata and "312" in metadata and "326" in metadata
    with sqlite3.connect(gpkg) as con:
        desc = dict(con.execute("SELECT table_name, description FROM gpkg_contents"))
    assert desc["townships"].startswith("镇街")


def test_tables_have_bom_and_chinese_headers(built):
    tables = sorted(p.stem for p in (built / "tables").glob("*.csv"))
    assert set(LAYERS) <= set(tables)
    assert {"waste_forecast", "waste_targets", "transport_items"} <= set(tables)
    raw = (built / "tables" / "waste_facilities.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(built / "tables" / "waste_facilities.csv", encoding="utf-8-sig")
    assert "名称" in df.columns and len(df) == 5
    parks = pd.read_csv(built / "tables" / "parks.csv", encoding="utf-8-sig")
    assert len(parks) == 15  # unplaced parks are listed in the table


def test_atlas_written_offline(built):
    html = (built / "maps" / "atlas.html").read_text(encoding="utf-8")
    assert '<script src="http' not in html and '<link href="http' not in html
    assert "岩洞湾" in html and "示意" in html
    assert not [p for p in built.rglob(".*")]  # no staging or temp files left


def test_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    bad = tmp_path / "towns.shp"
    gpd.GeoDataFrame({"name_zh": ["杨家坪街道"]}, geometry=[shapely.box(106.5, 29.5, 106.51, 29.51)], crs="EPSG:4490").to_file(bad)
    bad.with_suffix(".prj").unlink()
    assert main(["build", "--out", str(out), "--townships", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "no .prj" in err and "towns.shp" in err and "what to do" in err
    assert not out.exists() or not any(out.iterdir())


def test_user_file_replaces_layer_with_gcj02(tmp_path):
    from jlp_geo.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(106.443, 29.478)
    f = tmp_path / "waste.geojson"
    gpd.GeoDataFrame({"name_zh": ["华岩装修垃圾分选场"], "name_en": ["Huayan sorting"]},
                     geometry=[shapely.Point(lon, lat)], crs="EPSG:4326").to_file(f)
    out = tmp_path / "out"
    assert main(["build", "--out", str(out), "--waste-facilities", str(f), "--input-crs", "gcj02"]) == 0
    got = pyogrio.read_dataframe(out / "jiulongpo.gpkg", layer="waste_facilities")
    assert len(got) == 1
    assert got.geometry.iloc[0].x == pytest.approx(106.443, abs=1e-6) and got.geometry.iloc[0].y == pytest.approx(29.478, abs=1e-6)
    assert "waste.geojson" in got["source"].iloc[0]


def test_build_says_when_coverage_is_skipped(built):
    from jlp_geo.pipeline import run_build

    # the module fixture ran without --osm and with an empty (isolated) cache
    assert not (built / "coverage.gpkg").exists()
    res = run_build(built / "again", use_cache=True)
    assert any("Coverage not computed" in n and "--osm" in n for n in res.notes)


def test_build_with_osm_includes_coverage(tmp_path):
    from pathlib import Path

    fixture = Path(__file__).parent / "data" / "jlp_tiny.osm"  # hand-made, inside the district near 106.5E 29.5N
    out = tmp_path / "out"
    assert main(["build", "--out", str(out), "--osm", str(fixture)]) == 0
    info = read_gpkg_info(out / "coverage.gpkg")
    assert {"walk_edges", "services_points", "services_polygons", "access_nodes", "coverage_hex", "coverage_townships", "coverage_clusters",
            "isochrones"} <= set(info["layers"])
    towns = pyogrio.read_dataframe(out / "coverage.gpkg", layer="coverage_townships")
    assert len(towns) == 19 and (towns["coverage_note"].str.contains("示意")).all()
    nodes = pyogrio.read_dataframe(out / "coverage.gpkg", layer="access_nodes")
    # every category has both columns, even the ones with no service in the fixture
    from jlp_geo.layers.categories import load_categories

    for c in load_categories():
        assert f"dist_m_{c.id}" in nodes.columns and f"time_s_{c.id}" in nodes.columns  # integer m / s (ceil)
    # population-weighted shares of the townships that hold nodes equal the node-level count
    inside = towns[towns["population"] > 0]
    assert inside["population"].sum() == len(nodes)
    shares = pd.read_csv(out / "tables" / "coverage_shares.csv", encoding="utf-8-sig")
    assert "覆盖率 share" in shares.columns
    assert (out / "tables" / "coverage.xlsx").stat().st_size > 0
    assert (out / "maps" / "coverage.html").stat().st_size > 0
    # the life-circle units of the same build are an overlay of the coverage map, one popup per unit
    units = pyogrio.read_dataframe(out / "circles.gpkg", layer="life_circles")
    page = (out / "maps" / "coverage.html").read_text(encoding="utf-8")
    assert "life-circle units" in page
    assert all(str(uid) in page for uid in units["unit_id"])


def test_bad_osm_input_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x01 not a pbf")
    out = tmp_path / "out"
    assert main(["build", "--out", str(out), "--osm", str(bad)]) == 2
    assert "broken.osm.pbf" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
