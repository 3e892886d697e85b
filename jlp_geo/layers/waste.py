"""Construction-waste facilities and figures of the 建筑垃圾规划 (2025–2027).

Every figure the plan gives for its facilities (第十六、十八、十九、二十七条, 附表2–4),
its 2027 forecasts (第三章 第七、八条) and its targets (附表1, 第六条) lives in a data
table under ``layers/`` with the clause and the exact words it comes from:

* ``waste_plan_facilities.csv`` — the four planned facilities and the existing
  重庆新启 base, with their link to the gazetteer (``waste_facilities.csv``);
* ``waste_plan_figures.csv`` — one row per facility, figure and clause (value, unit as
  written, the unit it stands for, qualifier such as 约, quotation);
* ``waste_plan_forecast.csv`` and ``waste_plan_targets.csv``.

Units are kept as the plan writes them: 万吨 (mass) and 万立方米 (volume) are never
converted into each other.  The plan writes fill volumes both as 万方 and 万立方米;
万方 is the everyday form of 万立方米, so both go to the ``*_wm3`` columns while the
text columns keep the plan's wording.  Where clauses disagree (岩洞湾 fill volume:
312 万方 in 第十九条 and 附表4, 326 万立方米 in 第二十七条) both values are kept and
the feature is flagged.

Sites are the gazetteer's town-level estimates (indicative points, 3–4 km); the
综合利用厂 (only “西部片区”) and the 新启 base (no address) have no geometry.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from ..config import Profile
from ..errors import InputDataError
from .common import finish_layer
from .common import gazetteer_citation, plan_number, read_plan_table, source_tier_notes, user_layer

__all__ = ["COLUMNS_ZH", "build_waste_facilities", "waste_figures_table", "waste_forecast_table", "waste_targets_table"]

#: Chinese column headers for CSV/Excel export (facilities layer and the tables).
COLUMNS_ZH: dict[str, str] = {
    "name_zh": "名称",
    "name_en": "英文名称",
    "source": "规划依据",
    "precision": "位置精度",
    "uncertainty_m": "位置不确定度（米）",
    "facility_id": "设施编号",
    "kind": "设施类型",
    "name_variants": "规划中的名称",
    "plan_status": "建设类型",
    "capacity_value": "处理规模",
    "capacity_unit": "处理规模单位",
    "capacity_text": "处理规模（规划原文）",
    "land_area_ha": "占地面积（公顷）",
    "land_area_approx": "占地面积为约数",
    "land_area_text": "占地面积（规划原文）",
    "fill_volume_wm3_art19_table4": "填方量（万立方米，第十九条、附表4）",
    "fill_volume_wm3_art27": "填方量（万立方米，第二十七条）",
    "fill_volume_text": "填方量（规划原文）",
    "conflict": "规划数据不一致",
    "conflict_note": "不一致说明",
    "construction_period": "建设时序",
    "site_text": "场址（规划原文）",
    "plan_use": "规划要求",
    "plan_clauses": "条款",
    "plan_count_clause": "第二十七条计数",
    "town": "所在镇街",
    "location_status": "定位情况",
    "location_evidence": "定位依据",
    "location_source": "定位资料来源",
    "location_source_tier": "定位资料最高来源类别",
    "location_source_tiers": "定位资料各来源类别",
    "coord_method": "坐标取得方式",
    # figures table
    "quantity": "指标",
    "value": "数值",
    "unit": "单位（规划原文）",
    "unit_std": "单位",
    "qualifier": "限定词",
    "quote": "规划原文",
    "clause": "条款",
    # forecast table
    "item_id": "编号",
    "stage": "阶段",
    "item_zh": "项目",
    "item_en": "项目（英文）",
    "year": "年份",
    # targets table
    "indicator_zh": "指标",
    "indicator_en": "指标（英文）",
    "method_zh": "计算方式",
    "target_value": "规划目标值",
    "target_unit": "目标单位",
    "target_text": "规划目标",
    "scope_zh": "范围",
}

_NUMERIC = ("capacity", "land_area", "fill_volume")
_QUANTITY_ZH = {"capacity": "处理规模", "land_area": "占地面积", "fill_volume": "填方量"}
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_int(text: str) -> int:
    """Chinese numeral below 100 (十六, 二十七) -> int."""
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
    return _CN_DIGITS.get(text, 0)


def clause_order_key(clause: str) -> tuple[int, str]:
    """Sort key: articles in order, then the annexed tables."""
    m = re.match(r"第(.+?)条", clause)
    if m:
        return (_cn_int(m.group(1)), clause)
    m = re.match(r"附表(\d+)", clause)
    if m:
        return (100 + int(m.group(1)), clause)
    return (1000, clause)


def _article(clause: str) -> str:
    """``第二十七条（三）标题`` -> ``第二十七条``; ``附表4`` stays."""
    m = re.match(r"(第.+?条|附表\d+)", clause)
    return m.group(1) if m else clause


def waste_figures_table(profile: Profile) -> pd.DataFrame:
    """Every facility figure of the plan, one row per facility, quantity and clause.

    Parameters
    ----------
    profile
        Study-area profile (for the document citation).

    Returns
    -------
    DataFrame
        Columns ``facility_id, name_zh, quantity, value, unit, unit_std, qualifier,
        quote, clause, source``.  ``value`` is text (numbers as written, e.g. ``20.0``);
        ``unit`` is the plan's wording (万方, 万立方米, 万吨/年, 公顷) and ``unit_std``
        what it stands for.
    """
    figs = read_plan_table(
        "waste_plan_figures.csv", ("facility_id", "quantity", "value", "unit", "unit_std", "qualifier", "quote", "clause")
    )
    fac = read_plan_table("waste_plan_facilities.csv", ("facility_id", "name_zh"))
    unknown = sorted(set(figs["facility_id"]) - set(fac["facility_id"]))
    if unknown:
        raise InputDataError(
            f"figures refer to unknown facilities {unknown}",
            where="layers/waste_plan_figures.csv",
            fix="add them to layers/waste_plan_facilities.csv or correct facility_id",
        )
    out = figs.merge(fac[["facility_id", "name_zh"]], on="facility_id", how="left")
    out["source"] = profile.document("waste_plan") + " " + out["clause"]
    cols = ["facility_id", "name_zh", "quantity", "value", "unit", "unit_std", "qualifier", "quote", "clause", "source"]
    return out[cols].reset_index(drop=True)


def _summarise(fid: str, f: pd.DataFrame) -> dict:
    """Wide attributes of one facility from its long figure rows."""
    rec: dict = {}
    conflicts: list[str] = []

    def quotes(rows: pd.DataFrame) -> str:
        rows = rows.sort_values("clause", key=lambda s: s.map(clause_order_key))
        return "；".join(f"{q}（{c}）" for q, c in zip(rows["quote"], rows["clause"]))

    for q in _NUMERIC:
        rows = f[f["quantity"] == q]
        vals = sorted({float(v) for v in rows["value"]})
        if len(vals) > 1:
            ordered = sorted(zip(rows["value"], rows["unit"], rows["clause"]), key=lambda t: clause_order_key(t[2]))
            detail = "；".join(f"{v}{u}（{c}）" for v, u, c in ordered)
            conflicts.append(f"{_QUANTITY_ZH[q]}：{detail}")
        rec[f"{q}_values"] = vals
        rec[f"{q}_text"] = quotes(rows) if len(rows) else ""
        units = sorted(set(rows["unit_std"]))
        if len(units) > 1:
            raise InputDataError(
                f"facility {fid}: {q} is given in different units {units}",
                where="layers/waste_plan_figures.csv",
                fix="check unit_std; 万吨 and 万立方米 must never be mixed for one figure",
            )
        rec[f"{q}_unit"] = units[0] if units else ""
        rec[f"{q}_approx"] = bool((rows["qualifier"] == "约").any())

    def value_from(q: str, clause_prefixes: tuple[str, ...]) -> float:
        rows = f[(f["quantity"] == q) & f["clause"].map(lambda c: _article(c) in clause_prefixes)]
        vals = {float(v) for v in rows["value"]}
        return vals.pop() if len(vals) == 1 else np.nan

    def single(values: list[float]) -> float:
        return values[0] if len(values) == 1 else np.nan

    names = f[f["quantity"] == "name"]
    variants = {}
    for n, c in zip(names["value"], names["clause"]):
        variants.setdefault(n, []).append(c)

    def texts(q: str) -> str:
        rows = f[f["quantity"] == q]
        return "；".join(f"{v}（{c}）" for v, c in zip(rows["value"], rows["clause"]))

    return {
        "name_variants": "；".join(f"{n}（{'、'.join(sorted(cs, key=clause_order_key))}）" for n, cs in variants.items()),
        "capacity_value": single(rec["capacity_values"]),
        "capacity_unit": rec["capacity_unit"],
        "capacity_text": rec["capacity_text"],
        "land_area_ha": single(rec["land_area_values"]),
        "land_area_approx": rec["land_area_approx"],
        "land_area_text": rec["land_area_text"],
        "fill_volume_wm3_art19_table4": value_from("fill_volume", ("第十九条", "附表4")),
        "fill_volume_wm3_art27": value_from("fill_volume", ("第二十七条",)),
        "fill_volume_text": rec["fill_volume_text"],
        "conflict": bool(conflicts),
        "conflict_note": (
            "规划各条款数值不一致，两值并存（" + " | ".join(conflicts) + "）" if conflicts else ""
        ),
        "construction_period": texts("construction_period"),
        "site_text": "；".join(f.loc[f["quantity"] == "site", "quote"]),
        "plan_use": "；".join(f.loc[f["quantity"] == "plan_use", "quote"]),
        "plan_clauses": "、".join(sorted(set(f["clause"].map(_article)), key=clause_order_key)),
    }


def build_waste_facilities(profile: Profile, user: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Planned construction-waste facilities with every figure the plan gives.

    Parameters
    ----------
    profile
        Study-area profile (document citation, gazetteer date).
    user
        Optional features from a planner's file (e.g. surveyed sites); they replace the
        defaults, keeping their attributes.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per facility (4 planned + the existing 新启 base).  Figures:
        ``capacity_value``/``capacity_unit`` (万吨/年), ``land_area_ha`` with
        ``land_area_approx`` (the plan says 约 in at least one clause),
        ``fill_volume_wm3_art19_table4`` and ``fill_volume_wm3_art27`` (万立方米), the
        plan's words in ``*_text`` columns, ``construction_period`` (建设时序),
        ``site_text`` (场址暂定…), ``plan_status``, ``conflict`` and
        ``conflict_note``.  A figure on which clauses disagree is NaN in the
        single-value columns and spelled out in ``conflict_note``.
    """
    if user is not None:
        return user_layer(user, "waste_facilities", "indicative")

    fac = read_plan_table(
        "waste_plan_facilities.csv", ("facility_id", "name_zh", "kind", "gazetteer_name_zh", "plan_status", "plan_count_clause")
    )
    figs = waste_figures_table(profile)
    gaz = read_plan_table(
        "waste_facilities.csv",
        ("name_zh", "name_en", "lon_wgs84", "lat_wgs84", "uncertainty_m", "evidence", "source", "coord_method"),
    ).drop_duplicates("name_zh").set_index("name_zh")
    doc = profile.document("waste_plan")
    gaz_cite = gazetteer_citation(profile, "waste_facilities.csv")

    records: list[dict] = []
    points: list[Point | None] = []
    for row in fac.itertuples(index=False):
        f = figs[figs["facility_id"] == row.facility_id]
        summary = _summarise(row.facility_id, f)
        g = gaz.loc[row.gazetteer_name_zh] if row.gazetteer_name_zh in gaz.index else None
        lon = plan_number(g["lon_wgs84"]) if g is not None else np.nan
        lat = plan_number(g["lat_wgs84"]) if g is not None else np.nan
        located = bool(np.isfinite(lon) and np.isfinite(lat))
        if g is None:
            status = "not located – not in the gazetteer (layers/waste_facilities.csv)"
        else:
            status = f"{'located (indicative point)' if located else 'not located'} – {g['coord_method']}"
        clauses = [c for c in summary["plan_clauses"].split("、") if c]
        if row.plan_count_clause and "第二十七条" not in clauses:
            clauses.append("第二十七条")
        points.append(Point(lon, lat) if located else None)
        records.append(
            {
                "name_zh": row.name_zh,
                "name_en": g["name_en"] if g is not None else "",
                "source": f"{doc} {', '.join(clauses)}",
                "precision": "indicative",
                "uncertainty_m": plan_number(g["uncertainty_m"]) if (g is not None and located) else np.nan,
                "facility_id": row.facility_id,
                "kind": row.kind,
                "plan_status": row.plan_status,
                **summary,
                "plan_count_clause": row.plan_count_clause,
                "town": g.get("town", "") if g is not None else "",
                "location_status": status,
                "location_evidence": g["evidence"] if g is not None else "",
                "location_source": (
                    f"{gaz_cite}: {g['source']}" if g is not None else gaz_cite
                ),
                "location_source_tier": g.get("source_tier", "") if g is not None else "",
                "location_source_tiers": source_tier_notes(g["source"]) if g is not None else "",
                "coord_method": g["coord_method"] if g is not None else "",
            }
        )
    return finish_layer(records, geometry=points, crs="EPSG:4326", layer="waste_facilities")


def waste_forecast_table(profile: Profile) -> pd.DataFrame:
    """2027 generation and processing forecasts (第三章 第七条, 第八条).

    Returns
    -------
    DataFrame
        Columns ``item_id, stage, item_zh, item_en, year, value, unit, quote, clause,
        source``; ``value`` is float, ``unit`` exactly as the plan writes it
        (万立方米/年 for spoil and slurry, 万吨/年 for the rest; never converted).
    """
    df = read_plan_table(
        "waste_plan_forecast.csv", ("item_id", "stage", "item_zh", "item_en", "year", "value", "unit", "quote", "clause")
    )
    df["value"] = df["value"].astype(float)
    df["year"] = df["year"].astype(int)
    df["source"] = profile.document("waste_plan") + " " + df["clause"]
    return df.reset_index(drop=True)


def waste_targets_table(profile: Profile) -> pd.DataFrame:
    """Governance targets for 2027 (附表1 规划治理指标一览表, also 第六条（二）).

    Returns
    -------
    DataFrame
        Columns ``indicator_zh, indicator_en, method_zh`` (计算方式), ``target_value``
        (float), ``target_unit``, ``target_text`` (as written, e.g. ``70%``), ``year``,
        ``scope_zh``, ``clause``, ``source``.
    """
    df = read_plan_table(
        "waste_plan_targets.csv",
        ("indicator_zh", "indicator_en", "method_zh", "target_value", "target_unit", "target_text", "year", "scope_zh", "clause"),
    )
    df["target_value"] = df["target_value"].astype(float)
    df["year"] = df["year"].astype(int)
    df["source"] = profile.document("waste_plan") + " " + df["clause"]
    return df.reset_index(drop=True)
