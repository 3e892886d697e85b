"""One plan layer as the atlas embeds it: which features, which popup rows, which styles.

:func:`prepare_layer` turns a layer (any CRS) into a :class:`PreparedLayer`:
GeoJSON in three parts (``areas`` / ``lines`` / ``points``) with per-feature
popup HTML, tooltip and uncertainty radius, the distinct line/fill styles, the
category colours met, and the counts the legend reports (placed / unplaced,
示意 or not).  The popups show each feature's provenance (来源 / 精度 / 不确定性)
first, then the attribute columns chosen by :func:`shown_columns`
(:data:`DEFAULT_FIELDS`, labels from :data:`FIELD_LABELS`).

Every text from the data is escaped here (:mod:`jlp_geo.viz.escape`); geometry
goes through :func:`jlp_geo.viz.geometry.display_frame` (simplified in metres,
rounded to 5 decimals).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

from ..crs import require_crs
from ..layers.common import PRECISION_ZH, mark_source_tiers
from ..styles import LayerStyle, style_for
from .escape import escape_text, is_missing, popup_html, safe_colour
from .geometry import COORD_DECIMALS, display_frame, feature_collection, geojson_feature

__all__ = [
    "CATEGORY_ZH",
    "DEFAULT_DASH",
    "DEFAULT_FIELDS",
    "FIELD_LABELS",
    "HIDDEN_COLUMNS",
    "PreparedLayer",
    "category_label",
    "format_value",
    "prepare_layer",
    "shown_columns",
]

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
    "parks": ("kind", "plan_clause", "definition", "town_or_street", "area_stated", "location_status", "coord_method",
              "location_source_tier", "location_source_tiers"),
    "waste_facilities": (
        "kind", "plan_status", "capacity_text", "land_area_ha", "fill_volume_text", "town", "site_text",
        "construction_period", "conflict_note", "plan_clauses", "location_status", "coord_method",
        "location_source_tier", "location_source_tiers",
    ),
    "transport_projects": (
        "plan_item", "name_in_plan", "mode", "status", "status_date", "length_km", "jiulongpo_relevance", "line_note",
        "source_tier", "source_tiers",
    ),
    "urban_rail_existing": ("mode", "status", "status_date", "chord_km_in_jiulongpo", "stations_in_jiulongpo", "line_note",
                            "source_tier", "source_tiers"),
    **{name: ("kind", "plan_clause", "plan_text", "figure", "plan_status", "location_status", "location_source",
              "source_tier", "osm_tag", "area_m2")
       for name in ("urban_renewal", "green_system", "ecological_pattern", "jiulong_new_city", "utilities", "emergency_shelters")},
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
    "location_source": "定位资料 location source",
    "source_tier": "来源类别 source tier",
    "location_source_tier": "定位资料类别 location source tier",
    "location_source_tiers": "各资料来源类别 tier of each source",
    "source_tiers": "各资料来源类别 tier of each source",
    "plan_text": "规划原文 plan text",
    "figure": "规划数字 plan figure",
    "osm_tag": "OSM标签 OSM tag",
    "area_m2": "面积（平方米）area (m²)",
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
#: Dash of indicative/schematic lines and polygons whose style has none.
DEFAULT_DASH = "6 4"


def category_label(value: object) -> str:
    """``"中文 value"`` for a category value with a Chinese name in :data:`CATEGORY_ZH`, else the value."""
    text = str(value)
    zh = CATEGORY_ZH.get(text)
    return f"{zh} {text}" if zh else text


def format_value(v: Any) -> str | None:
    """Display text of an attribute value; None when there is nothing to show.

    Parameters
    ----------
    v
        Any cell value.

    Returns
    -------
    str or None
        ``是 yes`` / ``否 no`` for booleans, integers without decimals, other
        numbers with up to 6 significant digits, stripped text; None for
        missing, infinite or empty values.

    Examples
    --------
    >>> [format_value(v) for v in (True, 3.0, 0.1234567, " a ", float("nan"))]
    ['是 yes', '3', '0.123457', 'a', None]
    """
    if is_missing(v):
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
class PreparedLayer:
    """One layer ready for the page (built by :func:`prepare_layer`)."""

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


def _popup_rows(row: Mapping[str, Any], columns: Sequence[str], category_field: str | None) -> list[tuple[str, str]]:
    precision = row.get("precision")
    if isinstance(precision, str) and precision in PRECISION_ZH:
        precision_text = f"{PRECISION_ZH[precision]} {precision}"
    else:
        precision_text = "未注明 not stated"
    unc = row.get("uncertainty_m")
    if is_missing(unc):
        unc_text = "未估计 not estimated"
    else:
        unc_text = f"±{float(unc):,.0f} 米 m"
    rows = [
        ("来源 source", _tiered(format_value(row.get("source"))) or "未注明 not stated"),
        ("精度 precision", precision_text),
        ("不确定性 uncertainty", unc_text),
    ]
    for col in columns:
        shown = format_value(row.get(col))
        if shown is None:
            continue
        if col == category_field:
            shown = category_label(shown)
        rows.append((FIELD_LABELS.get(col, col), _tiered(shown)))
    return rows


def _tiered(text: str | None) -> str | None:
    """Text with every web address followed by its source tier (a mirror is never shown as a plain source)."""
    return mark_source_tiers(text) if text and "http" in text else text


def shown_columns(gdf: gpd.GeoDataFrame, name: str, wanted: Sequence[str] | None) -> list[str]:
    """Attribute columns of layer *name* shown in its popups, in order.

    Parameters
    ----------
    gdf
        The layer.
    name
        Layer name (selects :data:`DEFAULT_FIELDS`).
    wanted
        The caller's columns (used exactly, where present), or None.

    Returns
    -------
    list of str
        Never the provenance columns (shown first anyway) nor the geometry;
        without *wanted* or defaults, every column except
        :data:`HIDDEN_COLUMNS` and ``_private`` ones.
    """
    base = {"name_zh", "name_en", "source", "precision", "uncertainty_m", gdf.geometry.name}
    if wanted is not None:  # the caller's choice, exactly
        return [c for c in wanted if c in gdf.columns and c not in base]
    default = [c for c in DEFAULT_FIELDS.get(name, ()) if c in gdf.columns and c not in base]
    if default:
        return default
    return [c for c in gdf.columns if c not in base and c not in HIDDEN_COLUMNS and not str(c).startswith("_")]


def prepare_layer(name: str, gdf: gpd.GeoDataFrame, wanted: Sequence[str] | None, simplify_m: float) -> PreparedLayer:
    """Features, styles and legend facts of one atlas layer.

    Parameters
    ----------
    name
        Layer name; selects the style (:func:`jlp_geo.styles.style_for`).
    gdf
        The layer, in any CRS; rows without geometry are counted, not drawn.
    wanted
        Popup columns (see :func:`shown_columns`), or None for the defaults.
    simplify_m
        Douglas-Peucker tolerance in metres for lines and polygons.

    Returns
    -------
    PreparedLayer
        Escaped labels and popups, rounded GeoJSON parts and their styles.

    Raises
    ------
    CRSError
        If *gdf* has no CRS.
    """
    require_crs(gdf, f"atlas layer {name!r}")
    style = style_for(name)
    geoms = gdf.geometry
    placed_mask = np.asarray(~(geoms.isna() | geoms.is_empty), dtype=bool)
    precisions = list(gdf["precision"]) if "precision" in gdf.columns else []
    prep = PreparedLayer(
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
    display = display_frame(placed, simplify_m)
    prep.bounds = tuple(float(v) for v in display.total_bounds)

    columns = shown_columns(gdf, name, wanted)
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
        if cat_field is not None and not is_missing(row.get(cat_field)):
            value = str(row[cat_field])
            colour = safe_colour(style.colour_of(value), base_colour)
            seen_categories.setdefault(value, colour)
        kind = _kind_of(geom.geom_type)
        prep.kinds.add(kind)
        dash = style.dash or (DEFAULT_DASH if rough and kind != "points" else None)
        key = (colour, dash)
        if key not in style_index:
            style_index[key] = len(prep.styles)
            prep.styles.append(
                {"color": colour, "weight": float(style.width), "dash": dash, "fill": float(style.fill_opacity)}
            )
        unc = row.get("uncertainty_m")
        radius = float(unc) if (rough and kind == "points" and not is_missing(unc) and float(unc) > 0) else 0.0
        prep.any_circle |= radius > 0
        rows = _popup_rows(row, columns, cat_field)
        if kind == "points" and geom.geom_type == "Point":
            rows.append(("坐标 WGS84 lon, lat", f"{geom.x:.{COORD_DECIMALS}f}, {geom.y:.{COORD_DECIMALS}f}"))
        props = {
            "k": style_index[key],
            "p": popup_html(row.get("name_zh"), rows, subtitle=row.get("name_en")),
            "t": escape_text(format_value(row.get(label_field)) or format_value(row.get("name_zh")) or ""),
            "r": round(radius, 1),
        }
        prep.parts.setdefault(kind, feature_collection([]))["features"].append(geojson_feature(geom, props))

    if cat_field is not None:
        order = list(style.categories) + sorted(set(seen_categories) - set(style.categories))
        prep.categories = [
            (escape_text(category_label(v)), seen_categories[v]) for v in order if v in seen_categories
        ]
    return prep
