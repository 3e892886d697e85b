"""The 15-minute coverage map (15分钟生活圈覆盖图): one offline page per analysis.

:func:`write_coverage_map` draws a :class:`jlp_geo.life_circle.CoverageResult`:

* a **choropleth on the H3 hexes** of the share of population covered, for one
  service category at a time -- a select box (``#jlp-category``) picks the
  category, 全部基本服务 (``basic_all``) first and shown at start.  The colour
  scale is fixed and binned (:data:`SHARE_BREAKS`, :data:`SHARE_COLOURS`), the
  same for every category, so maps can be compared;
* **gaps** -- hexes with population but 0 % covered -- in red with a thick
  outline; hexes without population faint grey;
* 镇街 and 组团 **outlines** with a popup table of their shares per category
  (time and distance rule), dashed and labelled 示意 when the 镇街 are
  approximate (``coverage_note``);
* the **services** of the selected category as small points (off-network ones
  hollow) and its **service area** (isochrone), both toggleable;
* a legend (with the whole-area share and the number of gap hexes of the
  selected category) and a collapsible method box: population basis, speed,
  DEM, rule, sources, the analysis notes.

The page follows the atlas rules (:mod:`jlp_geo.viz.atlas`): every script
inline (:func:`render_offline`), no basemap at start (OpenStreetMap / 天地图 on
demand), every text from the data escaped with :func:`escape_text` (OSM names
are hostile input), coordinates rounded to 5 decimals and only the shown
numbers embedded (hex data as parallel arrays, shares in per mille).

The colour class of every hex and category is computed here, in Python
(:func:`share_class`); the page only looks the colour up.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
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
from ..errors import InputDataError
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
)
from .escape import escape_text, script_json
from .offline import render_offline, save_map

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.accessibility import CoverageResult

__all__ = [
    "BASIC_ALL",
    "GAP_COLOUR",
    "GAP_OUTLINE",
    "NO_POPULATION_COLOUR",
    "SHARE_BREAKS",
    "SHARE_COLOURS",
    "write_coverage_map",
    "coverage_map",
    "share_class",
]

DEFAULT_TITLE = "15分钟生活圈覆盖 15-minute service coverage"
COORD_DECIMALS = 5
BASIC_ALL = "basic_all"
BASIC_ALL_LABEL = "全部基本服务 All basic services"
#: Upper-exclusive class breaks of the covered share (fractions): class i holds
#: ``SHARE_BREAKS[i-1] <= share < SHARE_BREAKS[i]``; the last class is ``>= 0.9`` (90–100 %).
SHARE_BREAKS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 0.9)
#: Sequential colours of the classes (ColorBrewer YlGnBu, 6 classes), low to high.
SHARE_COLOURS: tuple[str, ...] = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
#: Gap hexes (population > 0, share == 0): fill and outline.
GAP_COLOUR = "#fb6a4a"
GAP_OUTLINE = "#a50f15"
#: Hexes without population.
NO_POPULATION_COLOUR = "#9e9e9e"
RULE_TEXT = {
    "time": "时间标准：步行时间 ≤ 该类别生活圈层级（5/10/15 分钟） time rule: walking time ≤ the category's level (5/10/15 min)",
    "dist": "距离标准：路网步行距离 ≤ 该类别服务半径 distance rule: network distance ≤ the category's service radius",
}

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
"""


# ---------------------------------------------------------------- numbers


def share_class(share: float, population: float) -> str:
    """Colour class of one hex for one category.

    Parameters
    ----------
    share
        Covered share of the hex's population, 0..1 (NaN where undefined).
    population
        Population (or node weight) of the hex.

    Returns
    -------
    str
        ``"n"`` no population (or undefined share), ``"g"`` gap (population
        > 0 and share == 0), otherwise the class index ``"0"`` ..
        ``"5"`` into :data:`SHARE_COLOURS` (binned by :data:`SHARE_BREAKS`).

    Examples
    --------
    >>> [share_class(s, 10) for s in (0.0, 0.05, 0.2, 0.899, 0.9, 1.0)]
    ['g', '0', '1', '4', '5', '5']
    >>> share_class(float("nan"), 0)
    'n'
    """
    if not (population > 0) or share is None or not math.isfinite(share):
        return "n"
    if share <= 0:
        return "g"
    return str(int(np.searchsorted(SHARE_BREAKS, share, side="right")))


def _share_code_column(shares: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Vectorised :func:`share_class` (same result, one character per hex)."""
    idx = np.searchsorted(np.asarray(SHARE_BREAKS), np.nan_to_num(shares, nan=-1.0), side="right").astype(str)
    out = np.where(shares <= 0, "g", idx)
    return np.where((population > 0) & np.isfinite(shares), out, "n")


def _permille(values: np.ndarray) -> list[int | None]:
    return [None if not math.isfinite(v) else round(v * 1000) for v in values.astype(float)]


def _pct(value: object) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    return "—" if not math.isfinite(v) else f"{v * 100:.1f}%"


def _encode_ring(coords: np.ndarray) -> str:
    """Encode ``(lon, lat)`` vertices as a Google encoded polyline (precision 5, ``lat,lng`` order).

    Coordinates are rounded to 5 decimals (about 1 m) and delta-coded, so a
    vertex costs 4-8 characters instead of about 20 in JSON.  The page decodes
    it with ``decode`` in the runtime (also exposed as ``jlpCoverage.decode``).
    """
    ints = np.round(np.asarray(coords, dtype=float)[:, ::-1] * 10**COORD_DECIMALS).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for v in np.where(deltas < 0, ~(deltas << 1), deltas << 1).tolist():
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def _encode_polygons(geom: shapely.Geometry) -> list[list[str]]:
    """``[[outer, hole, ...], ...]`` encoded rings of a (Multi)Polygon, closing vertex dropped."""
    polys = list(getattr(geom, "geoms", [geom]))
    out = []
    for poly in polys:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [poly.exterior, *poly.interiors]
        out.append([_encode_ring(np.asarray(r.coords)[:-1, :2]) for r in rings])
    return out


def _drop_small_holes(geom: shapely.Geometry, min_area: float) -> shapely.Geometry:
    """Remove holes smaller than *min_area* (units of the CRS, m²) from a (Multi)Polygon."""
    if min_area <= 0 or geom is None or geom.is_empty:
        return geom
    polys = [
        shapely.Polygon(p.exterior, [h for h in p.interiors if shapely.Polygon(h).area >= min_area])
        for p in getattr(geom, "geoms", [geom])
        if p.geom_type == "Polygon"
    ]
    return shapely.MultiPolygon(polys) if len(polys) != 1 else polys[0]


# ---------------------------------------------------------------- categories


def _categories(result: CoverageResult, rule: str) -> list[dict[str, Any]]:
    """Menu entries: basic_all first, then the analysis categories in table order."""
    hexes = result.by_hex
    svc = result.services
    included = svc["included"].to_numpy(bool) if "included" in svc.columns else np.ones(len(svc), bool)
    counts = svc.loc[included, "category"].value_counts() if len(svc) else pd.Series(dtype=int)
    basic = [c for c in result.categories if c.basic]
    whole = result.whole_area.iloc[0] if len(result.whole_area) else pd.Series(dtype=float)
    unit = "分钟 min" if rule == "time" else "米 m"
    out = [
        {
            "id": BASIC_ALL,
            "label": BASIC_ALL_LABEL,
            "short": "全部基本服务",
            "threshold": "各基本类别均达标 every basic category within its threshold",
            "column": f"share_{rule}_{BASIC_ALL}",
            "members": [c.id for c in basic],
            "n_services": int(sum(int(counts.get(c.id, 0)) for c in basic)),
        }
    ]
    for c in result.categories:
        limit = c.level_min if rule == "time" else c.radius_m
        out.append(
            {
                "id": c.id,
                "label": f"{c.name_zh} {c.name_en}",
                "short": c.name_zh,
                "threshold": "无服务半径，仅报告距离 no radius: distances only"
                if limit is None
                else f"≤ {float(limit):g} {unit}",
                "column": f"share_{rule}_{c.id}",
                "members": [c.id],
                "n_services": int(counts.get(c.id, 0)),
            }
        )
    for entry in out:
        entry["ok"] = entry["column"] in hexes.columns
        entry["whole"] = float(whole[entry["column"]]) if entry["column"] in whole.index else float("nan")
    return out


# ---------------------------------------------------------------- layers


def _hex_data(result: CoverageResult, cats: list[dict[str, Any]]) -> tuple[dict[str, Any], tuple[float, float, float, float]]:
    hexes = result.by_hex
    shown = to_display(hexes[[hexes.geometry.name]])
    pop = hexes["population"].to_numpy(float) if "population" in hexes.columns else np.zeros(len(hexes))
    pop = np.nan_to_num(pop, nan=0.0)
    codes, shares = [], []
    for cat in cats:
        if cat["ok"]:
            s = hexes[cat["column"]].to_numpy(float)
            codes.append(_share_code_column(s, pop))
            shares.append(s)
        else:
            codes.append(np.full(len(hexes), "-"))
            shares.append(np.full(len(hexes), np.nan))
    code_rows = ["".join(chars) for chars in zip(*codes)] if len(hexes) else []
    share_rows = [_permille(np.array(row)) for row in zip(*shares)] if len(hexes) else []
    rings = []
    for geom in shown.geometry:
        poly = geom if geom.geom_type == "Polygon" else max(geom.geoms, key=lambda g: g.area)
        rings.append(_encode_ring(np.asarray(poly.exterior.coords)[:-1, :2]))
    ids = hexes["h3_cell"].astype(str).map(escape_text).tolist() if "h3_cell" in hexes.columns else [""] * len(hexes)
    nodes = hexes["n_nodes"].fillna(0).astype(int).tolist() if "n_nodes" in hexes.columns else None
    data = {
        "id": ids,
        "ring": rings,
        "pop": [round(float(p), 1) for p in pop],
        "cls": code_rows,
        "s": share_rows,
    }
    if nodes is not None:
        data["nodes"] = nodes
    bounds = tuple(float(v) for v in shown.total_bounds) if len(shown) else (np.nan,) * 4
    return data, bounds  # type: ignore[return-value]


def _service_data(result: CoverageResult, cats: list[dict[str, Any]], analysis_crs: object) -> dict[str, Any]:
    svc = result.services
    index = {c["id"]: i for i, c in enumerate(cats)}
    if len(svc) == 0:
        return {"k": [], "xy": [], "off": [], "nm": []}
    keep = np.array(svc["included"], dtype=bool) if "included" in svc.columns else np.ones(len(svc), bool)
    keep &= svc["category"].isin(list(index)).to_numpy() & ~(svc.geometry.isna() | svc.geometry.is_empty).to_numpy()
    svc = svc[keep]
    if len(svc) == 0:
        return {"k": [], "xy": [], "off": [], "nm": []}
    metric = to_analysis(svc[["category", svc.geometry.name]], analysis_crs)
    points = metric.set_geometry(metric.geometry.representative_point())
    shown = to_display(points)
    names = []
    for col in ("name", "name_zh"):
        if col in svc.columns:
            names.append(svc[col])
    name = names[0] if names else pd.Series([""] * len(svc), index=svc.index)
    for alt in names[1:]:
        name = name.where(name.fillna("").astype(str).str.strip() != "", alt)
    off = svc["off_network"].fillna(False).to_numpy(bool) if "off_network" in svc.columns else np.zeros(len(svc), bool)
    return {
        "k": [index[c] for c in svc["category"]],
        "xy": [float(v) for v in np.round(np.column_stack([shown.geometry.x, shown.geometry.y]), COORD_DECIMALS).ravel()],
        "off": [int(v) for v in off],
        "nm": [escape_text(v) for v in name],
    }


def _isochrone_data(
    result: CoverageResult, cats: list[dict[str, Any]], analysis_crs: object, simplify_m: float, min_hole_m2: float
) -> dict[str, Any]:
    """Service area of each category: ``{id: {"r": encoded polygons, "t": escaped caption}}``."""
    iso = result.isochrones
    if iso is None or len(iso) == 0 or "category" not in iso.columns:
        return {}
    iso = iso[~(iso.geometry.isna() | iso.geometry.is_empty)]
    ids = {c["id"] for c in cats}
    iso = iso[iso["category"].isin(ids)]
    if len(iso) == 0:
        return {}
    metric = to_analysis(iso[["category", iso.geometry.name]], analysis_crs)
    geoms = [_drop_small_holes(g, min_hole_m2) for g in metric.geometry]
    metric = metric.set_geometry(gpd.GeoSeries(geoms, index=metric.index, crs=metric.crs))
    if simplify_m > 0:
        metric = metric.set_geometry(metric.geometry.simplify(simplify_m, preserve_topology=True))
    shown = to_display(metric)
    out: dict[str, Any] = {}
    for cat, geom, minutes, area in zip(
        shown["category"],
        shown.geometry,
        iso["minutes"] if "minutes" in iso.columns else [None] * len(iso),
        iso["area_km2"] if "area_km2" in iso.columns else [None] * len(iso),
    ):
        out[str(cat)] = {
            "r": _encode_polygons(geom),
            "t": escape_text(
                f"{minutes}分钟服务范围 {minutes}-minute service area"
                + (f"（{float(area):.2f} 平方公里 km²）" if area is not None and math.isfinite(float(area)) else "")
            ),
        }
    return out


def _is_approximate(units: gpd.GeoDataFrame) -> bool:
    note = units["coverage_note"].astype(str) if "coverage_note" in units.columns else pd.Series([], dtype=str)
    rough = units["precision"].astype(str).ne("surveyed") if "precision" in units.columns else pd.Series([], dtype=bool)
    return bool(note.str.contains("示意").any() or rough.any())


def _unit_popup(row: Mapping[str, Any], cats: list[dict[str, Any]], rule: str, basis: str, approximate: bool) -> str:
    title = escape_text(row.get("name_zh"))
    sub = escape_text(row.get("name_en"))
    head = f'<div class="jlp-popup"><b>{title}</b>' + (f"<br><i>{sub}</i>" if sub and sub != title else "")
    if approximate:
        head += '<br><span class="jlp-legend-note">示意边界 approximate boundary</span>'
    pop = row.get("population")
    rows = [f'<tr><th>{escape_text(basis)}</th><td class="jlp-num" colspan="2">{_fmt_pop(pop)}</td></tr>']
    heads = [("time", "时间 time"), ("dist", "距离 dist")]
    rows.append(
        "<tr><th></th>"
        + "".join(f'<th class="jlp-col">{"<b>" + h + "</b>" if r == rule else h}</th>' for r, h in heads)
        + "</tr>"
    )
    for cat in cats:
        t = row.get(f"share_time_{cat['id']}")
        d = row.get(f"share_dist_{cat['id']}")
        rows.append(
            f"<tr><th>{escape_text(cat['short'])}</th>"
            f'<td class="jlp-num">{_pct(t)}</td><td class="jlp-num">{_pct(d)}</td></tr>'
        )
    note = escape_text(row.get("coverage_note"))
    tail = f'<div class="jlp-legend-note">{note}</div>' if note else ""
    return head + "<table>" + "".join(rows) + "</table>" + tail + "</div>"


def _fmt_pop(value: object) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def _unit_data(
    units: gpd.GeoDataFrame | None,
    cats: list[dict[str, Any]],
    rule: str,
    basis: str,
    analysis_crs: object,
    simplify_m: float,
) -> tuple[list[dict[str, Any]] | None, bool]:
    """镇街/组团 outlines: ``[{"r": encoded polygons, "p": popup HTML, "t": tooltip}]`` and whether approximate."""
    if units is None or len(units) == 0:
        return None, False
    approximate = _is_approximate(units)
    placed = units[~(units.geometry.isna() | units.geometry.is_empty)]
    if len(placed) == 0:
        return None, approximate
    metric = to_analysis(placed, analysis_crs)
    if simplify_m > 0:
        metric = metric.set_geometry(metric.geometry.simplify(simplify_m, preserve_topology=True))
    shown = to_display(metric)
    features = [
        {"r": _encode_polygons(geom), "p": _unit_popup(row, cats, rule, basis, approximate), "t": escape_text(row.get("name_zh"))}
        for (_, row), geom in zip(placed.iterrows(), shown.geometry)
    ]
    return features, approximate


# ---------------------------------------------------------------- page elements



class _CoverageRuntime(MacroElement):
    """The page's coverage logic: hexes, category switch, services, isochrones, units, legend."""

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
            var cats = D.cats, H = D.hex, cur = D.def;
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
                cats.forEach(function (c, k) {
                    if (!c.ok) return;
                    rows += '<tr' + (k === cur ? ' class="jlp-cur"' : '') + '><th>' + c.short + '</th><td class="jlp-num">' +
                        pct(H.s[i][k]) + '</td></tr>';
                });
                return '<div class="jlp-popup"><b>H3 ' + H.id[i] + '</b><br><i>' + D.ruleShort + '</i><table>' + rows + '</table></div>';
            }
            var hexes = H.ring.map(function (r, i) {
                var layer = L.polygon(decode(r), { pane: 'jlpHex', className: 'jlp-hex' });
                layer.bindPopup(function () { return hexPopup(i); }, { maxWidth: 340, maxHeight: 380 });
                layer.bindTooltip(function () {
                    var s = H.s[i][cur];
                    return cats[cur].short + '：' + (H.cls[i].charAt(cur) === 'n' ? '无人口 no population' : pct(s));
                }, { sticky: true });
                layer.addTo(G.hex);
                return layer;
            });
            function restyleHexes() {
                hexes.forEach(function (layer, i) {
                    var code = H.cls[i].charAt(cur);
                    layer.setStyle(style(code));
                    var el = layer.getElement();
                    if (el) {
                        el.classList.toggle('jlp-gap', code === 'g');
                        el.setAttribute('data-class', code);
                    }
                    if (code === 'g' && map.hasLayer(layer)) layer.bringToFront();
                });
            }
            function drawServices() {
                G.svc.clearLayers();
                var members = {};
                cats[cur].members.forEach(function (id) { members[byId[id]] = true; });
                var S = D.svc;
                for (var i = 0; i < S.k.length; i++) {
                    if (!members[S.k[i]]) continue;
                    var off = S.off[i] === 1, c = cats[S.k[i]];
                    var html = '<div class="jlp-popup"><b>' + (S.nm[i] || '未命名 unnamed') + '</b><table>' +
                        '<tr><th>类别 category</th><td>' + c.label + '</td></tr>' +
                        (off ? '<tr><th>路网 network</th><td>距步行网络过远，未计入 off network: not used</td></tr>' : '') +
                        '</table></div>';
                    L.circleMarker([S.xy[2 * i + 1], S.xy[2 * i]], {
                        pane: 'jlpServices', radius: off ? 3.5 : 3, weight: off ? 1.5 : 1,
                        color: off ? '#737373' : '#ffffff', fillColor: off ? '#ffffff' : '#252525', fillOpacity: 0.95,
                        className: off ? 'jlp-svc jlp-svc-off' : 'jlp-svc'
                    }).bindPopup(html, { maxWidth: 320 }).addTo(G.svc);
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
                H.cls.forEach(function (s) { var k = s.charAt(cur); if (k === 'g') gaps++; if (k !== 'n' && k !== '-') pop++; });
                var stat = box.querySelector('.jlp-cov-stat');
                stat.setAttribute('data-gaps', String(gaps));
                stat.innerHTML = c.ok
                    ? '全域覆盖率 whole area：' + (c.whole === null ? '—' : (c.whole * 100).toFixed(1) + '%') +
                      '<br>缺口六边形 gap hexes：' + gaps + ' / ' + pop + '<br>设施 services：' + c.n +
                      (D.iso[c.id] ? '<br>服务范围 service area：' + D.iso[c.id].t : '')
                    : '此标准下无覆盖率 no share under this rule';
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
                     setCategory: setCategory, current: function () { return cats[cur].id; } };
        })({{ this._parent.get_name() }}, {{ this.data_json }}, {
            hex: {{ this.hex.get_name() }}, svc: {{ this.svc.get_name() }}, iso: {{ this.iso.get_name() }},
            town: {{ this.town.get_name() if this.town else 'null' }}, cluster: {{ this.cluster.get_name() if this.cluster else 'null' }}
        });
        {% endmacro %}
        """
    )

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


def _swatch(fill: str, outline: str, width: float = 1.0, opacity: float = 0.8) -> str:
    return (
        f'<span class="jlp-swatch" style="background:{fill};opacity:{opacity:.2f};'
        f'border:{width:g}px solid {outline}"></span>'
    )


def _legend_html(cats: list[dict[str, Any]], default: int, basis: str, rule: str) -> str:
    options = []
    for i, c in enumerate(cats):
        attrs = f' value="{escape_text(c["id"])}"'
        if i == default:
            attrs += " selected"
        if not c["ok"]:
            attrs += " disabled"
        options.append(f"<option{attrs}>{escape_text(c['label'])}</option>")
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
        '<details open><summary>图例 覆盖率 Legend: share covered</summary>'
        + "".join(rows)
        + "</details>"
        + f'<div class="jlp-cov-basis">口径 basis：{escape_text(basis)}</div>'
    )


def _method_notes(result: CoverageResult, rule: str, cats: list[dict[str, Any]], tianditu: bool) -> list[str]:
    prov = {str(k): str(v) for k, v in (result.provenance or {}).items()}
    speed = prov.get("speed_m_per_min", "")
    dem = prov.get("dem", "")
    flat = not dem or dem.startswith("none")
    basic_names = "、".join(
        f"{c.name_zh}" for c in result.categories if c.basic
    )
    notes = [
        f"人口口径 Population basis：{result.population.label}",
        f"步行速度 Walking speed：{speed} 米/分钟 m/min" + ("（平地）on level ground" if speed else ""),
        "高程 DEM：未使用，时间不计坡度 none, times ignore slopes"
        if flat
        else f"高程 DEM：{dem}（Tobler 坡度修正 hill-aware times）",
        "标准 Rule：" + RULE_TEXT[rule],
        f"全部基本服务 All basic services = 同时满足 every one of：{basic_names}",
        (
            "覆盖率 = 六边形内被覆盖人口 / 六边形人口；缺口 = 有人口但覆盖率为 0 "
            "share = covered population / population of the hex; gap = population > 0 and share 0"
        ),
        "色阶固定，所有类别相同 fixed colour scale, the same for every category: "
        + "、".join(f"{b * 100:.0f}%" for b in SHARE_BREAKS),
    ]
    notes += [f"来源 Source（{k}）：{v}" for k, v in prov.items()]
    notes += [str(n) for n in (result.notes or [])]
    no_share = [c["label"] for c in cats if not c["ok"]]
    if no_share:
        notes.append("此标准下无覆盖率（无服务半径）no share under this rule: " + "、".join(no_share))
    notes.append(
        "默认无底图，离线可用；OpenStreetMap、天地图底图需联网 "
        "No basemap by default (works offline); OpenStreetMap / Tianditu basemaps need internet."
        if tianditu
        else "默认无底图，离线可用；OpenStreetMap 底图需联网 "
        "No basemap by default (works offline); the OpenStreetMap basemap needs internet."
    )
    notes.append("坐标 WGS84（与 CGCS2000 相差约 1 米内）Coordinates WGS84 (within ~1 m of CGCS2000).")
    return notes


def _analysis_crs(result: CoverageResult) -> object:
    network = getattr(result, "network", None)
    crs = getattr(network, "crs", None)
    if crs is None and result.services is not None and result.services.crs is not None and result.services.crs.is_projected:
        crs = result.services.crs
    return crs  # None: settings default


def coverage_map(
    result: CoverageResult,
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    rule: str = "time",
    simplify_m: float = 10.0,
    min_hole_m2: float = 1000.0,
) -> folium.Map:
    """Build the coverage map as a :class:`folium.Map` (see :func:`write_coverage_map`)."""
    if rule not in RULE_TEXT:
        raise InputDataError(
            f"unknown coverage rule {rule!r}",
            where="jlp_geo.viz.write_coverage_map(rule=...)",
            fix="use rule='time' (walking minutes) or rule='dist' (network metres)",
        )
    crs = _analysis_crs(result)
    cats = _categories(result, rule)
    default = 0 if cats[0]["ok"] else next((i for i, c in enumerate(cats) if c["ok"]), 0)
    unweighted = getattr(result.population, "method", "") == "unweighted"
    basis_short = "路网节点数 nodes" if unweighted else "人口 population"

    hex_data, bounds = _hex_data(result, cats)
    town, town_rough = _unit_data(result.by_township, cats, rule, basis_short, crs, simplify_m)
    cluster, cluster_rough = _unit_data(result.by_cluster, cats, rule, basis_short, crs, simplify_m)

    m = folium.Map(tiles=None, location=None, zoom_control=True, maxZoom=19, minZoom=3)
    m.get_root().title = escape_text(title)
    add_page_style(m)
    m.get_root().header.add_child(Element(f"<style>{COVERAGE_CSS}</style>"), name="jlp_coverage_css")
    base_layers = add_basemaps(m, tianditu_token)

    fg_hex = folium.FeatureGroup(name="hex", control=False, show=True).add_to(m)
    fg_iso = folium.FeatureGroup(name="iso", control=False, show=False).add_to(m)
    fg_town = folium.FeatureGroup(name="town", control=False, show=True).add_to(m) if town else None
    fg_cluster = folium.FeatureGroup(name="cluster", control=False, show=True).add_to(m) if cluster else None
    fg_svc = folium.FeatureGroup(name="svc", control=False, show=True).add_to(m)

    data = {
        "cats": [
            {
                "id": escape_text(c["id"]),
                "label": escape_text(c["label"]),
                "short": escape_text(c["short"]),
                "threshold": escape_text(c["threshold"]),
                "members": [escape_text(x) for x in c["members"]],
                "ok": bool(c["ok"]),
                "whole": None if not math.isfinite(c["whole"]) else round(c["whole"], 4),
                "n": c["n_services"],
            }
            for c in cats
        ],
        "def": default,
        "pal": list(SHARE_COLOURS),
        "gap": GAP_COLOUR,
        "gapLine": GAP_OUTLINE,
        "noPop": NO_POPULATION_COLOUR,
        "basis": escape_text(basis_short),
        "ruleShort": escape_text("时间标准 time rule" if rule == "time" else "距离标准 distance rule"),
        "hex": hex_data,
        "svc": _service_data(result, cats, crs),
        "iso": _isochrone_data(result, cats, crs, simplify_m, min_hole_m2),
        "town": town,
        "cluster": cluster,
        "townDash": "6 4" if (town_rough or cluster_rough) else None,
        "legendHtml": _legend_html(cats, default, result.population.label, rule),
    }
    _CoverageRuntime(data, fg_hex, fg_svc, fg_iso, fg_town, fg_cluster).add_to(m)

    suffix = "（示意）" if town_rough else ""
    coverage_items = [
        ('覆盖率六边形 <span class="jlp-en">coverage hexes</span>', fg_hex),
        ('服务设施（当前类别） <span class="jlp-en">services, selected category</span>', fg_svc),
        ('服务范围（当前类别） <span class="jlp-en">service area, selected category</span>', fg_iso),
    ]
    unit_items = []
    if fg_town is not None:
        unit_items.append((f'镇街{suffix} <span class="jlp-en">townships</span>', fg_town))
    if fg_cluster is not None:
        unit_items.append((f'组团{"（示意）" if cluster_rough else ""} <span class="jlp-en">clusters</span>', fg_cluster))
    groups = {"覆盖分析 Coverage": coverage_items}
    if unit_items:
        groups["统计单元 Units"] = unit_items
    GroupedLayers(base_layers, groups, collapsed=False, position="topright").add_to(m)

    folium.plugins.Fullscreen(position="topleft", title="全屏 Fullscreen", title_cancel="退出全屏 Exit fullscreen").add_to(m)
    MeasureControl(position="topleft").add_to(m)
    MetricScale(position="bottomleft").add_to(m)
    TitleBox(title).add_to(m)
    tianditu = any(label == BASEMAP_TIANDITU for label, _ in base_layers)
    HtmlBox(
        notes_html(_method_notes(result, rule, cats, tianditu), title="方法与说明 Method & notes"),
        position="bottomleft",
        css_class="jlp-notes",
    ).add_to(m)

    if all(math.isfinite(v) for v in bounds):
        west, south, east, north = bounds
        m.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=16)
    return m


def write_coverage_map(
    result: CoverageResult,
    path: str | os.PathLike[str],
    *,
    title: str = DEFAULT_TITLE,
    tianditu_token: str | None = None,
    rule: str = "time",
    simplify_m: float = 10.0,
    min_hole_m2: float = 1000.0,
) -> Path:
    """Write the 15-minute coverage map of *result* as one self-contained HTML page.

    Parameters
    ----------
    result
        Output of :func:`jlp_geo.life_circle.analyse_coverage`.
    path
        Output ``.html`` file (written atomically).
    title
        Page and map title.
    tianditu_token
        Tianditu key; adds the 天地图 basemap when given.
    rule
        ``"time"`` (walking minutes ≤ the category's level) or ``"dist"``
        (network metres ≤ the category's radius; categories without a radius
        are listed but cannot be selected).
    simplify_m
        Douglas-Peucker tolerance in metres for 镇街/组团 outlines and service
        areas (H3 hexes are drawn exactly).
    min_hole_m2
        Holes smaller than this (m²) are filled in the drawn service areas: the
        25 m street corridors leave many tiny holes that cost size and show
        nothing.  The figures (coverage shares, ``area_km2``) are not affected.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputDataError
        If *rule* is not ``"time"`` or ``"dist"``.
    OutputError
        If the page cannot be written.
    """
    m = coverage_map(
        result, title=title, tianditu_token=tianditu_token, rule=rule, simplify_m=simplify_m, min_hole_m2=min_hole_m2
    )
    html = render_offline(m).replace("<html>", '<html lang="zh-CN">', 1)
    return save_map(html, path)
