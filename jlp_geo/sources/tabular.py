"""Shared reading of planners' point tables (CSV / XLSX / JSON records) with lon/lat columns.

Used by :mod:`jlp_geo.sources.facilities` (official facility lists) and
:mod:`jlp_geo.sources.pois` (Amap / Baidu POI exports): open the file, find a
column by one of its usual names (English or Chinese), turn lon/lat into points
in the storage CRS -- through :func:`jlp_geo.crs.from_chinese_datum` when the
coordinates are GCJ-02 or BD-09 -- and check that they lie where the study is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import from_chinese_datum, to_storage
from ..errors import CRSError, InputDataError, MissingInputError

__all__ = [
    "DATUMS",
    "PLAUSIBLE_BOUNDS",
    "find_column",
    "points_from_lonlat",
    "read_table",
    "row_numbers",
]

#: coordinate systems a table may be in: WGS84 (≈CGCS2000), GCJ-02 (Amap/Tencent), BD-09 (Baidu)
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")
#: generous lon/lat box around Chongqing (as :mod:`jlp_geo.sources.userfile`)
PLAUSIBLE_BOUNDS: tuple[float, float, float, float] = (105.0, 28.0, 108.5, 31.5)
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")


def read_table(path: Path, where: str, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8 with/without BOM, or GB18030) or Excel sheet as strings.

    Raises
    ------
    MissingInputError
        If the file does not exist.
    InputDataError
        If it cannot be parsed or has no rows.
    """
    if not path.is_file():
        raise MissingInputError("file not found", where=where, fix="check the path (relative paths are from the current folder)")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            df = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
        else:
            try:
                df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            except UnicodeDecodeError:  # Excel on Chinese Windows saves CSV as GBK
                df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise InputDataError(f"cannot read the table: {exc}", where=where, fix="save it as CSV (UTF-8) or .xlsx") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputDataError("the table has no rows", where=where)
    return df


def find_column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first column of *df* whose name equals one of *names* (case-insensitive), else None."""
    lower = {str(c).strip().lower(): c for c in df.columns}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def row_numbers(mask: np.ndarray, limit: int = 10) -> str:
    """Spreadsheet-style row numbers (header = row 1) of the True entries, shortened."""
    rows = [int(i) + 2 for i in np.flatnonzero(mask)]
    return ", ".join(map(str, rows[:limit])) + ("…" if len(rows) > limit else "")


def points_from_lonlat(
    df: pd.DataFrame,
    lon: pd.Series,
    lat: pd.Series,
    *,
    datum: str,
    where: str,
    bounds: tuple[float, float, float, float] | None = PLAUSIBLE_BOUNDS,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Points in the storage CRS (EPSG:4490) from lon/lat text columns.

    Parameters
    ----------
    df
        Attribute rows (kept, with ``source_row`` = the spreadsheet row number).
    lon, lat
        Coordinate text per row (decimal degrees).
    datum
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``; the latter two are converted with the
        exact inverse in :mod:`jlp_geo.crs`.
    where
        File, repeated in messages.
    bounds
        ``(west, south, east, north)`` the points must lie in after conversion (None: no check).

    Returns
    -------
    points : GeoDataFrame
        Rows with coordinates only, EPSG:4490.
    notes : list of str
        ``警告`` lines for rows left out (no coordinates).

    Raises
    ------
    InputDataError
        If a coordinate is not a number or out of range, or no row has coordinates.
    CRSError
        If *datum* is unknown or the points lie outside *bounds* (wrong columns or datum).
    """
    datum = (datum or "wgs84").lower().replace("-", "")
    if datum not in DATUMS:
        raise CRSError(f"unknown input coordinate system {datum!r}", where=where, fix="use --input-crs wgs84, gcj02 or bd09")
    lon_t = lon.astype(str).str.strip()
    lat_t = lat.astype(str).str.strip()
    empty = ((lon_t == "") | (lat_t == "")).to_numpy()
    x = pd.to_numeric(lon_t.where(~empty), errors="coerce").to_numpy(float)
    y = pd.to_numeric(lat_t.where(~empty), errors="coerce").to_numpy(float)
    bad = ~empty & (~np.isfinite(x) | ~np.isfinite(y) | (np.abs(x) > 180) | (np.abs(y) > 90))
    if bad.any():
        raise InputDataError(
            f"longitude/latitude is not a number in degrees in row(s) {row_numbers(bad)}",
            where=where,
            fix="write decimal degrees such as 106.5123 and 29.5012 (not degrees-minutes, not projected metres; "
            "check that longitude and latitude are not swapped)",
        )
    notes = []
    if empty.all():
        raise InputDataError("no row has coordinates", where=where, fix="fill in the longitude and latitude columns")
    if empty.any():
        notes.append(f"警告 {where}: {int(empty.sum())} row(s) without coordinates left out (rows {row_numbers(empty)})")
    kept = df.assign(source_row=np.arange(len(df)) + 2)[~empty].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(x[~empty], y[~empty]), crs="EPSG:4326")
    if datum != "wgs84":
        gdf = from_chinese_datum(gdf, datum)
    gdf = to_storage(gdf)
    if bounds is not None:
        gx, gy = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        outside = ~((gx >= bounds[0]) & (gx <= bounds[2]) & (gy >= bounds[1]) & (gy <= bounds[3]))
        if outside.any():
            raise CRSError(
                f"{int(outside.sum())} point(s) lie outside the study area's box "
                f"({bounds[0]:.3f}, {bounds[1]:.3f}) – ({bounds[2]:.3f}, {bounds[3]:.3f}) "
                f"(data rows {', '.join(str(int(r)) for r in gdf.loc[outside, 'source_row'][:10])})",
                where=where,
                fix="check that the longitude and latitude columns are not swapped and that --input-crs is right",
            )
    return gdf, notes
