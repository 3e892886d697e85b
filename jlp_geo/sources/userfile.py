"""Read a planner's own layer file (GeoPackage, GeoJSON, Shapefile) safely.

Checks, in order, each with an error that says what, where and what to do:
file exists and is a supported format; one layer (or ``file.gpkg:layer``);
required columns present; a CRS (or ``--input-crs gcj02|bd09`` for Chinese
web-map coordinates); coordinates near the study area; geometries valid —
invalid ones are repaired with :func:`shapely.make_valid` and the repair is
recorded in ``gdf.attrs['repair_notes']`` (never silently).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from ..crs import from_chinese_datum, require_crs, to_storage
from ..errors import CRSError, InputDataError, MissingInputError
from ..notices import warn

SUPPORTED = {".gpkg": "GeoPackage", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "Shapefile"}
#: generous lon/lat box around Chongqing; data outside is almost surely in the wrong CRS
PLAUSIBLE_BOUNDS = (105.0, 28.0, 108.5, 31.5)


def _split_layer(spec: str | Path) -> tuple[Path, str | None]:
    text = str(spec)
    if ":" in Path(text).name:
        file_part, layer = text.rsplit(":", 1)
        return Path(file_part), layer or None
    return Path(text), None


def _looks_like_gbk(gdf: gpd.GeoDataFrame) -> bool:
    """Text that GDAL decoded as Latin-1 (no .cpg) but that is GBK-encoded Chinese (e.g. ``Ñî¼ÒÆº`` for 杨家坪)."""
    for col in gdf.columns:
        if col == gdf.geometry.name or not (gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col])):
            continue
        for value in gdf[col].dropna().astype(str).head(50):
            if any("\u0080" <= ch <= "\u00ff" for ch in value):
                try:
                    decoded = value.encode("latin-1").decode("gbk")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    continue
                if any("\u4e00" <= ch <= "\u9fff" for ch in decoded):
                    return True
    return False


def read_user_layer(
    spec: str | Path,
    *,
    what: str,
    required: Sequence[str] = ("name_zh",),
    input_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and check a user layer; return it in the storage CRS.

    Parameters
    ----------
    spec
        ``path`` or ``path.gpkg:layer``.
    what
        What the file is for (e.g. ``"--townships"``), repeated in messages.
    required
        Columns that must exist.
    input_crs
        ``"gcj02"`` or ``"bd09"`` when the coordinates come from Amap/Tencent or
        Baidu; they are converted with the exact inverse.

    Returns
    -------
    GeoDataFrame
        In EPSG:4490, with ``attrs['source_file']`` and ``attrs['repair_notes']``.
    """
    path, layer = _split_layer(spec)
    where = f"{what} {path}"
    if not path.exists():
        raise MissingInputError("file not found", where=where, fix="check the path (relative paths are from the current folder)")
    if path.suffix.lower() not in SUPPORTED:
        raise InputDataError(
            f"unsupported file type '{path.suffix}'",
            where=where,
            fix="give a GeoPackage (.gpkg), GeoJSON (.geojson) or Shapefile (.shp)",
        )
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError etc.
        raise InputDataError(f"cannot open the file: {exc}", where=where, fix="check that it is a valid, complete file") from exc
    layers = [name for name in layers if name != "layer_styles"]
    if layer is None:
        if len(layers) > 1:
            raise InputDataError(
                f"the file has several layers: {', '.join(layers)}",
                where=where,
                fix=f"name one as {path}:LAYER",
            )
        layer = layers[0] if layers else None
    elif layer not in layers:
        raise InputDataError(f"no layer '{layer}' in the file (it has: {', '.join(layers)})", where=where)
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputDataError(f"cannot read the layer: {exc}", where=where, fix="re-export the file from QGIS") from exc
    if len(gdf) == 0:
        raise InputDataError("the layer has no features", where=where,
                             fix="export the layer again with its features (QGIS: Export > Save Features As)")
    if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists() and _looks_like_gbk(gdf):
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio", encoding="gbk")
        warn(f"{where}: 没有 .cpg 文件，属性按 GBK 编码读取 — the Shapefile has no .cpg and its text is not UTF-8/Latin-1: "
             "read as GBK (Chinese Windows); add a .cpg file containing GBK to make this explicit")
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise InputDataError(
            f"missing required column(s) {', '.join(missing)}; the file has: {', '.join(map(str, gdf.columns[:-1]))}",
            where=where,
            fix=f"add or rename the column(s) to {', '.join(missing)}",
        )
    if input_crs:
        gdf = from_chinese_datum(gdf, input_crs)
    elif path.suffix.lower() == ".shp" and not path.with_suffix(".prj").exists():
        raise CRSError(
            "the Shapefile has no .prj, so its coordinate reference system is unknown",
            where=where,
            fix="add the .prj (export again from QGIS), or pass --input-crs gcj02|bd09 for Amap/Baidu coordinates",
        )
    require_crs(gdf, where)
    notes: list[str] = []
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.all():
        raise InputDataError("no feature has a geometry", where=where)
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        rows = [int(i) + 1 for i in invalid.nonzero()[0]]
        reasons = {str(shapely.is_valid_reason(g)).split("[")[0] for g in geoms[invalid]}
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(geoms[invalid])
        notes.append(
            f"{what}: repaired {len(rows)} invalid geometr{'y' if len(rows) == 1 else 'ies'} "
            f"(feature {', '.join(map(str, rows[:10]))}{'…' if len(rows) > 10 else ''}: {'; '.join(sorted(reasons))}) with shapely.make_valid"
        )
    gdf = to_storage(gdf)
    minx, miny, maxx, maxy = gdf.total_bounds
    bx0, by0, bx1, by1 = PLAUSIBLE_BOUNDS
    if not (bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1):
        raise CRSError(
            f"coordinates ({minx:.4f}, {miny:.4f}) – ({maxx:.4f}, {maxy:.4f}) are not near Jiulongpo "
            "after reprojection: the declared CRS is probably wrong",
            where=where,
            fix="check the file's CRS in QGIS (Layer Properties > Source) and save it again with the right one",
        )
    gdf.attrs["source_file"] = path.name
    gdf.attrs["repair_notes"] = notes
    return gdf
