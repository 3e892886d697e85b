"""How the ground sets walking speed: the level-ground base speed, Tobler's hiking function, DEM sampling.

The base speed (60 m/min, from GB 50180-2018's walking radii) and the way
hills, steps and structures modify it are set out in :mod:`jlp_geo.network`;
this module holds the constants and the pure functions the walk builder uses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..crs import transform_xy
from ..errors import InputDataError, MissingInputError

__all__ = [
    "DEFAULT_SPEED_M_PER_MIN",
    "DEFAULT_STEPS_FACTOR",
    "sample_dem",
    "tobler_factor",
    "tobler_speed_kmh",
]

DEFAULT_SPEED_M_PER_MIN: float = 60.0
"""Base walking speed on level ground (GB 50180-2018 radii: 300 m / 5 min)."""

DEFAULT_STEPS_FACTOR: float = 0.5
"""Speed factor of ``highway=steps`` relative to level walking (working assumption)."""


def tobler_speed_kmh(grade: np.ndarray | float) -> np.ndarray:
    """Tobler's hiking function ``6 exp(-3.5 |g + 0.05|)`` in km/h.

    Parameters
    ----------
    grade
        Rise over horizontal run (0.1 = 10 % uphill, -0.1 = 10 % downhill).
    """
    return 6.0 * np.exp(-3.5 * np.abs(np.asarray(grade, dtype=float) + 0.05))


def tobler_factor(grade: np.ndarray | float) -> np.ndarray:
    """Tobler speed relative to level ground: ``tobler(g) / tobler(0)`` (1 on the flat)."""
    g = np.asarray(grade, dtype=float)
    return np.exp(-3.5 * (np.abs(g + 0.05) - 0.05))


def sample_dem(path: str | Path, xs: np.ndarray, ys: np.ndarray, crs: object, band: int = 1) -> np.ndarray:
    """Sample a DEM GeoTIFF at points, with bilinear interpolation.

    Parameters
    ----------
    path
        A GeoTIFF (or any raster rasterio reads) with elevations in metres and a CRS.
    xs, ys
        Point coordinates in *crs*.
    crs
        CRS of *xs*, *ys*; points are reprojected to the raster's CRS if they differ.
    band
        Raster band to read.

    Returns
    -------
    numpy.ndarray
        Elevation (float64) per point; NaN outside the raster or where any needed
        cell is nodata and the nearest cell is nodata too.

    Raises
    ------
    MissingInputError
        If the file does not exist or rasterio is not installed.
    InputDataError
        If the raster has no CRS.
    """
    try:
        import rasterio
        from rasterio.windows import Window
    except ImportError as exc:  # pragma: no cover - rasterio is in the osm extra
        raise MissingInputError(
            "reading a DEM needs the rasterio package", fix="pip install 'jlp_geo[osm]' (or pip install rasterio)"
        ) from exc
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"DEM file not found: {path}", where=str(path), fix="give the path of a GeoTIFF DEM")
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    out = np.full(xs.shape, np.nan)
    if xs.size == 0:
        return out
    with rasterio.open(path) as ds:
        if ds.crs is None:
            raise InputDataError(
                "the DEM has no coordinate reference system", where=str(path), fix="save the GeoTIFF with its CRS"
            )
        px, py = transform_xy(xs, ys, crs, ds.crs)
        inv = ~ds.transform  # fractional pixel coordinates (corner origin)
        col_f = inv.a * px + inv.b * py + inv.c
        row_f = inv.d * px + inv.e * py + inv.f
        inside = (col_f >= 0) & (col_f <= ds.width) & (row_f >= 0) & (row_f <= ds.height) & np.isfinite(col_f)
        if not inside.any():
            return out
        # read only the window that covers the points (+1 cell margin)
        c0 = max(int(np.floor(col_f[inside].min())) - 1, 0)
        r0 = max(int(np.floor(row_f[inside].min())) - 1, 0)
        c1 = min(int(np.ceil(col_f[inside].max())) + 1, ds.width)
        r1 = min(int(np.ceil(row_f[inside].max())) + 1, ds.height)
        data = ds.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        arr = np.ma.filled(data.astype(float), np.nan)
    h, w = arr.shape
    cf = col_f[inside] - c0 - 0.5  # relative to cell centres
    rf = row_f[inside] - r0 - 0.5
    cf = np.clip(cf, 0.0, w - 1.0)
    rf = np.clip(rf, 0.0, h - 1.0)
    ci = np.minimum(np.floor(cf).astype(np.int64), max(w - 2, 0))
    ri = np.minimum(np.floor(rf).astype(np.int64), max(h - 2, 0))
    ci1 = np.minimum(ci + 1, w - 1)
    ri1 = np.minimum(ri + 1, h - 1)
    tx = cf - ci
    ty = rf - ri
    z = (
        arr[ri, ci] * (1 - tx) * (1 - ty)
        + arr[ri, ci1] * tx * (1 - ty)
        + arr[ri1, ci] * (1 - tx) * ty
        + arr[ri1, ci1] * tx * ty
    )
    nearest = arr[np.clip(np.round(rf).astype(np.int64), 0, h - 1), np.clip(np.round(cf).astype(np.int64), 0, w - 1)]
    z = np.where(np.isnan(z), nearest, z)
    out[inside] = z
    return out
