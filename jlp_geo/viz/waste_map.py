"""The construction-waste map (建筑垃圾运距与服务范围): catchments, flows, facilities and 邻避 screens.

One self-contained page (every script inline, :func:`jlp_geo.viz.render_offline`), built from a
:class:`jlp_geo.analysis.waste.WasteResult`:

* 镇街 with their (estimated) generation, dashed when the boundaries are schematic;
* catchments (nearest located facility by haul distance) per waste stream, coloured by facility;
* flows of the optimal allocation as lines whose width grows with the quantity (√ scale), dashed when
  the distance is straight line × detour factor (no road network) -- the legend and the title say so;
* facilities: located ones with their position-uncertainty circle; unplaced ones listed in the legend;
* screening buffers (邻避, 第四条（五）) and, with OSM data, the sensitive receptors near the facilities.

Every text from data is escaped (:mod:`jlp_geo.viz.escape`); geometry reaches EPSG:4326 only through
:func:`jlp_geo.crs.to_display`, simplified in metres first.

This module assembles the page (groups, legend, notes, the small JS renderer); the embedded
collections are built by :mod:`jlp_geo.viz.waste_features`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import folium
from branca.element import MacroElement
from folium.template import Template

from ..analysis.waste import STREAMS, WasteResult
from ..styles import style_for
from .controls import GroupedLayers, HtmlBox, notes_html
from .escape import escape_text, safe_colour, script_json
from .geometry import display_frame
from .page import add_basemaps, add_map_tools, fit_map, has_tianditu, new_map, write_page
from .waste_features import (
    FACILITY_COLOURS,
    RECEPTOR_COLOURS,
    STREAM_COLOURS,
    buffer_features,
    catchment_features,
    facility_features,
    flow_features,
    flow_widths,
    receptor_features,
    site_features,
    town_features,
)

__all__ = ["DEFAULT_TITLE", "waste_map", "write_waste_map"]

DEFAULT_TITLE = "建筑垃圾运距与服务范围 Construction-waste haul and catchments"
WASTE_CSS = """
.jlp-method{margin:4px 0;padding:3px 6px;border-left:4px solid #b35806;background:#fff7ec;font-size:12px}
.jlp-method.jlp-network{border-left-color:#1b7837;background:#f0f7ee}
"""


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
    """Build the waste map as a :class:`folium.Map`.

    Parameters are those of :func:`write_waste_map` (without *path*).

    Returns
    -------
    folium.Map
        The map, not yet rendered (:func:`jlp_geo.viz.render_offline`).
    """
    straight = result.method["haul"] != "network"
    full_title = title + ("（直线距离估算 straight-line estimate）" if straight else "")
    m = new_map(full_title, WASTE_CSS, "jlp_waste_css")
    runtime = _WasteRuntime()
    base_layers = add_basemaps(m, tianditu_token)

    towns, rough = town_features(result, simplify_m)
    fg_towns = folium.FeatureGroup(name="towns", control=False, show=True).add_to(m)
    runtime.add(fg_towns, towns, "jlpWasteAreas")
    groups: dict[str, list[tuple[str, folium.map.Layer]]] = {}
    elems: dict[str, str] = {}
    toggles = []
    suffix = "（示意）" if rough else ""
    groups["行政区划 Administrative"] = [(f'镇街产生量{suffix} <span class="jlp-en">generation by 镇街</span>', fg_towns)]
    catch_items, flow_items = [], []
    for i, s in enumerate(STREAMS):
        fc = catchment_features(result, s.id, simplify_m)
        if fc["features"]:
            fg = folium.FeatureGroup(name=f"catch_{s.id}", control=False, show=(i == 0)).add_to(m)
            runtime.add(fg, fc, "jlpWasteAreas")
            catch_items.append((f'{escape_text(s.name_zh)} 服务范围 <span class="jlp-en">{escape_text(s.name_en)} catchments</span>', fg))
        fl = flow_features(result, s.id, simplify_m)
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
    fac_fc, unplaced = facility_features(result)
    fg_fac = folium.FeatureGroup(name="facilities", control=False, show=True).add_to(m)
    runtime.add_facilities(fg_fac, fac_fc)
    site_items = [('建筑垃圾处理设施（示意） <span class="jlp-en">facilities</span>', fg_fac)]
    bf = buffer_features(result, simplify_m)
    if bf["features"]:
        fg_buf = folium.FeatureGroup(name="buffers", control=False, show=True).add_to(m)
        runtime.add(fg_buf, bf, "jlpWasteBuffers")
        site_items.append(('邻避筛查缓冲 <span class="jlp-en">screening buffers</span>', fg_buf))
    rc = receptor_features(result, simplify_m)
    if rc["features"]:
        fg_rec = folium.FeatureGroup(name="receptors", control=False, show=True).add_to(m)
        runtime.add(fg_rec, rc, "jlpWasteAreas")
        site_items.append(('敏感目标（OSM） <span class="jlp-en">sensitive receptors</span>', fg_rec))
    st = site_features(result)
    if st["features"]:
        fg_sites = folium.FeatureGroup(name="sites", control=False, show=True).add_to(m)
        runtime.add(fg_sites, st, "jlpWastePoints")
        site_items.append(('工地 <span class="jlp-en">construction sites (user file)</span>', fg_sites))
    groups["设施与邻避 Facilities & screens"] = site_items
    runtime.add_to(m)
    GroupedLayers(base_layers, groups, collapsed=False, position="topright").add_to(m)
    add_map_tools(m, full_title)
    HtmlBox(_legend(result, unplaced, rough, elems), position="bottomright", css_class="jlp-legend", toggles=toggles).add_to(m)
    tianditu = has_tianditu(base_layers)
    all_notes = list(result.notes) + list(notes) + [
        "线宽与年运量的平方根成比例 line width ∝ √(annual quantity).",
        "默认无底图，离线可用；" + ("OpenStreetMap、天地图底图需联网" if tianditu else "OpenStreetMap 底图需联网")
        + " No basemap by default (works offline).",
        "坐标 WGS84（与 CGCS2000 相差约 1 米内）Coordinates WGS84.",
    ]
    HtmlBox(notes_html(all_notes, title="方法与说明 Method & notes"), position="bottomleft", css_class="jlp-notes").add_to(m)

    bounds = display_frame(result.generation, simplify_m).total_bounds if len(result.generation) else None
    fit_map(m, bounds, max_zoom=15)
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
        Output of :func:`jlp_geo.analysis.waste.analyse_waste`.
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
    return write_page(m, path)
