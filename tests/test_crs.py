"""CRS module: exact GCJ-02/BD-09 inverse, refusal of unsuitable CRSs."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from jlp_geo import crs
from jlp_geo.errors import CRSError


def test_gcj02_known_point_from_gazetteer():
    # layers/other.csv: Amap GCJ-02 106.374708,29.378201 -> WGS84 106.370733,29.380834 (~480 m shift)
    lon, lat = crs.gcj02_to_wgs84(106.374708, 29.378201)
    assert lon == pytest.approx(106.370733, abs=2e-6)
    assert lat == pytest.approx(29.380834, abs=2e-6)


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_inverse_is_exact_for_layers(datum):
    rng = np.random.default_rng(1)
    pts = np.column_stack([rng.uniform(106.25, 106.55, 50), rng.uniform(29.25, 29.56, 50)])
    import prcoords

    fwd = {"gcj02": prcoords.wgs_gcj, "bd09": prcoords.wgs_bd}[datum]
    shifted = np.array([[c.lon, c.lat] for c in (fwd((lat, lon)) for lon, lat in pts)])
    gdf = gpd.GeoDataFrame(geometry=shapely.points(shifted), crs="EPSG:4326")
    back = crs.from_chinese_datum(gdf, datum)
    got = shapely.get_coordinates(back.geometry.values)
    metres = np.hypot((got[:, 0] - pts[:, 0]) * 96_900, (got[:, 1] - pts[:, 1]) * 110_900)
    assert metres.max() < 0.05  # exact inverse: centimetres, not the ~1-2 m of one-step formulas
    shift = np.hypot((shifted[:, 0] - pts[:, 0]) * 96_900, (shifted[:, 1] - pts[:, 1]) * 110_900)
    assert shift.min() > 300  # the obfuscation really is hundreds of metres here


def test_refuses_geographic_and_web_mercator():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(106.5, 29.5)], crs="EPSG:4490")
    with pytest.raises(CRSError, match="geographic"):
        crs.to_analysis(gdf, "EPSG:4490")
    with pytest.raises(CRSError, match="Web Mercator"):
        crs.to_analysis(gdf, "EPSG:3857")
    x = crs.to_analysis(gdf).geometry.iloc[0]
    # EPSG:4544 has no zone prefix: 500 km false easting + ~145 km east of 105E at 29.5N
    assert x.x == pytest.approx(645_458, abs=5) and x.y == pytest.approx(3_265_627, abs=5)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        crs.to_storage(gpd.GeoDataFrame(geometry=[shapely.Point(1, 1)]))
