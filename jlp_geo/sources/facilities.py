"""Read the planners' own facility lists: official inventories of schools, clinics, elderly care …

``--facilities FILE[:category]``: a CSV / XLSX table with longitude and latitude
columns (WGS84, or GCJ-02 / BD-09 with ``--input-crs``), or a GeoPackage /
GeoJSON / Shapefile.  Each row is one facility, keeping its name, file and row,
and where given its capacity (seats / beds / m²), status (existing / planned /
under construction) and year.  The service category comes from ``:category``
after the file name, or from a category column (checked against the category
table by :func:`jlp_geo.layers.external.services_from_facilities`).

Recognised columns (case-insensitive; the first that exists wins)
------------------------------------------------------------------
=========== ==========================================================================
name        ``name``, ``name_zh``, ``名称``, ``设施名称``, ``机构名称``, ``学校名称``, ``单位名称``
lon / lat   ``lon``/``lng``/``longitude``/``x``/``经度`` and ``lat``/``latitude``/``y``/``纬度``,
            or one ``location``/``坐标`` column ``"lon,lat"``
category    ``category``, ``类别``, ``设施类别``, ``分类``
capacity    ``capacity``, ``规模``, ``学位``/``学位数`` (seats), ``床位``/``床位数`` (beds),
            ``建筑面积`` (m²); ``capacity_unit`` when given
status      ``status``, ``状态``, ``建设状态``: 现状/已建/existing, 在建/under_construction,
            规划/拟建/planned
year        ``year``, ``年份``, ``建成年份``, ``计划年份``
address     ``address``, ``地址``
=========== ==========================================================================
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..crs import from_chinese_datum, require_crs, to_storage
from ..errors import CRSError, InputDataError, MissingInputError
from .tabular import PLAUSIBLE_BOUNDS, TABLE_SUFFIXES, find_column, points_from_lonlat, read_table, row_numbers

__all__ = ["FACILITY_COLUMNS", "STATUSES", "read_facilities", "split_facility_spec"]

NAME_COLUMNS = ("name", "name_zh", "名称", "设施名称", "机构名称", "学校名称", "单位名称", "医院名称")
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
LOCATION_COLUMNS = ("location", "坐标", "经纬度")
CATEGORY_COLUMNS = ("category", "类别", "设施类别", "分类")
STATUS_COLUMNS = ("status", "状态", "建设状态")
YEAR_COLUMNS = ("year", "年份", "建成年份", "计划年份")
ADDRESS_COLUMNS = ("address", "地址")
#: capacity column name -> unit
CAPACITY_COLUMNS = {
    "capacity": "",
    "规模": "",
    "学位": "seats",
    "学位数": "seats",
    "床位": "beds",
    "床位数": "beds",
    "建筑面积": "m2",
}
#: status words -> status
STATUSES = {
    "existing": "existing",
    "现状": "existing",
    "已建": "existing",
    "现有": "existing",
    "建成": "existing",
    "under_construction": "under_construction",
    "under construction": "under_construction",
    "在建": "under_construction",
    "planned": "planned",
    "规划": "planned",
    "拟建": "planned",
    "新建": "planned",
}
FACILITY_COLUMNS = (
    "name",
    "category",
    "capacity",
    "capacity_unit",
    "status",
    "year",
    "address",
    "source_file",
    "source_row",
)
GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")


def split_facility_spec(spec: str | Path) -> tuple[Path, str | None]:
    """``"list.xlsx:kindergarten"`` -> ``(Path("list.xlsx"), "kindergarten")``; no suffix -> category None.

    The part after the last ``:`` is a category only when the part before it is an
    existing file (so ``C:\\data\\list.csv`` stays a path).
    """
    text = str(spec)
    if ":" in text:
        left, right = text.rsplit(":", 1)
        if right and Path(left).is_file() and "/" not in right and "\\" not in right:
            return Path(left), right.strip()
    return Path(text), None


def _read_geo(path: Path, where: str, input_crs: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, ValueError, OSError) as exc:
        raise InputDataError(f"cannot read the file: {exc}", where=where, fix="check that it is a complete GeoPackage/GeoJSON/Shapefile") from exc
    if len(gdf) == 0:
        raise InputDataError("the layer has no features", where=where)
    empty = (shapely.is_missing(gdf.geometry.values) | shapely.is_empty(gdf.geometry.values))
    if empty.all():
        raise InputDataError("no feature has a geometry", where=where)
    if input_crs in ("gcj02", "bd09"):
        gdf = from_chinese_datum(gdf, input_crs)
    elif path.suffix.lower() == ".shp" and not path.with_suffix(".prj").exists():
        raise CRSError("the Shapefile has no .prj", where=where, fix="add the .prj, or pass --input-crs wgs84|gcj02|bd09")
    require_crs(gdf, where)
    gdf = to_storage(gdf.assign(source_row=np.arange(len(gdf)) + 1))[~empty].reset_index(drop=True)
    gdf = gdf.set_geometry(gdf.geometry.representative_point())
    return gdf


def _text(df: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    col = find_column(df, names)
    if col is None:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    return df[col].fillna("").astype(str).str.strip()


def read_facilities(
    spec: str | Path,
    *,
    input_crs: str | None = None,
    category: str | None = None,
    bounds: tuple[float, float, float, float] | None = PLAUSIBLE_BOUNDS,
) -> gpd.GeoDataFrame:
    """Read one facility list.

    Parameters
    ----------
    spec
        ``FILE`` or ``FILE:category`` (see :func:`split_facility_spec`).
    input_crs
        ``"wgs84"`` (default), ``"gcj02"`` or ``"bd09"`` for the lon/lat of a table
        (and for a geo file whose coordinates are Amap/Baidu ones).
    category
        Category for every row (overrides ``:category`` and a category column).
    bounds
        Box the facilities must lie in (default: around Chongqing; the coverage
        job passes the extent of its OSM data).

    Returns
    -------
    GeoDataFrame
        Points in EPSG:4490 with :data:`FACILITY_COLUMNS`; ``capacity`` float (NaN where
        not given), ``status`` one of existing / planned / under_construction / ``""``;
        ``attrs['notes']`` holds ``警告`` lines (rows left out).

    Raises
    ------
    MissingInputError, InputDataError, CRSError
        Naming the file, row and column, with what to do.
    """
    path, spec_category = split_facility_spec(spec)
    where = f"--facilities {path}"
    if not path.exists():
        raise MissingInputError("file not found", where=where, fix="check the path (relative paths are from the current folder)")
    suffix = path.suffix.lower()
    datum = (input_crs or "wgs84").lower().replace("-", "")
    notes: list[str] = []
    if suffix in TABLE_SUFFIXES:
        df = read_table(path, where)
        lon_c, lat_c = find_column(df, LON_COLUMNS), find_column(df, LAT_COLUMNS)
        if lon_c is None or lat_c is None:
            loc = find_column(df, LOCATION_COLUMNS)
            if loc is None:
                raise InputDataError(
                    f"no longitude/latitude columns; the table has: {', '.join(df.columns)}",
                    where=where,
                    fix="name them lon and lat (or 经度 and 纬度), or give one location column as 'lon,lat'",
                )
            parts = df[loc].astype(str).str.replace("，", ",").str.split(",", n=1, expand=True).reindex(columns=[0, 1]).fillna("")
            lon_s, lat_s = parts[0], parts[1]
        else:
            lon_s, lat_s = df[lon_c], df[lat_c]
        gdf, notes = points_from_lonlat(df, lon_s, lat_s, datum=datum, where=where, bounds=bounds)
    elif suffix in GEO_SUFFIXES:
        gdf = _read_geo(path, where, datum)
        if bounds is not None:
            x0, y0, x1, y1 = gdf.total_bounds
            if not (bounds[0] <= x0 and x1 <= bounds[2] and bounds[1] <= y0 and y1 <= bounds[3]):
                raise CRSError(
                    f"facilities ({x0:.4f}, {y0:.4f}) – ({x1:.4f}, {y1:.4f}) lie outside the study area",
                    where=where,
                    fix="check the file's CRS in QGIS, or --input-crs for Amap/Baidu coordinates",
                )
    else:
        raise InputDataError(
            f"unsupported file type '{path.suffix}'",
            where=where,
            fix="give a CSV or Excel table with lon/lat columns, or a GeoPackage / GeoJSON / Shapefile",
        )
    name = _text(gdf, NAME_COLUMNS)
    if (name == "").all():
        raise InputDataError(
            f"no name column (looked for {', '.join(NAME_COLUMNS)})",
            where=where,
            fix="add a column 'name' (or 名称) with each facility's name",
        )
    cat = pd.Series([category or spec_category or ""] * len(gdf), index=gdf.index, dtype=object)
    if not (category or spec_category):
        col = find_column(gdf, CATEGORY_COLUMNS)
        if col is None:
            raise InputDataError(
                "no category: neither FILE:category nor a category column",
                where=where,
                fix="write --facilities FILE:kindergarten (an id of layers/service_categories.csv), or add a 'category' column",
            )
        cat = gdf[col].fillna("").astype(str).str.strip()
    capacity = pd.Series(np.nan, index=gdf.index)
    unit = pd.Series([""] * len(gdf), index=gdf.index, dtype=object)
    for cname, cunit in CAPACITY_COLUMNS.items():
        col = find_column(gdf, (cname,))
        if col is None:
            continue
        raw = gdf[col].astype(str).str.strip()
        num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        wrong = (raw != "") & num.isna()
        if wrong.any():
            raise InputDataError(
                f"capacity is not a number in row(s) {row_numbers(wrong.to_numpy())}",
                where=f"{where}, column '{col}'",
                fix="write a plain number (seats, beds or m²) or leave the cell empty",
            )
        capacity, unit = num, pd.Series([cunit] * len(gdf), index=gdf.index, dtype=object)
        break
    unit_col = find_column(gdf, ("capacity_unit", "单位"))
    if unit_col is not None:
        unit = gdf[unit_col].fillna("").astype(str).str.strip()
    status_raw = _text(gdf, STATUS_COLUMNS)
    status = status_raw.str.lower().map(lambda s: STATUSES.get(s, None if s else ""))
    if status.isna().any():
        bad = sorted(set(status_raw[status.isna()]))
        raise InputDataError(
            f"unknown status value(s) {bad}",
            where=f"{where}, column '{find_column(gdf, STATUS_COLUMNS)}'",
            fix="use existing / under_construction / planned (or 现状 / 在建 / 规划)",
        )
    out = gpd.GeoDataFrame(
        {
            "name": name.to_numpy(),
            "category": cat.to_numpy(),
            "capacity": capacity.to_numpy(float),
            "capacity_unit": unit.to_numpy(),
            "status": status.to_numpy(),
            "year": _text(gdf, YEAR_COLUMNS).to_numpy(),
            "address": _text(gdf, ADDRESS_COLUMNS).to_numpy(),
            "source_file": path.name,
            "source_row": gdf["source_row"].to_numpy(int),
        },
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    out.attrs["notes"] = notes
    out.attrs["source_file"] = path.name
    out.attrs["datum"] = datum
    return out
