"""The plan's own new public-service facilities (``planned_facilities``).

Every facility the 十五五规划纲要 names with a place in 专栏21 (education),
专栏22 (health), 专栏23 (public services), 第三十二章 (区图书馆新馆), 第三十六章
第三节, 第三十九章 第四节 (全民健身运动中心, 太平山便民活动中心 …), 第四十章 第二节
and 第四十一章: its name, service category (where it is one of
``layers/service_categories.csv``), clause, the quoted text, status and count.

The plan gives **no sites**.  A facility gets an indicative point only where the
text names a place the gazetteer can locate (a 镇街 named in the text: the 镇街's
estimated label point, with its uncertainty); all others stay in the table with
no geometry -- never an invented site.  Data: ``layers/planned_facilities.csv``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from .categories import load_categories
from .common import finish_layer, plan_number, read_plan_table

__all__ = ["COLUMNS_ZH", "PLAN_SOURCE", "build_planned_facilities"]

PLAN_SOURCE = "九龙坡区国民经济和社会发展第十五个五年规划纲要 (区政府公报 2026 第1期)"
COLUMNS_ZH = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "规划依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "plan_id": "编号",
    "category": "服务类别 category",
    "category_zh": "服务类别",
    "plan_clause": "条款",
    "plan_text": "规划原文",
    "status": "状态",
    "count": "数量",
    "located": "已定位",
    "location_basis": "定位依据",
    "location_source": "定位资料来源",
}


def build_planned_facilities() -> gpd.GeoDataFrame:
    """Build the ``planned_facilities`` layer from ``layers/planned_facilities.csv``.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per facility (or group the plan names together):
        the provenance columns, ``plan_id``, ``category`` / ``category_zh`` (empty
        when not a life-circle category), ``plan_clause``, ``plan_text`` (quoted),
        ``status``, ``count`` (NaN where the plan gives none), ``located``,
        ``location_basis``, ``location_source``; geometry None where not located.
    """
    df = read_plan_table(
        "planned_facilities.csv",
        ("id", "name_zh", "name_en", "category", "clause", "quote", "status", "count", "location_basis",
         "lon_wgs84", "lat_wgs84", "uncertainty_m", "location_source"),
    )
    names = {c.id: c.name_zh for c in load_categories()}
    bad = sorted(set(df["category"]) - set(names) - {""})
    if bad:
        raise ValueError(f"layers/planned_facilities.csv: unknown categories {bad}")
    rows, geoms = [], []
    for r in df.itertuples(index=False):
        lon, lat = plan_number(r.lon_wgs84), plan_number(r.lat_wgs84)
        located = bool(np.isfinite(lon) and np.isfinite(lat))
        rows.append({
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "source": f"{PLAN_SOURCE} {r.clause}",
            "precision": "indicative",
            "uncertainty_m": plan_number(r.uncertainty_m) if located else np.nan,
            "plan_id": r.id,
            "category": r.category,
            "category_zh": names.get(r.category, ""),
            "plan_clause": r.clause,
            "plan_text": r.quote,
            "status": r.status,
            "count": plan_number(r.count),
            "located": located,
            "location_basis": r.location_basis,
            "location_source": r.location_source,
        })
        geoms.append(Point(lon, lat) if located else None)
    return finish_layer(rows, geoms, crs="EPSG:4326", layer="planned_facilities")
