"""The coverage page's runtime: the script that draws and switches categories, its CSS and legend.

:class:`CoverageRuntime` embeds the data of :mod:`jlp_geo.viz.coverage_data` once
(script-safe JSON) and draws it with plain Leaflet: places the hexes from their
centres and the shared hexagon (:mod:`jlp_geo.viz.coverage_hexes`), decodes their
compact shares on demand, colours the hexes of the selected category by their
precomputed class, draws
that category's services and service area, the 镇街/组团 outlines, and keeps the
legend (:func:`legend_html`) in step with the ``#jlp-category`` select.  The
page exposes ``jlpCoverage`` (``setCategory``, ``current``, ``decode``) for tests.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from .coverage_data import (
    GAP_COLOUR,
    GAP_OUTLINE,
    NO_POPULATION_COLOUR,
    SHARE_BREAKS,
    SHARE_COLOURS,
)
from .escape import escape_text, script_json

__all__ = ["COVERAGE_CSS", "CoverageRuntime", "legend_html"]

#: Stylesheet of the coverage page, added after :data:`jlp_geo.viz.page.PAGE_CSS`.
COVERAGE_CSS = """
.jlp-box.jlp-coverage{max-width:300px;max-height:calc(62vh - 20px)}
.jlp-coverage label{font-weight:bold;display:block;margin-bottom:2px}
.jlp-coverage select{max-width:280px;font-size:12px;margin-bottom:4px}
.jlp-coverage .jlp-cov-head{margin:3px 0;font-weight:bold}
.jlp-coverage .jlp-cov-stat{margin:2px 0;color:#333}
.jlp-coverage .jlp-cov-basis{color:#666;font-size:11px;margin-top:3px}
.jlp-popup tr.jlp-cur th,.jlp-popup tr.jlp-cur td{font-weight:bold;color:#000}
.jlp-popup td.jlp-num{text-align:right;padding-left:6px}
.jlp-popup th.jlp-col{text-align:right;color:#555}
path.jlp-gap{stroke-linejoin:round}
.jlp-coverage .jlp-sparse{color:#b35806;font-weight:bold}
.jlp-coverage label.jlp-after{font-weight:normal;color:#54278f;margin:3px 0}
"""


class CoverageRuntime(MacroElement):
    """The page's coverage logic: hexes, category switch, services, isochrones, units, legend.

    Parameters
    ----------
    data
        Everything the page draws (built by :func:`jlp_geo.viz.coverage_map.coverage_map`
        from :mod:`jlp_geo.viz.coverage_data`): escaped texts, class codes,
        encoded rings; embedded with :func:`script_json`.
    hex_group, svc_group, iso_group
        Feature groups of the hexes, the services and the service area.
    town_group, cluster_group
        Feature groups of the 镇街 / 组团 outlines, or None.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var jlpCoverage = (function (map, D, G) {
            ['jlpHex', 'jlpIso', 'jlpUnits', 'jlpServices'].forEach(function (p, i) {
                if (!map.getPane(p)) map.createPane(p).style.zIndex = 400 + 10 * i;
            });
            function decode(str) {
                var i = 0, lat = 0, lng = 0, out = [];
                function next() {
                    var b, shift = 0, res = 0;
                    do { b = str.charCodeAt(i++) - 63; res |= (b & 31) << shift; shift += 5; } while (b >= 32);
                    return (res & 1) ? ~(res >> 1) : (res >> 1);
                }
                while (i < str.length) { lat += next(); lng += next(); out.push([lat / 1e5, lng / 1e5]); }
                return out;
            }
            function polygons(r) { return r.map(function (p) { return p.map(decode); }); }
            var cats = D.cats, H = D.hex, cur = D.def, useAfter = false;
            var ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
            function cls(i) { return (useAfter && D.after) ? D.after.cls[i] : H.cls[i]; }
            function shares(codes, tok) {  // per mille per category: digits carry a token, g = 0, else none
                var out = [], j = 0;
                for (var k = 0; k < codes.length; k++) {
                    var c = codes.charAt(k);
                    if (c >= '0' && c <= '9') {
                        if (tok.charAt(j) === '~') { out.push(1000); j += 1; }
                        else { out.push(ALPHA.indexOf(tok.charAt(j)) * 64 + ALPHA.indexOf(tok.charAt(j + 1))); j += 2; }
                    } else out.push(c === 'g' ? 0 : null);
                }
                return out;
            }
            function shr(i, k) { var A = (useAfter && D.after) ? D.after : H; return shares(A.cls[i], A.s[i])[k]; }
            function hexId(i) { return H.affix[0] + H.id[i] + H.affix[1]; }
            var centres = decode(H.c);
            function hexRing(i) {
                if (H.ring[i]) return decode(H.ring[i]);
                var c = centres[i];
                return H.tpl.map(function (t) { return [c[0] + t[0] / 1e5, c[1] + t[1] / 1e5]; });
            }
            var byId = {};
            cats.forEach(function (c, i) { byId[c.id] = i; });
            function pct(v) { return (v === null || v === undefined) ? '—' : (v / 10).toFixed(1) + '%'; }
            function style(code) {
                if (code === 'g') return { fillColor: D.gap, fillOpacity: 0.6, color: D.gapLine, weight: 2.4, opacity: 1 };
                if (code === 'n') return { fillColor: D.noPop, fillOpacity: 0.12, color: D.noPop, weight: 0.5, opacity: 0.35 };
                if (code === '-') return { fillColor: '#ffffff', fillOpacity: 0, color: '#bdbdbd', weight: 0.5, opacity: 0.5 };
                return { fillColor: D.pal[+code], fillOpacity: 0.75, color: '#ffffff', weight: 0.6, opacity: 0.9 };
            }
            function hexPopup(i) {
                var rows = '<tr><th>' + D.basis + '</th><td class="jlp-num">' + H.pop[i] + '</td></tr>';
                if (H.nodes) rows += '<tr><th>路网节点 nodes</th><td class="jlp-num">' + H.nodes[i] + '</td></tr>';
                var A = (useAfter && D.after) ? D.after : H, s = shares(A.cls[i], A.s[i]);
                cats.forEach(function (c, k) {
                    if (!c.ok) return;
                    rows += '<tr' + (k === cur ? ' class="jlp-cur"' : '') + '><th>' + c.short + '</th><td class="jlp-num">' +
                        pct(s[k]) + '</td></tr>';
                });
                return '<div class="jlp-popup"><b>H3 ' + hexId(i) + '</b><br><i>' + D.ruleShort +
                    (useAfter && D.after ? '；规划后 after the plan' : '') + '</i><table>' + rows + '</table></div>';
            }
            var hexes = H.id.map(function (id, i) {
                var layer = L.polygon(hexRing(i), { pane: 'jlpHex', className: 'jlp-hex' });
                layer.bindPopup(function () { return hexPopup(i); }, { maxWidth: 340, maxHeight: 380 });
                layer.bindTooltip(function () {
                    var s = shr(i, cur);
                    return cats[cur].short + '：' + (cls(i).charAt(cur) === 'n' ? '无人口 no population' : pct(s));
                }, { sticky: true });
                layer.addTo(G.hex);
                return layer;
            });
            function restyleHexes() {
                hexes.forEach(function (layer, i) {
                    var code = cls(i).charAt(cur);
                    layer.setStyle(style(code));
                    var el = layer.getElement();
                    if (el) {
                        el.classList.toggle('jlp-gap', code === 'g');
                        el.setAttribute('data-class', code);
                    }
                    if (code === 'g' && map.hasLayer(layer)) layer.bringToFront();
                });
            }
            var points = decode(D.svc.pt), offNet = {};
            D.svc.off.forEach(function (i) { offNet[i] = true; });
            function sources(i) {  // [head index, rest] -> head + ': ' + rest (both escaped in Python)
                return (D.svc.src[i] || []).map(function (p) {
                    return typeof p === 'string' ? p : D.svc.srcHead[p[0]] + ': ' + p[1];
                }).join('<br>');
            }
            function drawServices() {
                G.svc.clearLayers();
                var members = {};
                cats[cur].members.forEach(function (id) { members[byId[id]] = true; });
                var S = D.svc;
                for (var i = 0; i < S.k.length; i++) {
                    if (!members[S.k[i]]) continue;
                    var off = !!offNet[i], c = cats[S.k[i]];
                    var html = '<div class="jlp-popup"><b>' + (S.nm[i] || '未命名 unnamed') + '</b><table>' +
                        '<tr><th>类别 category</th><td>' + c.label + '</td></tr>' +
                        (off ? '<tr><th>路网 network</th><td>距步行网络过远，未计入 off network: not used</td></tr>' : '') +
                        '<tr><th>来源 sources</th><td>' + sources(i) + '</td></tr>' +
                        '</table></div>';
                    L.circleMarker(points[i], {
                        pane: 'jlpServices', radius: off ? 3.5 : 3, weight: off ? 1.5 : 1,
                        color: off ? '#737373' : '#ffffff', fillColor: off ? '#ffffff' : '#252525', fillOpacity: 0.95,
                        className: off ? 'jlp-svc jlp-svc-off' : 'jlp-svc'
                    }).bindPopup(html, { maxWidth: 320 }).addTo(G.svc);
                }
                if (!(useAfter && D.after)) return;
                var P = D.after.svc;
                for (var j = 0; j < P.k.length; j++) {
                    if (!members[P.k[j]]) continue;
                    L.circleMarker([P.xy[2 * j + 1], P.xy[2 * j]], {
                        pane: 'jlpServices', radius: 6, weight: 2, color: '#54278f', fillColor: '#bcbddc', fillOpacity: 0.9,
                        dashArray: '3 2', className: 'jlp-svc jlp-svc-plan'
                    }).bindPopup('<div class="jlp-popup"><b>' + P.nm[j] + '</b><table><tr><th>类别 category</th><td>' +
                        cats[P.k[j]].label + '</td></tr><tr><th>来源 sources</th><td>规划 plan (planned_facilities)</td></tr></table></div>',
                        { maxWidth: 320 }).addTo(G.svc);
                }
            }
            function drawIsochrone() {
                G.iso.clearLayers();
                var iso = D.iso[cats[cur].id];
                if (!iso) return;
                L.polygon(polygons(iso.r), { pane: 'jlpIso', interactive: false, className: 'jlp-iso',
                    color: '#08306b', weight: 1.6, dashArray: '5 4', fillColor: '#6baed6', fillOpacity: 0.12 }).addTo(G.iso);
            }
            var box = null;
            function updateLegend() {
                if (!box) return;
                var c = cats[cur];
                box.querySelector('.jlp-cov-title').innerHTML = c.label;
                box.querySelector('.jlp-cov-threshold').innerHTML = c.threshold;
                var gaps = 0, pop = 0;
                H.cls.forEach(function (s0, i) { var k = cls(i).charAt(cur); if (k === 'g') gaps++; if (k !== 'n' && k !== '-') pop++; });
                var whole = (useAfter && D.after) ? D.after.whole[cur] : c.whole;
                var stat = box.querySelector('.jlp-cov-stat');
                stat.setAttribute('data-gaps', String(gaps));
                stat.innerHTML = c.ok
                    ? '全域覆盖率 whole area' + (useAfter && D.after ? '（规划后 after the plan）' : '') + '：' +
                      (whole === null ? '—' : (whole * 100).toFixed(1) + '%') +
                      '<br>缺口六边形 gap hexes：' + gaps + ' / ' + pop + '<br>设施 services：' + c.n +
                      (D.iso[c.id] ? '<br>服务范围 service area：' + D.iso[c.id].t : '') +
                      (c.sparse ? '<br><span class="jlp-sparse">⚠ ' + c.sparse + '</span>' : '')
                    : '此标准下无覆盖率 no share under this rule';
                stat.setAttribute('data-sparse', c.sparse ? '1' : '0');
            }
            function setAfter(v) {
                useAfter = !!v && !!D.after;
                restyleHexes(); drawServices(); updateLegend();
                var chk = box && box.querySelector('#jlp-after');
                if (chk) chk.checked = useAfter;
                return useAfter;
            }
            function setCategory(id) {
                var i = byId[id];
                if (i === undefined || !cats[i].ok) return false;
                cur = i;
                restyleHexes(); drawServices(); drawIsochrone(); updateLegend();
                if (box) box.querySelector('select').value = id;
                return true;
            }
            var Legend = L.Control.extend({
                options: { position: 'bottomright' },
                onAdd: function () {
                    var div = L.DomUtil.create('div', 'leaflet-control jlp-box jlp-coverage jlp-legend');
                    div.innerHTML = D.legendHtml;
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    var sel = div.querySelector('select');
                    L.DomEvent.on(sel, 'change', function () { setCategory(sel.value); });
                    var chk = div.querySelector('#jlp-after');
                    if (chk) L.DomEvent.on(chk, 'change', function () { setAfter(chk.checked); });
                    return div;
                }
            });
            box = new Legend().addTo(map).getContainer();
            G.hex.on('add', restyleHexes);
            setCategory(cats[cur].id);
            function units(list, group, opts) {
                (list || []).forEach(function (u) {
                    L.polygon(polygons(u.r), L.extend({ pane: 'jlpUnits', fill: false, dashArray: D.townDash }, opts))
                        .bindPopup(u.p, { maxWidth: 360, maxHeight: 420 }).bindTooltip(u.t, { sticky: true }).addTo(group);
                });
            }
            if (G.town) units(D.town, G.town, { color: '#252525', weight: 2, className: 'jlp-town' });
            if (G.cluster) units(D.cluster, G.cluster, { color: '#6a3d9a', weight: 3.5, opacity: 0.85, className: 'jlp-cluster' });
            return { map: map, hexes: hexes, categories: cats.map(function (c) { return c.id; }), decode: decode,
                     setCategory: setCategory, current: function () { return cats[cur].id; },
                     setAfter: setAfter, after: function () { return useAfter; } };
        })({{ this._parent.get_name() }}, {{ this.data_json }}, {
            hex: {{ this.hex.get_name() }}, svc: {{ this.svc.get_name() }}, iso: {{ this.iso.get_name() }},
            town: {{ this.town.get_name() if this.town else 'null' }}, cluster: {{ this.cluster.get_name() if this.cluster else 'null' }}
        });
        {% endmacro %}
        """
    )

    def render(self, **kwargs: Any) -> None:
        """Add the script to the page as it is: the data (megabytes) is never parsed as a template again.

        :class:`branca.element.MacroElement` wraps a macro's output in a new
        ``Element``, i.e. compiles it as a Jinja template a second time -- a lexer
        pass over all the embedded data; :class:`_Verbatim` inserts it unchanged.
        """
        script = self._template.module.__dict__["script"](self, kwargs)
        self.get_root().script.add_child(_Verbatim(script), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)

    def __init__(
        self,
        data: dict[str, Any],
        hex_group: folium.FeatureGroup,
        svc_group: folium.FeatureGroup,
        iso_group: folium.FeatureGroup,
        town_group: folium.FeatureGroup | None,
        cluster_group: folium.FeatureGroup | None,
    ) -> None:
        super().__init__()
        self._name = "CoverageRuntime"
        self.data_json = script_json(data)
        self.hex, self.svc, self.iso = hex_group, svc_group, iso_group
        self.town, self.cluster = town_group, cluster_group


class _Verbatim(Element):
    """A page fragment written as it is (not a template); a single trailing newline dropped, as Jinja does."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text.removesuffix("\n")


def _swatch(fill: str, outline: str, width: float = 1.0, opacity: float = 0.8) -> str:
    return (
        f'<span class="jlp-swatch" style="background:{fill};opacity:{opacity:.2f};'
        f'border:{width:g}px solid {outline}"></span>'
    )


def legend_html(cats: list[dict[str, Any]], default: int, basis: str, rule: str, after_label: str | None = None) -> str:
    """The legend box: category select, current threshold and statistics, colour classes, basis.

    Parameters
    ----------
    cats
        Menu entries (:func:`jlp_geo.viz.coverage_data.coverage_categories`).
    default
        Index of the category selected at start.
    basis
        Population basis label (escaped here).
    rule
        ``"time"`` or ``"dist"``.
    after_label
        Label of the before/after checkbox of the plan scenario (already escaped); None: no checkbox.

    Returns
    -------
    str
        HTML, every text escaped; the runtime fills in the ``jlp-cov-*`` spans.
    """
    options = []
    for i, c in enumerate(cats):
        attrs = f' value="{escape_text(c["id"])}"'
        if i == default:
            attrs += " selected"
        if not c["ok"]:
            attrs += " disabled"
        mark = " ⚠" if c.get("sparse") else ""  # likely data gap (completeness table)
        options.append(f"<option{attrs}>{escape_text(c['label'])}{mark}</option>")
    edges = (0.0,) + SHARE_BREAKS + (1.0,)
    rows = []
    for i, colour in enumerate(SHARE_COLOURS):
        lo, hi = edges[i] * 100, edges[i + 1] * 100
        if i == 0:
            text = f"&gt;0 – &lt;{hi:.0f}%"
        elif i == len(SHARE_COLOURS) - 1:
            text = f"≥{lo:.0f}%"
        else:
            text = f"{lo:.0f} – &lt;{hi:.0f}%"
        rows.append(f'<div class="jlp-legend-row jlp-class-row" data-class="{i}">{_swatch(colour, "#bbb")}{text}</div>')
    rows.append(
        f'<div class="jlp-legend-row" data-class="g">{_swatch(GAP_COLOUR, GAP_OUTLINE, 2.0, 0.9)}'
        "缺口：有人口但覆盖率 0% gap: people, none covered</div>"
    )
    rows.append(
        f'<div class="jlp-legend-row" data-class="n">{_swatch(NO_POPULATION_COLOUR, NO_POPULATION_COLOUR, 1.0, 0.3)}'
        "无人口 no population</div>"
    )
    rule_short = "时间标准 time rule" if rule == "time" else "距离标准 distance rule"
    return (
        '<label for="jlp-category">服务类别 Service category</label>'
        f'<select id="jlp-category">{"".join(options)}</select>'
        '<div class="jlp-cov-head"><span class="jlp-cov-title"></span><br>'
        f'<span class="jlp-en">{escape_text(rule_short)}：<span class="jlp-cov-threshold"></span></span></div>'
        '<div class="jlp-cov-stat"></div>'
        + (f'<label class="jlp-after"><input type="checkbox" id="jlp-after"> {after_label}</label>' if after_label else "")
        + '<details open><summary>图例 覆盖率 Legend: share covered</summary>'
        + "".join(rows)
        + "</details>"
        + f'<div class="jlp-cov-basis">口径 basis：{escape_text(basis)}</div>'
    )
