"""一港九园三区: the port, nine parks and three communities of 名词解释 2.

The plan (十五五规划纲要, 名词解释 2) gives only the names and their grouping:
“一港”指重庆枢纽港产业园九龙新城，“九园”指……，“三区”指……。  It defines no site,
extent or function for any of them, so this layer quotes what the plan gives and
nothing more.  Positions come from the gazetteer (``layers/parks.csv``): all are
estimates (town level or weaker, 2–8 km), drawn as indicative points with their
uncertainty; parks the evidence cannot place have no geometry.

Data (reviewed like code):

* ``layers/parks_plan.csv`` — the 13 plan features (kind 一港/九园/三区) and two
  existing parks kept as context, with the clause that names each;
* ``layers/plan_clauses.csv`` — the full 名词解释 2 sentence (key ``glossary_2``);
* ``layers/parks.csv`` — gazetteer positions, evidence and sources.

This module also holds the small table reader and the user-file adapter shared by
:mod:`jlp_geo.layers.waste` and :mod:`jlp_geo.layers.transport`.
"""

from __future__ import annotations


import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from ..config import Profile
from .common import (
    finish_layer,
    gazetteer_citation,
    plan_clause_text,
    plan_number,
    read_plan_table,
    source_tier_notes,
    user_layer,
)

__all__ = ["COLUMNS_ZH", "PLAN_KINDS", "build_parks"]

#: The three groups of 名词解释 2 and how many members the plan names in each.
PLAN_KINDS: dict[str, int] = {"一港": 1, "九园": 9, "三区": 3}

#: Chinese column headers for CSV/Excel export of the parks layer.
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "规划依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "kind": "类别",
    "role": "性质",
    "in_plan": "属于“一港九园三区”",
    "definition": "规划定义",
    "plan_text": "规划原文",
    "plan_clause": "条款",
    "town_or_street": "所在镇街（推断）",
    "location_status": "定位情况",
    "location_evidence": "定位依据",
    "location_source": "定位资料来源",
    "location_source_tier": "定位资料最高来源类别",
    "location_source_tiers": "定位资料各来源类别",
    "coord_method": "坐标取得方式",
    "source_crs": "坐标来源坐标系",
    "area_stated": "资料所载面积",
    "co_located_with": "与之共用示意点的要素",
}


# --------------------------------------------------------------------------- parks


def _colocated(names: list[str], points: list[Point | None]) -> list[str]:
    """For each point, the other names drawn at exactly the same coordinate."""
    out = []
    for i, p in enumerate(points):
        if p is None:
            out.append("")
            continue
        others = [n for j, (n, q) in enumerate(zip(names, points)) if j != i and q is not None and q.equals(p)]
        out.append("、".join(others))
    return out


def build_parks(profile: Profile, user: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The 一港九园三区 layer (13 plan features + 2 existing parks as context).

    Parameters
    ----------
    profile
        Study-area profile (for the plan's citation and the gazetteer date).
    user
        Optional features read from a planner's file (e.g. official park boundaries);
        they replace the defaults, keeping their attributes (see :func:`user_layer`).

    Returns
    -------
    GeoDataFrame
        EPSG:4490.  One row per feature with ``kind`` (一港/九园/三区, or
        ``existing park``), ``role`` (``plan item``/``context``), ``in_plan``,
        ``definition`` (what 名词解释 2 says of it), ``plan_text`` (the full sentence),
        ``plan_clause``, and the location's ``location_status``, ``location_evidence``,
        ``location_source``.  Located features are indicative points with
        ``uncertainty_m`` from the gazetteer; the others have no geometry and
        ``location_status`` says why.
    """
    if user is not None:
        return user_layer(user, "parks", "indicative")

    plan = read_plan_table("parks_plan.csv", ("name_zh", "kind", "role", "definition", "clause", "plan_mention"))
    gaz = read_plan_table(
        "parks.csv",
        ("name_zh", "name_en", "kind", "lon_wgs84", "lat_wgs84", "uncertainty_m", "evidence", "source", "location_status"),
    )
    gaz = gaz.drop_duplicates("name_zh").set_index("name_zh")
    glossary = plan_clause_text("glossary_2")
    plan_doc = profile.document("plan")
    gaz_cite = gazetteer_citation(profile, "parks.csv")

    records: list[dict] = []
    points: list[Point | None] = []
    for row in plan.itertuples(index=False):
        g = gaz.loc[row.name_zh] if row.name_zh in gaz.index else None
        in_plan = row.role == "plan item"
        if in_plan:
            source = f"{plan_doc} {row.clause}"
        elif row.clause:
            source = f"{plan_doc} {row.clause}（仅提及，不属于“一港九园三区”）; {gaz_cite}"
        else:
            source = f"{gaz_cite}: {g['source'] if g is not None else ''}".rstrip(": ")
        lon = plan_number(g["lon_wgs84"]) if g is not None else np.nan
        lat = plan_number(g["lat_wgs84"]) if g is not None else np.nan
        located = bool(np.isfinite(lon) and np.isfinite(lat))
        if g is None:
            status = "not located – not in the gazetteer (layers/parks.csv)"
        else:
            method = g.get("coord_method", "")
            head = "located (indicative point)" if located else "not located"
            status = f"{head} – {g['location_status']}: {method}".rstrip(": ")
        points.append(Point(lon, lat) if located else None)
        records.append(
            {
                "name_zh": row.name_zh,
                "name_en": g["name_en"] if g is not None else "",
                "source": source,
                "precision": "indicative",
                "uncertainty_m": plan_number(g["uncertainty_m"]) if (g is not None and located) else np.nan,
                "kind": row.kind,
                "role": row.role,
                "in_plan": in_plan,
                "definition": row.definition,
                "plan_text": glossary if in_plan else row.plan_mention,
                "plan_clause": row.clause,
                "town_or_street": g.get("town_or_street", "") if g is not None else "",
                "location_status": status,
                "location_evidence": g["evidence"] if g is not None else "",
                "location_source": f"{gaz_cite}: {g['source']}" if g is not None else gaz_cite,
                "location_source_tier": g.get("source_tier", "") if g is not None else "",
                "location_source_tiers": source_tier_notes(g["source"]) if g is not None else "",
                "coord_method": g.get("coord_method", "") if g is not None else "",
                "source_crs": g.get("source_crs", "") if g is not None else "",
                "area_stated": g.get("area_stated", "") if g is not None else "",
            }
        )
    co = _colocated([r["name_zh"] for r in records], points)
    for r, c in zip(records, co):
        r["co_located_with"] = c
    return finish_layer(records, geometry=points, crs="EPSG:4326", layer="parks")
