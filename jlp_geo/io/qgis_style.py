"""QGIS default styles (QML) and layer metadata (QMD) for a GeoPackage, from ``layers/styles.yml``.

Every style carries QGIS's complete label settings (QGIS's own defaults:
``obstacleType="1"`` = polygon boundaries block labels, not interiors;
``priority="5"``; ``placementFlags="10"``), one symbol kind per layer (mixed
geometries are written as one layer per geometry type, see
:func:`jlp_geo.io.gpkg.split_by_geometry`), categorised styles with Chinese legend
labels and graduated styles for analysis layers.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import pandas as pd

from ..styles import LayerStyle, style_for

__all__ = ["GEOMETRY_KINDS", "base_layer", "geometry_kind", "gpkg_timestamp", "layer_qmd", "qgis_style_qml", "write_layer_styles"]

#: Suffix of the per-geometry layers of a mixed-geometry layer → symbol kind.
GEOMETRY_KINDS: dict[str, str] = {"_points": "point", "_lines": "line", "_polygons": "polygon"}

_QGIS_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def gpkg_timestamp(when: _dt.datetime | None = None) -> str:
    """A GeoPackage timestamp (Req. 15): UTC ISO 8601 with milliseconds, e.g. ``2026-11-30T22:33:52.123Z``."""
    when = when or _dt.datetime.now(_dt.timezone.utc)
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def base_layer(layer: str) -> tuple[str, str | None]:
    """``("transport_projects", "line")`` for ``transport_projects_lines``; ``(layer, None)`` otherwise."""
    for suffix, kind in GEOMETRY_KINDS.items():
        if layer.endswith(suffix) and style_for(layer).title_en == layer:  # not a styled layer of its own
            return layer[: -len(suffix)], kind
    return layer, None


def _rgba(hex_colour: str, alpha: float = 1.0) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{int(round(alpha * 255))}"


def _option(name: str, value: str) -> str:
    return f'<Option name="{name}" type="QString" value={quoteattr(value)}/>'


def _symbol_xml(style: LayerStyle, colour: str, geom: str, name: str, fill_alpha: float | None = None) -> str:
    dash = "dash" if style.dash else "solid"
    if geom == "polygon":
        alpha = style.fill_opacity if fill_alpha is None else fill_alpha
        opts = (_option("color", _rgba(colour, alpha)) + _option("outline_color", _rgba(colour if fill_alpha is None else "#636363"))
                + _option("outline_style", dash) + _option("outline_width", f"{style.width * 0.26:.2f}")
                + _option("outline_width_unit", "MM") + _option("style", "solid" if alpha > 0 else "no"))
        cls, kind = "SimpleFill", "fill"
    elif geom == "line":
        opts = (_option("line_color", _rgba(colour)) + _option("line_style", dash)
                + _option("line_width", f"{style.width * 0.26:.2f}") + _option("line_width_unit", "MM")
                + _option("capstyle", "round") + _option("joinstyle", "round"))
        cls, kind = "SimpleLine", "line"
    else:
        opts = (_option("color", _rgba(colour, 0.9)) + _option("name", "circle") + _option("outline_color", "35,35,35,255")
                + _option("outline_style", "solid") + _option("outline_width", "0.2") + _option("outline_width_unit", "MM")
                + _option("size", "3" if style.label_field else "1.2") + _option("size_unit", "MM"))
        cls, kind = "SimpleMarker", "marker"
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="{cls}" pass="0" locked="0" enabled="1"><Option type="Map">{opts}</Option></layer></symbol>')


def geometry_kind(gdf: gpd.GeoDataFrame, style: LayerStyle) -> str:
    """``"polygon"`` / ``"line"`` / ``"point"``: the symbol kind the layer's geometries need."""
    types = set(gdf.geom_type.dropna()) if len(gdf) else set()
    if any("Polygon" in t for t in types):
        return "polygon"
    if any("LineString" in t for t in types):
        return "line"
    if any("Point" in t for t in types):
        return "point"
    return style.geometry if style.geometry in ("polygon", "line", "point") else "point"


def _value_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _renderer(style: LayerStyle, gdf: gpd.GeoDataFrame, geom: str) -> str:
    head = 'enableorderby="0" forceraster="0" symbollevels="0"'
    if style.graduated_field and style.graduated_field in gdf.columns and style.graduated:
        n = len(style.graduated)
        ranges = "".join(
            f'<range render="true" symbol="{i}" lower="{c.lower:.6f}" upper="{c.upper if i < n - 1 else max(c.upper, 1e12):.6f}" '
            f"label={quoteattr(c.label_zh)}/>"
            for i, c in enumerate(style.graduated)
        )
        syms = "".join(_symbol_xml(style, c.colour, geom, str(i), fill_alpha=style.fill_opacity) for i, c in enumerate(style.graduated))
        return (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(style.graduated_field)} graduatedMethod="GraduatedColor" {head}>'
                f'<ranges>{ranges}</ranges><symbols>{syms}</symbols><mode name="manual"/>'
                '<classificationMethod id="Manual"/><rotation/><sizescale/></renderer-v2>')
    if style.category_field and style.category_field in gdf.columns:
        values = [t for t in (_value_text(v) for v in pd.unique(gdf[style.category_field].dropna())) if t.strip()]
        names: dict[str, str] = {}
        if style.category_label_field and style.category_label_field in gdf.columns:
            pairs = gdf[[style.category_field, style.category_label_field]].dropna()
            names = {_value_text(k): str(v) for k, v in zip(pairs.iloc[:, 0], pairs.iloc[:, 1])}
        cats = "".join(
            f'<category render="true" symbol="{i}" value={quoteattr(v)} label={quoteattr(names.get(v, style.label_of(v)))}/>'
            for i, v in enumerate(values)
        )
        # a last category with an empty value takes every other value, NULL included: no feature goes undrawn
        cats += f'<category render="true" symbol="{len(values)}" value="" label="其他 other"/>'
        syms = "".join(_symbol_xml(style, style.colour_of(v), geom, str(i)) for i, v in enumerate(values))
        syms += _symbol_xml(style, style.colour, geom, str(len(values)))
        return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.category_field)} {head}>'
                f'<categories>{cats}</categories><symbols>{syms}</symbols></renderer-v2>')
    return f'<renderer-v2 type="singleSymbol" {head}><symbols>{_symbol_xml(style, style.colour, geom, "0")}</symbols></renderer-v2>'


def _labeling(style: LayerStyle, gdf: gpd.GeoDataFrame, geom: str) -> str:
    field = style.label_field if style.label_field in gdf.columns else ("name_zh" if style.label_field and "name_zh" in gdf.columns else None)
    if not field:
        return ""
    placement, flags = {"polygon": ("1", "10"), "line": ("2", "10"), "point": ("6", "10")}[geom]
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(field)} isExpression="0" fontFamily="Noto Sans CJK SC" fontSize="9" '
        'fontSizeUnit="Point" textColor="35,35,35,255" textOpacity="1" fontWeight="50" fontItalic="0" namedStyle="Regular" '
        'multilineHeight="1" allowHtml="0" capitalization="0" blendMode="0" previewBkgrdColor="255,255,255,255" '
        'fontLetterSpacing="0" fontWordSpacing="0" fontKerning="1" textOrientation="horizontal" useSubstitutions="0">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
        'bufferNoFill="1" bufferJoinStyle="128" bufferOpacity="1" bufferBlendMode="0"/></text-style>'
        '<text-format wrapChar="" autoWrapLength="12" useMaxLineLengthForAutoWrap="1" multilineAlign="3" '
        'leftDirectionSymbol="&lt;" rightDirectionSymbol="&gt;" reverseDirectionSymbol="0" placeDirectionSymbol="0" '
        'addDirectionSymbol="0" formatNumbers="0" decimals="3" plussign="0"/>'
        f'<placement placement="{placement}" placementFlags="{flags}" priority="5" dist="1" distUnits="MM" '
        'offsetType="0" quadOffset="4" xOffset="0" yOffset="0" offsetUnits="MM" rotationAngle="0" centroidWhole="0" '
        'centroidInside="1" fitInPolygonOnly="0" polygonPlacementFlags="2" repeatDistance="0" repeatDistanceUnits="MM" '
        'maxCurvedCharAngleIn="25" maxCurvedCharAngleOut="-25" overrunDistance="0" overrunDistanceUnit="MM" '
        'lineAnchorPercent="0.5" lineAnchorType="0" lineAnchorClipping="0" preserveRotation="1" '
        'geometryGeneratorEnabled="0" geometryGenerator="" geometryGeneratorType="PointGeometry"/>'
        '<rendering obstacle="1" obstacleType="1" obstacleFactor="1" scaleVisibility="0" scaleMin="0" scaleMax="0" '
        'fontLimitPixelSize="0" fontMinPixelSize="3" fontMaxPixelSize="10000" displayAll="0" upsidedownLabels="0" '
        'labelPerPart="0" mergeLines="0" minFeatureSize="0" limitNumLabels="0" maxNumLabels="2000" drawLabels="1" '
        'zIndex="0" unplacedVisibility="0"/>'
        "</settings></labeling>"
    )


def qgis_style_qml(layer: str, gdf: gpd.GeoDataFrame) -> str:
    """Return a QGIS QML document: single, categorised or graduated symbol + Chinese labels.

    Parameters
    ----------
    layer
        Layer name (key of ``layers/styles.yml``, or ``<key>_points`` / ``_lines`` /
        ``_polygons`` for one geometry type of a mixed layer).
    gdf
        The layer, used to find its geometry kind and category values.
    """
    base, kind = base_layer(layer)
    style = style_for(base)
    geom = kind or geometry_kind(gdf, style)
    labeling = _labeling(style, gdf, geom)
    return (
        _QGIS_DOCTYPE
        + f'<qgis version="3.22.0" styleCategories="Symbology|Labeling" labelsEnabled="{1 if labeling else 0}">'
        + _renderer(style, gdf, geom) + labeling + "</qgis>"
    )


def layer_qmd(layer: str, metadata: Mapping[str, str], licences: list[str]) -> str:
    """QGIS layer metadata (QMD) shown in QGIS's layer properties: title, abstract, sources, licences.

    Parameters
    ----------
    layer
        Layer name.
    metadata
        Key/value pairs of the layer (description, sources, precision, …): the abstract.
    licences
        Licence lines of the data behind the layer.
    """
    base, _ = base_layer(layer)
    style = style_for(base)
    abstract = "\n".join(f"{k}: {v}" for k, v in metadata.items())
    lic = "".join(f"<license>{escape(x)}</license>" for x in licences)
    return (
        _QGIS_DOCTYPE + '<qgis version="3.22.0">'
        f"<identifier>{escape(layer)}</identifier><parentidentifier></parentidentifier><language>zho</language>"
        f"<type>dataset</type><title>{escape(f'{style.title_zh} / {style.title_en}')}</title>"
        f"<abstract>{escape(abstract)}</abstract>"
        f'<keywords vocabulary="gmd:topicCategory"><keyword>planningCadastre</keyword></keywords>'
        "<contact><name></name><organization></organization><position></position><voice></voice><fax></fax>"
        "<email></email><role></role></contact><links/><fees></fees>"
        f"<rights>{escape('; '.join(licences))}</rights>{lic}<encoding></encoding>"
        "<crs><spatialrefsys><wkt></wkt><proj4></proj4><srsid>0</srsid><srid>0</srid><authid></authid>"
        "<description></description><projectionacronym></projectionacronym><ellipsoidacronym></ellipsoidacronym>"
        "<geographicflag>false</geographicflag></spatialrefsys></crs><extent/></qgis>"
    )


def write_layer_styles(path: Path, layers: Mapping[str, gpd.GeoDataFrame | str]) -> None:
    """Add one default QGIS style per layer to the GeoPackage at *path* (table ``layer_styles``).

    A value may be the layer's QML already made (:func:`qgis_style_qml`), so that a writer need not
    keep every layer in memory until the end.
    """
    now = gpkg_timestamp()
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
            style = style_for(base_layer(name)[0])
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                "VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'jlp_geo', NULL, ?)",
                (name, f"{style.title_zh} 默认样式", gdf if isinstance(gdf, str) else qgis_style_qml(name, gdf),
                 f"{style.title_zh} / {style.title_en}", now),
            )
        con.commit()
    finally:
        con.close()
