"""The planning atlas: every plan layer on one offline, interactive map (规划图集).

:func:`write_atlas` draws the given layers in groups (``style_for(layer).group``)
with one layer control, a legend per layer, popups that show each feature's
provenance (来源 / 精度 / 不确定性) and its attributes, a measure tool,
fullscreen, a metric scale bar, a basemap choice (无底图 by default, so the page
works without network; OpenStreetMap; 天地图 with a token) and a collapsible
notes box.

Honesty rules drawn on the map:

* features without a geometry are not drawn; the legend says how many
  (``另有 N 项无法定位，见表格``);
* indicative/schematic points with an ``uncertainty_m`` get a circle of that
  radius (metres) around a centre marker; indicative/schematic lines and
  polygons are dashed; a layer whose features are not surveyed says 示意 in
  its label;
* every text from the data is escaped (:mod:`jlp_geo.viz.escape`).

Geometry is simplified in metres in the analysis CRS and reprojected for display
only through :func:`jlp_geo.crs.to_display`; coordinates are rounded to 5
decimals (about 1 m), and only the columns shown are embedded.

This module assembles the page (layer groups, legend, notes, the small JS
renderer); what each layer embeds -- features, popups, styles -- is
:mod:`jlp_geo.viz.layer_features`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from folium.template import Template

from ..styles import LayerStyle
from .controls import GroupedLayers, HtmlBox, notes_html
from .escape import escape_text, safe_colour, script_json
from .layer_features import PreparedLayer, prepare_layer
from .page import COORDINATES_NOTE, add_basemaps, add_map_tools, basemap_note, fit_map, has_tianditu, new_map, write_page

__all__ = ["DEFAULT_TITLE", "atlas_map", "write_atlas"]

DEFAULT_TITLE = "九龙坡区规划图集 Jiulongpo planning atlas"


class _AtlasRuntime(MacroElement):
    """Shared JS: panes (areas < lines < points) and the GeoJSON renderer of atlas layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var jlpAtlas = (function (map) {
            ['jlpAreas', 'jlpLines', 'jlpPoints'].forEach(function (p, i) {
                if (!map.getPane(p)) map.createPane(p).style.zIndex = 410 + 10 * i;
            });
            function bind(f, layer) {
                layer.bindPopup(f.properties.p, { maxWidth: 380, maxHeight: 420 });
                if (f.properties.t) layer.bindTooltip(f.properties.t, { sticky: true });
            }
            function vector(pane, styles) {
                return {
                    pane: pane,
                    onEachFeature: bind,
                    style: function (f) {
                        var s = styles[f.properties.k];
                        return { color: s.color, weight: s.weight, dashArray: s.dash, opacity: 0.9,
                                 fillColor: s.color, fillOpacity: s.fill };
                    }
                };
            }
            return {
                addLayer: function (group, parts, styles) {
                    if (parts.areas) L.geoJSON(parts.areas, vector('jlpAreas', styles)).addTo(group);
                    if (parts.lines) L.geoJSON(parts.lines, vector('jlpLines', styles)).addTo(group);
                    if (parts.points) L.geoJSON(parts.points, {
                        onEachFeature: bind,
                        pointToLayer: function (f, latlng) {
                            var s = styles[f.properties.k], r = f.properties.r;
                            var centre = L.circleMarker(latlng, { pane: 'jlpPoints', radius: 5, color: '#ffffff', weight: 1.5,
                                                                  fillColor: s.color, fillOpacity: 0.95 });
                            if (!(r > 0)) return centre;
                            var circle = L.circle(latlng, { pane: 'jlpAreas', radius: r, color: s.color, weight: 1.2,
                                                            dashArray: '4 4', fillColor: s.color, fillOpacity: 0.07 });
                            return L.featureGroup([circle, centre]);
                        }
                    }).addTo(group);
                }
            };
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "AtlasRuntime"


class _AtlasLayer(MacroElement):
    """The data of one layer, drawn into its FeatureGroup by ``jlpAtlas.addLayer``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        jlpAtlas.addLayer({{ this._parent.get_name() }}, {{ this.parts_json }}, {{ this.styles_json }});
        {% endmacro %}
        """
    )

    def __init__(self, parts: dict, styles: list[dict]) -> None:
        super().__init__()
        self._name = "AtlasLayer"
        self.parts_json = script_json(parts)
        self.styles_json = script_json(styles)


def _rgba(colour: str, alpha: float) -> str:
    h = colour.lstrip("#")
    if len(h) in (3, 4):
        h = "".join(c * 2 for c in h[:3])
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _swatch(kind: str, colour: str, style: LayerStyle, dashed: bool, circle: bool = False) -> str:
    border = "dashed" if dashed else "solid"
    if kind == "lines":
        css = f"height:0;border-top:3px {border} {colour}"
    elif kind == "areas":
        alpha = max(0.15, min(1.0, float(style.fill_opacity) + 0.15))
        css = f"border:2px {border} {colour};background:{_rgba(colour, alpha)}"
    elif circle:
        css = f"width:14px;height:14px;border-radius:50%;border:1.5px dashed {colour};background:radial-gradient({colour} 30%,transparent 34%)"
    else:
        css = f"width:11px;height:11px;border-radius:50%;background:{colour};border:1.5px solid #fff;box-shadow:0 0 0 1px {colour}"
    return f'<span class="jlp-swatch" style="{css}"></span>'


def _legend_entry(prep: PreparedLayer, elem_id: str) -> str:
    style = prep.style
    declared = {"point": "points", "line": "lines", "polygon": "areas"}.get(style.geometry)
    if declared in prep.kinds or not prep.kinds:
        kind = declared or "areas"
    else:
        kind = next(k for k in ("lines", "areas", "points") if k in prep.kinds)
    dashed = bool(style.dash) or (prep.not_surveyed and kind != "points")
    placed = prep.n_total - prep.n_unplaced
    out = [
        f'<div class="jlp-legend-layer" id="{elem_id}">',
        f'<div class="jlp-legend-name">{prep.label}（{placed} 项）</div>',
    ]
    colours = prep.categories or [(escape_text(style.title_zh), safe_colour(style.colour))]
    for text, colour in colours:
        out.append(f'<div class="jlp-legend-row">{_swatch(kind, colour, style, dashed, prep.any_circle)}{text}</div>')
    if prep.not_surveyed:
        if kind == "points":
            note = "示意位置：圆圈半径为不确定性 indicative: circle radius = uncertainty" if prep.any_circle else "示意位置 indicative positions"
        elif kind == "lines":
            note = "示意走向（虚线）schematic alignment (dashed)"
        else:
            note = "示意边界（虚线）indicative boundary (dashed)"
        out.append(f'<div class="jlp-legend-note">{escape_text(note)}</div>')
    if prep.n_unplaced:
        out.append(
            f'<div class="jlp-legend-note">另有 {prep.n_unplaced} 项无法定位，见表格 '
            f"({prep.n_unplaced} more without a location: see the tables)</div>"
        )
    out.append("</div>")
    return "".join(out)


def _unique_labels(preps: list[PreparedLayer]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for p in preps:
        key = (p.group, p.label)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            p.label = f"{p.label} ({seen[key]})"


def atlas_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    notes: Sequence[str] = (),
    fields: Mapping[str, Sequence[str]] | None = None,
    simplify_m: float = 5.0,
) -> folium.Map:
    """Build the atlas as a :class:`folium.Map`.

    Parameters are those of :func:`write_atlas` (without *path*).

    Returns
    -------
    folium.Map
        The map, not yet rendered (:func:`jlp_geo.viz.render_offline`).
    """
    preps = [prepare_layer(name, gdf, (fields or {}).get(name), simplify_m) for name, gdf in layers.items()]
    _unique_labels(preps)

    m = new_map(title)
    _AtlasRuntime().add_to(m)
    base_layers = add_basemaps(m, tianditu_token)

    # draw order: areas below lines below points (panes also enforce it)
    rank = {"areas": 0, "lines": 1, "points": 2}
    groups_by_prep: dict[int, folium.FeatureGroup] = {}
    for i in sorted(range(len(preps)), key=lambda i: min((rank[k] for k in preps[i].kinds), default=0)):
        prep = preps[i]
        fg = folium.FeatureGroup(name=prep.label, overlay=True, control=False, show=True).add_to(m)
        if prep.parts:
            _AtlasLayer(prep.parts, prep.styles).add_to(fg)
        groups_by_prep[i] = fg

    groups: dict[str, list[tuple[str, folium.map.Layer]]] = {}
    for i, prep in enumerate(preps):
        groups.setdefault(prep.group, []).append((prep.label, groups_by_prep[i]))
    GroupedLayers(base_layers, groups, collapsed=False, position="topright").add_to(m)
    add_map_tools(m, title)

    entries, toggles = [], []
    for i, prep in enumerate(preps):
        elem_id = f"jlp-legend-{i}"
        entries.append(_legend_entry(prep, elem_id))
        toggles.append((groups_by_prep[i], elem_id))
    legend = '<details open><summary>图例 Legend</summary>' + "".join(entries) + "</details>"
    HtmlBox(legend, position="bottomright", css_class="jlp-legend", toggles=toggles).add_to(m)

    all_notes = list(notes) + [
        "虚线、圆圈表示示意位置或走向及其不确定范围，不作为精确边界或选址依据 "
        "Dashed lines and circles mark indicative positions/alignments and their uncertainty; not survey data.",
        basemap_note(has_tianditu(base_layers)),
        COORDINATES_NOTE,
    ]
    HtmlBox(notes_html(all_notes), position="bottomleft", css_class="jlp-notes").add_to(m)

    bounds = [p.bounds for p in preps if p.bounds is not None]
    if bounds:
        b = np.array(bounds)
        fit_map(m, (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()), max_zoom=15)
    return m


def write_atlas(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike[str],
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    notes: Sequence[str] = (),
    fields: Mapping[str, Sequence[str]] | None = None,
    simplify_m: float = 5.0,
) -> Path:
    """Write the planning atlas: all *layers* on one self-contained HTML map.

    Parameters
    ----------
    layers
        ``{layer name: GeoDataFrame}``; the name selects the style
        (``layers/styles.yml`` via :func:`jlp_geo.styles.style_for`: title,
        group, colours, categories).  Layers should meet the provenance
        contract (``name_zh``, ``name_en``, ``source``, ``precision``,
        ``uncertainty_m``); rows with no geometry are counted, not drawn.
    path
        Output ``.html`` file (written atomically).
    title
        Page and map title.
    tianditu_token
        Tianditu key; adds the 天地图 basemap (vec_w + cva_w) when given.
    notes
        Provenance statements listed in the collapsible notes box
        (e.g. ``"镇街边界为示意"``).
    fields
        ``{layer name: [columns]}``: attribute columns shown in that layer's
        popups.  Default: :data:`~jlp_geo.viz.layer_features.DEFAULT_FIELDS` for the
        project's layers, otherwise every column except
        :data:`~jlp_geo.viz.layer_features.HIDDEN_COLUMNS`.
    simplify_m
        Douglas-Peucker tolerance in metres for lines and polygons.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    CRSError
        If a layer has no CRS.
    OutputError
        If the page cannot be written.
    """
    m = atlas_map(layers, title=title, tianditu_token=tianditu_token, notes=notes, fields=fields, simplify_m=simplify_m)
    return write_page(m, path)
