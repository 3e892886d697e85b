"""The only place that reprojects layers or converts GCJ-02 / BD-09 coordinates.

* storage: CGCS2000 geographic (EPSG:4490, within ~1 m of WGS84);
* analysis: a metric CRS (EPSG:4544 by default) -- never EPSG:3857;
* display: WGS84 (EPSG:4326), used only by :mod:`jlp_geo.viz`.

GCJ-02 ("Mars coordinates", Amap/Tencent) and BD-09 (Baidu) are obfuscated
datums; they are converted with the iterative *exact* inverse of
:mod:`prcoords` (``*_bored``), accurate to well under a metre, rather than the
one-step approximation that leaves 1-2 m residuals.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import prcoords
import shapely
from pyproj import CRS

from .errors import CRSError
from .settings import get_settings

InputDatum = Literal["gcj02", "bd09"]
INPUT_DATUMS: tuple[str, ...] = ("gcj02", "bd09")


def as_crs(crs: object) -> CRS:
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError subclasses
        raise CRSError(
            f"unknown coordinate reference system {crs!r}",
            fix="give an EPSG code such as EPSG:4490 or EPSG:4544",
        ) from exc


def require_crs(gdf: gpd.GeoDataFrame, where: str) -> None:
    """Raise :class:`CRSError` if *gdf* has no CRS.

    Parameters
    ----------
    gdf
        Layer to check.
    where
        File or layer name, repeated in the message.
    """
    if gdf.crs is None:
        raise CRSError(
            "the data has no coordinate reference system (CRS)",
            where=where,
            fix="save the file with its CRS (e.g. as GeoPackage), or add a .prj to the Shapefile",
        )


def require_projected(crs: object, where: str = "analysis") -> CRS:
    """Refuse geographic or Web-Mercator CRSs for measuring; return the CRS."""
    c = as_crs(crs)
    if not c.is_projected:
        raise CRSError(
            f"{c.to_string()} is geographic (degrees): distances and areas would be wrong",
            where=where,
            fix="use a metric CRS such as EPSG:4544 (CGCS2000 / 3-degree GK CM 105E)",
        )
    if c.to_epsg() in (3857, 900913):
        raise CRSError(
            "EPSG:3857 (Web Mercator) distorts lengths by ~15% at 29.5N",
            where=where,
            fix="use EPSG:4544 or another local metric CRS",
        )
    return c


def to_storage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject *gdf* to the storage CRS (EPSG:4490 by default)."""
    require_crs(gdf, "layer")
    return gdf.to_crs(get_settings().storage_crs)


def to_analysis(gdf: gpd.GeoDataFrame, crs: object | None = None) -> gpd.GeoDataFrame:
    """Reproject *gdf* to a metric analysis CRS (the settings' default unless given)."""
    require_crs(gdf, "layer")
    target = require_projected(crs or get_settings().analysis_crs)
    return gdf.to_crs(target)


def to_display(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject *gdf* to WGS84 for Leaflet maps (only :mod:`jlp_geo.viz` calls this)."""
    require_crs(gdf, "layer")
    return gdf.to_crs(get_settings().display_crs)


def _convert_xy(x: np.ndarray, y: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    inverse = {"gcj02": prcoords.gcj_wgs_bored, "bd09": prcoords.bd_wgs_bored}[datum]
    out_x = np.empty_like(x, dtype=float)
    out_y = np.empty_like(y, dtype=float)
    for i, (lon, lat) in enumerate(zip(x, y)):
        c = inverse((float(lat), float(lon)))
        out_x[i], out_y[i] = c.lon, c.lat
    return out_x, out_y


def from_chinese_datum(gdf: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    """Convert a layer whose lon/lat are GCJ-02 or BD-09 to WGS84 (as EPSG:4326).

    Parameters
    ----------
    gdf
        Layer with geographic coordinates in the obfuscated datum.  Files from
        Amap/Baidu usually *claim* EPSG:4326 although they are not; the claim is
        ignored.
    datum
        ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    GeoDataFrame
        Same rows and attributes, geometries converted vertex by vertex with
        the exact (iterative) inverse, CRS EPSG:4326.
    """
    datum = datum.lower().replace("-", "")
    if datum not in INPUT_DATUMS:
        raise CRSError(
            f"unknown input datum {datum!r}",
            fix="use --input-crs gcj02 or --input-crs bd09 (or omit it for a file in a real CRS)",
        )
    if gdf.crs is not None and not CRS.from_user_input(gdf.crs).is_geographic:
        raise CRSError(
            f"--input-crs {datum} needs longitude/latitude coordinates, but the file is in {gdf.crs}",
            fix="omit --input-crs: a projected file is not GCJ-02/BD-09",
        )
    geoms = gdf.geometry.values
    coords = shapely.get_coordinates(geoms)
    if len(coords):
        x, y = _convert_xy(coords[:, 0], coords[:, 1], datum)
        geoms = shapely.set_coordinates(np.asarray(geoms).copy(), np.column_stack([x, y]))
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index), crs="EPSG:4326")
    return out


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Exact inverse of the GCJ-02 obfuscation for one point; returns (lon, lat)."""
    c = prcoords.gcj_wgs_bored((lat, lon))
    return c.lon, c.lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Forward GCJ-02 obfuscation for one point (used by tests); returns (lon, lat)."""
    c = prcoords.wgs_gcj((lat, lon))
    return c.lon, c.lat


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """Forward BD-09 obfuscation for one point (used by tests); returns (lon, lat)."""
    c = prcoords.wgs_bd((lat, lon))
    return c.lon, c.lat


def transform_xy(xs: np.ndarray, ys: np.ndarray, src: object, dst: object) -> tuple[np.ndarray, np.ndarray]:
    """Reproject coordinate arrays (x = lon/easting, y = lat/northing) from *src* to *dst*."""
    from pyproj import Transformer

    t = Transformer.from_crs(as_crs(src), as_crs(dst), always_xy=True)
    x2, y2 = t.transform(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    return np.asarray(x2, dtype=float), np.asarray(y2, dtype=float)


def metric_crs_for(lon: float, lat: float, preferred: object) -> tuple[str, str | None]:
    """Return *preferred* if its area of use contains (lon, lat), else the local UTM zone and a note.

    Used when a study area lies outside the profile's metric CRS (e.g. the Helsinki
    test extract against EPSG:4544): measuring there in CM-105E Gauss–Krüger would be wrong.
    """
    c = as_crs(preferred)
    aou = c.area_of_use
    if aou is None or (aou.west <= lon <= aou.east and aou.south <= lat <= aou.north):
        return c.to_string(), None
    zone = int((lon + 180) // 6) + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    return (
        f"EPSG:{epsg}",
        f"the data (around {lon:.2f}, {lat:.2f}) lies outside {c.to_string()}'s area of use; measured in UTM zone {zone} (EPSG:{epsg}) instead",
    )
