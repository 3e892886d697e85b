"""Online raster paths, exercised on local files in the real formats (COG tiles named as on the bucket)."""

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402

from jlp_geo.errors import MissingInputError  # noqa: E402
from jlp_geo.sources.raster import copernicus_tile_id, copernicus_tile_urls, fetch_dem, fetch_population  # noqa: E402


def test_tile_names_match_the_bucket_layout():
    assert copernicus_tile_id(29, 106) == "Copernicus_DSM_COG_10_N29_00_E106_00_DEM"
    assert copernicus_tile_id(-1, -71) == "Copernicus_DSM_COG_10_S01_00_W071_00_DEM"
    urls = copernicus_tile_urls((106.25, 29.26, 106.55, 29.56))  # Jiulongpo fits in one tile
    assert urls == ["https://copernicus-dem-30m.s3.amazonaws.com/Copernicus_DSM_COG_10_N29_00_E106_00_DEM/"
                    "Copernicus_DSM_COG_10_N29_00_E106_00_DEM.tif"]
    assert len(copernicus_tile_urls((105.5, 28.5, 106.5, 29.5))) == 4


def _tile(base, lat, lon, value):
    tid = copernicus_tile_id(lat, lon)
    (base / tid).mkdir(parents=True)
    n = 120  # 30 arc-second pixels for a small test tile
    data = np.full((n, n), value, dtype="float32") + np.arange(n, dtype="float32")[None, :]
    with rasterio.open(base / tid / f"{tid}.tif", "w", driver="GTiff", height=n, width=n, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(lon, lat + 1, 1 / n, 1 / n), tiled=True,
                       blockxsize=64, blockysize=64) as dst:
        dst.write(data, 1)


def test_fetch_dem_mosaics_the_window(tmp_path):
    base = tmp_path / "mirror"
    _tile(base, 29, 105, 100.0)
    _tile(base, 29, 106, 500.0)
    out = fetch_dem((105.9, 29.4, 106.1, 29.6), tmp_path / "dem.tif", base=str(base))
    with rasterio.open(out) as ds:
        assert ds.bounds.left == pytest.approx(105.9, abs=1 / 120) and ds.bounds.right == pytest.approx(106.1, abs=1 / 120)
        z = ds.read(1)
        # sample at pixel centres: column k of a tile is at tile_west + (k + 0.5) / 120
        west = list(ds.sample([(105 + 114.5 / 120, 29.5)]))[0][0]
        east = list(ds.sample([(106 + 6.5 / 120, 29.5)]))[0][0]
    # value = tile base + column index within its tile
    assert west == 100.0 + 114 and east == 500.0 + 6
    assert z.shape == (24, 24)


def test_fetch_population_window_and_offline_error(tmp_path):
    src = tmp_path / "chn_ppp.tif"
    data = np.arange(100 * 100, dtype="float32").reshape(100, 100)
    with rasterio.open(src, "w", driver="GTiff", height=100, width=100, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(106.0, 30.0, 0.01, 0.01)) as dst:
        dst.write(data, 1)
    out = fetch_population((106.2, 29.5, 106.5, 29.8), tmp_path / "pop.tif", url=str(src))
    with rasterio.open(out) as ds:
        got = ds.read(1)
    assert got.shape == (30, 30)
    assert got.sum() == pytest.approx(data[20:50, 20:50].sum())
    with pytest.raises(MissingInputError, match="local GeoTIFF"):
        fetch_population((106.2, 29.5, 106.5, 29.8), tmp_path / "x.tif", url=str(tmp_path / "missing.tif"))
    assert not (tmp_path / "x.tif").exists()
