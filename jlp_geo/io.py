"""Writing outputs: GeoPackage (QGIS styles, metadata, atomic) and tables (CSV/Excel).

Everything is written to a temporary file beside the target and moved into
place with :func:`os.replace` only once complete, so a failed run never leaves a
half-written GeoPackage, table or map.

GeoPackages are written as GPKG 1.2 (QGIS >= 3.22 and ArcGIS Pro >= 3.1 read it),
with a QGIS ``layer_styles`` table holding one default style per layer (Chinese
labels) and dataset/layer metadata (sources, licences, precision notes) in the
standard ``gpkg_metadata`` tables written by GDAL.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

import geopandas as gpd
import pandas as pd
import pyogrio

from .errors import OutputError
from .styles import LayerStyle, style_for

GPKG_VERSION = "1.2"

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


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside *target*; move it onto *target* only on success.

    Parameters
    ----------
    target
        Final file path.
    suffix
        Suffix of the temporary file (defaults to *target*'s, so drivers that
        look at extensions still work).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {target.parent}", where=str(target), fix="choose a writable --out folder") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # drivers want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def staged_outputs(out_dir: str | Path) -> Iterator[tuple[Path, list[Path]]]:
    """Write several outputs into a staging folder, then move them into *out_dir* together.

    Yields ``(staging, files)``: write each output under *staging* (same relative
    layout as wanted under *out_dir*) and append its path to *files*.  On success
    the files are moved into place and *files* then holds their final paths; on
    any error nothing reaches *out_dir* and the staging folder is removed.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out_dir}", where=str(out_dir), fix="choose a writable --out folder") from exc
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    files: list[Path] = []
    try:
        yield staging, files
        final = []
        for f in files:
            target = out_dir / f.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
            final.append(target)
        files[:] = final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- QGIS styles


def _rgba(hex_colour: str, alpha: float = 1.0) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{int(round(alpha * 255))}"


def _symbol_xml(style: LayerStyle, colour: str, geom: str, name: str) -> str:
    dash = "dash" if style.dash else "solid"
    if geom == "polygon":
        layer = (
            '<layer class="SimpleFill" pass="0" locked="0" enabled="1">'
            f'<Option type="Map"><Option name="color" type="QString" value="{_rgba(colour, style.fill_opacity)}"/>'
            f'<Option name="outline_color" type="QString" value="{_rgba(colour)}"/>'
            f'<Option name="outline_style" type="QString" value="{dash}"/>'
            f'<Option name="outline_width" type="QString" value="{style.width * 0.26:.2f}"/>'
            '<Option name="outline_width_unit" type="QString" value="MM"/>'
            f'<Option name="style" type="QString" value="{"solid" if style.fill_opacity > 0 else "no"}"/></Option></layer>'
        )
        kind = "fill"
    elif geom == "line":
        layer = (
            '<layer class="SimpleLine" pass="0" locked="0" enabled="1">'
            f'<Option type="Map"><Option name="line_color" type="QString" value="{_rgba(colour)}"/>'
            f'<Option name="line_style" type="QString" value="{dash}"/>'
            f'<Option name="line_width" type="QString" value="{style.width * 0.26:.2f}"/>'
            '<Option name="line_width_unit" type="QString" value="MM"/></Option></layer>'
        )
        kind = "line"
    else:
        layer = (
            '<layer class="SimpleMarker" pass="0" locked="0" enabled="1">'
            f'<Option type="Map"><Option name="color" type="QString" value="{_rgba(colour, 0.9)}"/>'
            '<Option name="name" type="QString" value="circle"/>'
            '<Option name="outline_color" type="QString" value="35,35,35,255"/>'
            '<Option name="size" type="QString" value="3"/>'
            '<Option name="size_unit" type="QString" value="MM"/></Option></layer>'
        )
        kind = "marker"
    return f'<symbol type="{kind}" name="{_xml_escape(name)}" alpha="1" clip_to_extent="1" force_rhr="0">{layer}</symbol>'


def _geometry_kind(gdf: gpd.GeoDataFrame, style: LayerStyle) -> str:
    types = set(gdf.geom_type.dropna()) if len(gdf) else set()
    if any("Polygon" in t for t in types):
        return "polygon"
    if any("LineString" in t for t in types):
        return "line"
    if any("Point" in t for t in types):
        return "point"
    return style.geometry if style.geometry in ("polygon", "line", "point") else "point"


def qgis_style_qml(layer: str, gdf: gpd.GeoDataFrame) -> str:
    """Return a QGIS QML document: categorised (or single) symbol + Chinese labels.

    Parameters
    ----------
    layer
        Layer name (key of ``layers/styles.yml``).
    gdf
        The layer, used to find its geometry kind and category values.
    """
    style = style_for(layer)
    geom = _geometry_kind(gdf, style)
    if style.category_field and style.category_field in gdf.columns:
        values = [str(v) for v in pd.unique(gdf[style.category_field].dropna())]
        cats = "".join(
            f'<category render="true" symbol="{i}" value="{_xml_escape(v, {chr(34): "&quot;"})}" label="{_xml_escape(v, {chr(34): "&quot;"})}"/>'
            for i, v in enumerate(values)
        )
        syms = "".join(_symbol_xml(style, style.colour_of(v), geom, str(i)) for i, v in enumerate(values))
        syms += _symbol_xml(style, style.colour, geom, str(len(values)))
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr="{_xml_escape(style.category_field)}" enableorderby="0" forceraster="0" symbollevels="0">'
            f"<categories>{cats}</categories><symbols>{syms}</symbols></renderer-v2>"
        )
    else:
        renderer = (
            '<renderer-v2 type="singleSymbol" enableorderby="0" forceraster="0" symbollevels="0">'
            f"<symbols>{_symbol_xml(style, style.colour, geom, '0')}</symbols></renderer-v2>"
        )
    placement = {"polygon": "1", "line": "2", "point": "6"}[geom]
    labeling = (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{_xml_escape(style.label_field)}" isExpression="0" fontFamily="Noto Sans CJK SC" '
        'fontSize="9" textColor="35,35,35,255" fontWeight="50" namedStyle="Regular">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/></text-style>'
        f'<placement placement="{placement}" dist="1"/><rendering obstacle="1" scaleVisibility="0"/>'
        "</settings></labeling>"
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Labeling" labelsEnabled="1">'
        f"{renderer}{labeling}</qgis>"
    )


def _write_layer_styles(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    con = sqlite3.connect(path)
    try:
        con.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
                f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
                styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
        )
        con.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS default styles', ?)",
            (now,),
        )
        for name, gdf in layers.items():
            style = style_for(name)
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                "VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'jlp_geo', NULL, ?)",
                (name, f"{style.title_zh} 默认样式", qgis_style_qml(name, gdf), f"{style.title_zh} / {style.title_en}", now),
            )
        con.commit()
    finally:
        con.close()


# --------------------------------------------------------------------------- GeoPackage


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
        _write_layer_styles(tmp, layers)
        if dataset_metadata:
            _write_dataset_metadata(tmp, dataset_metadata)
    return path


# --------------------------------------------------------------------------- tables


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
