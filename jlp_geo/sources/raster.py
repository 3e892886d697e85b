"""Online rasters, read as windows of cloud-optimised GeoTIFFs: elevation and population.

* Elevation: Copernicus DEM GLO-30 (30 m), public COG tiles of 1°×1° named
  ``Copernicus_DSM_COG_10_N29_00_E106_00_DEM`` on the AWS open-data bucket
  (licence: © DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018,
  provided under COPERNICUS by the European Union and ESA; free use).
* Population: WorldPop constrained 100 m people-per-cell for China, 2020
  (CC BY 4.0, https://www.worldpop.org, doi:10.5258/SOTON/WP00684).

Only the window covering the study area is read (GDAL ``/vsicurl/`` range
requests), mosaicked and written as a local GeoTIFF that the offline paths
(``--dem FILE``, ``--population FILE``) then use.  The same functions accept a
local folder or file in place of the URL, which is how the tests exercise them
on the real formats without internet.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import MissingInputError
from ..io import atomic_path

COPERNICUS_BASE = "https://copernicus-dem-30m.s3.amazonaws.com"
COPERNICUS_CREDIT = (
    "Copernicus DEM GLO-30 © DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018, "
    "provided under COPERNICUS by the European Union and ESA"
)
WORLDPOP_CHN_2020 = (
    "https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_UNadj_constrained.tif"
)
WORLDPOP_CREDIT = "WorldPop (www.worldpop.org), constrained 100 m population 2020, CC BY 4.0"


def copernicus_tile_id(lat: int, lon: int) -> str:
    """Name of the GLO-30 tile whose south-west corner is (*lat*, *lon*) (integer degrees)."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"Copernicus_DSM_COG_10_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"


def copernicus_tile_urls(bounds: tuple[float, float, float, float], base: str = COPERNICUS_BASE) -> list[str]:
    """URLs (or paths under a local mirror *base*) of the GLO-30 tiles covering lon/lat *bounds*."""
    west, south, east, north = bounds
    out = []
    for lat in range(math.floor(south), math.floor(north - 1e-12) + 1):
        for lon in range(math.floor(west), math.floor(east - 1e-12) + 1):
            tid = copernicus_tile_id(lat, lon)
            out.append(f"{base.rstrip('/')}/{tid}/{tid}.tif")
    return out


def _open_path(url: str) -> str:
    return f"/vsicurl/{url}" if url.startswith(("http://", "https://")) else url


def read_window(sources: list[str], bounds: tuple[float, float, float, float], out_path: str | Path, what: str) -> Path:
    """Mosaic the window *bounds* (lon/lat) of one or more rasters into a GeoTIFF at *out_path*."""
    import rasterio
    from rasterio.merge import merge

    datasets = []
    try:
        for src in sources:
            try:
                datasets.append(rasterio.open(_open_path(src)))
            except rasterio.errors.RasterioIOError as exc:
                raise MissingInputError(
                    f"cannot read {what} from {src}: {exc}",
                    where=src,
                    fix=f"when offline, download the {what} elsewhere and pass it as a local GeoTIFF",
                ) from exc
        mosaic, transform = merge(datasets, bounds=bounds)
        profile = datasets[0].profile.copy()
    finally:
        for ds in datasets:
            ds.close()
    profile.update(driver="GTiff", height=mosaic.shape[1], width=mosaic.shape[2], transform=transform, count=mosaic.shape[0],
                   compress="deflate", tiled=False)
    profile.pop("blockxsize", None)
    profile.pop("blockysize", None)
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(mosaic)
    return out_path


def fetch_dem(bounds: tuple[float, float, float, float], out_path: str | Path, base: str = COPERNICUS_BASE) -> Path:
    """Read the Copernicus GLO-30 window covering lon/lat *bounds* into a local GeoTIFF."""
    return read_window(copernicus_tile_urls(bounds, base), bounds, out_path, "Copernicus DEM GLO-30")


def fetch_population(bounds: tuple[float, float, float, float], out_path: str | Path, url: str = WORLDPOP_CHN_2020) -> Path:
    """Read the WorldPop window covering lon/lat *bounds* into a local GeoTIFF."""
    return read_window([url], bounds, out_path, "WorldPop population")
