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
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ..errors import InputDataError, MissingInputError
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


# --------------------------------------------------------------------------- local rasters: checked before use


@dataclass(frozen=True)
class RasterCheck:
    """What a local raster holds over the study area (see :func:`check_raster`).

    Attributes
    ----------
    path
        The file.
    kind
        ``"population"`` or ``"dem"``.
    footprint
        Polygon (EPSG:4326) of the raster's cells with data, or None when it has none.
    valid_cells
        Cells with data (not nodata / NaN) in the whole raster.
    min_value, max_value
        Range of the valid cells (NaN without any).
    """

    path: Path
    kind: str
    footprint: BaseGeometry | None
    valid_cells: int
    min_value: float
    max_value: float


def _overlaps(window: object, src: object) -> bool:
    """Whether a (possibly out-of-range) window overlaps the raster at all."""
    return (window.col_off < src.width and window.row_off < src.height
            and window.col_off + window.width > 0 and window.row_off + window.height > 0)


RASTER_WHAT = {"population": ("population raster", "--population"), "dem": ("DEM", "--dem")}


def check_raster(
    path: str | Path,
    kind: str,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    max_cells: int = 512,
) -> RasterCheck:
    """Open a local GeoTIFF and check it can serve as *kind*; return its data footprint.

    Parameters
    ----------
    path
        A GeoTIFF (any raster GDAL reads).
    kind
        ``"population"`` (people per cell: negative values are an error) or ``"dem"`` (metres).
    bounds
        Lon/lat box of the study area: only this window is read (a national raster is never read whole).
    max_cells
        The footprint is traced on a grid of at most *max_cells* × *max_cells* (an outline, not a cell count).

    Raises
    ------
    MissingInputError
        The file does not exist.
    InputDataError
        The file is not a readable raster, has no CRS, or (population) holds negative values.
    """
    import rasterio
    import rasterio.features
    from rasterio.enums import Resampling
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    from ..crs import to_storage

    what, option = RASTER_WHAT[kind]
    path = Path(path)
    where = f"{option} {path}"
    if not path.is_file():
        raise MissingInputError(f"{what} not found", where=where, fix=f"check the path given to {option}")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputDataError(f"the {what} has no coordinate reference system", where=where,
                                     fix="use the GeoTIFF as published (WorldPop/GHSL/Copernicus carry their CRS)")
            window = Window(0, 0, src.width, src.height)
            if bounds is not None:
                box = transform_bounds("EPSG:4326", src.crs, *bounds)
                window = from_bounds(*box, transform=src.transform).round_offsets().round_lengths()
                window = window.intersection(Window(0, 0, src.width, src.height)) if _overlaps(window, src) else None
            if window is None:
                data = coarse = np.ma.masked_all((1, 1))
                transform = src.transform
            else:
                data = src.read(1, masked=True, window=window)
                h, w = data.shape
                scale = max(1, int(math.ceil(max(w, h) / max_cells)))
                shape = (max(1, h // scale), max(1, w // scale))
                coarse = src.read(1, masked=True, window=window, out_shape=shape, resampling=Resampling.nearest)
                base = src.window_transform(window)
                transform = base @ base.scale(w / shape[1], h / shape[0])
            crs = src.crs
    except rasterio.errors.RasterioIOError as exc:
        raise InputDataError(f"cannot read the {what}: it is not a raster GDAL can open ({exc})", where=where,
                             fix=f"give a GeoTIFF to {option} (export it again, or download it again if it was cut short)") from exc
    values = np.ma.masked_invalid(data.astype("float64"))
    n_valid = int(values.count())
    lo = float(values.min()) if n_valid else float("nan")
    hi = float(values.max()) if n_valid else float("nan")
    if kind == "population" and n_valid and lo < 0:
        n_neg = int((values < 0).sum())
        raise InputDataError(f"the population raster holds {n_neg:,} negative cell(s) (minimum {lo:g}); people per cell cannot be negative",
                             where=where, fix="check the file's nodata value (WorldPop uses -99999 as nodata) and set it in the GeoTIFF")
    footprint = None
    mask = ~np.ma.getmaskarray(np.ma.masked_invalid(coarse.astype("float64")))
    if n_valid and mask.any():
        shapes = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(mask.astype("uint8"), mask=mask, transform=transform) if v == 1]
        poly = gpd.GeoDataFrame(geometry=[shapely.union_all(shapes)], crs=crs)
        footprint = to_storage(poly).geometry.iloc[0]
    return RasterCheck(path, kind, footprint, n_valid, lo, hi)
