"""GeoPackage writing (GPKG 1.2, QGIS styles, dataset metadata, atomic) and reading its facts back."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from ..errors import OutputError
from ..styles import style_for
from .qgis_style import write_layer_styles
from .staging import atomic_path

__all__ = ["GPKG_VERSION", "read_gpkg_info", "write_geopackage"]

GPKG_VERSION = "1.2"


def _write_dataset_metadata(path: Path, metadata: Mapping[str, str]) -> None:
    """Store dataset metadata as a plain-text record (scope 'dataset') in ``gpkg_metadata``.

    GDAL's own dataset-metadata domain would make readers create ``.aux.xml``
    side files, so the record is written as readable ``key: value`` text instead.
    """
    text = "\n".join(f"{k}: {v}" for k, v in metadata.items())
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
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
        cur = con.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) VALUES ('dataset', ?, 'text/plain', ?)",
            ("https://github.com/jlp-geo/jlp_geo#provenance", text),
        )
        con.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, row_id_value, timestamp, md_file_id) "
            "VALUES ('geopackage', NULL, NULL, NULL, ?, ?)",
            (now, cur.lastrowid),
        )
        con.commit()
    finally:
        con.close()


def write_geopackage(
    path: str | Path,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    dataset_metadata: Mapping[str, str] | None = None,
    layer_metadata: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write *layers* to one GeoPackage atomically, with QGIS default styles and metadata.

    Parameters
    ----------
    path
        Target ``.gpkg``; replaced only when the whole file is complete.
    layers
        ``{layer name: GeoDataFrame}``; each must have a CRS.  Rows with no
        geometry are kept (as NULL geometry) so unplaced plan items stay listed.
    dataset_metadata
        Key/value pairs stored as dataset metadata (sources, licences, notes).
    layer_metadata
        Per-layer key/value metadata.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        first = True
        for name, gdf in layers.items():
            if gdf.crs is None:
                raise OutputError(f"layer {name!r} has no CRS; refusing to write it", where=str(path))
            style = style_for(name)
            out = gdf.copy()
            for col in out.columns:
                if col != out.geometry.name and out[col].dtype == object:
                    out[col] = out[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
            md = dict((layer_metadata or {}).get(name, {}))
            pyogrio.write_dataframe(
                out,
                tmp,
                layer=name,
                driver="GPKG",
                append=not first,
                promote_to_multi=False,
                layer_metadata=md or None,
                dataset_options={"VERSION": GPKG_VERSION} if first else None,
                layer_options={
                    "IDENTIFIER": f"{style.title_zh} {style.title_en}",
                    "DESCRIPTION": md.get("description", f"{style.title_zh} / {style.title_en}"),
                    "GEOMETRY_NAME": "geom",
                    "SPATIAL_INDEX": "YES",
                },
            )
            first = False
        write_layer_styles(tmp, layers)
        if dataset_metadata:
            _write_dataset_metadata(tmp, dataset_metadata)
    return path


def read_gpkg_info(path: str | Path) -> dict[str, Any]:
    """Facts about a GeoPackage (for tests and the build summary): version, layers, styles."""
    con = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        user_version = con.execute("PRAGMA user_version").fetchone()[0]
        styles = con.execute("SELECT f_table_name, useAsDefault FROM layer_styles").fetchall()
        contents = con.execute("SELECT table_name, data_type, srs_id FROM gpkg_contents").fetchall()
        metadata = [m for (m,) in con.execute("SELECT metadata FROM gpkg_metadata WHERE md_scope = 'dataset'")]
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
