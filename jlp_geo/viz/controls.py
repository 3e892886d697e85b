"""Leaflet controls shared by jlp_geo's maps: grouped layer control, measure tool, scale, boxes.

Every element here works offline: the grouped layer control uses the vendored
``leaflet-groupedlayercontrol`` (inlined by :func:`jlp_geo.viz.render_offline`);
the measure tool, metric scale bar, title, legend and notes boxes are a few
lines of plain Leaflet, with Chinese labels first.  The page around them
(stylesheet, basemaps, writing) is :mod:`jlp_geo.viz.page`.

HTML passed to :class:`HtmlBox` / :class:`TitleBox` is inserted as HTML: build
it from values escaped with :func:`jlp_geo.viz.escape.escape_text`.
Labels passed to :class:`GroupedLayers` are inserted as HTML by the control
(Leaflet uses ``innerHTML``) and must be escaped the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from .escape import escape_text, script_json

__all__ = ["GroupedLayers", "HtmlBox", "MeasureControl", "MetricScale", "TitleBox", "notes_html"]


class GroupedLayers(JSCSSMixin, MacroElement):
    """One layer control: basemaps as radio buttons, overlays as checkboxes in named groups.

    Parameters
    ----------
    base_layers
        ``[(label, layer)]`` for the radio buttons (e.g. from :func:`jlp_geo.viz.page.add_basemaps`).
    groups
        ``{group label: [(layer label, layer), ...]}``, in display order.
        Labels are HTML: escape them with :func:`escape_text`.
    collapsed
        Whether the control starts folded into an icon.
    position
        Leaflet control position.
    """

    # Same URLs as folium.plugins.GroupedLayerControl: render_offline inlines the vendored copies.
    default_js = [
        (
            "leaflet.groupedlayercontrol.min.js",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js",
        )
    ]
    default_css = [
        (
            "leaflet.groupedlayercontrol.min.css",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css",
        )
    ]
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var base = {};
            {%- for label, layer in this.base_layers %}
            base[{{ label }}] = {{ layer.get_name() }};
            {%- endfor %}
            var groups = {};
            {%- for group, items in this.groups %}
            groups[{{ group }}] = groups[{{ group }}] || {};
            {%- for label, layer in items %}
            groups[{{ group }}][{{ label }}] = {{ layer.get_name() }};
            {%- endfor %}
            {%- endfor %}
            L.control.groupedLayers(base, groups, {
                collapsed: {{ this.collapsed|tojson }}, position: {{ this.position|tojson }}
            }).addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        base_layers: Sequence[tuple[str, folium.map.Layer]],
        groups: Mapping[str, Sequence[tuple[str, folium.map.Layer]]],
        collapsed: bool = False,
        position: str = "topright",
    ) -> None:
        super().__init__()
        self._name = "GroupedLayers"
        # labels travel as script-safe JSON strings
        self.base_layers = [(script_json(label), layer) for label, layer in base_layers]
        self.groups = [
            (script_json(g), [(script_json(label), layer) for label, layer in items]) for g, items in groups.items()
        ]
        self.collapsed = collapsed
        self.position = position


class MeasureControl(MacroElement):
    """Click-to-measure distance and area (距离 / 面积), Chinese labels, no images.

    Distances are great-circle (Leaflet's ``map.distance``, sphere R = 6371 km);
    areas use the spherical-excess approximation of Leaflet.draw's
    ``geodesicArea`` (R = 6378137 m).  Both are within about 0.5 % of the
    ellipsoid at Chongqing's latitude -- fine for reading a map, not for survey.
    The raw numbers are exposed as ``data-metres`` / ``data-square-metres`` on
    the result element.  While measuring, map features ignore the mouse (CSS
    ``pointer-events``), so clicks on them add points instead of opening popups
    (Leaflet does not pass a click on a feature on to the map).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            function fmtLen(m) { return m < 1000 ? Math.round(m) + ' 米 m' : (m / 1000).toFixed(2) + ' 公里 km'; }
            function fmtArea(a) {
                if (a < 10000) return Math.round(a) + ' 平方米 m²';
                if (a < 1e6) return (a / 10000).toFixed(2) + ' 公顷 ha';
                return (a / 1e6).toFixed(3) + ' 平方公里 km²';
            }
            function sphArea(ll) {
                var d2r = Math.PI / 180, R = 6378137, s = 0, n = ll.length;
                for (var i = 0; i < n; i++) {
                    var p1 = ll[i], p2 = ll[(i + 1) % n];
                    s += (p2.lng - p1.lng) * d2r * (2 + Math.sin(p1.lat * d2r) + Math.sin(p2.lat * d2r));
                }
                return Math.abs(s * R * R / 2);
            }
            var Measure = L.Control.extend({
                options: { position: {{ this.position|tojson }} },
                onAdd: function (map) {
                    var self = this;
                    var box = L.DomUtil.create('div', 'leaflet-bar leaflet-control jlp-measure');
                    var btn = L.DomUtil.create('a', 'jlp-measure-btn', box);
                    btn.href = '#';
                    btn.title = '测量距离和面积 Measure distance and area';
                    btn.setAttribute('role', 'button');
                    btn.innerHTML = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">' +
                        '<path d="M1 13 13 1l4 4L5 17z" fill="none" stroke="#333" stroke-width="1.4"/>' +
                        '<path d="M4 10l2 2M6 8l1.5 1.5M8 6l2 2M10 4l1.5 1.5" stroke="#333" stroke-width="1.2"/></svg>';
                    this._panel = L.DomUtil.create('div', 'jlp-measure-panel', box);
                    this._panel.style.display = 'none';
                    this._layer = L.layerGroup().addTo(map);
                    this._pts = [];
                    L.DomEvent.disableClickPropagation(box);
                    L.DomEvent.disableScrollPropagation(box);
                    L.DomEvent.on(btn, 'click', function (e) {
                        L.DomEvent.preventDefault(e);
                        if (self._active) { self._finish(); } else { self._start(); }
                    });
                    return box;
                },
                _start: function () {
                    var map = this._map;
                    this._clear();
                    this._active = true;
                    this._dbl = map.doubleClickZoom.enabled();
                    map.doubleClickZoom.disable();
                    L.DomUtil.addClass(map.getContainer(), 'jlp-measuring');
                    map.on('click', this._add, this);
                    map.on('dblclick', this._finish, this);
                    this._panel.style.display = '';
                    this._render();
                },
                _finish: function () {
                    var map = this._map;
                    if (!this._active) return;
                    this._active = false;
                    map.off('click', this._add, this);
                    map.off('dblclick', this._finish, this);
                    if (this._dbl) map.doubleClickZoom.enable();
                    L.DomUtil.removeClass(map.getContainer(), 'jlp-measuring');
                    this._render();
                },
                _clear: function () {
                    this._finish();
                    this._pts = [];
                    this._layer.clearLayers();
                    this._panel.innerHTML = '';
                    this._panel.style.display = 'none';
                },
                _add: function (e) {
                    var last = this._pts[this._pts.length - 1];
                    if (!last || !last.equals(e.latlng)) this._pts.push(e.latlng);
                    this._render();
                },
                _render: function () {
                    var self = this, pts = this._pts, map = this._map, len = 0, area = 0;
                    this._layer.clearLayers();
                    for (var i = 1; i < pts.length; i++) len += map.distance(pts[i - 1], pts[i]);
                    if (pts.length >= 3) {
                        area = sphArea(pts);
                        L.polygon(pts, { color: '#d7301f', weight: 1, dashArray: '3 4', fillOpacity: 0.08, interactive: false }).addTo(this._layer);
                    }
                    if (pts.length >= 2) L.polyline(pts, { color: '#d7301f', weight: 2.5, interactive: false }).addTo(this._layer);
                    pts.forEach(function (p) {
                        L.circleMarker(p, { radius: 3, color: '#d7301f', fillOpacity: 1, interactive: false }).addTo(self._layer);
                    });
                    var html = '<div class="jlp-measure-result" data-points="' + pts.length + '" data-metres="' + len.toFixed(3) +
                        '" data-square-metres="' + area.toFixed(1) + '">';
                    if (this._active && pts.length === 0) html += '单击地图添加测点，双击结束<br>Click to add points, double-click to finish';
                    if (pts.length >= 2) html += '距离 Distance：' + fmtLen(len);
                    if (pts.length >= 3) html += '<br>面积 Area（闭合 closed）：' + fmtArea(area);
                    html += '</div>';
                    this._panel.innerHTML = html;
                    var bar = L.DomUtil.create('div', '', this._panel);
                    if (this._active) {
                        var done = L.DomUtil.create('button', 'jlp-measure-finish', bar);
                        done.type = 'button'; done.textContent = '完成 Finish';
                        L.DomEvent.on(done, 'click', function (e) { L.DomEvent.stop(e); self._finish(); });
                    }
                    var clr = L.DomUtil.create('button', 'jlp-measure-clear', bar);
                    clr.type = 'button'; clr.textContent = '清除 Clear';
                    L.DomEvent.on(clr, 'click', function (e) { L.DomEvent.stop(e); self._clear(); });
                }
            });
            new Measure().addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, position: str = "topleft") -> None:
        super().__init__()
        self._name = "MeasureControl"
        self.position = position


class MetricScale(MacroElement):
    """Leaflet's scale bar, metric only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({ metric: true, imperial: false, position: {{ this.position|tojson }} })
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, position: str = "bottomleft") -> None:
        super().__init__()
        self._name = "MetricScale"
        self.position = position


class HtmlBox(MacroElement):
    """A Leaflet control holding trusted HTML (build it from escaped values).

    Parameters
    ----------
    html
        Content, inserted with ``innerHTML``; it travels to the page as a
        script-safe JSON string (:func:`script_json`), so it cannot break out
        of the ``<script>`` block.
    position
        Leaflet control position.
    css_class
        Extra class(es) of the box (``jlp-box`` is always set).
    toggles
        ``[(layer, element id)]``: the element with that id (inside *html*) is
        shown only while the layer is on the map (legend entries follow the
        layer control).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var Box = L.Control.extend({
                options: { position: {{ this.position|tojson }} },
                onAdd: function () {
                    var div = L.DomUtil.create('div', {{ ('leaflet-control jlp-box ' ~ this.css_class)|tojson }});
                    div.innerHTML = {{ this.html_json }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                }
            });
            new Box().addTo(map);
            {%- for layer, elem_id in this.toggles %}
            (function (layer, el) {
                if (!el) return;
                layer.on('add', function () { el.style.display = ''; });
                layer.on('remove', function () { el.style.display = 'none'; });
                if (!map.hasLayer(layer)) el.style.display = 'none';
            })({{ layer.get_name() }}, document.getElementById({{ elem_id }}));
            {%- endfor %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        html: str,
        position: str = "bottomright",
        css_class: str = "",
        toggles: Sequence[tuple[folium.map.Layer, str]] = (),
    ) -> None:
        super().__init__()
        self._name = "HtmlBox"
        self.html_json = script_json(html)
        self.position = position
        self.css_class = re.sub(r"[^\w -]", "", css_class)
        self.toggles = [(layer, script_json(elem_id)) for layer, elem_id in toggles]


class TitleBox(MacroElement):
    """A title centred at the top of the map; *text* is escaped here."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var div = L.DomUtil.create('div', 'jlp-title', map.getContainer());
            div.innerHTML = {{ this.html_json }};
            L.DomEvent.disableClickPropagation(div);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "TitleBox"
        self.html_json = script_json(escape_text(text))


def notes_html(notes: Sequence[str], title: str = "说明 Notes") -> str:
    """Collapsible list of notes (``<details>``), every note escaped."""
    items = "".join(f"<li>{escape_text(n)}</li>" for n in notes)
    return f"<details><summary>{escape_text(title)}（{len(notes)}）</summary><ol>{items}</ol></details>"
