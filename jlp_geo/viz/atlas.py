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
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template

from ..crs import require_crs, to_analysis, to_display
from ..layers.common import PRECISION_ZH
from ..styles import LayerStyle, style_for
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

__all__ = ["CATEGORY_ZH", "DEFAULT_FIELDS", "FIELD_LABELS", "HIDDEN_COLUMNS", "atlas_map", "write_atlas"]

DEFAULT_TITLE = "九龙坡区规划图集 Jiulongpo planning atlas"
COORD_DECIMALS = 5
#: Columns never shown in popups (positions are the geometry; checks are for QA tables;
#: labels and flags repeat the name and the precision row).
HIDDEN_COLUMNS = frozenset(
    {
        "lon_wgs84", "lat_wgs84", "lon", "lat", "x", "y", "source_crs", "polygon_check",
        "dist_to_district_boundary_m", "label_zh", "label_en", "is_schematic", "label_offset_m",
    }
)
#: Popup columns of the project's layers, in display order (columns a layer lacks are skipped;
#: a layer with none of them shows all its columns).  Other layers show all their columns.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "district": ("code", "area_km2", "official_area_km2", "area_diff_pct", "note"),
    "townships": ("administered_by", "cluster", "area_km2_official", "area_km2", "method", "code", "note"),
    "clusters": ("function", "members", "membership_status", "membership_note", "area_km2", "area_km2_official_sum"),
    "parks": ("kind", "plan_clause", "definition", "town_or_street", "area_stated", "location_status", "coord_method"),
    "waste_facilities": (
        "kind", "plan_status", "capacity_text", "land_area_ha", "fill_volume_text", "town", "site_text",
        "construction_period", "conflict_note", "plan_clauses", "location_status", "coord_method",
    ),
    "transport_projects": (
        "plan_item", "name_in_plan", "mode", "status", "status_date", "length_km", "jiulongpo_relevance", "line_note",
    ),
    "urban_rail_existing": ("mode", "status", "status_date", "chord_km_in_jiulongpo", "stations_in_jiulongpo", "line_note"),
}
#: Popup labels of known attribute columns (Chinese first).
FIELD_LABELS: dict[str, str] = {
    "id": "编号 ID",
    "kind": "类型 kind",
    "role": "作用 role",
    "status": "状态 status",
    "status_date": "状态日期 status date",
    "plan_status": "规划状态 plan status",
    "capacity": "规模 capacity",
    "capacity_text": "规模 capacity",
    "fill_volume_text": "填方量 fill volume",
    "land_area_ha": "用地（公顷）land (ha)",
    "area_ha": "面积（公顷）area (ha)",
    "area_km2": "面积（平方公里）area (km²)",
    "area_km2_official": "官方面积（平方公里）official area (km²)",
    "official_area_km2": "官方面积（平方公里）official area (km²)",
    "area_km2_official_sum": "官方面积合计（平方公里）official area sum (km²)",
    "area_diff_pct": "面积差（%）area difference (%)",
    "area_stated": "规划面积 stated area",
    "town": "所在镇街 town",
    "town_or_street": "所在镇街 town",
    "site_text": "选址描述 site (plan text)",
    "construction_period": "建设时序 construction period",
    "conflict_note": "规划矛盾 plan conflict",
    "plan_clause": "规划条款 plan clause",
    "plan_clauses": "规划条款 plan clauses",
    "definition": "释义 definition",
    "members": "组成镇街 members",
    "membership_status": "组成依据 membership",
    "membership_note": "组成说明 membership note",
    "function": "功能定位 function",
    "cluster": "组团 cluster",
    "administered_by": "管理主体 administered by",
    "method": "绘制方法 method",
    "code": "区划代码 code",
    "stat_code_12": "统计代码 statistical code",
    "mode": "交通方式 mode",
    "length_km": "长度（公里）length (km)",
    "plan_item": "规划条目 plan item",
    "name_in_plan": "规划原文名称 name in the plan",
    "jiulongpo_relevance": "与九龙坡关系 relevance",
    "chord_km_in_jiulongpo": "区内长度（公里，直线段）km in district (chords)",
    "stations_in_jiulongpo": "区内车站 stations in district",
    "line_note": "线位说明 alignment note",
    "location_status": "定位状态 location status",
    "coord_method": "定位方法 positioning method",
    "evidence": "依据 evidence",
    "note": "备注 note",
    "notes": "备注 notes",
    "pop_census_2020": "常住人口（2020普查）population 2020",
    "seat_address": "驻地 seat",
}
#: Chinese display names of category values used in ``layers/styles.yml``.
CATEGORY_ZH: dict[str, str] = {
    "district": "九龙坡区直管",
    "high_tech_zone": "重庆高新区直管",
    "sorting plant": "分选场",
    "spoil landfill": "渣土填埋场",
    "recycling plant": "资源化利用厂",
    "recycling base": "资源化利用基地",
    "existing park": "既有园区",
    "hsr": "高速铁路",
    "rail": "铁路",
    "freight": "货运铁路",
    "station": "车站",
    "port": "港口",
    "metro": "城市轨道",
    "expressway": "高速公路",
    "road": "道路",
    "bridge": "桥梁",
    "tunnel": "隧道",
    "trail": "步道",
}
_DEFAULT_DASH = "6 4"


def _category_label(value: object) -> str:
    text = str(value)
    zh = CATEGORY_ZH.get(text)
    return f"{zh} {text}" if zh else text


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def _fmt_value(v: Any) -> str | None:
    """Display text of an attribute value; None when there is nothing to show."""
    if _missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "是 yes" if v else "否 no"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isinf(f):
            return None
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else format(f, ".6g")
    text = str(v).strip()
    return text or None


@dataclass
class _Prepared:
    """One layer ready for the page."""

    name: str
    style: LayerStyle
    label: str  # escaped
    group: str  # escaped
    parts: dict[str, dict]  # "areas"/"lines"/"points" -> FeatureCollection
    styles: list[dict]
    n_total: int
    n_unplaced: int
    categories: list[tuple[str, str]] = field(default_factory=list)  # (escaped label, colour)
    kinds: set[str] = field(default_factory=set)
    not_surveyed: bool = False
    any_circle: bool = False
    bounds: tuple[float, float, float, float] | None = None


def _precision_suffix(precisions: Sequence[str]) -> str:
    vals = [p for p in precisions if isinstance(p, str)]
    rough = [p for p in vals if p != "surveyed"]
    if vals and len(rough) == len(vals):
        return "（示意）"
    if rough:
        return "（部分示意）"
    return ""


def _layer_label(style: LayerStyle, suffix: str) -> str:
    """Escaped Chinese title + 示意 suffix, English title in a small grey span."""
    zh, en = str(style.title_zh), str(style.title_en)
    label = escape_text(f"{zh}{suffix}")
    if en and en != zh:
        label += f' <span class="jlp-en">{escape_text(en)}</span>'
    return label


def _kind_of(geom_type: str) -> str:
    if "Polygon" in geom_type:
        return "areas"
    if "LineString" in geom_type:
        return "lines"
    return "points"


def _round_geom(geom: shapely.Geometry) -> dict:
    rounded = shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))
    return shapely.geometry.mapping(rounded)


def _popup_rows(row: Mapping[str, Any], columns: Sequence[str], category_field: str | None) -> list[tuple[str, str]]:
    precision = row.get("precision")
    if isinstance(precision, str) and precision in PRECISION_ZH:
        precision_text = f"{PRECISION_ZH[precision]} {precision}"
    else:
        precision_text = "未注明 not stated"
    unc = row.get("uncertainty_m")
    if _missing(unc):
        unc_text = "未估计 not estimated"
    else:
        unc_text = f"±{float(unc):,.0f} 米 m"
    rows = [
        ("来源 source", _fmt_value(row.get("source")) or "未注明 not stated"),
        ("精度 precision", precision_text),
        ("不确定性 uncertainty", unc_text),
    ]
    for col in columns:
        shown = _fmt_value(row.get(col))
        if shown is None:
            continue
        if col == category_field:
            shown = _category_label(shown)
        rows.append((FIELD_LABELS.get(col, col), shown))
    return rows


def _shown_columns(gdf: gpd.GeoDataFrame, name: str, wanted: Sequence[str] | None) -> list[str]:
    base = {"name_zh", "name_en", "source", "precision", "uncertainty_m", gdf.geometry.name}
    if wanted is not None:  # the caller's choice, exactly
        return [c for c in wanted if c in gdf.columns and c not in base]
    default = [c for c in DEFAULT_FIELDS.get(name, ()) if c in gdf.columns and c not in base]
    if default:
        return default
    return [c for c in gdf.columns if c not in base and c not in HIDDEN_COLUMNS and not str(c).startswith("_")]


def _prepare(
    name: str, gdf: gpd.GeoDataFrame, wanted: Sequence[str] | None, simplify_m: float
) -> _Prepared:
    require_crs(gdf, f"atlas layer {name!r}")
    style = style_for(name)
    geoms = gdf.geometry
    placed_mask = np.asarray(~(geoms.isna() | geoms.is_empty), dtype=bool)
    precisions = list(gdf["precision"]) if "precision" in gdf.columns else []
    prep = _Prepared(
        name=name,
        style=style,
        label=_layer_label(style, _precision_suffix(precisions)),
        group=escape_text(style.group),
        parts={},
        styles=[],
        n_total=len(gdf),
        n_unplaced=int((~placed_mask).sum()),
    )
    placed = gdf[placed_mask]
    if placed.empty:
        return prep

    # simplify in metres (analysis CRS), then display CRS -- the only route to EPSG:4326
    metric = to_analysis(placed)
    is_point = np.asarray(metric.geometry.geom_type.str.contains("Point"), dtype=bool)
    simplified = metric.geometry.copy()
    if simplify_m > 0 and (~is_point).any():
        simplified[~is_point] = metric.geometry[~is_point].simplify(simplify_m, preserve_topology=True)
    display = to_display(metric.set_geometry(simplified))
    prep.bounds = tuple(float(v) for v in display.total_bounds)

    columns = _shown_columns(gdf, name, wanted)
    cat_field = style.category_field if style.category_field in gdf.columns else None
    base_colour = safe_colour(style.colour)
    style_index: dict[tuple[str, str | None], int] = {}
    seen_categories: dict[str, str] = {}
    label_field = style.label_field if style.label_field in gdf.columns else "name_zh"

    for (_, row), geom in zip(display.iterrows(), display.geometry):
        precision = row.get("precision")
        rough = isinstance(precision, str) and precision != "surveyed"
        prep.not_surveyed |= rough
        colour = base_colour
        if cat_field is not None and not _missing(row.get(cat_field)):
            value = str(row[cat_field])
            colour = safe_colour(style.colour_of(value), base_colour)
            seen_categories.setdefault(value, colour)
        kind = _kind_of(geom.geom_type)
        prep.kinds.add(kind)
        dash = style.dash or (_DEFAULT_DASH if rough and kind != "points" else None)
        key = (colour, dash)
        if key not in style_index:
            style_index[key] = len(prep.styles)
            prep.styles.append(
                {"color": colour, "weight": float(style.width), "dash": dash, "fill": float(style.fill_opacity)}
            )
        unc = row.get("uncertainty_m")
        radius = float(unc) if (rough and kind == "points" and not _missing(unc) and float(unc) > 0) else 0.0
        prep.any_circle |= radius > 0
        rows = _popup_rows(row, columns, cat_field)
        if kind == "points" and geom.geom_type == "Point":
            rows.append(("坐标 WGS84 lon, lat", f"{geom.x:.{COORD_DECIMALS}f}, {geom.y:.{COORD_DECIMALS}f}"))
        props = {
            "k": style_index[key],
            "p": popup_html(row.get("name_zh"), rows, subtitle=row.get("name_en")),
            "t": escape_text(_fmt_value(row.get(label_field)) or _fmt_value(row.get("name_zh")) or ""),
            "r": round(radius, 1),
        }
        feature = {"type": "Feature", "geometry": _round_geom(geom), "properties": props}
        prep.parts.setdefault(kind, {"type": "FeatureCollection", "features": []})["features"].append(feature)

    if cat_field is not None:
        order = list(style.categories) + sorted(set(seen_categories) - set(style.categories))
        prep.categories = [
            (escape_text(_category_label(v)), seen_categories[v]) for v in order if v in seen_categories
        ]
    return prep


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


def _legend_entry(prep: _Prepared, elem_id: str) -> str:
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


def _unique_labels(preps: list[_Prepared]) -> None:
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
    """Build the atlas as a :class:`folium.Map` (see :func:`write_atlas`)."""
    preps = [_prepare(name, gdf, (fields or {}).get(name), simplify_m) for name, gdf in layers.items()]
    _unique_labels(preps)

    m = folium.Map(tiles=None, location=None, zoom_control=True, maxZoom=19, minZoom=3)
    m.get_root().title = escape_text(title)
    add_page_style(m)
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

    folium.plugins.Fullscreen(position="topleft", title="全屏 Fullscreen", title_cancel="退出全屏 Exit fullscreen").add_to(m)
    MeasureControl(position="topleft").add_to(m)
    MetricScale(position="bottomleft").add_to(m)
    TitleBox(title).add_to(m)

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
        (
            "默认无底图，离线可用；OpenStreetMap、天地图底图需联网 "
            "No basemap by default (works offline); OpenStreetMap / Tianditu basemaps need internet."
            if any(label == BASEMAP_TIANDITU for label, _ in base_layers)
            else "默认无底图，离线可用；OpenStreetMap 底图需联网 "
            "No basemap by default (works offline); the OpenStreetMap basemap needs internet."
        ),
        "坐标 WGS84（与 CGCS2000 相差约 1 米内）Coordinates WGS84 (within ~1 m of CGCS2000).",
    ]
    HtmlBox(notes_html(all_notes), position="bottomleft", css_class="jlp-notes").add_to(m)

    bounds = [p.bounds for p in preps if p.bounds is not None]
    if bounds:
        b = np.array(bounds)
        west, south, east, north = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        m.fit_bounds([[float(south), float(west)], [float(north), float(east)]], padding=(20, 20), max_zoom=15)
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
        popups.  Default: :data:`DEFAULT_FIELDS` for the project's layers,
        otherwise every column except :data:`HIDDEN_COLUMNS`.
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
    html = render_offline(m).replace("<html>", '<html lang="zh-CN">', 1)
    return save_map(html, path)
