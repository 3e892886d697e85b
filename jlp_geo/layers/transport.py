"""Transport projects of 专栏19 (重大基础设施建设项目, items 1–10) and the existing urban rail.

专栏19 names projects but gives no alignment.  Each project of the gazetteer
(``layers/transport_projects.csv``) is linked to its 专栏19 item(s) in
``layers/transport_plan_links.csv`` (data, reviewed like code), which also records
how the plan spells it (the plan writes 黄磛 where the gazetteer has 黄磏), other plan
passages naming it (第三十章 第二节, 专栏14 …), a status class and what the drawn
geometry means.  Geometry is schematic: straight segments through the gazetteer's
waypoints (``transport_waypoints.csv``) in ``seq`` order — a LineString for two or
more waypoints, a Point for one, none for zero.  It is NEVER an alignment; the
``line_note`` column says what the points are.  ``uncertainty_m`` is the largest
waypoint uncertainty.

Items 6, 7, 9 and 10 (支路网, 公交, 水利, 能源) name no single locatable place; they
appear as rows without geometry carrying the item text.

The existing metro lines that the gazetteer traces (环线, 1, 2, 5, 18 号线, 江跳线) are
a separate context layer, :func:`build_urban_rail_existing`, with the chord length
and stations inside the district from ``layers/metro_km_in_jiulongpo.csv``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from ..config import Profile
from ..errors import InputDataError
from .common import finish_layer
from .common import gazetteer_citation, plan_number, read_plan_table, source_tier_notes, user_layer

__all__ = [
    "COLUMNS_ZH",
    "STATUS_CLASSES",
    "build_transport_projects",
    "build_urban_rail_existing",
    "transport_items_table",
]

#: Allowed values of ``status_class`` (the gazetteer's status text is kept verbatim in ``status``).
STATUS_CLASSES: tuple[str, ...] = ("planned", "under construction", "open", "unknown")
ROLES: tuple[str, ...] = ("plan item", "plan item (part)", "related", "context")

#: Chinese column headers for CSV/Excel export (both layers and the items table).
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "规划依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "project_id": "项目编号",
    "name_in_plan": "规划中的名称",
    "mode": "方式",
    "role": "与专栏19的关系",
    "plan_item": "专栏19条目",
    "plan_text": "专栏19原文",
    "plan_refs": "规划中的出处",
    "status": "进展（资料原文）",
    "status_class": "进展",
    "status_date": "进展日期",
    "length_km": "长度（公里，资料）",
    "jiulongpo_relevance": "与九龙坡的关系",
    "evidence": "资料摘要",
    "evidence_source": "资料来源",
    "waypoints": "示意途经点",
    "n_waypoints": "途经点数",
    "location_source": "途经点坐标来源",
    "source_tier": "资料最高来源类别",
    "source_tiers": "各来源类别",
    "line_note": "图形说明",
    "chord_km_total": "站间直线距离合计（公里）",
    "chord_km_in_jiulongpo": "区内站间直线距离（公里）",
    "stations_in_jiulongpo": "区内车站",
    # items table
    "item": "条目",
    "title_zh": "标题",
    "title_en": "标题（英文）",
    "text_zh": "原文",
    "clause": "出处",
    "projects_drawn": "已绘制项目",
    "projects_without_geometry": "未绘制项目（无位置）",
    "n_drawn": "已绘制数",
    "n_without_geometry": "未绘制数",
}

_PROJECT_COLS = ("id", "name_zh", "name_en", "mode", "status", "status_date", "length_km", "jiulongpo_relevance",
                 "plan_item", "evidence", "source", "source_tier")
_WAYPOINT_COLS = ("project_id", "seq", "place_name", "lon_wgs84", "lat_wgs84", "uncertainty_m", "source")
_LINK_COLS = ("project_id", "plan_item", "role", "name_in_plan", "status_class", "plan_refs", "line_note")


def _schematic_geometry(wp: pd.DataFrame) -> tuple[LineString | Point | None, float, str, str, int]:
    """Geometry through the waypoints of one project, in ``seq`` order.

    Returns (geometry, max uncertainty, waypoint names, waypoint sources, count).
    """
    if wp.empty:
        return None, np.nan, "", "", 0
    wp = wp.assign(_seq=wp["seq"].astype(int)).sort_values("_seq")
    coords = [(float(x), float(y)) for x, y in zip(wp["lon_wgs84"], wp["lat_wgs84"])]
    distinct = list(dict.fromkeys(coords))
    geom: LineString | Point = LineString(coords) if len(distinct) >= 2 else Point(coords[0])
    unc = float(pd.to_numeric(wp["uncertainty_m"], errors="coerce").max())
    names = " → ".join(wp["place_name"])
    sources = " | ".join(dict.fromkeys(s.strip() for s in wp["source"] if s.strip()))
    return geom, unc, names, sources, len(wp)


def _items() -> pd.DataFrame:
    items = read_plan_table("transport_plan_items.csv", ("item", "title_zh", "title_en", "mode", "text_zh", "clause"))
    items["item"] = items["item"].astype(int)
    return items.set_index("item", drop=False)


def _plan_text(plan_item: str, items: pd.DataFrame) -> str:
    parts = [int(p) for p in plan_item.split(";") if p.strip()]
    return "；".join(f"第{n}项 {items.loc[n, 'title_zh']}：{items.loc[n, 'text_zh']}" for n in parts)


def _existing_rail_ids() -> set[str]:
    return set(read_plan_table("metro_km_in_jiulongpo.csv", ("project_id",))["project_id"])


def build_transport_projects(profile: Profile, user: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Projects of 专栏19 (and related ones) as schematic lines, points or attribute-only rows.

    Parameters
    ----------
    profile
        Study-area profile (document citation, gazetteer date).
    user
        Optional features from a planner's file (e.g. design alignments); they replace the
        defaults, keeping their attributes (precision defaults to ``schematic``).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, precision ``schematic``.  Columns include ``project_id``, ``mode``,
        ``role`` (``plan item``, ``plan item (part)``, ``related``, ``context``),
        ``plan_item`` (text: ``"1"``, ``"4;5"`` for a project in two items, ``""`` for
        related/context rows), ``plan_text`` (the item's clause text), ``name_in_plan``,
        ``plan_refs``, ``status`` (gazetteer text), ``status_class`` (one of
        :data:`STATUS_CLASSES`), ``status_date``, ``waypoints``, ``n_waypoints``,
        ``line_note`` (what the geometry means — never an alignment).  Items with no
        locatable place (6, 7, 9, 10) are rows without geometry.  The existing metro
        lines are in :func:`build_urban_rail_existing`, not here.
    """
    if user is not None:
        return user_layer(user, "transport_projects", "schematic")

    projects = read_plan_table("transport_projects.csv", _PROJECT_COLS)
    waypoints = read_plan_table("transport_waypoints.csv", _WAYPOINT_COLS)
    links = read_plan_table("transport_plan_links.csv", _LINK_COLS).drop_duplicates("project_id").set_index("project_id")
    items = _items()
    existing = _existing_rail_ids()
    plan_doc = profile.document("plan")
    gaz_cite = gazetteer_citation(profile, "transport_projects.csv")

    bad_roles = sorted(set(links["role"]) - set(ROLES))
    bad_status = sorted(set(links["status_class"]) - set(STATUS_CLASSES))
    bad_items = sorted({p for v in links["plan_item"] for p in v.split(";") if p.strip()} - {str(i) for i in items.index})
    if bad_roles or bad_status or bad_items:
        raise InputDataError(
            f"unknown roles {bad_roles}, status classes {bad_status} or plan items {bad_items}",
            where="layers/transport_plan_links.csv",
            fix=f"use roles {list(ROLES)}, status classes {list(STATUS_CLASSES)} and items 1–{len(items)}",
        )

    records: list[dict] = []
    geoms: list = []
    linked_items: set[int] = set()
    for p in projects.itertuples(index=False):
        if p.id in existing:
            continue
        if p.id in links.index:
            link = links.loc[p.id]
            plan_item, role, name_in_plan = link["plan_item"], link["role"], link["name_in_plan"]
            status_class, plan_refs, line_note = link["status_class"], link["plan_refs"], link["line_note"]
        else:  # a gazetteer row nobody linked yet: shown, but not claimed for the plan
            plan_item, name_in_plan, plan_refs, status_class = "", "", "", "unknown"
            role = "context" if p.plan_item.startswith("context") else "related"
            line_note = "not linked to the plan in layers/transport_plan_links.csv"
        geom, unc, names, wp_sources, n = _schematic_geometry(waypoints[waypoints["project_id"] == p.id])
        if geom is None and not line_note:
            line_note = "not drawn: no waypoints"
        linked_items.update(int(x) for x in plan_item.split(";") if x.strip())
        if plan_refs:
            source = f"{plan_doc} {plan_refs}"
        else:
            source = f"{gaz_cite}: {p.source}".rstrip(": ")
        geoms.append(geom)
        records.append(
            {
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "source": source,
                "precision": "schematic",
                "uncertainty_m": unc,
                "project_id": p.id,
                "name_in_plan": name_in_plan,
                "mode": p.mode,
                "role": role,
                "plan_item": plan_item,
                "plan_text": _plan_text(plan_item, items),
                "plan_refs": plan_refs,
                "status": p.status,
                "status_class": status_class,
                "status_date": p.status_date,
                "length_km": p.length_km,
                "jiulongpo_relevance": p.jiulongpo_relevance,
                "evidence": p.evidence,
                "evidence_source": p.source,
                "source_tier": p.source_tier,
                "source_tiers": source_tier_notes(f"{p.source} {wp_sources}"),
                "waypoints": names,
                "n_waypoints": n,
                "location_source": wp_sources,
                "line_note": line_note,
            }
        )
    for it in items.itertuples(index=False):
        if it.item in linked_items:
            continue
        geoms.append(None)
        records.append(
            {
                "name_zh": it.title_zh,
                "name_en": it.title_en,
                "source": f"{plan_doc} {it.clause}",
                "precision": "schematic",
                "uncertainty_m": np.nan,
                "project_id": f"ITEM{it.item:02d}",
                "name_in_plan": it.title_zh,
                "mode": it.mode,
                "role": "plan item",
                "plan_item": str(it.item),
                "plan_text": _plan_text(str(it.item), items),
                "plan_refs": it.clause,
                "status": "规划（专栏19）",
                "status_class": "planned",
                "status_date": "",
                "length_km": "",
                "jiulongpo_relevance": "district-wide programme",
                "evidence": "",
                "evidence_source": "",
                "source_tier": "official document",
                "source_tiers": "",
                "waypoints": "",
                "n_waypoints": 0,
                "location_source": "",
                "line_note": "not drawn: the item names no single locatable place (district-wide programme)",
            }
        )
    return finish_layer(records, geometry=geoms, crs="EPSG:4326", layer="transport_projects")


def build_urban_rail_existing(profile: Profile) -> gpd.GeoDataFrame:
    """Existing metro lines through the district, as station-to-station lines (context).

    Parameters
    ----------
    profile
        Study-area profile (gazetteer date).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per line in ``layers/metro_km_in_jiulongpo.csv`` (环线, 1, 2, 5,
        18 号线, 江跳线): LineString through the station points in order (precision
        ``schematic``: station points, not track geometry), ``status_class`` ``open``,
        ``role`` ``context``, ``chord_km_total``, ``chord_km_in_jiulongpo`` and
        ``stations_in_jiulongpo``.
    """
    km = read_plan_table(
        "metro_km_in_jiulongpo.csv", ("project_id", "name", "chord_km_total", "chord_km_in_jiulongpo", "stations_in_jiulongpo")
    )
    projects = read_plan_table("transport_projects.csv", _PROJECT_COLS).set_index("id")
    waypoints = read_plan_table("transport_waypoints.csv", _WAYPOINT_COLS)
    gaz_cite = gazetteer_citation(profile, "transport_projects.csv")
    records: list[dict] = []
    geoms: list = []
    for k in km.itertuples(index=False):
        if k.project_id not in projects.index:
            raise InputDataError(
                f"line {k.project_id} is not in transport_projects.csv",
                where="layers/metro_km_in_jiulongpo.csv",
                fix="add the line to layers/transport_projects.csv or remove it here",
            )
        p = projects.loc[k.project_id]
        geom, unc, names, wp_sources, n = _schematic_geometry(waypoints[waypoints["project_id"] == k.project_id])
        geoms.append(geom)
        records.append(
            {
                "name_zh": p["name_zh"],
                "name_en": p["name_en"],
                "source": f"{gaz_cite}: {p['source']}",
                "precision": "schematic",
                "uncertainty_m": unc,
                "project_id": k.project_id,
                "mode": p["mode"],
                "role": "context",
                "status": p["status"],
                "status_class": "open",
                "status_date": p["status_date"],
                "chord_km_total": plan_number(k.chord_km_total),
                "chord_km_in_jiulongpo": plan_number(k.chord_km_in_jiulongpo),
                "stations_in_jiulongpo": k.stations_in_jiulongpo,
                "waypoints": names,
                "n_waypoints": n,
                "location_source": wp_sources,
                "source_tier": p["source_tier"],
                "source_tiers": source_tier_notes(f"{p['source']} {wp_sources}"),
                "evidence": p["evidence"],
                "line_note": "station points in order; straight segments between stations are NOT the track",
            }
        )
    return finish_layer(records, geometry=geoms, crs="EPSG:4326", layer="urban_rail_existing")


def transport_items_table(profile: Profile, layer: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """One row per 专栏19 item (1–10): its text and which projects are drawn or only listed.

    Parameters
    ----------
    profile
        Study-area profile (document citation).
    layer
        The output of :func:`build_transport_projects` (built when omitted).

    Returns
    -------
    DataFrame
        Columns ``item, title_zh, title_en, text_zh, clause, source, projects_drawn,
        projects_without_geometry, n_drawn, n_without_geometry``; project lists are
        ``、``-separated ``name_zh`` values.
    """
    items = _items()
    layer = build_transport_projects(profile) if layer is None else layer
    rows = []
    for it in items.itertuples(index=False):
        member = layer["plan_item"].fillna("").map(lambda v, n=it.item: str(n) in v.split(";"))
        sub = layer[member]
        has_geom = sub.geometry.notna() & ~sub.geometry.is_empty
        drawn = list(sub.loc[has_geom, "name_zh"])
        listed = list(sub.loc[~has_geom, "name_zh"])
        rows.append(
            {
                "item": it.item,
                "title_zh": it.title_zh,
                "title_en": it.title_en,
                "text_zh": it.text_zh,
                "clause": it.clause,
                "source": f"{profile.document('plan')} {it.clause}",
                "projects_drawn": "、".join(drawn),
                "projects_without_geometry": "、".join(listed),
                "n_drawn": len(drawn),
                "n_without_geometry": len(listed),
            }
        )
    return pd.DataFrame(rows)
