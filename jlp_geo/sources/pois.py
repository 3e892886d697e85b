"""Read Amap (高德) and Baidu (百度) POI exports: CSV, XLSX or the services' JSON.

Amap Web-service POI search (``/v3/place/text``, ``/v3/place/around``) returns
``pois`` with ``id``, ``name``, ``type`` (``"科教文化服务;学校;幼儿园"``, several
joined by ``|``), ``typecode`` (``"141204"``), ``location`` (``"lon,lat"``,
**GCJ-02**), ``address``, ``adname``; empty fields come as ``[]``.  Baidu place
search (``/place/v2/search``) returns ``results`` with ``uid``, ``name``,
``location`` ``{"lat", "lng"}`` (**BD-09**), ``address``, ``area`` and, with
``scope=2``, ``detail_info.tag`` (``"教育培训;幼儿园"``).  Crawled exports use
Chinese columns: 名称, 类型 (or 大类/中类/小类), 类型代码, 经度, 纬度, 地址, 区域.

This module only reads and converts coordinates (exactly, in :mod:`jlp_geo.crs`);
mapping types to service categories is :mod:`jlp_geo.layers.external` with the
table ``layers/poi_categories.csv``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import InputDataError, MissingInputError
from .tabular import PLAUSIBLE_BOUNDS, TABLE_SUFFIXES, find_column, points_from_lonlat, read_table

__all__ = ["POI_COLUMNS", "POI_SOURCES", "read_pois"]

#: POI provider -> datum of its coordinates
POI_SOURCES: dict[str, str] = {"amap": "gcj02", "baidu": "bd09"}
POI_COLUMNS = ("poi_id", "name", "type", "typecode", "address", "adname", "poi_source", "source_file", "source_row")

_COLUMNS = {
    "poi_id": ("id", "uid", "poi_id", "poiid", "编号"),
    "name": ("name", "名称", "poi名称"),
    "type": ("type", "类型", "tag", "分类"),
    "typecode": ("typecode", "类型代码", "类型编码", "type_code"),
    "address": ("address", "地址"),
    "adname": ("adname", "区域", "行政区", "区县", "area"),
    "lon": ("lon", "lng", "longitude", "经度", "x", "wgs84_lon", "gcj02_lon", "bd09_lon"),
    "lat": ("lat", "latitude", "纬度", "y", "wgs84_lat", "gcj02_lat", "bd09_lat"),
    "location": ("location", "坐标", "经纬度"),
}
_LEVELS = ("大类", "中类", "小类")


def _scalar(value: Any) -> str:
    """Amap writes empty fields as ``[]``; everything else to stripped text."""
    if value is None or (isinstance(value, list) and not value):
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value).strip()


def _records_from_json(path: Path, where: str) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError(f"not valid JSON: {exc}", where=where, fix="save the service's response as UTF-8 JSON") from exc
    pages = data if isinstance(data, list) and data and isinstance(data[0], dict) and ("pois" in data[0] or "results" in data[0]) else [data]
    rows: list[dict[str, str]] = []
    for page in pages:
        if isinstance(page, dict):
            if str(page.get("status", "1")) not in ("1", "0", "OK") and "pois" not in page and "results" not in page:
                raise InputDataError(f"the response is an error: {page.get('info') or page.get('message')}", where=where)
            items = page.get("pois", page.get("results", []))
        else:
            items = page
        if not isinstance(items, list):
            raise InputDataError("no 'pois' (Amap) or 'results' (Baidu) list in the JSON", where=where)
        for item in items:
            if not isinstance(item, dict):
                continue
            loc = item.get("location")
            row = {k: _scalar(v) for k, v in item.items() if not isinstance(v, dict)}
            if isinstance(loc, dict):  # Baidu {"lat": .., "lng": ..}
                row["lon"], row["lat"] = _scalar(loc.get("lng")), _scalar(loc.get("lat"))
                row.pop("location", None)
            detail = item.get("detail_info")
            if isinstance(detail, dict) and detail.get("tag") and not row.get("type"):
                row["type"] = _scalar(detail.get("tag"))
            rows.append(row)
    if not rows:
        raise InputDataError("the JSON holds no POIs", where=where)
    return pd.DataFrame(rows).fillna("")


def read_pois(
    path: str | Path,
    *,
    source: str = "amap",
    input_crs: str | None = None,
    bounds: tuple[float, float, float, float] | None = PLAUSIBLE_BOUNDS,
) -> gpd.GeoDataFrame:
    """Read a POI export as points in EPSG:4490.

    Parameters
    ----------
    path
        CSV / XLSX (Amap field names or the Chinese crawler columns) or the JSON of
        an Amap / Baidu place search (one response, or a list of pages).
    source
        ``"amap"`` (coordinates GCJ-02) or ``"baidu"`` (BD-09).
    input_crs
        Override the provider's datum (``"wgs84"`` for an export a crawler
        already converted).
    bounds
        Box the POIs must lie in after conversion (None: no check).

    Returns
    -------
    GeoDataFrame
        :data:`POI_COLUMNS` + geometry; ``type`` joins 大类/中类/小类 with ``;`` when the
        file has them; ``attrs['notes']`` holds ``警告`` lines.

    Raises
    ------
    MissingInputError, InputDataError, CRSError
        Naming the file, row and column, with what to do.
    """
    path = Path(path)
    source = (source or "amap").lower()
    where = f"--pois {path}"
    if source not in POI_SOURCES:
        raise InputDataError(f"unknown POI source {source!r}", where="--poi-source", fix="use amap or baidu")
    if not path.is_file():
        raise MissingInputError("file not found", where=where, fix="check the path (relative paths are from the current folder)")
    suffix = path.suffix.lower()
    if suffix == ".json":
        df = _records_from_json(path, where)
    elif suffix in TABLE_SUFFIXES:
        df = read_table(path, where)
    else:
        raise InputDataError(f"unsupported file type '{path.suffix}'", where=where, fix="give a CSV, XLSX or JSON export")
    cols = {key: find_column(df, names) for key, names in _COLUMNS.items()}
    if cols["lon"] is not None and cols["lat"] is not None:
        lon, lat = df[cols["lon"]], df[cols["lat"]]
    elif cols["location"] is not None:
        first = df[cols["location"]].astype(str).str.split("|").str[0].str.replace("，", ",")
        parts = first.str.split(",", n=1, expand=True).reindex(columns=[0, 1]).fillna("")
        lon, lat = parts[0], parts[1]
    else:
        raise InputDataError(
            f"no coordinates: expected 'location' (\"lon,lat\") or lon/lat (经度/纬度) columns; the file has {', '.join(map(str, df.columns))}",
            where=where,
            fix="export the POIs with their location",
        )
    if cols["name"] is None:
        raise InputDataError("no 'name' (名称) column", where=where, fix="export the POI names")
    text = {k: (df[c].fillna("").astype(str).str.strip() if c is not None else pd.Series([""] * len(df), index=df.index)) for k, c in cols.items()}
    if cols["type"] is None:
        levels = [find_column(df, (lv,)) for lv in _LEVELS]
        if any(levels):
            parts = [df[c].fillna("").astype(str).str.strip() for c in levels if c is not None]
            text["type"] = pd.Series([";".join(p for p in row if p) for row in zip(*parts)], index=df.index)
    if cols["type"] is None and cols["typecode"] is None and (text["type"] == "").all():
        raise InputDataError(
            "no type information: expected 'typecode' (类型代码), 'type' (类型) or 大类/中类/小类",
            where=where,
            fix="export the POIs with their type or typecode, so they can be assigned to service categories",
        )
    attrs = pd.DataFrame(
        {
            "poi_id": text["poi_id"],
            "name": text["name"],
            "type": text["type"],
            "typecode": text["typecode"].str.replace(r"\.0$", "", regex=True),
            "address": text["address"],
            "adname": text["adname"],
            "poi_source": source,
            "source_file": path.name,
        }
    )
    datum = input_crs or POI_SOURCES[source]
    gdf, notes = points_from_lonlat(attrs, lon, lat, datum=datum, where=where, bounds=bounds)
    gdf = gdf[[*POI_COLUMNS, "geometry"]]
    gdf.attrs["notes"] = notes
    gdf.attrs["datum"] = datum
    gdf.attrs["source_file"] = path.name
    return gdf
