"""User files: clear errors for bad input, exact GCJ-02 conversion, explicit repairs."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from jlp_geo.crs import wgs84_to_gcj02
from jlp_geo.errors import CRSError, InputDataError, MissingInputError
from jlp_geo.sources.userfile import read_user_layer


def _pts(crs="EPSG:4326"):
    return gpd.GeoDataFrame(
        {"name_zh": ["甲", "乙"]}, geometry=[shapely.Point(106.37, 29.38), shapely.Point(106.44, 29.48)], crs=crs
    )


def test_reads_gpkg_geojson_shapefile(tmp_path):
    for name in ("a.gpkg", "a.geojson", "a.shp"):
        _pts().to_file(tmp_path / name)
        got = read_user_layer(tmp_path / name, what="--parks")
        assert got.crs.to_epsg() == 4490 and len(got) == 2
        assert got.attrs["source_file"] == name and got.attrs["repair_notes"] == []


def test_gcj02_input_converted_exactly(tmp_path):
    truth = [(106.370733, 29.380834), (106.443, 29.478)]
    gcj = [wgs84_to_gcj02(x, y) for x, y in truth]
    gpd.GeoDataFrame({"name_zh": ["a", "b"]}, geometry=shapely.points(gcj), crs="EPSG:4326").to_file(tmp_path / "g.geojson")
    got = read_user_layer(tmp_path / "g.geojson", what="--waste-facilities", input_crs="gcj02")
    xy = shapely.get_coordinates(got.geometry.values)
    assert np.abs(xy - np.array(truth)).max() < 1e-6
    plain = read_user_layer(tmp_path / "g.geojson", what="--waste-facilities")
    assert np.abs(shapely.get_coordinates(plain.geometry.values) - np.array(truth)).max() > 3e-3  # ~480 m off otherwise


def test_shapefile_without_prj(tmp_path):
    _pts().to_file(tmp_path / "n.shp")
    (tmp_path / "n.prj").unlink()
    with pytest.raises(CRSError, match=r"(?s)no \.prj.*n\.shp.*--input-crs"):
        read_user_layer(tmp_path / "n.shp", what="--parks")


def test_missing_columns_named(tmp_path):
    _pts().rename(columns={"name_zh": "名称"}).to_file(tmp_path / "m.gpkg")
    with pytest.raises(InputDataError, match=r"(?s)missing required column\(s\) name_zh.*名称"):
        read_user_layer(tmp_path / "m.gpkg", what="--parks")


def test_wrong_crs_detected(tmp_path):
    # Gauss-Krüger metres (EPSG:4544) mislabelled as CGCS2000 degrees: caught by the plausibility box
    bad = gpd.GeoDataFrame({"name_zh": ["x"]}, geometry=[shapely.Point(645458, 3265627)], crs="EPSG:4490")
    bad.to_file(tmp_path / "w.gpkg")
    with pytest.raises(CRSError, match="not near Jiulongpo"):
        read_user_layer(tmp_path / "w.gpkg", what="--transport")


def test_invalid_geometry_repaired_with_note(tmp_path):
    bowtie = shapely.Polygon([(106.40, 29.40), (106.42, 29.42), (106.42, 29.40), (106.40, 29.42)])
    ok = shapely.box(106.43, 29.43, 106.44, 29.44)
    gdf = gpd.GeoDataFrame({"name_zh": ["坏", "好"]}, geometry=[bowtie, ok], crs="EPSG:4490")
    gdf.to_file(tmp_path / "v.gpkg")
    got = read_user_layer(tmp_path / "v.gpkg", what="--townships", required=())
    assert got.geometry.is_valid.all()
    # make_valid keeps both lobes of the bow-tie: two triangles, base 0.02 deg, height 0.01 deg
    assert got.geometry.iloc[0].area == pytest.approx(2 * (0.02 * 0.01 / 2), rel=1e-6)
    assert len(got.attrs["repair_notes"]) == 1 and "feature 1" in got.attrs["repair_notes"][0]
    assert "Self-intersection" in got.attrs["repair_notes"][0]


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(MissingInputError, match="file not found"):
        read_user_layer(tmp_path / "none.gpkg", what="--parks")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(InputDataError, match="unsupported file type"):
        read_user_layer(tmp_path / "x.csv", what="--parks")
    (tmp_path / "broken.gpkg").write_bytes(b"not a database")
    with pytest.raises(InputDataError, match="cannot open"):
        read_user_layer(tmp_path / "broken.gpkg", what="--parks")
