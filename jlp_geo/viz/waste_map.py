"""The construction-waste map (建筑垃圾运距与服务范围): catchments, flows, facilities and 邻避 screens.

One self-contained page (every script inline, :func:`jlp_geo.viz.render_offline`), built from a
:class:`jlp_geo.waste.WasteResult`:

* 镇街 with their (estimated) generation, dashed when the boundaries are schematic;
* catchments (nearest located facility by haul distance) per waste stream, coloured by facility;
* flows of the optimal allocation as lines whose width grows with the quantity (√ scale), dashed when
  the distance is straight line × detour factor (no road network) -- the legend and the title say so;
* facilities: located ones with their position-uncertainty circle; unplaced ones listed in the legend;
* screening buffers (邻避, 第四条（五）) and, with OSM data, the sensitive receptors near the facilities.

Every text from data is escaped (:mod:`jlp_geo.viz.escape`); geometry reaches EPSG:4326 only through
:func:`jlp_geo.crs.to_display`, simplified in metres first.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from ..crs import to_analysis, to_display
from ..styles import style_for
from .controls import (
    BASEMAP_TIANDITU,
    GroupedLayers,
    HtmlBox,
    MeasureControl,
    MetricScale,
    TitleBox,
    add_basemaps,
    add_page_style,
    notes_html,
    safe_colour,
)
from .escape import escape_text, popup_html, script_json
from .offline import render_offline, save_map

if TYPE_CHECKING:
    from ..analysis.waste import WasteResult

__all__ = ["FACILITY_COLOURS", "STREAM_COLOURS", "write_waste_map", "waste_map"]

DEFAULT_TITLE = "建筑垃圾运距与服务范围 Construction-waste haul and catchments"
COORD_DECIMALS = 5
#: Flow colour per waste stream.
STREAM_COLOURS: dict[str, str] = {"spoil_slurry": "#8c510a", "decoration": "#c51b7d", "construction_demolition": "#35978f"}
#: Catchment colour per facility.
FACILITY_COLOURS: dict[str, str] = {
    "landfill_luogudong": "#d8b365",
    "landfill_yandongwan": "#a6611a",
    "sorting_huayan": "#e9a3c9",
    "recycling_plant": "#5ab4ac",
    "xinqi_base": "#01665e",
}
RECEPTOR_COLOURS: dict[str, str] = {"school": "#2166ac", "hospital": "#b2182b", "elderly": "#762a83", "residential": "#f4a582"}
MAX_FLOW_WIDTH = 14.0
MIN_FLOW_WIDTH = 1.5
WASTE_CSS = """
.jlp-method{margin:4px 0;padding:3px 6px;border-left:4px solid #b35806;background:#fff7ec;font-size:12px}
.jlp-method.jlp-network{border-left-color:#1b7837;background:#f0f7ee}
"""


def _round(geom: shapely.Geometry) -> dict:
    return shapely.geometry.mapping(shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS)))


def _display(gdf: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoDataFrame:
    """Simplify lines/polygons in metres (analysis CRS), then WGS84 for display."""
    if gdf is None or len(gdf) == 0:
        return gdf
    keep = np.asarray(~(gdf.geometry.isna() | gdf.geometry.is_empty), dtype=bool)
    metric = to_analysis(gdf[keep])
    if simplify_m > 0:
        is_point = np.asarray(metric.geom_type.str.contains("Point"), dtype=bool)
        geoms = metric.geometry.copy()
        geoms[~is_point] = metric.geometry[~is_point].simplify(simplify_m, preserve_topology=True)
        metric = metric.set_geometry(geoms)
    return to_display(metric)


def _num(v: Any, digits: int = 2) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return ""
    return f"{f:,.{digits}f}"


def _feature(geom: shapely.Geometry, props: dict) -> dict:
    return {"type": "Feature", "geometry": _round(geom), "properties": props}


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _towns(result: WasteResult, simplify_m: float) -> tuple[dict, bool]:
    from ..analysis.waste import TYPES

    gen = _display(result.generation, simplify_m)
    rough = bool((result.generation["precision"] != "surveyed").any())
    feats = []
    for _, row in gen.iterrows():
        rows = [("来源 source", row.get("source")), ("分摊依据 proxy", row.get("proxy")), ("分摊比例 share", f"{100 * float(row['share']):.2f}%")]
        rows += [(f"{t['zh']} {t['en']}", f"{_num(row[k])} {t['unit']}") for k, t in TYPES.items()]
        rows.append(("产生量来源 basis", row.get("generation_basis")))
        if rough:
            rows.append(("边界 boundary", "示意，非官方 schematic, not official"))
        props = {"p": popup_html(row["name_zh"], rows, subtitle=row.get("name_en")), "t": escape_text(row["name_zh"]),
                 "c": "#636363", "w": 1.2, "d": "5 4" if rough else None, "f": 0.0, "o": 0.8}
        feats.append(_feature(row.geometry, props))
    return _fc(feats), rough


def _catchments(result: WasteResult, stream: str, simplify_m: float) -> dict:
    sub = result.catchments[result.catchments["stream"] == stream] if len(result.catchments) else result.catchments
    feats = []
    if sub is None or len(sub) == 0:
        return _fc(feats)
    disp = _display(sub, simplify_m)
    for _, row in disp.iterrows():
        colour = safe_colour(FACILITY_COLOURS.get(str(row["facility_id"])), "#999999")
        rows = [
            ("设施 facility", row["facility_zh"]),
            ("服务镇街 members", row.get("members")),
            (f"产生量 quantity（{row.get('quantity_unit')}）", _num(row.get("quantity"))),
            ("算法 method", row.get("method")),
            ("服务范围不稳健 ambiguous", row.get("ambiguous") or None),
            ("说明 note", row.get("note") or None),
        ]
        props = {"p": popup_html(row["name_zh"], rows), "t": escape_text(row["name_zh"]), "c": colour, "w": 1.0, "d": None, "f": 0.35, "o": 0.9}
        feats.append(_feature(row.geometry, props))
    return _fc(feats)


def flow_widths(quantities: Sequence[float], max_quantity: float | None = None) -> list[float]:
    """Line widths (px) for flows: ``MIN + (MAX − MIN) × √(q / q_max)`` (area-like scaling)."""
    q = np.asarray(quantities, dtype=float)
    top = float(max_quantity if max_quantity is not None else (q.max() if q.size else 1.0)) or 1.0
    return [round(MIN_FLOW_WIDTH + (MAX_FLOW_WIDTH - MIN_FLOW_WIDTH) * math.sqrt(max(v, 0.0) / top), 2) for v in q]


def _flows(result: WasteResult, stream: str, simplify_m: float) -> dict:
    sub = result.flows[result.flows["stream"] == stream] if len(result.flows) else result.flows
    feats = []
    if sub is None or len(sub) == 0:
        return _fc(feats)
    disp = _display(sub, simplify_m)
    widths = flow_widths(disp["quantity"].to_numpy(float))
    colour = safe_colour(STREAM_COLOURS.get(stream), "#555555")
    for (_, row), w in zip(disp.iterrows(), widths):
        straight = row["method"] != "network"
        rows = [
            (f"运量 quantity（{row['quantity_unit']}）", _num(row["quantity"])),
            ("运距 haul (km)", f"{_num(row['haul_km'], 1)} ± {_num(row['haul_pm_km'], 1)}"),
            (f"运量×运距（{row['cost_unit']}）", _num(row["cost"], 1)),
            ("吨公里 万吨·公里/年", f"{_num(row['tonne_km'], 1)}（{row['tonne_km_basis']}）"),
            ("运距算法 method", row["method"]),
            ("途经居住用地 residential on route", f"{_num(row.get('route_km_residential'), 1)} km（{_num(100 * float(row.get('route_share_residential')), 0)}%）"
             if row.get("route_share_residential") == row.get("route_share_residential") else None),
            ("来源 source", row["source"]),
            ("不确定性 uncertainty", f"设施位置 ±{_num(row['uncertainty_m'], 0)} 米 m"),
        ]
        props = {"p": popup_html(row["name_zh"], rows, subtitle=row.get("stream_zh")), "t": escape_text(f"{row['name_zh']}：{_num(row['quantity'])} {row['quantity_unit']}"),
                 "c": colour, "w": w, "d": "8 6" if straight else None, "f": 0.0, "o": 0.85}
        feats.append(_feature(row.geometry, props))
    return _fc(feats)


def _facilities(result: WasteResult) -> tuple[dict, list[str]]:
    style = style_for("waste_facilities")
    fac = result.facilities
    located = fac[fac["located"].astype(bool)]
    unplaced = [str(n) for n in fac.loc[~fac["located"].astype(bool), "name_zh"]]
    feats = []
    if len(located):
        disp = _display(located, 0.0)
        load = result.facility_load
        for _, row in disp.iterrows():
            colour = safe_colour(style.colour_of(row.get("kind")), style.colour)
            mine = load[load["facility_id"] == row["facility_id"]]
            rows = [
                ("来源 source", row.get("source")),
                ("精度 precision", "示意（估计位置） indicative"),
                ("不确定性 uncertainty", f"±{_num(row.get('uncertainty_m'), 0)} 米 m"),
                ("规模 capacity", row.get("capacity_text") or None),
                ("填方量 fill volume", row.get("fill_volume_text") or None),
                ("规划矛盾 plan conflict", row.get("conflict_note") or None),
                ("场址（规划原文）site", row.get("site_text") or None),
                ("定位 location", row.get("location_status")),
            ]
            for _, m in mine.iterrows():
                rows.append((f"分配运量 intake（{m['capacity_unit']}）", f"{_num(m['intake'])} / {_num(m['capacity'])}（{_num(100 * float(m['utilisation']), 1)}%）"))
                rows.append(("平均运距 mean haul", f"{_num(m['mean_haul_km'], 1)} ± {_num(m['haul_pm_km'], 1)} km"))
            unc = float(row["uncertainty_m"]) if row.get("uncertainty_m") == row.get("uncertainty_m") else 0.0
            props = {"p": popup_html(row["name_zh"], rows, subtitle=row.get("name_en")), "t": escape_text(row["name_zh"]), "c": colour, "r": round(unc, 1)}
            feats.append(_feature(row.geometry, props))
    return _fc(feats), unplaced


def _buffers(result: WasteResult, simplify_m: float) -> dict:
    feats = []
    if result.buffers is None or len(result.buffers) == 0:
        return _fc(feats)
    disp = _display(result.buffers, min(simplify_m, 5.0))
    siting = result.siting
    for _, row in disp.iterrows():
        s = siting[(siting["facility_id"] == row["facility_id"]) & (siting["buffer_m"] == row["buffer_m"])]
        rows = [("缓冲距离 buffer", f"{row['buffer_m']:.0f} 米 m"), ("依据 basis", "第四条（五）防范“邻避”；筛查距离为参数 screening distance (parameter)")]
        if len(s):
            r = s.iloc[0]
            rows.append(("人口 population", _num(r.get("population"), 0) or r.get("population_method")))
            for c in result.params.receptors:
                n = r.get(f"n_{c.id}")
                if n is not None and not pd.isna(n):
                    rows.append((f"{c.name_zh}（含位置不确定 possible）", f"{int(n)}（{int(r.get(f'n_{c.id}_possible'))}）"))
            rows.append(("说明 note", r.get("note")))
        props = {"p": popup_html(row["name_zh"], rows), "t": escape_text(row["name_zh"]), "c": "#7f2704", "w": 1.2, "d": "3 5", "f": 0.04, "o": 0.9}
        feats.append(_feature(row.geometry, props))
    return _fc(feats)


def _receptors(result: WasteResult, simplify_m: float) -> dict:
    rec = result.receptors
    feats = []
    if rec is None or len(rec) == 0:
        return _fc(feats)
    disp = _display(rec, simplify_m)
    for _, row in disp.iterrows():
        colour = safe_colour(RECEPTOR_COLOURS.get(str(row["receptor"])), "#555555")
        rows = [("类别 category", row.get("receptor_zh")), ("来源 source", row.get("source")), ("OSM", f"{row.get('osm_type')}/{row.get('osm_id')}")]
        props = {"p": popup_html(row.get("name_zh") or "未命名 unnamed", rows), "t": escape_text(row.get("name_zh") or row.get("receptor_zh")),
                 "c": colour, "w": 1.0, "d": None, "f": 0.35, "o": 0.9}
        feats.append(_feature(row.geometry, props))
    return _fc(feats)


class _WasteRuntime(MacroElement):
    """Draws the embedded GeoJSON into the page's groups with per-feature styles."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var jlpWaste = (function (map) {
            ['jlpWasteAreas', 'jlpWasteBuffers', 'jlpWasteLines', 'jlpWastePoints'].forEach(function (p, i) {
                if (!map.getPane(p)) map.createPane(p).style.zIndex = 405 + 10 * i;
            });
            function bind(f, layer) {
                layer.bindPopup(f.properties.p, { maxWidth: 400, maxHeight: 440 });
                if (f.properties.t) layer.bindTooltip(f.properties.t, { sticky: true });
            }
            function vector(pane) {
                return {
                    pane: pane,
                    onEachFeature: bind,
                    style: function (f) {
                        var s = f.properties;
                        return { color: s.c, weight: s.w, dashArray: s.d, opacity: s.o, fillColor: s.c, fillOpacity: s.f, lineCap: 'round' };
                    },
                    pointToLayer: function (f, latlng) {
                        return L.circleMarker(latlng, { pane: 'jlpWastePoints', radius: 4, color: '#ffffff', weight: 1, fillColor: f.properties.c, fillOpacity: 0.9 });
                    }
                };
            }
            return {
                add: function (group, fc, pane) { L.geoJSON(fc, vector(pane)).addTo(group); },
                addFacilities: function (group, fc) {
                    L.geoJSON(fc, {
                        onEachFeature: bind,
                        pointToLayer: function (f, latlng) {
                            var s = f.properties;
                            var centre = L.circleMarker(latlng, { pane: 'jlpWastePoints', radius: 7, color: '#ffffff', weight: 2,
                                                                  fillColor: s.c, fillOpacity: 0.95 });
                            if (!(s.r > 0)) return centre;
                            var circle = L.circle(latlng, { pane: 'jlpWasteBuffers', radius: s.r, color: s.c, weight: 1.5,
                                                            dashArray: '6 5', fillColor: s.c, fillOpacity: 0.05 });
                            return L.featureGroup([circle, centre]);
                        }
                    }).addTo(group);
                }
            };
        })({{ this._parent.get_name() }});
        {%- for call in this.calls %}
        {{ call }}
        {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "WasteRuntime"
        self.calls: list[str] = []

    def add(self, group: folium.FeatureGroup, fc: dict, pane: str) -> None:
        self.calls.append(f"jlpWaste.add({group.get_name()}, {script_json(fc)}, {script_json(pane)});")

    def add_facilities(self, group: folium.FeatureGroup, fc: dict) -> None:
        self.calls.append(f"jlpWaste.addFacilities({group.get_name()}, {script_json(fc)});")


def _swatch(colour: str, kind: str, dashed: bool = False, width: float = 3.0) -> str:
    colour = safe_colour(colour)
    border = "dashed" if dashed else "solid"
    if kind == "line":
        css = f"height:0;border-top:{width:.0f}px {border} {colour}"
    elif kind == "area":
        css = f"border:1.5px {border} {colour};background:{colour}59"
    else:
        css = f"width:12px;height:12px;border-radius:50%;background:{colour};border:2px solid #fff;box-shadow:0 0 0 1px {colour}"
    return f'<span class="jlp-swatch" style="{css}"></span>'


def _legend(result: WasteResult, unplaced: list[str], rough: bool, elems: Mapping[str, str]) -> str:
    from ..analysis.waste import STREAMS

    straight = result.method["haul"] != "network"
    out = ['<details open><summary>图例 Legend</summary>']
    cls = "jlp-method" + ("" if straight else " jlp-network")
    out.append(f'<div class="{cls}"><b>运距算法 haul distance:</b> {escape_text(result.method["haul_label"])}</div>')
    out.append(f'<div class="jlp-legend-note">产生量 generation: {escape_text(result.method["proxy_label"])}</div>')
    flows = result.flows
    for s in STREAMS:
        sub = flows[flows["stream"] == s.id] if len(flows) else flows
        if sub is None or len(sub) == 0:
            continue
        q = sub["quantity"].to_numpy(float)
        out.append(f'<div class="jlp-legend-layer" id="{elems.get("flow_" + s.id, "")}"><div class="jlp-legend-name">{escape_text(s.name_zh)} 运输流向 flows（{len(sub)}）</div>')
        for val in (q.max(), q.max() / 4):
            w = flow_widths([val], q.max())[0]
            out.append(f'<div class="jlp-legend-row">{_swatch(STREAM_COLOURS.get(s.id, "#555555"), "line", straight, w)}{escape_text(f"{val:,.1f} {s.unit}")}</div>')
        if straight:
            out.append('<div class="jlp-legend-note">虚线 = 直线估算，非实际路线 dashed = straight-line estimate, not the road</div>')
        out.append("</div>")
    cat = result.catchments
    if cat is not None and len(cat):
        out.append('<div class="jlp-legend-layer"><div class="jlp-legend-name">服务范围 catchments（最近设施 nearest）</div>')
        for fid in dict.fromkeys(cat["facility_id"]):
            name = cat.loc[cat["facility_id"] == fid, "facility_zh"].iloc[0]
            out.append(f'<div class="jlp-legend-row">{_swatch(FACILITY_COLOURS.get(str(fid), "#999999"), "area")}{escape_text(name)}</div>')
        out.append("</div>")
    style = style_for("waste_facilities")
    out.append('<div class="jlp-legend-layer"><div class="jlp-legend-name">设施 facilities（示意位置）</div>')
    fac = result.facilities[result.facilities["located"].astype(bool)]
    for _, row in fac.iterrows():
        out.append(f'<div class="jlp-legend-row">{_swatch(style.colour_of(row.get("kind")), "point")}{escape_text(row["name_zh"])}</div>')
    out.append('<div class="jlp-legend-note">虚线圆 = 位置不确定范围 dashed circle = position uncertainty</div>')
    if unplaced:
        out.append(
            f'<div class="jlp-legend-note">另有 {len(unplaced)} 项无法定位，未参加运距分析：{escape_text("、".join(unplaced))} '
            f"({len(unplaced)} not located: excluded from the haul analysis)</div>"
        )
    out.append("</div>")
    if result.buffers is not None and len(result.buffers):
        radii = "、".join(f"{b:.0f}" for b in result.params.buffers_m)
        out.append(f'<div class="jlp-legend-layer"><div class="jlp-legend-row">{_swatch("#7f2704", "area", True)}邻避筛查缓冲 {escape_text(radii)} 米（第四条（五））</div></div>')
    if result.receptors is not None and len(result.receptors):
        out.append('<div class="jlp-legend-layer"><div class="jlp-legend-name">敏感目标 receptors (OSM)</div>')
        for c in result.params.receptors:
            out.append(f'<div class="jlp-legend-row">{_swatch(RECEPTOR_COLOURS.get(c.id, "#555555"), "area" if c.geometry == "polygon" else "point")}{escape_text(c.name_zh)}</div>')
        out.append("</div>")
    if rough:
        out.append('<div class="jlp-legend-note">镇街边界为示意（虚线）schematic 镇街 boundaries (dashed)</div>')
    out.append("</details>")
    return "".join(out)


def waste_map(
    result: WasteResult,
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    notes: Sequence[str] = (),
    simplify_m: float = 10.0,
) -> folium.Map:
    """Build the waste map as a :class:`folium.Map` (see :func:`write_waste_map`)."""
    from ..analysis.waste import STREAMS

    straight = result.method["haul"] != "network"
    full_title = title + ("（直线距离估算 straight-line estimate）" if straight else "")
    m = folium.Map(tiles=None, location=None, zoom_control=True, maxZoom=19, minZoom=3)
    m.get_root().title = escape_text(full_title)
    add_page_style(m)
    m.get_root().header.add_child(Element(f"<style>{WASTE_CSS}</style>"), name="jlp_waste_css")
    runtime = _WasteRuntime()
    base_layers = add_basemaps(m, tianditu_token)

    towns, rough = _towns(result, simplify_m)
    fg_towns = folium.FeatureGroup(name="towns", control=False, show=True).add_to(m)
    runtime.add(fg_towns, towns, "jlpWasteAreas")
    groups: dict[str, list[tuple[str, folium.map.Layer]]] = {}
    elems: dict[str, str] = {}
    toggles = []
    suffix = "（示意）" if rough else ""
    groups["行政区划 Administrative"] = [(f'镇街产生量{suffix} <span class="jlp-en">generation by 镇街</span>', fg_towns)]
    catch_items, flow_items = [], []
    for i, s in enumerate(STREAMS):
        fc = _catchments(result, s.id, simplify_m)
        if fc["features"]:
            fg = folium.FeatureGroup(name=f"catch_{s.id}", control=False, show=(i == 0)).add_to(m)
            runtime.add(fg, fc, "jlpWasteAreas")
            catch_items.append((f'{escape_text(s.name_zh)} 服务范围 <span class="jlp-en">{escape_text(s.name_en)} catchments</span>', fg))
        fl = _flows(result, s.id, simplify_m)
        if fl["features"]:
            fg = folium.FeatureGroup(name=f"flow_{s.id}", control=False, show=True).add_to(m)
            runtime.add(fg, fl, "jlpWasteLines")
            flow_items.append((f'{escape_text(s.name_zh)} 运输流向{"（直线估算）" if straight else ""} <span class="jlp-en">{escape_text(s.name_en)} flows</span>', fg))
            elems["flow_" + s.id] = f"jlp-waste-flow-{i}"
            toggles.append((fg, elems["flow_" + s.id]))
    if flow_items:
        groups["运输流向 Flows"] = flow_items
    if catch_items:
        groups["服务范围 Catchments"] = catch_items
    fac_fc, unplaced = _facilities(result)
    fg_fac = folium.FeatureGroup(name="facilities", control=False, show=True).add_to(m)
    runtime.add_facilities(fg_fac, fac_fc)
    site_items = [('建筑垃圾处理设施（示意） <span class="jlp-en">facilities</span>', fg_fac)]
    bf = _buffers(result, simplify_m)
    if bf["features"]:
        fg_buf = folium.FeatureGroup(name="buffers", control=False, show=True).add_to(m)
        runtime.add(fg_buf, bf, "jlpWasteBuffers")
        site_items.append(('邻避筛查缓冲 <span class="jlp-en">screening buffers</span>', fg_buf))
    rc = _receptors(result, simplify_m)
    if rc["features"]:
        fg_rec = folium.FeatureGroup(name="receptors", control=False, show=True).add_to(m)
        runtime.add(fg_rec, rc, "jlpWasteAreas")
        site_items.append(('敏感目标（OSM） <span class="jlp-en">sensitive receptors</span>', fg_rec))
    if result.sites is not None and len(result.sites):
        sites = _display(result.sites, 0.0)
        feats = []
        for _, row in sites.iterrows():
            rows = [("来源 source", row.get("source"))] + [(f"{k}", _num(row.get(k))) for k in ("spoil", "slurry", "construction", "demolition", "decoration") if k in row]
            feats.append(_feature(row.geometry, {"p": popup_html(row["name_zh"], rows), "t": escape_text(row["name_zh"]), "c": "#252525", "w": 1, "d": None, "f": 0.9, "o": 1}))
        fg_sites = folium.FeatureGroup(name="sites", control=False, show=True).add_to(m)
        runtime.add(fg_sites, _fc(feats), "jlpWastePoints")
        site_items.append(('工地 <span class="jlp-en">construction sites (user file)</span>', fg_sites))
    groups["设施与邻避 Facilities & screens"] = site_items
    runtime.add_to(m)
    GroupedLayers(base_layers, groups, collapsed=False, position="topright").add_to(m)

    folium.plugins.Fullscreen(position="topleft", title="全屏 Fullscreen", title_cancel="退出全屏 Exit fullscreen").add_to(m)
    MeasureControl(position="topleft").add_to(m)
    MetricScale(position="bottomleft").add_to(m)
    TitleBox(full_title).add_to(m)
    HtmlBox(_legend(result, unplaced, rough, elems), position="bottomright", css_class="jlp-legend", toggles=toggles).add_to(m)
    tianditu = any(label == BASEMAP_TIANDITU for label, _ in base_layers)
    all_notes = list(result.notes) + list(notes) + [
        "线宽与年运量的平方根成比例 line width ∝ √(annual quantity).",
        "默认无底图，离线可用；" + ("OpenStreetMap、天地图底图需联网" if tianditu else "OpenStreetMap 底图需联网")
        + " No basemap by default (works offline).",
        "坐标 WGS84（与 CGCS2000 相差约 1 米内）Coordinates WGS84.",
    ]
    HtmlBox(notes_html(all_notes, title="方法与说明 Method & notes"), position="bottomleft", css_class="jlp-notes").add_to(m)

    bounds = _display(result.generation, simplify_m).total_bounds if len(result.generation) else None
    if bounds is not None and all(math.isfinite(v) for v in bounds):
        west, south, east, north = (float(v) for v in bounds)
        m.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=15)
    return m


def write_waste_map(
    result: WasteResult,
    path: str | os.PathLike[str],
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    notes: Sequence[str] = (),
    simplify_m: float = 10.0,
) -> Path:
    """Write the construction-waste map of *result* as one self-contained HTML page.

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.waste.analyse_waste`.
    path
        Output ``.html`` (written atomically).
    title
        Page title; ``（直线距离估算）`` is appended when the straight-line fallback was used.
    tianditu_token
        Tianditu key for the 天地图 basemap choice.
    notes
        Extra notes for the notes box (the result's own notes are always listed).
    simplify_m
        Douglas-Peucker tolerance in metres for 镇街, catchments and routes.

    Returns
    -------
    Path
        The written file.
    """
    m = waste_map(result, title=title, tianditu_token=tianditu_token, notes=notes, simplify_m=simplify_m)
    html = render_offline(m).replace("<html>", '<html lang="zh-CN">', 1)
    return save_map(html, path)
