"""The page around every jlp_geo map: stylesheet, basemaps, standard tools, notes and writing.

All three maps (:mod:`~jlp_geo.viz.atlas`, :mod:`~jlp_geo.viz.coverage_map`,
:mod:`~jlp_geo.viz.waste_map`) open and close the same way:

* :func:`new_map` -- an empty :class:`folium.Map` with the escaped title and
  :data:`PAGE_CSS` (plus the map's own CSS);
* :func:`add_basemaps` -- 无底图 (shown at start, so the page works offline),
  OpenStreetMap and, with a token, 天地图;
* :func:`add_map_tools` -- fullscreen, measure tool, metric scale bar and title;
* :func:`basemap_note` / :data:`COORDINATES_NOTE` -- the standard notes;
* :func:`fit_map` -- zoom to the data;
* :func:`write_page` -- one self-contained ``<html lang="zh-CN">`` page
  (:func:`jlp_geo.viz.render_offline`), written atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import folium
import folium.plugins
from branca.element import Element

from .controls import MeasureControl, MetricScale, TitleBox
from .escape import escape_text
from .offline import render_offline, save_map
from .stable_ids import stable_element_ids

__all__ = [
    "BASEMAP_NONE",
    "BASEMAP_OSM",
    "BASEMAP_TIANDITU",
    "COORDINATES_NOTE",
    "PAGE_CSS",
    "add_basemaps",
    "add_map_tools",
    "add_page_style",
    "basemap_note",
    "fit_map",
    "has_tianditu",
    "new_map",
    "write_page",
]

BASEMAP_NONE = "无底图 None"
BASEMAP_OSM = "OpenStreetMap"
BASEMAP_TIANDITU = "天地图 Tianditu"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
TIANDITU_ATTRIBUTION = "&copy; 天地图 Tianditu (国家地理信息公共服务平台)"
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={token}"
)

#: The stylesheet of every jlp_geo map page (trusted constant CSS): title, boxes, legends, popups.
PAGE_CSS = """
.leaflet-container{background:#f4f3ef;font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif}
.jlp-title{position:absolute;top:10px;left:58px;max-width:calc(100% - 460px);z-index:680;background:rgba(255,255,255,.92);padding:4px 14px;border-radius:4px;box-shadow:0 1px 5px rgba(0,0,0,.35);font-size:16px;font-weight:bold;text-align:left}
.jlp-box{background:rgba(255,255,255,.95);padding:6px 9px;border-radius:4px;box-shadow:0 1px 5px rgba(0,0,0,.4);font-size:12px;line-height:1.45;max-width:330px;max-height:calc(44vh - 40px);overflow:auto}
.jlp-box summary{cursor:pointer;font-weight:bold;font-size:13px}
.jlp-box ol,.jlp-box ul{margin:4px 0;padding-left:18px}
.jlp-legend-layer{margin:5px 0 3px}
.jlp-legend-name{font-weight:bold}
.jlp-legend-row{margin-left:4px}
.jlp-legend-note{margin-left:4px;color:#8a3b12;font-size:11px}
.jlp-swatch{display:inline-block;width:18px;height:11px;margin-right:5px;vertical-align:middle;box-sizing:border-box}
.jlp-popup table{border-collapse:collapse;font-size:12px;margin-top:3px}
.jlp-popup th{text-align:left;padding:1px 8px 1px 0;white-space:nowrap;vertical-align:top;color:#555;font-weight:normal}
.jlp-popup td{padding:1px 0;max-width:270px;overflow-wrap:anywhere}
.leaflet-control-layers-base::before{content:"底图 Basemap";display:block;font-weight:bold;margin-bottom:2px}
.leaflet-control-layers-overlays::before{content:"图层 Layers";display:block;font-weight:bold;margin:2px 0}
.leaflet-control-layers-group-name{color:#333}
.leaflet-control-layers-expanded{max-width:360px;max-height:calc(52vh - 20px);overflow-y:auto}
.jlp-en{color:#666;font-size:11px}
.jlp-measure a.jlp-measure-btn{display:flex;align-items:center;justify-content:center}
.jlp-measure-panel{background:#fff;padding:4px 6px;font-size:12px;min-width:150px;border-top:1px solid #ccc}
.jlp-measure-panel button{font-size:11px;margin:3px 4px 0 0}
.leaflet-interactive:focus{outline:none}
.leaflet-container.jlp-measuring{cursor:crosshair}
.jlp-measuring .leaflet-pane .leaflet-interactive{pointer-events:none!important}
"""


def add_page_style(m: folium.Map, css: str = PAGE_CSS) -> None:
    """Add jlp_geo's stylesheet (trusted, constant CSS) to the page header once.

    Parameters
    ----------
    m
        The map.
    css
        The stylesheet (never built from data).
    """
    m.get_root().header.add_child(Element(f"<style>{css}</style>"), name="jlp_geo_css")


def add_basemaps(m: folium.Map, tianditu_token: str | None = None) -> list[tuple[str, folium.map.Layer]]:
    """Add the basemap choices to *m* and return ``[(label, layer), ...]`` for a layer control.

    * ``无底图 None`` (shown at start): an empty layer, so the map opens cleanly
      with no network -- no failed tile requests, no grey broken tiles;
    * ``OpenStreetMap``: standard OSM tiles (WGS84 / Web Mercator, no offset);
    * ``天地图 Tianditu``: vector map + Chinese annotation (``vec_w`` + ``cva_w``),
      only when *tianditu_token* is given.  Tianditu is CGCS2000, within a metre
      of WGS84, so layers need no GCJ-02 offset on it.

    The online basemaps are created hidden; their tiles are fetched only if the
    user selects them while online.

    Parameters
    ----------
    m
        The map.
    tianditu_token
        A Tianditu browser key (``tk``); it is URL-encoded into the tile URL.

    Returns
    -------
    list of (str, folium.map.Layer)
        The basemap choices, 无底图 first.
    """
    none = folium.FeatureGroup(name=BASEMAP_NONE, overlay=False, control=False, show=True).add_to(m)
    osm = folium.TileLayer(
        tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attr=OSM_ATTRIBUTION,
        name=BASEMAP_OSM,
        overlay=False,
        control=False,
        show=False,
        max_zoom=19,
    ).add_to(m)
    out: list[tuple[str, folium.map.Layer]] = [(BASEMAP_NONE, none), (BASEMAP_OSM, osm)]
    token = (tianditu_token or "").strip()
    if token:
        tk = quote(token, safe="")
        tdt = folium.FeatureGroup(name=BASEMAP_TIANDITU, overlay=False, control=False, show=False).add_to(m)
        for layer, attr in (("vec", TIANDITU_ATTRIBUTION), ("cva", " ")):
            folium.TileLayer(
                tiles=_TIANDITU_URL.format(layer=layer, token=tk),
                attr=attr,
                name=f"tianditu_{layer}",
                subdomains="01234567",
                max_zoom=18,
                overlay=False,
                control=False,
                show=True,
            ).add_to(tdt)
        out.append((BASEMAP_TIANDITU, tdt))
    return out


#: Last note of the atlas and the coverage map: the display datum.
COORDINATES_NOTE = "坐标 WGS84（与 CGCS2000 相差约 1 米内）Coordinates WGS84 (within ~1 m of CGCS2000)."


def new_map(title: str, css: str | None = None, css_name: str | None = None) -> folium.Map:
    """An empty map page: no tiles, the escaped *title*, :data:`PAGE_CSS` and the map's own CSS.

    Parameters
    ----------
    title
        Page title (escaped here).
    css
        Extra trusted stylesheet of this map, added after :data:`PAGE_CSS`.
    css_name
        Name of the extra ``<style>`` element in the page header.

    Returns
    -------
    folium.Map
        The map, without basemaps (see :func:`add_basemaps`).
    """
    m = folium.Map(tiles=None, location=None, zoom_control=True, maxZoom=19, minZoom=3)
    m.get_root().title = escape_text(title)
    add_page_style(m)
    if css is not None:
        m.get_root().header.add_child(Element(f"<style>{css}</style>"), name=css_name)
    return m


def add_map_tools(m: folium.Map, title: str) -> None:
    """Add fullscreen (top left), the measure tool, the metric scale bar and the title box.

    Parameters
    ----------
    m
        The map.
    title
        Title shown on the map (escaped by :class:`TitleBox`).
    """
    folium.plugins.Fullscreen(position="topleft", title="全屏 Fullscreen", title_cancel="退出全屏 Exit fullscreen").add_to(m)
    MeasureControl(position="topleft").add_to(m)
    MetricScale(position="bottomleft").add_to(m)
    TitleBox(title).add_to(m)


def has_tianditu(base_layers: Sequence[tuple[str, folium.map.Layer]]) -> bool:
    """Whether :func:`add_basemaps` offered the 天地图 basemap."""
    return any(label == BASEMAP_TIANDITU for label, _ in base_layers)


def basemap_note(tianditu: bool) -> str:
    """The note saying the page opens without a basemap and which basemaps need internet."""
    if tianditu:
        return (
            "默认无底图，离线可用；OpenStreetMap、天地图底图需联网 "
            "No basemap by default (works offline); OpenStreetMap / Tianditu basemaps need internet."
        )
    return (
        "默认无底图，离线可用；OpenStreetMap 底图需联网 "
        "No basemap by default (works offline); the OpenStreetMap basemap needs internet."
    )


def fit_map(m: folium.Map, bounds: Sequence[float] | None, max_zoom: int) -> None:
    """Zoom *m* to ``(west, south, east, north)`` degrees, if given and finite.

    Parameters
    ----------
    m
        The map.
    bounds
        ``(west, south, east, north)`` in the display CRS, or None.
    max_zoom
        Closest zoom for small data.
    """
    if bounds is None or not all(math.isfinite(v) for v in bounds):
        return
    west, south, east, north = (float(v) for v in bounds)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=max_zoom)


def write_page(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Render *m* offline as a Chinese-language page and write it atomically.

    Parameters
    ----------
    m
        The finished map.
    path
        Output ``.html`` file.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputError
        If the page cannot be written.
    """
    html = stable_element_ids(render_offline(m)).replace("<html>", '<html lang="zh-CN">', 1)
    return save_map(html, path)
