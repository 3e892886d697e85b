"""Tables for Excel on Chinese Windows: CSV (UTF-8 with BOM) and .xlsx with Chinese headers, atomic."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .staging import atomic_path

__all__ = ["BASE_HEADERS_ZH", "headers_zh", "table_from_layer", "write_csv", "write_excel"]

#: Chinese headers of the columns shared by all layers; modules add their own.
BASE_HEADERS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称 name_en",
    "source": "来源 source",
    "precision": "精度 precision",
    "uncertainty_m": "位置不确定性(米) uncertainty_m",
    "kind": "类别 kind",
    "status": "状态 status",
    "area_km2": "面积(平方千米) area_km2",
    "notes": "备注 notes",
    "lon": "经度 lon (CGCS2000)",
    "lat": "纬度 lat (CGCS2000)",
    "has_geometry": "已定位 located",
}


def headers_zh(columns: list[str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map column names to Chinese headers (base + *extra*), leaving unknown ones as they are."""
    mapping = {**BASE_HEADERS_ZH, **(extra or {})}
    return {c: mapping.get(c, c) for c in columns}


def table_from_layer(gdf: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """A plain table of a layer: attributes plus lon/lat of point features (or centroid), no geometry."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        return pd.DataFrame(gdf)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    geom = gdf.geometry
    located = geom.notna() & ~geom.is_empty
    df["has_geometry"] = located.values
    if located.any() and all(t == "Point" for t in geom[located].geom_type):
        df["lon"] = geom.x.round(6).where(located)
        df["lat"] = geom.y.round(6).where(located)
    return df


def write_csv(df: pd.DataFrame, path: str | Path, extra_headers: Mapping[str, str] | None = None) -> Path:
    """Write *df* as CSV for Excel on Chinese Windows: UTF-8 with BOM, Chinese headers, atomic."""
    path = Path(path)
    out = df.rename(columns=headers_zh(list(df.columns), extra_headers))
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def write_excel(sheets: Mapping[str, pd.DataFrame], path: str | Path, extra_headers: Mapping[str, str] | None = None) -> Path:
    """Write several tables to one .xlsx (sheet names ≤ 31 chars), Chinese headers, atomic."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, df in sheets.items():
                df.rename(columns=headers_zh(list(df.columns), extra_headers)).to_excel(xl, sheet_name=name[:31], index=False)
    return path
