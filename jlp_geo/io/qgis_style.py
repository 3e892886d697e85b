"""QGIS default styles (QML) for the GeoPackage's ``layer_styles`` table, from ``layers/styles.yml``."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

import geopandas as gpd
import pandas as pd

from ..styles import LayerStyle, style_for

__all__ = ["qgis_style_qml", "write_layer_styles"]


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


def write_layer_styles(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Add one default QGIS style per layer to the GeoPackage at *path* (table ``layer_styles``)."""
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
