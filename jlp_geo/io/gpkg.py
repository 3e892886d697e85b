"""GeoPackage writing (GPKG 1.2, QGIS styles, dataset metadata, atomic) and reading its facts back."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ..errors import OutputError
from ..notices import warn
from ..styles import style_for
from .qgis_style import GEOMETRY_KINDS, gpkg_timestamp, layer_qmd, qgis_style_qml, write_layer_styles
from .staging import atomic_path

__all__ = ["GPKG_VERSION", "read_gpkg_info", "split_by_geometry", "valid_geometries", "write_geopackage"]

GPKG_VERSION = "1.2"
ARROW_MIN_ROWS = 50_000
"""Layers of at least this many rows go to GDAL as Arrow batches (pyarrow): 2.5x faster on 500k network
nodes (4.9 s -> 2.0 s, same bytes); smaller layers keep the row-by-row path."""
QMD_URI = "http://mrcc.com/qgis.dtd"
_FAMILY = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
           "LinearRing": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}
# by shapely type id + 1: missing, Point, LineString, LinearRing, Polygon, Multi*, GeometryCollection ("" = none)
_FAMILY_OF_TYPE_ID = np.array(["", "point", "line", "line", "polygon", "point", "line", "polygon", ""])
_SUFFIX = {kind: suffix for suffix, kind in GEOMETRY_KINDS.items()}
_IDENT_SUFFIX = {"_points": "（点 points）", "_lines": "（线 lines）", "_polygons": "（面 polygons）"}


def split_by_geometry(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """One layer per geometry type: a mixed layer ``x`` becomes ``x_points`` / ``x_lines`` / ``x_polygons``.

    QGIS splits a mixed-geometry table into sublayers and draws each with the
    layer's one symbol, so points of a line layer would not be drawn. Rows with no
    geometry (unplaced plan items) go with the layer's main geometry type (the
    style's, else the most common), so they stay listed. Single-type layers keep
    their name.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, gdf in layers.items():
        # shapely type ids -> family (vectorised; a 500k-point layer costs no per-row Python)
        family = _FAMILY_OF_TYPE_ID[shapely.get_type_id(np.asarray(gdf.geometry.values, dtype=object)) + 1]
        kinds = [k for k in ("polygon", "line", "point") if (family == k).any()]
        if len(kinds) <= 1:
            out[name] = gdf
            continue
        declared = style_for(name).geometry
        main = declared if declared in kinds else max(kinds, key=lambda k: int((family == k).sum()))
        for kind in kinds:
            rows = (family == kind) | ((family == "") & (kind == main))
            out[f"{name}{_SUFFIX[kind]}"] = gdf[rows]
    return out


def valid_geometries(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Repair invalid geometries (``shapely.make_valid``, keeping the geometry type) and say how many.

    Returns *gdf* itself when every geometry is valid, else a repaired copy.
    """
    geom = gdf.geometry
    bad = geom.notna().values & ~_is_valid(np.asarray(geom.values, dtype=object))
    if not bad.any():
        return gdf
    fixed = shapely.make_valid(geom.values[bad], method="structure", keep_collapsed=False)
    wanted = [_FAMILY.get(t) for t in geom[bad].geom_type]
    parts = []
    for g, kind in zip(fixed, wanted):
        if g is not None and g.geom_type == "GeometryCollection":
            keep = [p for p in g.geoms if _FAMILY.get(p.geom_type) == kind]
            g = shapely.union_all(keep) if keep else None
        parts.append(g)
    out = gdf.copy()
    col = out.geometry.name
    values = out[col].values.copy()
    values[bad] = parts
    out[col] = gpd.GeoSeries(values, index=out.index, crs=gdf.crs)
    warn(f"{layer}：{int(bad.sum())} 个无效几何已修复（shapely.make_valid）— {int(bad.sum())} invalid geometries repaired before writing")
    return out


def _points_only(gdf: gpd.GeoDataFrame) -> bool:
    """True when every geometry is a point or empty/None (always valid: no check needed)."""
    kinds = shapely.get_type_id(np.asarray(gdf.geometry.values, dtype=object))
    return bool(np.isin(kinds, (-1, 0, 4)).all())  # missing, Point, MultiPoint


def _is_valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.is_valid`` spread over threads (GEOS releases the GIL; same answer per geometry).

    Checking large service areas (polygons with tens of thousands of holes) dominates
    writing a coverage GeoPackage; largest geometries first, in up to 64 chunks.
    """
    workers = min(len(geoms), os.cpu_count() or 1, 4)
    if workers <= 1:
        return shapely.is_valid(geoms)
    order = np.argsort(-shapely.get_num_coordinates(geoms), kind="stable")
    chunks = np.array_split(order, min(len(order), 64))
    out = np.empty(len(geoms), dtype=bool)
    with ThreadPoolExecutor(workers) as pool:
        for idx, valid in zip(chunks, pool.map(lambda i: shapely.is_valid(geoms[i]), chunks)):
            out[idx] = valid
    return out


def _write_metadata(path: Path, metadata: Mapping[str, str] | None, qmd: Mapping[str, str]) -> None:
    """Store dataset metadata as a plain-text record (scope 'dataset') and each layer's QMD in ``gpkg_metadata``.

    GDAL's own dataset-metadata domain would make readers create ``.aux.xml``
    side files, so the dataset record is written as readable ``key: value`` text.
    The QMD records (``md_standard_uri`` = QGIS's DTD, referenced by table) are
    what QGIS shows in a layer's metadata properties.
    """
    now = gpkg_timestamp()
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, "
            "md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL, "
            "mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')"
        )
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL, table_name TEXT, "
            "column_name TEXT, row_id_value INTEGER, timestamp DATETIME NOT NULL DEFAULT "
            "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), md_file_id INTEGER NOT NULL, md_parent_id INTEGER, "
            "CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id), "
            "CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))"
        )
        for table in ("gpkg_metadata", "gpkg_metadata_reference"):
            con.execute(
                "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
                "SELECT ?, NULL, 'gpkg_metadata', 'http://www.geopackage.org/spec120/#extension_metadata', 'read-write' "
                "WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_metadata')",
                (table, table),
            )
        con.execute("UPDATE gpkg_metadata_reference SET timestamp = ? WHERE timestamp NOT LIKE '%.___Z'", (now,))
        if metadata:
            text = "\n".join(f"{k}: {v}" for k, v in metadata.items())
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) VALUES ('dataset', ?, 'text/plain', ?)",
                ("https://github.com/jlp-geo/jlp_geo#provenance", text),
            )
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, row_id_value, timestamp, md_file_id) "
                "VALUES ('geopackage', NULL, NULL, NULL, ?, ?)",
                (now, cur.lastrowid),
            )
        for table, xml in qmd.items():
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) VALUES ('dataset', ?, 'text/xml', ?)",
                (QMD_URI, xml),
            )
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, row_id_value, timestamp, md_file_id) "
                "VALUES ('table', ?, NULL, NULL, ?, ?)",
                (table, now, cur.lastrowid),
            )
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE last_change NOT LIKE '%.___Z'", (now,))
        con.commit()
    finally:
        con.close()


def write_geopackage(
    path: str | Path,
    layers: Mapping[str, gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame]],
    *,
    dataset_metadata: Mapping[str, str] | None = None,
    layer_metadata: Mapping[str, Mapping[str, str]] | None = None,
    trusted_valid: Collection[str] = (),
    no_spatial_index: Collection[str] = (),
) -> Path:
    """Write *layers* to one GeoPackage atomically, with QGIS default styles and metadata.

    A layer holding several geometry types is written as one layer per type
    (:func:`split_by_geometry`); invalid line and polygon geometries are repaired and reported
    (:func:`valid_geometries`; points need no check). All timestamps carry milliseconds (GPKG Req. 15).

    Parameters
    ----------
    path
        Target ``.gpkg``; replaced only when the whole file is complete.
    layers
        ``{layer name: GeoDataFrame}``; each must have a CRS.  Rows with no
        geometry are kept (as NULL geometry) so unplaced plan items stay listed.  A value
        may also be a function returning the layer -- called when that layer's turn comes (a layer
        still being computed elsewhere is written last without holding up the others) -- or
        returning an iterable of GeoDataFrames with the same columns: the layer's chunks, appended
        one after the other so that a large layer is never held whole.
    dataset_metadata
        Key/value pairs stored as dataset metadata (sources, licences, notes).
    layer_metadata
        Per-layer key/value metadata.
    trusted_valid
        Names of layers whose geometries the caller builds valid (network lines, H3 cells):
        not checked (the check costs seconds on a large network).
    no_spatial_index
        Names of layers written without an R-tree (about 70 bytes per feature; QGIS can add
        one later: Layer Properties > Source > Create Spatial Index).

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    for name, gdf in layers.items():
        if not callable(gdf) and gdf.crs is None:
            raise OutputError(f"layer {name!r} has no CRS; refusing to write it", where=str(path))
    licences = [str(v) for k, v in (dataset_metadata or {}).items() if "licen" in f"{k} {v}".lower()]

    def prepared():
        """(name, origin, layer ready to write, continues the previous) in order; a deferred layer is computed
        when its turn comes, a layer given as chunks is appended chunk by chunk (never held whole)."""
        for name, value in layers.items():
            value = value() if callable(value) else value
            chunks = [value] if isinstance(value, gpd.GeoDataFrame) else value
            for i, gdf in enumerate(chunks):
                if gdf.crs is None:
                    raise OutputError(f"layer {name!r} has no CRS; refusing to write it", where=str(path))
                parts = split_by_geometry({name: gdf})
                if i and len(parts) > 1:
                    raise OutputError(f"layer {name!r} given in chunks holds several geometry types", where=str(path))
                for part, g in parts.items():
                    yield part, name, g if name in trusted_valid or _points_only(g) else valid_geometries(g, part), i > 0

    # the file is a temporary one published only when complete (atomic_path), so SQLite need not sync every
    # layer to disk: about 4x faster writes (18 layers: 4.4 s -> 1.1 s)
    sync = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        _write_layers(path, prepared(), layer_metadata, dataset_metadata, licences, no_spatial_index)
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": sync})
    return path


def _write_layers(path: Path, parts: Iterator[tuple[str, str, gpd.GeoDataFrame, bool]],
                  layer_metadata: Mapping[str, Mapping[str, str]] | None, dataset_metadata: Mapping[str, str] | None,
                  licences: list[str], no_spatial_index: Collection[str] = ()) -> None:
    written: dict[str, str] = {}  # layer -> its QGIS style
    qmd: dict[str, str] = {}
    features: dict[str, int] = {}
    with atomic_path(path) as tmp:
        first = True
        for name, origin, gdf, more in parts:
            style = style_for(origin)
            out = gdf
            for col in gdf.columns:
                if col != gdf.geometry.name and gdf[col].dtype == object and \
                        pd.api.types.infer_dtype(gdf[col], skipna=True) not in ("string", "empty"):
                    if out is gdf:
                        out = gdf.copy()
                    out[col] = out[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
            md = dict((layer_metadata or {}).get(origin, {}))
            features[name] = features.get(name, 0) * more + len(gdf)
            qmd[name] = layer_qmd(name, {**md, "features": str(features[name])}, licences)
            if name != origin:
                md["features"] = str(len(gdf))
            if more:  # the next chunk of the layer just written
                pyogrio.write_dataframe(out, tmp, layer=name, driver="GPKG", use_arrow=len(out) >= ARROW_MIN_ROWS,
                                        append=True, promote_to_multi=False)
                del out, gdf
                continue
            pyogrio.write_dataframe(
                out,
                tmp,
                layer=name,
                driver="GPKG",
                use_arrow=len(out) >= ARROW_MIN_ROWS,
                append=not first,
                promote_to_multi=False,
                layer_metadata=md or None,
                dataset_options={"VERSION": GPKG_VERSION} if first else None,
                layer_options={
                    "IDENTIFIER": f"{style.title_zh} {style.title_en}{_IDENT_SUFFIX.get(name[len(origin):], '')}",
                    "DESCRIPTION": md.get("description", f"{style.title_zh} / {style.title_en}"),
                    "GEOMETRY_NAME": "geom",
                    "SPATIAL_INDEX": "NO" if origin in no_spatial_index else "YES",
                },
            )
            written[name] = qgis_style_qml(name, gdf)  # the style now: the layer itself need not be kept
            del out, gdf
            first = False
        write_layer_styles(tmp, written)
        _write_metadata(tmp, dataset_metadata, qmd)


def read_gpkg_info(path: str | Path) -> dict[str, Any]:
    """Facts about a GeoPackage (for tests and the build summary): version, layers, styles."""
    con = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        user_version = con.execute("PRAGMA user_version").fetchone()[0]
        styles = con.execute("SELECT f_table_name, useAsDefault FROM layer_styles").fetchall()
        contents = con.execute("SELECT table_name, data_type, srs_id FROM gpkg_contents").fetchall()
        metadata = [m for (m,) in con.execute(
            "SELECT metadata FROM gpkg_metadata WHERE md_scope = 'dataset' AND md_standard_uri != ?", (QMD_URI,))]
    finally:
        con.close()
    return {
        "application_id": app_id,
        "user_version": user_version,
        "layers": [t for t, kind, _ in contents if kind == "features"],
        "srs": {t: srs for t, kind, srs in contents if kind == "features"},
        "styles": dict(styles),
        "metadata": metadata,
    }
