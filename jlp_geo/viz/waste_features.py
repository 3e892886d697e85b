"""What the construction-waste map embeds: one GeoJSON collection per layer, popups included.

Each function turns part of a :class:`~jlp_geo.analysis.waste.WasteResult` into a
FeatureCollection whose features carry their own style (``c`` colour, ``w``
width, ``d`` dash, ``f`` fill and ``o`` line opacity; ``r`` uncertainty radius
for facilities), popup HTML (``p``) and tooltip (``t``), every text escaped:
镇街 generation, catchments and flows per stream, facilities, 邻避 buffers,
receptors and user sites.  Geometry goes through
:func:`jlp_geo.viz.geometry.display_frame` (simplified in metres, WGS84,
rounded to 5 decimals).  The page around them is :mod:`jlp_geo.viz.waste_map`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.waste import TYPES, WasteResult
from ..styles import style_for
from .escape import escape_text, popup_html, safe_colour
from .geometry import display_frame, feature_collection, geojson_feature

__all__ = [
    "FACILITY_COLOURS",
    "MAX_FLOW_WIDTH",
    "MIN_FLOW_WIDTH",
    "RECEPTOR_COLOURS",
    "STREAM_COLOURS",
    "buffer_features",
    "catchment_features",
    "facility_features",
    "flow_features",
    "flow_widths",
    "receptor_features",
    "site_features",
    "town_features",
]

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
#: Fill colour per receptor category.
RECEPTOR_COLOURS: dict[str, str] = {"school": "#2166ac", "hospital": "#b2182b", "elderly": "#762a83", "residential": "#f4a582"}
#: Widths (px) of the largest and the smallest flow.
MAX_FLOW_WIDTH = 14.0
MIN_FLOW_WIDTH = 1.5

def _num(v: Any, digits: int = 2) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return ""
    return f"{f:,.{digits}f}"


def town_features(result: WasteResult, simplify_m: float) -> tuple[dict, bool]:
    """镇街 outlines with their generation per waste type; and whether the boundaries are schematic."""
    gen = display_frame(result.generation, simplify_m)
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
        feats.append(geojson_feature(row.geometry, props))
    return feature_collection(feats), rough


def catchment_features(result: WasteResult, stream: str, simplify_m: float) -> dict:
    """Catchments of one waste stream (nearest located facility), filled in the facility's colour."""
    sub = result.catchments[result.catchments["stream"] == stream] if len(result.catchments) else result.catchments
    feats = []
    if sub is None or len(sub) == 0:
        return feature_collection(feats)
    disp = display_frame(sub, simplify_m)
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
        feats.append(geojson_feature(row.geometry, props))
    return feature_collection(feats)


def flow_widths(quantities: Sequence[float], max_quantity: float | None = None) -> list[float]:
    """Line widths (px) for flows: ``MIN + (MAX − MIN) × √(q / q_max)`` (area-like scaling).

    Parameters
    ----------
    quantities
        Annual quantities of the flows.
    max_quantity
        Quantity drawn at :data:`MAX_FLOW_WIDTH` (default: the largest of *quantities*).

    Returns
    -------
    list of float
        Widths rounded to 0.01 px, between :data:`MIN_FLOW_WIDTH` and :data:`MAX_FLOW_WIDTH`.

    Examples
    --------
    >>> flow_widths([0, 25, 100])
    [1.5, 7.75, 14.0]
    """
    q = np.asarray(quantities, dtype=float)
    top = float(max_quantity if max_quantity is not None else (q.max() if q.size else 1.0)) or 1.0
    return [round(MIN_FLOW_WIDTH + (MAX_FLOW_WIDTH - MIN_FLOW_WIDTH) * math.sqrt(max(v, 0.0) / top), 2) for v in q]


def flow_features(result: WasteResult, stream: str, simplify_m: float) -> dict:
    """Flows of one stream, width ∝ √quantity, dashed when the haul is straight line × detour."""
    sub = result.flows[result.flows["stream"] == stream] if len(result.flows) else result.flows
    feats = []
    if sub is None or len(sub) == 0:
        return feature_collection(feats)
    disp = display_frame(sub, simplify_m)
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
        feats.append(geojson_feature(row.geometry, props))
    return feature_collection(feats)


def facility_features(result: WasteResult) -> tuple[dict, list[str]]:
    """Located facilities (with uncertainty radius and allocated intake); and the names of unplaced ones."""
    style = style_for("waste_facilities")
    fac = result.facilities
    located = fac[fac["located"].astype(bool)]
    unplaced = [str(n) for n in fac.loc[~fac["located"].astype(bool), "name_zh"]]
    feats = []
    if len(located):
        disp = display_frame(located, 0.0)
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
            feats.append(geojson_feature(row.geometry, props))
    return feature_collection(feats), unplaced


def buffer_features(result: WasteResult, simplify_m: float) -> dict:
    """邻避 screening buffers with the people and receptors inside (第四条（五）)."""
    feats = []
    if result.buffers is None or len(result.buffers) == 0:
        return feature_collection(feats)
    disp = display_frame(result.buffers, min(simplify_m, 5.0))
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
        feats.append(geojson_feature(row.geometry, props))
    return feature_collection(feats)


def receptor_features(result: WasteResult, simplify_m: float) -> dict:
    """Sensitive receptors from OSM (schools, hospitals, ...), coloured by category."""
    rec = result.receptors
    feats = []
    if rec is None or len(rec) == 0:
        return feature_collection(feats)
    disp = display_frame(rec, simplify_m)
    for _, row in disp.iterrows():
        colour = safe_colour(RECEPTOR_COLOURS.get(str(row["receptor"])), "#555555")
        rows = [("类别 category", row.get("receptor_zh")), ("来源 source", row.get("source")), ("OSM", f"{row.get('osm_type')}/{row.get('osm_id')}")]
        props = {"p": popup_html(row.get("name_zh") or "未命名 unnamed", rows), "t": escape_text(row.get("name_zh") or row.get("receptor_zh")),
                 "c": colour, "w": 1.0, "d": None, "f": 0.35, "o": 0.9}
        feats.append(geojson_feature(row.geometry, props))
    return feature_collection(feats)


def site_features(result: WasteResult) -> dict:
    """Construction sites of the user's file (``sites_file``) with their quantities."""
    feats: list[dict] = []
    if result.sites is None or len(result.sites) == 0:
        return feature_collection(feats)
    sites = display_frame(result.sites, 0.0)
    for _, row in sites.iterrows():
        rows = [("来源 source", row.get("source"))] + [(f"{k}", _num(row.get(k))) for k in ("spoil", "slurry", "construction", "demolition", "decoration") if k in row]
        feats.append(geojson_feature(row.geometry, {"p": popup_html(row["name_zh"], rows), "t": escape_text(row["name_zh"]), "c": "#252525", "w": 1, "d": None, "f": 0.9, "o": 1}))
    return feature_collection(feats)
